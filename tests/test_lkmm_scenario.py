"""Scenarios under ``memory: lkmm``: verdicts and execution counts, the
data-race violation, the loader's refusals, the kernel vocabulary under
``memory: sc``, and the ``--execution`` replay."""

from __future__ import annotations

import os

import pytest

from racecheck.cli import main
from racecheck.explore.lkmm_check import check_variant_lkmm
from racecheck.scenario.loader import load_scenario

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lkmm_scenarios")
WAKEUP = os.path.join(HERE, "lost_wakeup.yaml")


def write(tmp_path, text: str, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def verdicts(path: str, memory: str | None = None) -> dict:
    """variant -> (verdict, violation short name or None, executions)."""
    scenario = load_scenario(path, memory)
    out = {}
    for variant in scenario.variants:
        checked = check_variant_lkmm(scenario, variant)
        v = checked.exploration.violation
        out[variant.name] = (checked.exploration.verdict.value, v.short() if v else None, checked.executions)
    return out


def test_lost_wakeup_needs_both_barriers(capsys):
    assert verdicts(WAKEUP) == {"before": ("violation", "no_lost_wakeup", 4), "after": ("safe", None, 3)}
    assert main([WAKEUP]) == 0
    out = capsys.readouterr().out
    assert "<- 0 (initial; kcompactd's" in out
    assert "replay: racecheck" in out and "--execution 1\n" in out
    assert all(len(line) <= 75 for line in out.splitlines())


def test_the_same_file_under_sc_cannot_lose_the_wakeup(capsys):
    """Store buffering needs weak memory: under sc both variants are safe."""
    assert main([WAKEUP, "--memory", "sc"]) == 1
    assert "before   violation no_lost_wakeup  12      " in capsys.readouterr().out


def test_bounds_that_do_not_apply_are_named(capsys):
    """Only --max-states bounds an lkmm check; the others are not silently dropped."""
    assert main([WAKEUP, "-q", "--timeout", "5", "--max-depth", "3"]) == 0
    err = capsys.readouterr().err
    assert "checked under memory: lkmm, where --max-depth, --timeout do not apply" in err
    assert main([WAKEUP, "-q", "--max-states", "100"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_execution_replay_draws_the_counterexample(capsys):
    assert main([WAKEUP, "--variant", "before", "--execution", "1"]) == 0
    out = capsys.readouterr().out
    assert "execution 1 of 4 (memory: lkmm)" in out
    assert "final no_lost_wakeup is violated" in out
    assert main([WAKEUP, "--variant", "after", "--execution", "2"]) == 0
    assert "no violation in this execution" in capsys.readouterr().out
    assert main([WAKEUP, "--variant", "after", "--execution", "9"]) == 2
    assert "no execution 9; there are 3" in capsys.readouterr().err


MP = """\
racecheck: 1
title: message passing
memory: lkmm
params: {ORDER: none}
state: {data: 0, flag: 0}
threads:
  writer:
    steps:
      - step: data = 1
        do: WRITE_CODE
      - if: ORDER == 'relacq'
        then:
          - step: smp_store_release(&flag, 1)
            do: smp_store_release(flag, 1)
        else:
          - step: WRITE_ONCE(flag, 1)
            do: WRITE_ONCE(flag, 1)
  reader:
    locals: {f: 0, d: 0}
    steps:
      - if: ORDER == 'relacq'
        then:
          - step: f = smp_load_acquire(&flag)
            do: f = smp_load_acquire(flag)
        else:
          - step: f = READ_ONCE(flag)
            do: f = READ_ONCE(flag)
      - if: f == 1
        then:
          - step: d = data
            do: READ_CODE
final:
  seen: reader.f == 0 or reader.d == 1
variants:
  none: {params: {ORDER: none}, expect: {violation: seen}}
  relacq: {params: {ORDER: relacq}, expect: safe}
"""


def test_message_passing_with_once_accesses(tmp_path):
    path = write_mp(tmp_path, "WRITE_ONCE(data, 1)", "d = READ_ONCE(data)")
    assert verdicts(path) == {"none": ("violation", "seen", 3), "relacq": ("safe", None, 2)}


def write_mp(tmp_path, write_code: str, read_code: str) -> str:
    return write(tmp_path, MP.replace("WRITE_CODE", write_code).replace("READ_CODE", read_code), "mp.yaml")


def test_plain_accesses_race_unless_ordered(tmp_path, capsys):
    path = write_mp(tmp_path, "data = 1", "d = data")
    scenario = load_scenario(path)
    checked = check_variant_lkmm(scenario, scenario.variant("none"))
    kinds = {checked.exploration.violation.short()} | {v.short() for v in checked.exploration.others}
    assert kinds == {"seen", "data-race"}
    relacq = check_variant_lkmm(scenario, scenario.variant("relacq"))
    assert relacq.exploration.verdict.value == "safe"


RACE = """\
racecheck: 1
title: a racy counter
memory: lkmm
state: {count: 0}
threads:
  a:
    steps:
      - step: count++
        do: count = count + 1
  b:
    steps:
      - step: count++
        do: count += 1
expect: {violation: data-race}
"""


def test_data_race_names_both_accesses_and_lines(tmp_path, capsys):
    path = write(tmp_path, RACE)
    assert main([path]) == 0
    out = capsys.readouterr().out
    assert "violation of data-race (as expected)" in out
    assert "data race: a 'count++' (line 9, plain read of count) and b 'count++'" in out


COUNTER = """\
racecheck: 1
title: counters
memory: {MEMORY}
params: {{HOW: atomic}}
state: {{count: 0, l: 0}}
threads:
  inc:
    copies: 2
    locals: {{old: 0}}
    steps:
      - if: HOW == 'atomic'
        then:
          - step: atomic_inc(&count)
            do: atomic_inc(count)
      - if: HOW == 'xchg'
        then:
          - step: old = atomic_fetch_add(1, &count)
            do: old = atomic_fetch_add(1, count)
      - if: HOW == 'lock'
        then:
          - step: spin_lock(&l)
            do: |
              spin_lock(l)
              old = count
          - step: count = old + 1; spin_unlock(&l)
            do: |
              count = old + 1
              spin_unlock(l)
final:
  both: count == 2
variants:
  atomic: {{params: {{HOW: atomic}}, expect: safe}}
  fetch: {{params: {{HOW: xchg}}, expect: safe}}
  lock: {{params: {{HOW: lock}}, expect: safe}}
"""


@pytest.mark.parametrize("memory", ["sc", "lkmm"])
def test_atomics_and_locks_count_right_under_both_models(tmp_path, capsys, memory):
    path = write(tmp_path, COUNTER.format(MEMORY=memory))
    assert main([path]) == 0, capsys.readouterr()


def test_lkmm_execution_counts_of_the_counters(tmp_path):
    found = verdicts(write(tmp_path, COUNTER.format(MEMORY="lkmm")))
    assert found == {"atomic": ("safe", None, 2), "fetch": ("safe", None, 2), "lock": ("safe", None, 2)}


RMW = """\
racecheck: 1
title: one primitive
state: {x: 5, y: 0}
threads:
  t:
    locals: {a: 0}
    steps:
      - step: s
        do: |
          CODE
final:
  values: (t.a, x, y) == RESULT
"""


@pytest.mark.parametrize("code, result", [
    ("a = xchg(x, 7)", (5, 7, 0)),
    ("a = cmpxchg(x, 5, 9)", (5, 9, 0)),
    ("a = cmpxchg_relaxed(x, 1, 2)", (5, 5, 0)),
    ("a = atomic_inc_return(x)", (6, 6, 0)),
    ("a = atomic_fetch_sub_release(2, x)", (5, 3, 0)),
    ("a = atomic_dec_and_test(y)", (False, 5, -1)),
    ("atomic_add(3, x)", (0, 8, 0)),
    ("WRITE_ONCE(y, READ_ONCE(x) + smp_load_acquire(y))", (0, 5, 5)),
    ("smp_store_release(y, 1)\n          smp_mb()\n          a = atomic_read(y)", (1, 5, 1)),
    ("READ_ONCE(x)\n          a = smp_load_acquire(x) + 1", (6, 5, 0)),
])
@pytest.mark.parametrize("memory", ["sc", "lkmm"])
def test_each_primitive_means_the_same_in_one_thread(tmp_path, capsys, memory, code, result):
    path = write(tmp_path, RMW.replace("CODE", code).replace("RESULT", repr(result)))
    assert main([path, "--memory", memory]) == 0, capsys.readouterr()
    bad = RMW.replace("CODE", code).replace("RESULT", repr((9, 9, 9)))
    assert main([write(tmp_path, bad, "bad.yaml"), "--memory", memory]) == 1


BASE = """\
racecheck: 1
title: refused
memory: lkmm
state: {x: 0}
threads:
  t:
    locals: {v: 0}
    steps:
"""


RECORDS = """\
racecheck: 1
title: fields and elements are locations
memory: MEMORY
params: {ORDER: relacq}
state: {page: {flags: 0, data: 0}, slots: [0, 0]}
threads:
  writer:
    steps:
      - step: page->data = 1; slots[1] = 2
        do: |
          page.data = 1
          WRITE_ONCE(slots[1], 2)
      - if: ORDER == 'relacq'
        then:
          - step: smp_store_release(&page->flags, 1)
            do: smp_store_release(page.flags, 1)
        else:
          - step: WRITE_ONCE(page->flags, 1)
            do: WRITE_ONCE(page.flags, 1)
  reader:
    locals: {f: 0, d: 0, s: 0}
    steps:
      - step: f = smp_load_acquire(&page->flags) (or READ_ONCE)
        do: f = smp_load_acquire(page.flags) if ORDER == 'relacq' else READ_ONCE(page.flags)
      - if: f == 1
        then:
          - step: d = page->data; s = slots[1]
            do: |
              d = page.data
              s = READ_ONCE(slots[1])
final:
  seen: reader.f == 0 or (reader.d == 1 and reader.s == 2 and slots[1] == 2)
variants:
  relacq: {params: {ORDER: relacq}, expect: safe}
  once: {params: {ORDER: once}, expect: {violation: data-race}}
"""


@pytest.mark.parametrize("memory", ["sc", "lkmm"])
def test_fields_and_constant_elements_are_locations(tmp_path, capsys, memory):
    text = RECORDS.replace("MEMORY", memory)
    if memory == "sc":
        text = text.replace("expect: {violation: data-race}", "expect: safe")
    path = write(tmp_path, text)
    assert main([path]) == 0, capsys.readouterr()
    if memory == "lkmm":
        assert verdicts(path) == {"relacq": ("safe", None, 2), "once": ("violation", "data-race", 5)}


@pytest.mark.parametrize("code, message", [
    ("v = r", "'r' is a whole record or list; under memory: lkmm each of its"),
    ("v = s[v]", "under memory: lkmm an element of 's' is named by a constant index"),
    ("r.a.b = 1", "no record in this scenario has a field 'b'"),
])
def test_whole_records_and_computed_indices_are_refused(tmp_path, capsys, code, message):
    text = BASE.replace("{x: 0}", "{x: 0, r: {a: 1}, s: [1, 2]}") + f"      - step: s\n        do: {code}\n"
    path = write(tmp_path, text)
    assert main([path]) == 2
    err = capsys.readouterr().err
    assert f"{path}:10:" in err and message in err, err


@pytest.mark.parametrize("steps, extra, line, message", [
    ("      - step: s\n        do: v = x\n", "invariants:\n  ok: x == 0\n", 12,
     "invariant 'ok' cannot be checked under memory: lkmm"),
    ("      - while: x == 0\n        steps:\n          - step: s\n            do: v = 1\n", "", 9,
     "a while loop over shared state (x) cannot be checked under memory: lkmm yet"),
    ("      - step: s\n        label: top\n        do: v = 1\n        goto: top\n", "", 9,
     "goto under memory: lkmm: only 'goto: end'"),
    ("      - step: s\n        do: v = choose(1, 2)\n", "", 10, "choose() is not supported under memory: lkmm"),
    ("      - step: s\n        do: |\n          v = 1\n          spin_lock(x)\n", "", 12,
     "spin_lock() must be the first statement of a step's do"),
    ("      - step: s\n        do: WRITE_ONCE(v, 1)\n", "", 10, "WRITE_ONCE() takes a shared variable"),
    ("      - step: s\n        do: v = smp_mb()\n", "", 10, "smp_mb() returns no value"),
    ("      - step: s\n        do: v = 1 + xchg(x, 1)\n", "", 10, "xchg() is an atomic read-modify-write"),
])
def test_what_lkmm_refuses_names_file_and_line(tmp_path, capsys, steps, extra, line, message):
    path = write(tmp_path, BASE + steps + extra)
    assert main([path]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err and message in err, err
    assert "Traceback" not in err


def test_lock_variable_used_directly_is_refused(tmp_path, capsys):
    text = BASE + ("      - step: s\n        do: spin_lock(x)\n"
                                               "      - step: u\n        do: |\n          v = x\n"
                                               "          spin_unlock(x)\n")
    path = write(tmp_path, text)
    assert main([path]) == 2
    assert "spinlock 'x' is read or written directly" in capsys.readouterr().err


def test_memory_key_is_checked(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("memory: lkmm", "memory: tso") + "      - step: s\n        do: v = 1\n")
    assert main([path]) == 2
    assert f"{path}:3:9: 'memory' must be 'sc' or 'lkmm'" in capsys.readouterr().err


def test_await_drops_runs_that_cannot_see_the_value(tmp_path):
    text = """\
racecheck: 1
title: await
memory: lkmm
state: {data: 0, flag: 0}
threads:
  w:
    steps:
      - step: data
        do: WRITE_ONCE(data, 1)
      - step: flag
        do: smp_store_release(flag, 1)
  r:
    locals: {d: 0}
    steps:
      - step: wait for flag
        await: smp_load_acquire(flag) == 1
      - step: read data
        do: d = READ_ONCE(data)
final:
  ok: r.d == 1
"""
    assert verdicts(write(tmp_path, text)) == {"": ("safe", None, 1)}
    assert verdicts(write(tmp_path, text.replace("smp_load_acquire(flag)", "READ_ONCE(flag)"))) == \
        {"": ("violation", "ok", 2)}


def test_assert_under_lkmm(tmp_path, capsys):
    text = RACE.replace("expect: {violation: data-race}", "expect: {violation: assert}").replace(
        "do: count += 1", "do: |\n          v = READ_ONCE(count)\n          assert v == 0, 'saw it'").replace(
        "do: count = count + 1", "do: WRITE_ONCE(count, 1)").replace("  b:\n", "  b:\n    locals: {v: 0}\n")
    path = write(tmp_path, text)
    assert main([path]) == 0, capsys.readouterr()
    assert "assert fails: saw it" in capsys.readouterr().out


# -- the pytest plugin and the reports -------------------------------------------

pytest_plugins = ["pytester"]
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist")


def test_plugin_checks_lkmm_variants(pytester):
    text = open(WAKEUP).read()
    pytester.makefile(".yaml", wakeup=text.replace("after: {params: {BARRIER: true}, expect: safe}",
                                                   "after: {params: {BARRIER: true}, expect: safe}\n"
                                                   "  wrong: {params: {BARRIER: false}, expect: safe}"))
    result = pytester.runpytest(*QUIET, "-v")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "wakeup.yaml::wrong FAILED" in out
    assert "variant wrong: violation of final no_lost_wakeup (expected safe: NOT AS\n" in out
    assert "Traceback" not in out


def test_report_files_render_the_execution(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", WAKEUP, "--out", str(out)]) == 0
    mail = (out / "lost_wakeup.txt").read_text()
    assert "1 of them shows it; the simplest (fewest stale reads) is execution 1:" in mail
    assert "  <- 0 (initial; kcompactd's" in mail
    import json
    data = json.loads((out / "lost_wakeup.json").read_text())
    assert data["memory"] == "lkmm"
    assert [v["statistics"]["executions"] for v in data["variants"]] == [4, 3]
    assert data["variants"][0]["violation"]["replay"].endswith("--variant before --execution 1")
    assert "<pre" in (out / "lost_wakeup.html").read_text()
    md = (out / "lost_wakeup.md").read_text()
    assert "| 17 | wakeup_kcompactd smp_mb | nothing | needed: safe -> violation of final no_lost_wakeup |" in md
    assert "| 26 | kcompactd smp_mb | nothing | no new violation without it |" in md     # before: violates
    assert [len(v["audit"]) for v in data["variants"]] == [1, 2]
    capsys.readouterr()
    assert main(["report", "--check", str(out)]) == 0


def test_lkmm_doc_example_is_the_test_scenario(tmp_path):
    import re
    text = open(os.path.join(os.path.dirname(HERE), "..", "docs", "lkmm.md")).read()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("racecheck:")]
    assert len(blocks) == 1
    path = write(tmp_path, blocks[0], "lost_wakeup.yaml")
    assert verdicts(path) == verdicts(WAKEUP)


# -- racecheck audit FILE.yaml ---------------------------------------------------

def test_audit_of_the_lost_wakeup(capsys):
    assert main(["audit", WAKEUP, "--variant", "after"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # the heading names the file: how many lines it folds to depends on
    # where the checkout is, so the table is found by its header
    first = lines.index("  line  primitive -> weakened to           without it")
    assert lines[first:first + 6] == [
        "  line  primitive -> weakened to           without it",
        "    17  wakeup_kcompactd smp_mb -> nothing",
        "          needed: safe -> violation of final no_lost_wakeup",
        "    26  kcompactd smp_mb -> nothing",
        "          needed: safe -> violation of final no_lost_wakeup",
        "  2 of 2 primitives needed"]
    assert "without wakeup_kcompactd smp_mb (line 17, weakened to nothing): violation" in out
    assert all(len(line) <= 75 for line in lines)


def test_audit_skips_primitives_a_variant_does_not_run(capsys):
    assert main(["audit", WAKEUP, "--variant", "before", "--json"]) == 0
    import json
    doc = json.loads(capsys.readouterr().out)
    [one] = doc["scenarios"]
    assert [(p["thread"], p["line"], p["needed"]) for p in one["primitives"]] == [("kcompactd", 26, False)]


def test_audit_of_message_passing_needs_release_and_acquire(tmp_path, capsys):
    path = write_mp(tmp_path, "WRITE_ONCE(data, 1)", "d = READ_ONCE(data)")
    assert main(["audit", path, "--variant", "relacq", "--json"]) == 0
    import json
    rows = json.loads(capsys.readouterr().out)["scenarios"][0]["primitives"]
    assert [(p["primitive"], p["weakened_to"], p["needed"], p["without_it"]) for p in rows] == [
        ("smp_store_release", "WRITE_ONCE", True, "violation of final seen"),
        ("smp_load_acquire", "READ_ONCE", True, "violation of final seen")]


def test_audit_of_a_lock_pair(tmp_path, capsys):
    path = write(tmp_path, COUNTER.format(MEMORY="lkmm"))
    assert main(["audit", path, "--variant", "lock"]) == 0
    out = capsys.readouterr().out
    assert "inc spin_lock..28 -> nothing" in out
    assert "needed: safe -> violation of final both, data-race" in out


def test_audit_refuses_sc_scenarios(tmp_path, capsys):
    path = write(tmp_path, COUNTER.format(MEMORY="sc"))
    assert main(["audit", path]) == 2
    assert "where no ordering is weaker than another" in capsys.readouterr().err
    assert main(["audit", path, "--memory", "lkmm", "--variant", "atomic"]) == 0
    assert "no ordering primitive to weaken" in capsys.readouterr().out


EARLY = """\
racecheck: 1
title: an early return in a call group
memory: lkmm
state: {x: 0, y: 0}
threads:
  P0:
    locals: {r0: 0}
    steps:
      - call: f()
        steps:
          - step: r0 = READ_ONCE(x); if (!r0) return
            do: |
              r0 = READ_ONCE(x)
              if r0 == 0:
                  return
          - step: INSIDE
            do: WRITE_ONCE(y, 1)
      - step: AFTER
        do: WRITE_ONCE(y, 1)
  P1:
    locals: {r1: 0}
    steps:
      - step: r1 = READ_ONCE(y)
        do: r1 = READ_ONCE(y)
      - step: smp_mb()
        do: smp_mb()
      - step: WRITE_ONCE(x, 1)
        do: WRITE_ONCE(x, 1)
final:
  no_cycle: not (P0.r0 == 1 and P1.r1 == 1)
"""


def test_an_early_return_orders_only_up_to_the_end_of_its_group(tmp_path):
    """Inside the group the store depends on the read (no load buffering);
    after it both ways meet, so the store there is not ordered."""
    ordered = EARLY.replace("        do: WRITE_ONCE(y, 1)\n  P1", "        do: pass\n  P1")
    assert verdicts(write(tmp_path, ordered, "in.yaml")) == {"": ("safe", None, 2)}
    after = EARLY.replace("          - step: INSIDE\n            do: WRITE_ONCE(y, 1)\n",
                          "          - step: INSIDE\n            do: pass\n")
    assert verdicts(write(tmp_path, after, "after.yaml")) == {"": ("violation", "no_cycle", 4)}


def test_no_execution_at_all_is_inconclusive(tmp_path, capsys):
    text = BASE + "      - step: wait\n        await: READ_ONCE(x) == 1\n"
    path = write(tmp_path, text)
    assert main([path]) == 3
    out = capsys.readouterr().out
    assert "scenario: inconclusive (no execution: in every run some" in out
    assert "deadlock is not checked under lkmm) (expected safe: inconclusive)" in out


GROWING = """\
racecheck: 1
title: a counter every copy increments twice
memory: lkmm
state: {n: 0}
threads:
  a:
    copies: 3
    locals: {c: 0}
    steps:
      - {step: "c = READ_ONCE(n)", do: "c = READ_ONCE(n)"}
      - {step: "WRITE_ONCE(n, c + 1)", do: "WRITE_ONCE(n, c + 1)"}
      - {step: "c = READ_ONCE(n)", do: "c = READ_ONCE(n)"}
      - {step: "WRITE_ONCE(n, c + 1)", do: "WRITE_ONCE(n, c + 1)"}
final:
  some: n >= 1
"""


def test_max_states_bounds_the_runs_of_thread_code_too(tmp_path, capsys):
    """Values that grow from round to round multiply the runs enumerated
    before any candidate exists; --max-states stops that work as well."""
    path = write(tmp_path, GROWING, "grow.yaml")
    assert main([path, "-q", "--max-states", "300"]) == 3
    out = capsys.readouterr().out
    assert "inconclusive (more than 300 runs of thread code while enumerating" in out
    assert main([path, "-q", "--max-states", "3000"]) == 3
    assert "inconclusive (more than 3000 candidate executions)" in capsys.readouterr().out


def test_replay_options_say_which_model_they_belong_to(capsys):
    assert main([WAKEUP, "--variant", "before", "--schedule", "kcompactd"]) == 2
    assert "replay it with --execution N" in capsys.readouterr().err
    assert main([WAKEUP, "--execution", "1"]) == 2
    assert "choose one with --variant" in capsys.readouterr().err
    assert main([WAKEUP, "--memory", "sc", "--variant", "before", "--execution", "1"]) == 2
    assert "replay a counterexample with --schedule" in capsys.readouterr().err
    assert main(["explain", WAKEUP]) == 2
    assert "explain works on interleavings (memory: sc) only" in capsys.readouterr().err
