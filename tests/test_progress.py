"""Long runs that speak: progress on stderr, and the summary over several files.

Under pytest, stderr is not a terminal: progress lines then come at most
every 30 s, or every RACECHECK_PROGRESS_SECONDS when set. With 0 the search
reports at its first look at the clock (the first state it expands), so the
tests below see a line without waiting for anything.
"""

from __future__ import annotations

import os
import re

import pytest

from racecheck.cli import PROGRESS_LOG_SECONDS, Progress, main
from tests.folding import flat
from racecheck.report.summary import summary_line
from racecheck.scenario.loader import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(ROOT, "scenarios", "dirty_unlocked.yaml")
OTHER = os.path.join(ROOT, "scenarios", "free_pages_speculative_leak.yaml")
SEED_VARIANTS = ("v1", "unlocked", "unlocked_kernel", "put_first", "trylock")

LINE = re.compile(r"racecheck: (?P<label>.+): (?P<states>[\d,]+) states?, [\d,]+ states/s, depth \d+, "
                  r"[\d,]+ MiB, \d+ s$")

UNEXPECTED = ("racecheck: 1\ntitle: its assert fails\nstate: {x: 0}\n"
              "threads: {a: {steps: [{step: check, do: assert False}]}}\n")


def test_progress_lines_when_stderr_is_not_a_terminal(monkeypatch, capsys):
    monkeypatch.setenv("RACECHECK_PROGRESS_SECONDS", "0")
    assert main([SEED]) == 0
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines and all(LINE.match(line) for line in lines), err
    labels = [LINE.match(line)["label"] for line in lines]
    assert labels[0] == f"{SEED}, variant v1"
    assert {label.split("variant ")[1] for label in labels} == set(SEED_VARIANTS)
    assert "\r" not in err and "\033" not in err


