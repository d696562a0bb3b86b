"""The Promela export (racecheck/spin/), and SPIN cross-checks.

Two kinds of tests:

* the translation: small scenarios -> the Promela fragments they must give,
  and the constructs that must be refused with an ExportError naming them
  and their position; every model must parse with ``spin -a``;
* the cross-check: for every shipped scenario that exports, hand-written
  scenarios aimed at the subtle points (floor division, short-circuits,
  failing guards, the order in which properties fail, failing start-up
  steps...), random scenarios from tests/strategies.py, and random
  expressions checked value by value, SPIN must find exactly the kinds of
  violation racecheck finds (assert, error, each invariant, each final
  check, deadlock; livelock is not exported).

The cross-check runs one SPIN verification per kind racecheck finds (only
that kind switched on: it must be reachable) and one for all the other kinds
together (none may be). Tests that need SPIN skip when ``spin`` or ``gcc``
is missing. Random examples: 20 of each by default, 300 with
HYPOTHESIS_PROFILE=long.

Shipped scenarios that do not export: none. tests/test_spin_engine.py checks
``racecheck --engine spin``, which runs the same model through pan.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from strategies import scenario_texts  # noqa: E402

from racecheck.explore.result import ExitReason  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.model.program import Program  # noqa: E402
from racecheck.spin import ExportError, check_macro, to_promela  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402
from racecheck.scenario.schema import Expectation  # noqa: E402
from tests.shipped import shipped_scenarios  # noqa: E402

ROOT = Path(__file__).parent.parent
SCENARIOS = [Path(p) for p in shipped_scenarios("sc")]
HAVE_SPIN = bool(shutil.which("spin") and shutil.which("gcc"))
needs_spin = pytest.mark.skipif(not HAVE_SPIN, reason="spin or gcc is not installed")

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("promela-ci", max_examples=20, **_COMMON)
settings.register_profile("promela-long", max_examples=300, **_COMMON)
PROFILE = settings.get_profile("promela-long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "promela-ci")

# No violation matches it: the search runs to the end and reports every kind.
EXHAUST = Expectation("named", "__no_such_property__")


# -- helpers -----------------------------------------------------------------------------

def export(program_fixture, text: str, variant=None) -> str:
    return to_promela(program_fixture(text, variant))


def spin_parses(model: str, tmp_path) -> None:
    if not HAVE_SPIN:
        return
    (tmp_path / "model.pml").write_text(model)
    run = subprocess.run(["spin", "-a", "model.pml"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0 and "error" not in run.stdout.lower(), run.stdout + run.stderr + model


def racecheck_kinds(program) -> set:
    """Every kind of violation racecheck finds (livelock aside)."""
    result = explore(program, expect=EXHAUST)
    assert result.exit_reason is ExitReason.EXHAUSTED
    kinds = set()
    for v in (result.violation,) + result.others:
        if v is None or v.kind == "livelock":
            continue
        kinds.add((v.kind, v.name) if v.kind in ("invariant", "final") else (v.kind,))
    return kinds


def all_kinds(program) -> set:
    kinds = {("assert",), ("error",)}
    kinds |= {("invariant", p.name) for p, _ in program.invariants}
    kinds |= {("final", p.name) for p, _ in program.finals}
    if not program.deadlock_allowed:
        kinds.add(("deadlock",))
    return kinds


def spin_errors(model: str, kinds, workdir: str, depth: int = 100_000):
    """Verify ``model`` with only ``kinds`` checked: (errors, pan's output)."""
    flags = ["-DCHECK_ALL=0"] + [f"-D{check_macro(*k)}=1" for k in kinds]
    Path(workdir, "model.pml").write_text(model)
    steps = [["spin", *flags, "-a", "model.pml"],
             ["gcc", "-O0", "-w", "-DSAFETY", "-o", "pan", "pan.c"]]
    for cmd in steps:
        run = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
        assert run.returncode == 0, f"{' '.join(cmd)} failed:\n{run.stdout}{run.stderr}"
    pan = ["./pan", f"-m{depth}", "-w18", "-n"]
    out = subprocess.run(pan, cwd=workdir, capture_output=True, text=True).stdout
    if "max search depth too small" in out and depth < 10_000_000:
        return spin_errors(model, kinds, workdir, depth * 10)
    errors = re.search(r"errors: (\d+)", out)
    assert errors, f"pan did not finish:\n{out}"
    return int(errors.group(1)), out


def cross_check(program) -> tuple:
    """SPIN against racecheck, kind by kind; returns (racecheck's kinds, mismatches)."""
    model = to_promela(program)
    found = racecheck_kinds(program)
    runs = [[k] for k in sorted(found)]
    others = sorted(all_kinds(program) - found)
    if others:
        runs.append(others)
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=4) as pool:
        dirs = [os.path.join(tmp, str(i)) for i in range(len(runs))]
        for d in dirs:
            os.mkdir(d)
        results = list(pool.map(lambda job: spin_errors(model, *job), zip(runs, dirs)))
    mismatches = []
    for kinds, (errors, out) in zip(runs, results):
        expected = kinds[0] in found
        if (errors > 0) != expected:
            lines = [line for line in out.splitlines() if line.startswith("pan:")][:2]
            mismatches.append(f"{kinds}: racecheck {'finds' if expected else 'does not find'} it, "
                              f"SPIN reports {errors} errors {lines}")
    return found, mismatches


