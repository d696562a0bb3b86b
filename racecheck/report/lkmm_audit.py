"""``racecheck audit FILE.yaml`` as text: per variant, a table of the
ordering primitives and whether its properties need each, then the
counterexample without each needed one; 75 columns.

    Audit of lost_wakeup.yaml, variant after: safe
      line  primitive -> weakened to           without it
        17  wakeup_kcompactd smp_mb -> nothing
              needed: safe -> violation of final no_lost_wakeup
        26  kcompactd smp_mb -> nothing
              needed: safe -> violation of final no_lost_wakeup
      2 of 2 primitives needed
"""

from __future__ import annotations

from racecheck.explore.lkmm_audit import ScenarioAudit, WeakenedRun

from .lkmm_scenario import _fold, execution_lines, found_lines
from .litmus import WIDTH

_LINE, _PRIM = 4, 33
NOT_NEEDED = "not needed for this scenario's properties"
NOTHING_NEW = "no new violation without it"        # for a variant that already violates


def verdict_text(violations) -> str:
    return "safe" if not violations else "violation of " + ", ".join(v.describe() for v in violations)


def _original(audit: ScenarioAudit) -> tuple:
    result = audit.checked.exploration
    return tuple(v for v in (result.violation,) + result.others if v is not None)


def row_verdict(audit: ScenarioAudit, row: WeakenedRun) -> str:
    if not row.needed(audit.checked):
        return NOTHING_NEW if _original(audit) else NOT_NEEDED
    return f"needed: {verdict_text(_original(audit))} -> {verdict_text(row.new(audit.checked))}"


def render_scenario_audit(audit: ScenarioAudit, path: str) -> str:
    variant = audit.checked.variant
    label = f", variant {variant.name}" if variant.name else ""
    lines = _fold(f"Audit of {path}{label}: {verdict_text(_original(audit))}", "    ")
    if not audit.weakened:
        return "\n".join(lines + ["  no ordering primitive to weaken"])
    lines.append(f"  {'line':>{_LINE}}  {'primitive -> weakened to':<{_PRIM}}  without it")
    for row in audit.weakened:
        cell = f"{row.primitive.describe()} -> {row.primitive.weakened}"
        verdict = row_verdict(audit, row)
        head = f"  {row.primitive.line:>{_LINE}}  "
        if len(cell) <= _PRIM and len(head) + _PRIM + 2 + len(verdict) <= WIDTH:
            lines.append(f"{head}{cell:<{_PRIM}}  {verdict}")
        else:
            lines += _fold(f"{head}{cell}", " " * (len(head) + 2))
            lines += _fold(" " * (len(head) + 2) + verdict, " " * (len(head) + 4))
    needed = sum(row.needed(audit.checked) for row in audit.weakened)
    lines.append(f"  {needed} of {len(audit.weakened)} primitives needed")
    return "\n".join(lines)


def render_counterexamples(audit: ScenarioAudit) -> list:
    """For each needed primitive, the execution that shows it needed."""
    out = []
    for row in audit.weakened:
        if not row.needed(audit.checked) or row.checked.execution is None:
            continue
        p = row.primitive
        head = (f"without {p.describe()} (line {p.line}, weakened to {p.weakened}): "
                f"{verdict_text(row.new(audit.checked))}")
        out.append("\n".join(_fold(head, "  ") + [""] + execution_lines(row.checked, row.checked.execution)
                             + [""] + found_lines(row.checked, row.checked.found)))
    return out


def audit_table_rows(audit: ScenarioAudit) -> tuple:
    """(headers, rows) for the reports."""
    headers = ("line", "primitive", "weakened to", "without it")
    rows = tuple((str(r.primitive.line), r.primitive.describe(), r.primitive.weakened, row_verdict(audit, r))
                 for r in audit.weakened)
    return headers, rows


def scenario_audit_json(audit: ScenarioAudit, path: str) -> dict:
    return {"file": path, "variant": audit.checked.variant.name, "verdict": verdict_text(_original(audit)),
            "primitives": [{"thread": r.primitive.thread, "primitive": r.primitive.name, "line": r.primitive.line,
                            "end_line": r.primitive.end_line or None, "weakened_to": r.primitive.weakened,
                            "needed": r.needed(audit.checked),
                            "without_it": verdict_text(tuple(v for v in (r.checked.exploration.violation,)
                                                             + r.checked.exploration.others if v))}
                           for r in audit.weakened]}
