"""A sequence chart of a counterexample, as a self-contained SVG.

One lane per thread instance (its name and title on top), time running
down. Each transition of the schedule is a box in its thread's lane,
numbered on the time axis on the left, listing the rows it ran: the step's
text, steps inside a call group indented under the call, and under each row
what it wrote (``<- zswap: 1 -> 0``). An arrow marks every context switch.
The violation closes the chart in a red box across all lanes::

     #   reclaim            writeback
     1                      [entry = ...     ]
     2   [folio_trylock  ]<-'
     ...
         [ invariant page_not_lost is violated: ... where zswap = 0 ]

No scripts, no external fonts or stylesheets: presentation attributes only
(a ``<style>`` inside inline SVG would apply to the whole HTML page). Text
widths are estimated from a monospace advance of 0.6 em, so a font much
wider than that can make long rows overflow their box. Very long rows are
wrapped; the text diagram next to the chart is the exact form.
"""

from __future__ import annotations

import re
import textwrap
import zlib
from dataclasses import dataclass
from html import escape

from racecheck.explore.check import CheckedVariant
from racecheck.report.diagram import trace_cells
from racecheck.report.text import violation_lines

FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace"
SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
SIZE = 12                      # px, the rows' font
CHAR = SIZE * 0.6 + 0.2        # estimated advance of one monospace character
LINE = 16                      # px per line of a box
PAD = 8                        # px inside a box
GAP = 16                       # px between boxes
AXIS = 44                      # px for the time axis on the left
LANE_GAP = 28                  # px between lanes
MAX_CHARS = 46                 # a lane is at most this many characters wide
MIN_CHARS = 18
PALETTE = (("#e8f0fe", "#1a56c4"), ("#e6f4ea", "#1e7b3a"), ("#fef3e0", "#b45309"),
           ("#f3e8fd", "#7b2cbf"), ("#fde7f1", "#b3195f"), ("#e0f4f8", "#0e6e85"))
RED, RED_FILL, GREY = "#c62828", "#fdecea", "#6b7280"


@dataclass(frozen=True)
class Line:
    indent: int                # characters from the box's left edge
    text: str
    style: str                 # "row", "note", "fail", "context" or "mark"
    depth: int = 0             # call-group depth of the row it belongs to
    note: str = ""             # a short note drawn after the text, on the same line


@dataclass(frozen=True)
class Group:
    """The rows one thread ran in one transition (step 0: the initial state)."""

    step: int | None
    column: int | None
    lines: tuple


def sequence_chart(checked: CheckedVariant) -> str:
    """The SVG chart of ``checked``'s counterexample (ValueError if it has none)."""
    if checked.trace is None:
        raise ValueError("a sequence chart needs a counterexample; this variant has none")
    groups = _groups(trace_cells(checked.program, checked.trace, checked.cycle_trace),
                     len(checked.program.threads))
    heads = [(t.name, t.title) for t in checked.program.threads]
    lanes = _lanes(heads, groups)
    return _Chart(checked, heads, lanes, groups).render()


# -- from diagram cells to boxes --------------------------------------------------


def _groups(cells: list, threads: int) -> list:
    """Consecutive cells of one thread in one transition make a box. A box
    that starts inside a call group repeats the enclosing calls, greyed."""
    groups: list = []
    calls: list = [[] for _ in range(threads)]       # per thread: the call texts open at each depth
    for step, column, text, note in cells:
        if column is None:
            groups.append(Group(step, None, (Line(0, text.strip("- "), "mark"),)))
            continue
        depth = (len(text) - len(text.lstrip())) // 2
        lines = _lines(text, note, depth)
        if groups and (groups[-1].step, groups[-1].column) == (step, column):
            groups[-1] = Group(step, column, groups[-1].lines + lines)
        else:
            context = tuple(Line(2 * d, _clip(call, MAX_CHARS - 2 * d), "context", d)
                            for d, call in enumerate(calls[column][:depth]))
            groups.append(Group(step, column, context + lines))
        calls[column][depth:] = [text.strip()]
    return groups


def _lines(text: str, note: str, depth: int) -> tuple:
    indent = 2 * depth
    body = text.strip()
    if note.startswith(": "):                       # a failing step: "!! assert fails: message"
        return _wrapped(indent, body + note, "fail", depth)
    note = note.strip()[3:] if note else ""          # "  <- zswap: 1 -> 0" -> "zswap: 1 -> 0"
    if note and indent + len(body) + 5 + len(note) <= MAX_CHARS:
        return (Line(indent, body, "row", depth, "  <- " + note),)
    lines = _wrapped(indent, body, "row", depth)
    return lines + (_note_lines(indent + 2, note, depth) if note else ())


def _wrapped(indent: int, text: str, style: str, depth: int) -> tuple:
    width = max(MAX_CHARS - indent, 12)
    parts = textwrap.wrap(text, width, subsequent_indent="    ", break_on_hyphens=False) or [""]
    return tuple(Line(indent, part, style, depth) for part in parts)


