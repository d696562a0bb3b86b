"""The report of a ``memory: lkmm`` scenario: the same blocks as an sc
report (report.blocks), so Markdown, mail and HTML cannot drift apart
(``markdown.document`` hands lkmm files here). Each variant's section
holds its verdict, its bound, the counterexample execution drawn as
``racecheck FILE`` draws it (report.lkmm_scenario) with its replay
command, the other violations found with the execution that shows each,
and the audit of its ordering primitives; the model is listed at the end
(report.model). Nothing here varies from run to run (no timings)."""

from __future__ import annotations

from racecheck.explore.executions import DEFAULT_MAX_CANDIDATES
from racecheck.explore.lkmm_check import LkmmChecked
from racecheck.explore.result import Verdict
from racecheck.scenario.values import format_value

from .blocks import Code, Heading, Para, Pre, Table
from .jsonreport import SCHEMA, SCHEMA_VERSION
from .lkmm_audit import audit_table_rows, render_counterexamples, scenario_audit_json
from .lkmm_scenario import execution_lines, found_lines, replay_command
from .markdown import _description, _params, _prose_section, _sentence, _sources, _variant_table, stamp_blocks
from .model import model_blocks, model_json
from .stamp import stamp_of
from .text import outcome_word


def document(checked: list, path: str) -> list:
    scenario = checked[0].scenario
    blocks = [Heading(1, (scenario.title,))] + stamp_blocks(path)
    blocks += _sources(scenario.source) + _description(scenario.description)
    blocks += _prose_section("What the model leaves out", scenario.leaves_out)
    blocks += [Para(("Checked under ", Code("memory: lkmm"), ": every execution the Linux-kernel memory "
                     "model allows (docs/lkmm.md); the states column counts consistent executions.",))]
    blocks += [Heading(2, ("Variants",)), _variant_table(checked)]
    for one in checked:
        blocks += variant_blocks(one, path)
    return blocks + model_blocks(scenario)


def variant_blocks(checked: LkmmChecked, path: str) -> list:
    result = checked.exploration
    name = checked.variant.name
    title = ("Variant ", Code(name)) if name else ("The scenario",)
    blocks = [Heading(2, title + (f": {_verdict(checked)}",), tag=result.verdict.value)]
    if checked.variant.description:
        blocks.append(Para(("This variant: ", " ".join(checked.variant.description.split()))))
    if checked.variant.source:
        blocks.append(Para(("Corresponds to: ", "; ".join(checked.variant.source), ".")))
    blocks += _params(checked.variant.params)
    n = checked.executions
    if result.verdict is Verdict.INCONCLUSIVE:
        blocks.append(Para(("Inconclusive: " + "; ".join(result.checked),)))
        return blocks
    blocks.append(Para((f"{n} consistent execution{'s' if n != 1 else ''} of {checked.candidates} "
                        f"candidate{'s' if checked.candidates != 1 else ''}. ",) + bound_parts(checked)))
    if result.verdict is Verdict.VIOLATION and checked.execution is not None:
        verb = "shows" if checked.violating == 1 else "show"
        blocks.append(Para((f"{checked.violating} of them {verb} it; the simplest (fewest stale reads) is "
                            f"execution {checked.number}:",)))
        blocks.append(Pre(tuple(execution_lines(checked, checked.execution) + [""] +
                                found_lines(checked, checked.found)), "diagram"))
        blocks.append(Para(("Replay (draws the execution again and says what it violates):",)))
        blocks.append(Pre((replay_command(path, name, checked.number),), "sh"))
        blocks += also_blocks(checked, path)
    return blocks + audit_blocks(checked)


def bound_parts(checked: LkmmChecked) -> tuple:
    """``Bound: --max-states N candidate executions ...`` as inline parts."""
    default = " (the default)" if checked.max_candidates == DEFAULT_MAX_CANDIDATES else ""
    return ("Bound: ", Code("--max-states"), f" {checked.max_candidates} candidate executions (and runs of "
            f"thread code){default}; the other bounds do not apply under memory: lkmm.")


def also_blocks(checked: LkmmChecked, path: str) -> list:
    """The other violations found, each with the simplest execution showing it."""
    if not checked.also:
        return []
    blocks = [Heading(3, ("Also found",))]
    for number, other in checked.also:
        blocks += [Para((_sentence(other.describe()), f", simplest in execution {number}:")),
                   Pre((replay_command(path, checked.variant.name, number),), "sh")]
    return blocks


def audit_blocks(checked: LkmmChecked) -> list:
    """The variant's ordering primitives, each weakened alone (``racecheck
    audit``), and the counterexample without each needed one."""
    audit = checked.audit
    if audit is None:
        return []
    blocks = [Heading(3, ("Ordering primitives",))]
    if not audit.weakened:
        return blocks + [Para(("No ordering primitive to weaken.",))]
    already = ("" if checked.exploration.violation is None else
               " The variant already violates a property, so a primitive shows as needed only where "
               "weakening it adds a violation.")
    blocks.append(Para(("Each primitive weakened alone (", Code("racecheck audit"), "), and the variant "
                        "checked again:" + already,)))
    headers, rows = audit_table_rows(audit)
    blocks.append(Table(headers, rows))
    for text in render_counterexamples(audit):
        blocks.append(Pre(tuple(text.splitlines()), "diagram"))
    return blocks


def _verdict(checked: LkmmChecked) -> str:
    result = checked.exploration
    verdict = f"violation of {result.violation.describe()}" if result.violation else result.verdict.value
    return f"{verdict} ({outcome_word(checked.outcome)})"


def to_json(checked: list, path: str) -> dict:
    scenario = checked[0].scenario
    stamp = stamp_of(path)
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "file": path, "memory": "lkmm",
            "scenario_sha256": stamp.sha256, "racecheck_version": stamp.version,
            "title": scenario.title, "source": list(scenario.source),
            "description": scenario.description, "leaves_out": scenario.leaves_out,
            "variants": [_variant_json(one, path) for one in checked], "model": model_json(scenario)}


def _variant_json(checked: LkmmChecked, path: str) -> dict:
    result = checked.exploration
    violation = None
    if result.violation is not None and checked.execution is not None:
        violation = {"kind": result.violation.kind, "name": result.violation.name,
                     "message": result.violation.message, "execution": checked.number,
                     "diagram": execution_lines(checked, checked.execution),
                     "found": found_lines(checked, checked.found),
                     "replay": replay_command(path, checked.variant.name, checked.number),
                     "also_reachable": [_other_json(checked, number, other, path)
                                        for number, other in checked.also]}
    return {"name": checked.variant.name, "description": checked.variant.description,
            "source": list(checked.variant.source),
            "params": {name: format_value(value) for name, value in checked.variant.params},
            "expected": checked.variant.expect.describe(), "verdict": result.verdict.value,
            "outcome": checked.outcome.name.lower(), "outcome_text": outcome_word(checked.outcome),
            "exit_reason": result.exit_reason.value, "exit_reason_text": result.exit_reason.describe(),
            "bounds": {"max_candidates": checked.max_candidates}, "checked": list(result.checked),
            "statistics": {"states": checked.executions, "executions": checked.executions,
                           "candidates": checked.candidates, "violating_executions": checked.violating},
            "violation": violation,
            "audit": scenario_audit_json(checked.audit, path)["primitives"] if checked.audit else None}


def _other_json(checked: LkmmChecked, number: int, other, path: str) -> dict:
    return {"kind": other.kind, "name": other.name, "message": other.message, "description": other.describe(),
            "execution": number, "replay": replay_command(path, checked.variant.name, number)}
