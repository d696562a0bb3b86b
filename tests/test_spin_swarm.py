"""``racecheck --engine spin --bitstate`` and ``--swarm K`` (racecheck/spin/swarm.py).

* a violating variant: some run finds the violation, its trail replays in
  racecheck, and it is reported as any other violation (diagram, replay
  line, exit status);
* a variant without a violation is inconclusive (exit 3), never "safe",
  with the runs, states stored and pan's hash factor;
* a kind not found first is looked for again with every other kind;
* the plan of runs, the size of their arrays and the summary's wording;
* option combinations that make no sense: exit 2 with a message, also
  without spin; a missing spin: exit 69.

Everything that runs SPIN skips when spin or gcc is missing; pan is
compiled with -O0 and a 2^20-bit array (``quick``) except on the command
line, where ``--max-memory 256M`` keeps the arrays small.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from racecheck.explore.result import Bounds, ExitReason, Outcome, Verdict
from racecheck.explore.trace import replay, violations_at_end
from racecheck.scenario.loader import load_scenario
from racecheck.model.program import Program
from racecheck.spin import to_promela
from racecheck.spin.engine import check_variant_spin, kinds, violation_from
from racecheck.spin.pan import PanOptions, PanResult
from racecheck.spin.swarm import Finished, Run, Swarm, bits_for, describe, plan, run_swarm
from tests.folding import flat, unfold

ROOT = Path(__file__).parent.parent
DIRTY = str(ROOT / "scenarios" / "dirty_unlocked.yaml")
HAVE_SPIN = bool(shutil.which("spin") and shutil.which("gcc"))
needs_spin = pytest.mark.skipif(not HAVE_SPIN, reason="spin or gcc is not installed")
SMALL = ["--max-memory", "256M"]          # -w28 arrays, 2 at a time: quick to clear


def _racecheck(*args, env=None):
    return subprocess.run([sys.executable, "-m", "racecheck", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env)


def _swarm_of_3(variant: str):
    return _racecheck(DIRTY, "--variant", variant, "--engine", "spin", "--swarm", "3", "--cores", "2", "-q",
                      *SMALL)


def _dirty(name: str):
    scenario = load_scenario(DIRTY)
    return scenario, scenario.variant(name)


# -- a violation: found, replayed, reported as any other ---------------------------------

@needs_spin
@pytest.mark.parametrize("swarm", [0, 1, 4])
def test_a_violation_is_found_and_replays(swarm):
    scenario, variant = _dirty("unlocked")
    checked = check_variant_spin(scenario, variant, quick=True, bitstate=True, swarm=swarm, cores=2)
    assert checked.exploration.verdict is Verdict.VIOLATION
    assert checked.exploration.exit_reason is ExitReason.FOUND
    assert checked.outcome is Outcome.MATCH
    violation = checked.exploration.violation
    assert (violation.kind, violation.name) == ("invariant", "page_not_lost")
    again = replay(checked.program, violation.schedule)
    assert ("invariant", "page_not_lost") in {(k, n) for k, n, _ in violations_at_end(checked.program, again)}
    (what, one), = checked.passes
    assert one.found is not None and one.found.result.errors == 1
    assert one.planned == max(1, swarm) and len(one.finished) <= one.planned


@needs_spin
def test_each_run_of_a_swarm_finds_a_violation_that_replays():
    """Each run alone (its order, seed and hash function): its trail is a
    racecheck schedule that reaches the violation (``violation_from``
    raises an internal error if not), and the runs take different paths."""
    scenario, variant = _dirty("unlocked")
    program = Program(scenario, variant)
    model = to_promela(program)
    schedules = set()
    for run in plan(4, 20):
        swarm = run_swarm(model, PanOptions(bitstate=True, quick=True), (run,), 1)
        assert swarm.found is not None and swarm.found.run == run
        violation = violation_from(program, swarm.found.result, kinds(program))
        assert (violation.kind, violation.name) == ("invariant", "page_not_lost")
        schedules.add(violation.schedule)
    assert len(schedules) > 1


@needs_spin
def test_the_command_line_reports_a_swarm_s_violation_like_any_other():
    run = _swarm_of_3("unlocked")
    assert run.returncode == 0, run.stdout + run.stderr
    out = flat(run.stdout)
    assert "variant unlocked: violation of invariant page_not_lost (as expected)" in out
    assert "not minimised: SPIN's depth-first trail, --engine spin" in out
    assert "of 3 (2 at a time) found a violation" in out or "run 1 of 3 (2 at a time) found" in out
    assert "found by run " in out and "(compiled -DBITSTATE" in out
    line = [text for text in unfold(run.stdout).splitlines() if text.startswith("replay: ")][0]
    schedule = line.split("--schedule ")[1].strip("'")
    again = _racecheck(DIRTY, "--variant", "unlocked", "--schedule", schedule)
    assert "invariant page_not_lost" in again.stdout, again.stdout
    assert all(len(text) <= 75 for text in run.stdout.splitlines())


@needs_spin
def test_a_kind_not_found_is_looked_for_again_with_every_other(write_scenario):
    path = write_scenario("""
        racecheck: 1
        title: t
        state: {x: 0}
        threads:
          t:
            copies: 2
            locals: {v: 0}
            steps:
              - {step: read, do: v = x}
              - {step: write, do: x = v + 1}
        invariants:
          small: x <= 5
        final:
          both: x == 2
        expect: {violation: small}
        """)
    scenario = load_scenario(path)
    checked = check_variant_spin(scenario, scenario.variants[0], quick=True, swarm=2)
    assert [what for what, _ in checked.passes] == ["small", "every other kind"]
    assert checked.exploration.violation.name == "both"
    assert checked.outcome is Outcome.INCONCLUSIVE         # 'small' may be reachable: the search missed states


# -- no violation: inconclusive, never "safe" --------------------------------------------

@needs_spin
@pytest.mark.parametrize("swarm", [0, 3])
def test_no_violation_is_inconclusive(swarm):
    scenario, variant = _dirty("trylock")
    checked = check_variant_spin(scenario, variant, quick=True, bitstate=True, swarm=swarm)
    assert checked.exploration.verdict is Verdict.INCONCLUSIVE
    assert checked.exploration.exit_reason is ExitReason.INCOMPLETE
    assert checked.outcome is Outcome.INCONCLUSIVE
    (_, one), = checked.passes
    assert len(one.ended) == one.planned == max(1, swarm)
    assert [f.result.states for f in one.ended] == [55] * max(1, swarm)    # a small model: all of it
    assert checked.exploration.stats.states == 55 * max(1, swarm)
    assert all(f.hash_factor > 100 and f.bits_per_state in (1, 2, 3, 4) for f in one.ended)


@needs_spin
def test_the_command_line_never_says_safe():
    run = _swarm_of_3("trylock")
    assert run.returncode == 3, run.stdout + run.stderr
    out = flat(run.stdout)
    assert "variant trylock: inconclusive (SPIN's search was not exhaustive" in out
    assert "bitstate search: all 3 runs ended without a violation, 2 at a time; 55 states stored in " \
           "one run, 165 in all (runs overlap); hash factor" in out
    assert "(SPIN advises more than 100)" in out
    assert "no violation found is not a proof that none is reachable" in out
    assert re.search(r"trylock safe \d+ [\d.]+ inconclusive \(incomplete\)", out)    # the table
    said = re.sub(r"trylock safe \d+", "", out.replace("(expected safe: inconclusive)", ""))
    assert "safe" not in said                   # only the expectation says it
    assert all(len(text) <= 75 for text in run.stdout.splitlines())


@needs_spin
def test_the_time_bound_stops_a_swarm():
    from benchmarks.families import lastzero
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "l.yaml")
        Path(path).write_text(lastzero(9))
        scenario = load_scenario(path)
        checked = check_variant_spin(scenario, scenario.variants[0], Bounds(timeout=0.01), quick=True, swarm=2)
    assert checked.exploration.exit_reason is ExitReason.TIMEOUT
    assert checked.exploration.verdict is Verdict.INCONCLUSIVE


# -- options that make no sense ------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--swarm", "4"], "--swarm is an option of --engine spin: --engine spin --swarm K"),
    (["--engine", "spin", "--swarm", "0"], "argument --swarm: must be at least 1"),
    (["--engine", "spin", "--swarm", "many"], "argument --swarm: 'many' is not an integer"),
    (["--engine", "spin", "--swarm", "4", "--hash-compact"],
     "--bitstate and --swarm cannot be combined with --hash-compact"),
    (["--engine", "spin", "--bitstate", "--hash-compact"],
     "--bitstate and --swarm cannot be combined with --hash-compact"),
    (["--engine", "spin", "--swarm", "2", "--collapse"], "--bitstate and --swarm cannot be combined with --collapse"),
    (["--engine", "spin", "--swarm", "2", "--max-states", "10"], "--max-states has no counterpart in SPIN's pan"),
])
def test_options_that_make_no_sense_are_refused(args, message, tmp_path):
    env = dict(os.environ, PATH=f"{tmp_path}:{os.path.dirname(sys.executable)}")   # no spin: refused first
    run = _racecheck(DIRTY, "--variant", "trylock", *args, env=env)
    assert run.returncode == 2 and message in flat(run.stderr), run.stderr
    assert "Traceback" not in run.stderr


def test_a_swarm_without_spin_is_exit_69_with_a_hint(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "racecheck", DIRTY, "--variant", "trylock", "--engine", "spin",
                          "--swarm", "4"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 69, run.stdout + run.stderr
    assert "--engine spin needs spin and gcc, which are not on PATH" in run.stderr


# -- the plan, the arrays, the words ---------------------------------------------------------

def test_the_first_run_is_spin_s_own_search_and_the_others_differ():
    runs = plan(6, 28)
    assert runs[0] == Run(1, "pan", ("-k3", "-w28"))
    assert runs[1].flags[-1] == "-p_reverse" and runs[1].build == "pan_permuted"
    assert all(run.build == "pan_rand" and run.flags[-1].startswith("-RS") for run in runs[2:])
    assert len({run.flags for run in runs}) == 6
    assert plan(6, 28) == runs                   # the same runs every time
    assert all(flag in (f"-w{28}", f"-w{27}") for run in runs for flag in run.flags if flag.startswith("-w"))


def test_the_arrays_fit_the_memory_bound():
    assert bits_for(None, 2) == 32
    assert bits_for(12 << 30, 2) == 32           # at most 512 MiB a run
    assert bits_for(256 << 20, 2) == 28          # a quarter of 256 MiB over 2 runs: 32 MiB each
    assert bits_for(1 << 20, 8) == 20            # never below 2^20 bits
    assert bits_for(12 << 30, 2, quick=True) == 20


def _finished(number, states, factor, bits=3, errors=0, stopped=False, limit=None):
    result = PanResult(errors, states or 0, (states or 0) * 2, 40, 1.0, "bitstate", "")
    run = Run(number, "pan_rand" if number > 2 else "pan", ("-k3",))
    return Finished(run, None if stopped else result, factor, bits, stopped, limit)


def test_the_summary_names_runs_states_and_hash_factor():
    swarm = Swarm(3, 2, (_finished(1, 1_200_000, 54.2), _finished(2, 1_100_000, 61.0, 2),
                         _finished(3, 1_250_000, 52.0, 4, limit="depth")))
    assert describe([("every kind", swarm)]) == [
        "  bitstate search: all 3 runs ended without a violation, 2 at a time (1 at SPIN's depth limit); "
        "1,100,000 to 1,250,000 states stored in one run, 3,550,000 in all (runs overlap); hash factor "
        "52 to 61 (SPIN advises more than 100), 2 to 4 bits per state",
        "  a bitstate search can miss states: no violation found is not a proof that none is reachable "
        "(--engine spin without --bitstate, or the default engine, can give one)"]
    assert not any("safe" in line for line in describe([("every kind", swarm)]))


def test_the_summary_of_a_violation_names_the_run_that_found_it():
    found = _finished(3, 900, 1e5, errors=1)
    swarm = Swarm(4, 2, (_finished(1, 1000, 1e5), found, _finished(2, None, None, stopped=True)), found)
    assert describe([("page_not_lost", swarm)]) == [
        "  bitstate search: run 3 of 4 (2 at a time) found a violation, 1 other ended without one; "
        "900 to 1,000 states stored in one run, 1,900 in all (runs overlap); hash factor 1e+05 "
        "(SPIN advises more than 100), 3 bits per state",
        "  found by run 3: pan_rand -k3 (compiled -DBITSTATE -DT_RAND -DP_RAND)"]


def test_a_timed_out_swarm_says_how_many_runs_ended():
    swarm = Swarm(4, 2, (_finished(1, 10, 1e6), _finished(2, None, None, stopped=True)), timed_out=True)
    assert describe([("x", swarm)])[0].startswith(
        "  bitstate search: 1 of 4 runs ended without a violation before the time bound stopped the "
        "search; 10 states stored")


def test_pan_s_numbers_are_read(tmp_path):
    from racecheck.spin.swarm import _number
    out = "hash factor: 19065 (best if > 100.)\n\nbits set per state: 3 (-k3)\n"
    assert _number(r"hash factor: ([\d.e+]+)", out, float) == 19065.0
    assert _number(r"bits set per state: (\d+)", out, int) == 3
    assert replace(_finished(1, 5, 2.0), stopped=True).stopped


def test_a_single_run_stopped_by_the_time_bound_says_so():
    stopped = replace(_finished(1, 39_000_000, None, bits=None), stopped=True)     # states from pan's progress
    swarm = Swarm(1, 1, (stopped,), timed_out=True)
    assert describe([("x", swarm)])[0] == "  bitstate search: the time bound stopped the run; 39,000,000 states stored"
