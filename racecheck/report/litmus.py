"""Litmus results as text (herd7-like, 75 columns) and as JSON.

    Test MP+poonceonces: Sometimes
      expected Sometimes (Result: line): agrees
      4 consistent executions: 1 positive, 3 negative; 4 states
      4 candidates; rejected: none
      condition exists (1:r0=1 /\\ 1:r1=0)

A data race adds one line per racing pair of accesses; a file racecheck
cannot take yet is one ``unsupported`` line naming the feature.
"""

from __future__ import annotations

import textwrap

from racecheck.explore.litmus import LitmusResult

WIDTH = 75


def verdict_word(result: LitmusResult) -> str:
    """agrees / DISAGREES / no Result: line."""
    if result.agrees is None:
        return "no Result: line"
    return "agrees" if result.agrees else "DISAGREES"


def render_result(result: LitmusResult) -> str:
    test = result.test
    race = " DATARACE" if result.racy else ""
    lines = [f"Test {test.name}: {result.answer}{race}"]
    if test.expected is not None:
        said = test.expected + (" DATARACE" if test.expected_race else "")
        lines.append(f"  expected {said} (Result: line): {verdict_word(result)}")
    lines.append(f"  {_plural(result.executions, 'consistent execution')}: {result.positive} positive, "
                 f"{result.negative} negative; {_plural(len(result.states), 'state')}")
    rejected = ", ".join(f"{axiom} {count}" for axiom, count in result.rejected.items()) or "none"
    lines += _wrap(f"{_plural(result.candidates, 'candidate')}; rejected: {rejected}")
    lines += _wrap(f"condition {test.quantifier} {_prop(test.condition)}")
    for race_ in result.races:
        lines += _wrap(f"data race: {race_.first} line {race_.first_line} and {race_.second} "
                       f"line {race_.second_line}")
    return "\n".join(lines)


def render_unsupported(name: str, feature: str, where: str) -> str:
    """``Test NAME: unsupported: FEATURE`` and where it was met."""
    return "\n".join(_wrap(f"Test {name}: unsupported: {feature}", first="") + [f"  at {where}"])


def render_summary(results, unsupported) -> str:
    agree = sum(1 for r in results if r.agrees)
    disagree = sum(1 for r in results if r.agrees is False)
    unchecked = sum(1 for r in results if r.agrees is None)
    parts = [f"{agree} agree", f"{disagree} disagree"]
    if unchecked:
        parts.append(f"{unchecked} without Result:")
    parts.append(f"{len(unsupported)} unsupported")
    return f"{_plural(len(results) + len(unsupported), 'test')}: " + ", ".join(parts)


def result_json(result: LitmusResult) -> dict:
    test = result.test
    return {"file": test.path, "test": test.name, "answer": result.answer, "data_race": result.racy,
            "expected": test.expected, "expected_data_race": test.expected_race, "agrees": result.agrees,
            "executions": result.executions, "positive": result.positive, "negative": result.negative,
            "states": len(result.states), "candidates": result.candidates, "rejected": result.rejected,
            "condition": f"{test.quantifier} {_prop(test.condition)}",
            "races": [{"first": r.first, "first_line": r.first_line, "second": r.second,
                       "second_line": r.second_line} for r in result.races]}


def unsupported_json(path: str, name: str, feature: str) -> dict:
    return {"file": path, "test": name, "unsupported": feature, "agrees": False}


def _prop(prop) -> str:
    if prop.op == "atom":
        return str(prop.args[0])
    if prop.op in ("true", "false"):
        return prop.op
    if prop.op == "not":
        return f"~{_prop(prop.args[0])}"
    joiner = " /\\ " if prop.op == "and" else " \\/ "
    return "(" + joiner.join(_prop(arg) for arg in _flat(prop, prop.op)) + ")"


def _flat(prop, op: str):
    """The operands of nested ``op``s: a /\\ b /\\ c, not (a /\\ b) /\\ c."""
    for arg in prop.args:
        if arg.op == op:
            yield from _flat(arg, op)
        else:
            yield arg


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _wrap(text: str, first: str = "  ") -> list:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent="      ",
                         break_on_hyphens=False) or [first]
