"""The pytest plugin: ``pytest scenarios/`` runs every variant as a test.

Most tests run an inner pytest in a temporary directory with pytester (the
plugin is loaded there through its ``pytest11`` entry point, as for a user);
the last ones run pytest in a subprocess on this checkout's own scenarios,
with pytest-xdist where it is installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys

import pytest

from racecheck.cli import main as racecheck_main
from racecheck.scenario.loader import load_scenario
from tests.folding import flat, unfold

pytest_plugins = ["pytester"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = os.path.join(ROOT, "scenarios")

# Two instances of a thread increment a counter. `racy` and `locked` get the
# verdict they expect; the last two claim the opposite and must fail.
COUNTER = """\
racecheck: 1
title: two increments of a shared counter
params: {mode: racy}
state: {counter: 0, lock: false}
threads:
  inc:
    title: increment()
    copies: 2
    locals: {tmp: 0}
    steps:
      - step: lock()
        await: mode == 'racy' or not lock
        do: |
          if mode == 'locked':
              lock = True
      - step: tmp = counter
        do: tmp = counter
      - step: counter = tmp + 1
        do: counter = tmp + 1
      - step: unlock()
        do: |
          if mode == 'locked':
              lock = False
final:
  both_counted: counter == 2
variants:
  racy: {params: {mode: racy}, expect: {violation: both_counted}}
  locked: {params: {mode: locked}, expect: safe}
  racy_claimed_safe: {params: {mode: racy}, expect: safe}
  fix-2.0+lock: {params: {mode: locked}, expect: {violation: both_counted}}
"""

# No variants: one item, named after the file.
SOLO = """\
racecheck: 1
title: one thread, one step
state: {x: 0}
threads:
  a:
    steps:
      - {step: x = 1, do: x = 1}
final:
  one: x == 1
"""

# An unbounded state space: only a bound stops the search.
FOREVER = """\
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

# `y` is not declared: a load error at line 8, column 17.
BROKEN = """\
racecheck: 1
title: uses an undeclared variable
state: {x: 0}
threads:
  a:
    steps:
      - step: s
        do: x = y
"""

CI_CONFIG = """\
name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest
"""


# The inner runs need only the plugin under test. Others installed here
# (hypothesis, xdist) would be imported afresh by every in-process run.
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist")


def run(pytester, *args):
    return pytester.runpytest(*QUIET_PLUGINS, *args)


