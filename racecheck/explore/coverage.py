"""Step coverage: which instructions no reachable interleaving ever executes.

A ``safe`` verdict says nothing went wrong in any interleaving; it does not
say the scenario exercised what its author meant it to. A step behind a
condition that is always false, a branch that never goes one way, a step
after a ``goto: end`` or waiting on an ``await`` that never holds: these are
*dead* in the model, and usually a sign that the scenario is wrong (a
misspelt param, a lock that is never released), so that its ``safe`` proves
less than it seems to.

An instruction counts as executed when it starts to run, even if its code
then fails (an ``assert`` that fails has executed); a step whose ``await``
never holds has not. Action steps and branch/loop tests count alike,
including the local-only ones that run glued to the step before them and
those of a thread's initial local prefix (the part of the initial state).

How it is found, cheapest first; each stage only looks at what the one
before left open:

1. the initial local prefixes, run once logged;
2. the verdict search's own record (``Exploration.moves``: per thread the
   ``(pc, pc after)`` of every transition it took): the instruction at
   ``pc`` ran, and so did every local-only instruction that *every* path
   of the thread's code from ``pc`` to ``pc after`` passes. The search may
   be reduced and merged: it still only takes transitions that exist, from
   states that are reachable, so what it saw run did run. It may miss
   instructions (reduction skips interleavings, and may skip every
   interleaving in which a step runs), never invent them;
3. code that the variant's params switch off (``Program.param_live_pcs``)
   cannot run in any state: it needs no search;
4. what is still open (usually nothing) is decided by a breadth-first walk
   of the *full* state graph (no reduction, no merging), or of a full graph
   already built (``graph``, as ``explore.frequency`` builds it): each
   transition that may run an open instruction is re-run logged, and the
   walk stops as soon as nothing is open. If it ends with instructions
   open, they are unexecuted in every interleaving.

Threads with copies: coverage is computed per thread instance. When every
copy of a thread leaves the same instructions unexecuted, they are reported
once under the thread's name (``worker``), otherwise per instance
(``worker#1``), since then which copy runs what depends on ``tid``.

Limits: it answers about the model, not the kernel; an instruction that runs
only in a state beyond ``budget`` would be reported falsely, so when the
walk of stage 4 would pass ``budget`` states with instructions still open,
nothing is reported (None: "not computed"). With a ``deadline``
(``explore.budget``), it raises ``DeadlinePassed`` when that passes first.
It says nothing of which *outcomes* of a step were seen (a branch test that
always goes the same way has executed; the instructions of the branch never
taken are reported).
"""

from __future__ import annotations

from collections import deque

from racecheck.model.program import USER_ERRORS, InitialFailure, Program
from racecheck.model.runtime import Chooser
from racecheck.scenario.values import StepError

DEFAULT_BUDGET = 200_000      # states


class _OverBudget(Exception):
    """The full state graph has more states than the budget."""


def unexecuted_steps(program: Program, budget: int = DEFAULT_BUDGET, deadline=None,
                     moves: tuple = (), graph=None) -> tuple | None:
    """``((thread name, step text, "file:line"), ...)`` never executed, in thread
    then pc order; ``()`` when every instruction runs; None when deciding it
    would take a walk over more than ``budget`` states (not computed).

    ``moves``: a search's ``Exploration.moves``; ``graph``: the full state
    graph (``explore.graph.full_graph``), complete or not, to walk instead of
    searching again."""
    executed = [set() for _ in program.threads]
    initial = _initial_states(program, executed)
    for t, pairs in enumerate(moves):
        executed[t] |= _ran(program.threads[t], pairs)
    if graph is not None:
        for t, pairs in enumerate(graph_moves(program, graph)):
            executed[t] |= _ran(program.threads[t], pairs)
    open_ = [program.param_live_pcs(t) - done for t, done in enumerate(executed)]
    if any(open_):
        states = graph.states if graph is not None else _reachable(program, initial, budget, deadline)
        try:
            done = _close(program, states, executed, open_, deadline)
        except _OverBudget:
            return None
        if not done and graph is not None and not graph.complete:
            return None
    return _report(program, executed)


def graph_moves(program: Program, graph) -> tuple:
    """Per thread, the ``(pc, pc after)`` of every step of a ``RawGraph``
    (pc after -1 for a failing step), as ``Exploration.moves``."""
    moves = tuple(set() for _ in program.threads)
    slots = [t.pc_slot for t in program.threads]
    states = graph.states
    for sid, steps in enumerate(graph.out):
        s = states[sid]
        for t, _, dst in steps or ():
            slot = slots[t]
            moves[t].add((s[slot], states[dst][slot] if type(dst) is int else -1))
    return moves


