"""Likely mistakes: what the loader warns about, and hints for common slips.

Each function here recognises one kind of likely mistake and says what to
write instead; the loader turns the answer into a ``ScenarioWarning`` at the
right position. None of them changes what a file means: a warning never
changes a verdict or the exit status, and quoting a value silences the
spelling warnings.

* A value spelt as a YAML 1.1 boolean (``yes no on off y n``, any case):
  scenario files are YAML 1.2, where these are strings. So are misspellings
  of ``true``/``false`` (``ture``, ``flase``, ``tru``: the letters of the
  word in another order, or one letter more or less).
* An ``await`` that reads no shared variable: nothing another thread does
  can change it, so if it is false when the thread reaches it, the thread
  waits forever.
* Two variants with the same params and the same expectation.

The code checker (``lang``) refuses, with a hint from here: ``=`` in a
condition (``if: x = 1``), ``==`` as a statement, ``true``/``false``/
``yes``/``no`` in code (Python spells them ``True``/``False``), and reading
another thread's local (``inc.tmp``: locals are private).
"""

from __future__ import annotations

import ast
import warnings

from racecheck.scenario.values import format_value

YAML11_BOOLEANS = {"yes": "true", "y": "true", "on": "true",
                   "no": "false", "n": "false", "off": "false"}


def boolean_spelling(text: str) -> str | None:
    """``true`` or ``false`` when the plain scalar ``text`` looks meant as
    that boolean but loads as a string; None when it does not."""
    word = text.lower()
    if word in YAML11_BOOLEANS:
        return YAML11_BOOLEANS[word]
    for boolean in ("true", "false"):
        if word == boolean or _one_slip(word, boolean):
            return boolean
    return None


def _one_slip(word: str, target: str) -> bool:
    """The letters of ``target`` in another order, or one letter added or left out."""
    if sorted(word) == sorted(target):
        return True
    if abs(len(word) - len(target)) != 1:
        return False
    short, long_ = sorted((word, target), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def spelling_warning(text: str, boolean: str) -> tuple:
    """(message, hint) for a value spelt ``text`` that looks meant as ``boolean``."""
    if text.lower() in YAML11_BOOLEANS:
        why = (f"'{text}' is the string '{text}' here, not a boolean: scenario files are YAML 1.2, "
               "where only true and false are booleans")
    else:
        why = f"'{text}' is the string '{text}' here; did you mean the boolean {boolean}?"
    return why, f"write {boolean} for the boolean, or quote it ('{text}') to keep the string"


def await_reads_no_state(code, shared) -> bool:
    """True when an ``await`` reads no shared variable and is not the
    constant True (``await: True`` is a way to make a step a point where
    other threads can run, and never blocks)."""
    if code.names & shared:
        return False
    body = code.tree.body
    return not (isinstance(body, ast.Constant) and body.value is True)


def await_warning(step: str, thread: str) -> tuple:
    """(message, hint) for an ``await`` that reads no shared variable."""
    return (f"the await of step '{step}' reads no shared variable, only locals, params or tid: "
            f"nothing another thread does can change it, so if it is false when thread "
            f"'{thread}' reaches it, the thread waits there forever (a deadlock)",
            "await a condition on shared state (a lock, a flag another thread sets); "
            "to test a local, use an 'if:' step")


def variant_key(variant) -> tuple:
    """What a variant checks: its params (True and 1 kept apart) and its expectation."""
    return tuple((name, format_value(value)) for name, value in variant.params), variant.expect


def duplicate_variants(variants) -> list:
    """(variant, message, hint) for each variant that repeats an earlier one."""
    seen: dict = {}
    repeats = []
    for variant in variants:
        earlier = seen.setdefault(variant_key(variant), variant)
        if earlier is not variant:
            repeats.append((variant, f"variant '{variant.name}' has the same params and expectation as "
                                     f"variant '{earlier.name}' (line {earlier.pos.line}): it checks the "
                                     "same thing twice",
                            "change its params or its expect, or remove one of the two"))
    return repeats


# -- hints for refused code ------------------------------------------------------

_TRUE = "the code language is Python: write True"
_FALSE = "the code language is Python: write False"
LITERAL_HINTS = {"true": _TRUE, "false": _FALSE, "yes": _TRUE, "on": _TRUE, "no": _FALSE, "off": _FALSE,
                 "null": "the code language is Python: write None", "none": "write None"}
THREAD_HINT = "that is a thread's name; code reads shared variables (state), params and its own thread's locals"
SHARE_HINT = ("to share '{name}' between threads, move it from the locals of thread '{thread}' to state "
              "(a shared variable)")


def assignment_in_condition(text: str) -> tuple | None:
    """(line, column of the '=', hint) when the condition ``text`` is one
    assignment (``x = 1``), which cannot be a condition; else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SyntaxWarning)     # as model.lang: a refusal
            body = ast.parse(text, mode="exec").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    if len(body) != 1 or not isinstance(body[0], ast.Assign) or len(body[0].targets) != 1:
        return None
    target, value = body[0].targets[0], body[0].value
    line = text.splitlines()[target.end_lineno - 1]
    end = len(line.encode("utf-8")[:target.end_col_offset].decode("utf-8", "replace"))
    col = line.find("=", end)
    left = ast.get_source_segment(text, target) or "x"
    right = " ".join((ast.get_source_segment(text, value) or "...").split())
    return target.end_lineno, col if col >= 0 else end, f"to compare, write '{left} == {right}'"


def equality_as_assignment(node, text: str) -> str | None:
    """``x = 1`` for the statement ``x == 1`` (a comparison whose result is
    dropped, probably meant as an assignment); None for other statements."""
    value = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(value, ast.Compare) and len(value.ops) == 1 and isinstance(value.ops[0], ast.Eq)):
        return None
    left = ast.get_source_segment(text, value.left) or "x"
    right = ast.get_source_segment(text, value.comparators[0]) or "..."
    return f"{left} = {right}"
