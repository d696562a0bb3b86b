"""The whole model: declarations, threads, monitors, ``init``."""

from __future__ import annotations

import ast
import re

from racecheck.errors import Pos
from racecheck.model.program import Program
from racecheck.scenario import schema as S
from racecheck.scenario.values import Record

from .expr import _Code
from .thread import _Decl, _decl_line, _Thread
from .stmts import _indent
from .values import (INT_MAX, INT_MIN, SCALARS, ExportError, Lst, Rec, Val, _ascii, _at, _comment, _conj, _join,
                     _Namer, _not, _Refuse, _replace, _type_of)


def to_promela(program: Program) -> str:
    """The Promela model of ``program`` (one variant of a scenario), as text.

    Raises ``ExportError`` when the scenario uses a construct that has no
    faithful translation.
    """
    return _Exporter(program).run()

# -- the whole model ------------------------------------------------------------------------

class _Exporter:
    def __init__(self, program: Program):
        self.program = program
        self.scenario = program.scenario
        self.types = {}
        self.strings = set()
        self.changed = False
        self._initial_types()

    def run(self) -> str:
        for _ in range(20):
            self.changed = False
            text = self.emit()
            if not self.changed:
                return text
        raise ExportError(None, "cannot export to Promela: the variables' types do not settle")

    # -- types -------------------------------------------------------------------------
    def _initial_types(self) -> None:
        for name, value in self.scenario.state:
            self.types[("S", name)] = self.value_type(value, f"state variable '{name}'")
        for tdef in self.scenario.threads:
            for name, value in tdef.locals:
                self.types[("L", tdef.name, name)] = self.value_type(
                    value, f"local '{name}' of thread {tdef.name}", tdef.pos)
        for value in [v for _, v in self.program.params.items()] + [v for _, v in self.scenario.state]:
            self.collect_strings(value)
        for tdef in self.scenario.threads:
            for _, value in tdef.locals:
                self.collect_strings(value)
        for node in _all_code(self.scenario):
            messages = {id(n.msg) for n in ast.walk(node.tree) if isinstance(n, ast.Assert) and n.msg}
            for sub in ast.walk(node.tree):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and id(sub) not in messages:
                    self.strings.add(sub.value)

    def value_type(self, value, what: str, pos: Pos | None = None):
        try:
            return _type_of(value)
        except _Refuse as exc:
            raise ExportError(pos or Pos(self.scenario.path, 1, 1),
                              f"cannot export to Promela: {what}: {exc}") from None

    def collect_strings(self, value) -> None:
        if value is None or isinstance(value, str):
            self.strings.add(value)
        elif isinstance(value, tuple):
            for v in value[1:] if type(value) is Record else value:
                self.collect_strings(v)

    def widen(self, key, path: tuple, ty) -> bool:
        """Let the variable at ``key`` hold ``ty`` at ``path``; False if it cannot."""
        old = _at(self.types[key], path)
        if old is None:
            return False
        new = _join(old, ty)
        if new is None:
            return False
        if new != old:
            self.types[key] = _replace(self.types[key], path, new)
            self.changed = True
        return True

    # -- values --------------------------------------------------------------------------
    def symbol(self, value) -> str:
        if value not in self.symbols:
            wanted = "nil" if value is None else "s_" + (re.sub(r"\W", "_", value, flags=re.ASCII)[:40] or "empty")
            self.symbols[value] = self.namer.fresh(wanted, internal=True)
            if value not in self.strings:     # a string built by folding: declare it up front next pass
                self.strings.add(value)
                self.changed = True
        return self.symbols[value]

    def const(self, value):
        if value is None or isinstance(value, str):
            return Val(self.symbol(value), "sym", value)
        if isinstance(value, bool):
            return Val("true" if value else "false", "bool", value)
        if isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                raise _Refuse(f"the integer {value} does not fit SPIN's 32-bit int")
            return Val(str(value) if value >= 0 else f"({value})", "int", value)
        if type(value) is Record:
            return Rec(tuple((f, self.const(v)) for f, v in value.items()))
        return Lst(tuple(self.const(v) for v in value))

    def literal(self, value, ty) -> str:
        if ty in ("int", "mix") and isinstance(value, bool):
            return "1" if value else "0"
        return self.const(value).text

    def layout(self, base: str, ty, value, namer: _Namer, size=None):
        """Declarations for a variable of type ``ty`` and its translated value.

        Inside a list (``size``), ``value`` holds one value per item.
        """
        if ty in SCALARS:
            name = namer.fresh(base)
            values = [self.literal(v, ty) for v in (value if size is not None else [value])]
            text = name if size is None else name + "[\0]"
            ptype = {"bool": "bool", "sym": "int" if self.int_symbols else "mtype"}.get(ty, "int")
            return Val(text, ty, lvalue=True), [_Decl(ptype, name, size, values)]
        if ty[0] == "rec":
            fields, decls = [], []
            for i, (f, fty) in enumerate(ty[1]):
                fv = [v[i + 1] for v in value] if size is not None else value[i + 1]
                rep, d = self.layout(f"{base}_{f}", fty, fv, namer, size)
                fields.append((f, rep))
                decls += d
            return Rec(tuple(fields)), decls
        if size is not None:
            raise _Refuse(f"'{base}' nests a list in a list")
        _, elem, n = ty
        if n == 0:
            return Lst(()), []
        rep, decls = self.layout(base, elem, list(value), namer, n)
        return Lst(tuple(_at_index(rep, i) for i in range(n))), decls

    # -- the model ------------------------------------------------------------------------
    def emit(self) -> str:
        self.namer = _Namer()
        self.symbols = {}
        self.int_symbols = any(_has_mix(ty) for ty in self.types.values())
        for s in sorted(self.strings, key=lambda s: (s is not None, s or "")):
            self.symbol(s)
        self.shared_env, shared_decls = self.shared_layout()
        self.ready = []
        threads = self.threads()
        body = []
        for thread in threads:
            body += thread.emit() + [""]
        monitors = self.invariant_monitor() + self.final_monitor() + self.deadlock_monitor()
        return "\n".join(self.header() + self.declarations(shared_decls) + body + monitors
                         + self.init(threads, shared_decls)) + "\n"

    def shared_layout(self):
        env = {name: self.const_param(name, value) for name, value in self.program.params.items()}
        decls = []
        for name, value in self.scenario.state:
            try:
                rep, d = self.layout(name, self.types[("S", name)], value, self.namer)
            except _Refuse as exc:
                raise ExportError(Pos(self.scenario.path, 1, 1),
                                  f"cannot export to Promela: state variable '{name}': {exc}") from None
            env[name] = rep
            decls += d
        return env, decls

    def const_param(self, name, value):
        try:
            return self.const(value)
        except _Refuse as exc:
            raise ExportError(self.program.variant.pos, f"cannot export to Promela: param '{name}': {exc}") from None

    def threads(self) -> list:
        names = {t.name: self.namer.fresh(t.name) for t in self.scenario.threads}
        first = {t.base: t for t in reversed(self.program.threads)}
        return [_Thread(self, tdef, first[tdef.name], names[tdef.name]) for tdef in self.scenario.threads]

    def ready_index(self, thread: _Thread) -> str:
        """Where this thread's failing prefix runs in the order of racecheck's initial state."""
        self.ready.append(thread)
        return f"RC_READY_{len(self.ready) - 1}"

    def header(self) -> list:
        program, scenario = self.program, self.scenario
        variant = f", variant {program.variant.name}" if program.variant.name else ""
        kinds = ["ASSERT", "ERROR"] + ([] if program.deadlock_allowed else ["DEADLOCK"])
        kinds += [f"INVARIANT_{_ascii(p.name)}" for p, _ in program.invariants]
        kinds += [f"FINAL_{_ascii(p.name)}" for p, _ in program.finals]
        lines = [
            _comment(scenario.title),
            _comment(f"racecheck scenario {scenario.path}{variant}, exported to Promela"),
            "/*",
            " * Check:  spin -a model.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m1000000",
            " * Every failing assert, run-time error, invariant, final check and deadlock",
            " * is an assertion violation" +
            (" (no deadlock here: deadlock: allowed)." if program.deadlock_allowed else "."),
            " * One kind alone: spin -DCHECK_ALL=0 -DCHECK_<KIND>=1 -a model.pml",
            " * Livelock is not exported.",
            " * SPIN's int is 32-bit; racecheck's integers are unbounded (overflow is not checked).",
            " */",
            "#ifndef CHECK_ALL",
            "#define CHECK_ALL 1",
            "#endif",
        ]
        for kind in kinds:
            lines += [f"#ifndef CHECK_{kind}", f"#define CHECK_{kind} CHECK_ALL", "#endif"]
        for kind in ("ASSERT", "ERROR"):
            lines += [f"#if CHECK_{kind}",
                      f"#define RC_{kind}(c, l) if :: (c) -> skip :: else -> assert(c); rc_stopped = true; "
                      "goto l fi",
                      "#else",
                      f"#define RC_{kind}(c, l) if :: (c) -> skip :: else -> rc_stopped = true; goto l fi",
                      "#endif"]
        lines += ["#if CHECK_ERROR", "#define RC_AWAIT_ERROR(c) assert(c); rc_stopped = true", "#else",
                  "#define RC_AWAIT_ERROR(c) rc_stopped = true", "#endif"]
        for i, thread in enumerate(self.ready):
            lines.append(f"#define RC_READY_{i} {self.ready_offset(i)}")
        go = "(!rc_stopped && rc_ready == %d)" % self.ready_count() if self.ready else "(!rc_stopped)"
        lines += [f"#define RC_GO {go}",
                  "/* Python's // and % (floor division; C's / and % truncate toward zero) */",
                  "#define FLOORDIV(a, b) ((a) / (b) - ((((a) % (b) != 0) && (((a) < 0) != ((b) < 0))) -> 1 : 0))",
                  "#define PYMOD(a, b) ((((a) % (b) != 0) && (((a) < 0) != ((b) < 0))) -> (a) % (b) + (b) : (a) % (b))",
                  ""]
        return lines

    def ready_offset(self, i: int) -> int:
        return sum(self.copies(t) for t in self.ready[:i])

    def ready_count(self) -> int:
        return sum(self.copies(t) for t in self.ready)

    def copies(self, thread: _Thread) -> int:
        return thread.tdef.copies

    def declarations(self, shared_decls) -> list:
        lines = []
        if self.int_symbols:
            lines.append(_comment("strings and None: some variable also holds numbers, so they are "
                                  "the most negative ints"))
            for k, name in enumerate(self.symbols.values()):
                lines.append(f"#define {name} ({INT_MIN + 1 + k})")
            lines.append(f"#define RC_NUMBERS ({INT_MIN + 1 + len(self.symbols)})")
        elif self.symbols:
            lines.append("mtype = { " + ", ".join(self.symbols.values()) + " };")
        lines.append(_comment("shared state"))
        lines += [_decl_line(d) for d in shared_decls]
        lines += ["bool rc_stopped = false;\t" + _comment("a step failed whose kind is not checked"),
                  "byte rc_finished = 0;\t" + _comment("threads that have finished"),
                  "byte rc_ready = 0;\t" + _comment("threads whose start-up steps have run")]
        return lines + [""]

    def init(self, threads, shared_decls) -> list:
        lines = [f"{d.name}[{i}] = {v};" for d in shared_decls if d.size and not d.uniform
                 for i, v in enumerate(d.values)]
        for thread in threads:
            lines += [f"run {thread.name}({copy});" for copy in range(thread.tdef.copies)]
        if self.program.invariants:
            lines.append("run rc_invariants();")
        if self.program.finals:
            lines.append("run rc_finals();")
        if not self.program.deadlock_allowed:
            lines.append("run rc_deadlock();")
        return ["init {", "\tatomic {"] + _indent(lines, 2) + ["\t}", "}"]

    # -- monitors -------------------------------------------------------------------------
    def properties(self, props) -> list:
        """Per property: (name, value text, [conditions under which it evaluates without error])."""
        env = {k: v for k, v in self.shared_env.items()}
        result = []
        for prop, _ in props:
            code = _Code(self, env, prop.code, f"{prop.kind} '{prop.name}'")
            t = code.cond(prop.code.tree.body)
            result.append((prop.name, t.text, [c for _, c, _ in code.take_checks()]))
        return result

    def invariant_monitor(self) -> list:
        if not self.program.invariants:
            return []
        clauses = self.clauses(self.properties(self.program.invariants), "INVARIANT", ["RC_GO"])
        return ["proctype rc_invariants() {", "end_invariants:", "\tdo", "\t:: false -> skip"] + clauses + \
            ["\tod", "}", ""]

    def final_monitor(self) -> list:
        if not self.program.finals:
            return []
        n = len(self.program.threads)
        clauses = self.clauses(self.properties(self.program.finals), "FINAL", ["RC_GO", f"rc_finished == {n}"])
        return ["proctype rc_finals() {", "end_finals:", "\tdo", "\t:: false -> skip"] + clauses + \
            ["\tod", "}", ""]

    def deadlock_monitor(self) -> list:
        """A deadlock: no transition can run (SPIN's timeout), and some thread
        has not finished, and no step has failed."""
        if self.program.deadlock_allowed:
            return []
        n = len(self.program.threads)
        return ["proctype rc_deadlock() {", "end_deadlock:", "#if CHECK_DEADLOCK",
                f"\tatomic {{ timeout && !rc_stopped && rc_finished < {n} -> assert(rc_finished == {n}) }}",
                "#else", "\tfalse", "#endif", "}", ""]

    def clauses(self, props, kind: str, context: list) -> list:
        """One clause per violation: a property false, or failing to evaluate.

        As in racecheck, each property is judged on its own: one that cannot
        be evaluated hides no other.
        """
        lines = []
        for name, text, checks in props:
            ok = _conj(checks)
            lines += [f"#if CHECK_{kind}_{_ascii(name)}",
                      f"\t:: atomic {{ {_conj(context + checks)} && {_not(text)} -> assert({text}) }}",
                      "#endif"]
            if checks:
                lines += ["#if CHECK_ERROR", f"\t:: atomic {{ {_conj(context)} && {_not(ok)} -> assert({ok}) }}",
                          "#endif"]
        return lines


def _has_mix(ty) -> bool:
    if ty == "mix":
        return True
    if isinstance(ty, tuple):
        return any(_has_mix(t) for _, t in ty[1]) if ty[0] == "rec" else _has_mix(ty[1])
    return False


def _at_index(rep, i: int):
    if isinstance(rep, Val):
        return Val(rep.text.replace("\0", str(i)), rep.ty, rep.const, rep.lvalue)
    return Rec(tuple((f, _at_index(r, i)) for f, r in rep.fields))


def _all_code(scenario: S.Scenario):
    """Every piece of code in the scenario."""
    for prop in scenario.invariants + scenario.finals:
        yield prop.code

    def walk(steps):
        for node in steps:
            for attr in ("do", "await_", "cond"):
                code = getattr(node, attr, None)
                if code is not None:
                    yield code
            for attr in ("then", "orelse", "body"):
                yield from walk(getattr(node, attr, ()) or ())

    for tdef in scenario.threads:
        yield from walk(tdef.steps)
