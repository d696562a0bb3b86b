"""benchmarks/direct.py: the hand-written Promela lastzero has racecheck's
graph (same stored states, same transitions), so benchmarks/run.py may set
their rates side by side; the classic spelling does not. And the records
family of benchmarks/run.py is the natural spelling of the pages model."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))

from benchmarks import direct  # noqa: E402
from benchmarks.families import lastzero  # noqa: E402
from benchmarks.run import FAMILIES  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.model.program import Program  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402

HAVE_SPIN = bool(shutil.which("spin") and shutil.which("gcc"))


def racecheck_full(text: str, tmp_path) -> tuple:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    scenario = load_scenario(str(path))
    result = explore(Program(scenario, scenario.variants[0]), reduction=False)
    return result.stats.states, result.stats.transitions


def pan(promela: str, tmp_path) -> tuple:
    """SPIN's stored states and its transitions (stored + matched, which
    counts the initial state once more than racecheck's edges)."""
    import subprocess
    (tmp_path / "model.pml").write_text(promela)
    subprocess.run(["spin", "-a", "model.pml"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["gcc", "-O2", "-DSAFETY", "-DNOREDUCE", "-o", "pan", "pan.c"], cwd=tmp_path, check=True,
                   capture_output=True)
    out = subprocess.run(["./pan"], cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    assert "errors: 0" in out
    stored = int(re.search(r"(\d+) states, stored", out).group(1))
    transitions = int(re.search(r"(\d+) transitions \(= stored\+matched\)", out).group(1))
    return stored, transitions - 1


def test_the_models_are_what_the_docstring_says():
    text = direct.lastzero_promela(3)
    assert "#define N 3" in text and "d_step { a[i] != 0 -> i-- }" in text and text.count("end: false") == 2
    classic = direct.lastzero_promela(3, classic=True)
    assert "d_step" not in classic and "end:" not in classic and "a[i] != 0 -> i--" in classic
    with pytest.raises(ValueError):
        direct.lastzero_promela(0)


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are needed")
@pytest.mark.parametrize("n", [1, 3, 4])
def test_direct_lastzero_is_racecheck_graph(n, tmp_path):
    ours = racecheck_full(lastzero(n), tmp_path)
    assert pan(direct.lastzero_promela(n), tmp_path) == ours
    assert ours == {1: (8, 8), 3: (130, 242), 4: (499, 1156)}[n]


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are needed")
def test_classic_lastzero_is_a_larger_graph(tmp_path):
    assert pan(direct.lastzero_promela(4, classic=True), tmp_path)[0] == 1597


def test_records_family_is_the_natural_spelling(tmp_path):
    text = FAMILIES["records"](2)
    assert "for p in pages" in text and "pages[tid]" in text
    # the same meaning as the pages family: the same full graph
    assert racecheck_full(text, tmp_path)[0] == racecheck_full(FAMILIES["pages"](2), tmp_path)[0] == 2916
