"""Generated successor code over packed states.

``PackedModel`` gives a ``Program`` a second form for the search: a state
is one integer laid out by ``model.packed_layout``, and every transition,
guard and property is compiled a second time from the checked code into
straight-line Python over that integer. A read of ``a[i]`` is a shift and
a mask; a write masks the old bits out and ors the new ones in; the rest of
an expression (operators, built-ins, comprehensions) is emitted exactly as
``model.compile`` emits it, over the same runtime helpers, so values and
errors are the same.

The fast code never decides anything it is not sure of. Whenever it meets
something it does not handle inline (an index out of range or of the
wrong type, a value that does not fit its bits, a failing assert, any
exception), the transition is run again from the same state by the
interpreter (``Program``) on the decoded tuple, and its result encoded:
errors, assert messages and the values a step leaves are the
interpreter's. A value the layout cannot hold raises
``packed_layout.Relayout`` there, and the search starts again with a wider
layout. Diagrams, traces and replay keep using the interpreter.
"""

from __future__ import annotations

from racecheck.model.compile import Names
from racecheck.model.packed_code import _SLOW, PackedUnit
from racecheck.model.packed_inline import Inliner, NotInlined, dispatch, guard_test
from racecheck.model.packed_layout import Layout, decoder, encode_state
from racecheck.model.program import ACTION, MAX_LOCAL_STEPS, USER_ERRORS, Program


def _chained(runs, pc: int, succ: tuple, stops, shift: int, mask: int, chooses: bool):
    """The fast transition from ``pc``, through the local-only steps after it."""
    if chooses:
        return _needs_chooser
    run = runs[pc]
    if all(stops[after] for after in succ):
        return run

    def chained(s):
        s = run(s)
        at = s >> shift & mask
        local = 0
        while not stops[at]:
            local += 1
            if local > MAX_LOCAL_STEPS:
                raise _SLOW
            s = runs[at](s)
            at = s >> shift & mask
        return s
    return chained


def _needs_chooser(s):
    raise _SLOW


def _local_runner(runs, stops, chooses, shift: int, mask: int):
    """``run(s, done)``: the local-only steps from ``s``'s pc on, ``done``
    of them run already (the rest of a chain ``expand`` pasted in part)."""
    def run_local(s, done):
        at = s >> shift & mask
        while not stops[at]:
            done += 1
            if done > MAX_LOCAL_STEPS or chooses[at]:
                raise _SLOW
            s = runs[at](s)
            at = s >> shift & mask
        return s
    return run_local


def _by_name(chunks: list, prefix: str) -> dict:
    """pc -> the source of function ``<prefix><pc>`` among ``chunks``."""
    found = {}
    for chunk in chunks:
        head = chunk.split("(", 1)[0]
        if head.startswith("def " + prefix) and head[4 + len(prefix):].isdigit():
            found[int(head[4 + len(prefix):])] = chunk
    return found


def _merged(namespaces: list) -> dict:
    """One namespace for code pasted from several: None if two of them
    give one name different values (then nothing is pasted)."""
    names: dict = {}
    for ns in namespaces:
        for key, value in ns.items():
            if key == "__source__" or key[:1] in "ag" and key[1:].isdigit():
                continue
            if key in names and names[key] is not value and not key.startswith("_D"):
                return None
            names.setdefault(key, value)
    return names


