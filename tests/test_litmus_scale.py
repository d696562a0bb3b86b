"""The generated litmus families of benchmarks/litmus_scale.py: Never under
LKMM, with 2**n - 1 consistent executions (herd7 gives the same, see
benchmarks/LITMUS.md)."""

from __future__ import annotations

import pytest

from benchmarks.litmus_scale import FAMILIES, run_racecheck


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [3, 4, 5])
def test_generated_family_is_never(family, n):
    answer, executions, _ = run_racecheck(FAMILIES[family](n))
    assert (answer, executions) == ("Never", 2 ** n - 1)
