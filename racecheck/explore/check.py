"""Checking a scenario: each variant explored, its counterexample confirmed.

This is the entry point the command line and the pytest plugin share: it
builds each variant's ``Program``, explores it, replays the violation it
reports (an internal error if the replay disagrees) and gathers what a
report needs. It prints nothing.

``--timeout`` and ``--max-memory`` bound the whole check of a variant once
it is compiled (the loader's limits bound compiling): the search, then the
analyses after it, in this order: the fewest-switch minimisation, how
common the violation is, coverage. An analysis that the bound stops is left
out and named in ``CheckedVariant.not_computed``; the counterexample is
then the search's own. Replaying the counterexample is not optional: it
costs one run of its steps.

``--graph-budget`` (``analysis_budget``) bounds the states of the full
(unreduced) state graph that coverage and how common may walk. Coverage
starts from what the verdict search already ran and walks the full graph
only for steps that search never ran (``explore.coverage``); how common
needs the full graph, built once and also given to coverage. Over the
budget, the analysis is named in ``not_computed`` with ``over_budget()``'s
reason, never left out silently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from racecheck.explore.budget import Deadline, DeadlinePassed
from racecheck.explore.counterexample import fewest_switches
from racecheck.explore.coverage import coverage
from racecheck.explore.frequency import violation_frequency
from racecheck.explore.graph import full_graph
from racecheck.explore.result import Bounds, ExitReason, Exploration, Outcome, Verdict
from racecheck.explore.search import explore
from racecheck.explore.trace import Trace, confirm, replay
from racecheck.explore.schedule import Schedule
from racecheck.model.inspect import property_reads
from racecheck.model.program import Program
from racecheck.scenario.schema import Scenario, Variant


@dataclass(frozen=True)
class CheckedVariant:
    scenario: Scenario
    variant: Variant
    program: Program
    exploration: Exploration
    trace: Trace | None = None          # the counterexample, replayed
    cycle_trace: Trace | None = None    # for a livelock: schedule + one cycle
    reads: tuple = ()                   # (text, value) the violated property read
    minimal: bool = True                # the counterexample has the fewest context switches
    coverage: tuple | None = None       # safe verdict: steps no reachable state executes, except
                                        # those the variant's params switch off
                                        # ((thread name, step text, "file:line"), ...); None: not computed
    frequency: object | None = None     # violation: how common it is (explore.frequency); None: not computed
    unexecuted: tuple | None = None     # every step no reachable state executes; None: not computed
    not_computed: tuple = ()            # ((analysis, bound), ...): analyses a bound stopped, e.g.
                                        # ("frequency", "time bound"); analysis is "minimisation",
                                        # "frequency" or "coverage"

    def stopped(self, analysis: str) -> str | None:
        """The bound that stopped ``analysis`` ("time bound"), or None."""
        return dict(self.not_computed).get(analysis)

    @property
    def outcome(self) -> Outcome:
        return self.exploration.outcome(self.variant.expect)


ANALYSIS_BUDGET = 50_000       # states of the full graph for coverage and frequency (--graph-budget)


def over_budget(budget: int) -> str:
    """Why an analysis was not computed: its walk would pass ``budget`` states."""
    return f"{budget + 1:,}+ states > budget {budget:,}; --graph-budget"


def check_variant(scenario: Scenario, variant: Variant, bounds: Bounds = Bounds(), *,
                  reduction: bool = True, hash_compact: bool = False, progress=None,
                  minimize: bool = True, analysis_budget: int = ANALYSIS_BUDGET,
                  engine: str = "racecheck", spin: dict | None = None) -> CheckedVariant:
    """Explore one variant; confirm, minimise and measure its violation, or
    find the steps it never executes. ``analysis_budget`` bounds the states
    of the full-graph walks of coverage and frequency (0: none; coverage
    then comes from the verdict search alone, or is not computed).
    ``engine="spin"``: SPIN searches instead (``racecheck.spin.engine``;
    ``spin`` holds its options: collapse, bitstate, cores)."""
    if engine == "spin":
        from racecheck.spin.engine import check_variant_spin
        return check_variant_spin(scenario, variant, bounds, reduction=reduction, hash_compact=hash_compact,
                                  progress=progress, **(spin or {}))
    program = Program(scenario, variant)
    deadline = Deadline.start(bounds)
    result = explore(program, bounds, variant.expect, reduction=reduction,
                     hash_compact=hash_compact, progress=progress, deadline=deadline.at)
    violation = result.violation
    stopped: list = []
    if result.exit_reason is ExitReason.INTERRUPTED:
        deadline = Deadline.interrupted()
    if violation is None:
        unexecuted, unexpected = _coverage(program, result, analysis_budget, deadline, stopped)
        safe = result.verdict is Verdict.SAFE
        return CheckedVariant(scenario, variant, program, result, coverage=unexpected if safe else None,
                              unexecuted=unexecuted, not_computed=tuple(stopped))
    trace = confirm(program, violation)  # the search's own schedule must replay too
    minimal = True
    if minimize:
        better = fewest_switches(program, violation, deadline=deadline)
        if better.stopped_by is not None:
            stopped.append(("minimisation", better.stopped_by))
        if better.violation != violation:
            violation = better.violation
            result = replace(result, violation=violation)
            trace = confirm(program, violation)
        minimal = better.minimal
    cycle_trace = None
    if violation.cycle is not None:
        full = Schedule(violation.schedule.init, violation.schedule.steps + violation.cycle.steps)
        cycle_trace = replay(program, full)
    reads = ()
    if violation.kind in ("invariant", "final"):
        reads = tuple(property_reads(program, violation.name, trace.final_state))
    graph = None
    if analysis_budget:
        graph = _within(deadline, stopped, "frequency", None, _full_graph, program, analysis_budget)
    frequency = None
    if graph is not None and graph.complete:
        frequency = _within(deadline, stopped, "frequency", None, violation_frequency,
                            program, violation, analysis_budget, graph=graph)
    elif not _named(stopped, "frequency"):
        stopped.append(("frequency", over_budget(analysis_budget)))
    unexecuted = _coverage(program, result, analysis_budget, deadline, stopped, graph)[0]
    return CheckedVariant(scenario, variant, program, result, trace, cycle_trace, reads, minimal,
                          frequency=frequency, unexecuted=unexecuted, not_computed=tuple(stopped))


def _full_graph(program: Program, budget: int, deadline: Deadline):
    """The full state graph, at most ``budget`` states, watching ``deadline``."""
    return full_graph(deadline.watching(program), budget)


def _coverage(program: Program, result: Exploration, budget: int, deadline: Deadline, stopped: list,
              graph=None) -> tuple:
    """``coverage()`` from the search's moves (and ``graph``, if built); over
    the budget, named in ``stopped``."""
    found = _within(deadline, stopped, "coverage", (None, None), coverage, program, budget,
                    moves=result.moves, graph=graph)
    if found[0] is None and not _named(stopped, "coverage"):
        stopped.append(("coverage", over_budget(budget)))
    return found


def _named(stopped: list, name: str) -> bool:
    return any(analysis == name for analysis, _ in stopped)


def _within(deadline: Deadline, stopped: list, name: str, default, analysis, *args, **kwargs):
    """``analysis(*args, **kwargs, deadline=deadline)``, or ``default`` when the
    deadline passes first (before it starts or while it runs): then ``(name,
    bound)`` is added to ``stopped``."""
    reason = deadline.passed()
    if reason is None:
        try:
            return analysis(*args, deadline=deadline, **kwargs)
        except DeadlinePassed as exc:
            reason = exc.reason
    stopped.append((name, reason))
    return default


def never_executed(checked_list: list) -> tuple | None:
    """The steps no variant of a file ever executes (None: not computed for
    some variant). Usually a modelling mistake, such as a misspelt param."""
    if not checked_list or any(c.unexecuted is None for c in checked_list):
        return None
    key = lambda u: (u[1], u[2])                                        # noqa: E731
    common = set(map(key, checked_list[0].unexecuted))
    for checked in checked_list[1:]:
        common &= set(map(key, checked.unexecuted))
    seen: dict = {}
    for u in checked_list[0].unexecuted:
        if key(u) in common:
            seen.setdefault(key(u), u)
    return tuple(seen.values())


def select_variants(scenario: Scenario, name: str | None) -> tuple:
    """All variants, or the one named (None when the name is unknown)."""
    if name is None:
        return scenario.variants
    variant = scenario.variant(name)
    return (variant,) if variant is not None else None
