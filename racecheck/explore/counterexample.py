"""The counterexample a human would draw: fewest context switches, then
fewest steps.

The verdict search (reduced, breadth-first) proves that a violation is
reachable and gives one schedule for it. This module then searches the full
state graph (no reduction: every interleaving is a candidate) for a schedule
to the same violation that switches between threads as rarely as possible,
and among those is shortest, as CHESS orders its search by preemptions. It
is a Dijkstra search over (state, thread that ran last) with the cost
(switches, steps). When the full graph is larger than the budget, the
verdict search's schedule is kept and the result says so; the same when a
``Deadline`` (``explore.budget``) passes first.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace

from racecheck.explore.result import Violation
from racecheck.explore.schedule import Schedule
from racecheck.model.program import USER_ERRORS, InitialFailure, Program
from racecheck.scenario.values import AssertFailed, StepError

DEFAULT_BUDGET = 200_000       # (state, last thread) pairs
_FAILED = object()             # marks a queued failing step instead of a state


@dataclass(frozen=True)
class Minimized:
    violation: Violation
    minimal: bool              # False: not minimised (budget ran out); the schedule is the search's
    stopped_by: str | None = None   # the bound of a deadline that passed first ("time bound")


def switches(schedule: Schedule) -> int:
    """How often consecutive steps are taken by different threads."""
    return sum(1 for a, b in zip(schedule.steps, schedule.steps[1:]) if a[0] != b[0])


def fewest_switches(program: Program, violation: Violation, budget: int = DEFAULT_BUDGET,
                    deadline=None) -> Minimized:
    """A schedule reaching ``violation``'s kind with fewest switches, then steps;
    the search's own schedule when ``deadline`` (a ``Deadline``) passes first."""
    if violation.kind == "livelock" or not violation.schedule.steps:
        return Minimized(violation, True)
    target = violation.key
    expand = program.successors()
    heap: list = []
    best: dict = {}
    parent: dict = {}
    counter = 0
    for chooser, s in program.initial_states():
        if isinstance(s, InitialFailure):
            continue
        node = (s, -1)
        best[node] = (0, 0)
        parent[node] = (None, chooser.used())
        heapq.heappush(heap, (0, 0, counter, node))
        counter += 1
    while heap:
        sw, steps, _, node = heapq.heappop(heap)
        if node[0] is _FAILED:
            # a failing step, queued with its own cost (switch included):
            # popped first among all candidates, so it is the cheapest
            prev, step = node[1]
            return Minimized(replace(violation, schedule=_schedule(parent, prev).extend(step)), True)
        if best.get(node) != (sw, steps):
            continue
        s, last = node
        if _state_violates(program, s, target):
            return Minimized(replace(violation, schedule=_schedule(parent, node)), True)
        if len(best) > budget:
            return Minimized(violation, False)
        reason = deadline.passed() if deadline is not None else None
        if reason is not None:
            return Minimized(violation, False, reason)
        for t, picks, target_state in expand(s):
            cost = (sw + (1 if last not in (-1, t) else 0), steps + 1)
            if isinstance(target_state, StepError):
                if _failure_key(target_state) == target:
                    heapq.heappush(heap, (cost[0], cost[1], counter, (_FAILED, (node, (t, picks)))))
                    counter += 1
                continue
            succ = (target_state, t)
            if cost < best.get(succ, (1 << 62, 0)):
                best[succ] = cost
                parent[succ] = (node, (t, picks))
                heapq.heappush(heap, (cost[0], cost[1], counter, succ))
                counter += 1
    return Minimized(violation, False)


def _failure_key(exc) -> tuple:
    if isinstance(exc, AssertFailed):
        return ("assert", "assert", str(exc))
    return ("error", "error", "")


def _state_violates(program: Program, s: tuple, target: tuple) -> bool:
    kind, name, _ = target
    if kind in ("invariant", "final", "error"):
        invariants, finals, errors = program.judge(s)
        if kind == "error":
            return bool(errors)
        return name in (invariants if kind == "invariant" else finals)
    if kind == "deadlock":
        if program.finished(s):
            return False
        try:
            return not any(program.enabled(s, t) for t in range(len(program.threads)))
        except USER_ERRORS:
            return False
    return False


def _schedule(parent: dict, node) -> Schedule:
    steps = []
    while True:
        prev, step = parent[node]
        if prev is None:
            return Schedule(step, tuple(reversed(steps)))
        steps.append(step)
        node = prev
