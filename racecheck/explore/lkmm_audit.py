"""``racecheck audit FILE.yaml``: which ordering primitives a ``memory:
lkmm`` scenario's properties need.

Each primitive the variant may run (``scenario.lkmm_weaken``) is weakened
alone and the variant checked again (``explore.lkmm_check``). A primitive
is needed when the weakened scenario violates something the scenario as
written does not (a final check, an assert, a data race); its check then
holds the counterexample without it. Otherwise it is not needed for this
scenario's properties (which says nothing of properties not written
down).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from racecheck.model.lkmm_scenario import param_choice
from racecheck.scenario.lkmm_weaken import Primitive, primitives, weaken
from racecheck.scenario.schema import Scenario, Variant

from .executions import DEFAULT_MAX_CANDIDATES, TooBig
from .lkmm_check import LkmmChecked, check_variant_lkmm


@dataclass(frozen=True)
class WeakenedRun:
    primitive: Primitive
    checked: LkmmChecked          # the weakened scenario's check

    def new(self, original: LkmmChecked) -> tuple:
        """The violations the weakened scenario has and the original not."""
        return tuple(v for v in _violations(self.checked) if v.key not in {o.key for o in _violations(original)})

    def needed(self, original: LkmmChecked) -> bool:
        return bool(self.new(original))


@dataclass(frozen=True)
class ScenarioAudit:
    checked: LkmmChecked          # the variant as written
    weakened: tuple               # WeakenedRun, one per primitive


def _violations(checked: LkmmChecked) -> tuple:
    result = checked.exploration
    return tuple(v for v in (result.violation,) + result.others if v is not None)


def audit_variant(scenario: Scenario, variant: Variant, max_candidates: int = DEFAULT_MAX_CANDIDATES
                  ) -> ScenarioAudit:
    original = check_variant_lkmm(scenario, variant, max_candidates)
    params = dict(variant.params)
    rows = []
    for primitive in primitives(scenario, lambda code: param_choice(code, params)):
        weak = weaken(scenario, primitive)
        avoid = frozenset(v.key for v in _violations(original))
        checked = check_variant_lkmm(weak, variant, max_candidates, avoid)
        rows.append(WeakenedRun(primitive, checked))
    return ScenarioAudit(original, tuple(rows))


def audited_check(scenario: Scenario, variant: Variant, max_candidates: int | None = None) -> LkmmChecked:
    """The variant's check carrying its audit (reports print both); the
    audit is left out when a weakened check passes the bound."""
    bound = max_candidates or DEFAULT_MAX_CANDIDATES
    try:
        audit = audit_variant(scenario, variant, bound)
    except TooBig:
        return check_variant_lkmm(scenario, variant, bound)
    return replace(audit.checked, audit=audit)
