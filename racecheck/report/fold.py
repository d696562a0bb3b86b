"""Folding lines that do not fit a width (75 columns for mail), by kind.

    prose     wrapped at spaces; the continuation keeps the line's indent,
              plus two after a list marker (``- ``) and ``more`` besides
    code      a model line, folded at a space, the continuation four
              spaces further in (display only: a reader sees one statement)
    command   a shell command, broken between words outside quotes with a
              trailing `` \\``, so that it still pastes into a shell

A width of 0 folds nothing. A single word or quoted argument longer than
the width stays whole: cutting it would change what it says.
"""

from __future__ import annotations


def fold_prose(line: str, width: int, more: str = "") -> list:
    return _fold(line, width, more, lists=True)


def fold_code(line: str, width: int) -> list:
    return _fold(line, width, "    ", lists=False)


def _fold(line: str, width: int, more: str, lists: bool) -> list:
    """``line`` wrapped at spaces, its continuations indented as the line
    plus ``more`` (plus two after a ``- `` list marker when ``lists``)."""
    if not width or len(line) <= width:
        return [line]
    body = line.lstrip(" ")
    lead = line[:len(line) - len(body)]
    rest = lead + ("  " if lists and body.startswith("- ") else "") + more
    return [lead + part if n == 0 else part
            for n, part in enumerate(_wrap_whole_words(body, width - len(lead), rest, lead))]


def fold_command(line: str, width: int) -> list:
    """``racecheck FILE --variant V --schedule S`` in lines of at most
    ``width`` columns (each but the last ending in `` \\``)."""
    if not width or len(line) <= width:
        return [line]
    body = line.lstrip(" ")
    lead = line[:len(line) - len(body)]
    rest = lead + "    "
    lines: list = []
    current = lead
    for word in _shell_words(body):
        room = width - 2                                 # for the " \"
        if current.strip() and len(current) + 1 + len(word) > room:
            lines.append(current + " \\")
            current = rest + word
        else:
            current = current + (" " if current.strip() else "") + word
    return lines + [current]


def _wrap_whole_words(text: str, width: int, rest: str, lead: str) -> list:
    """Greedy wrap of ``text`` (first line ``width`` wide, the others
    ``width + len(lead)`` with ``rest`` in front), never cutting a word."""
    lines: list = []
    current = ""
    for word in text.split(" "):
        limit = width if not lines else width + len(lead)
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = rest + word
        else:
            current = current + " " + word if current else word
    return lines + [current]


def _shell_words(text: str) -> list:
    """``text`` split at spaces outside single or double quotes (the
    quotes stay in the words)."""
    words, current, quote = [], "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == " ":
            if current:
                words.append(current)
            current = ""
            continue
        current += char
    return words + ([current] if current else [])

