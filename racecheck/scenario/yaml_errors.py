"""PyYAML's syntax errors, said in plain words with a hint.

PyYAML reports what its parser expected ("while parsing a block mapping ...
expected <block end>, but found '<block mapping start>'"); a scenario's
author needs to know what is wrong with the text. ``explain`` maps the
errors a hand-written file runs into to a position, a message and a hint:

* a tab: YAML indents with spaces only;
* a line indented like no mapping or list around it;
* a line indented more than the one above, which YAML reads as the
  continuation of that line's value;
* a ``[``, ``{`` or quote that is never closed, reported where it was opened
  (also a quoted value that runs on over lines to a quote far below);
* a value holding ``': '``, or starting with a character YAML reserves
  (``@``, ``%``, ``&``, ``*``, a backtick), which must be quoted;
* a line that is not ``key: value`` inside a mapping;
* text after ``|`` or ``>`` on its line, ``- `` on the line of its key, an
  empty item in ``[...]``, a second document.

Anything else keeps PyYAML's own problem text, at PyYAML's position.
"""

from __future__ import annotations

import re

import yaml

_FOUND = re.compile(r"but (?:found|got) (?:'(?P<token>.*)'|(?P<other>\S+))$")
_CLOSE = {"flow sequence": ("[", "]"), "flow mapping": ("{", "}")}


def explain(exc, lines) -> tuple:
    """(mark, message, hint) for a ``yaml.MarkedYAMLError``; ``lines`` are
    the file's lines. ``mark`` has ``line`` and ``column`` counted from 0."""
    context, problem = exc.context or "", exc.problem or ""
    mark = exc.problem_mark or exc.context_mark
    for rule in (_tab, _reserved_character, _unclosed_quote, _unclosed_bracket,
                 _colon_in_value, _no_colon, _block_end, _documents, _alias, _anchor, _block_header,
                 _empty_item, _after_document, _not_here):
        found = rule(exc, context, problem, lines)
        if found is not None:
            return found
    return mark, problem or "invalid YAML", ""


def _line(lines, mark) -> str:
    return lines[mark.line] if mark is not None and 0 <= mark.line < len(lines) else ""


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _tab(exc, context, problem, lines):
    if "'\\t'" not in problem:
        return None
    mark = exc.problem_mark
    where = "in the indentation" if not _line(lines, mark)[:mark.column].strip() else "between words"
    return mark, f"a tab character {where}: YAML indents and separates with spaces only", \
        "replace the tab with spaces (set your editor to insert spaces for this file)"


def _reserved_character(exc, context, problem, lines):
    match = re.match(r"found character '(.)' that cannot start any token", problem)
    if match is None:
        return None
    char = match.group(1)
    return exc.problem_mark, f"'{char}' cannot start a plain value in YAML", \
        "quote the value: key: '...'"


def _unclosed_quote(exc, context, problem, lines):
    if "escape character" in problem:
        char = problem.rsplit(" ", 1)[-1].strip("'")
        mark = exc.problem_mark                    # at the character after the backslash
        return _Mark(mark.line, max(mark.column - 1, 0)), f"'\\{char}' is not an escape sequence YAML knows (in a double-quoted string)", \
            "use single quotes, where '\\' is an ordinary character, or write '\\\\'"
    if context != "while scanning a quoted scalar" or exc.context_mark is None:
        return None
    mark = exc.context_mark
    quote = _line(lines, mark)[mark.column:mark.column + 1] or "'"
    return mark, f"the {quote} opened here is never closed", \
        f"end the string with {quote} on the same line"


def _unclosed_bracket(exc, context, problem, lines):
    kind = next((k for k in _CLOSE if context == f"while parsing a {k}"), None)
    if kind is None or exc.context_mark is None:
        return None
    opening, closing = _CLOSE[kind]
    start, stop = exc.context_mark, exc.problem_mark
    if stop is not None and stop.line == start.line:
        return stop, f"expected ',' or '{closing}' in the {opening}...{closing} opened at column {start.column + 1}", \
            "separate items with ', '" + (" and keys from values with ': '" if closing == "}" else "")
    end = "the end of the file" if "<stream end>" in problem else f"line {stop.line + 1}"
    return start, f"the '{opening}' opened here is never closed (YAML reached {end} looking for '{closing}')", \
        f"close it with '{closing}', or check for a missing ',' between its items"


def _colon_in_value(exc, context, problem, lines):
    if problem != "mapping values are not allowed here":
        return None
    mark = exc.problem_mark
    text = _line(lines, mark)
    if ": " in text[:mark.column] or text[:mark.column].rstrip().endswith(":"):
        key = text.split(":", 1)[0].strip().lstrip("- ")
        return mark, "a second ': ' on one line: YAML reads it as a mapping inside the value", \
            f"quote the value if it contains ': ' ({key}: '...')"
    above = _line_above(lines, mark.line)
    return mark, (f"this line is indented more than line {above + 1}, so YAML reads it as the "
                  f"continuation of that line's value"), \
        f"indent it like the keys it belongs with ({_indent(lines[above])} spaces here?)"


def _no_colon(exc, context, problem, lines):
    if problem != "could not find expected ':'" or exc.context_mark is None:
        return None
    mark = exc.context_mark
    return mark, "this line is not 'key: value', but it is inside a mapping", \
        ("add ': ' after the key; if the line continues a value, indent it more; "
         "lines of a '|' block are indented more than its key")


