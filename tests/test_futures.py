"""Futures that follow the locals (docs/reduction.md, "Futures that follow
the locals"; racecheck/explore/futures.py).

What a thread may still do is worked out from the values its locals have
in the state: a scanner at ``i == 2`` that only increments ``i`` will not
read ``a[0]`` again. These tests pin that on small cases and aim random
scenarios in that shape (threads looping over a local index that read and
write shared arrays, locals assigned from shared state, ``choose()``,
branches on locals and on shared values, asserts that may fail, writers
that wait) at the reduced search, against the search without reduction
and the naive reference (tests/reference.py): verdicts and every
violation kind must agree, and every reported schedule replays.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

from families import lastzero  # noqa: E402
from porcost import scan  # noqa: E402
from test_differential import PROFILE, compare_if_small  # noqa: E402

from racecheck.explore.reduction import Reducer  # noqa: E402
from racecheck.explore.result import Verdict  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402


def _scan(n: int) -> str:
    """A scanner that reads a[0..n-1] in order, and n writers of one element each."""
    return scan(n) + f"final:\n  counted: seen <= {n}\n"


def _future(program, thread: str, pc: int, **values) -> str:
    reducer = Reducer(program)
    t = next(th.index for th in program.threads if th.name == thread)
    slots = reducer.future_slots[t][pc]
    names = dict((slot, name) for name, slot in program.threads[t].local_slots)
    found = reducer.futures.of(t, pc, tuple(values[names[slot]] for slot in slots))
    return "every value" if found is None else reducer.tables.atoms.describe(found[0])


def test_lastzero_reader_reads_only_below_its_index(program):
    prog = program(lastzero(4))
    assert _future(prog, "reader", 0, i=4) == "every value"
    assert _future(prog, "reader", 0, i=3) == "the length of a, a[0], a[1], a[2], a[3]"
    # a[0] is written by no step: the loop stops there
    assert _future(prog, "reader", 0, i=0) == "the length of a, a[0]"


def test_scanner_reads_only_from_its_index_on(program):
    prog = program(_scan(3))
    # pc 1 is the loop body: s += a[i] reads shared state, yet i += 1 does not
    assert _future(prog, "scanner", 1, i=1, s=0) == "the length of a, a[1], a[2]"
    assert _future(prog, "scanner", 1, i=2, s=5) == "the length of a, a[2]"


@pytest.mark.parametrize("n, states, transitions", [(3, 43, 57), (5, 187, 333)])
def test_scan_counts_are_pinned(program, n, states, transitions):
    # before the futures followed the locals: 69 / 106 and 513 / 1,130;
    # without reduction: 76 and 544 states
    prog = program(_scan(n))
    result = explore(prog)
    assert result.verdict is Verdict.SAFE
    assert (result.stats.states, result.stats.transitions) == (states, transitions)
    assert explore(prog, reduction=False).verdict is Verdict.SAFE


def test_a_local_assigned_from_shared_state_stands_for_every_value(program):
    text = _scan(3).replace("i += 1", "i += 1 + a[i]")
    assert _future(program(text), "scanner", 1, i=1, s=0) == "every value"


def test_an_index_after_the_local_changes_is_not_its_old_value(program):
    text = _scan(3).replace("s += a[i]\n              i += 1", "i += 1\n              s += a[i - 1]")
    prog = program(text)
    # the index reads i after i += 1, so i's value at the start is no
    # constant there: that step's masks are those for every i (taking i
    # as 1 would give a[0], where the step reads a[1])
    assert _future(prog, "scanner", 1, i=1, s=0) == "every value"


# -- random scenarios in this shape -------------------------------------------------------

_N = 3                                    # the length of a
_BODIES = [
    "s += a[i]\ni += {d}",
    "r = a[i]",
    "a[i] = a[i] + 1",
    "a[i] = s",
    "if a[i] != 0:\n    s += 1\ni += {d}",
    "i = a[i]",
    "r = choose(0, 1)\ni += {d}",
    "assert a[i] < 2",
    "i += {d}\nr = a[i % 3]",
    "i += {d}\na[i % 3] = 1",
]
_LOCAL_BODIES = ["i += {d}", "s = s + r", "if r == 1:\n    i += {d}", "r = i"]
_WRITES = ["a[{c}] = 1", "a[{c}] = a[{c2}] + 1", "a[{c}] = 0", "b = a[{c}]", "b = b + 1"]


@st.composite
def _scanner(draw) -> dict:
    d = draw(st.sampled_from([1, -1]))
    start = draw(st.integers(0, _N - 1))
    cond = draw(st.sampled_from([f"i < {_N} and i >= 0", "i >= 0 and i < 2", f"i >= 0 and i < {_N} and a[i] == 0",
                                 "i != 1 and i >= 0 and i < 3"]))
    body = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["shared"] * 3 + ["local"]))
        code = draw(st.sampled_from(_BODIES if kind == "shared" else _LOCAL_BODIES)).format(d=d)
        body.append({"step": kind, "do": code})
    if not any("i +=" in step["do"] or "i = a" in step["do"] for step in body):
        body.append({"step": "next", "do": f"i += {d}"})
    steps = [{"while": cond, "steps": body}]
    if draw(st.booleans()):
        steps.append({"step": "after", "do": draw(st.sampled_from(["b = s", "a[0] = r", "b = a[1] + s"]))})
    return {"locals": {"i": start, "s": 0, "r": 0}, "steps": steps}


@st.composite
def _writer(draw) -> dict:
    steps = []
    for _ in range(draw(st.integers(1, 2))):
        code = draw(st.sampled_from(_WRITES)).format(c=draw(st.integers(0, _N - 1)),
                                                     c2=draw(st.integers(0, _N - 1)))
        node = {"step": "write", "do": code}
        if draw(st.integers(0, 3)) == 0:
            node["await"] = f"a[{draw(st.integers(0, _N - 1))}] == 0"
        steps.append(node)
    return {"steps": steps}


@st.composite
def scanning_scenarios(draw) -> str:
    """One or two threads looping over a local index into ``a``, and one
    or two writers."""
    threads = {}
    for n in range(draw(st.integers(1, 2))):
        threads[f"scan{n}"] = draw(_scanner())
    for n in range(draw(st.integers(1, 2))):
        threads[f"write{n}"] = draw(_writer())
    doc = {"racecheck": 1, "title": "scans", "state": {"a": [0] * _N, "b": 0}, "threads": threads}
    if draw(st.booleans()):
        doc["livelock"] = "allowed"
    if draw(st.integers(0, 2)) == 0:
        doc["invariants"] = {"bounded": draw(st.sampled_from(["a[0] + a[1] < 3", "b < 3", "a[2] != 2"]))}
    if draw(st.integers(0, 2)) == 0:
        doc["final"] = {"settled": draw(st.sampled_from(["b == 0", "a[1] < 2"]))}
    return yaml.safe_dump(doc, sort_keys=False)


@settings(PROFILE)
@given(scanning_scenarios())
def test_scanning_scenarios_agree(text):
    compare_if_small(text)
