"""One thread definition as a ``proctype``."""

from __future__ import annotations

from dataclasses import dataclass

from racecheck.model.program import BRANCH, MAX_LOCAL_STEPS
from racecheck.scenario import schema as S

from .expr import _Code
from .stmts import _indent, _Stmts
from .values import _COPIES, ExportError, Val, _comment, _conj, _Namer, _not, _Refuse


# -- one thread definition: a proctype ---------------------------------------------------
#
# A thread is a loop with one option per scheduling point; ``rc_pc`` is
# racecheck's pc, and each option is one transition of racecheck's program:
#
#     end_rc: do
#     :: d_step { rc_pc == 2 && RC_GO && (await) ->   <- pc 2, a scheduling point
#             ...; goto L2_3;                           local-only pc 3: same block
#             L2_3: ...; rc_pc = 5; goto L2_done;       the next transition: pc 5
#             L2_done: skip }
#     :: d_step { rc_pc == 5 && RC_GO -> ... }
#     od
#
# A ``d_step`` is one transition of SPIN's with no state inside it, so
# SPIN's states are racecheck's: the globals, and per thread its pc and
# locals. A transition that calls ``choose()`` is not deterministic, which a
# ``d_step`` must be: it is an ``atomic`` block with a nondeterministic
# ``if``, whose inner states pan does not store either (it counts them as
# "atomic steps"). Every transition prints ``@RC s THREAD`` and every
# choose() ``@RC p PICK``: pan ignores printf, and SPIN's replay of an error
# trail prints them, which gives racecheck's schedule back (``spin.trail``).


class _Block:
    """One transition: the instruction at ``start`` and the local-only ones
    glued to it."""

    def __init__(self, start, prefix: str):
        self.start = start
        self.prefix = prefix
        self.placed = {}
        self.todo = []
        self.chooses = 0               # the choose() calls met: then an atomic block

    def label(self, pc: int) -> str:
        return f"{self.prefix}_{pc}"

    @property
    def done(self) -> str:
        return f"{self.prefix}_done"

    def want(self, pc: int) -> None:
        if pc not in self.placed:
            self.placed[pc] = True
            self.todo.append(pc)