def assert_agrees(program, label: str = "") -> set:
    found, mismatches = cross_check(program)
    assert not mismatches, f"{label}: SPIN disagrees with racecheck {sorted(found)}:\n" + "\n".join(mismatches) \
        + "\n" + to_promela(program)
    return found


def load_text(text: str, tmp_dir) -> object:
    path = Path(tmp_dir) / "scenario.yaml"
    path.write_text(text)
    return load_scenario(str(path))


# -- the translation ---------------------------------------------------------------------

LOCK = """
racecheck: 1
title: a lock, a record, a list and a symbol
state:
  locked: false
  inside: 0
  folio: {dirty: false, refs: 1}
  pte: folio
  arr: [0, 1]
threads:
  worker:
    copies: 2
    locals: {seen: 0}
    steps:
      - {step: lock, await: not locked, do: locked = True}
      - step: enter
        do: |
          inside += 1
          seen = arr[tid]
      - {step: local, do: seen += 1}
      - step: leave
        do: |
          inside -= 1
          locked = False
          pte = 'swap'
invariants:
  exclusive: inside <= 1
final:
  unlocked: not locked
"""


def test_shared_state_is_globals_records_flattened_lists_arrays_strings_mtype(program, tmp_path):
    model = export(program, LOCK)
    assert "mtype = { s_folio, s_swap };" in model
    for line in ("bool locked = false;", "int inside = 0;", "bool folio_dirty = false;", "int folio_refs = 1;",
                 "mtype pte = s_folio;", "int arr[2];"):
        assert f"\n{line}" in model, line
    assert "\t\tarr[0] = 0;\n\t\tarr[1] = 1;\n" in model          # set in init, before any thread runs
    assert "SPIN's int is 32-bit; racecheck's integers are unbounded" in model
    spin_parses(model, tmp_path)


def test_one_proctype_per_thread_run_once_per_copy_with_tid(program):
    model = export(program, LOCK)
    assert "proctype worker(byte tid) {\n\tint seen = 0;\n" in model
    assert "\t\trun worker(0);\n\t\trun worker(1);\n\t\trun rc_invariants();\n\t\trun rc_finals();\n" in model


def test_a_thread_is_a_loop_of_d_steps_on_racecheck_s_pc(program):
    model = export(program, LOCK)
    assert "\tbyte rc_pc = 0;\t/* racecheck's pc */\n\tend_rc:\n\tdo\n" in model
    # the await is the guard; the step prints its thread for the trail replay
    assert ("\t/* pc 0: lock */\n\t:: d_step { rc_pc == 0 && (RC_GO && !locked) ->\n"
            "\t\t\tprintf(\"@RC s %d\\n\", tid);\n\t\t\tlocked = true;\n\t\t\trc_pc = 1;\n\t\t}\n") in model


def test_local_only_steps_run_in_the_block_of_the_step_before(program):
    model = export(program, LOCK)
    block = model[model.index("/* pc 1: enter */"):model.index("/* pc 3: leave */")]
    assert "\t\t\tseen = arr[tid];\n" in block and "RC_ERROR" not in block   # 0 <= tid < 2: no check
    assert "goto L1_2;\n\t\t\tL1_2:\t/* local */\n\t\t\tseen = (seen + 1);\n\t\t\trc_pc = 3;\n\t\t}" in block


def test_thread_end_counts_finished_threads(program):
    model = export(program, LOCK)
    # the thread stays in its loop, at an end label: no extra step, no extra state
    assert "pte = s_swap;\n\t\t\trc_finished++;\n\t\t\trc_pc = 4;\n\t\t}\n\tod\n}" in model


