"""Checking a scenario: each variant explored, its counterexample confirmed.

This is the entry point the command line and the pytest plugin share: it
builds each variant's ``Program``, explores it, replays the violation it
reports (an internal error if the replay disagrees) and gathers what a
report needs. It prints nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from racecheck.explore.counterexample import fewest_switches
from racecheck.explore.coverage import coverage
from racecheck.explore.frequency import violation_frequency
from racecheck.explore.result import Bounds, Exploration, Outcome, Verdict
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

    @property
    def outcome(self) -> Outcome:
        return self.exploration.outcome(self.variant.expect)


ANALYSIS_BUDGET = 50_000       # states of the full graph for coverage and frequency


def check_variant(scenario: Scenario, variant: Variant, bounds: Bounds = Bounds(), *,
                  reduction: bool = True, hash_compact: bool = False, progress=None,
                  minimize: bool = True, analysis_budget: int = ANALYSIS_BUDGET) -> CheckedVariant:
    """Explore one variant; confirm, minimise and measure its violation, or
    find the steps it never executes. ``analysis_budget`` bounds the extra
    full-graph searches (0 turns them off)."""
    program = Program(scenario, variant)
    result = explore(program, bounds, variant.expect, reduction=reduction,
                     hash_compact=hash_compact, progress=progress)
    violation = result.violation
    unexecuted = unexpected = None
    if analysis_budget:
        unexecuted, unexpected = coverage(program, analysis_budget)
    if violation is None:
        safe = result.verdict is Verdict.SAFE
        return CheckedVariant(scenario, variant, program, result, coverage=unexpected if safe else None,
                              unexecuted=unexecuted)
    minimal = True
    if minimize:
        confirm(program, violation)      # the search's own schedule must replay too
        better = fewest_switches(program, violation)
        violation, minimal = better.violation, better.minimal
        result = replace(result, violation=violation)
    trace = confirm(program, violation)
    cycle_trace = None
    if violation.cycle is not None:
        full = Schedule(violation.schedule.init, violation.schedule.steps + violation.cycle.steps)
        cycle_trace = replay(program, full)
    reads = ()
    if violation.kind in ("invariant", "final"):
        reads = tuple(property_reads(program, violation.name, trace.final_state))
    frequency = violation_frequency(program, violation, analysis_budget) if analysis_budget else None
    return CheckedVariant(scenario, variant, program, result, trace, cycle_trace, reads, minimal,
                          frequency=frequency, unexecuted=unexecuted)


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
