"""Check one C litmus test under the Linux-kernel memory model and compare
the answer with its ``Result:`` line, as herd7 and the kernel's
judgelitmus.sh do.

The answer is about the condition's proposition P (``exists P``,
``~exists P`` and ``forall P`` all observe P): ``Always`` when every
consistent execution satisfies P, ``Never`` when none does, ``Sometimes``
otherwise. Executions satisfying P are the positive witnesses, the others
the negative ones (herd7's ``Positive: P Negative: N``); with a
``filter Q`` clause only executions satisfying Q count, as in herd7. The
final states are told apart by the condition's terms and those of the
``locations`` clause (herd7's ``States N``). A test agrees
with its ``Result:`` line when the answers match and the data-race flag
matches the line's ``DATARACE`` marker (present exactly when some
consistent execution has a data race), the rule of judgelitmus.sh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from racecheck.model.lkmm_litmus import atom_value, evaluate, thread_program
from racecheck.scenario.litmus import LitmusTest

from .executions import DEFAULT_MAX_CANDIDATES, Exploration, explore


@dataclass(frozen=True)
class Race:
    """Two racing accesses (``describe()`` texts and source lines)."""

    first: str
    second: str
    first_line: int
    second_line: int


@dataclass(frozen=True)
class LitmusResult:
    test: LitmusTest
    answer: str                   # Always / Sometimes / Never
    executions: int
    positive: int
    negative: int
    states: tuple                 # distinct final states over the condition's terms
    races: tuple                  # Race, each pair once
    candidates: int
    rejected: dict                # axiom -> candidates it rejected
    seconds: float

    @property
    def racy(self) -> bool:
        return bool(self.races)

    @property
    def agrees(self) -> bool | None:
        """Whether the answer matches ``Result:`` (None: the test has none)."""
        if self.test.expected is None:
            return None
        return self.answer == self.test.expected and self.racy == bool(self.test.expected_race)


def check_litmus(test: LitmusTest, max_candidates: int = DEFAULT_MAX_CANDIDATES) -> LitmusResult:
    start = time.perf_counter()
    programs = [thread_program(test, index) for index in range(len(test.threads))]
    found = explore(programs, test.init, max_candidates=max_candidates)
    return _result(test, found, time.perf_counter() - start)


def _result(test: LitmusTest, found: Exploration, seconds: float) -> LitmusResult:
    terms = list(test.shown) + list(test.condition.atoms())
    atoms = sorted({(a.thread if a.thread is not None else -1, a.name): a for a in terms}.items())
    positive, states, races = 0, set(), {}
    executions = [ex for ex in found.executions
                  if test.filter is None or evaluate(test.filter, ex.regs, ex.memory)]
    for ex in executions:
        positive += evaluate(test.condition, ex.regs, ex.memory)
        states.add(tuple((key, str(atom_value(atom, ex.regs, ex.memory))) for key, atom in atoms))
        for pair in ex.races:                 # a race is a pair: name it in program-text order
            first, second = sorted((ex.graph.events[i] for i in pair), key=lambda e: (e.line, e.key))
            race = Race(_access(first), _access(second), first.line, second.line)
            races.setdefault((race.first_line, race.second_line, race.first, race.second), race)
    total = len(executions)
    answer = "Never" if positive == 0 else "Always" if positive == total else "Sometimes"
    return LitmusResult(test, answer, total, positive, total - positive,
                        tuple(sorted(states)), tuple(races[k] for k in sorted(races)),
                        found.candidates, dict(sorted(found.rejected.items())), seconds)


def _access(event) -> str:
    """``P0 WRITE_ONCE(*x, 1)``: the thread and the access as written."""
    what = event.label or event.describe()
    kind = "write" if event.is_write else "read"
    return f"P{event.tid} {what} ({kind} of {event.loc})"
