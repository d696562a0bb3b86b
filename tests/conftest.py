"""Shared helpers for racecheck's tests."""

from __future__ import annotations

import os
import textwrap

import pytest

# Every search in the test suite (and in the commands it runs) checks that
# each step's accesses lie inside its computed read/write masks
# (racecheck/model/accesscheck.py): a miss fails the test with the step and
# the location.
os.environ.setdefault("RACECHECK_CHECK_ACCESSES", "1")

from racecheck.explore.check import check_variant
from racecheck.explore.search import explore
from racecheck.model.program import Program
from racecheck.scenario.loader import load_scenario


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files under tests/golden from the current output")


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture
def write_scenario(tmp_path):
    """Write YAML text (dedented) to a file and return its path."""
    counter = iter(range(1000))

    def write(text: str, name: str | None = None) -> str:
        path = tmp_path / (name or f"s{next(counter)}.yaml")
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write


@pytest.fixture
def load(write_scenario):
    """YAML text -> Scenario."""
    return lambda text: load_scenario(write_scenario(text))


@pytest.fixture
def program(load):
    """YAML text (and optional variant name) -> Program."""
    def build(text: str, variant: str | None = None) -> Program:
        scenario = load(text)
        chosen = scenario.variant(variant) if variant else scenario.variants[0]
        return Program(scenario, chosen)
    return build


@pytest.fixture
def run(load):
    """YAML text -> {variant name: CheckedVariant}."""
    def check(text: str, **bounds):
        from racecheck.explore.result import Bounds
        scenario = load(text)
        return {v.name: check_variant(scenario, v, Bounds(**bounds)) for v in scenario.variants}
    return check


def explore_text(load, text: str, **kwargs):
    scenario = load(text)
    return explore(Program(scenario, scenario.variants[0]), **kwargs)
