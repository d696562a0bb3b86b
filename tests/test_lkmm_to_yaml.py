"""``racecheck litmus --to-yaml``: every project litmus test the scenario
format can say, converted and checked as a scenario, gives the answer
``racecheck litmus`` gives (and the same number of executions); those it
cannot say are named."""

from __future__ import annotations

import glob
import os

import pytest

from racecheck.cli import main
from racecheck.explore.litmus import check_litmus
from racecheck.explore.lkmm_check import check_variant_lkmm
from racecheck.scenario.litmus import LitmusUnsupported, parse_litmus_file
from racecheck.scenario.litmus_yaml import to_yaml
from racecheck.scenario.loader import load_scenario

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lkmm")
FILES = sorted(glob.glob(os.path.join(HERE, "*.litmus")))

# what the scenario format cannot say (yet), by test
NOT_CONVERTED = {
    "AddUnless+set": "atomic_add_unless()",
    "Claim+trylock-held": "spin_trylock()",
    "Claim+trylock": "spin_trylock()",
    "MP+assign+deref": "the pointer p=y",
    "MP+lock+islocked": "spin_is_locked()",
    "MP+wmb+addr": "the pointer p=y",
    "SB+addunless-fails": "atomic_add_unless()",
    "SB+srcu-unlock-mb": "srcu_read_lock()",
    "SRCU+other-struct": "synchronize_srcu()",
    "SRCU+sync": "synchronize_srcu()",
    "SRCU+two-readers": "synchronize_srcu()",
}


def _stem(path: str) -> str:
    return os.path.basename(path)[:-len(".litmus")]


@pytest.mark.parametrize("path", FILES, ids=_stem)
def test_converted_scenario_gives_the_litmus_answer(tmp_path, path):
    test = parse_litmus_file(path)
    try:
        text = to_yaml(test)
    except LitmusUnsupported as exc:
        assert NOT_CONVERTED.get(_stem(path)) == exc.feature.removesuffix(" (in a scenario file)")
        return
    assert _stem(path) not in NOT_CONVERTED
    target = tmp_path / (_stem(path) + ".yaml")
    target.write_text(text)
    scenario = load_scenario(str(target))
    [variant] = scenario.variants
    checked = check_variant_lkmm(scenario, variant)
    result = check_litmus(test)
    result_kinds = {v.short() for v in (checked.exploration.violation,) + checked.exploration.others if v}
    shows = result.answer != ("Always" if test.quantifier == "forall" else "Never")
    final = {"exists": "exists", "~exists": "not_exists", "forall": "forall"}[test.quantifier]
    assert (final in result_kinds) == shows
    assert ("data-race" in result_kinds) == result.racy
    if test.filter is None:
        assert checked.executions == result.executions
    if test.expected is not None:
        assert checked.outcome.name == "MATCH", (checked.exploration.violation, test.expected)


def test_to_yaml_writes_files_and_names_what_it_cannot(tmp_path, capsys):
    status = main(["litmus", os.path.join(HERE, "MP+rel+acq.litmus"), os.path.join(HERE, "SRCU+sync.litmus"),
                   "--to-yaml", "--out", str(tmp_path)])
    assert status == 2
    run = capsys.readouterr()
    assert run.out.strip() == str(tmp_path / "MP+rel+acq.yaml")
    assert "SRCU+sync.litmus:15:1: unsupported: synchronize_srcu() (in a scenario file)" in run.err
    assert main([str(tmp_path / "MP+rel+acq.yaml")]) == 0
