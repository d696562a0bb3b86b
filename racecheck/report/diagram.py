"""Race diagrams in the style of kernel commit messages.

One column per thread instance, headed by its name, its title and a line of
dashes; one row per executed step, in global order, in its thread's column.
Steps inside a call group are indented two spaces under the call::

    reclaim                     writeback
    shrink_folio_list()         zswap_writeback_entry()
    -----------------------     -----------------------
                                entry = zswap_entry_find()  <- entry = 1
    folio_trylock(folio)  <- folio.locked: False -> True

A row's note says what it wrote: ``name = value`` for the thread's own
local, ``name: old -> new`` for shared state (always, also when the value
does not change: that row may be the lost update), or which way a branch
went. Strings that are plain words are shown without quotes. Rows run while
the initial state is built stand in an ``initially:`` block; after a
deadlock, each thread's next step is drawn as waiting, with what it waits for.

Width: by default every line fits in ``DEFAULT_WIDTH`` columns. Columns are
shrunk to fit and step text wraps within its column; a note that does not
fit after its row wraps under it (it may use the empty columns to its
right), or, where even that is too narrow, becomes a numbered footnote under
the diagram. Width 0 means no limit. A column narrower than ``MIN_COLUMN``
is never made, so very many threads in a very small width may still overflow.

Bookkeeping: by default, rows that only the model needs are not drawn (a
branch that tests only params, a local-only row that neither reads shared
state nor uses a local that came from it); ``verbose`` draws every row.
See docs/diagrams.md. Only ASCII and spaces, no tabs: diagrams go into mail.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass

from racecheck.explore.trace import Row, Trace
from racecheck.model.program import BRANCH, USER_ERRORS, Program
from racecheck.report.diagram_layout import Cell, layout
from racecheck.scenario.values import AssertFailed, Record, format_value

DEFAULT_WIDTH = 75
MAX_NOTE = 60
CYCLE_MARK = "-- from here on, these steps can repeat forever --"
INITIAL_MARK = "initially:"
SCHEDULED_MARK = "then:"
STUCK_MARK = "-- from here on, no thread can run --"


@dataclass(frozen=True)
class DiagramStyle:
    width: int = DEFAULT_WIDTH     # 0: no limit
    verbose: bool = False          # draw the model's bookkeeping rows too


_STYLE = contextvars.ContextVar("racecheck_diagram_style", default=DiagramStyle())


@contextlib.contextmanager
def diagram_style(width: int | None = None, verbose: bool | None = None):
    """Within the block, diagrams default to this width and verbosity (the
    command line sets them once for every report it writes)."""
    old = _STYLE.get()
    token = _STYLE.set(DiagramStyle(old.width if width is None else width,
                                    old.verbose if verbose is None else verbose))
    try:
        yield
    finally:
        _STYLE.reset(token)


def set_diagram_style(width: int, verbose: bool) -> None:
    """Set the defaults until the enclosing ``diagram_style`` block ends."""
    _STYLE.set(DiagramStyle(width, verbose))


def current_style() -> DiagramStyle:
    return _STYLE.get()


def render_rows(program: Program, trace: Trace, cycle: Trace | None = None, *,
                width: int | None = None, verbose: bool | None = None) -> list:
    """The diagram's lines (headers, rows, footnotes), without the verdict lines."""
    style = current_style()
    width = style.width if width is None else width
    verbose = style.verbose if verbose is None else verbose
    reader = _Reader(program, verbose)
    cells = _all_cells(reader, trace, cycle)
    init = [c for c in cells if c.step == 0]
    body = [c for c in cells if c.step != 0]
    if init:
        body = [Cell(0, None, INITIAL_MARK)] + init + [Cell(None, None, SCHEDULED_MARK)] + body
    body += _waiting_cells(reader, trace, cycle)
    heads = [(t.name, t.title) for t in program.threads]
    return layout(heads, body, width)


def trace_cells(program: Program, trace: Trace, cycle: Trace | None = None, *,
                verbose: bool | None = None) -> list:
    """``(step, column, text, note)`` for every diagram row, in order.

    ``step`` is 0 for rows run while building the initial state, else the
    1-based number of the transition in the schedule (a livelock's cycle
    goes on counting); the marker line before a cycle has step and column
    None. ``text`` is indented for call groups; ``note`` is ``"  <- ..."``
    (what the row wrote), ``": message"`` for a failure, or empty.
    """
    verbose = current_style().verbose if verbose is None else verbose
    result = []
    for cell in _all_cells(_Reader(program, verbose), trace, cycle):
        if cell.kind == "fail":               # "!! assert fails", ": message", as before
            result.append((cell.step, cell.column, cell.text.rstrip(":"), ": " + cell.note))
        else:
            result.append((cell.step, cell.column, cell.text, "  <- " + cell.note if cell.note else ""))
    return result


# -- which rows, with which notes ---------------------------------------------------

