"""One thread definition as a ``proctype``."""

from __future__ import annotations

from dataclasses import dataclass

from racecheck.model.program import BRANCH, MAX_LOCAL_STEPS
from racecheck.scenario import schema as S

from .expr import _Code
from .stmts import _indent, _Stmts
from .values import _COPIES, ExportError, Val, _comment, _conj, _Namer, _not, _Refuse


# -- one thread definition: a proctype ---------------------------------------------------

class _Block:
    """One atomic block: the instruction at ``start`` and the local-only ones glued to it."""

    def __init__(self, start, prefix: str):
        self.start = start
        self.prefix = prefix
        self.placed = {}
        self.todo = []

    def label(self, pc: int) -> str:
        return f"{self.prefix}_{pc}"

    def want(self, pc: int) -> None:
        if pc not in self.placed:
            self.placed[pc] = True
            self.todo.append(pc)


class _Thread:
    def __init__(self, ex: "_Exporter", tdef: S.ThreadDef, thread, name: str):
        self.ex, self.tdef, self.thread = ex, tdef, thread
        self.instrs, self.end = thread.instrs, thread.end
        self.name = name
        self.namer = _Namer(ex.namer.taken)
        self.counts_steps = _has_local_cycle(self.instrs)
        self.uses_park = self.counts_steps
        self.requested, self.order = set(), []
        self.local_inits, self.decls = [], []
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

    def label(self, pc: int) -> str:
        return f"{'end_' if self.ex.program.deadlock_allowed else ''}L{pc}"

    def where(self, instr) -> str:
        return f"step '{instr.text}' of thread {self.tdef.name}, {instr.pos}"

    # -- jumps ---------------------------------------------------------------------
    def jump(self, pc: int, block: _Block) -> list:
        if pc != self.end and not self.instrs[pc].shared:
            block.want(pc)
            return [f"goto {block.label(pc)};"]
        lines = ["rc_steps = 0;"] if self.counts_steps else []
        if pc == self.end:
            return lines + ["rc_finished++;", "goto L_end;"]
        if pc not in self.requested:
            self.requested.add(pc)
            self.order.append(pc)
        return lines + [f"goto {self.label(pc)};"]

    # -- the proctype ----------------------------------------------------------------
    def emit(self) -> list:
        prefix = self.prefix()
        blocks = []
        done = 0
        while done < len(self.order):
            blocks += self.shared_block(self.order[done])
            done += 1
        lines = [f"proctype {self.name}(byte tid) {{"]
        lines += _indent([_decl_line(d) for d in self.decls])
        if self.counts_steps:
            lines += _indent(["int rc_steps = 0;"])
        lines += _indent(prefix + blocks)
        if self.uses_park:
            lines += _indent(["rc_park: do :: rc_stopped -> skip od;"])
        lines += _indent(["L_end: skip"]) + ["}"]
        return lines

    def prefix(self) -> list:
        """The local-only steps at the start: part of racecheck's initial state."""
        entry = self.thread.entry
        block = _Block(entry, "P")
        body = self.jump(entry, block)
        body += self.closure(block)
        self.prefix_fails = any(line.startswith(("RC_ERROR", "RC_ASSERT")) for line in _flat(body))
        inits = [f"{d.name}[{i}] = {v};" for d in self.decls if d.size and not d.uniform for i, v in enumerate(d.values)]
        if self.prefix_fails:
            inits = [f"(!rc_stopped && rc_ready == {self.ex.ready_index(self)} + tid) -> rc_ready++;"] + inits
        if not inits and entry != self.end and self.instrs[entry].shared:
            return []
        return [_comment("local-only steps at the thread's start (racecheck's initial state)"),
                "atomic {"] + _indent(inits + body) + ["};"]

    def closure(self, block: _Block) -> list:
        lines = []
        while block.todo:
            pc = block.todo.pop(0)
            body = self.instr_lines(pc, block)
            lines += [f"{block.label(pc)}:\t{_comment(self.instrs[pc].text)}"] + body
        return lines

    def shared_block(self, pc: int) -> list:
        instr = self.instrs[pc]
        block = _Block(pc, f"L{pc}")
        block.placed[pc] = True
        guard, errors = "RC_GO", []
        if instr.has_await:
            code = _Code(self.ex, self.env, instr.node.await_, self.where(instr))
            g = code.cond(instr.node.await_.tree.body)
            errors = [cond for _, cond, _ in code.take_checks()]
            guard = _conj(["RC_GO"] + errors + [g.text])
            if g.is_const and not g.const:
                guard = "false"
        body = self.instr_lines(pc, block) + self.closure(block)
        head = [f"{self.label(pc)}:\t{_comment(instr.text)}"]
        if not errors:
            return head + [f"atomic {{ {guard} ->"] + _indent(body) + ["};"]
        self.uses_park = True
        ok = _conj(errors)
        return head + ["if", f":: atomic {{ {guard} ->"] + _indent(body, 2) + ["\t}",
                       f":: atomic {{ RC_GO && {_not(ok)} -> RC_AWAIT_ERROR({ok}, {self.label(pc)}) }}", "fi;"]

    def instr_lines(self, pc: int, block: _Block) -> list:
        instr = self.instrs[pc]
        lines = []
        if self.counts_steps and not instr.shared:
            lines += ["rc_steps++;", f"RC_ERROR(rc_steps <= {MAX_LOCAL_STEPS});  "
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


def _flat(lines):
    return [line.strip() for line in lines]


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


