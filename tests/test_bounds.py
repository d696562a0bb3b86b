"""Resource bounds that bound: value sizes, --timeout, --max-memory, Ctrl-C.

The scenarios here are pathological on purpose: without the bound under
test, each would run for minutes or hours (or fill the machine's memory),
so a pass means the bound held. Timed assertions leave generous room:
the bound itself, its tolerance (1 s or 10 %, whichever is larger), and
``START`` seconds for the interpreter to start and load the scenario on a
busy machine. Children run under an address-space cap, so that a
regression fails a test instead of exhausting the machine.
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest

from racecheck.explore.result import Bounds
from racecheck.explore.search import explore
from racecheck.model import runtime
from racecheck.model.runtime import MAX_VALUE_DEPTH, MAX_VALUE_ITEMS, value_size
from racecheck.scenario.schema import Expectation
from racecheck.scenario.values import StepError
from tests.folding import flat

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses wait4, RLIMIT_AS and ru_maxrss in KiB")

START = 4.0                   # seconds: interpreter start and loading, on a loaded machine
CAP = 3 << 30                 # address space of a child, bytes
EXHAUST = Expectation("named", "__no_such_property__")


def tolerance(seconds: float) -> float:
    return max(1.0, 0.1 * seconds)


# -- running the command line in a child ------------------------------------------------

@dataclass
class Run:
    status: int
    out: str
    err: str
    seconds: float
    peak: int                 # the child's peak resident memory, bytes


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def racecheck(tmp_path, *args, kill_after: float = 120.0, interrupt_after: float | None = None) -> Run:
    """Run ``racecheck ARGS -q`` in a child; with ``interrupt_after``, send it
    SIGINT then, and time from the signal instead of from the start."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "racecheck", *args, "-q"], stdout=stdout, stderr=stderr,
                                preexec_fn=_cap_memory)
        killer = threading.Timer(kill_after, proc.kill)
        killer.start()
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            start = time.perf_counter()
            proc.send_signal(signal.SIGINT)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(proc.returncode, out.read_text(), err.read_text(), seconds, usage.ru_maxrss * 1024)


