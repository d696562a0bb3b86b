"""The report as JSON: the same facts as the Markdown report, for programs.

``to_json(checked, path)`` returns a dict of plain JSON types; docs/reports.md
documents every field. The schema is versioned: ``SCHEMA_VERSION`` changes
only when a field is removed, renamed or changes meaning; new fields may be
added without a change of version, so readers must ignore fields they do not
know. Scenario values (writes, the values a property read, parameters) are
strings in the code language's notation (``format_value``: ``'swap'``,
``False``, ``{locked: True}``), never JSON values, so that a string ``'1'``
and an integer ``1`` stay apart. Nothing here varies from run to run: no
timings, no dates, no absolute paths beyond the ``path`` given.
"""

from __future__ import annotations

from racecheck.explore.check import CheckedVariant
from racecheck.explore.counterexample import switches
from racecheck.explore.trace import Row, Trace, TraceStep
from racecheck.report.diagram import render_rows
from racecheck.report.markdown import thread_names
from racecheck.report.model import bounds_json, model_json
from racecheck.report.stamp import stamp_of
from racecheck.report.text import outcome_word, replay_command, violation_lines
from racecheck.scenario.values import format_value

SCHEMA_VERSION = 1
SCHEMA = "racecheck-report"


def to_json(checked: list, path: str) -> dict:
    """The JSON report for one scenario file (its checked variants)."""
    if not checked:
        raise ValueError("a report needs at least one checked variant")
    scenario = checked[0].scenario
    if scenario.memory == "lkmm":
        from racecheck.report.lkmm_files import to_json as lkmm_json
        return lkmm_json(checked, path)
    stamp = stamp_of(path)
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "file": path, "memory": "sc",
            "scenario_sha256": stamp.sha256, "racecheck_version": stamp.version,
            "title": scenario.title, "source": list(scenario.source),
            "description": scenario.description, "leaves_out": scenario.leaves_out,
            "variants": [variant_json(one, path) for one in checked],
            "model": model_json(scenario)}


def variant_json(checked: CheckedVariant, path: str) -> dict:
    result = checked.exploration
    return {"name": checked.variant.name, "description": checked.variant.description,
            "source": list(checked.variant.source),
            "params": {name: format_value(value) for name, value in checked.variant.params},
            "expected": checked.variant.expect.describe(), "verdict": result.verdict.value,
            "outcome": checked.outcome.name.lower(), "outcome_text": outcome_word(checked.outcome),
            "exit_reason": result.exit_reason.value, "exit_reason_text": result.exit_reason.describe(),
            "reduced": result.reduced, "bounds": bounds_json(result), "checked": list(result.checked),
            "statistics": _statistics(checked), "collision_bound": result.collision_bound,
            "violation": violation_json(checked, path) if checked.trace is not None else None,
            "coverage": _coverage(checked.coverage), "frequency": _frequency(checked.frequency),
            "not_computed": dict(checked.not_computed)}


def _statistics(checked: CheckedVariant) -> dict:
    stats = checked.exploration.stats
    return {"states": stats.states, "transitions": stats.transitions, "depth": stats.depth,
            "violating_states": stats.violating_states}


def _coverage(coverage) -> list | None:
    if coverage is None:
        return None
    return [{"thread": thread, "step": text, "where": where} for thread, text, where in coverage]


def _frequency(frequency) -> dict | None:
    if frequency is None:
        return None
    keys = ("violating_states", "states", "violating_orderings", "orderings")
    return {key: getattr(frequency, key, None) for key in keys}


# -- the violation ----------------------------------------------------------------


def violation_json(checked: CheckedVariant, path: str) -> dict:
    violation = checked.exploration.violation
    names = thread_names(checked)
    schedule = violation.schedule.format(names)
    cycle_steps = None
    if checked.cycle_trace is not None:
        cycle_steps = [step_json(checked, s) for s in checked.cycle_trace.steps[len(checked.trace.steps):]]
    return {"kind": violation.kind, "name": violation.name, "message": violation.message,
            "description": violation.describe(), "property": _expression(checked),
            "reads": [{"expr": text, "value": format_value(value)} for text, value in checked.reads],
            "explanation": violation_lines(checked), "schedule": schedule,
            "replay": replay_command(path, checked.variant.name, schedule),
            "length": len(violation.schedule), "context_switches": switches(violation.schedule),
            "minimal": checked.minimal,
            "cycle": violation.cycle.format(names) if violation.cycle is not None else None,
            "diagram": render_rows(checked.program, checked.trace, checked.cycle_trace),
            "initial": _initial(checked, checked.trace),
            "steps": [step_json(checked, s) for s in checked.trace.steps],
            "cycle_steps": cycle_steps,
            "also_reachable": [_other(checked, other, path) for other in checked.exploration.others]}


def _expression(checked: CheckedVariant) -> str | None:
    violation = checked.exploration.violation
    if violation.kind not in ("invariant", "final"):
        return None
    prop, _ = checked.program.property(violation.name)
    return prop.code.one_line()


def _other(checked: CheckedVariant, other, path: str) -> dict:
    schedule = other.schedule.format(thread_names(checked))
    return {"kind": other.kind, "name": other.name, "message": other.message,
            "description": other.describe(), "schedule": schedule,
            "replay": replay_command(path, checked.variant.name, schedule)}


def _initial(checked: CheckedVariant, trace: Trace) -> dict:
    error = None if trace.init_error is None else str(trace.init_error)
    return {"rows": [row_json(checked, row) for row in trace.init_rows], "error": error}


def step_json(checked: CheckedVariant, step: TraceStep) -> dict:
    """One transition: its thread, its step's text, the rows it ran."""
    thread = checked.program.threads[step.thread]
    text = thread.instrs[step.rows[0].pc].text if step.rows else ""
    return {"thread": thread.name, "step": text, "choices": list(step.picks),
            "rows": [row_json(checked, row) for row in step.rows],
            "error": None if step.error is None else str(step.error)}


def row_json(checked: CheckedVariant, row: Row) -> dict:
    """One executed instruction, as a diagram row shows it."""
    thread = checked.program.threads[row.thread]
    instr = thread.instrs[row.pc]
    return {"thread": thread.name, "pc": row.pc, "text": instr.text,
            "calls": [text for _, text in instr.calls],
            "writes": [_write(w) for w in row.writes], "branch": row.cond, "returned": row.returned}


def _write(write) -> dict:
    return {"target": write.target, "old": format_value(write.old), "new": format_value(write.new),
            "kind": "local" if write.kind == "L" else "shared"}
