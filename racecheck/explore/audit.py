"""``racecheck audit``: which ordering primitives a litmus test needs.

Each primitive (``scenario.litmus_weaken``) is weakened alone and the
weakened test checked again under the Linux-kernel memory model. A
primitive is needed when the answer changes: Always, Sometimes or Never,
and the DATARACE flag, as ``racecheck litmus`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass

from racecheck.scenario.litmus import LitmusTest
from racecheck.scenario.litmus_weaken import Primitive, primitives, weaken

from .executions import DEFAULT_MAX_CANDIDATES
from .litmus import LitmusResult, check_litmus


@dataclass(frozen=True)
class Weakened:
    primitive: Primitive
    answer: str                   # the weakened test's answer, 'Never DATARACE' and the like
    test: LitmusTest              # the weakened test

    def needed(self, original: str) -> bool:
        return self.answer != original


@dataclass(frozen=True)
class Audit:
    result: LitmusResult          # the test as written
    weakened: tuple               # Weakened, one per primitive

    @property
    def answer(self) -> str:
        return answer_of(self.result)


def answer_of(result: LitmusResult) -> str:
    return result.answer + (" DATARACE" if result.racy else "")


def audit_litmus(test: LitmusTest, max_candidates: int = DEFAULT_MAX_CANDIDATES) -> Audit:
    result = check_litmus(test, max_candidates=max_candidates)
    rows = []
    for primitive in primitives(test):
        weak = weaken(test, primitive)
        rows.append(Weakened(primitive, answer_of(check_litmus(weak, max_candidates=max_candidates)), weak))
    return Audit(result, tuple(rows))
