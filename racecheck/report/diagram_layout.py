"""Laying a race diagram's cells out in columns, within a width.

A cell is one row of one thread (or a marker line across the diagram).
Each column is as wide as its longest step text, unless the columns do not
fit in the width: then the widest are narrowed to a fair share and their
text wraps within the column, continuation lines indented four spaces::

    shrinker                           swapoff
    --------------------------------   --------------------------------
    spin_lock(lru lock); tree =
        swap_zswap_tree(...)  <- entry.on_lru: True -> False

A note goes after its row's last line when it fits; else it wraps under the
row, indented two spaces (free to use the empty columns to its right); when
even that leaves fewer than ``MIN_NOTE`` columns (and the note is longer),
the row gets a marker ``[1]`` and the note becomes footnote 1 under the
diagram. Width 0: no wrapping at all, every note after its row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GAP = 4               # spaces between columns (2 when three or more must be narrowed)
MIN_COLUMN = 12
MIN_NOTE = 24
CONTINUE = "    "     # a wrapped step text goes on 4 spaces in (a call group's steps: 2)


@dataclass(frozen=True)
class Cell:
    step: int | None          # 0: building the initial state; None: a marker or a waiting step
    column: int | None        # None: a marker line across the diagram
    text: str                 # indented by two spaces per enclosing call group
    note: str = ""
    kind: str = "row"         # "row", "call", "fail" or "wait"


def layout(heads: list, cells: list, width: int) -> list:
    """The lines of the diagram: headers, rows, then any footnotes."""
    widths, gap = _fit(_natural(heads, cells), width)
    starts = [sum(widths[:i]) + gap * i for i in range(len(widths))]
    lines = _header(heads, starts, widths)
    footnotes: list = []
    for cell in cells:
        if cell.column is None:
            lines += wrap_text(cell.text, width) if width else [cell.text]
        else:
            lines += _cell_lines(cell, starts[cell.column], widths[cell.column], width, footnotes)
    if footnotes:
        lines.append("")
        for k, note in enumerate(footnotes, start=1):
            lead = f"[{k}] "
            lines += wrap_text(lead + note, width, " " * len(lead)) if width else [lead + note]
    return [_ascii(line.rstrip()) for line in lines]


def _natural(heads: list, cells: list) -> list:
    widths = [max(len(name), len(title)) for name, title in heads]
    for cell in cells:
        if cell.column is not None:
            widths[cell.column] = max(widths[cell.column], len(cell.text))
    return widths


def _fit(widths: list, width: int) -> tuple:
    """Column widths and gap so that the columns fit in ``width`` (0: any)."""
    n = len(widths)
    if not width or sum(widths) + GAP * (n - 1) <= width:
        return list(widths), GAP
    gap = GAP if n < 3 else 2            # three or more columns need every column they can get
    budget = width - gap * (n - 1)
    result, free = list(widths), set(range(n))
    while free:
        share = budget // len(free)
        small = [i for i in free if widths[i] <= share]
        if not small:
            extra = budget - share * len(free)
            for k, i in enumerate(sorted(free)):
                result[i] = max(MIN_COLUMN, share + (1 if k < extra else 0))
            break
        for i in small:
            budget -= widths[i]
            free.discard(i)
    return result, gap


def _header(heads: list, starts: list, widths: list) -> list:
    rows = [[wrap_text(name, w) or [""] for (name, _), w in zip(heads, widths)]]
    if any(title for _, title in heads):
        rows.append([wrap_text(title, w, "  ") or [""] for (_, title), w in zip(heads, widths)])
    lines = []
    for row in rows:
        for k in range(max(len(parts) for parts in row)):
            lines.append(_line(starts, [parts[k] if k < len(parts) else "" for parts in row]))
    lines.append(_line(starts, ["-" * w for w in widths]))
    return lines


def _line(starts: list, texts: list) -> str:
    out = ""
    for start, text in zip(starts, texts):
        if text:
            out = out.ljust(start) + text
    return out


def _cell_lines(cell: Cell, start: int, column: int, width: int, footnotes: list) -> list:
    body = cell.text.lstrip(" ")
    indent = len(cell.text) - len(body)
    room = max(column - indent, 8) if width else len(body)
    lines = [" " * (start + indent) + part for part in wrap_text(body, room, CONTINUE) or [""]]
    if not cell.note:
        return lines
    inline = _inline_note(cell)
    if not width or len(lines[-1]) + len(inline) <= width:
        return lines[:-1] + [lines[-1] + inline]
    room = width - start - indent - 2
    if room >= MIN_NOTE or room >= len(inline.strip()):         # a short note fits under its row
        return lines + [" " * (start + indent + 2) + part for part in _note_lines(cell, room)]
    footnotes.append(cell.note)
    marker = f" [{len(footnotes)}]"
    if len(lines[-1]) + len(marker) <= width:
        return lines[:-1] + [lines[-1] + marker]
    return lines + [" " * (start + indent + 2) + marker.strip()]


def _inline_note(cell: Cell) -> str:
    if cell.kind == "fail":
        return " " + cell.note
    if cell.kind == "wait":
        return "  ... " + cell.note
    return "  <- " + cell.note


def _note_lines(cell: Cell, room: int) -> list:
    """A note wrapped to ``room`` columns; a row's writes are kept whole
    where they fit (``<- a: 1 -> 2,`` then ``   b = 3``)."""
    if cell.kind == "fail":
        return wrap_text(cell.note, room, "  ")
    if cell.kind == "wait":
        return wrap_text("... " + cell.note, room, "    ")
    lines: list = []
    for item in cell.note.split(", "):
        if lines and len(lines[-1]) + 2 + len(item) + 1 <= room:       # + 1: a comma may follow
            lines[-1] += ", " + item
            continue
        if lines:
            lines[-1] += ","
        lead = "   " if lines else "<- "
        lines += [(lead if k == 0 else "   ") + part for k, part in enumerate(wrap_text(item, room - 4, "  "))]
    return lines


def wrap_text(text: str, width: int, rest: str = "") -> list:
    """Greedy wrap at spaces; a word longer than a line is cut after a
    ``(``, ``,``, ``;`` or ``.`` or before a ``->`` where it can be, else
    after an underscore inside a name (``page_cache_get_`` /
    ``speculative(page)``), and only then anywhere."""
    width = max(width, 8)
    if len(text) <= width:
        return [text] if text else []        # as written, inner spaces too
    lines: list = []
    line = ""
    for word in text.split():
        fresh = not line or len(line) + 1 + len(word) > width
        first = width - (len(rest) if lines or (line and fresh) else 0)
        for k, piece in enumerate(_pieces(word, first, width - len(rest))):
            if line and k == 0 and len(line) + 1 + len(piece) <= width:
                line += " " + piece
            elif line:
                lines.append(line)
                line = rest + piece
            else:
                line = piece
    return lines + [line] if line else lines


_GOOD_BREAK = re.compile(r"(?<=[(,;])")
_ARROW_BREAK = re.compile(r"(?<=[.])|(?=->)")
_NAME_BREAK = re.compile(r"(?<=_)(?=[a-z0-9])")      # inside a kernel name: after an underscore


def _pieces(word: str, first: int, room: int) -> list:
    """``word`` cut into pieces of at most ``first``, then ``room`` characters."""
    pieces = []
    while len(word) > (room if pieces else first):
        limit = room if pieces else first
        cut = (_cut(word, limit, _GOOD_BREAK) or _cut(word, limit, _ARROW_BREAK)
               or _cut(word, limit, _NAME_BREAK) or limit)
        pieces.append(word[:cut])
        word = word[cut:]
    return pieces + [word]


def _cut(word: str, limit: int, pattern) -> int:
    cuts = [m.start() for m in pattern.finditer(word) if limit // 3 <= m.start() <= limit]
    return cuts[-1] if cuts else 0


def _ascii(text: str) -> str:
    return text.replace("\t", " ").encode("ascii", "replace").decode("ascii")
