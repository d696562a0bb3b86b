"""Fingerprints of the interpreted search's states (hash compaction).

Python's ``hash`` gave -1 and -2 one hash, so ``--hash-compact`` took two
states that differ only there for one and could miss a violation (a false
``safe``); it also salted strings differently in every process. The
fingerprint now is a fixed function: equal for equal values, different
where Python's hash collides by construction, the same in every process,
and the compiled function and its Python copy agree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from racecheck.explore import statetable
from racecheck.explore.reduction import DEAD
from racecheck.explore.result import Bounds, Verdict
from racecheck.explore.search import explore
from racecheck.scenario.values import Record

PINNED = ("folio", -1, None, (True, 1 << 70), Record.make({"pte": "swap", "slot": -2}))
PINNED_FINGERPRINT = 0x80E2E0D93ABE59D2


def _fingerprints():
    yield statetable.value_fingerprint
    if statetable.compiled():
        yield statetable.value_fingerprints()


atoms = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-3, 3),
                  st.integers(min_value=-(1 << 200), max_value=1 << 200), st.text(max_size=6))
values = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.sampled_from("abc"), inner, min_size=1, max_size=3).map(Record.make)),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(values)
def test_compiled_and_python_fingerprints_agree(value):
    assert len({f(value) for f in _fingerprints()}) == 1


@settings(max_examples=300, deadline=None)
@given(values, values)
def test_equal_values_equal_fingerprints(a, b):
    for f in _fingerprints():
        if a == b:
            assert f(a) == f(b)
        elif f(a) == f(b):
            pytest.fail(f"{a!r} and {b!r} share a fingerprint")


@pytest.mark.parametrize("a, b", [(-1, -2), ((0, -1), (0, -2)), (0, (1 << 61) - 1), ("a", ("a",)), ((), None),
                                  (Record.make({"a": 1}), Record.make({"b": 1})), (1 << 64, 0)])
def test_values_python_hashes_alike_are_told_apart(a, b):
    for f in _fingerprints():
        assert f(a) != f(b)


def test_equal_values_of_other_types_are_one():
    for f in _fingerprints():
        assert f((True, False)) == f((1, 0))
        assert f("".join(["fo", "lio"])) == f("folio")
        assert f(Record.make({"a": 1})) == f(Record.make({"a": 1}))
        assert f((DEAD, 3)) == f((DEAD, 3)) != f((None, 3))


def test_a_value_without_a_fingerprint_is_refused():
    for f in _fingerprints():
        with pytest.raises(TypeError):
            f((1, object.__new__(type("Payload", (), {"__init__": lambda self: None}))))


def test_fingerprints_are_fixed_across_processes():
    for f in _fingerprints():
        assert f(PINNED) == PINNED_FINGERPRINT
    code = ("from racecheck.explore import statetable\n"
            "from racecheck.scenario.values import Record\n"
            "print(statetable.value_fingerprints()((\"folio\", Record.make({\"pte\": \"swap\"}))))")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(seen) == 1


MINUS_ONE_OR_TWO = textwrap.dedent("""\
    racecheck: 1
    title: two states that differ in -1 and -2 only
    state:
      x: 0
    threads:
      t0:
        steps:
        - step: pick
          do: x = choose(-1, -2)
        - step: check
          do: assert x != -2, "x is -2"
    expect: safe
    """)


@pytest.mark.parametrize("reduction, packed", [(True, False), (False, False), (False, True)])
def test_hash_compaction_keeps_minus_one_and_minus_two_apart(program, reduction, packed):
    program = program(MINUS_ONE_OR_TWO)
    result = explore(program, Bounds(), reduction=reduction, hash_compact=True, packed=packed)
    assert result.verdict is Verdict.VIOLATION
    assert result.violation.message == "x is -2"
