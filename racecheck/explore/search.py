"""Exhaustive breadth-first search over every interleaving.

Breadth-first order makes the first violation found a shortest one (fewest
transitions), as TLC does. Every state is kept exactly (a dict from the state
tuple to its number), with its parent and the step that reached it, so any
violation becomes a schedule by walking parents back to an initial state.

What is checked, and when:

* invariants: in every state when it is first reached (initial ones too);
* final checks: in every state where all threads have finished;
* assert / error: when a transition's code fails (that transition has no
  successor state);
* deadlock: a state where some thread has not finished and none can run;
* livelock: after an exhaustive search, a reachable state from which no
  state where all threads have finished (nor a deadlock, nor a failing step)
  can be reached. Found by backward reachability over the stored edges, which
  are kept only when some thread can loop.

Bounds (``--max-states``, ``--max-depth``, ``--timeout``) end the search
early; the verdict is then ``inconclusive`` unless a violation was found,
never ``safe``. The search stops at the end of the breadth-first level in
which the violation it is looking for appeared, so the reported schedule is
a shortest one among all violations of that kind.
"""

from __future__ import annotations

import time

from racecheck.errors import InternalError
from racecheck.explore.result import Bounds, ExitReason, Exploration, Stats, Verdict, Violation
from racecheck.explore.schedule import Schedule
from racecheck.model.program import InitialFailure, Program, PropertyError
from racecheck.model.runtime import Chooser
from racecheck.scenario.schema import SAFE
from racecheck.scenario.values import AssertFailed, StepError

_CLOCK_EVERY = 512


class _Found:
    """Violations met so far: the first of each kind, with its length."""

    def __init__(self):
        self.by_key: dict = {}

    def add(self, kind, name, message, sid, last_step, length):
        key = (kind, name, message if kind == "assert" else "")
        best = self.by_key.get(key)
        if best is None or length < best[0]:
            self.by_key[key] = (length, len(self.by_key) if best is None else best[1], kind, name, message, sid, last_step)


def explore(program: Program, bounds: Bounds = Bounds(), expect=SAFE) -> Exploration:
    """Explore every interleaving of ``program`` within ``bounds``."""
    start = time.perf_counter()
    deadline = start + bounds.timeout if bounds.timeout else None
    max_states = bounds.max_states
    max_depth = bounds.max_depth
    threads = range(len(program.threads))
    enabled, execute = program.enabled, program.execute
    failing_invariants, failing_finals, finished = (
        program.failing_invariants, program.failing_finals, program.finished)
    keep_edges = program.may_cycle and not program.livelock_allowed
    check_deadlock = not program.deadlock_allowed

    index: dict = {}
    states: list = []
    parent: list = []
    via: list = []
    edges: list = []
    terminal: list = []
    found = _Found()
    violating = 0
    transitions = 0
    exit_reason = ExitReason.EXHAUSTED

    def add_state(s, pid, step, length):
        nonlocal violating
        sid = len(states)
        index[s] = sid
        states.append(s)
        parent.append(pid)
        via.append(step)
        if keep_edges:
            edges.append([])
            terminal.append(False)
        bad = False
        try:
            for name in failing_invariants(s):
                found.add("invariant", name, "", sid, None, length)
                bad = True
            if finished(s):
                if keep_edges:
                    terminal[sid] = True
                for name in failing_finals(s):
                    found.add("final", name, "", sid, None, length)
                    bad = True
        except PropertyError as exc:
            found.add("error", "error", str(exc), sid, None, length)
            bad = True
        if bad:
            violating += 1
        return sid

    level = []
    for chooser, s in program.initial_states():
        picks = chooser.used()
        if isinstance(s, InitialFailure):
            found.add(*_failure_kind(s[0]), -1, picks, 0)
            continue
        if s not in index:
            level.append(add_state(s, -1, picks, 0))

    depth = 0
    counter = 0
    goal = None
    while level:
        if goal is not None:
            exit_reason = ExitReason.FOUND
            break
        # at the depth bound, states are still checked (deadlock) but not expanded
        expand = max_depth is None or depth < max_depth
        next_level = []
        stop = False
        for sid in level:
            # -- bounds ---------------------------------------------------
            counter += 1
            if deadline is not None and counter % _CLOCK_EVERY == 0 and time.perf_counter() > deadline:
                exit_reason, stop = ExitReason.TIMEOUT, True
                break
            s = states[sid]
            any_enabled = False
            # -- expand successors ----------------------------------------
            for t in threads:
                try:
                    if not enabled(s, t):
                        continue
                except (StepError, TypeError, ValueError) as exc:
                    found.add("error", "error", f"await of thread {program.threads[t].name}: {exc}", sid, (t, ()), depth + 1)
                    if keep_edges:
                        terminal[sid] = True
                    continue
                any_enabled = True
                if not expand:
                    exit_reason = ExitReason.MAX_DEPTH
                    break
                chooser = Chooser()
                while chooser is not None:
                    try:
                        s2 = execute(s, t, chooser)
                    except StepError as exc:
                        found.add(*_failure_kind(exc), sid, (t, chooser.used()), depth + 1)
                        if keep_edges:
                            terminal[sid] = True
                    else:
                        transitions += 1
                        sid2 = index.get(s2)
                        if sid2 is None:
                            sid2 = add_state(s2, sid, (t, chooser.used()), depth + 1)
                            next_level.append(sid2)
                        if keep_edges:
                            edges[sid].append(sid2)
                    plan = chooser.next_plan()
                    chooser = Chooser(plan) if plan is not None else None
            # -- deadlock -------------------------------------------------
            if not any_enabled and not finished(s):
                if keep_edges:
                    terminal[sid] = True
                if check_deadlock:
                    found.add("deadlock", "deadlock", "", sid, None, depth)
                    violating += 1
            if max_states is not None and len(states) >= max_states and next_level:
                exit_reason, stop = ExitReason.MAX_STATES, True
                break
        if goal is None:
            goal = _goal_met(found, expect)
        if stop:
            break
        if next_level:
            depth += 1
        level = next_level
    else:
        if goal is not None:
            exit_reason = ExitReason.FOUND

    # -- livelock: states from which no ending can be reached -------------
    if keep_edges and exit_reason is ExitReason.EXHAUSTED and _wants_livelock(found, expect):
        _find_livelock(states, edges, terminal, found, depth)

    elapsed = time.perf_counter() - start
    stats = Stats(len(states), transitions, depth, elapsed, violating)
    violations = [_violation(rec, parent, via, program, states) for rec in _ordered(found, expect)]
    if violations:
        verdict = Verdict.VIOLATION
    elif exit_reason.is_bound:
        verdict = Verdict.INCONCLUSIVE
    else:
        verdict = Verdict.SAFE
    return Exploration(verdict, violations[0] if violations else None, tuple(violations[1:]),
                       stats, exit_reason, bounds, _checked(program))