def _ran(thread, pairs) -> set:
    """The instructions that transitions ``(pc, pc after)`` of ``thread`` surely ran."""
    ran: set = set()
    for pc, after in pairs:
        ran.add(pc)
        if after >= 0:
            ran |= _must_pass(thread, pc, after)
    return ran


def _must_pass(thread, pc: int, after: int) -> set:
    """The local-only instructions that every transition from ``pc`` to
    ``after`` runs: those without which it cannot get there."""
    instrs, end = thread.instrs, thread.end
    local = _local_reach(thread, pc)
    if not _gets_to(instrs, end, pc, after, None):
        return set()                       # cannot happen; claim nothing
    return {x for x in local if not _gets_to(instrs, end, pc, after, x)}


def _local_reach(thread, pc: int) -> set:
    """Local-only instructions a transition from ``pc`` may run after it."""
    instrs, end = thread.instrs, thread.end
    seen, stack = set(), list(instrs[pc].succ)
    while stack:
        x = stack.pop()
        if x == end or instrs[x].shared or x in seen:
            continue
        seen.add(x)
        stack.extend(instrs[x].succ)
    return seen


def _gets_to(instrs, end: int, pc: int, after: int, avoid) -> bool:
    """Can a transition from ``pc`` stop at ``after`` without running ``avoid``?"""
    seen, stack = set(), list(instrs[pc].succ)
    while stack:
        x = stack.pop()
        if x == end or instrs[x].shared:
            if x == after:
                return True
            continue
        if x in seen or x == avoid:
            continue
        seen.add(x)
        stack.extend(instrs[x].succ)
    return False


def _reachable(program: Program, initial: list, budget: int, deadline):
    """The states of the full graph in breadth-first order; raises
    ``_OverBudget`` instead of storing a state past ``budget``."""
    frontier = deque(initial)
    seen = set(frontier)
    expand = program.successors()
    while frontier:
        if deadline is not None:
            deadline.check()
        s = frontier.popleft()
        yield s
        for _, _, s2 in expand(s):
            if type(s2) is tuple and s2 not in seen:
                if len(seen) >= budget:
                    raise _OverBudget()
                seen.add(s2)
                frontier.append(s2)


def _close(program: Program, states, executed: list, open_: list, deadline) -> bool:
    """Re-run logged, from each of ``states``, every transition that may run an
    ``open_`` instruction, until none is open (True) or the states run out."""
    closures = [_local_closures(thread) for thread in program.threads]
    wanted = [_wanted(closures[t], open_[t]) for t in range(len(open_))]
    for s in states:
        if deadline is not None:
            deadline.check()
        for t, thread in enumerate(program.threads):
            pc = s[thread.pc_slot]
            if pc not in wanted[t]:
                continue
            try:
                if not program.enabled(s, t):
                    continue
            except USER_ERRORS:
                executed[t].add(pc)          # the await ran, and failed
            else:
                _steps(program, s, t, executed[t])
            open_[t] = open_[t] - executed[t]
            wanted[t] = _wanted(closures[t], open_[t])
        if not any(open_):
            return True
    return False


def _wanted(closures: list, open_pcs: frozenset) -> frozenset:
    """The pcs whose transitions may run an open instruction."""
    return frozenset(pc for pc, reach in enumerate(closures) if reach & open_pcs)


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


def _steps(program: Program, s: tuple, t: int, executed: set) -> None:
    """Run thread ``t``'s transition from ``s`` logged, once per choose()
    alternative, and add every instruction that ran to ``executed``."""
    chooser = Chooser()
    while chooser is not None:
        log: list = []
        try:
            program.execute(s, t, chooser, log)
        except StepError:
            pass
        _record(log, None, executed)
        plan = chooser.next_plan()
        chooser = Chooser(plan) if plan is not None else None


def _record(log: list, per_thread: list | None, one: set | None) -> None:
    """Add the pcs of a log's ``("row", pc)`` events, and of ``("reached",
    pc)`` (a local-only loop's step that runs on some way through the loop,
    not necessarily the logged one); ``("thread", t)`` switches thread."""
    target = one
    for event in log:
        if event[0] == "thread":
            target = per_thread[event[1]]
        elif event[0] == "row" or event[0] == "reached":
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


def coverage(program: Program, budget: int = DEFAULT_BUDGET, deadline=None,
             moves: tuple = (), graph=None) -> tuple:
    """``(unexecuted, unexpected)``: every unexecuted step (None over budget),
    and those of them that the variant's params do not switch off."""
    unexecuted = unexecuted_steps(program, budget, deadline, moves, graph)
    if unexecuted is None:
        return None, None
    off = switched_off_steps(program)
    return unexecuted, tuple(u for u in unexecuted if (u[1], u[2]) not in off)