def test_invariants_and_final_checks_are_monitors(program):
    model = export(program, LOCK)
    assert ("#if CHECK_INVARIANT_exclusive\n\t:: atomic { RC_GO && !(inside <= 1) -> assert((inside <= 1)) }\n"
            "#endif") in model
    assert "\t:: atomic { (RC_GO && rc_finished == 2) && locked -> assert(!locked) }" in model
    assert "end_invariants:" in model and "end_finals:" in model   # blocked monitors are no deadlock


def test_check_switches_default_to_on(program):
    model = export(program, LOCK)
    for macro in ("CHECK_ASSERT", "CHECK_ERROR", "CHECK_INVARIANT_exclusive", "CHECK_FINAL_unlocked"):
        assert f"#ifndef {macro}\n#define {macro} CHECK_ALL\n#endif" in model
    assert check_macro("invariant", "exclusive") == "CHECK_INVARIANT_exclusive"
    assert check_macro("final", "unlocked") == "CHECK_FINAL_unlocked"
    assert check_macro("assert") == "CHECK_ASSERT"


def test_choose_is_a_nondeterministic_if_in_an_atomic_block(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {x: 0, p: {a: 0, b: 0}}
        threads:
          t:
            locals: {q: {a: 1, b: 2}}
            steps:
              - {step: pick, do: "x = choose(1, 2, x)"}
              - {step: copy, do: "p = choose(q, p)"}
        """)
    # a d_step must be deterministic; pan stores no state inside an atomic block either
    assert (":: atomic { rc_pc == 0 && RC_GO ->\n\t\t\tprintf(\"@RC s %d\\n\", tid);\n\t\t\tif\n"
            "\t\t\t:: x = 1; printf(\"@RC p 0\\n\");\n\t\t\t:: x = 2; printf(\"@RC p 1\\n\");\n"
            "\t\t\t:: x = x; printf(\"@RC p 2\\n\");\n\t\t\tfi;\n\t\t\trc_pc = 1;\n\t\t}") in model
    assert ":: p_a = q_a; p_b = q_b; printf(\"@RC p 0\\n\");\n\t\t\t:: p_a = p_a; p_b = p_b; printf(\"@RC p 1\\n\");\n" in model
    spin_parses(model, tmp_path)


def test_branches_loops_goto_and_return_follow_the_flattened_control_flow(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {x: 0, y: 0}
        threads:
          t:
            locals: {i: 0}
            steps:
              - label: top
                while: x < 2
                steps:
                  - {step: inc, do: x += 1}
              - call: helper()
                steps:
                  - {step: maybe, do: "if y > 0:\\n    return\\ny = 1"}
                  - {step: after, do: y += 1}
              - if: i < 1
                then:
                  - {step: again, do: i += 1, goto: top}
        """)
    assert ("/* pc 0: while (x < 2) */\n\t:: d_step { rc_pc == 0 && RC_GO ->\n\t\t\tprintf(\"@RC s %d\\n\", tid);\n"
            "\t\t\tif\n\t\t\t:: (x < 2) ->\n\t\t\t\trc_pc = 1;\n\t\t\t\tgoto L0_done;") in model
    assert "/* pc 1: inc */\n\t:: d_step { rc_pc == 1 && RC_GO ->\n\t\t\tprintf(\"@RC s %d\\n\", tid);\n\t\t\tx = (x + 1);\n\t\t\trc_pc = 0;\n" in model
    # return leaves the call group: to the branch after it, glued (local-only)
    assert "\t\t\t:: (y > 0) ->\n\t\t\t\tgoto L2_4;" in model
    assert "L2_4:\t/* if (i < 1) */" in model and "L2_done: skip" in model
    spin_parses(model, tmp_path)


