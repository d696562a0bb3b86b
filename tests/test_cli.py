"""The command line: exit statuses, directories, replay, version."""

import os
import subprocess
import sys

import pytest

from racecheck import __version__
from racecheck.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(ROOT, "scenarios", "dirty_unlocked.yaml")

UNEXPECTED = """
racecheck: 1
title: expects safe, but is not
state: {x: 0}
threads:
  a:
    steps:
      - {step: set, do: x = 1}
invariants:
  zero: x == 0
"""

FOREVER = """
racecheck: 1
title: counts forever
livelock: allowed
state: {n: 0}
threads:
  a:
    steps:
      - while: "True"
        steps:
          - {step: n++, do: n += 1}
invariants:
  counted: n >= 0    # n is observed: a counter nothing reads would be merged away
"""


def test_seed_exits_zero_and_prints_the_table(capsys):
    assert main([SEED]) == 0
    out = capsys.readouterr().out
    assert "variant unlocked: violation of invariant page_not_lost" in out
    last = out.rstrip().splitlines()[-1].split()
    assert last[:2] == ["trylock", "safe"] and last[-1] == "ok"


def test_mismatch_exits_one(write_scenario, capsys):
    assert main([write_scenario(UNEXPECTED)]) == 1
    assert "NOT AS EXPECTED" in capsys.readouterr().out


def test_bound_exits_three_and_says_inconclusive(write_scenario, capsys):
    assert main([write_scenario(FOREVER), "--max-states", "100"]) == 3
    out = capsys.readouterr().out
    assert "inconclusive (stopped at the --max-states bound)" in out
    assert "safe" not in out.split("inconclusive")[0].split(":", 1)[1]


def test_timeout_bound(write_scenario, capsys):
    assert main([write_scenario(FOREVER), "--timeout", "0.2"]) == 3
    assert "--timeout bound" in capsys.readouterr().out


