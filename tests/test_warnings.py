"""Mistakes that load: warnings at the place written, exit status unchanged.

The rule under test (docs/format.md, *Warnings*): a scenario that loads but
looks like a mistake gets

    FILE:LINE:COL: warning: message
        the offending source line
        ^
    hint: what to write instead

on stderr, once per place, and the check runs exactly as it would without
the warning (same stdout, same exit status). The pytest plugin issues the
same warnings as ``ScenarioFileWarning``. Also here: ``--variant`` with a
typo, and ``python -m racecheck`` without its dependencies installed.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import textwrap

import pytest

from racecheck.errors import MissingDependency
from racecheck.scenario.loader import load_scenario
from racecheck.scenario.mistakes import boolean_spelling
from test_bad_input import BASE, ROOT, check, edit, where

pytest_plugins = ["pytester"]


def warnings_of(run) -> list:
    """The 'FILE:LINE:COL: warning: ...' heads on stderr."""
    return [line for line in run.err.splitlines() if ": warning: " in line]


def assert_warned(run, path: str, text: str, needle: str, phrase: str, hint: str | None = None,
                  nth: int = 1, after: str | None = None) -> None:
    """One warning at ``needle``, with caret and hint; the check itself ran."""
    line, col = where(text, needle, nth, after)
    heads = warnings_of(run)
    assert len(heads) == 1, run.err
    assert heads[0].startswith(f"{path}:{line}:{col}: warning: "), f"expected {path}:{line}:{col}:\n{run.err}"
    assert phrase in heads[0], run.err
    lines = run.err.splitlines()
    at = lines.index(heads[0])
    assert lines[at + 1] == "    " + text.splitlines()[line - 1], run.err
    assert lines[at + 2] == "    " + " " * (col - 1) + "^", run.err
    if hint is not None:
        assert lines[at + 3] == f"hint: {hint}", run.err
    assert "== " in run.out, run.out                         # the check ran


def untimed(text: str) -> str:
    return re.sub(r"\d+\.\d+", "N", text)


def same_check(tmp_path, capsys, warned: str, clean: str):
    """Run both texts; the warned one prints the same report with the same status."""
    path, run = check(tmp_path, capsys, warned, name="warned.yaml")
    clean_path, clean_run = check(tmp_path, capsys, clean, name="clean.yaml")
    assert warnings_of(clean_run) == [], clean_run.err
    assert run.status == clean_run.status
    assert untimed(run.out.replace(path, clean_path)) == untimed(clean_run.out)
    return path, run


# -- YAML 1.1 boolean spellings ------------------------------------------------

@pytest.mark.parametrize("word, boolean", [
    ("no", "false"), ("yes", "true"), ("on", "true"), ("off", "false"), ("y", "true"), ("n", "false"),
    ("Yes", "true"), ("NO", "false"), ("Off", "false")])
def test_yaml_1_1_boolean_in_state_warns(tmp_path, capsys, word, boolean):
    text = edit("  lock: false\n", f"  lock: {word}\n")
    path, run = same_check(tmp_path, capsys, text, edit("  lock: false\n", f"  lock: '{word}'\n"))
    assert_warned(run, path, text, f"{word}\n", f"'{word}' is the string '{word}' here, not a boolean",
                  f"write {boolean} for the boolean, or quote it ('{word}') to keep the string",
                  after="  lock:")


@pytest.mark.parametrize("word, boolean", [("ture", "true"), ("flase", "false"), ("fasle", "false"),
                                           ("treu", "true"), ("tru", "true"), ("fals", "false"),
                                           ("tRUE", "true")])
def test_misspelt_boolean_warns(tmp_path, capsys, word, boolean):
    text = edit("  lock: false\n", f"  lock: {word}\n")
    path, run = check(tmp_path, capsys, text)
    assert_warned(run, path, text, f"{word}\n", f"did you mean the boolean {boolean}?", after="  lock:")


@pytest.mark.parametrize("word", ["tree", "free", "truth", "folio", "none", "nope", "onn"])
def test_words_near_a_boolean_do_not_warn(word):
    assert boolean_spelling(word) is None


@pytest.mark.parametrize("old, new, needle", [
    ("  mode: racy\n", "  mode: on\n", "on\n"),                                  # params
    ("locals: {tmp: 0}", "locals: {tmp: 0, seen: no}", "no}"),                     # locals
    ("params: {mode: racy}", "params: {mode: racy, }", None),                       # (no warning)
    ("rec: {busy: false, owner: 0}", "rec: {busy: off, owner: 0}", "off"),         # inside a record
    ("slots: [0, 0]", "slots: [0, yes]", "yes]"),                                  # inside a list
])
def test_boolean_spelling_is_found_wherever_a_value_is(tmp_path, capsys, old, new, needle):
    text = edit(old, new)
    path, run = check(tmp_path, capsys, text)
    if needle is None:
        assert warnings_of(run) == [], run.err
    else:
        assert_warned(run, path, text, needle, "is the string")


def test_boolean_spelling_in_a_variant_warns_once(tmp_path, capsys):
    text = edit("    params: {mode: locked}", "    params: {mode: off}")
    path, run = check(tmp_path, capsys, text)
    assert_warned(run, path, text, "off}", "'off' is the string 'off' here")


@pytest.mark.parametrize("value", ["'no'", '"no"', "false", "False", "true", "racy"])
def test_quoted_strings_and_real_booleans_do_not_warn(tmp_path, capsys, value):
    _, run = check(tmp_path, capsys, edit("  lock: false\n", f"  lock: {value}\n"))
    assert warnings_of(run) == [], run.err


def test_text_fields_are_not_values(tmp_path, capsys):
    # step text, titles and descriptions are text: 'no' there is meant as a word
    text = edit("title: two threads increment a shared counter", "title: no")
    text = edit("      - step: unlock()", "      - step: off", text)
    _, run = check(tmp_path, capsys, text)
    assert warnings_of(run) == [], run.err


# -- an await nothing else can change ---------------------------------------------

@pytest.mark.parametrize("cond", ["tmp == 0", "mode == 'locked'", "tid == 0", "tmp == 0 and mode == 'racy'",
                                  "False"])
def test_await_reading_no_shared_variable_warns(tmp_path, capsys, cond):
    text = edit("        await: mode == 'racy' or not lock", f"        await: {cond}")
    path, run = check(tmp_path, capsys, text)
    assert_warned(run, path, text, cond, "the await of step 'lock()' reads no shared variable",
                  "await a condition on shared state (a lock, a flag another thread sets); "
                  "to test a local, use an 'if:' step", after="await:")
    assert "thread 'inc' reaches it, the thread waits there forever" in run.err


@pytest.mark.parametrize("cond", ["not lock", "mode == 'racy' or not lock", "True", "tmp == 0 or counter > 5",
                                  "rec.busy == False"])
def test_await_reading_shared_state_or_true_does_not_warn(tmp_path, capsys, cond):
    _, run = check(tmp_path, capsys, edit("        await: mode == 'racy' or not lock", f"        await: {cond}"))
    assert warnings_of(run) == [], run.err


def test_local_await_that_blocks_is_a_deadlock_the_warning_foretold(tmp_path, capsys):
    text = edit("        await: mode == 'racy' or not lock", "        await: tmp == 1")
    path, run = check(tmp_path, capsys, text)
    assert len(warnings_of(run)) == 1
    assert "violation of deadlock" in run.out
    assert run.status == 1                          # the verdict decides the status, not the warning


# -- variants that repeat each other -------------------------------------------------

TWIN = """\
  twin:
    params: {mode: racy}
    expect: {violation: both_counted}
