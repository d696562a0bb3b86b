"""A counterexample as a Mermaid ``sequenceDiagram``, for Markdown reports.

Code hosting sites draw a fenced ``mermaid`` block as a diagram, so the
Markdown report carries one under each race diagram. One participant per
thread instance, and one for the shared state, placed in the middle so that
every thread's arrows into it stay short::

    sequenceDiagram
        participant T0 as reclaim<br/>shrink_folio_list()
        participant S as shared state
        participant T1 as writeback<br/>zswap_writeback_entry()
        Note over T1: entry = zswap_entry_find()<br/>entry = 1
        T1->>S: __read_swap_cache_async()<br/>folio.refs: 3 -> 4
        Note over T0,T1: invariant page_not_lost is violated: ...

A row that writes shared state is an arrow from its thread to the shared
state, labelled with the step and every write (also a write of the value
that was already there); any other row is a note over its thread. Rows run
while building the initial state are in a grey ``rect`` block; a livelock's
cycle is a ``loop`` block; labels are broken into lines of about ``LINE``
characters; the violation closes the diagram in a note
across all participants. Branches that test only params (or ``tid``) are
the model's bookkeeping and are left out; the text diagram has every row.

Mermaid reads ``#`` and ``;`` as the end of a text, and ``%%{`` as a
directive; HTML in a label is sanitised by the host. So every piece of text
is written with Mermaid's entity codes for ``# ; < > " & % ``` `` and a
backtick (``#35;``, ``#lt;`` ...), which the renderer turns back into the
characters; the words ``style`` and ``classDef``, which Mermaid's
preprocessing treats specially, have their first letter encoded too.
"""

from __future__ import annotations

import re
import textwrap

from racecheck.explore.check import CheckedVariant
from racecheck.model.program import BRANCH
from racecheck.report.text import violation_lines
from racecheck.scenario.values import AssertFailed, format_value

MAX_TEXT = 60                 # characters of one value in a label
LINE = 48                     # characters of one line of a label
WIDE = 72                     # ... of the violation's note, across all participants
INDENT = "    "
_ENTITIES = str.maketrans({"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", '"': "#quot;",
                           "&": "#amp;", "%": "#37;", "`": "#96;", "\\": "#92;",
                           "\n": " ", "\r": " ", "\t": " "})
_SPECIAL = re.compile(r"s(?=tyle)|c(?=lassDef)|^n(?=owrap:)|^w(?=rap:)", re.IGNORECASE)


def escape(text: str) -> str:
    """Text that Mermaid shows exactly as given, inside a message, note or alias."""
    text = text.translate(_ENTITIES)
    return _SPECIAL.sub(lambda m: f"#{ord(m.group(0))};", text)


def label(text: str, width: int = LINE) -> str:
    """Escaped text, broken into lines of about ``width`` characters at spaces
    (Mermaid does not wrap labels itself)."""
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    return "<br/>".join(escape(line) for line in lines)


def sequence_diagram(checked: CheckedVariant) -> list:
    """The lines of the ``sequenceDiagram`` of one counterexample."""
    if checked.trace is None:
        raise ValueError("a sequence diagram needs a counterexample")
    drawing = _Drawing(checked)
    return drawing.lines()


class _Drawing:
    def __init__(self, checked: CheckedVariant):
        self.checked = checked
        self.program = checked.program
        threads = self.program.threads
        self.ids = [f"T{n}" for n in range(len(threads))]
        half = (len(threads) + 1) // 2
        self.order = self.ids[:half] + ["S"] + self.ids[half:]
        self.paths = [()] * len(threads)
        self.constant = set(self.program.params) | {"tid"}

    def lines(self) -> list:
        trace = self.checked.trace
        out = ["sequenceDiagram"] + self._participants()
        initial = self._rows(trace.init_rows)
        if trace.init_error is not None:
            initial.append(self._failure(trace.init_thread, trace.init_error))
        if initial:
            out += [INDENT + "rect rgb(240, 240, 240)",
                    self._note_across("initially, before the first scheduled step:")] + initial + [INDENT + "end"]
        for step in trace.steps:
            out += self._step(step)
        cycle = self.checked.cycle_trace
        if cycle is not None:
            out.append(INDENT + "loop " + escape("from here on, these steps can repeat forever"))
            for step in cycle.steps[len(trace.steps):]:
                out += [INDENT + line for line in self._step(step)]
            out.append(INDENT + "end")
        return out + [self._note_across("<br/>".join(label(line.strip(), WIDE) for line in violation_lines(self.checked)),
                                        raw=True)]

    def _participants(self) -> list:
        lines = []
        for pid in self.order:
            if pid == "S":
                lines.append(f"{INDENT}participant S as shared state")
                continue
            thread = self.program.threads[int(pid[1:])]
            text = escape(thread.name) + (f"<br/>{label(thread.title)}" if thread.title else "")
            lines.append(f"{INDENT}participant {pid} as {text}")
        return lines

    def _note_across(self, text: str, raw: bool = False) -> str:
        return f"{INDENT}Note over {self.order[0]},{self.order[-1]}: {text if raw else escape(text)}"

    def _step(self, step) -> list:
        lines = self._rows(step.rows)
        if step.error is not None:
            lines.append(self._failure(step.thread, step.error))
        return lines

    def _rows(self, rows) -> list:
        lines = []
        for row in rows:
            lines += self._row(row)
        return lines

    def _row(self, row) -> list:
        instr = self.program.threads[row.thread].instrs[row.pc]
        pid = self.ids[row.thread]
        lines = self._calls(row.thread, instr.calls)
        if instr.kind == BRANCH and set(getattr(instr.node.cond, "names", ())) <= self.constant:
            return lines                          # the model's own bookkeeping
        way = f" -> {row.cond}" if instr.kind == BRANCH and row.cond is not None else ""
        text = label(instr.text + way) + "".join(f"<br/>{label(n)}" for n in _notes(row))
        if any(w.kind == "S" for w in row.writes):
            return lines + [f"{INDENT}{pid}->>S: {text}"]
        return lines + [f"{INDENT}Note over {pid}: {text}"]

    def _calls(self, thread: int, path: tuple) -> list:
        """A note for each call group the thread enters."""
        old = self.paths[thread]
        self.paths[thread] = path
        common = 0
        while common < min(len(old), len(path)) and old[common] == path[common]:
            common += 1
        return [f"{INDENT}Note over {self.ids[thread]}: " + label(f"call {text}") for _, text in path[common:]]

    def _failure(self, thread: int, error) -> str:
        kind = "assert fails" if isinstance(error, AssertFailed) else "run-time error"
        return f"{INDENT}Note over {self.ids[thread]}: " + label(f"{kind}: {_clip(str(error), 4 * MAX_TEXT)}")


def _notes(row) -> list:
    """What a row did: each write, a return."""
    notes = []
    for write in row.writes:
        new = _clip(format_value(write.new))
        notes.append(f"{write.target} = {new}" if write.kind == "L" else
                     f"{write.target}: {_clip(format_value(write.old))} -> {new}")
    if row.returned:
        notes.append("return")
    return notes


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