class _Reader:
    """Walks the rows in order: keeps the open call groups of each thread and
    which locals hold a value that came from shared state (or a choice)."""

    def __init__(self, program: Program, verbose: bool):
        self.program = program
        self.verbose = verbose
        self.paths = [()] * len(program.threads)
        self.derived = [set() for _ in program.threads]

    def cells(self, step: int, row: Row) -> list:
        instr = self.program.threads[row.thread].instrs[row.pc]
        if not self._shown(row, instr):
            return []
        result = self.open_calls(step, row.thread, instr.calls)
        note = _note(row, instr.kind == BRANCH)
        result.append(Cell(step, row.thread, _indent(instr.calls) + instr.text, note))
        return result

    def open_calls(self, step, thread: int, path: tuple) -> list:
        old = self.paths[thread]
        common = 0
        while common < min(len(old), len(path)) and old[common] == path[common]:
            common += 1
        self.paths[thread] = path
        return [Cell(step, thread, "  " * depth + path[depth][1], kind="call")
                for depth in range(common, len(path))]

    def failure(self, step: int, thread: int, error) -> Cell:
        kind = "assert fails" if isinstance(error, AssertFailed) else "error"
        return Cell(step, thread, _indent(self.paths[thread]) + f"!! {kind}:", _clip(str(error)), "fail")

    def _shown(self, row: Row, instr) -> bool:
        """Update which locals derive from shared state; say whether a
        reader needs the row (always, when verbose)."""
        code = instr.node.cond if instr.kind == BRANCH else instr.node.do
        names = set(code.names) if code is not None else set()
        derived = self.derived[row.thread]
        live = instr.shared or bool(names & derived) or (code is not None and code.has_choose)
        for target in _local_targets(row, code, self.program.threads[row.thread]):
            (derived.add if live else derived.discard)(target)
        if self.verbose or live or instr.has_await:
            return True
        if instr.kind == BRANCH:
            return False                          # decided by params and constants alone
        return code is None or row.returned       # a step of the story, or a return


def _local_targets(row: Row, code, thread) -> set:
    locals_ = {name for name, _ in thread.local_slots}
    targets = {re.split(r"[.\[]", w.target)[0] for w in row.writes if w.kind == "L"}
    if code is not None:
        targets |= set(code.assigned) & locals_
    return targets


def _all_cells(reader: _Reader, trace: Trace, cycle: Trace | None) -> list:
    cells = []
    for row in trace.init_rows:
        cells += reader.cells(0, row)
    if trace.init_error is not None:
        cells.append(reader.failure(0, trace.init_thread, trace.init_error))
    for n, step in enumerate(trace.steps, start=1):
        cells += _step_cells(reader, n, step)
    if cycle is not None:
        cells.append(Cell(None, None, CYCLE_MARK))
        for n, step in enumerate(cycle.steps[len(trace.steps):], start=len(trace.steps) + 1):
            cells += _step_cells(reader, n, step)
    return cells


def _step_cells(reader: _Reader, n: int, step) -> list:
    cells = []
    for row in step.rows:
        cells += reader.cells(n, row)
    if step.error is not None:
        cells.append(reader.failure(n, step.thread, step.error))
    return cells


def _waiting_cells(reader: _Reader, trace: Trace, cycle: Trace | None) -> list:
    """After a deadlock (no thread can run, not all finished): each
    unfinished thread's next step, drawn as waiting for its await."""
    program = reader.program
    if cycle is not None or trace.error is not None or not _stuck(program, trace.final_state):
        return []
    state = trace.final_state
    cells = [Cell(None, None, STUCK_MARK)]
    for thread in program.threads:
        pc = state[thread.pc_slot]
        if pc == thread.end:
            continue
        instr = thread.instrs[pc]
        cells += reader.open_calls(None, thread.index, instr.calls)
        cells.append(Cell(None, thread.index, _indent(instr.calls) + instr.text,
                          "waits for " + instr.node.await_.one_line(), "wait"))
    return cells


def _stuck(program: Program, state: tuple) -> bool:
    if program.finished(state):
        return False
    try:
        return not any(program.enabled(state, t) for t in range(len(program.threads)))
    except USER_ERRORS:                         # an await that fails: no waiting to draw
        return False


def _indent(path: tuple) -> str:
    return "  " * len(path)


def _note(row: Row, is_branch: bool) -> str:
    parts = []
    if is_branch and row.cond is not None:
        parts.append(str(row.cond))
    for w in row.writes:
        if w.kind == "L":
            parts.append(f"{w.target} = {_clip(plain_value(w.new))}")
        else:
            parts.append(f"{w.target}: {_shared_change(w.old, w.new)}")
    if row.returned:
        parts.append("return")
    return ", ".join(parts)


def _shared_change(old, new) -> str:
    """``1 -> 2``; ``1 -> 1`` (a write of the same value is still a write);
    a record written whole shows every field, the changed ones as
    ``waiters: True -> False``, so the change is not lost among the rest."""
    if type(old) is Record and type(new) is Record and old[0] == new[0] and old != new:
        inner = ", ".join(f"{k}: {plain_value(v)}" if v == w else f"{k}: {plain_value(v)} -> {plain_value(w)}"
                          for (k, v), (_, w) in zip(old.items(), new.items()))
        return _clip("{" + inner + "}", 4 * MAX_NOTE)
    return f"{_clip(plain_value(old))} -> {_clip(plain_value(new))}"


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def plain_value(value) -> str:
    """A value as a note shows it: a string that is a plain word (and not
    True, False or None) without quotes, anything else as in the code."""
    if isinstance(value, str) and _WORD.match(value) and value not in ("True", "False", "None"):
        return value
    return format_value(value)


def _clip(text: str, limit: int = MAX_NOTE) -> str:
    """One line of ASCII, at most MAX_NOTE long: a line break (an assert
    message may hold one) is shown as ``\\n``, so rows stay rows."""
    text = text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit - 3] + "..."
