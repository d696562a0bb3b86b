"""Every report carries racecheck's version and its scenario file's SHA-256,
and ``racecheck report --check DIR`` says whether stored reports still match."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

import racecheck
from racecheck.cli import main
from racecheck.report import files, stamp

LOST_UPDATE = """\
racecheck: 1
title: a lost update
state: {counter: 0}
threads:
  inc:
    copies: 2
    locals: {x: 0}
    steps:
      - {step: x = counter, do: x = counter}
      - {step: counter = x + 1, do: counter = x + 1}
final:
  both: counter == 2
expect: {violation: both}
"""


@pytest.fixture
def reports(tmp_path, monkeypatch, capsys):
    """Reports of one scenario, written by the CLI from inside tmp_path (paths relative to it)."""
    monkeypatch.chdir(tmp_path)
    os.makedirs("scenarios")
    with open("scenarios/lost.yaml", "w") as handle:
        handle.write(LOST_UPDATE)
    assert main(["report", "scenarios/lost.yaml", "--out", "out", "-q"]) == 0
    capsys.readouterr()
    return tmp_path


def check(capsys, directory="out") -> tuple:
    status = main(["report", "--check", directory])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_every_format_carries_the_version_and_the_sha256(reports):
    digest = hashlib.sha256(LOST_UPDATE.encode()).hexdigest()
    expected = stamp.Stamp("scenarios/lost.yaml", digest, racecheck.__version__)
    for suffix in files.SUFFIXES:
        assert stamp.read_stamp(f"out/lost{suffix}") == expected, suffix
    doc = json.load(open("out/lost.json"))
    assert (doc["scenario_sha256"], doc["racecheck_version"]) == (digest, racecheck.__version__)
    md = open("out/lost.md").read()
    assert f"```text\nscenario:  scenarios/lost.yaml\nsha256:    {digest}\nracecheck: {racecheck.__version__}\n```" in md
    txt = open("out/lost.txt").read()
    assert f"\nsha256:    {digest}\n" in txt and all(len(line) <= 75 for line in stamp.Stamp(
        "scenarios/lost.yaml", digest, "0.1.0").lines())


def test_check_of_fresh_reports(reports, capsys):
    status, out, _ = check(capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[:4] == [f"out/lost{s}: up to date (scenarios/lost.yaml, racecheck {racecheck.__version__})"
                         for s in (".html", ".json", ".md", ".txt")]
    assert lines[-1] == "4 reports: 4 up to date, 0 stale"


def test_check_after_editing_the_scenario(reports, capsys):
    with open("scenarios/lost.yaml", "a") as handle:
        handle.write("# a comment changes the bytes\n")
    status, out, _ = check(capsys)
    assert status == 1
    assert out.count("STALE: scenarios/lost.yaml has changed since (SHA-256 ") == 4
    assert out.splitlines()[-1] == "4 reports: 0 up to date, 4 stale"


def test_check_after_a_version_change(reports, capsys, monkeypatch):
    old = racecheck.__version__
    monkeypatch.setattr(racecheck, "__version__", "99.0.0")
    status, out, _ = check(capsys)
    assert status == 1
    assert out.count(f"STALE: written by racecheck {old}; this is racecheck 99.0.0") == 4


def test_check_when_the_scenario_file_is_missing(reports, capsys):
    os.remove("scenarios/lost.yaml")
    status, out, _ = check(capsys)
    assert status == 1
    assert out.count("STALE: its scenario file scenarios/lost.yaml is missing (a relative path is looked up "
                     "from the current directory)") == 4


def test_one_stale_report_among_fresh_ones(reports, capsys):
    data = json.load(open("out/lost.json"))
    data["scenario_sha256"] = "0" * 64
    with open("out/lost.json", "w") as handle:
        json.dump(data, handle)
    with open("out/notes.md", "w") as handle:              # not a report: no stamp
        handle.write("# notes\n\nscenario:  scenarios/lost.yaml\n")
    status, out, _ = check(capsys)
    assert status == 1
    assert "out/lost.json: STALE: scenarios/lost.yaml has changed since (SHA-256 000000000000..., now " in out
    assert "out/notes.md: STALE: it carries no racecheck stamp" in out
    assert "out/lost.md: up to date" in out
    assert out.splitlines()[-1] == "5 reports: 3 up to date, 2 stale"


@pytest.mark.parametrize("argv, message", [
    (["report", "--check", "nowhere"], "racecheck: --check: nowhere is not a directory"),
    (["report", "--check", "empty"], "racecheck: --check: no reports (*.md, *.txt, *.json, *.html) in empty"),
    (["report", "--check", "out", "scenarios/lost.yaml"], "racecheck: --check DIR takes no scenario files, --out or --index"),
    (["report", "scenarios/lost.yaml"], "racecheck: the following arguments are required: --out"),
    (["report", "--out", "x"], "racecheck: the following arguments are required: PATH"),
])
def test_check_and_report_usage_errors(reports, capsys, argv, message):
    os.makedirs("empty")
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == message and "Traceback" not in captured.err


def test_stamp_survives_odd_paths_in_every_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    odd = "a&b <c> \"d\" #e;"
    os.makedirs(odd)
    path = os.path.join(odd, "s.yaml")
    with open(path, "w") as handle:
        handle.write(LOST_UPDATE)
    assert main(["report", path, "--out", "out", "-q"]) == 0
    for suffix in files.SUFFIXES:
        assert stamp.read_stamp(f"out/s{suffix}").file == path, suffix
    assert stamp.check_reports("out")[0].problems == ()


def test_unreadable_scenario_for_a_stamp_is_a_usage_error(tmp_path):
    from racecheck.errors import UsageError
    with pytest.raises(UsageError, match="cannot read .*nothing.yaml to compute its SHA-256"):
        stamp.stamp_of(str(tmp_path / "nothing.yaml"))
