"""A C litmus test as a ``memory: lkmm`` scenario file, for ``racecheck
litmus --to-yaml``.

Each thread ``Pn`` becomes a thread of that name whose registers are its
locals; each statement a step (its source line the step text), an ``if``
an ``if:`` step (so its control dependency covers its branches, as in
the litmus test). ``READ_ONCE(*x)`` becomes ``READ_ONCE(x)``, ``*x = v``
the plain write ``x = v``, C's ``&&``, ``||``, ``!`` and ``/`` Python's
``and``, ``or``, ``not`` and ``//``. A value-returning atomic inside an
expression is first assigned to a local ``tmpN``.

The condition becomes one final check that fails exactly in the
executions showing the clause: ``exists P`` and ``~exists P`` give
``not (P)``, ``forall P`` gives ``P``; a ``filter Q`` limits it to the
executions satisfying Q. The expectation follows the ``Result:`` line:
a violation of that check when some execution shows the clause
(``exists`` Sometimes or Always, ``forall`` Sometimes or Never), else
safe, or ``data-race`` when the line says DATARACE and nothing else is
violated.

What a scenario cannot say raises ``LitmusUnsupported`` naming it:
pointers held in registers or memory (address dependencies through them),
the bit operators, SRCU, ``spin_trylock``/``spin_is_locked``, atomics
outside the scenario vocabulary, names that clash.
"""

from __future__ import annotations

import json
import keyword

from racecheck.errors import Pos
from racecheck.scenario import lkmm_vocab as V
from racecheck.scenario import litmus as L

_BIN = {"+": "+", "-": "-", "*": "*", "/": "//", "%": "%", "==": "==", "!=": "!=", "<": "<", ">": ">",
        "<=": "<=", ">=": ">=", "&&": "and", "||": "or"}
_RESERVED = {"len", "min", "max", "abs", "any", "all", "sum", "range", "choose", "tid", "True", "False", "None"}


def to_yaml(test: L.LitmusTest) -> str:
    """The scenario file's text."""
    return _Converter(test).scenario()


