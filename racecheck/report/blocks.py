"""The blocks a report is built from, shared by every rendering.

``markdown.document()`` builds a report as a list of these values; the
Markdown, mail and HTML renderers each turn the same list into text, so the
three forms cannot drift apart. Inline text is a tuple of ``str`` (prose,
escaped by the renderer) and ``Code`` (a code span).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """An inline code span inside a paragraph, heading or list item."""

    text: str


@dataclass(frozen=True)
class Heading:
    level: int                 # 1 the file, 2 a section or variant, 3 a part of one
    parts: tuple               # str and Code
    tag: str = ""              # a verdict (safe, violation, inconclusive) to badge it with


@dataclass(frozen=True)
class Para:
    parts: tuple               # str and Code
    style: str = ""            # "" or "warning"


@dataclass(frozen=True)
class Items:
    items: tuple               # each a tuple of str and Code


@dataclass(frozen=True)
class Pre:
    """Preformatted lines, never wrapped: a diagram, code, or a command."""

    lines: tuple
    kind: str = "text"         # "diagram", "code", "model", "stamp", "text" or "sh" (a command to paste)


@dataclass(frozen=True)
class Table:
    headers: tuple
    rows: tuple                # tuples of str


@dataclass(frozen=True)
class Chart:
    """Where a graphical report puts the sequence chart of variant ``index``
    (an SVG chart in HTML, a Mermaid diagram in Markdown, nothing in mail)."""

    index: int


def plain(parts: tuple) -> str:
    """Inline parts as plain text."""
    return "".join(p.text if isinstance(p, Code) else p for p in parts)