class PackedModel:
    """A program's threads, guards and properties over packed states."""

    def __init__(self, program: Program, overrides: dict | None = None):
        self.program = program
        initial = [s for _, s in program.initial_states() if type(s) is tuple]
        if not initial:
            initial = [program.base_state()]
        ends = {t.pc_slot: t.end for t in program.threads}
        self.layout = layout = Layout(initial, ends, overrides)
        self.decode = decoder(layout)
        self.pc_leaves = tuple(layout.slots[t.pc_slot] for t in program.threads)
        self.ends = sum(t.end << layout.slots[t.pc_slot].offset for t in program.threads)
        self.pc_bits = sum(leaf.group.mask << leaf.offset for leaf in self.pc_leaves)
        self.fast_runs: list = []        # per thread: per pc, s -> s (no fallback; None: choose())
        self.fast_guards: list = []      # per thread: per pc, s -> value (no fallback) or None
        self.sources: list = []          # per thread: (steps' sources by pc, guards' sources by pc)
        self.namespaces: list = []       # the namespaces the step and guard code runs in
        self._runs: list = []            # per thread: per pc, the step alone
        self.keeps: list = []            # per thread: the mask a step keeps all but its pc with
        self.steppers = tuple(self._stepper(t) for t in program.threads)
        self.guards = tuple(self._guards(t) for t in program.threads)
        self.fast_invariants = self.fast_finals = ()
        self.invariants = self._properties(program.invariants, "invariant")
        self.finals = self._properties(program.finals, "final")

    def encode(self, state: tuple) -> int:
        return encode_state(self.layout, state)

    def finished(self, s: int) -> bool:
        return s & self.pc_bits == self.ends

    # -- threads ------------------------------------------------------------
    def _unit(self, thread, what: str) -> tuple:
        program = self.program
        slots = {n: i for i, n in enumerate(program.shared_names)}
        slots.update(thread.local_slots)
        names = Names(slots, program.params, thread.copy, frozenset(n for n, _ in thread.local_slots))
        pos = program.scenario.path
        return PackedUnit(names, f"<racecheck {pos} thread {thread.name}, packed {what}>", self.layout,
                          self.layout.slots[thread.pc_slot])

    def _stepper(self, thread):
        unit = self._unit(thread, "steps")
        for instr in thread.instrs:
            node = instr.node
            if instr.kind == ACTION:
                ret = instr.succ[1] if len(instr.succ) > 1 else instr.succ[0]
                unit.action(f"a{instr.pc}", node.do, instr.succ[0], ret)
            else:
                unit.branch(f"a{instr.pc}", node.cond, instr.succ[0], instr.succ[1])
        ns = unit.compile(self.program.params)
        self.sources.append((_by_name(unit.chunks, "a"), {}))
        self.namespaces.append(ns)
        self.keeps.append(unit.goto_keep())
        runs = tuple(ns[f"a{pc}"] for pc in range(thread.end)) + (None,)
        stops = thread.stops
        leaf = self.pc_leaves[thread.index]
        shift, mask = leaf.offset, leaf.group.mask
        slow = self.program.steppers()[thread.index]
        decode, encode = self.decode, self.encode
        # a transition that runs into a local-only loop calling choose():
        # the interpreter's step, which takes the loop's ways out whole
        loops = tuple(any(thread.loops[n] for n in instr.succ) for instr in thread.instrs) + (False,)

        def step(s: int, chooser):
            if chooser is not None and loops[s >> shift & mask]:
                return encode(slow(decode(s), chooser))
            try:
                s2 = runs[s >> shift & mask](s, chooser)
                pc = s2 >> shift & mask
                if not stops[pc]:
                    local = 0
                    while not stops[pc]:
                        local += 1
                        if local > MAX_LOCAL_STEPS:
                            raise _SLOW
                        s2 = runs[pc](s2, chooser)
                        pc = s2 >> shift & mask
                return s2
            except Exception:
                if chooser is not None:
                    chooser.count = 0
                    chooser.sizes = []
                return encode(slow(decode(s), chooser))
        step.source = ns["__source__"]
        self._runs.append(runs)
        self.fast_runs.append(tuple(_chained(runs, pc, thread.instrs[pc].succ, stops, shift, mask, thread.chooses[pc])
                                    for pc in range(thread.end)))
        return step

    def _guards(self, thread) -> tuple:
        if not any(g is not None for g in thread.guards):
            self.fast_guards.append(thread.guards)
            return thread.guards
        unit = self._unit(thread, "guards")
        for instr in thread.instrs:
            if getattr(instr.node, "await_", None) is not None:
                unit.guard(f"g{instr.pc}", instr.node.await_)
        ns = unit.compile(self.program.params)
        self.sources[thread.index][1].update(_by_name(unit.chunks, "g"))
        self.namespaces.append(ns)
        self.fast_guards.append(tuple(None if g is None else ns[f"g{pc}"] for pc, g in enumerate(thread.guards)))
        return tuple(None if g is None else self._careful(ns[f"g{pc}"], g)
                     for pc, g in enumerate(thread.guards))

    def expander(self, marks):
        """Generated ``expand(s) -> [state after, ...]``: every
        step out of ``s`` when all of them are plain (no choose(), nothing
        the fast code doubts), marking ``marks[t][pc][pc after]``; raises
        when any is not (the caller then takes the careful way, which
        reruns what it needs: the code has no side effects). The steps'
        code is pasted in (``model.packed_inline``) where it can be."""
        names = _merged(self.namespaces)
        inline = names is not None
        if not inline:
            names = {"__builtins__": {}}
        lines = ["def expand(s_):", "    o_ = []", f"    lo_ = s_ & {(1 << self.layout.pc_width) - 1}"]
        for t, thread in enumerate(self.program.threads):
            if thread.end:
                lines += self._expand_thread(t, thread, marks, names, inline)
        lines.append("    return o_")
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<racecheck {self.program.scenario.path} packed expand>", "exec"), names)
        expand = names["expand"]
        expand.source = source
        return expand

    def _expand_thread(self, t: int, thread, marks, names: dict, inline: bool) -> list:
        """The lines of ``expand`` that step thread ``t`` (its code pasted
        in if ``inline``)."""
        leaf = self.pc_leaves[t]
        shift, mask = leaf.offset, leaf.group.mask
        steps, guards = self.sources[t]
        inliner = Inliner(t, shift, mask, self.keeps[t], thread.stops, thread.chooses,
                          [steps.get(pc) if inline else None for pc in range(thread.end)], thread.end)
        run = self.fast_runs[t]
        names[f"F{t}"] = run
        names[f"L{t}"] = _local_runner(self._runs[t], thread.stops, thread.chooses, shift, mask)
        for pc in range(thread.end):
            names[f"K{t}_{pc}"] = marks[t][pc]

        def arm(pc: int, pad: str) -> list:
            lines = []
            guard = self.fast_guards[t][pc]
            if guard is not None:
                try:
                    if not inline:
                        raise NotInlined
                    before, test = guard_test(guards[pc])
                except (NotInlined, KeyError, SyntaxError):
                    names[f"G{t}_{pc}"] = guard
                    before, test = [], f"G{t}_{pc}(s_)"
                lines += [pad + line for line in before]
                lines.append(f"{pad}if {test}:")
                pad += "    "
            try:
                return lines + [f"{pad}x_ = s_"] + inliner.step(pc, pad)
            except NotInlined:
                return lines + [f"{pad}x_ = F{t}[{pc}](s_)", f"{pad}K{t}_{pc}[x_ >> {shift} & {mask}] = 1",
                                f"{pad}o_.append(x_)"]
        # p_: the pc in place (pc << shift), which saves a shift
        return [f"    p_ = lo_ & {mask << shift}"] + dispatch(list(range(thread.end)), "    ", arm, shift)

    def _properties(self, props, what: str) -> tuple:
        if not props:
            return ()
        program = self.program
        slots = {n: i for i, n in enumerate(program.shared_names)}
        unit = PackedUnit(Names(slots, program.params), f"<racecheck {program.scenario.path} {what}s, packed>",
                          self.layout)
        for i, (prop, _) in enumerate(props):
            unit.guard(f"p{i}", prop.code)
        ns = unit.compile(program.params)
        setattr(self, f"fast_{what}s", tuple(ns[f"p{i}"] for i in range(len(props))))
        return tuple((prop, self._careful(ns[f"p{i}"], fn)) for i, (prop, fn) in enumerate(props))

    def _careful(self, fast, slow):
        """``fast(s)``; on any doubt, the interpreter's ``slow`` on the decoded state."""
        decode = self.decode

        def check(s: int):
            try:
                return fast(s)
            except Exception:
                return slow(decode(s))
        return check


__all__ = ["PackedModel", "USER_ERRORS"]
