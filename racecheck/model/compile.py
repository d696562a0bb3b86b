"""Checked scenario code -> Python functions over the flat state.

A state is one flat tuple: the shared variables first, then for each thread
instance its program counter followed by its locals. Compilation turns each
checked ``lang.Code`` tree into Python source in which every variable is a
fixed index into that tuple (``s[3]``), every param a constant, ``tid`` a
literal, and every risky operation a call to a ``runtime`` helper. The source
is generated from the checked tree only, never copied from the scenario, and
is compiled once per thread instance into plain functions:

* ``g(s) -> value``            an ``await`` guard, read from the state tuple;
* ``a(v, ch) -> next_pc``      an action or branch, updating the list ``v``;
* ``t(v, ch, log) -> next_pc`` the same, logging each write (for traces).

Compiled functions raise ``StepError`` (or a Python ``TypeError`` and the
like, which the model turns into ``StepError``) when scenario code fails.
"""

from __future__ import annotations

import ast
from itertools import count

from racecheck.model import runtime, tracking
from racecheck.scenario.values import format_value

_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
        ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
_ITERATING = ("min", "max", "sum", "any", "all")


class Names:
    """How one thread instance (or a property) sees variables."""

    def __init__(self, slots: dict, params: dict, tid: int | None = None, local_names=frozenset()):
        self.slots = slots
        self.params = params
        self.tid = tid
        self.local_names = local_names

    def read(self, name: str, sv: str) -> str:
        if name in self.slots:
            return f"{sv}[{self.slots[name]}]"
        if name in self.params:
            return f"P_{name}"
        if name == "tid" and self.tid is not None:
            return repr(self.tid)
        raise KeyError(name)          # the loader has already refused it


