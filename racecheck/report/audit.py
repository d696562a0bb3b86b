"""``racecheck audit`` as text: one table per test, 75 columns.

    Test MP+wmb+rmb: Never
      condition exists (1:r0=1 /\\ 1:r1=0)
      line  primitive -> weakened to       without it
        14  P0 smp_wmb -> nothing          needed: Never -> Sometimes
        24  P1 smp_rmb -> nothing          needed: Never -> Sometimes

A lock or read-side pair names its closing line (``spin_lock(s)..16``);
a cell too wide for its column puts the verdict on the next line. With
``--witness`` each needed primitive is followed by the counterexample
without it (``render_without``).
"""

from __future__ import annotations

from racecheck.explore.audit import Audit, Weakened

from .litmus import WIDTH, _prop, _wrap

_LINE, _PRIM = 4, 33
NOT_NEEDED = "not needed for this test's condition"


def render_audit(audit: Audit) -> str:
    test = audit.result.test
    lines = [f"Test {test.name}: {audit.answer}"]
    lines += _wrap(f"condition {test.quantifier} {_prop(test.condition)}")
    if not audit.weakened:
        lines.append("  no ordering primitive to weaken")
        return "\n".join(lines)
    lines.append(f"  {'line':>{_LINE}}  {'primitive -> weakened to':<{_PRIM}}  without it")
    for row in audit.weakened:
        cell = f"{row.primitive.describe()} -> {row.primitive.weakened}"
        verdict = f"needed: {audit.answer} -> {row.answer}" if row.needed(audit.answer) else NOT_NEEDED
        head = f"  {row.primitive.line:>{_LINE}}  "
        if len(cell) <= _PRIM and len(head) + _PRIM + 2 + len(verdict) <= WIDTH:
            lines.append(f"{head}{cell:<{_PRIM}}  {verdict}")
        else:
            lines.append(f"{head}{cell}")
            lines.append(" " * (len(head) + 2) + verdict)
    needed = sum(row.needed(audit.answer) for row in audit.weakened)
    lines.append(f"  {needed} of {len(audit.weakened)} primitives needed")
    return "\n".join(lines)


def audit_json(audit: Audit) -> dict:
    test = audit.result.test
    return {"file": test.path, "test": test.name, "answer": audit.answer,
            "condition": f"{test.quantifier} {_prop(test.condition)}",
            "primitives": [{"thread": row.primitive.thread, "primitive": row.primitive.name,
                            "line": row.primitive.line, "end_line": row.primitive.end_line or None,
                            "weakened_to": row.primitive.weakened, "answer": row.answer,
                            "needed": row.needed(audit.answer)} for row in audit.weakened]}


def render_without(row: Weakened, witness: str) -> str:
    """The counterexample of a needed primitive: the weakened test's
    witness under a heading naming what was weakened."""
    head = f"without {row.primitive.describe()} (line {row.primitive.line}, " \
           f"weakened to {row.primitive.weakened}): {row.answer}"
    return "\n".join(_wrap(head, first="") + [witness])
