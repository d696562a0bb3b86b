"""Shared data that changes shape while the threads run (issue 9).

Partial-order reduction decides which steps commute from the locations they
read and write. A constant index names a different element once the list's
length has changed (``arr[-1]`` is ``arr[2]`` in ``[0, 0, 0]`` and ``arr[1]``
after ``arr = [0, 0]``), so a search with reduction that judged accesses by
the initial shape could miss an ordering and print a false ``safe``. Each
scenario here has one reachable violation; it must be found with and without
reduction, with the counterexample of fewest context switches, and the naive
reference explorer (tests/reference.py) must agree.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import reference  # noqa: E402

from racecheck.cli import main  # noqa: E402
from tests.folding import flat  # noqa: E402
from racecheck.explore.check import check_variant  # noqa: E402
from racecheck.explore.counterexample import switches  # noqa: E402
from racecheck.explore.result import Verdict  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402
from racecheck.scenario.schema import Expectation  # noqa: E402

ISSUE = "issue 9 item 1: access analysis with a changing list length"

SHRINK = """
    racecheck: 1
    title: reduction and a list that shrinks
    state: {arr: [0, 0, 0]}
    threads:
      B:
        steps:
          - {step: check, do: "assert arr[1] == 0, 'saw the write'"}
      A:
        steps:
          - {step: shrink, do: "arr = [0, 0]"}
          - {step: write, do: "arr[-1] = 1"}
    """

GROW = """
    racecheck: 1
    title: reduction and a list that grows
    state: {arr: [0, 0]}
    threads:
      B:
        steps:
          - {step: check, do: "assert arr[1] == 0, 'saw the write'"}
      A:
        steps:
          - {step: grow, do: "arr = arr + [0]"}
          - {step: write, do: "arr[-2] = 1"}
    """

INVARIANT = """
    racecheck: 1
    title: reduction and a list that shrinks, under an invariant conjunct
    state: {arr: [0, 0, 0], checked: false}
    threads:
      B:
        steps:
          - {step: check, do: checked = True}
      A:
        steps:
          - {step: shrink, do: "arr = [0, 0]"}
          - {step: write, do: "arr[-1] = 1"}
    invariants:
      saw: len(arr) > 0 and (checked or arr[1] == 0)
    """

ROW = """
    racecheck: 1
    title: reduction and a row of a list of lists that shrinks
    state: {grid: [[0, 0], [0, 0]]}
    threads:
      B:
        steps:
          - {step: check, do: "assert grid[1][0] == 0, 'saw the write'"}
      A:
        steps:
          - {step: shrink, do: "grid[1] = [0]"}
          - {step: write, do: "grid[-1][-1] = 1"}
    """

# name -> (text, violation as the verdict line prints it, the reference's kind,
#          the counterexample of fewest switches, then fewest steps)
CASES = {
    "shrink": (SHRINK, "assert: saw the write", ("assert", "saw the write"), "A*2,B"),
    "grow": (GROW, "assert: saw the write", ("assert", "saw the write"), "A*2,B"),
    "invariant": (INVARIANT, "invariant saw", ("invariant", "saw"), "A*2"),
    "row": (ROW, "assert: saw the write", ("assert", "saw the write"), "A*2,B"),
}


def _reduced(name):
    return pytest.param(name, True, id=f"{name}-reduced")


PARAMS = [pytest.param(name, False, id=f"{name}-unreduced") for name in CASES] + [_reduced(n) for n in CASES]


def _scenario(tmp_path, text):
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path), load_scenario(str(path))


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_reference_finds_the_violation(name):
    text, _, kind, _ = CASES[name]
    assert reference.explore(textwrap.dedent(text)).kinds == {kind}
    fewest = (1, 3) if kind[0] == "assert" else (0, 2)
    assert reference.fewest_switches(textwrap.dedent(text)) == {kind: fewest}


@pytest.mark.parametrize("name, reduction", PARAMS)
def test_violation_is_found(name, reduction, tmp_path):
    text, described, _, schedule = CASES[name]
    _, scenario = _scenario(tmp_path, text)
    variant = scenario.variants[0]
    checked = check_variant(scenario, variant, reduction=reduction, analysis_budget=0)
    assert checked.exploration.verdict is Verdict.VIOLATION
    violation = checked.exploration.violation
    assert violation.describe() == described
    names = [t.name for t in checked.program.threads]
    assert checked.minimal and violation.schedule.format(names) == schedule
    assert switches(violation.schedule) == (0 if name == "invariant" else 1)


@pytest.mark.parametrize("name, reduction", PARAMS)
def test_expected_violation_matches(name, reduction, tmp_path):
    """Asked for by name (``expect``), the violation is reached too."""
    text, _, kind, _ = CASES[name]
    _, scenario = _scenario(tmp_path, text)
    if kind[0] == "assert":
        expect = Expectation("named", "assert", kind[1])
    else:
        expect = Expectation("named", kind[1])
    variant = replace(scenario.variants[0], expect=expect)
    checked = check_variant(scenario, variant, reduction=reduction, analysis_budget=0)
    assert checked.exploration.violation is not None and checked.exploration.violation.matches(expect)


# A write through an index or a field needs the list or the record it goes
# through: whether it fails depends on that value. A search that took the
# container for unread once only such writes remain (dead, so states that
# differ in it merged) lost the failure. One thread: no ample sets, only the
# merging of dead values.
FAILING_WRITES = {
    "element": """
        racecheck: 1
        title: an element written in a list that may have shrunk
        state: {arr: [0, 0]}
        threads:
          t:
            steps:
              - {step: shrink, do: "arr = choose([0, 0], [0])"}
              - {step: use, do: "arr[1] = 1"}
        """,
    "field": """
        racecheck: 1
        title: a field written in a slot that may be None
        state: {slot: null}
        threads:
          t:
            locals: {ls: {v: 0}}
            steps:
              - {step: fill, do: "slot = choose(ls, None)"}
              - {step: use, do: slot.v = 1}
        """,
    "field_two_threads": """
        racecheck: 1
        title: a slot emptied between its filling and its use
        state: {slot: null}
        threads:
          t0:
            steps:
              - {step: empty, do: slot = None}
          t1:
            locals: {ls: {v: 0}}
            steps:
              - {step: fill, do: slot = ls}
              - {step: use, do: slot.v = 1}
        """,
}


@pytest.mark.parametrize("reduction", [pytest.param(False, id="unreduced"),
                                       pytest.param(True, id="reduced")])
@pytest.mark.parametrize("name", sorted(FAILING_WRITES))
def test_failing_write_is_found(name, reduction, tmp_path):
    text = FAILING_WRITES[name]
    assert reference.explore(textwrap.dedent(text)).kinds == {("error",)}
    _, scenario = _scenario(tmp_path, text)
    checked = check_variant(scenario, scenario.variants[0], reduction=reduction, analysis_budget=0)
    assert checked.exploration.verdict is Verdict.VIOLATION
    assert checked.exploration.violation.kind == "error"


@pytest.mark.parametrize("reduction", [pytest.param(False, id="unreduced"),
                                       pytest.param(True, id="reduced")])
def test_command_line_prints_the_violation(reduction, tmp_path, capsys):
    path, _ = _scenario(tmp_path, SHRINK)
    status = main([path, "-q"] + ([] if reduction else ["--no-reduction"]))
    out = capsys.readouterr().out
    assert "scenario: violation of assert: saw the write (expected safe: NOT AS EXPECTED)" in flat(out)
    assert status == 1


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="the message of a field access on None says 'None None'")
@pytest.mark.parametrize("code, message", [("slot.v = 1", "cannot set field 'v' of None"),
                                           ("r = slot.v", "cannot read field 'v' of None")])
def test_field_of_none_message(code, message, tmp_path):
    text = f"""
        racecheck: 1
        title: the field of None
        state: {{slot: null}}
        threads:
          t:
            locals: {{r: 0, ls: {{v: 0}}}}
            steps:
              - {{step: use, do: "{code}"}}
        """
    _, scenario = _scenario(tmp_path, text)
    violation = check_variant(scenario, scenario.variants[0], analysis_budget=0).exploration.violation
    assert violation.kind == "error" and violation.message == message