class _Thread:
    def __init__(self, ex: "_Exporter", tdef: S.ThreadDef, thread, name: str):
        self.ex, self.tdef, self.thread = ex, tdef, thread
        self.instrs, self.end = thread.instrs, thread.end
        self.name = name
        self.namer = _Namer(ex.namer.taken | {"rc_pc"})
        self.counts_steps = _has_local_cycle(self.instrs)
        self.requested, self.order = set(), []
        self.local_inits, self.decls = [], []
        self.block: _Block | None = None
        self.env = dict(ex.shared_env)
        self.env["tid"] = Val("tid", "int")
        self.env[_COPIES] = tdef.copies
        for lname, value in tdef.locals:
            try:
                rep, decls = ex.layout(lname, ex.types[self.type_key(lname)], value, self.namer)
            except _Refuse as exc:
                raise ExportError(tdef.pos, f"cannot export to Promela: local '{lname}' of thread "
                                            f"{tdef.name}: {exc}") from None
            self.env[lname] = rep
            self.decls += decls

    def type_key(self, name: str):
        if name in dict(self.tdef.locals):
            return ("L", self.tdef.name, name)
        return ("S", name)

    def where(self, instr) -> str:
        return f"step '{instr.text}' of thread {self.tdef.name}, {instr.pos}"

    # -- jumps ---------------------------------------------------------------------
    def jump(self, pc: int, block: _Block) -> list:
        if pc != self.end and not self.instrs[pc].shared:
            block.want(pc)
            return [f"goto {block.label(pc)};"]
        lines = ["rc_steps = 0;"] if self.counts_steps else []
        if pc == self.end:
            return lines + ["rc_finished++;", f"rc_pc = {pc};", f"goto {block.done};"]
        if pc not in self.requested:
            self.requested.add(pc)
            self.order.append(pc)
        return lines + [f"rc_pc = {pc};", f"goto {block.done};"]

    # -- the proctype ----------------------------------------------------------------
    def emit(self) -> list:
        prefix = self.prefix()
        options = []
        done = 0
        while done < len(self.order):
            options += self.shared_block(self.order[done])
            done += 1
        width = "byte" if self.end < 256 else "short"
        lines = [f"proctype {self.name}(byte tid) {{"]
        lines += _indent([_decl_line(d) for d in self.decls])
        lines += _indent([f"{width} rc_pc = {self.thread.entry};\t" + _comment("racecheck's pc")])
        if self.counts_steps:
            lines += _indent(["int rc_steps = 0;\t" + _comment("local-only steps in this transition")])
        lines += _indent(prefix)
        if options:
            lines += _indent(["end_rc:", "do"] + options + ["od"])
        return lines + ["}"]

    def step_mark(self) -> str:
        """The printf that names this transition's thread in a replayed trail."""
        first = self.thread.index
        return f'printf("@RC s %d\\n", {first} + tid);' if first else 'printf("@RC s %d\\n", tid);'

    def prefix(self) -> list:
        """The local-only steps at the start: part of racecheck's initial state.

        Every thread's run, in thread order, before any transition (RC_GO
        waits for them): racecheck builds its initial state thread by
        thread, stopping at the first failure."""
        entry = self.thread.entry
        inits = [f"{d.name}[{i}] = {v};" for d in self.decls if d.size and not d.uniform
                 for i, v in enumerate(d.values)]
        if not inits and entry != self.end and self.instrs[entry].shared:
            self.requested.add(entry)
            self.order.append(entry)
            return []
        block = _Block(entry, "P")
        self.block = block
        body = self.jump(entry, block) + self.closure(block)
        kind = "atomic" if block.chooses else "d_step"
        ready = f"(!rc_stopped && rc_ready == {self.ex.ready_index(self)} + tid)"
        return [_comment("local-only steps at the thread's start (racecheck's initial state)"),
                f"end_start: {kind} {{ {ready} ->"] + _indent(_ending(["rc_ready++;"] + inits + body, block.done)) \
            + ["};"]

    def closure(self, block: _Block) -> list:
        lines = []
        while block.todo:
            pc = block.todo.pop(0)
            body = self.instr_lines(pc, block)
            lines += [f"{block.label(pc)}:\t{_comment(self.instrs[pc].text)}"] + body
        return lines

    def transition(self, pc: int) -> tuple:
        """The lines of the transition from ``pc`` and its block."""
        block = _Block(pc, f"L{pc}")
        block.placed[pc] = True
        self.block = block
        lines = self.instr_lines(pc, block)
        return _ending(lines + self.closure(block), block.done), block

    def shared_block(self, pc: int) -> list:
        """The options of the thread's loop for the transition from ``pc``."""
        instr = self.instrs[pc]
        guard, errors = "RC_GO", []
        if instr.has_await:
            code = _Code(self.ex, self.env, instr.node.await_, self.where(instr))
            g = code.cond(instr.node.await_.tree.body)
            errors = [cond for _, cond, _ in code.take_checks()]
            guard = _conj(["RC_GO"] + errors + [g.text])
            if g.is_const and not g.const:
                guard = "false"
        body, block = self.transition(pc)
        kind = "atomic" if block.chooses else "d_step"
        lines = [_comment(f"pc {pc}: {instr.text}"), f":: {kind} {{ rc_pc == {pc} && {guard} ->"]
        lines += _indent([self.step_mark()] + body, 2) + ["\t}"]
        if errors:
            ok = _conj(errors)
            lines += [f":: d_step {{ rc_pc == {pc} && RC_GO && {_not(ok)} -> {self.step_mark()} "
                      f"RC_AWAIT_ERROR({ok}) }}"]
        return lines

    def instr_lines(self, pc: int, block: _Block) -> list:
        instr = self.instrs[pc]
        lines = []
        if self.counts_steps and not instr.shared:
            lines += ["rc_steps++;", f"RC_ERROR(rc_steps <= {MAX_LOCAL_STEPS}, {block.done});  "
                      + _comment("a loop of local-only steps that never ends")]
        if instr.kind == BRANCH:
            return lines + self.branch_lines(instr, block)
        return lines + self.action_lines(instr, block)

    def branch_lines(self, instr, block) -> list:
        code = _Stmts(self.ex, self.env, instr.node.cond, self.where(instr), self, None)
        t = code.cond(instr.node.cond.tree.body)
        lines = code.flush()
        then, orelse = instr.succ
        if t.is_const or then == orelse:
            return lines + self.jump(then if (t.const if t.is_const else True) else orelse, block)
        return lines + ["if", f":: {t.text} ->"] + _indent(self.jump(then, block)) + \
            [":: else ->"] + _indent(self.jump(orelse, block)) + ["fi;"]

    def action_lines(self, instr, block) -> list:
        code = instr.node.do
        if code is None:
            return self.jump(instr.succ[0], block)
        ret = instr.succ[1] if code.has_return else None
        stmts = _Stmts(self.ex, self.env, code, self.where(instr), self, lambda: self.jump(ret, block))
        lines = stmts.block(code.tree.body)
        return lines if stmts.returned else lines + self.jump(instr.succ[0], block)


def _ending(lines: list, done: str) -> list:
    """A block's lines with its exit label, where something jumps to it."""
    if lines and lines[-1] == f"goto {done};":
        lines = lines[:-1]
    if any(done in line for line in lines):
        lines = lines + [f"{done}: skip"]
    return lines


def _has_local_cycle(instrs) -> bool:
    """Can a transition loop over local-only instructions (racecheck's 10,000-step error)?"""
    local = {i.pc for i in instrs if not i.shared}
    state = {}

    def visit(pc) -> bool:
        state[pc] = 1
        for nxt in instrs[pc].succ:
            if nxt in local and (state.get(nxt) == 1 or (nxt not in state and visit(nxt))):
                return True
        state[pc] = 2
        return False

    return any(pc not in state and visit(pc) for pc in sorted(local))


@dataclass
class _Decl:
    ptype: str
    name: str
    size: int | None
    values: list
    comment: str = ""

    @property
    def uniform(self) -> bool:
        return len(set(self.values)) <= 1


def _decl_line(d: _Decl) -> str:
    init = f" = {d.values[0]}" if d.values and (d.size is None or d.uniform) else ""
    size = f"[{d.size}]" if d.size is not None else ""
    return f"{d.ptype} {d.name}{size}{init};" + (f"\t{d.comment}" if d.comment else "")