def test_directory_is_searched_for_scenarios(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text(open(SEED).read())
    (tmp_path / "ci.yaml").write_text("jobs: {}\n")          # not a scenario: skipped
    assert main([str(tmp_path), "--width", "0"]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("== ")] == \
        [f"== {tmp_path / 'sub' / 'a.yaml'}: zswap writeback marks a swapcache folio dirty without the folio lock"]


def test_one_bad_file_among_good_ones_exits_two(write_scenario, capsys):
    bad = write_scenario("racecheck: 1\ntitle: x\n")
    assert main([SEED, bad]) == 2
    captured = capsys.readouterr()
    assert "variant trylock" in captured.out
    assert "missing required key 'state'" in captured.err


def test_variant_selection(capsys):
    assert main([SEED, "--variant", "trylock"]) == 0
    out = capsys.readouterr().out
    assert "variant trylock: safe" in out and "variant v1" not in out


def test_replay_prints_the_state_after_every_step(capsys):
    status = main([SEED, "--variant", "unlocked", "--schedule", "reclaim,writeback*3,reclaim*3,writeback*2"])
    assert status == 0
    out = capsys.readouterr().out
    assert "replay of 9 steps" in out
    unchanged = next(line for line in out.splitlines() if line.startswith("unchanged: "))
    assert "next_id = 2" in unchanged
    assert "folio.refs = 3" in unchanged         # the mail's level counts no references
    assert "after step 9: invariant page_not_lost is violated" in out
    rows = [line for line in out.splitlines() if line[:2].strip().isdigit()]
    assert len(rows) == 10                       # the initial state and 9 steps
    assert rows[6].split()[:3] == ["6", "reclaim", "folio_test_dirty(folio)"]
    assert rows[7].split()[:7] == ["7", "reclaim", "__remove_mapping(folio)", "True", "False", "False", "False"]


def test_replay_needs_a_variant_when_there_are_several(capsys):
    assert main([SEED, "--schedule", "reclaim"]) == 2
    assert "choose one with --variant" in capsys.readouterr().err


def test_version():
    out = subprocess.run([sys.executable, "-m", "racecheck", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f"racecheck {__version__}"


def test_help_lists_exit_statuses():
    out = subprocess.run([sys.executable, "-m", "racecheck", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for word in ("--variant", "--schedule", "--max-states", "--timeout", "exit status"):
        assert word in out.stdout


def test_no_arguments_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "racecheck:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--max-states", "0"], ["--timeout", "-1"], ["--bogus"]])
def test_bad_options_are_usage_errors(argv, capsys):
    assert main([SEED] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("racecheck: ") and "Traceback" not in err


def _in_root(func, *args):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return func(*args)
    finally:
        os.chdir(cwd)


def test_report_command_writes_the_committed_reports(tmp_path, capsys):
    status = _in_root(main, ["report", "scenarios/dirty_unlocked.yaml", "--out", str(tmp_path)])
    assert status == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["dirty_unlocked.html", "dirty_unlocked.json", "dirty_unlocked.md", "dirty_unlocked.txt"]
    for name in written:
        committed = open(os.path.join(ROOT, "reports", name)).read()
        assert (tmp_path / name).read_text() == committed, name


def test_diff_of_two_variants_shows_the_race_the_fix_removes(capsys):
    assert _in_root(main, ["diff", "scenarios/dirty_unlocked.yaml", "--variants", "unlocked", "trylock"]) == 0
    out = capsys.readouterr().out
    assert "Before this patch, this ordering violates invariant page_not_lost" in out
    assert "set_page_dirty(page)" in out
    assert "After this patch, no interleaving violates anything" in out


def test_diff_of_two_files(tmp_path, capsys):
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    text = open(SEED).read()
    old.write_text(text.replace("expect: safe", "expect: {violation: page_not_lost}").replace(
        "params: {level: mail, writeback: trylock, put: none}", "params: {level: mail, writeback: dirty, put: none}"))
    new.write_text(text)
    assert main(["diff", f"{old}::trylock", f"{new}::trylock"]) == 0
    assert "Before this patch" in capsys.readouterr().out


def test_export_dot_and_graphml(tmp_path, capsys):
    import networkx
    assert main(["export", "--dot", SEED, "--variant", "trylock"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    out = tmp_path / "g.graphml"
    assert main(["export", "--graphml", SEED, "--variant", "trylock", "-o", str(out)]) == 0
    graph = networkx.read_graphml(str(out))
    assert graph.number_of_nodes() == 54            # the full graph of trylock


def test_export_needs_a_variant_when_there_are_several(capsys):
    assert main(["export", "--dot", SEED]) == 2
    assert "choose one with --variant" in capsys.readouterr().err


def test_subcommand_help(capsys):
    for command in ("report", "diff", "export"):
        assert main([command, "--help"]) == 0
        assert f"racecheck {command}" in capsys.readouterr().out


def test_ctrl_c_prints_partial_statistics_and_exits_130(write_scenario):
    import signal
    import time
    path = write_scenario(FOREVER)
    proc = subprocess.Popen([sys.executable, "-m", "racecheck", path, "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)                       # the search is running
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "inconclusive (interrupted)" in out
    assert " states, " in out             # the statistics of the partial search
    assert "Traceback" not in err


def test_internal_error_is_never_a_verdict(monkeypatch, capsys):
    import racecheck.explore.check as check

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(check, "explore", broken)
    assert main([SEED]) == 70
    captured = capsys.readouterr()
    assert "racecheck internal error: RuntimeError: simulated bug" in captured.err
    assert "please report it" in captured.err
    assert "violation" not in captured.out


@pytest.mark.parametrize("command", ["", "report", "diff", "export", "explain", "litmus", "audit"])
def test_help_fits_75_columns(command, capsys):
    assert main(([command] if command else []) + ["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: racecheck" in out
    assert [line for line in out.splitlines() if len(line) > 75] == []
