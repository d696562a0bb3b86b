"""Post-processing after the verdict search: coverage from what the search
ran, the full-graph walk only for what it never ran, and the graph budget.

Coverage must not change with the way it is computed: on random scenarios,
from a reduced or unreduced search's moves, with or without a full graph
given, it equals a plain logged walk of every reachable state (the
reference below, which is how coverage was computed before it used the
search's record). Over ``--graph-budget`` it says so, in every output.
"""

from __future__ import annotations

import json
import os
import sys
from collections import deque
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

from families import counters, pages  # noqa: E402
from strategies import scenario_texts  # noqa: E402

from racecheck.cli import main  # noqa: E402
from tests.folding import flat  # noqa: E402
from racecheck.explore.check import check_variant, over_budget  # noqa: E402
from racecheck.explore.coverage import unexecuted_steps  # noqa: E402
from racecheck.explore.frequency import violation_frequency  # noqa: E402
from racecheck.explore.graph import full_graph  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.model.program import USER_ERRORS, InitialFailure, Program  # noqa: E402
from racecheck.model.runtime import Chooser  # noqa: E402
from racecheck.report.text import render_variant  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402
from racecheck.scenario.values import StepError  # noqa: E402

ROOT = Path(__file__).parent.parent
SEED = str(ROOT / "scenarios" / "dirty_unlocked.yaml")


def reference_unexecuted(program: Program) -> tuple:
    """Every reachable state of the full graph, every transition run logged:
    the instructions that never start, as ``unexecuted_steps`` reports them."""
    executed = [set() for _ in program.threads]
    frontier = deque()
    plan: list | None = []
    while plan is not None:
        chooser, log = Chooser(plan), []
        s = program.run_prefixes(program.base_state(), chooser, log)
        _record(log, executed, None)
        if not isinstance(s, InitialFailure):
            frontier.append(s)
        plan = chooser.next_plan()
    seen = set(frontier)
    while frontier:
        s = frontier.popleft()
        for t in range(len(program.threads)):
            if s[program.threads[t].pc_slot] == program.threads[t].end:
                continue
            try:
                if not program.enabled(s, t):
                    continue
            except USER_ERRORS:
                executed[t].add(s[program.threads[t].pc_slot])
                continue
            plan = []
            while plan is not None:
                chooser, log = Chooser(plan), []
                try:
                    s2 = program.execute(s, t, chooser, log)
                    if s2 not in seen:
                        seen.add(s2)
                        frontier.append(s2)
                except StepError:
                    pass
                _record(log, None, executed[t])
                plan = chooser.next_plan()
    return _as_report(program, executed)


def _record(log, per_thread, one) -> None:
    """``("row", pc)`` events go to ``one``, or to the thread the last
    ``("thread", t)`` event names."""
    for i, event in enumerate(log):
        if event[0] == "row":
            owner = [e[1] for e in log[:i] if e[0] == "thread"]
            (per_thread[owner[-1]] if owner else one).add(event[1])


def _as_report(program: Program, executed: list) -> tuple:
    missing: dict = {}
    for thread, done in zip(program.threads, executed):
        missing.setdefault(thread.base, []).append((thread, [pc for pc in range(thread.end) if pc not in done]))
    result = []
    for instances in missing.values():
        same = len({tuple(pcs) for _, pcs in instances}) == 1
        for thread, pcs in instances[:1] if same else instances:
            name = thread.base if same else thread.name
            result += [(name, thread.instrs[pc].text, f"{thread.instrs[pc].pos.file}:{thread.instrs[pc].pos.line}")
                       for pc in pcs]
    return tuple(result)


def from_text(tmp_path, text: str, name: str = "scenario.yaml") -> tuple:
    path = tmp_path / name
    path.write_text(text)
    scenario = load_scenario(str(path))
    return scenario, Program(scenario, scenario.variants[0])


# == coverage from the search's moves equals the full walk ===============================