def _failure_kind(exc) -> tuple:
    if isinstance(exc, AssertFailed):
        return ("assert", "assert", str(exc))
    return ("error", "error", str(exc))


def _goal_met(found: _Found, expect):
    """Has the search found what it needs to stop (at the end of this level)?"""
    if not found.by_key:
        return None
    if expect.kind != "named":
        return True
    for kind, name, message in found.by_key:
        if Violation(kind, name, message, Schedule()).matches(expect):
            return True
    return None


def _wants_livelock(found: _Found, expect) -> bool:
    return not found.by_key or (expect.kind == "named" and expect.name == "livelock")


def _ordered(found: _Found, expect) -> list:
    """The violation to report first: the expected one, else the shortest."""
    records = sorted(found.by_key.values(), key=lambda r: (r[0], r[1]))
    if expect.kind == "named":
        matching = [r for r in records if Violation(r[2], r[3], r[4], Schedule()).matches(expect)]
        records = matching + [r for r in records if r not in matching]
    return records


def _violation(record, parent: list, via: list, program, states) -> Violation:
    _, _, kind, name, message, sid, last_step = record
    if kind == "livelock":
        return _livelock(program, states, parent, via, *last_step)
    schedule = _schedule_to(sid, parent, via)
    if sid < 0:                         # the initial state could not be built
        schedule = Schedule(last_step, ())
    elif last_step is not None:
        schedule = schedule.extend(last_step)
    return Violation(kind, name, message, schedule)


def _livelock(program, states, parent, via, walk, k) -> Violation:
    """Schedule to the start of the cycle, and the cycle itself."""
    steps = [_step_between(program, states[a], states[b]) for a, b in zip(walk, walk[1:] + (walk[k],))]
    schedule = _schedule_to(walk[0], parent, via)
    for step in steps[:k]:
        schedule = schedule.extend(step)
    return Violation("livelock", "livelock", "", schedule, Schedule((), tuple(steps[k:])))


def _step_between(program, a, b) -> tuple:
    for t in range(len(program.threads)):
        if not program.enabled(a, t):
            continue
        chooser = Chooser()
        while chooser is not None:
            try:
                if program.execute(a, t, chooser) == b:
                    return (t, chooser.used())
            except StepError:
                pass
            plan = chooser.next_plan()
            chooser = Chooser(plan) if plan is not None else None
    raise InternalError("a stored edge of the state graph cannot be replayed")


def _schedule_to(sid: int, parent: list, via: list) -> Schedule:
    steps = []
    while sid >= 0 and parent[sid] >= 0:
        steps.append(via[sid])
        sid = parent[sid]
    init = via[sid] if sid >= 0 else ()
    return Schedule(init, tuple(reversed(steps)))


def _find_livelock(states, edges, terminal, found: _Found, depth: int) -> None:
    """Backward reachability from the ending states; what is left livelocks."""
    n = len(states)
    reverse: list = [[] for _ in range(n)]
    for sid in range(n):
        for succ in edges[sid]:
            reverse[succ].append(sid)
    can_end = bytearray(n)
    stack = [sid for sid in range(n) if terminal[sid]]
    for sid in stack:
        can_end[sid] = 1
    while stack:
        sid = stack.pop()
        for pred in reverse[sid]:
            if not can_end[pred]:
                can_end[pred] = 1
                stack.append(pred)
    stuck = [sid for sid in range(n) if not can_end[sid]]
    if not stuck:
        return
    first = stuck[0]                    # smallest number: reached first by BFS
    cycle = _cycle_from(first, edges)
    found.by_key[("livelock", "livelock", "")] = (0, len(found.by_key), "livelock", "livelock", "", first, cycle)


def _cycle_from(sid: int, edges) -> tuple:
    """Follow first successors from ``sid`` until a state repeats."""
    seen: dict = {}
    walk = []
    while sid not in seen:
        seen[sid] = len(walk)
        walk.append(sid)
        sid = edges[sid][0]
    return (tuple(walk), seen[sid])


def _checked(program: Program) -> tuple:
    items = [f"invariant {p.name}" for p, _ in program.invariants]
    items += [f"final {p.name}" for p, _ in program.finals]
    items.append("asserts and run-time errors")
    if not program.deadlock_allowed:
        items.append("deadlock")
    if not program.livelock_allowed:
        items.append("livelock")
    return tuple(items)