def test_run_time_errors_are_checked_before_the_operation_under_short_circuits(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {x: 0, arr: [1, 2, 3]}
        threads:
          t:
            steps:
              - {step: divide, do: "x = 7 // x"}
              - {step: guarded, do: "x = 1 if x > 0 and arr[x] > 1 else 2 % x"}
        """)
    assert "RC_ERROR((x != 0), L0_done);  /* division by zero */\n\t\t\tx = FLOORDIV(7, x);" in model
    # arr[x] is read only when x > 0; 2 % x only when the condition is false
    assert "RC_ERROR((!(x > 0) || (x >= -3 && x < 3)), L1_done);" in model
    assert "RC_ERROR((((x > 0) && (arr[(x < 0 -> x + 3 : x)] > 1)) || (x != 0)), L1_done);" in model
    assert "#define FLOORDIV(a, b)" in model and "#define PYMOD(a, b)" in model
    spin_parses(model, tmp_path)


def test_comprehensions_over_constant_ranges_and_lists_are_unrolled(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state:
          pages: [{dirty: false, refs: 0}, {dirty: true, refs: 1}]
          n: 0
        threads:
          t:
            steps:
              - {step: count, do: "n = sum(p.refs for p in pages if p.dirty)"}
              - {step: clear, do: "pages[n].dirty = False"}
        invariants:
          some_clean: any(not pages[i].dirty for i in range(2))
          all_small: all(p.refs < 2 for p in pages)
        """)
    assert "bool pages_dirty[2];" in model and "int pages_refs[2];" in model
    assert "n = ((pages_dirty[0] -> pages_refs[0] : 0) + (pages_dirty[1] -> pages_refs[1] : 0));" in model
    assert "pages_dirty[(n < 0 -> n + 2 : n)] = false;" in model
    assert "(!pages_dirty[0] || !pages_dirty[1])" in model
    assert "((pages_refs[0] < 2) && (pages_refs[1] < 2))" in model
    spin_parses(model, tmp_path)


def test_assert_and_its_message(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {x: 0}
        threads:
          t:
            steps:
              - {step: check, do: "assert x == 0, 'x must be zero'"}
              - {step: odd, do: "assert x > 0, 10 // x"}
        """)
    assert "RC_ASSERT((x == 0), L0_done);  /* 'x must be zero' */" in model
    # a message that fails is an error, evaluated only when the assert fails
    assert "RC_ERROR(((x > 0) || (x != 0)), L1_done);  /* division by zero */\n\t\t\tRC_ASSERT((x > 0), L1_done);" in model
    spin_parses(model, tmp_path)


def test_deadlock_is_a_monitor_on_spin_s_timeout(program):
    model = export(program, LOCK)
    assert ("proctype rc_deadlock() {\nend_deadlock:\n#if CHECK_DEADLOCK\n\tatomic { timeout && !rc_stopped && "
            "rc_finished < 2 -> assert(rc_finished == 2) }\n#else\n\tfalse\n#endif\n}") in model
    assert "\t\trun rc_deadlock();\n" in model and check_macro("deadlock") == "CHECK_DEADLOCK"
    allowed = export(program, LOCK.replace("invariants:", "deadlock: allowed\ninvariants:"))
    assert "rc_deadlock" not in allowed and "CHECK_DEADLOCK" not in allowed


def test_a_failing_await_is_an_error_not_a_deadlock(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {arr: [0, 1], i: 5}
        threads:
          t:
            steps:
              - {step: wait, await: "arr[i] > 0"}
        """)
    assert ":: d_step { rc_pc == 0 && (RC_GO && (i >= -2 && i < 2) && (arr[(i < 0 -> i + 2 : i)] > 0)) ->" in model
    assert (":: d_step { rc_pc == 0 && RC_GO && !(i >= -2 && i < 2) -> printf(\"@RC s %d\\n\", tid); "
            "RC_AWAIT_ERROR((i >= -2 && i < 2)) }") in model
    spin_parses(model, tmp_path)


def test_local_only_loops_count_racecheck_steps_and_a_choose_in_them_is_an_if(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {x: 0}
        threads:
          t:
            locals: {r: 0}
            steps:
              - {step: read, do: r = x}
              - while: r < 3
                steps:
                  - {step: inc, do: "r = choose(r + 1, r + 2)"}
        """)
    assert ":: atomic { rc_pc == 0 && RC_GO ->" in model
    assert "if\n\t\t\t:: r = (r + 1); printf(\"@RC p 0\\n\");\n\t\t\t:: r = (r + 2); printf(\"@RC p 1\\n\");\n" in model
    assert "int rc_steps = 0;" in model
    assert "rc_steps++;\n\t\t\tRC_ERROR(rc_steps <= 10000, L0_done);" in model
    assert "rc_steps = 0;\n\t\t\t\trc_finished++;" in model     # 0 again between transitions: no state
    spin_parses(model, tmp_path)


def test_failing_start_up_steps_run_in_thread_order_before_any_other_step(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {x: 0}
        threads:
          a:
            locals: {r: 0}
            steps:
              - {step: local, do: r = 1 // r}
              - {step: write, do: x = r}
          b:
            steps:
              - {step: write, do: x = 2}
        """)
    assert "#define RC_GO (!rc_stopped && rc_ready == 1)" in model
    assert "end_start: d_step { (!rc_stopped && rc_ready == RC_READY_0 + tid) ->\n\t\trc_ready++;" in model
    spin_parses(model, tmp_path)