def scenario_file(tmp_path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return str(path)


def slow(work: int = 100_000) -> str:
    """Scenario code worth 1 that does ``work`` units of work (a tenth of the
    work limit by default): a step that costs milliseconds."""
    return f"sum(1 for i in range({work // 2})) - {work // 2 - 1}"


# -- values: logical size and depth -------------------------------------------------------

BIG = """
racecheck: 1
title: a value of 10^10 logical elements
state: {big: 0}
threads:
  a:
    steps:
      - {step: build, do: "big = [[0] * 100000] * 100000"}
"""


def test_shared_rows_count_each_time_they_appear():
    row = (0,) * 1000
    assert value_size(row) == (1000, 1)
    assert value_size((row,) * 999) == (999 + 999 * 1000, 2)
    assert value_size(7) == (0, 0)


def test_building_shared_rows_past_the_limit_is_refused():
    row = runtime.mul((0,), 100_000)
    with pytest.raises(StepError, match=f"more than {MAX_VALUE_ITEMS} items"):
        runtime.mul((row,), 100_000)
    with pytest.raises(StepError, match=f"more than {MAX_VALUE_ITEMS} items"):
        runtime.tuple_of(row for _ in range(100))
    with pytest.raises(StepError, match=f"more than {MAX_VALUE_ITEMS} items"):
        runtime.add((row,) * 9, (row,) * 2)


@pytest.mark.parametrize("command", ["check", "schedule", "report"])
def test_a_huge_shared_value_is_an_error_naming_the_limit(tmp_path, command):
    path = scenario_file(tmp_path, BIG)
    reports = tmp_path / "reports"
    args = {"check": [path], "schedule": [path, "--schedule", "a"],
            "report": ["report", path, "--out", str(reports)]}[command]
    run = racecheck(tmp_path, *args, kill_after=60)
    assert run.seconds < START + 5, f"{run.seconds:.2f} s"
    assert run.status in (0, 1), run.out + run.err       # 1: the error is not what the file expects
    text = run.out + "".join(p.read_text() for p in reports.glob("*.txt"))
    assert f"'*' would build a value of more than {MAX_VALUE_ITEMS} items" in text, text


GROWING = """
racecheck: 1
title: a value that grows at every step
livelock: allowed
state: {{a: [0], r: {{f: 0, g: 0}}}}
threads:
  t:
    steps:
      - while: "True"
        steps:
          - {{step: grow, do: "{code}"}}
expect: {{violation: error}}
"""


@pytest.mark.parametrize("code, message", [
    ("a = [a] * 2", f"'*' would build a value of more than {MAX_VALUE_ITEMS} items"),
    ("a = a + [a]", f"'+' would build a value of more than {MAX_VALUE_ITEMS} items"),
    ("a[0] = a", f"setting a list element would build a value of lists and records nested more than "
                 f"{MAX_VALUE_DEPTH} deep"),
    ("r.f = r", f"setting field 'f' would build a value of lists and records nested more than "
                f"{MAX_VALUE_DEPTH} deep"),
    ("a = [a for x in range(2)]", f"a comprehension would build a value of more than {MAX_VALUE_ITEMS} items"),
])
def test_every_builder_refuses_values_over_the_limits(run, code, message):
    checked = _only(run(GROWING.format(code=code), max_states=1000))
    assert checked.exploration.violation.kind == "error"
    assert message in checked.exploration.violation.message


def _only(checked: dict):
    (result,) = checked.values()
    return result


def test_values_within_the_limits_are_fine(run):
    text = BIG.replace("[[0] * 100000] * 100000", "[[0] * 999] * 999")
    checked = _only(run(text))
    assert checked.exploration.violation is None, checked.exploration.violation


# -- --timeout: the search and everything after it ----------------------------------------------

LOOPING = f"""
racecheck: 1
title: three looping threads whose steps are slow
livelock: allowed
state: {{n: 0}}
threads:
  t:
    copies: 3
    steps:
      - while: "True"
        steps:
          - {{step: work, do: "n += {slow()}"}}
"""

# the search finds the violation at once; the full graph for how common it
# is, and coverage, would take hours
FOUND_EARLY = LOOPING.replace("livelock: allowed", "livelock: allowed\ninvariants: {small: n < 5}\n"
                              "expect: {violation: small}")

# both counters must pass 3: the fewest-switch search first meets every run
# of one thread alone, and there are infinitely many
TWO_COUNTERS = f"""
racecheck: 1
title: two counters that race only when both pass 3
livelock: allowed
state: {{x: 0, y: 0}}
threads:
  a:
    steps:
      - while: "True"
        steps:
          - {{step: x++, do: "x += {slow()}"}}
  b:
    steps:
      - while: "True"
        steps:
          - {{step: y++, do: "y += {slow()}"}}
invariants:
  apart: not (x >= 3 and y >= 3)
expect: {{violation: apart}}
"""

# six independent threads: the reduced search is a line, the full graph
# has thousands of slow states; coverage walks it because thread g's step
# under a test that never holds is not run by the verdict search
INDEPENDENT = "racecheck: 1\ntitle: six independent slow threads\nstate: {a: 0, b: 0, c: 0, d: 0, e: 0, f: 0}\n" \
              "threads:\n" + "".join(
                  f"  t{v}: {{steps: [{{step: {v}1, do: '{v} += {slow()}'}}, {{step: {v}2, do: '{v} += 1'}}]}}\n"
                  for v in "abcdef") + \
              "  tg: {steps: [{if: a < 0, then: [{step: g1, do: 'a = 0'}]}]}\n"


def _within_bound(run: Run, timeout: float) -> None:
    assert run.seconds <= timeout + tolerance(timeout) + START, f"{run.seconds:.2f} s\n{run.out}\n{run.err}"


def test_timeout_stops_a_search_of_slow_states(tmp_path):
    run = racecheck(tmp_path, scenario_file(tmp_path, LOOPING), "--timeout", "2")
    _within_bound(run, 2)
    assert run.status == 3, run.out + run.err
    assert "inconclusive (stopped at the --timeout bound)" in run.out


@pytest.mark.parametrize("text, says", [
    (FOUND_EARLY, "how common, in the full state graph: not computed (time bound)"),
    (TWO_COUNTERS, "(as the search found it, not minimised: time bound)"),
    (INDEPENDENT, "steps never executed: not computed (time bound)"),
], ids=["frequency", "minimisation", "coverage"])
def test_timeout_bounds_the_analyses_after_the_search(tmp_path, text, says):
    run = racecheck(tmp_path, scenario_file(tmp_path, text), "--timeout", "3")
    _within_bound(run, 3)
    assert run.status == 0, run.out + run.err
    assert says in flat(run.out), run.out
    assert "replay: racecheck " in run.out or "scenario: safe" in run.out


def test_report_command_is_bounded_too(tmp_path):
    path = scenario_file(tmp_path, FOUND_EARLY)
    run = racecheck(tmp_path, "report", path, "--out", str(tmp_path / "reports"), "--timeout", "3")
    _within_bound(run, 3)
    assert run.status == 0, run.out + run.err
    assert "Not computed (time bound)." in (tmp_path / "reports" / "scenario.md").read_text()


def test_pytest_plugin_timeout_bounds_the_analyses_too(tmp_path):
    scenario_file(tmp_path, FOUND_EARLY)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                           "-o", "racecheck_timeout=3", "scenario.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seconds <= 3 + tolerance(3) + START + 2, f"{seconds:.2f} s"     # + pytest's own start


# -- --max-memory -------------------------------------------------------------------------------

# every state holds a list of 20,000 integers of its own
FILLING = """
racecheck: 1
title: every state holds a large list of its own
livelock: allowed
state: {n: 0, a: []}
threads:
  t:
    steps:
      - while: "True"
        steps:
          - {step: grow, do: "n += 1"}
          - {step: fill, do: "a = range(n, n + 20000)"}
invariants:
  kept: len(a) >= 0
"""


def test_max_memory_keeps_the_peak_within_ten_percent(tmp_path):
    bound = 250 << 20
    run = racecheck(tmp_path, scenario_file(tmp_path, FILLING), "--max-memory", "250M", "--no-reduction")
    assert run.status == 3, run.out + run.err
    assert "inconclusive (stopped at the --max-memory bound)" in run.out
    assert run.peak <= 1.1 * bound, f"peak {run.peak / 2**20:.0f} MiB"


LEAKY = f"""
racecheck: 1
title: every evaluation fails
state: {{x: 0, y: 0}}
threads:
  a:
    steps:
      - {{step: a1, do: x += 1}}
      - {{step: a2, do: x += 1}}
      - {{step: fail, do: "x = [0][x]"}}
  b:
    steps:
      - {{step: b1, do: y += 1}}
      - {{step: wait, await: "[0][y] == 0", do: y += 1}}
      - {{step: b2, do: y += 1}}
invariants:
  heavy: "x < 0 or sum(1 for i in range(10) for j in range(x + y)) >= 0 and [0][x + y] == 0"
final:
  done: "[0][x] == 0"
"""


@pytest.mark.parametrize("reduction", [True, False], ids=["reduced", "full"])
def test_failing_evaluations_leave_no_frames_to_the_cyclic_collector(monkeypatch, program, reduction):
    """The search runs without the cyclic collector: an exception kept in a
    cycle would keep every frame of its traceback, and their locals."""
    monkeypatch.setenv("RACECHECK_CHECK_ACCESSES", "0")    # the checking wrappers keep their own
    prog = program(LEAKY)
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        result = explore(prog, Bounds(), EXHAUST, reduction=reduction)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        leaked = [type(o).__name__ for o in gc.garbage
                  if isinstance(o, BaseException) or type(o).__name__ in ("frame", "traceback")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if collecting:
            gc.enable()
    assert result.violation.kind == "error"
    assert leaked == []


# -- Ctrl-C -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [LOOPING, FOUND_EARLY], ids=["search", "after-the-search"])
def test_ctrl_c_takes_effect_within_a_second(tmp_path, text):
    run = racecheck(tmp_path, scenario_file(tmp_path, text), interrupt_after=START)
    assert run.status == 130, run.out + run.err
    assert run.seconds <= 1.0 + 2.0, f"{run.seconds:.2f} s after SIGINT"
    assert "Traceback" not in run.err


# -- the reduced state count --------------------------------------------------------------------

# found by random testing: states merged into a visited key that violate an
# invariant were stored again every time they were reached, and the reduced
# search counted 21 states where the full one counts 19
RESTORED = """
racecheck: 1
title: generated
state: {b: 1, a: 1}
threads:
  t0:
    locals: {r: 0}
    steps:
    - call: helper()
      steps:
      - {step: wait, await: b == 1, do: a = a + 1}
      - if: r > tid
        then:
        - {step: return, do: return}
      - {step: read, do: r = b}
    - step: quit
      do: "if r < 1:\\n    return\\nb -= 1"
    - {step: read, do: r = b}
  t1:
    locals: {r: 0}
    steps:
    - step: write
      do: "b = choose(0, 1)\\nr += 1"
    - {step: exit, goto: end}
    - {step: write, do: "a = r\\nb = 1 - a"}
    - {step: write, do: "b = 1 - a\\na = 1 - b"}
    - call: helper()
      steps:
      - if: b < 2
        then:
        - {step: return, do: return}
      - {step: check, do: assert a > 0}
invariants:
  inv0: b >= 0
  inv1: b + a <= 2
"""


def test_reduced_state_count_never_exceeds_the_full_one(program):
    prog = program(RESTORED)
    reduced = explore(prog, Bounds(), EXHAUST, reduction=True)
    full = explore(prog, Bounds(), EXHAUST, reduction=False)
    assert reduced.stats.states <= full.stats.states == 19
    kinds = lambda r: {v.key for v in (r.violation,) + r.others}    # noqa: E731
    assert kinds(reduced) == kinds(full)