def test_report_and_diff_label_their_progress_too(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("RACECHECK_PROGRESS_SECONDS", "0")
    assert main(["report", OTHER, "--out", str(tmp_path)]) == 0
    labels = [LINE.match(line)["label"] for line in capsys.readouterr().err.splitlines()]
    assert labels and all(label.startswith(f"{os.path.normpath(OTHER)}, variant ") for label in labels)
    main(["diff", SEED, "--variants", "unlocked", "trylock"])
    labels = [LINE.match(line)["label"] for line in capsys.readouterr().err.splitlines()]
    assert {label.split("variant ")[1] for label in labels} == {"unlocked", "trylock"}


def test_quiet_means_no_progress(monkeypatch, capsys):
    monkeypatch.setenv("RACECHECK_PROGRESS_SECONDS", "0")
    assert main([SEED, "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_intervals(monkeypatch):
    assert PROGRESS_LOG_SECONDS == 30
    monkeypatch.delenv("RACECHECK_PROGRESS_SECONDS", raising=False)
    assert Progress(tty=False).every == 30
    assert Progress(tty=True).every == 1.0
    for bad in ("soon", "-1"):
        monkeypatch.setenv("RACECHECK_PROGRESS_SECONDS", bad)
        assert Progress(tty=False).every == 30
    monkeypatch.setenv("RACECHECK_PROGRESS_SECONDS", "2.5")
    assert Progress(tty=False).every == 2.5 and Progress(tty=True).every == 1.0


def test_a_terminal_gets_one_line_rewritten_in_place(capsys):
    progress = Progress(tty=True)
    progress(1234, 2000, 7, 2.0)
    assert capsys.readouterr().err == "\r  1,234 states, depth 7, 617 states/s, 2 s "
    assert progress.shown


def test_a_log_gets_whole_lines_naming_file_and_variant(capsys):
    progress = Progress(tty=False)
    progress.label = "a.yaml, variant v"
    progress(1, 0, 0, 0.5)
    err = capsys.readouterr().err
    assert err.startswith("racecheck: a.yaml, variant v: 1 state, 2 states/s, depth 0, ") and err.endswith(" s\n")
    assert LINE.match(err.rstrip("\n"))


# == the summary over several files ===========================================================

SUMMARY = re.compile(r"checked (?P<files>\d+ files?), (?P<variants>\d+ variants?): (?P<match>\d+) as expected, "
                     r"(?P<mismatch>\d+) mismatched, (?P<inconclusive>\d+) inconclusive in \d+\.\d s(?P<rest>.*)$")


def summary_of(out: str) -> str:
    """The summary paragraph at the end of the output, on one line."""
    return flat(out.rstrip("\n").split("\n\n")[-1])


def test_summary_line_over_several_files(capsys, write_scenario):
    bad = write_scenario("racecheck: 1\ntitle: [unclosed\n")
    status = main([SEED, OTHER, write_scenario(UNEXPECTED), bad, "-q"])
    assert status == 2
    last = summary_of(capsys.readouterr().out)
    found = SUMMARY.match(last)
    assert found, last
    shipped = len(load_scenario(SEED).variants) + len(load_scenario(OTHER).variants)
    assert found["files"] == "3 files" and found["variants"] == f"{shipped + 1} variants"
    assert (found["match"], found["mismatch"], found["inconclusive"]) == (str(shipped), "1", "0")
    assert found["rest"] == "; 1 file not checked (see the errors above)"


def test_no_summary_for_one_file(capsys):
    assert main([SEED, "-q"]) == 0
    assert "checked " not in capsys.readouterr().out.splitlines()[-1]


def test_summary_counts_inconclusive(capsys, write_scenario):
    forever = write_scenario("racecheck: 1\ntitle: counts\nlivelock: allowed\nstate: {n: 0}\nthreads:\n"
                             "  a:\n    steps:\n      - while: 'True'\n        steps:\n"
                             "          - {step: n++, do: n += 1}\n"
                             "invariants:\n  counted: n >= 0\n")  # read, so not merged away
    shipped = len(load_scenario(OTHER).variants)
    assert main([forever, OTHER, "--max-states", "50", "-q"]) == 3
    found = SUMMARY.match(summary_of(capsys.readouterr().out))
    assert found and found["files"] == "2 files" and found["variants"] == f"{shipped + 1} variants"
    assert (found["match"], found["mismatch"], found["inconclusive"]) == (str(shipped), "0", "1")
    assert found["rest"] == ""


@pytest.mark.parametrize("files, results, says", [
    (["a", "b"], [[], []], "checked 2 files, 0 variants: 0 as expected, 0 mismatched, 0 inconclusive in 1.5 s"),
    (["a", "b"], [[]], "checked 1 file, 0 variants: 0 as expected, 0 mismatched, 0 inconclusive in 1.5 s; "
                       "1 file not checked (see the errors above)"),
])
def test_summary_line_words(files, results, says):
    assert summary_line(files, results, 1.5) == says


def test_summary_of_every_shipped_scenario(capsys):
    directory = os.path.join(ROOT, "scenarios")
    files = sorted(name for name in os.listdir(directory) if name.endswith(".yaml"))
    assert main([directory, "-q"]) == 0
    out = capsys.readouterr().out
    variants = len(re.findall(r"^(variant \S+|scenario): ", out, re.M))
    found = SUMMARY.match(summary_of(out))
    assert found and found["files"] == f"{len(files)} files" and found["variants"] == f"{variants} variants"
    assert (found["match"], found["mismatch"], found["inconclusive"]) == (str(variants), "0", "0")


LKMM = os.path.join(ROOT, "scenarios", "kcompactd_wakeup_barrier.yaml")
LKMM_LINE = re.compile(r"racecheck: (?P<label>.+): (round \d+ of thread runs: [\d,]+ runs of thread code tried|"
                       r"[\d,]+ candidate executions, [\d,]+ consistent), \d+ s, [\d,]+ MiB$")


def test_lkmm_checks_speak_too(monkeypatch, capsys):
    """The enumeration of executions says how far it is, per variant."""
    monkeypatch.setenv("RACECHECK_PROGRESS_SECONDS", "0")
    assert main([LKMM]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(LKMM_LINE.match(line) for line in lines), lines
    labels = {LKMM_LINE.match(line)["label"] for line in lines}
    assert labels == {f"{LKMM}, variant {name}" for name in ("before", "rmb", "mb")}
    assert any("candidate executions" in line for line in lines)
    assert any("runs of thread code" in line for line in lines)
    assert main([LKMM, "-q"]) == 0
    assert capsys.readouterr().err == ""