def _note_lines(indent: int, note: str, depth: int) -> tuple:
    """A note broken between its writes (``a: 1 -> 2, b=3``) where it can be."""
    width = max(MAX_CHARS - indent - 3, 12)
    lines: list = []
    for item in note.split(", "):
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines += textwrap.wrap(item, width, subsequent_indent="  ", break_on_hyphens=False) or [""]
    return tuple(Line(indent, ("<- " if k == 0 else "   ") + text, "note", depth) for k, text in enumerate(lines))


def _lanes(heads: list, groups: list) -> list:
    """Each lane's width in characters."""
    chars = [min(MAX_CHARS, max(MIN_CHARS, len(name), len(title))) for name, title in heads]
    for group in groups:
        if group.column is not None:
            longest = max(line.indent + len(line.text) + len(line.note) for line in group.lines)
            chars[group.column] = max(chars[group.column], min(MAX_CHARS, longest))
    return chars


# -- drawing ----------------------------------------------------------------------


class _Chart:
    """Lays the chart out top to bottom, collecting SVG elements."""

    def __init__(self, checked: CheckedVariant, heads: list, lanes: list, groups: list):
        self.checked = checked
        self.heads = heads
        self.groups = groups
        name = checked.variant.name
        # ids must be unique within an HTML page that holds the charts of several variants
        self.ident = f"rc-{re.sub(r'[^A-Za-z0-9_-]', '-', name) or 'scenario'}-{zlib.crc32(name.encode()):08x}"
        self.xs, x = [], AXIS
        self.widths = [chars * CHAR + 2 * PAD for chars in lanes]
        for width in self.widths:
            self.xs.append(x)
            x += width + LANE_GAP
        self.width = x - LANE_GAP + 12
        self.out: list = []
        self.y = 0.0

    def render(self) -> str:
        self._title()
        top = self._headers()
        boxes = self._boxes()
        lifeline_end = self.y + GAP / 2
        self._violation()
        height = self.y + 12
        lifelines = [_line(x + w / 2, top, x + w / 2, lifeline_end, "#c4c9d2", dash="4 4")
                     for x, w in zip(self.xs, self.widths)]
        return "\n".join([self._open(height), *lifelines, *boxes, *self.out, "</g>", "</svg>"]) + "\n"

    def _open(self, height: float) -> str:
        violation = self.checked.exploration.violation
        name = self.checked.variant.name
        label = f"Sequence chart of the counterexample{f' of variant {name}' if name else ''}: {violation.describe()}"
        w, h = round(self.width), round(height)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
                f'role="img" aria-labelledby="{self.ident}-title">\n'
                f'<title id="{self.ident}-title">{escape(label)}</title>\n'
                f'<defs><marker id="{self.ident}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
                f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
                f'<path d="M 0 0 L 10 5 L 0 10 z" fill="#374151"/></marker></defs>\n'
                f'<rect width="{w}" height="{h}" fill="#ffffff"/>\n'
                f'<g font-family="{escape(FONT)}" font-size="{SIZE}" fill="#111827">')

    def _title(self) -> None:
        violation = self.checked.exploration.violation
        name = self.checked.variant.name
        text = (f"variant {name}: " if name else "") + f"{violation.describe()}"
        chars = max(int((self.width - AXIS) / 8.2), 20)      # 14px bold sans: about 8 px a character
        for k, part in enumerate(textwrap.wrap(text, chars)[:3]):
            self.out.append(_text(AXIS, 20 + 18 * k, part, size=14, weight="bold", family=SANS))
            self.y = 32 + 18 * k

    def _headers(self) -> float:
        height = 0.0
        for i, (name, title) in enumerate(self.heads):
            chars = int((self.widths[i] - 2 * PAD) / CHAR)
            titles = textwrap.wrap(title, chars) if title else []
            height = max(height, 2 * PAD + 16 + LINE * len(titles))
        for i, (name, title) in enumerate(self.heads):
            x, w = self.xs[i], self.widths[i]
            fill, stroke = PALETTE[i % len(PALETTE)]
            self.out.append(_rect(x, self.y, w, height, fill, stroke, width=1.5))
            self.out.append(_text(x + PAD, self.y + PAD + 12, name, size=13, weight="bold", fill=stroke))
            chars = int((w - 2 * PAD) / CHAR)
            for k, part in enumerate(textwrap.wrap(title, chars) if title else []):
                self.out.append(_text(x + PAD, self.y + PAD + 16 + LINE * k + 12, part, fill="#374151"))
        self.out.append(_text(AXIS - 10, self.y + PAD + 12, "step", size=11, fill=GREY, anchor="end",
                              family=SANS))
        self.y += height
        return self.y

    def _boxes(self) -> list:
        """The transitions' boxes, the time axis, and the switch arrows."""
        boxes: list = []
        previous = None                 # (column, bottom) of the last box
        row_top = None
        for group in self.groups:
            if group.column is None:
                self._mark(group)
                previous = None
                continue
            if group.step == 0 and row_top is not None:
                top = row_top           # initial-state rows of several threads: side by side
            else:
                top = self.y + GAP
                row_top = top if group.step == 0 else None
                self._axis(group.step, top)
            bottom = self._box(boxes, group, top)
            if previous is not None and previous[0] != group.column:
                self.out.append(self._arrow(previous[0], previous[1], group.column, top))
            previous = (group.column, bottom) if group.step != 0 else None
            self.y = max(self.y, bottom)
        return boxes

    def _box(self, boxes: list, group: Group, top: float) -> float:
        x, w = self.xs[group.column], self.widths[group.column]
        fill, stroke = PALETTE[group.column % len(PALETTE)]
        failed = any(line.style == "fail" for line in group.lines)
        height = 2 * PAD + LINE * len(group.lines) - 2
        boxes.append(_rect(x, top, w, height, RED_FILL if failed else fill, RED if failed else stroke,
                           width=2 if failed else 1))
        for k, line in enumerate(group.lines):
            y = top + PAD + LINE * k
            for d in range(line.depth):             # a bar for each enclosing call group
                bar = x + PAD + (2 * d + 0.8) * CHAR
                boxes.append(_line(bar, y, bar, y + LINE, stroke, width=1, opacity=0.35))
            boxes.append(self._row(x + PAD + line.indent * CHAR, y + 11, line))
        return top + height

    def _row(self, x: float, y: float, line: Line) -> str:
        if line.style == "note":
            return _text(x, y, line.text, size=SIZE - 1, fill=GREY)
        if line.style == "context":
            return _text(x, y, line.text, fill=GREY, style="italic")
        if line.style == "fail":
            return _text(x, y, line.text, weight="bold", fill=RED)
        if line.note:
            note = f'<tspan font-size="{SIZE - 1}" fill="{GREY}">{escape(line.note, quote=False)}</tspan>'
            return _text(x, y, line.text, tail=note)
        return _text(x, y, line.text)

    def _axis(self, step: int, top: float) -> None:
        label = "init" if step == 0 else str(step)
        self.out.append(_text(AXIS - 10, top + PAD + 11, label, size=11, fill=GREY, anchor="end", family=SANS))
        self.out.append(_line(AXIS - 6, top + PAD + 7, self.xs[0] - 2, top + PAD + 7, "#e5e7eb"))

    def _arrow(self, column: int, bottom: float, to: int, top: float) -> str:
        x1 = self.xs[column] + self.widths[column] / 2
        x2 = self.xs[to] + self.widths[to] / 2
        mid = bottom + (top - bottom) / 2
        return (f'<path d="M {x1:.1f} {bottom:.1f} V {mid:.1f} H {x2:.1f} V {top - 1:.1f}" fill="none" '
                f'stroke="#374151" stroke-width="1.2" marker-end="url(#{self.ident}-arrow)"/>')

    def _mark(self, group: Group) -> None:
        top = self.y + GAP + 12
        left, right = self.xs[0], self.xs[-1] + self.widths[-1]
        self.out.append(_text(left, top - 4, group.lines[0].text, size=12, weight="bold", fill=RED, family=SANS))
        self.out.append(_line(left, top + 2, right, top + 2, RED, dash="6 4", width=1.5))
        self.y = top + 2

    def _violation(self) -> None:
        left, right = self.xs[0], self.xs[-1] + self.widths[-1]
        chars = max(int((right - left - 2 * PAD) / CHAR), 20)
        lines = []
        for k, text in enumerate(violation_lines(self.checked)):
            indent = len(text) - len(text.lstrip())
            for part in textwrap.wrap(text.strip(), chars - indent, subsequent_indent="  ") or [""]:
                lines.append((indent, part, k == 0))
        top = self.y + GAP * 1.5
        height = 2 * PAD + LINE * len(lines) - 2
        self.out.append(_rect(left, top, right - left, height, RED_FILL, RED, width=2))
        for k, (indent, text, first) in enumerate(lines):
            self.out.append(_text(left + PAD + indent * CHAR, top + PAD + LINE * k + 11, text,
                                  weight="bold" if first else "normal", fill=RED if first else "#111827"))
        self.y = top + height


# -- SVG elements -----------------------------------------------------------------


def _text(x: float, y: float, text: str, *, size: int = SIZE, weight: str = "normal", fill: str = "",
          anchor: str = "", family: str = "", style: str = "", tail: str = "") -> str:
    attrs = f'x="{x:.1f}" y="{y:.1f}"'
    if size != SIZE:
        attrs += f' font-size="{size}"'
    if weight != "normal":
        attrs += f' font-weight="{weight}"'
    if fill:
        attrs += f' fill="{fill}"'
    if anchor:
        attrs += f' text-anchor="{anchor}"'
    if family:
        attrs += f' font-family="{escape(family)}"'
    if style:
        attrs += f' font-style="{style}"'
    return f'<text {attrs} xml:space="preserve">{escape(text, quote=False)}{tail}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, stroke: str, *, width: float = 1) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="4" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width}"/>')


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, *, dash: str = "", width: float = 1,
          opacity: float = 1) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    extra += f' stroke-opacity="{opacity}"' if opacity != 1 else ""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="{width}"{extra}/>')


def _clip(text: str, chars: float) -> str:
    chars = int(chars)
    return text if len(text) <= chars else text[:max(chars - 3, 1)] + "..."