class Unit:
    """One compilation unit: accumulates function sources, then compiles."""

    def __init__(self, names: Names, filename: str, checked: bool = False):
        self.names = names
        self.filename = filename
        self.checked = checked          # record shared accesses (model.tracking)
        self._tracked = frozenset()     # checked code: comprehension variables that hold
                                        # (value, location) pairs of shared elements
        self.chunks: list = []
        self._tmp = count()

    # -- functions --------------------------------------------------------
    def guard(self, fname: str, code) -> None:
        self.expression(fname, code.tree.body)

    def expression(self, fname: str, node) -> None:
        self.chunks.append(f"def {fname}(s):\n{_reset(node)}    return {self.expr(node, 's')}\n")

    def action(self, fname: str, code, nxt: int, ret: int, traced: bool) -> None:
        args = "v, _ch, _log" if traced else "v, _ch"
        lines = [f"def {fname}({args}):"]
        if code is not None and _reset(code.tree):
            lines.append(_reset(code.tree).rstrip("\n"))
        if code is not None:
            self.block(code.tree.body, lines, 1, ret, traced)
        lines.append(f"    return {nxt}")
        self.chunks.append("\n".join(lines) + "\n")

    def branch(self, fname: str, code, then: int, orelse: int, traced: bool) -> None:
        test = self.expr(code.tree.body, "v")
        reset = _reset(code.tree.body)
        if reset:
            test = f"(_work.__setitem__(0, 0) or {test})"
        if traced:
            body = (f"    _c = bool({test})\n    _log.append(('cond', _c))\n"
                    f"    return {then} if _c else {orelse}\n")
            self.chunks.append(f"def {fname}(v, _ch, _log):\n{body}")
        else:
            self.chunks.append(f"def {fname}(v, _ch):\n    return {then} if {test} else {orelse}\n")

    def compile(self, consts: dict) -> dict:
        namespace = dict(runtime.NAMESPACE)
        if self.checked:
            namespace.update(tracking.NAMESPACE)
        namespace["_fmt"] = format_value
        namespace.update({f"P_{k}": v for k, v in consts.items()})
        source = "\n".join(self.chunks)
        exec(compile(source, self.filename, "exec"), namespace)  # generated code only
        namespace["__source__"] = source
        return namespace

    # -- statements -------------------------------------------------------
    def block(self, stmts, lines: list, depth: int, ret: int, traced: bool) -> None:
        pad = "    " * depth
        if not stmts:
            lines.append(pad + "pass")
        for node in stmts:
            self.stmt(node, lines, depth, ret, traced)

    def stmt(self, node, lines: list, depth: int, ret: int, traced: bool) -> None:
        pad = "    " * depth
        if isinstance(node, ast.Assign):
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "choose":
                alts = ", ".join(self.expr(a, "v") for a in value.args)
                src = f"_choose(_ch, ({alts},))"
            else:
                src = self.expr(value, "v")
            self.store(node.targets[0], lambda old: src, lines, pad, traced, reads_old=False)
        elif isinstance(node, ast.AugAssign):
            rhs = self.expr(node.value, "v")
            op = type(node.op)
            make = {ast.Add: lambda o: f"_add({o}, {rhs})", ast.Sub: lambda o: f"({o} - {rhs})",
                    ast.BitOr: lambda o: f"({o} | {rhs})", ast.BitAnd: lambda o: f"({o} & {rhs})"}[op]
            self.store(node.target, make, lines, pad, traced, reads_old=True)
        elif isinstance(node, ast.If):
            lines.append(f"{pad}if {self.expr(node.test, 'v')}:")
            self.block(node.body, lines, depth + 1, ret, traced)
            if node.orelse:
                lines.append(f"{pad}else:")
                self.block(node.orelse, lines, depth + 1, ret, traced)
        elif isinstance(node, ast.Pass):
            lines.append(f"{pad}pass")
        elif isinstance(node, ast.Return):
            if traced:
                lines.append(f"{pad}_log.append(('return',))")
            lines.append(f"{pad}return {ret}")
        elif isinstance(node, ast.Assert):
            msg = self.expr(node.msg, "v") if node.msg is not None else repr("assertion failed: " + ast.unparse(node.test))
            lines.append(f"{pad}if not {self.expr(node.test, 'v')}:")
            lines.append(f"{pad}    _assert_failed({msg})")
        else:  # pragma: no cover - the checker refuses everything else
            raise AssertionError(f"unexpected statement {type(node).__name__}")

    def store(self, target, make_value, lines: list, pad: str, traced: bool, reads_old: bool) -> None:
        """Emit ``target = make_value(old)``, rebuilding records and lists."""
        chain = []
        node = target
        while not isinstance(node, ast.Name):
            chain.append(node)
            node = node.value
        chain.reverse()
        name = node.id
        slot = self.names.slots[name]
        kind = "L" if name in self.names.local_names else "S"
        checked = self.checked and kind == "S"
        n = next(self._tmp)
        if not chain:
            old = f"v[{slot}]"
            if traced:
                lines.append(f"{pad}_o{n} = v[{slot}]")
                old = f"_o{n}"
            if checked and reads_old:
                lines.append(f"{pad}_tr_note('r', ({name!r},))")
            lines.append(f"{pad}_n{n} = {make_value(old)}")
            if traced:
                lines.append(f"{pad}_log.append(('w', '{kind}', {name!r}, _o{n}, _n{n}))")
            lines.append(f"{pad}v[{slot}] = _n{n}")
            if checked:
                lines.append(f"{pad}_tr_note('w', ({name!r},))")
            return
        # containers _c{n}_0 .. _c{n}_k, indices _i{n}_j, label pieces
        # (checked: _p{n}_j is the location of container j)
        lines.append(f"{pad}_c{n}_0 = v[{slot}]")
        if checked:
            lines.append(f"{pad}_p{n}_0 = ({name!r},)")
        label = [repr(name)]
        for j, acc in enumerate(chain):
            prev = f"_c{n}_{j}"
            last = j == len(chain) - 1
            # the old value of the target itself is only read for a trace:
            # peeked, so that a failing write fails in _setf/_seti as untraced
            peek = last and traced and not reads_old
            if isinstance(acc, ast.Attribute):
                getter = f"_{'peek' if peek else 'get'}f({prev}, {acc.attr!r})"
                label.append(repr("." + acc.attr))
                key = repr(acc.attr)
            else:
                lines.append(f"{pad}_i{n}_{j} = {self.expr(acc.slice, 'v')}")
                getter = f"_{'peek' if peek else 'get'}i({prev}, _i{n}_{j})"
                label.append(f"'[' + _fmt(_i{n}_{j}) + ']'")
                key = f"_tr_pos({prev}, _i{n}_{j})"
            if checked:
                lines.append(f"{pad}_tr_note('s', _p{n}_{j})")
                lines.append(f"{pad}_p{n}_{j + 1} = _p{n}_{j} + ({key},)")
            if not last or reads_old or traced:
                lines.append(f"{pad}_c{n}_{j + 1} = {getter}")
        last = len(chain)
        if checked and reads_old:
            lines.append(f"{pad}_tr_note('r', _p{n}_{last})")
        lines.append(f"{pad}_n{n} = {make_value(f'_c{n}_{last}')}")
        value = f"_n{n}"
        for j in range(len(chain) - 1, -1, -1):
            acc = chain[j]
            if isinstance(acc, ast.Attribute):
                value = f"_setf(_c{n}_{j}, {acc.attr!r}, {value})"
            else:
                value = f"_seti(_c{n}_{j}, _i{n}_{j}, {value})"
        lines.append(f"{pad}v[{slot}] = {value}")
        if checked:
            lines.append(f"{pad}_tr_note('w', _p{n}_{last})")
        if traced:                            # logged once the write has succeeded
            lines.append(f"{pad}_log.append(('w', '{kind}', {' + '.join(label)}, _c{n}_{last}, _n{n}))")

    # -- expressions ------------------------------------------------------
    def expr(self, node, sv: str, bound: frozenset = frozenset(), lazy: bool = False) -> str:
        kind = type(node)
        if kind is ast.Constant:
            return repr(node.value)
        if self.checked and kind in (ast.Name, ast.Attribute, ast.Subscript):
            pair = self._shared_location(node, sv, bound)
            if pair is not None:
                return f"_tr_end({pair})"
        if kind is ast.Name:
            return f"c_{node.id}" if node.id in bound else self.names.read(node.id, sv)
        if kind is ast.Attribute:
            return f"_getf({self.expr(node.value, sv, bound)}, {node.attr!r})"
        if kind is ast.Subscript:
            return f"_geti({self.expr(node.value, sv, bound)}, {self.expr(node.slice, sv, bound)})"
        if kind is ast.BinOp:
            left, right = self.expr(node.left, sv, bound), self.expr(node.right, sv, bound)
            op = type(node.op)
            if op is ast.Add:
                return f"_add({left}, {right})"
            if op is ast.Mult:
                return f"_mul({left}, {right})"
            if op is ast.Mod:
                return f"_mod({left}, {right})"
            return f"({left} {'-' if op is ast.Sub else '//'} {right})"
        if kind is ast.UnaryOp:
            op = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not "}[type(node.op)]
            return f"({op}{self.expr(node.operand, sv, bound)})"
        if kind is ast.BoolOp:
            word = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + word.join(self.expr(v, sv, bound) for v in node.values) + ")"
        if kind is ast.Compare:
            parts = [self.expr(node.left, sv, bound)]
            for op, right in zip(node.ops, node.comparators):
                parts.append(_CMP[type(op)])
                parts.append(self.expr(right, sv, bound))
            return "(" + " ".join(parts) + ")"
        if kind is ast.IfExp:
            return (f"({self.expr(node.body, sv, bound)} if {self.expr(node.test, sv, bound)}"
                    f" else {self.expr(node.orelse, sv, bound)})")
        if kind in (ast.Tuple, ast.List):
            items = "".join(self.expr(e, sv, bound) + ", " for e in node.elts)
            # a literal of lists can nest or repeat a value without bound: counted
            nested = any(type(e) not in (ast.Constant, ast.UnaryOp) for e in node.elts)
            return f"_value(({items}), 'a list')" if nested else f"({items})"
        if kind in (ast.ListComp, ast.GeneratorExp):
            return self.comprehension(node, sv, bound, lazy)
        if kind is ast.Call:
            name = node.func.id
            lazy_args = name in _ITERATING
            args = ", ".join(self.expr(a, sv, bound, lazy=lazy_args) for a in node.args)
            return f"{name}({args})"
        raise AssertionError(f"unexpected expression {kind.__name__}")  # pragma: no cover

    def _shared_location(self, node, sv: str, bound: frozenset):
        """Checked code: a ``(value, location)`` pair expression for a chain
        of fields and indices on a shared variable, or None."""
        kind = type(node)
        if kind is ast.Name:
            name = node.id
            if name in self._tracked:
                return f"c_{name}"
            if name in bound or name not in self.names.slots or name in self.names.local_names:
                return None
            return f"_tr_root({self.names.read(name, sv)}, {name!r})"
        if kind is ast.Attribute:
            inner = self._shared_location(node.value, sv, bound)
            return None if inner is None else f"_tr_step({inner}, True, {node.attr!r})"
        if kind is ast.Subscript:
            inner = self._shared_location(node.value, sv, bound)
            if inner is None:
                return None
            return f"_tr_step({inner}, False, {self.expr(node.slice, sv, bound)})"
        return None

    def comprehension(self, node, sv: str, bound: frozenset, lazy: bool) -> str:
        inner = set(bound)
        clauses = []
        outer = self._tracked
        for gen in node.generators:
            pair = self._iterated(gen, sv, frozenset(inner))
            iterable = self.expr(gen.iter, sv, frozenset(inner)) if pair is None else f"_tr_elements({pair})"
            names = [gen.target] if isinstance(gen.target, ast.Name) else list(gen.target.elts)
            inner.update(n.id for n in names)
            self._tracked = self._tracked - {n.id for n in names}     # rebound here
            if pair is not None:         # checked: each element with its location
                self._tracked |= {gen.target.id}
            target = ", ".join(f"c_{n.id}" for n in names)
            if len(names) > 1 or isinstance(gen.target, ast.Tuple):
                target = f"({target},)"
            clause = f"for {target} in _counted({iterable})"
            for cond in gen.ifs:
                clause += f" if {self.expr(cond, sv, frozenset(inner))}"
            clauses.append(clause)
        elt = self.expr(node.elt, sv, frozenset(inner))
        self._tracked = outer
        gen = f"({elt} {' '.join(clauses)})"
        # A generator passed straight to any/all/sum/min/max stays lazy, so
        # any() and all() short-circuit as in Python; otherwise it is a list.
        return gen if lazy else f"tuple{gen}"

    def _iterated(self, gen, sv: str, bound: frozenset):
        """Checked code: the location pair of a shared value a comprehension
        iterates over with one variable, or None."""
        if not self.checked or not isinstance(gen.target, ast.Name):
            return None
        return self._shared_location(gen.iter, sv, bound)


def _reset(tree) -> str:
    """The line that resets the work counter, for code that can loop or build."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.BinOp)) or (
                isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("range", "sum")):
            return "    _work[0] = 0\n"
    return ""
