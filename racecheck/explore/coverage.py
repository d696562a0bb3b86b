"""Step coverage: which instructions no reachable interleaving ever executes.

A ``safe`` verdict says nothing went wrong in any interleaving; it does not
say the scenario exercised what its author meant it to. A step behind a
condition that is always false, a branch that never goes one way, a step
after a ``goto: end`` or waiting on an ``await`` that never holds: these are
*dead* in the model, and usually a sign that the scenario is wrong (a
misspelt param, a lock that is never released), so that its ``safe`` proves
less than it seems to.

``unexecuted_steps(program)`` walks every reachable state of the full state
graph (no partial-order reduction, no dead-value merging: a reduced search
may skip interleavings, and with them steps) and records each instruction
that runs: action steps and branch/loop tests, including the local-only ones
that run glued to the step before them and those in a thread's initial
local prefix (the part of the initial state). An instruction counts as
executed when it starts to run, even if its code then fails (an ``assert``
that fails has executed); a step whose ``await`` never holds has not.

Threads with copies: coverage is computed per thread instance. When every
copy of a thread leaves the same instructions unexecuted, they are reported
once under the thread's name (``worker``), otherwise per instance
(``worker#1``), since then which copy runs what depends on ``tid``.

Limits: it answers about the model, not the kernel; an instruction that runs
only in a state beyond ``budget`` would be reported falsely, so over budget
nothing is reported (None). With a ``deadline`` (``explore.budget``), it
raises ``DeadlinePassed`` when that passes first. It says nothing of which *outcomes* of a step
were seen (a branch test that always goes the same way has executed; the
instructions of the branch never taken are reported).
"""

from __future__ import annotations

from collections import deque

from racecheck.model.program import USER_ERRORS, InitialFailure, Program
from racecheck.model.runtime import Chooser
from racecheck.scenario.values import StepError

DEFAULT_BUDGET = 200_000      # states


def unexecuted_steps(program: Program, budget: int = DEFAULT_BUDGET, deadline=None) -> tuple | None:
    """``((thread name, step text, "file:line"), ...)`` never executed, in thread
    then pc order; ``()`` when every instruction runs; None when the full
    state graph has more than ``budget`` states (not computed)."""
    executed = [set() for _ in program.threads]
    frontier = deque(_initial_states(program, executed))
    seen = set(frontier)
    closures = [_local_closures(thread) for thread in program.threads]
    steppers = program.steppers()
    while frontier:
        if deadline is not None:
            deadline.check()
        s = frontier.popleft()
        for t, thread in enumerate(program.threads):
            pc = s[thread.pc_slot]
            if pc == thread.end:
                continue
            try:
                if not program.enabled(s, t):
                    continue
            except USER_ERRORS:
                executed[t].add(pc)          # the await ran, and failed
                continue
            logged = not closures[t][pc] <= executed[t]
            for s2 in _steps(program, s, t, steppers[t], executed[t] if logged else None):
                if s2 not in seen:
                    if len(seen) >= budget:
                        return None
                    seen.add(s2)
                    frontier.append(s2)
    return _report(program, executed)


def _initial_states(program: Program, executed: list) -> list:
    """Initial states, recording the instructions of each thread's local prefix."""
    states = []
    base = program.base_state()
    plan = []
    while plan is not None:
        chooser = Chooser(plan)
        log: list = []
        s = program.run_prefixes(base, chooser, log)
        _record(log, executed, None)
        if not isinstance(s, InitialFailure) and s not in states:
            states.append(s)
        plan = chooser.next_plan()
    return states


def _steps(program: Program, s: tuple, t: int, step, executed: set | None) -> list:
    """Successor states of thread ``t``'s transition, one per choose() alternative;
    with ``executed``, run logged and add every instruction that ran to it."""
    result = []
    chooser = Chooser()
    while chooser is not None:
        if executed is None:
            try:
                result.append(step(s, chooser))
            except USER_ERRORS:
                pass
        else:
            log: list = []
            try:
                result.append(program.execute(s, t, chooser, log))
            except StepError:
                pass
            _record(log, None, executed)
        plan = chooser.next_plan()
        chooser = Chooser(plan) if plan is not None else None
    return result


def _record(log: list, per_thread: list | None, one: set | None) -> None:
    """Add the pcs of a log's ``("row", pc)`` events; ``("thread", t)`` switches thread."""
    target = one
    for event in log:
        if event[0] == "thread":
            target = per_thread[event[1]]
        elif event[0] == "row":
            target.add(event[1])


def _local_closures(thread) -> list:
    """Per pc: the instructions a transition starting there may run (itself, then
    local-only ones up to the next scheduling point)."""
    instrs, end = thread.instrs, thread.end
    result = []
    for pc in range(end):
        reach = {pc}
        stack = [pc]
        while stack:
            for succ in instrs[stack.pop()].succ:
                if succ != end and not instrs[succ].shared and succ not in reach:
                    reach.add(succ)
                    stack.append(succ)
        result.append(frozenset(reach))
    return result + [frozenset()]


def _report(program: Program, executed: list) -> tuple:
    missing: dict = {}                        # base name -> [(instance name, pcs)]
    for thread, done in zip(program.threads, executed):
        pcs = tuple(pc for pc in range(thread.end) if pc not in done)
        missing.setdefault(thread.base, []).append((thread, pcs))
    result = []
    for instances in missing.values():
        if len({pcs for _, pcs in instances}) == 1:
            thread, pcs = instances[0]
            instances = [(thread, pcs, thread.base)]
        else:
            instances = [(thread, pcs, thread.name) for thread, pcs in instances]
        for thread, pcs, name in instances:
            for pc in pcs:
                instr = thread.instrs[pc]
                result.append((name, instr.text, f"{instr.pos.file}:{instr.pos.line}"))
    return tuple(result)


def switched_off_steps(program: Program) -> frozenset:
    """``{(step text, "file:line")}`` of the instructions that no instance can
    reach once branch tests over params alone are decided: code a variant's
    params switch off on purpose. ``coverage()`` leaves them out."""
    result = set()
    for base in {t.base for t in program.threads}:
        instances = [i for i, t in enumerate(program.threads) if t.base == base]
        live = set().union(*(program.param_live_pcs(i) for i in instances))
        for instr in program.threads[instances[0]].instrs:
            if instr.pc not in live:
                result.add((instr.text, f"{instr.pos.file}:{instr.pos.line}"))
    return frozenset(result)


def coverage(program: Program, budget: int = DEFAULT_BUDGET, deadline=None) -> tuple:
    """``(unexecuted, unexpected)``: every unexecuted step (None over budget),
    and those of them that the variant's params do not switch off."""
    unexecuted = unexecuted_steps(program, budget, deadline)
    if unexecuted is None:
        return None, None
    off = switched_off_steps(program)
    return unexecuted, tuple(u for u in unexecuted if (u[1], u[2]) not in off)