"""


def test_duplicate_variant_warns_at_the_second(tmp_path, capsys):
    text = BASE + TWIN
    path, run = check(tmp_path, capsys, text)
    first = where(text, "racy:")[0]
    assert_warned(run, path, text, "twin:", f"variant 'twin' has the same params and expectation as variant "
                  f"'racy' (line {first}): it checks the same thing twice")
    assert run.status == 0


@pytest.mark.parametrize("twin", [
    TWIN.replace("{violation: both_counted}", "violation"),                 # another expectation
    TWIN.replace("{mode: racy}", "{mode: locked}"),                         # another param
    TWIN.replace("{mode: racy}", "{mode: 'racy '}"),
])
def test_variants_that_differ_do_not_warn(tmp_path, capsys, twin):
    _, run = check(tmp_path, capsys, BASE + twin)
    assert warnings_of(run) == [], run.err


def test_true_and_one_are_different_params(tmp_path, capsys):
    text = ("racecheck: 1\ntitle: t\nparams: {p: 1}\nstate: {x: 0}\nthreads:\n  a:\n    steps:\n"
            "      - {step: s, do: x = 1}\nvariants:\n  one: {params: {p: 1}}\n  yes_: {params: {p: true}}\n")
    _, run = check(tmp_path, capsys, text)
    assert warnings_of(run) == [], run.err


# -- what racecheck ships -------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))),
                         ids=os.path.basename)
def test_shipped_scenarios_have_no_warnings(path):
    assert [w.render() for w in load_scenario(path).warnings] == []


@pytest.mark.parametrize("doc", ["README.md"] + [f"docs/{n}" for n in sorted(os.listdir(os.path.join(ROOT, "docs")))
                                                if n.endswith(".md")])
def test_documented_examples_have_no_warnings(tmp_path, doc):
    from test_docs import yaml_blocks
    for i, block in enumerate(yaml_blocks(doc)):
        path = tmp_path / f"example{i}.yaml"
        path.write_text(block)
        assert [w.render() for w in load_scenario(str(path)).warnings] == [], (doc, i)


def test_each_warning_is_printed_once_by_every_command(tmp_path, capsys):
    text = edit("  lock: false\n", "  lock: no\n")
    path, run = check(tmp_path, capsys, text, "--variant", "racy", "--schedule", "inc#0")
    assert len(warnings_of(run)) == 1, run.err
    from test_bad_input import run_cli
    run = run_cli(capsys, "report", path, "--out", tmp_path / "out")
    assert len(warnings_of(run)) == 1, run.err
    run = run_cli(capsys, "diff", path, "--variants", "racy", "locked")
    assert len(warnings_of(run)) == 1, run.err      # one file, loaded for each side


# -- the pytest plugin ----------------------------------------------------------------

def test_pytest_plugin_shows_warnings_in_the_summary(pytester):
    pytester.makefile(".yaml", counter=edit("rec: {busy: false", "rec: {busy: no"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*counter.yaml:*: ScenarioFileWarning: 'no' is the string 'no' here*",
                                 "*hint: write false for the boolean*"])


def test_pytest_plugin_warning_as_error_names_the_place(pytester):
    text = edit("  lock: false\n", "  lock: no\n")
    pytester.makefile(".yaml", counter=text)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest",
                                "-W", "error::racecheck.pytest_plugin.ScenarioFileWarning")
    line, col = where(text, "no\n", after="  lock:")
    result.stdout.fnmatch_lines([f"counter.yaml:{line}:{col}: warning: 'no' is the string 'no' here*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "INTERNALERROR" not in result.stdout.str()


# -- --variant with a typo --------------------------------------------------------------

@pytest.mark.parametrize("args", [(), ("--schedule", "inc#0")])
def test_variant_typo_suggests_the_closest_name(tmp_path, capsys, args):
    path, run = check(tmp_path, capsys, BASE, "--variant", "lockd", *args)
    assert run.status == 2
    assert run.err == (f"racecheck: {path}: no variant named 'lockd'; did you mean 'locked'? "
                       "its variants are: racy, locked\n")


# -- dependencies not installed -----------------------------------------------------------

# Runs racecheck as ``python -m racecheck`` with some top-level modules
# refused by a meta path finder placed before every other one, as if the
# packages were not installed.
BLOCKER = textwrap.dedent("""\
    import runpy, sys
    blocked = set(sys.argv[1].split(","))
    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in blocked:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Refuse())
    sys.argv = ["racecheck"] + sys.argv[2:]
    runpy.run_module("racecheck", run_name="__main__", alter_sys=True)
    """)


def run_without(modules: str, *args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", BLOCKER, modules, *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


@pytest.mark.parametrize("modules, packages", [
    ("tabulate", "the Python package 'tabulate', which is"),
    ("yaml", "the Python package 'PyYAML', which is"),
    ("yaml,tabulate", "the Python packages 'PyYAML' and 'tabulate', which are"),
])
def test_missing_dependency_is_named_with_how_to_install_it(modules, packages):
    proc = run_without(modules, "scenarios/dirty_unlocked.yaml")
    install = " ".join(MissingDependency([m]).packages[0] for m in modules.split(","))
    assert proc.returncode == 69, proc.stderr
    assert proc.stdout == ""                      # said before anything is checked
    assert proc.stderr == (f"racecheck: racecheck needs {packages} not installed\n"
                           "hint: install racecheck with its dependencies: pip install -e . (from the checkout), "
                           f"or the missing packages alone: pip install {install}\n")


def test_missing_dependency_imported_late_is_named_too(monkeypatch, capsys):
    # tabulate is imported only when a table is drawn: if it goes missing after
    # the start-up check (or racecheck is run through its entry point, which
    # has no such check), the command still names it instead of failing as a bug
    from test_bad_input import SEED, run_cli
    monkeypatch.setitem(sys.modules, "tabulate", None)
    run = run_cli(capsys, SEED)
    assert run.status == 69, run.err
    assert run.err.startswith("racecheck: racecheck needs the Python package 'tabulate'"), run.err
    assert "internal error" not in run.err


def test_exit_status_69_is_documented():
    from racecheck.cli import EPILOG, EXIT_MISSING
    assert EXIT_MISSING == 69
    assert "  69   a package racecheck needs is not installed" in EPILOG
    with open(os.path.join(ROOT, "docs", "format.md"), encoding="utf-8") as handle:
        assert "exit status 69" in handle.read()


def test_dependency_list_matches_pyproject():
    import tomllib
    from racecheck.errors import DEPENDENCIES
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        declared = tomllib.load(handle)["project"]["dependencies"]
    names = sorted(d.split(">")[0].split("=")[0].split("<")[0].strip() for d in declared)
    assert sorted(DEPENDENCIES.values()) == names


def test_the_documented_warning_is_what_racecheck_prints(tmp_path, capsys, monkeypatch):
    text = ("racecheck: 1\ntitle: a lock\nstate:\n  inside: 0\n  locked: no\nthreads:\n  worker:\n    steps:\n"
            "      - step: spin_lock(&lock)\n        await: not locked\n        do: locked = True\n")
    (tmp_path / "scenario.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    from test_bad_input import run_cli
    run = run_cli(capsys, "scenario.yaml")
    assert "violation of deadlock" in run.out
    with open(os.path.join(ROOT, "docs", "format.md"), encoding="utf-8") as handle:
        doc = handle.read()
    assert "```\n" + run.err + "```\n" in doc, run.err
