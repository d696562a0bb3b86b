"""Start-up: a command imports only what it runs. ``racecheck FILE`` must
not pay for the litmus, audit and memory-model code (or networkx) that
only other commands use; ``--help`` still lists every command."""

import json
import os
import subprocess
import sys

import pytest

from racecheck.cli import COMMANDS, main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(ROOT, "scenarios", "dirty_unlocked.yaml")

# modules only other commands (or rarely used options) need
NOT_FOR_CHECK = ("racecheck.cli.litmus", "racecheck.cli.audit", "racecheck.cli.report", "racecheck.cli.diff",
                 "racecheck.cli.export", "racecheck.cli.explain", "racecheck.explore.audit",
                 "racecheck.explore.litmus", "racecheck.explore.executions", "racecheck.explore.witness",
                 "racecheck.model.lkmm", "racecheck.scenario.litmus", "racecheck.spin", "networkx")

PROBE = """
import contextlib, io, json, sys
from racecheck.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(sys.argv[1:])
print(json.dumps([status, sorted(sys.modules)]))
"""


def modules_after(argv) -> tuple:
    """The exit status of ``racecheck ARGV`` in a fresh interpreter, and
    every module it imported."""
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    status, modules = json.loads(out.stdout.splitlines()[-1])
    return status, modules


def loaded(modules, prefixes) -> list:
    return [m for m in modules if any(m == p or m.startswith(p + ".") or m.startswith(p + "_")
                                      for p in prefixes)]


def test_checking_a_file_imports_no_other_command():
    status, modules = modules_after([SEED])
    assert status == 0
    assert "racecheck.cli.check" in modules          # the probe sees the imports at all
    assert loaded(modules, NOT_FOR_CHECK) == []


def test_a_command_imports_its_own_module_only():
    status, modules = modules_after(["litmus", os.path.join(ROOT, "tests", "lkmm", "SB+mb+mb.litmus")])
    assert status == 0
    assert "racecheck.cli.litmus" in modules
    assert loaded(modules, ("racecheck.cli.audit", "racecheck.cli.report", "racecheck.cli.export",
                            "racecheck.spin", "networkx")) == []


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert [c for c in COMMANDS if f"racecheck {c}" not in out and c != "check"] == []
    assert "racecheck [check] PATH" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_runs(command, capsys):
    assert main([command, "--help"]) == 0
    assert "usage: racecheck" in capsys.readouterr().out


def test_unknown_attribute_is_an_attribute_error():
    import racecheck.cli as cli
    assert callable(cli.build_parser) and "exit status" in cli.EPILOG
    with pytest.raises(AttributeError):
        cli.no_such_name