_SETTINGS = settings(max_examples=int(os.environ.get("POSTPROC_EXAMPLES", "80")), deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(scenario_texts(failing_properties=True))
def test_coverage_from_moves_equals_the_full_walk_on_random_scenarios(tmp_path, text):
    _, program = from_text(tmp_path, text)
    expected = reference_unexecuted(program)
    for reduction, compact in ((True, False), (False, False), (True, True)):
        moves = explore(program, reduction=reduction, hash_compact=compact).moves
        assert unexecuted_steps(program, moves=moves) == expected, (reduction, compact)
    graph = full_graph(program, 100_000)
    assert graph.complete
    assert unexecuted_steps(program, moves=explore(program).moves, graph=graph) == expected


def test_the_seed_agrees_with_the_full_walk():
    scenario = load_scenario(SEED)
    for variant in scenario.variants:
        checked = check_variant(scenario, variant)
        assert checked.unexecuted == reference_unexecuted(checked.program), variant.name
        assert checked.not_computed == ()


def test_pages_4_needs_no_walk(tmp_path):
    # the verdict search runs every step of 167 reduced states; the full graph
    # is larger than 50,000 states, and used to be walked to that budget for
    # nothing. With a budget of 0 no walk is possible: the record must decide.
    scenario, _ = from_text(tmp_path, pages(4))
    checked = check_variant(scenario, scenario.variants[0], analysis_budget=0)
    assert checked.exploration.stats.states == 167
    assert checked.coverage == () and checked.unexecuted == ()
    assert checked.not_computed == ()


def test_counters_6_coverage_is_computed_now(tmp_path):
    scenario, _ = from_text(tmp_path, counters(6))
    checked = check_variant(scenario, scenario.variants[0])
    assert checked.unexecuted == () and checked.not_computed == ()


SAME_END = """\
racecheck: 1
title: a local branch after a shared read, both ways ending at the same step
state: {x: 0, y: 0}
threads:
  a:
    locals: {r: 0}
    steps:
      - step: r = x
        do: r = x
      - if: r == 1
        then:
          - {step: one, do: r = 5}
        else:
          - {step: other, do: r = 6}
      - {step: y = r, do: y = r}
  b:
    steps:
      - {step: x = 1, do: x = 1}
"""

OWN_ENDS = SAME_END.replace("{step: one, do: r = 5}", "{step: one, do: r = 5}\n          - {step: y = 1, do: y = 1}")


def test_local_steps_on_the_only_path_count_from_the_record(tmp_path):
    # each way of the branch ends at its own shared step: the transition from
    # `r = x` to `y = 1` must have run the test and `one`, the one to `y = r`
    # the test and `other`; no walk is needed (budget 0)
    _, program = from_text(tmp_path, OWN_ENDS)
    assert unexecuted_steps(program, budget=0, moves=explore(program).moves) == () == reference_unexecuted(program)


def test_local_steps_on_one_of_two_paths_need_the_walk(tmp_path):
    # both ways of the branch end at `y = r`: the record cannot tell which
    # ran, so a walk decides; without a budget for it, not computed
    _, program = from_text(tmp_path, SAME_END)
    moves = explore(program).moves
    assert unexecuted_steps(program, budget=0, moves=moves) is None
    assert unexecuted_steps(program, moves=moves) == () == reference_unexecuted(program)


def test_a_shared_graph_gives_the_same_frequency(tmp_path):
    scenario = load_scenario(SEED)
    for name in ("v1", "unlocked", "put_first"):
        program = Program(scenario, scenario.variant(name))
        violation = explore(program, expect=scenario.variant(name).expect).violation
        alone = violation_frequency(program, violation)
        assert alone is not None
        assert violation_frequency(program, violation, graph=full_graph(program, 1000)) == alone


# == over the budget: said, never silent ====================================================

DEAD_STEP = """\
racecheck: 1
title: eight independent counters and a step that never runs
state: {a: 0, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0}
threads:
""" + "".join(f"  t{v}: {{steps: [{{step: {v}1, do: {v} += 1}}, {{step: {v}2, do: {v} += 1}}]}}\n"
              for v in "abcdefgh") + """\
  z:
    steps:
      - if: a < 0
        then:
          - {step: never, do: a = 0}
"""

LOST = DEAD_STEP.replace("title:", "invariants: {small: a + b < 4}\nexpect: {violation: small}\ntitle:")


def test_over_budget_reason():
    assert over_budget(50_000) == "50,001+ states > budget 50,000; --graph-budget"


def test_coverage_over_budget_says_not_computed(tmp_path):
    scenario, _ = from_text(tmp_path, DEAD_STEP)
    checked = check_variant(scenario, scenario.variants[0], analysis_budget=100)
    assert checked.unexecuted is None and checked.coverage is None
    assert checked.not_computed == (("coverage", over_budget(100)),)
    text = render_variant(checked, "scenario.yaml")
    assert "\n  steps never executed: not computed (101+ states > budget 100;\n    --graph-budget)" in text
    # with a budget for the whole graph (3^8 * 2 states), the step is found
    checked = check_variant(scenario, scenario.variants[0], analysis_budget=20_000)
    assert [s for _, s, _ in checked.coverage] == ["never"] and checked.not_computed == ()


def test_json_says_why_an_analysis_is_missing(tmp_path):
    from racecheck.report.jsonreport import variant_json
    scenario, _ = from_text(tmp_path, DEAD_STEP)
    missing = variant_json(check_variant(scenario, scenario.variants[0], analysis_budget=100), "s.yaml")
    assert missing["coverage"] is None and missing["not_computed"] == {"coverage": over_budget(100)}
    found = variant_json(check_variant(scenario, scenario.variants[0], analysis_budget=20_000), "s.yaml")
    assert found["coverage"] == [{"thread": found["coverage"][0]["thread"], "step": "never",
                                  "where": found["coverage"][0]["where"]}] and found["not_computed"] == {}


def test_frequency_over_budget_says_not_computed(tmp_path):
    scenario, _ = from_text(tmp_path, LOST)
    checked = check_variant(scenario, scenario.variants[0], analysis_budget=100)
    assert checked.frequency is None
    assert ("frequency", over_budget(100)) in checked.not_computed
    assert ("how common, in the full state graph: not computed (101+ states > budget 100; --graph-budget)"
            in flat(render_variant(checked, "scenario.yaml")))


def test_graph_budget_option_in_check_and_report(tmp_path, capsys):
    path = str(tmp_path / "dead.yaml")
    Path(path).write_text(DEAD_STEP)
    assert main([path, "-q", "--graph-budget", "10"]) == 0
    assert "steps never executed: not computed (11+ states > budget 10; --graph-budget)" in flat(capsys.readouterr().out)
    out = tmp_path / "reports"
    assert main(["report", path, "-q", "--graph-budget", "10", "--out", str(out)]) == 0
    assert "Not computed (11+ states > budget 10; --graph-budget)." in (out / "dead.md").read_text()
    assert json.loads((out / "dead.json").read_text())["variants"][0]["coverage"] is None


@pytest.mark.parametrize("value", ["-1", "many"])
def test_graph_budget_must_be_a_count(value, capsys):
    assert main([SEED, "--graph-budget", value]) == 2
    assert "--graph-budget" in capsys.readouterr().err
