"""Checking a ``memory: lkmm`` scenario: every execution the Linux-kernel
memory model allows, each judged by the scenario's properties.

The threads run as LKMM thread code (``model.lkmm_scenario``) and
``explore.executions`` enumerates the consistent executions. In each:

* a final check that is false is a violation ``final NAME``;
* a thread whose run failed an ``assert`` (or stopped on a run-time
  error) is a violation ``assert`` (``error``);
* a data race between plain accesses, as LKMM defines it, is a violation
  ``data-race`` naming the two accesses.

A violation is a property of an execution, not of a run: a failed assert
counts only in executions that are consistent. The counterexample is the
simplest execution showing the reported violation (the expected one when
it occurs): the fewest stale reads, then the fewest reads from another
thread, then the first enumerated. The enumeration is deterministic, so
``--execution N`` replays execution N (its number among all consistent
executions) and finds the same violations in it.

Not checked under lkmm: invariants (the loader refuses them), deadlock
(a run that cannot take its lock has no execution) and livelock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from racecheck.model import lkmm_scenario as M
from racecheck.scenario.lkmm_rules import flatten
from racecheck.scenario.schema import Scenario, Variant

from .executions import DEFAULT_MAX_CANDIDATES, Execution, TooBig, explore
from .result import ExitReason, Exploration, Outcome, Stats, Verdict, Violation
from .witness import external_reads, stale_reads


@dataclass(frozen=True)
class Race:
    """Two racing plain accesses: (thread, step text, line, read/write, location)."""

    first: tuple
    second: tuple


@dataclass(frozen=True)
class Found:
    """One violation in one execution."""

    kind: str
    name: str
    message: str
    race: Race | None = None

    @property
    def key(self) -> tuple:
        return (self.kind, self.name, self.message if self.kind == "assert" else "")

    def violation(self) -> Violation:
        return Violation(self.kind, self.name, self.message, None)


@dataclass(frozen=True)
class LkmmChecked:
    """What ``explore.check.CheckedVariant`` is for an sc scenario, for
    the table, the exit status and the reports."""

    scenario: Scenario
    variant: Variant
    exploration: Exploration
    names: tuple                       # thread instance names, by tid
    execution: Execution | None = None  # the counterexample
    number: int = 0                    # its number among the consistent executions (from 1)
    found: tuple = ()                  # Found in the counterexample
    violating: int = 0                 # executions with the reported violation
    candidates: int = 0
    runs: int = 0
    memory: str = "lkmm"
    audit: object = None               # explore.lkmm_audit.ScenarioAudit, for reports
    also: tuple = ()                   # (number, Violation): each other violation found, and the
                                       # simplest execution showing it
    max_candidates: int = DEFAULT_MAX_CANDIDATES

    @property
    def outcome(self) -> Outcome:
        return self.exploration.outcome(self.variant.expect)

    @property
    def executions(self) -> int:
        return self.exploration.stats.states

    def stopped(self, analysis: str):
        return None


def executions_of(scenario: Scenario, variant: Variant, max_candidates: int = DEFAULT_MAX_CANDIDATES,
                  progress=None):
    init = {loc: value for name, value in scenario.state for loc, value in flatten(name, value).items()}
    return explore(M.thread_programs(scenario, variant), init, max_candidates=max_candidates,
                   max_replays=max_candidates, progress=progress)


def judge(scenario: Scenario, variant: Variant, ex: Execution) -> list:
    """The violations of one execution, in a fixed order: final checks as
    declared, then failed asserts and errors by thread, then races."""
    params = dict(variant.params)
    out = []
    for prop in scenario.finals:
        try:
            holds = M.evaluate(scenario, params, prop.code, ex.memory, ex.regs)
        except Exception as exc:             # noqa: BLE001 - scenario code failing is a finding
            out.append(Found("error", "error", f"final {prop.name}: {exc}"))
            continue
        if not holds:
            out.append(Found("final", prop.name, ""))
    tids = sorted({tid for tid, _ in ex.regs})
    for tid in tids:
        failure = ex.regs.get((tid, M.FAILURE))
        if failure is not None:
            kind, message, _line = failure
            out.append(Found(kind, kind, message))
    for race in races(ex):
        out.append(Found("data-race", "data-race", "", race))
    return out


def races(ex: Execution) -> list:
    """The execution's data races, each pair in program-text order."""
    out = []
    for pair in ex.races:
        a, b = sorted((ex.graph.events[i] for i in pair), key=lambda e: (e.line, e.key))
        out.append(Race(_access(a), _access(b)))
    return sorted(set(out), key=lambda r: (r.first[2], r.second[2], r.first, r.second))


