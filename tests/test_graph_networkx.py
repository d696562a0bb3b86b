"""networkx as a reference for the hand-written graph routines.

The analyses keep their own graph code (docs/graphs.md, "Why not
networkx", says why, with numbers from benchmarks/graphs.py). Here the same
benchmark's networkx equivalents check them on every shipped variant:
livelocked states (``nx.ancestors`` of a sink behind every ending), the
cycle test (``nx.is_directed_acyclic_graph``) and the cost of the
fewest-switch counterexample (``nx.multi_source_dijkstra`` over
(state, last thread) with weights ``switch * big + 1``).
"""

from __future__ import annotations

import os
import sys

import networkx as nx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)                 # benchmarks/ is beside racecheck/, not installed

from benchmarks.graphs import nx_fewest, nx_livelocked, product_graph, to_digraph  # noqa: E402
from racecheck.explore.counterexample import fewest_switches, switches  # noqa: E402
from racecheck.explore.frequency import _has_cycle, _livelocked  # noqa: E402
from racecheck.explore.graph import full_graph  # noqa: E402
from racecheck.explore.result import Bounds  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.model.program import Program  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402
from tests.shipped import shipped_scenarios  # noqa: E402

SCENARIOS = shipped_scenarios("sc")


def programs(path):
    scenario = load_scenario(path)
    return [(Program(scenario, variant), variant.expect) for variant in scenario.variants]


@pytest.mark.parametrize("path", SCENARIOS, ids=os.path.basename)
def test_livelock_and_cycle_agree_with_networkx(path):
    for program, _ in programs(path):
        raw = full_graph(program, 200_000)
        assert raw.complete
        g = to_digraph(raw)
        assert _livelocked(raw) == nx_livelocked(raw, g)
        assert _has_cycle(raw) == (not nx.is_directed_acyclic_graph(g))


@pytest.mark.parametrize("path", SCENARIOS, ids=os.path.basename)
def test_fewest_switches_cost_agrees_with_networkx_dijkstra(path):
    for program, expect in programs(path):
        violation = explore(program, Bounds(), expect).violation
        if violation is None or violation.kind == "livelock" or not violation.schedule.steps:
            continue
        schedule = fewest_switches(program, violation).violation.schedule
        raw = full_graph(program, 200_000)
        assert (switches(schedule), len(schedule.steps)) == nx_fewest(*product_graph(program, raw, violation.key))
