"""The report as plain text, ready to paste into a mail or a commit message.

The same blocks as the Markdown report (``markdown.document``), rendered the
way kernel mail is written: at most 75 columns (or --width), only ASCII, no
tabs. Prose is wrapped; race diagrams are laid out to fit; a long line of the model
(code) is folded at a space with its continuation four columns further in;
a command is broken between its words with a trailing `` \\`` so that it
still pastes into a shell; a table's widest column wraps. Only a single
word longer than a line (a long name, a quoted schedule) can still pass 75
columns. The text is not quoted-printable or otherwise encoded: it is what
goes into the body of the mail.
"""

from __future__ import annotations

import textwrap
import unicodedata

from racecheck.report.blocks import Chart, Code, Heading, Items, Para, Pre, Table, plain
from racecheck.report.diagram import current_style
from racecheck.report.fold import fold_code, fold_command, fold_prose
from racecheck.report.markdown import document
from racecheck.report.text import narrow_table

WIDTH = 75            # the default: --width sets another (0: no limit), as for diagrams


def width() -> int:
    """The width of this command's text: ``--width``, by default ``WIDTH``."""
    return current_style().width
_UNDERLINE = {1: "=", 2: "-", 3: "~"}
_PRE_INDENT = {"diagram": "", "sh": "  ", "code": "    ", "text": "    ", "model": "  ",
               "stamp": ""}   # diagrams flush left, as in commits
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                             "\u2013": "-", "\u2014": "--", "\u2026": "...", "\u2192": "->",
                             "\u2190": "<-", "\u00a0": " ", "\u00d7": "x"})


def render_mail(checked: list, path: str) -> str:
    """The plain-text report for one scenario file."""
    return mail_blocks(document(checked, path))


def mail_blocks(blocks: list) -> str:
    """Blocks as wrapped, ASCII-only plain text."""
    out = [_mail_block(block) for block in blocks if not isinstance(block, Chart)]
    return "\n\n".join(out) + "\n"


def _mail_block(block) -> str:
    if isinstance(block, Heading):
        return _heading(block)
    if isinstance(block, Para):
        prefix = "WARNING: " if block.style == "warning" else ""
        return _unglue(wrap(prefix + _glued(block.parts)))
    if isinstance(block, Items):
        return "\n".join(_unglue(wrap(_glued(item), "  - ", "    ")) for item in block.items)
    if isinstance(block, Pre):
        indent = _PRE_INDENT[block.kind]
        fold = _PRE_FOLD.get(block.kind, lambda line, width: [line])
        return "\n".join(part for line in block.lines for part in fold(indent + ascii_text(line), width()))
    if isinstance(block, Table):
        return table_text(block)
    raise TypeError(f"not a report block: {block!r}")


_PRE_FOLD = {"sh": fold_command, "code": fold_code, "model": fold_code,   # the stamp is read back: as is
             "text": lambda line, width: fold_prose(line, width)}   # diagrams are laid out to fit already

_GLUE = "\x00"        # a space that wrapping does not break at
_SHORT = 30


def _glued(parts: tuple) -> str:
    """Inline parts as text, where a short code span (``count = 0``) is kept
    on one line: its spaces do not break."""
    return "".join(p.text.replace(" ", _GLUE) if isinstance(p, Code) and len(p.text) <= _SHORT
                   else plain((p,)) for p in parts)


def _unglue(text: str) -> str:
    return text.replace(_GLUE, " ")


def _heading(block: Heading) -> str:
    text = wrap(plain(block.parts))
    width = max(len(line) for line in text.splitlines())
    return text + "\n" + _UNDERLINE[block.level] * width


def wrap(text: str, first: str = "", rest: str = "") -> str:
    """Prose filled to 75 columns; a word longer than that keeps its own line."""
    return textwrap.fill(ascii_text(" ".join(text.split())), width() or 10**9, initial_indent=first,
                         subsequent_indent=rest, break_long_words=False, break_on_hyphens=False)


def table_text(table: Table) -> str:
    rows = [[ascii_text(cell) for cell in row] for row in table.rows]
    return narrow_table(rows, [ascii_text(h) for h in table.headers], width=width())


def ascii_text(text: str) -> str:
    """ASCII only, no tabs: typographic quotes and dashes become their ASCII
    forms, accents are dropped, anything else becomes '?'."""
    text = text.expandtabs(8).translate(_TYPOGRAPHY)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.encode("ascii", "replace").decode("ascii")