def _access(e) -> tuple:
    return (e.tid, e.label, e.line, "write" if e.is_write else "read", e.loc)


def check_variant_lkmm(scenario: Scenario, variant: Variant, max_candidates: int = DEFAULT_MAX_CANDIDATES,
                       avoid: frozenset = frozenset(), progress=None) -> LkmmChecked:
    """Check one variant. The counterexample drawn shows the expected
    violation when it occurs, else the first found; ``avoid``: violation
    keys to draw only when nothing else occurs (the audit draws what the
    scenario as written does not have)."""
    names = tuple(inst.name for inst in M.instances(scenario))
    start = time.perf_counter()
    try:
        found = executions_of(scenario, variant, max_candidates, progress)
    except TooBig as exc:
        stats = Stats(seconds=time.perf_counter() - start)
        result = Exploration(Verdict.INCONCLUSIVE, None, stats=stats, exit_reason=ExitReason.MAX_STATES,
                             checked=(str(exc),))
        return LkmmChecked(scenario, variant, result, names, max_candidates=max_candidates)
    if not found.executions:
        stats = Stats(seconds=time.perf_counter() - start)
        why = ("no execution: in every run some thread waits forever (an await no write can satisfy, "
               "or a lock it cannot take); deadlock is not checked under lkmm")
        result = Exploration(Verdict.INCONCLUSIVE, None, stats=stats, exit_reason=ExitReason.INCOMPLETE,
                             checked=(why,))
        return LkmmChecked(scenario, variant, result, names, candidates=found.candidates, runs=found.runs,
                           max_candidates=max_candidates)
    judged = [judge(scenario, variant, ex) for ex in found.executions]
    seconds = time.perf_counter() - start
    stats = Stats(states=len(found.executions), seconds=seconds, violating_states=sum(map(bool, judged)))
    kinds: dict = {}
    for violations in judged:
        for v in violations:
            kinds.setdefault(v.key, v)
    if not kinds:
        result = Exploration(Verdict.SAFE, None, stats=stats)
        return LkmmChecked(scenario, variant, result, names, candidates=found.candidates, runs=found.runs,
                           max_candidates=max_candidates)
    order = sorted(kinds, key=lambda k: k in avoid)
    chosen = next((k for k in order if k not in avoid and kinds[k].violation().matches(variant.expect)), order[0])
    def cost(i):
        return stale_reads(found.executions[i]), external_reads(found.executions[i]), i
    showing = {k: [i for i, violations in enumerate(judged) if any(v.key == k for v in violations)] for k in order}
    simplest = {k: min(showing[k], key=cost) for k in order}
    best = simplest[chosen]
    also = tuple((simplest[k] + 1, kinds[k].violation()) for k in order if k != chosen)
    result = Exploration(Verdict.VIOLATION, kinds[chosen].violation(), tuple(v for _, v in also), stats=stats,
                         exit_reason=ExitReason.EXHAUSTED)
    mine = tuple(v for v in judged[best] if v.key == chosen) + tuple(v for v in judged[best] if v.key != chosen)
    return LkmmChecked(scenario, variant, result, names, found.executions[best], best + 1, mine,
                       len(showing[chosen]), found.candidates, found.runs, also=also, max_candidates=max_candidates)


def replay_execution(scenario: Scenario, variant: Variant, number: int,
                     max_candidates: int = DEFAULT_MAX_CANDIDATES):
    """Execution ``number`` (from 1) and its violations; None when there
    are fewer executions."""
    found = executions_of(scenario, variant, max_candidates)
    if not 1 <= number <= len(found.executions):
        return None, len(found.executions)
    ex = found.executions[number - 1]
    return (ex, judge(scenario, variant, ex)), len(found.executions)