def test_a_variable_holding_numbers_and_strings_encodes_strings_as_ints(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {err: 0, x: 0}
        threads:
          t:
            steps:
              - {step: fail, do: "err = 'EINVAL'"}
              - {step: use, do: "x = err + 1"}
        """)
    assert "mtype" not in model.split("*/", 3)[-1]
    assert "#define s_EINVAL (-2147483647)" in model and "#define RC_NUMBERS (-2147483646)" in model
    assert "RC_ERROR((err >= RC_NUMBERS), L1_done);  /* a string or None used as a number */" in model
    spin_parses(model, tmp_path)


def test_params_are_constants_and_fold_branches_away(program):
    text = """
        racecheck: 1
        title: t
        params: {fix: before}
        state: {x: 0}
        threads:
          t:
            steps:
              - if: fix == 'after'
                then:
                  - {step: fixed, do: x = 1}
              - {step: done, do: x += 2}
        variants:
          before: {params: {fix: before}}
          after: {params: {fix: after}}
        """
    before, after = export(program, text, "before"), export(program, text, "after")
    assert "fixed" not in before and "rc_pc == 1" not in before
    assert "/* pc 1: fixed */" in after


def test_names_are_kept_clear_of_promela_c_and_pan_names(program, tmp_path):
    model = export(program, """
        racecheck: 1
        title: t
        state: {int: 0, final: 1, L3: 2, rc_x: 3, skip: {do: 1}}
        threads:
          now:
            steps:
              - {step: s, do: "int = final + L3 + rc_x + skip.do"}
        """)
    assert "v_int = (((v_final + v_L3) + v_rc_x) + skip_do);" in model
    assert "proctype v_now(byte tid)" in model
    spin_parses(model, tmp_path)


# -- what is refused ---------------------------------------------------------------------------

REFUSED = {
    "nested list": ("state: {m: [[0, 1], [1, 0]], x: 0}", "x = 1", "nests a list in a list"),
    "dynamic range": ("state: {x: 2}", "x = sum(range(x))", "range() of values known only at run time"),
    "filtered list": ("state: {x: 0, arr: [0, 1], l: [0, 0]}", "l = [v for v in arr if v > x]",
                      "data-dependent 'if'"),
    "record in an int": ("state: {x: 0, rec: {a: 1}}", "x = rec", "holds an int and is assigned a record {a}"),
    "list length": ("state: {arr: [0, 1]}", "arr = arr + [1]", "holds a list of 2 and is assigned a list of 3"),
    "record truth": ("state: {x: 0, rec: {a: 1}}", "x = 1 if rec else 0", "the truth value of a record"),
    "string order": ("state: {x: a}", "x = 'b' if x < 'b' else x", "strings or None used as numbers"),
    "big int": ("state: {x: 4294967296}", "x = 1", "state variable 'x': the integer 4294967296 does not fit"),
    "self-reading copy": ("state: {arr: [0, 1]}", "arr = [arr[1], arr[0]]", "reads it"),
    "dynamic string": ("state: {x: a, y: b}", "x = x + y", "strings or None used as numbers"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_constructs_without_a_faithful_translation_are_refused_by_name_and_position(name, write_scenario):
    state, code, message = REFUSED[name]
    path = write_scenario(f"""
        racecheck: 1
        title: refused
        {state}
        threads:
          t:
            steps:
              - step: the step
                do: "{code}"
        """)
    scenario = load_scenario(path)
    with pytest.raises(ExportError) as info:
        to_promela(Program(scenario, scenario.variants[0]))
    text = str(info.value)
    assert message in text and "cannot export to Promela" in text
    assert re.search(re.escape(path) + r":\d+:\d+: ", text), text
    if "state variable" not in text:
        assert "step 'the step' of thread t" in text and f"{path}:9:" in text, text


# -- the documentation -----------------------------------------------------------------------

def test_docs_example_is_what_the_export_gives(write_scenario):
    doc = (ROOT / "docs" / "promela.md").read_text()
    yaml_text = re.search(r"```yaml\n(racecheck:.*?)```", doc, re.S).group(1)
    pml = re.search(r"```promela\n(.*?)```", doc, re.S).group(1)
    scenario = load_scenario(write_scenario(yaml_text))
    model = to_promela(Program(scenario, scenario.variants[0]))
    for chunk in pml.split("\n...\n"):
        assert chunk.strip("\n") in model, chunk


# -- cross-checks with SPIN -----------------------------------------------------------------------

def _variants():
    for path in SCENARIOS:
        scenario = load_scenario(str(path))
        for variant in scenario.variants:
            yield pytest.param(str(path), variant.name, id=f"{path.stem}-{variant.name}")


@needs_spin
@pytest.mark.parametrize("path,variant", list(_variants()))
def test_spin_agrees_on_every_shipped_scenario(path, variant):
    scenario = load_scenario(path)
    program = Program(scenario, scenario.variant(variant))
    found = assert_agrees(program, f"{path} variant {variant}")
    expect = program.variant.expect
    if expect.kind == "named":        # and racecheck finds what the scenario expects
        assert any(expect.name in kind for kind in found) or expect.name == "livelock", found


FIXED = {
    "floor division and modulo": ("state: {x: -7, y: 0}", [
        {"step": "div", "do": "y = x // 2\nassert y == -4\ny = x % 3\nassert y == 2\ny = 7 % -3\nassert y == -2"}],
        set()),
    "negative index": ("state: {arr: [3, 4, 5], y: 0}", [
        {"step": "read", "do": "y = arr[-1] + arr[y - 3]\nassert y == 8"}], set()),
    "index out of range": ("state: {arr: [3, 4], y: 1}", [
        {"step": "read", "do": "y = arr[y + 1]"}], {("error",)}),
    "lazy any stops early": ("state: {arr: [1, 0], i: 0}", [
        {"step": "read", "do": "assert any(arr[j] > 0 for j in [i, i + 7])"}], set()),
    "lazy any goes on": ("state: {arr: [0, 0], i: 0}", [
        {"step": "read", "do": "assert any(arr[j] > 0 for j in [i, i + 7])"}], {("error",)}),
    "failing assert message is an error": ("state: {x: 0}", [
        {"step": "check", "do": "assert x > 0, 10 // x"}], {("error",)}),
    "failing await is no deadlock": ("state: {arr: [0, 1], i: 5}", [
        {"step": "wait", "await": "arr[i] > 0"}], {("error",)}),
    "mixed numbers and strings": ("state: {err: 0, x: 0}", [
        {"step": "fail", "do": "err = choose(0, 'EINVAL')"},
        {"if": "err != 0", "then": [{"step": "use", "do": "x = err + 1"}]}], {("error",)}),
    "records in lists": ("state: {pages: [{dirty: false}, {dirty: false}], i: 0}", [
        {"step": "pick", "do": "i = choose(0, 1)"},
        {"step": "dirty", "do": "pages[i].dirty = True"},
        {"step": "again", "do": "pages[i].dirty = True"}], {("invariant", "one_clean")}),
    "local loop that ends": ("state: {x: 0}", [
        {"step": "read", "do": "r = x"},
        {"while": "r < 50", "steps": [{"step": "inc", "do": "r += 1"}]},
        {"step": "write", "do": "x = r"}], set()),
    "local loop that never ends": ("state: {x: 0}", [
        {"step": "read", "do": "r = x"},
        {"while": "r >= 0", "steps": [{"step": "spin", "do": "r = r"}]},
        {"step": "write", "do": "x = r"}], {("error",)}),
}


def _fixed_text(state: str, steps: list, kinds) -> str:
    import yaml
    doc = {"racecheck": 1, "title": "fixed", "state": yaml.safe_load(state)["state"],
           "threads": {"t": {"locals": {"r": 0}, "steps": steps},
                       "u": {"steps": [{"step": "other", "do": "pass" if "pages" not in state else "i = 1 - i"}]}}}
    if "pages" in state:
        doc["invariants"] = {"one_clean": "not (pages[0].dirty and pages[1].dirty)"}
    return yaml.safe_dump(doc, sort_keys=False)


@needs_spin
@pytest.mark.parametrize("name", sorted(FIXED))
def test_spin_agrees_on_subtle_points(name, tmp_path):
    state, steps, kinds = FIXED[name]
    scenario = load_text(_fixed_text(state, steps, kinds), tmp_path)
    found = assert_agrees(Program(scenario, scenario.variants[0]), name)
    assert found == kinds


ORDERING = {
    # each property is judged on its own: one that cannot be evaluated hides no other
    "an invariant error hides no other invariant": ("""
        racecheck: 1
        title: t
        state: {x: 1}
        threads:
          t:
            steps:
              - {step: zero, do: x = 0}
        invariants:
          first: 2 // x > 0
          second: x != 0
        """, {("error",), ("invariant", "second")}),
    "nor final checks": ("""
        racecheck: 1
        title: t
        state: {x: 1}
        threads:
          t:
            steps:
              - {step: zero, do: x = 0}
        invariants:
          first: 2 // x > 0 or x == 0
        final:
          one: 2 // x > 0
          two: x == 1
        """, {("error",), ("final", "two")}),
    # racecheck builds the initial state thread by thread: a's failure hides b's
    "failing start-up steps": ("""
        racecheck: 1
        title: t
        state: {x: 0}
        threads:
          a:
            locals: {r: 0}
            steps:
              - {step: local, do: r = 1 // r}
              - {step: write, do: x = 1}
          b:
            locals: {q: 0}
            steps:
              - {step: local, do: assert q == 1}
              - {step: write, do: "assert x == 5"}
        invariants:
          zero: x == 0
        """, {("error",)}),
    "start-up choices": ("""
        racecheck: 1
        title: t
        state: {x: 0}
        threads:
          a:
            locals: {r: 0}
            steps:
              - {step: local, do: "r = choose(0, 1, 2)\\nassert r < 2"}
              - {step: write, do: x = r}
        final:
          one: x == 1
        """, {("assert",), ("final", "one")}),
    "deadlock allowed": ("""
        racecheck: 1
        title: t
        state: {a: false}
        deadlock: allowed
        threads:
          t:
            copies: 2
            steps:
              - {step: lock, await: not a, do: a = True}
        """, set()),
    "deadlock": ("""
        racecheck: 1
        title: t
        state: {a: false}
        threads:
          t:
            copies: 2
            steps:
              - {step: lock, await: not a, do: a = True}
        final:
          locked: a
        """, {("deadlock",)}),
}


@needs_spin
@pytest.mark.parametrize("name", sorted(ORDERING))
def test_spin_agrees_on_the_order_of_failures(name, tmp_path):
    text, kinds = ORDERING[name]
    import textwrap
    scenario = load_text(textwrap.dedent(text), tmp_path)
    assert assert_agrees(Program(scenario, scenario.variants[0]), name) == kinds


@needs_spin
@settings(PROFILE)
@given(st.one_of(scenario_texts(), scenario_texts(failing_properties=True)))
def test_spin_agrees_on_random_scenarios(text):
    with tempfile.TemporaryDirectory() as tmp:
        scenario = load_text(text, tmp)
        for variant in scenario.variants:
            program = Program(scenario, variant)
            try:
                assert_agrees(program, f"variant {variant.name!r} of\n{text}")
            except ExportError as exc:   # tests/strategies.py uses only exported constructs
                pytest.fail(f"{exc}\n{text}")


# -- random expressions: values and errors ---------------------------------------------------
#
# One thread picks one of 32 input combinations (choose), evaluates a random
# expression, and asserts that the value is the one racecheck's own compiled
# code gives for that combination. racecheck never fails that assert; SPIN
# must not either (a wrong value), and must find an error exactly when
# racecheck does (an index out of range, a division by zero, a string used as
# a number...).

_INTS = ["a", "b", "arr[0]", "arr[-1]", "recs[1].p", "len(arr)", "sum(arr)", "max(arr)", "0", "1", "-2", "7"]
_BOOLS = ["f", "s == 'x'", "s is None", "s != 'y'", "recs[0].q", "not f", "True"]
_INT_FORMS = ["({0} + {1})", "({0} - {1})", "({0} * {1})", "({0} // {1})", "({0} % {1})", "-{0}", "abs({0})",
              "min({0}, {1})", "max({0}, {1}, {2})", "arr[{0}]", "recs[{0}].p", "({0} if {b} else {1})",
              "sum(x for x in arr if x > {0})", "sum([x * {0} for x in arr])", "len([x for x in arr if x > {0}])",
              "(m + {0})", "[{0}, {1}][{2}]", "({0} or {1})", "({0} and {1})", "min(r.p for r in recs)",
              "sum(arr[i] for i in range(3) if i != {0})"]
_BOOL_FORMS = ["({0} < {1})", "({0} == {1})", "({0} != {1})", "({b} and {c})", "({b} or {c})", "not {b}",
               "({0} in arr)", "({0} not in [a, b])", "any(x > {0} for x in arr)", "all(r.q or r.p > {0} for r in recs)",
               "any(arr[j] > 0 for j in [{0}, {1}])", "all(arr[j] < 5 for j in [{0}, {1}])", "(arr == [{0}, -1, 0])",
               "(recs[0] == recs[{0}])", "(m == 0)", "(m == 'E')", "({0} <= {1} < {2})", "(s or 'z') == 'z'",
               "(m is None)", "([a, f] == [{0}, {b}])"]


@st.composite
def _int_expr(draw, depth=0):
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(_INTS))
    ints = [draw(_int_expr(depth + 1)) for _ in range(3)]
    return draw(st.sampled_from(_INT_FORMS)).format(*ints, b=draw(_bool_expr(depth + 1)))


@st.composite
def _bool_expr(draw, depth=0):
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(_BOOLS))
    ints = [draw(_int_expr(depth + 1)) for _ in range(3)]
    return draw(st.sampled_from(_BOOL_FORMS)).format(*ints, b=draw(_bool_expr(depth + 1)),
                                                    c=draw(_bool_expr(depth + 1)))


def _combos(mixed: bool) -> list:
    """Values of a, b, f, s, m; m holds a string in half of them when ``mixed``."""
    return [(a, b, f, s, m) for a in (-3, 2) for b in (0, 3) for f in (False, True) for s in ("x", None)
            for m in ((0, "E") if mixed else (0, 1))]


def _expression_scenario(expr: str, mixed: bool, table) -> str:
    import yaml
    combos = _combos(mixed)
    pick = [f"k = choose({', '.join(str(k) for k in range(len(combos)))})"]
    for i, name in enumerate("abfsm"):
        pick.append(f"{name} = {[c[i] for c in combos]!r}[k]")
    doc = {"racecheck": 1, "title": "expression",
           "state": {"a": 0, "b": 0, "f": False, "s": "x", "m": 0, "arr": [1, -1, 0],
                     "recs": [{"p": 2, "q": False}, {"p": -1, "q": True}]},
           "threads": {"t": {"locals": {"k": 0, "out": 0}, "steps": [
               {"step": "pick", "do": "\n".join(pick)},
               {"step": "eval", "do": f"out = {expr}"},
               {"step": "check", "do": f"assert out == {list(table)!r}[k], 'wrong value'"}]}}}
    return yaml.safe_dump(doc, sort_keys=False)


def _racecheck_values(scenario, expr: str, mixed: bool) -> list:
    """The value of ``expr`` for each input combination, by racecheck's compiled code (0 on errors)."""
    from racecheck.model.compile import Names, Unit
    from racecheck.model.program import USER_ERRORS
    from racecheck.scenario.lang import Origin, Scope, parse_code
    names = [n for n, _ in scenario.state]
    scope = Scope("fuzz", shared=frozenset(names), fields=frozenset({"p", "q"}))
    unit = Unit(Names({n: i for i, n in enumerate(names)}, {}), "<fuzz>")
    unit.guard("g", parse_code(expr, Origin("<fuzz>", 1, 0), scope, expr=True))
    fn = unit.compile({})["g"]
    values = []
    for combo in _combos(mixed):
        state = dict(scenario.state)
        state.update(zip("abfsm", combo))
        try:
            values.append(fn(tuple(state[n] for n in names)))
        except USER_ERRORS:
            values.append(0)
    return [int(v) if isinstance(v, bool) else v for v in values]


@needs_spin
@settings(PROFILE)
@given(st.one_of(_int_expr(), _bool_expr()), st.booleans())
def test_spin_agrees_on_random_expressions(expr, mixed):
    with tempfile.TemporaryDirectory() as tmp:
        draft = load_text(_expression_scenario(expr, mixed, [0] * 32), tmp)
        text = _expression_scenario(expr, mixed, _racecheck_values(draft, expr, mixed))
        scenario = load_text(text, tmp)
        program = Program(scenario, scenario.variants[0])
        try:
            found = assert_agrees(program, f"out = {expr}")
        except ExportError as exc:
            pytest.fail(f"{exc}\n{text}")
        assert ("assert",) not in found, text