class _Converter:
    def __init__(self, test: L.LitmusTest):
        self.test = test
        self.locations = sorted(set(test.init) | {p for t in test.threads for p in t.params})
        self.tmp = 0
        self.tmps: set = set()

    def unsupported(self, line: int, feature: str) -> L.LitmusUnsupported:
        source = self.test.lines[line - 1] if 0 < line <= len(self.test.lines) else ""
        return L.LitmusUnsupported(Pos(self.test.path, line, 1), f"{feature} (in a scenario file)", source)

    def scenario(self) -> str:
        test = self.test
        for loc in self.locations:
            self.check_name(loc, 1, "location")
            if isinstance(test.init.get(loc, 0), str):
                raise self.unsupported(1, f"the pointer {loc}={test.init[loc]}")
        lines = ["racecheck: 1", f"title: {_q(test.name)}",
                 f"description: {_q(f'Converted from {test.path} by racecheck litmus --to-yaml.')}",
                 "memory: lkmm", "state:"]
        lines += [f"  {loc}: {test.init.get(loc, 0)}" for loc in self.locations]
        lines.append("threads:")
        for thread in test.threads:
            lines += self.thread(thread)
        name, expr = self.final()
        lines += ["final:", f"  {name}: {_q(expr)}"]
        expect = self.expect(name)
        if expect:
            lines.append(f"expect: {expect}")
        return "\n".join(lines) + "\n"

    def check_name(self, name: str, line: int, what: str) -> None:
        if keyword.iskeyword(name) or name in _RESERVED or name.startswith("__") or name.startswith("tmp"):
            raise self.unsupported(line, f"the {what} name '{name}'")

    # -- threads -------------------------------------------------------------
    def thread(self, thread: L.ThreadDef) -> list:
        self.regs = {}
        for (tid, name), value in self.test.init_regs.items():
            if tid == thread.index:
                if isinstance(value, str):
                    raise self.unsupported(thread.line, f"the pointer register {tid}:{name}={value}")
                self.regs[name] = value
        for atom in self.test.condition.atoms():
            if atom.thread == thread.index:
                self.regs.setdefault(atom.name, 0)
        self.params = set(thread.params)
        steps = self.block(thread.body, 2)
        for name in self.regs:
            if name not in self.tmps:
                self.check_name(name, thread.line, "register")
            if name in self.locations:
                raise self.unsupported(thread.line, f"the register {name}, named like a location")
        out = [f"  P{thread.index}:"]
        if self.regs:
            pairs = [f"{name}: {value}" for name, value in self.regs.items()]
            out.append(f"    locals: {{{', '.join(pairs)}}}")
        out.append("    steps:")
        return out + (steps or [_step(2, "(empty)", "pass")])

    def block(self, stmts, depth: int) -> list:
        out = []
        for stmt in stmts:
            out += self.statement(stmt, depth)
        return out

    def statement(self, stmt, depth: int) -> list:
        text = self.source(stmt.line)
        if isinstance(stmt, L.Decl):
            self.regs.setdefault(stmt.name, 0)
            if stmt.init is None:
                return []
            return self.code(depth, text, lambda pre: f"{stmt.name} = {self.value(stmt.init, pre, top=True)}")
        if isinstance(stmt, L.Assign):
            if isinstance(stmt.target, L.Name):
                if stmt.target.name in self.params:
                    raise self.unsupported(stmt.line, f"assigning to the parameter {stmt.target.name}")
                self.regs.setdefault(stmt.target.name, 0)
                target = stmt.target.name
            else:
                target = self.location(stmt.target.expr, stmt.line)
            return self.code(depth, text, lambda pre: f"{target} = {self.value(stmt.expr, pre, top=True)}")
        if isinstance(stmt, L.ExprStmt):
            if not isinstance(stmt.expr, L.Call):
                raise self.unsupported(stmt.line, "an expression statement that is not a call")
            return self.code(depth, text, lambda pre: self.call(stmt.expr, pre, top=True))
        pre: list = []
        cond = self.value(stmt.cond, pre)
        out = self.hoisted(depth, text, pre)
        pad = "  " * depth
        out += [f"{pad}- if: {_q(cond)}", f"{pad}  step: {_q(text)}", f"{pad}  then:"]
        out += self.block(stmt.then, depth + 2) or [_step(depth + 2, "(empty)", "pass")]
        if stmt.orelse:
            out += [f"{pad}  else:"] + (self.block(stmt.orelse, depth + 2) or [_step(depth + 2, "(empty)", "pass")])
        return out

    def code(self, depth: int, text: str, make) -> list:
        pre: list = []
        main = make(pre)
        return self.hoisted(depth, text, pre) + [_step(depth, text, main)]

    def hoisted(self, depth: int, text: str, pre: list) -> list:
        return [_step(depth, text, line) for line in pre]

    def source(self, line: int) -> str:
        text = self.test.lines[line - 1].strip() if 0 < line <= len(self.test.lines) else f"line {line}"
        return text[:-1].rstrip() if text.endswith(";") else text

    # -- expressions ---------------------------------------------------------
    def value(self, node, pre: list, top: bool = False) -> str:
        if isinstance(node, L.Num):
            return str(node.value)
        if isinstance(node, L.Name):
            if node.name in self.params:
                raise self.unsupported(node.line, f"the pointer {node.name} used as a value")
            self.regs.setdefault(node.name, 0)
            return node.name
        if isinstance(node, L.Deref):
            return self.location(node.expr, node.line)
        if isinstance(node, L.Unary):
            if node.op == "~":
                raise self.unsupported(node.line, "the operator ~")
            inner = self.value(node.expr, pre)
            return f"(not {inner})" if node.op == "!" else f"(-{inner})"
        if isinstance(node, L.Binary):
            if node.op not in _BIN:
                raise self.unsupported(node.line, f"the operator {node.op}")
            left = self.value(node.left, pre)
            before = len(pre)
            right = self.value(node.right, pre)
            if node.op in ("&&", "||") and len(pre) != before:
                raise self.unsupported(node.line, f"an atomic on the right of {node.op}")
            return f"({left} {_BIN[node.op]} {right})"
        if isinstance(node, L.Call):
            return self.call(node, pre, top)
        raise self.unsupported(getattr(node, "line", 1), f"the expression {type(node).__name__}")

    def location(self, node, line: int) -> str:
        if isinstance(node, L.Name) and node.name in self.params:
            return node.name
        raise self.unsupported(line, "an access through a pointer held in a register")

    def call(self, node: L.Call, pre: list, top: bool = False) -> str:
        prim = V.PRIMITIVES.get(node.name)
        if prim is None or node.name.startswith("synchronize_rcu_"):
            raise self.unsupported(node.line, f"{node.name}()")
        args = []
        for i, arg in enumerate(node.args):
            if i == prim.loc:
                args.append(self.location(arg.expr if isinstance(arg, L.Deref) else arg, node.line))
            else:
                args.append(self.value(arg, pre))
        text = f"{node.name}({', '.join(args)})"
        if prim.kind == "rmw" and not top:
            self.tmp += 1
            name = f"tmp{self.tmp}"
            self.regs[name] = 0
            self.tmps.add(name)
            pre.append(f"{name} = {text}")
            return name
        return text

    # -- the condition -------------------------------------------------------
    def final(self) -> tuple:
        test = self.test
        prop = self.prop(test.condition)
        name = {"exists": "exists", "~exists": "not_exists", "forall": "forall"}[test.quantifier]
        bad = prop if test.quantifier == "forall" else f"not ({prop})"
        if test.filter is not None:
            bad = f"not ({self.prop(test.filter)}) or ({bad})"
        return name, bad

    def prop(self, prop: L.Prop) -> str:
        if prop.op in ("true", "false"):
            return prop.op.capitalize()
        if prop.op == "not":
            return f"not ({self.prop(prop.args[0])})"
        if prop.op in ("and", "or"):
            return "(" + f" {prop.op} ".join(self.prop(a) for a in prop.args) + ")"
        atom = prop.args[0]
        if isinstance(atom.value, str):
            raise self.unsupported(atom.line, f"the pointer value {atom.value} in the condition")
        where = atom.name if atom.thread is None else f"P{atom.thread}.{atom.name}"
        return f"{where} == {atom.value}"

    def expect(self, name: str) -> str:
        test = self.test
        if test.expected is None:
            return ""
        shows = test.expected != ("Always" if test.quantifier == "forall" else "Never")
        if shows:
            return f"{{violation: {name}}}"
        return "{violation: data-race}" if test.expected_race else "safe"


def _step(depth: int, text: str, code: str) -> str:
    pad = "  " * depth
    return f"{pad}- step: {_q(text)}\n{pad}  do: {_q(code)}"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax)."""
    return json.dumps(text)
