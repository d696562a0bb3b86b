"""Where the code in a YAML scalar sits in its file, for error positions.

A ``do:`` block, a condition or an ``await`` is a YAML scalar: plain,
quoted (with escapes) or a ``|``/``>`` block. The code language counts
lines and columns in the scalar's value; ``code_origin`` says where value
line 1, column 0 is in the file, and for a scalar whose value is not a
plain copy of the file (folded over several lines, or quoted with escapes)
maps each character of its first line to its file column.
"""

from __future__ import annotations

from racecheck.scenario.lang import Origin
from racecheck.scenario.yaml_source import Source, YNode


def code_origin(node: YNode, src: Source) -> Origin:
    """Where code line 1, column 0 of this scalar sits in the file."""
    pos = node.pos
    if node.style in ("|", ">"):
        line = pos.line + 1
        while line <= len(src.lines) and not src.line(line).strip():
            line += 1                     # the indentation is that of the first text line
        text = src.line(line)
        return Origin(pos.file, pos.line + 1, len(text) - len(text.lstrip(" ")))
    if node.style in ('"', "'"):
        return Origin(pos.file, pos.line, pos.col, _quoted_columns(node, src))
    return Origin(pos.file, pos.line, pos.col - 1, _plain_columns(node, src))


def _quoted_columns(node: YNode, src: Source):
    """Column map for a one-line quoted scalar with escapes: value index -> file column."""
    line = src.line(node.pos.line)
    start = node.pos.col                  # the character after the quote
    quote = node.style
    columns = []
    i = start
    while i < len(line) and line[i] != quote:
        if quote == '"' and line[i] == "\\":
            columns.append(i)
            i += 2 if i + 1 < len(line) and line[i + 1] != "x" else 4
            continue
        if quote == "'" and line[i:i + 2] == "''":
            columns.append(i)
            i += 2
            continue
        columns.append(i)
        i += 1
    return ((node.pos.line, tuple(columns)),) if len(columns) == len(str(node.value)) else None


def _plain_columns(node: YNode, src: Source):
    """Column map for a plain scalar folded from several lines."""
    value = str(node.value)
    segments = []
    line, col = node.pos.line, node.pos.col - 1
    consumed = 0
    while consumed < len(value) and line <= len(src.lines):
        text = src.line(line)
        if segments:
            col = len(text) - len(text.lstrip(" "))
        piece = text[col:].rstrip()
        if "#" in piece:
            piece = piece[:piece.index(" #")] if " #" in piece else piece
        take = min(len(piece), len(value) - consumed)
        segments.append((line, tuple(range(col, col + take))))
        consumed += take + 1              # folded lines are joined by one space
        line += 1
    return tuple(segments) if len(segments) > 1 else None
