"""The ``--schedule`` table: the state after every step of a schedule.

One row per step; one column per variable (record fields and list elements
flattened: ``folio.dirty``, ``pages[1]``) that changes somewhere along the
schedule. Variables that never change are listed once, above the table.
"""

from __future__ import annotations


from racecheck.explore.trace import Trace
from racecheck.model.program import Program
from racecheck.scenario.values import Record, format_value


def flatten_state(program: Program, state: tuple) -> dict:
    """``{"folio.dirty": False, "writeback.entry": 1, ...}`` for one state."""
    flat: dict = {}
    for i, name in enumerate(program.shared_names):
        _flatten(name, state[i], flat)
    for thread in program.threads:
        for name, slot in thread.local_slots:
            _flatten(f"{thread.name}.{name}", state[slot], flat)
    return flat


def _flatten(prefix: str, value, into: dict) -> None:
    if type(value) is Record and len(value[0].fields) > 0:
        for field, sub in value.items():
            _flatten(f"{prefix}.{field}", sub, into)
    elif isinstance(value, tuple) and type(value) is not Record and 0 < len(value) <= 16:
        for i, sub in enumerate(value):
            _flatten(f"{prefix}[{i}]", sub, into)
    else:
        into[prefix] = value


_ABSENT = object()


def _cell(flat: dict, key: str) -> str:
    return format_value(flat[key]) if key in flat else "-"


def render_replay(program: Program, trace: Trace) -> list:
    from tabulate import tabulate          # imported when needed: it is slow to import
    states = [trace.initial] + [s.after for s in trace.steps if s.after is not None]
    flats = [flatten_state(program, s) for s in states]
    keys = list(dict.fromkeys(k for flat in flats for k in flat))   # a value may change shape
    changing = [k for k in keys if any(f.get(k, _ABSENT) != flats[0].get(k, _ABSENT) for f in flats[1:])]
    constant = [k for k in keys if k not in changing]
    lines = []
    if constant:
        lines.append("unchanged: " + ", ".join(f"{k} = {format_value(flats[0][k])}" for k in constant))
        lines.append("")
    rows = [["0", "", "(initial state)"] + [_cell(flats[0], k) for k in changing]]
    n = 0
    for step in trace.steps:
        n += 1
        thread = program.threads[step.thread]
        # the step's own text; local-only steps that ran with it are in the diagram
        texts = thread.instrs[step.rows[0].pc].text if step.rows else ""
        if step.after is None:
            rows.append([str(n), thread.name, texts + f"  !! {step.error}"] + [""] * len(changing))
            continue
        flat = flats[n]
        rows.append([str(n), thread.name, texts] + [_cell(flat, k) for k in changing])
    lines.extend(tabulate(rows, headers=["#", "thread", "step"] + changing, tablefmt="simple",
                          disable_numparse=True).splitlines())
    return lines