def outcomes(result) -> dict:
    """{test name: 'PASSED' | 'FAILED' | ...} from a -v run."""
    found = {}
    for line in result.outlines:
        match = re.match(r"^(\S+\.ya?ml::\S+) (PASSED|FAILED|ERROR|SKIPPED)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
    assert not re.search(r'^\s*File ".*", line \d+', text, re.M), text
    assert not re.search(r"\.py:\d+: ", text), text        # pytest's short traceback entries
    assert "racecheck/" not in text.replace("racecheck: 1", ""), text


# -- pass / fail -----------------------------------------------------------------

def test_each_variant_is_an_item_passing_when_its_expectation_holds(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    result = run(pytester, "-v")
    assert outcomes(result) == {
        "counter.yaml::racy": "PASSED",
        "counter.yaml::locked": "PASSED",
        "counter.yaml::racy_claimed_safe": "FAILED",
        "counter.yaml::fix-2.0+lock": "FAILED",
    }
    result.assert_outcomes(passed=2, failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_scenario_without_variants_is_one_item_named_after_the_file(pytester):
    pytester.makefile(".yml", solo=SOLO)
    result = run(pytester, "-v")
    assert outcomes(result) == {"solo.yml::solo": "PASSED"}
    assert result.ret == pytest.ExitCode.OK


def test_violated_safe_expectation_shows_the_diagram_and_the_replay_command(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    result = run(pytester, "-k", "racy_claimed_safe")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "variant racy_claimed_safe: violation of final both_counted (expected safe: NOT AS EXPECTED)" in flat(out)
    # the race diagram: one column per thread instance, a rule under the titles
    header = next(line for line in result.outlines if line.startswith("inc#0"))
    assert "inc#1" in header
    assert re.search(r"^-+ +-+$", out, re.M), out
    assert "counter = tmp + 1" in out
    assert "final both_counted is violated:" in out
    assert "--schedule" in out
    assert_no_traceback(out)


def test_printed_replay_command_replays_the_violation(pytester, capsys):
    pytester.makefile(".yaml", counter=COUNTER)
    result = run(pytester, "-k", "racy_claimed_safe")
    line = next(line for line in unfold(result.stdout.str()).splitlines() if line.startswith("replay: racecheck "))
    argv = shlex.split(line[len("replay: racecheck "):])
    assert argv[0] == "counter.yaml" and "--variant" in argv and "--schedule" in argv
    capsys.readouterr()
    assert racecheck_main(argv) == 0                       # run where pytest ran: pytester's dir
    assert "final both_counted is violated" in capsys.readouterr().out


def test_expected_violation_not_found_fails_with_the_safe_verdict(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    result = run(pytester, "-k", "fix-2.0+lock")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "variant fix-2.0+lock: safe (expected violation both_counted: NOT AS EXPECTED)" in flat(out)
    assert_no_traceback(out)


def test_item_location_is_the_variant_line(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    items, _ = pytester.inline_genitems(*QUIET_PLUGINS)
    locations = {item.name: item.location for item in items}
    line = COUNTER.splitlines().index("  locked: {params: {mode: locked}, expect: safe}")
    assert locations["locked"] == ("counter.yaml", line, "counter.yaml: variant locked")


# -- selection ---------------------------------------------------------------------

def test_k_selects_by_file_stem(pytester):
    pytester.makefile(".yaml", counter=COUNTER, other=SOLO)
    result = run(pytester, "-v", "-k", "other")
    assert outcomes(result) == {"other.yaml::other": "PASSED"}
    result = run(pytester, "-v", "-k", "counter and not claimed and not fix")
    assert set(outcomes(result)) == {"counter.yaml::racy", "counter.yaml::locked"}


def test_k_selects_by_variant_name(pytester):
    pytester.makefile(".yaml", counter=COUNTER, other=SOLO)
    result = run(pytester, "-v", "-k", "locked")
    assert set(outcomes(result)) == {"counter.yaml::locked"}
    result = run(pytester, "-v", "-k", "racy")
    assert set(outcomes(result)) == {"counter.yaml::racy", "counter.yaml::racy_claimed_safe"}
    result = run(pytester, "-v", "-k", "fix-2.0+lock")
    assert set(outcomes(result)) == {"counter.yaml::fix-2.0+lock"}


def test_file_stem_is_a_keyword_of_each_item(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    items, _ = pytester.inline_genitems(*QUIET_PLUGINS)
    assert [item.nodeid for item in items] == [
        "counter.yaml::racy", "counter.yaml::locked", "counter.yaml::racy_claimed_safe",
        "counter.yaml::fix-2.0+lock"]
    for item in items:
        assert "counter" in item.listextrakeywords()


# -- bounds from the ini file --------------------------------------------------------

def test_ini_max_states_makes_the_search_inconclusive_and_that_fails(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    pytester.makeini("[pytest]\nracecheck_max_states = 3\n")
    result = run(pytester, "-k", "locked and not fix")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "variant locked: inconclusive (stopped at the --max-states bound)" in flat(out)
    assert "was not shown to hold; a bounded search is never taken as safe" in out
    assert "raise racecheck_max_states in the ini file" in out
    assert_no_traceback(out)


def test_ini_bounds_from_pyproject_toml(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\nracecheck_max_depth = 1\n")
    result = run(pytester, "-k", "locked and not fix")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "inconclusive (states at the --max-depth bound were not expanded)" in flat(out)
    assert "raise racecheck_max_depth" in out


def test_ini_timeout_stops_an_unbounded_search(pytester):
    pytester.makefile(".yaml", forever=FOREVER)
    pytester.makeini("[pytest]\nracecheck_timeout = 0.3\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "inconclusive (stopped at the --timeout bound)" in flat(out)
    assert "raise racecheck_timeout" in out


def test_ini_max_memory_accepts_a_size(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    pytester.makeini("[pytest]\nracecheck_max_memory = 64G\n")
    run(pytester, "-k", "racy and not claimed").assert_outcomes(passed=1)


def test_ini_reduction_off_explores_every_interleaving(pytester):
    pytester.makefile(".yaml", counter=COUNTER)
    pytester.makeini("[pytest]\nracecheck_reduction = false\nracecheck_max_states = 1000\n")
    run(pytester, "-k", "counter and not claimed and not fix").assert_outcomes(passed=2)
    # without reduction the full graph of the locked variant is bigger than 5 states
    pytester.makeini("[pytest]\nracecheck_reduction = false\nracecheck_max_states = 5\n")
    run(pytester, "-k", "locked and not fix").assert_outcomes(failed=1)


@pytest.mark.parametrize("option, value, phrase", [
    ("racecheck_max_states", "lots", "must be an integer"),
    ("racecheck_max_states", "0", "must be at least 1"),
    ("racecheck_timeout", "soon", "must be a number of seconds"),
    ("racecheck_max_memory", "12Q", "must be a size like 500M or 4G"),
])
def test_bad_ini_value_is_a_usage_error(pytester, option, value, phrase):
    pytester.makefile(".yaml", counter=COUNTER)
    pytester.makeini(f"[pytest]\n{option} = {value}\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"racecheck: ini option {option} = '{value}' {phrase}" in result.stderr.str()


# -- what is and is not collected ------------------------------------------------------

def test_broken_scenario_is_a_collection_error_with_its_position(pytester):
    pytester.makefile(".yaml", broken=BROKEN)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "broken.yaml:8:17: unknown variable 'y' in step 's' of thread 'a'" in out
    assert "            do: x = y" in out                      # the line, and a caret under y
    assert "                    ^" in out
    assert_no_traceback(out)


def test_broken_scenario_with_continue_on_collection_errors_runs_the_others(pytester):
    pytester.makefile(".yaml", broken=BROKEN, solo=SOLO)
    result = run(pytester, "--continue-on-collection-errors")
    result.assert_outcomes(passed=1, errors=1)


def test_yaml_syntax_error_is_a_collection_error_too(pytester):
    pytester.makefile(".yaml", bad="racecheck: 1\ntitle: [unclosed\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert re.search(r"^bad\.yaml:\d+:\d+: YAML syntax error", out, re.M), out
    assert_no_traceback(out)


def test_ordinary_yaml_is_not_collected(pytester):
    pytester.makefile(".yml", ci=CI_CONFIG)
    pytester.makefile(".yaml", config="key: value\nracecheck_like: 1\nnested:\n  racecheck: 1\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "error" not in result.stdout.str().lower()


def test_other_suffixes_are_not_collected(pytester):
    pytester.makefile(".txt", notes=SOLO)
    pytester.makefile(".json", data=SOLO)
    assert run(pytester).ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_scenarios_coexist_with_python_tests(pytester):
    pytester.makefile(".yaml", solo=SOLO)
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    run(pytester).assert_outcomes(passed=2)


def test_plugin_can_be_disabled(pytester):
    pytester.makefile(".yaml", solo=SOLO)
    assert run(pytester, "-p", "no:racecheck").ret == pytest.ExitCode.NO_TESTS_COLLECTED


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed")
def test_failure_report_survives_xdist(pytester):
    """Workers send reports to the controller as data: the diagram must arrive."""
    pytester.makefile(".yaml", counter=COUNTER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                           "-n", "2", "-k", "claimed")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "final both_counted is violated:" in out
    assert "replay: racecheck counter.yaml --variant racy_claimed_safe --schedule" in unfold(out)


# -- this checkout ------------------------------------------------------------------------

def _expected_nodeids() -> list:
    ids = []
    for name in sorted(os.listdir(SCENARIOS)):
        if name.endswith((".yaml", ".yml")):
            path = os.path.join(SCENARIOS, name)
            stem = os.path.splitext(name)[0]
            ids += [f"scenarios/{name}::{v.name or stem}" for v in load_scenario(path).variants]
    return ids


def _pytest(*args, timeout=300):
    """pytest in a subprocess at the root of this checkout. Runs over
    scenarios/ leave hypothesis's plugin out: importing hypothesis costs
    seconds per process when bytecode is not cached."""
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    quiet = ("-p", "no:hypothesispytest") if "scenarios/" in args else ()
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *quiet, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def test_repo_scenarios_collect_in_file_order_from_the_root():
    proc = _pytest("--collect-only", "-q", "scenarios/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert collected == _expected_nodeids()
    assert "scenarios/dirty_unlocked.yaml::unlocked" in collected


def test_repo_own_tests_collect_no_yaml():
    """`pytest` without arguments uses testpaths = ["tests"]: no scenario items there."""
    proc = _pytest("--collect-only", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert collected, proc.stdout
    assert all(re.match(r"tests/test_\w+\.py::", line) for line in collected), proc.stdout


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed")
def test_repo_scenarios_pass_under_xdist():
    proc = _pytest("-n", "2", "-q", "scenarios/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(_expected_nodeids())} passed" in proc.stdout, proc.stdout
