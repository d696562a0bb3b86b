"""``racecheck --engine spin`` (racecheck/spin/engine.py) against the default engine.

* every shipped variant: the same verdict and outcome, and the same
  violation (kind and property) where both find the one expected;
* random scenarios (tests/strategies.py): SPIN finds a violation exactly
  when racecheck finds one other than livelock (which SPIN does not check),
  and the one it finds is among racecheck's, replayed by racecheck;
* SPIN's state count on the export is within 1.5x of racecheck's unreduced
  count (the same graph: benchmarks/spin_states.py measures them all);
* the command line: diagram and replay line, exit statuses, refusals, a
  missing spin (exit 69); a lossy search (bitstate, hash-compact) is never
  "safe";
* the trail reader on its own.

Everything that runs SPIN skips when spin or gcc is missing. pan is
compiled with -O0 (``quick``): about 0.3 s of CPU per run. Random
examples: 10 by default, 200 with HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parent))

from strategies import scenario_texts  # noqa: E402

from racecheck.errors import UsageError  # noqa: E402
from racecheck.explore.result import Bounds, ExitReason, Verdict  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.explore.trace import replay, violations_at_end  # noqa: E402
from racecheck.model.program import Program  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402
from racecheck.scenario.schema import Expectation  # noqa: E402
from racecheck.spin import to_promela  # noqa: E402
from racecheck.spin.engine import check_variant_spin  # noqa: E402
from racecheck.spin.pan import PanOptions, verify  # noqa: E402
from racecheck.spin.trail import schedule_of  # noqa: E402
from tests.folding import flat, unfold  # noqa: E402
from tests.shipped import shipped_scenarios  # noqa: E402

ROOT = Path(__file__).parent.parent
SCENARIOS = [Path(p) for p in shipped_scenarios("sc")]
HAVE_SPIN = bool(shutil.which("spin") and shutil.which("gcc"))
needs_spin = pytest.mark.skipif(not HAVE_SPIN, reason="spin or gcc is not installed")
EXHAUST = Expectation("named", "__no_such_property__")     # no violation matches: every kind is searched

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("spin-engine-ci", max_examples=10, **_COMMON)
settings.register_profile("spin-engine-long", max_examples=200, **_COMMON)
PROFILE = settings.get_profile("spin-engine-long" if os.environ.get("HYPOTHESIS_PROFILE") == "long"
                               else "spin-engine-ci")


def _variants():
    for path in SCENARIOS:
        for variant in load_scenario(str(path)).variants:
            yield pytest.param(str(path), variant.name, id=f"{path.stem}-{variant.name}")


def _key(violation) -> tuple:
    return (violation.kind, violation.name)


# -- every shipped variant ------------------------------------------------------------

@needs_spin
@pytest.mark.parametrize("path,name", list(_variants()))
def test_spin_engine_gives_the_default_engine_s_verdict(path, name):
    scenario = load_scenario(path)
    variant = scenario.variant(name)
    ours = explore(Program(scenario, variant), expect=variant.expect)
    spin = check_variant_spin(scenario, variant, quick=True)
    assert spin.exploration.verdict is ours.verdict
    assert spin.outcome is ours.outcome(variant.expect)
    if ours.violation is not None and ours.violation.matches(variant.expect):
        assert _key(spin.exploration.violation) == _key(ours.violation)
    if spin.trace is not None:          # the diagram's trace replays to the violation it names
        found = violations_at_end(spin.program, spin.trace)
        assert _key(spin.exploration.violation) in {(k, n) for k, n, _ in found}


# -- random scenarios ------------------------------------------------------------------

def _agrees(text: str, tmp: str) -> None:
    path = os.path.join(tmp, "scenario.yaml")
    Path(path).write_text(text)
    scenario = load_scenario(path)
    for variant in scenario.variants:
        program = Program(scenario, variant)
        if any(any(thread.loops) for thread in program.threads):
            # a local-only loop calling choose(): refused (docs/format.md)
            with pytest.raises(UsageError, match="local-only loop that calls choose"):
                check_variant_spin(scenario, variant, quick=True)
            continue
        ours = explore(program, expect=EXHAUST)
        found = {_key(v) for v in (ours.violation,) + ours.others if v is not None and v.kind != "livelock"}
        spin = check_variant_spin(scenario, replace(variant, expect=Expectation("violation")), quick=True)
        if not found:
            assert spin.exploration.verdict is Verdict.SAFE, (spin.exploration.violation, text)
        else:
            assert spin.exploration.verdict is Verdict.VIOLATION, (found, text)
            assert _key(spin.exploration.violation) in found, (spin.exploration.violation, found, text)


@needs_spin
@settings(PROFILE)
@given(scenario_texts())
def test_spin_engine_agrees_on_random_scenarios(text):
    with tempfile.TemporaryDirectory() as tmp:
        _agrees(text, tmp)


# -- the state count: the same graph ------------------------------------------------------

def _lastzero(n: int, tmp_path) -> Program:
    from benchmarks.families import lastzero
    path = tmp_path / f"lastzero{n}.yaml"
    path.write_text(lastzero(n))
    scenario = load_scenario(str(path))
    return Program(scenario, scenario.variants[0])


PINNED = ["dirty_unlocked.yaml", "exclusive_loads.yaml", "migrate_batch_writeback_deadlock.yaml",
          "zonelist_rebuild_seqcount.yaml", "swapoff_swapin_swap_map.yaml"]


@needs_spin
@pytest.mark.parametrize("file", PINNED)
def test_spin_s_state_count_is_racecheck_s_unreduced_count(file):
    scenario = load_scenario(str(ROOT / "scenarios" / file))
    for variant in scenario.variants:
        program = Program(scenario, variant)
        ours = explore(program, expect=EXHAUST, reduction=False).stats.states
        pan = verify(to_promela(program), PanOptions(checks=(), reduction=False, quick=True))
        assert ours / 1.5 <= pan.states <= ours * 1.5, (variant.name, ours, pan.states)


@needs_spin
def test_lastzero_has_the_same_graph_in_both(tmp_path):
    program = _lastzero(5, tmp_path)
    ours = explore(program, expect=EXHAUST, reduction=False).stats.states
    assert ours == 1_890
    pan = verify(to_promela(program), PanOptions(checks=(), reduction=False, quick=True))
    assert ours <= pan.states <= ours + 2, pan.states    # SPIN's init process: at most two states more


# -- the command line -----------------------------------------------------------------------

def _racecheck(*args, env=None):
    return subprocess.run([sys.executable, "-m", "racecheck", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env)


@needs_spin
def test_a_violation_prints_the_diagram_and_a_replay_line_that_replays():
    run = _racecheck("scenarios/dirty_unlocked.yaml", "--variant", "unlocked", "--engine", "spin", "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "variant unlocked: violation of invariant page_not_lost (as expected)" in run.stdout
    assert "not minimised: SPIN's depth-first trail, --engine spin" in flat(run.stdout)
    assert "reclaim" in run.stdout and "writeback" in run.stdout
    line = [text for text in unfold(run.stdout).splitlines() if text.startswith("replay: ")][0]
    schedule = line.split("--schedule ")[1].strip("'")
    again = _racecheck("scenarios/dirty_unlocked.yaml", "--variant", "unlocked", "--schedule", schedule)
    assert "invariant page_not_lost" in again.stdout, again.stdout


@needs_spin
@pytest.mark.parametrize("lossy", ["bitstate", "hash_compact"])
def test_a_lossy_search_is_never_safe(lossy):
    scenario = load_scenario(str(ROOT / "scenarios" / "dirty_unlocked.yaml"))
    checked = check_variant_spin(scenario, scenario.variant("trylock"), quick=True, **{lossy: True})
    assert checked.exploration.exit_reason is ExitReason.INCOMPLETE
    assert checked.exploration.verdict is Verdict.INCONCLUSIVE and checked.exploration.stats.states > 0
    exact = check_variant_spin(scenario, scenario.variant("trylock"), quick=True)
    assert exact.exploration.verdict is Verdict.SAFE


@needs_spin
def test_a_variant_that_can_loop_says_livelock_is_not_checked():
    run = _racecheck("scenarios/hugetlb_free_dissolve.yaml", "--variant", "after", "--engine", "spin", "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "after can loop, and livelock is not\n  checked by --engine spin" in run.stderr


@pytest.mark.parametrize("args, message", [
    (["--bitstate"], "--collapse, --bitstate and --cores are options of --engine spin"),
    (["--cores", "2"], "--collapse, --bitstate and --cores are options of --engine spin"),
    (["--engine", "spin", "--max-states", "10"], "--max-states has no counterpart in SPIN's pan"),
    (["--engine", "nusmv"], "invalid choice: 'nusmv'"),
])
def test_options_that_make_no_sense_are_refused(args, message):
    run = _racecheck("scenarios/dirty_unlocked.yaml", "--variant", "v1", *args)
    assert run.returncode == 2 and message in run.stderr, run.stderr


@needs_spin
@pytest.mark.parametrize("state, expect, message", [
    ("{x: 0}", "{violation: livelock}", "expects a livelock,\n  which --engine spin does not check"),
    ("{x: 0, m: [[0]]}", "safe", "cannot export to Promela: state variable 'm': 'm' nests a list in a list"),
])
def test_what_spin_cannot_check_is_refused_by_name(write_scenario, state, expect, message):
    path = write_scenario(f"""
        racecheck: 1
        title: t
        state: {state}
        threads:
          t:
            steps:
              - {{step: s, do: x = 1}}
        expect: {expect}
        """)
    run = _racecheck(path, "--engine", "spin")
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_missing_spin_is_exit_69_with_a_hint(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))      # neither spin nor gcc on it
    run = subprocess.run([sys.executable, "-m", "racecheck", "scenarios/dirty_unlocked.yaml", "--variant",
                          "v1", "--engine", "spin"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 69, run.stdout + run.stderr
    assert "--engine spin needs spin and gcc, which are not on PATH" in run.stderr
    assert "apt-get install\n  spin gcc" in run.stderr and "Traceback" not in run.stderr


@needs_spin
def test_the_timeout_bounds_spin_too(program):
    from benchmarks.families import lastzero
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "l.yaml")
        Path(path).write_text(lastzero(9))
        scenario = load_scenario(path)
        checked = check_variant_spin(scenario, scenario.variants[0], Bounds(timeout=0.01), quick=True)
    assert checked.exploration.exit_reason is ExitReason.TIMEOUT
    assert checked.exploration.verdict is Verdict.INCONCLUSIVE


# -- the trail reader ----------------------------------------------------------------------

def test_trail_lines_become_a_schedule():
    lines = ["@RC p 1", "@RC s 1", "@RC p 0", "@RC p 2", "@RC s 0", "@RC p 0", "@RC s 1"]
    schedule = schedule_of(lines, 2)
    assert schedule.init == (1,)
    assert schedule.steps == ((1, (0, 2)), (0, ()), (1, ()))
    assert schedule.format(["a", "b"]) == "init:1,b:0.2,a,b"


def test_a_trail_naming_an_unknown_thread_is_an_internal_error():
    from racecheck.errors import InternalError
    with pytest.raises(InternalError, match="names thread 3"):
        schedule_of(["@RC s 3"], 2)


@needs_spin
def test_choices_come_back_from_the_trail(write_scenario):
    path = write_scenario("""
        racecheck: 1
        title: t
        state: {x: 0, y: 0}
        threads:
          t:
            locals: {r: 0}
            steps:
              - {step: pick, do: "r = choose(0, 1, 2)\\ny = choose(5, 6)"}
              - {step: write, do: x = r}
        final:
          not_two: not (x == 2 and y == 6)
        expect: {violation: not_two}
        """)
    scenario = load_scenario(path)
    checked = check_variant_spin(scenario, scenario.variants[0], quick=True)
    assert checked.exploration.violation.schedule.format(["t"]) == "t:2.1,t"
    assert replay(checked.program, checked.exploration.violation.schedule).final_state == checked.trace.final_state
