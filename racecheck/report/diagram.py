"""Race diagrams in the style of kernel commit messages.

One column per thread instance, headed by its name, its title and a line of
dashes; one row per executed step, in global order, in its thread's column.
Steps inside a call group are indented two spaces under the call::

    reclaim                              writeback
    shrink_folio_list()                  zswap_writeback_entry()
    -----------------------------------  ------------------------------
                                         entry = zswap_entry_find()  <- entry=1
    folio_trylock(folio)  <- folio.locked: False -> True

Each row may end with a note of what it wrote (``<- dirty=False`` for a
local, ``<- zswap: 1 -> 0`` for shared state) or which way a branch went.
Columns are as wide as their step texts; a note may run on to the right,
over the (empty) cells of later columns, so that diagrams stay narrow.
Only ASCII and spaces, no tabs: diagrams are pasted into mail.
"""

from __future__ import annotations

from racecheck.explore.trace import Row, Trace
from racecheck.model.program import BRANCH, Program
from racecheck.scenario.values import AssertFailed, format_value

GAP = 4
MAX_NOTE = 60
CYCLE_MARK = "-- from here on, these steps can repeat forever --"


def render_rows(program: Program, trace: Trace, cycle: Trace | None = None) -> list:
    """The diagram's lines (headers and rows), without the verdict lines."""
    return _layout(program, [cell[1:] for cell in trace_cells(program, trace, cycle)])


def trace_cells(program: Program, trace: Trace, cycle: Trace | None = None) -> list:
    """``(step, column, text, note)`` for every diagram row, in order.

    ``step`` is 0 for rows run while building the initial state, else the
    1-based number of the transition in the schedule (a livelock's cycle
    goes on counting); the marker line before a cycle has step and column
    None. ``text`` is indented for call groups; ``note`` is ``"  <- ..."``
    (what the row wrote), ``": message"`` for a failure, or empty.
    """
    cells = []
    paths = [()] * len(program.threads)
    for row in trace.init_rows:
        cells.extend((0,) + c for c in _cells(program, row, paths))
    if trace.init_error is not None:
        cells.append((0,) + _failure_cell(trace.init_thread, trace.init_error, paths))
    for n, step in enumerate(trace.steps, start=1):
        cells.extend(_step_cells(program, n, step, paths))
    if cycle is not None:
        cells.append((None, None, CYCLE_MARK, ""))
        for n, step in enumerate(cycle.steps[len(trace.steps):], start=len(trace.steps) + 1):
            cells.extend(_step_cells(program, n, step, paths))
    return cells


def _step_cells(program: Program, n: int, step, paths: list) -> list:
    cells = []
    for row in step.rows:
        cells.extend((n,) + c for c in _cells(program, row, paths))
    if step.error is not None:
        cells.append((n,) + _failure_cell(step.thread, step.error, paths))
    return cells


def _failure_cell(thread: int, error, paths: list) -> tuple:
    kind = "assert fails" if isinstance(error, AssertFailed) else "error"
    return (thread, _indent(paths[thread]) + f"!! {kind}", f": {_clip(str(error))}")


def _cells(program: Program, row: Row, paths: list) -> list:
    thread = program.threads[row.thread]
    instr = thread.instrs[row.pc]
    result = []
    path = instr.calls
    old = paths[row.thread]
    common = 0
    while common < min(len(old), len(path)) and old[common] == path[common]:
        common += 1
    for depth in range(common, len(path)):
        result.append((row.thread, "  " * depth + path[depth][1], ""))
    paths[row.thread] = path
    text = _indent(path) + instr.text
    note = _note(row, instr.kind == BRANCH)
    result.append((row.thread, text, f"  <- {note}" if note else ""))
    return result


def _indent(path: tuple) -> str:
    return "  " * len(path)


def _note(row: Row, is_branch: bool) -> str:
    parts = []
    if is_branch and row.cond is not None:
        parts.append(str(row.cond))
    for w in row.writes:
        if w.kind == "L" or w.old == w.new:
            parts.append(f"{w.target}={_clip(format_value(w.new))}")
        else:
            parts.append(f"{w.target}: {_clip(format_value(w.old))} -> {_clip(format_value(w.new))}")
    if row.returned:
        parts.append("return")
    return ", ".join(parts)


def _clip(text: str) -> str:
    """One line of ASCII, at most MAX_NOTE long: a line break (an assert
    message may hold one) is shown as ``\\n``, so rows stay rows."""
    text = text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= MAX_NOTE else text[:MAX_NOTE - 3] + "..."


def _layout(program: Program, cells: list) -> list:
    heads = [(t.name, t.title) for t in program.threads]
    widths = [max(len(name), len(title)) for name, title in heads]
    for column, text, _ in cells:
        if column is not None:
            widths[column] = max(widths[column], len(text))
    starts = []
    x = 0
    for w in widths:
        starts.append(x)
        x += w + GAP
    lines = [_line(starts, [(i, h[0]) for i, h in enumerate(heads)]),
             _line(starts, [(i, h[1]) for i, h in enumerate(heads)]),
             _line(starts, [(i, "-" * w) for i, w in enumerate(widths)])]
    if not any(title for _, title in heads):
        del lines[1]
    for column, text, note in cells:
        lines.append(text if column is None else " " * starts[column] + text + note)
    return [_ascii(line.rstrip()) for line in lines]


def _line(starts: list, items: list) -> str:
    out = ""
    for column, text in items:
        out = out.ljust(starts[column]) + text
    return out


def _ascii(text: str) -> str:
    return text.replace("\t", " ").encode("ascii", "replace").decode("ascii")
