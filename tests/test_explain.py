"""``racecheck explain``: which steps and conjuncts make threads dependent,
with their lines and how to write them; and the default command's warning
when an index that is not a constant keeps a large search from reducing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from racecheck.cli import main

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from families import lastzero  # noqa: E402
from shapes import records  # noqa: E402

# writers that find their slot through a counter every writer changes: the
# index a[slot[cur]] stands for every element of a
COUNTER_INDEX = """\
racecheck: 1
title: writers that find their slot through a counter
state:
  slot: [0, 1, 2, 3]
  cur: 0
  a: [0, 0, 0, 0]
threads:
  w:
    copies: 4
    steps:
      - step: bump
        do: cur = (cur + 1) % 4
      - step: write
        do: a[slot[cur]] = tid
      - step: again
        do: a[tid] += 1
      - step: more
        do: a[tid] += 1
invariants:
  small: all(x <= 9 for x in a)
"""


def cli(capsys, *args):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write(tmp_path, text: str) -> str:
    """Write the scenario as ./scenario.yaml in tmp_path (the current
    directory of the tests here, so that positions are short)."""
    (tmp_path / "scenario.yaml").write_text(text, encoding="utf-8")
    return "scenario.yaml"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_explain_names_the_index_with_its_line_and_a_way_out(tmp_path, capsys):
    path = write(tmp_path, COUNTER_INDEX)
    status, out, err = cli(capsys, "explain", path)
    assert status == 0, err
    assert f"{path}:14: `write` writes a[0], a[1], a[2], a[3]" in out
    assert f"{path}:14: `a[slot[cur]]` indexes with a value that is not a" in out
    assert "Index with tid" in out
    assert f"{path}:12: `bump` writes cur" in out          # a real conflict, named as one
    assert "A real conflict" in out
    assert "`slot[cur]`" not in out                         # slot is never written: no conflict through it
    assert max(len(line) for line in out.splitlines()) <= 75


def test_explain_names_a_visible_conjunct(tmp_path, capsys):
    path = write(tmp_path, records(2, "sum"))
    status, out, _ = cli(capsys, "explain", path)
    assert status == 0
    assert "Invariant conjuncts that keep threads in step:" in out
    assert "invariant 'swap_counted': `sum(p.swap_count for p in pages) <= 2`" in " ".join(out.split())


def test_explain_says_when_threads_never_conflict(tmp_path, capsys):
    text = records(2, "for_p")
    status, out, _ = cli(capsys, "explain", write(tmp_path, text))
    assert status == 0
    # each folio's reclaim and writeback conflict; nothing crosses folios
    assert "4 threads; 2 of 6 pairs may conflict." in out
    assert "reclaim#0 and writeback#0:" in out
    assert "reclaim#0 and writeback#1" not in out


def test_explain_of_a_local_index_says_what_the_reduction_does_with_it(tmp_path, capsys):
    status, out, _ = cli(capsys, "explain", write(tmp_path, lastzero(3)))
    assert status == 0
    assert "`a[i]` indexes with the local i" in out
    assert "reader and w3:" in out and "w1 and w3" not in out


def test_explain_bad_input_exits_2(tmp_path, capsys):
    status, _, err = cli(capsys, "explain", write(tmp_path, COUNTER_INDEX), "--variant", "nope")
    assert status == 2 and "no variant named 'nope'" in err
    status, _, err = cli(capsys, "explain", str(tmp_path / "missing.yaml"))
    assert status == 2 and "Traceback" not in err


def test_check_warns_about_an_index_that_keeps_a_large_search_from_reducing(tmp_path, capsys):
    path = write(tmp_path, COUNTER_INDEX)
    status, _, err = cli(capsys, "-q", path)
    assert status == 0
    assert f"racecheck: warning: {path}:14:13: `a[slot[cur]]` indexes with a" in err
    assert "racecheck explain" in " ".join(err.split())
    assert max(len(line) for line in err.splitlines()) <= 75


def test_check_does_not_warn_about_small_searches(capsys):
    seed = Path(__file__).parent.parent / "scenarios" / "dirty_unlocked.yaml"
    status, _, err = cli(capsys, "-q", seed)
    assert status == 0
    assert "warning" not in err


def test_explain_of_threads_that_never_conflict(tmp_path, capsys):
    text = ("racecheck: 1\ntitle: t\nstate: {x: 0, y: 0}\nthreads:\n  a:\n    steps:\n"
            "      - {step: x, do: x = 1}\n  b:\n    steps:\n      - {step: y, do: y = 1}\n")
    status, out, _ = cli(capsys, "explain", write(tmp_path, text))
    assert status == 0
    assert "2 threads; 0 of 1 pairs may conflict." in out
    assert "No two threads conflict" in out