def _block_end(exc, context, problem, lines):
    if "expected <block end>" not in problem:
        return None
    found = _FOUND.search(problem)
    token = (found.group("token") or found.group("other")) if found else ""
    mark = exc.problem_mark
    if token in ("]", "}"):
        return mark, f"'{token}' closes nothing: no '{'[' if token == ']' else '{'}' is open here", \
            "remove it, or open the list or mapping it should close"
    if token == "<scalar>":
        return _quote_spanning_lines(lines, mark) or \
            (mark, "text after the end of a quoted value", "quote the whole value, or remove the text after it")
    if token == "?" and "collection" in context:
        return mark, "a 'key:' line among the '- ' items of a list", \
            "start it with '- ' to make it an item, or indent it under the item it belongs to"
    if token == "-" and "mapping" in context:
        return mark, "a list item ('- ') where a key of the mapping around it was expected", \
            "indent the items of one list alike; a list under a key starts on the line after 'key:'"
    spaces = _indent(_line(lines, mark))
    return mark, (f"wrong indentation: this line is indented {spaces} space{'s' if spaces != 1 else ''}, "
                  "which matches no mapping or list around it"), \
        "keys of one mapping, and the '- ' items of one list, start in the same column"


def _anchor(exc, context, problem, lines):
    if context not in ("while scanning an anchor", "while scanning an alias"):
        return None
    char = "&" if "anchor" in context else "*"
    return exc.context_mark, (f"'{char}' starts a YAML {context.rsplit(' ', 1)[1]} here, and a name must "
                              "follow it"), "quote the value if the character is meant as text"


def _block_header(exc, context, problem, lines):
    if context != "while scanning a block scalar":
        return None
    mark = exc.context_mark
    char = _line(lines, mark)[mark.column:mark.column + 1] or "|"
    return exc.problem_mark, f"text after '{char}' on its line: the text of a '{char}' block starts on the next line", \
        f"move it to the next line, indented more than the key; to write it on one line, leave out the '{char}'"


def _empty_item(exc, context, problem, lines):
    if context not in ("while parsing a flow node", "while parsing a block node"):
        return None
    found = _FOUND.search(problem)
    token = (found.group("token") or found.group("other")) if found else "?"
    if context == "while parsing a block node":
        return exc.problem_mark, f"'{token}' cannot start a value here", "quote the value if it is text"
    return exc.problem_mark, f"a value is missing before this '{token}'", \
        "remove the extra ',' or write the missing value"


_NOT_HERE = {
    "sequence entries are not allowed here": (
        "a '- ' list item cannot start on the line of its key",
        "start the list on the next line, indented, or write it as [a, b]"),
    "mapping keys are not allowed here": (
        "'?' starts a complex YAML key", "quote the value if it is text"),
}


def _not_here(exc, context, problem, lines):
    if context == "while scanning a directive":
        return exc.context_mark, "'%' at the start of a line starts a YAML directive", \
            "remove the '%', or quote the value it begins"
    if problem not in _NOT_HERE:
        return None
    return (exc.problem_mark,) + _NOT_HERE[problem]


def _after_document(exc, context, problem, lines):
    if not problem.startswith("expected '<document start>'"):
        return None
    mark = exc.problem_mark
    return _quote_spanning_lines(lines, mark) or \
        (mark, "text after the end of the scenario's top-level mapping",
         "check the indentation and the quotes of the lines above")


def _quote_spanning_lines(lines, mark):
    """A quoted value opened on an earlier line and closed just before ``mark``,
    reported at its opening quote (text follows its close); else None."""
    opened = _quote_start(lines, mark)
    if opened is None or opened.line >= mark.line:
        return None
    quote = _line(lines, opened)[opened.column]
    return opened, (f"the {quote} opened here is closed only at line {mark.line + 1}, column "
                    f"{mark.column} (a quoted value may span lines), and text follows it there"), \
        f"end the string with {quote} on the line where it starts"


def _documents(exc, context, problem, lines):
    if context != "expected a single document in the stream":
        return None
    return exc.problem_mark, "a second YAML document ('---'): a scenario file holds one", \
        "remove the '---' line, or put the second scenario in a file of its own"


def _alias(exc, context, problem, lines):
    match = re.match(r"found undefined alias '(.*)'", problem)
    if match is None:
        return None
    return exc.problem_mark, f"'*{match.group(1)}' is an alias to an anchor '&{match.group(1)}' that is not defined", \
        "quote the value if the '*' is meant as text"


class _Mark:
    """A position in PyYAML's terms: line and column from 0."""

    def __init__(self, line: int, column: int):
        self.line, self.column = line, column


def _quote_start(lines, mark):
    """Where the quoted value that ends just before ``mark`` starts, or None."""
    if mark is None:
        return None
    tokens = yaml.scan("\n".join(lines))
    last = None
    try:
        for token in tokens:
            if (token.start_mark.line, token.start_mark.column) >= (mark.line, mark.column):
                break
            last = token
    except yaml.YAMLError:
        pass
    if isinstance(last, yaml.ScalarToken) and last.style in ("'", '"'):
        return last.start_mark
    return None


def _line_above(lines, line: int) -> int:
    """The nearest line before ``line`` that holds something (not blank, not a comment)."""
    above = line - 1
    while above > 0 and (not lines[above].strip() or lines[above].lstrip().startswith("#")):
        above -= 1
    return max(above, 0)
