"""End to end: every shipped scenario gets the verdict each variant declares,
and every counterexample replays to the violation it claims."""

import glob
import os
import re

import pytest

from racecheck.explore.check import check_variant
from racecheck.explore.lkmm_check import check_variant_lkmm
from racecheck.explore.result import Outcome, Verdict
from racecheck.explore.trace import replay, violations_at_end
from racecheck.scenario.loader import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = sorted(glob.glob(os.path.join(ROOT, "scenarios", "**", "*.yaml"), recursive=True))
SPEC = os.path.join(ROOT, "..", "shared", "spec", "scenario-format.md")

CASES = [(path, variant.name) for path in FILES for variant in load_scenario(path).variants]


def test_there_are_scenarios():
    assert len(FILES) >= 3


@pytest.mark.parametrize("path, variant", CASES, ids=[f"{os.path.basename(p)}::{v or '-'}" for p, v in CASES])
def test_variant_gets_its_expected_verdict(path, variant):
    scenario = load_scenario(path)
    if scenario.memory == "lkmm":
        # every LKMM execution; a counterexample is an execution, not a schedule
        checked = check_variant_lkmm(scenario, scenario.variant(variant))
        assert checked.outcome is Outcome.MATCH, (checked.exploration.verdict, checked.exploration.violation)
        return
    checked = check_variant(scenario, scenario.variant(variant))
    assert checked.outcome is Outcome.MATCH, (checked.exploration.verdict, checked.exploration.violation)
    result = checked.exploration
    if result.verdict is Verdict.VIOLATION:
        # the reported schedule, replayed independently of the search, ends in it
        trace = replay(checked.program, result.violation.schedule)
        if result.violation.kind != "livelock":
            ends = {(k, n) for k, n, _ in violations_at_end(checked.program, trace)}
            assert (result.violation.kind, result.violation.name) in ends


def test_every_scenario_has_a_description_and_source():
    for path in FILES:
        scenario = load_scenario(path)
        assert scenario.description, path
        assert scenario.source, path


@pytest.mark.skipif(not os.path.exists(SPEC), reason="the shared format page is not beside this checkout")
def test_normative_example_loads_verbatim_and_agrees_with_the_seed(tmp_path):
    text = open(SPEC).read()
    example = re.search(r"## Normative example.*?```yaml\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "normative.yaml"
    path.write_text(example)
    scenario = load_scenario(str(path))
    for variant in scenario.variants:
        assert check_variant(scenario, variant).outcome is Outcome.MATCH
    # The shipped seed models more than the example (the kernel's level, as the spec
    # asks): its variants of the same names expect the same verdicts, and the ones at
    # the mail's level explore exactly the example's states.
    seed = load_scenario(os.path.join(ROOT, "scenarios", "dirty_unlocked.yaml"))
    for variant in scenario.variants:
        ours = seed.variant(variant.name)
        assert ours.expect == variant.expect, variant.name
        if dict(ours.params)["level"] == "mail":
            assert check_variant(seed, ours).exploration.stats.states == \
                check_variant(scenario, variant).exploration.stats.states, variant.name
