"""The full state graph (explore.graph) and its exports (report.graph)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import networkx as nx
import pytest

from racecheck.explore.graph import CLASSES, state_graph
from racecheck.explore.search import explore
from racecheck.model.program import Program
from racecheck.report.graph import dot_quote, to_dot, to_graphml, to_networkx
from racecheck.scenario.loader import load_scenario
from racecheck.scenario.schema import Expectation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(ROOT, "scenarios", "dirty_unlocked.yaml")
EXHAUST = Expectation("named", "__no_such_property__")

# Two locks taken in opposite orders: a deadlock when both take their first
# lock; otherwise one thread finishes first, and the final check wants a first.
LOCKS = """
racecheck: 1
title: AB-BA
state: {A: false, B: false, order: 0}
threads:
  a:
    steps:
      - {step: lock A, await: not A, do: A = True}
      - {step: lock B, await: not B, do: B = True}
      - {step: unlock both, do: "order = order * 10 + 1\\nA = False\\nB = False"}
  b:
    steps:
      - {step: lock B, await: not B, do: B = True}
      - {step: lock A, await: not A, do: A = True}
      - {step: unlock both, do: "order = order * 10 + 2\\nA = False\\nB = False"}
final:
  a_first: order == 12
"""

# Step texts full of characters DOT and XML must escape; one step fails.
AWKWARD = r"""
racecheck: 1
title: 'quotes " and \ backslashes {braces} <xml> & ampersands'
state: {x: 0}
threads:
  a:
    steps:
      - {step: 'printk("x=%d\n", x); {x++} <&>', do: x += 1}
  b:
    steps:
      - step: check x
        do: assert x == 0, 'x is "one" \\ here'
"""


def seed_program(variant: str) -> Program:
    scenario = load_scenario(SEED)
    return Program(scenario, scenario.variant(variant))


def classes(graph) -> dict:
    return {k: v for k, v in graph.node_class_counts().items() if v}


# -- the graph ------------------------------------------------------------------------

def test_locks_graph_has_exact_nodes_edges_and_classes(program):
    graph = state_graph(program(LOCKS))
    assert graph.complete and graph.states == 14
    assert len(graph.edges) == 14
    assert classes(graph) == {"initial": 1, "violating": 1, "deadlock": 1, "finished": 1, "ordinary": 10}
    by_order = {n.state[2]: n for n in graph.nodes if n.cls in ("violating", "finished")}
    assert by_order[12].cls == "finished" and by_order[12].problems == ()
    assert by_order[21].cls == "violating" and by_order[21].problems == ("final a_first",)
    deadlock = next(n for n in graph.nodes if n.cls == "deadlock")
    assert deadlock.state[:2] == (True, True) and deadlock.problems == ("deadlock",)
    assert not [e for e in graph.edges if e.src == deadlock.id]
    assert graph.nodes[0].cls == "initial" and graph.nodes[0].initial


def test_edges_name_thread_and_step_text(program):
    graph = state_graph(program(LOCKS))
    first = sorted((e.thread, e.step, e.picks) for e in graph.edges if e.src == 0)
    assert first == [("a", "lock A", ()), ("b", "lock B", ())]


def test_state_count_matches_the_unreduced_search():
    for variant in ("v1", "unlocked", "trylock"):
        prog = seed_program(variant)
        graph = state_graph(prog)
        result = explore(prog, expect=EXHAUST, reduction=False)
        assert (graph.states, len(graph.edges)) == (result.stats.states, result.stats.transitions)
    graph = state_graph(seed_program("unlocked"))
    assert (graph.states, len(graph.edges)) == (58, 87)
    assert classes(graph) == {"initial": 1, "violating": 2, "finished": 3, "ordinary": 52}


def test_failing_step_goes_to_one_failure_node(program):
    graph = state_graph(program(AWKWARD))
    failures = [n for n in graph.nodes if n.cls == "failure"]
    assert len(failures) == 1
    (failure,) = failures
    assert failure.failure == ("assert", 'x is "one" \\ here') and failure.state is None
    into = [e for e in graph.edges if e.dst == failure.id]
    assert len(into) == 1 and into[0].thread == "b" and into[0].step == "check x"
    source = graph.nodes[into[0].src]
    assert source.cls == "violating" and source.state[0] == 1
    assert graph.states == 4 and classes(graph) == {"initial": 1, "violating": 1, "finished": 1,
                                                    "ordinary": 1, "failure": 1}


def test_initial_state_that_cannot_be_built_is_a_failure_node(program):
    graph = state_graph(program("""
        racecheck: 1
        title: a local prefix that fails
        state: {x: 0}
        threads:
          a:
            locals: {r: 0}
            steps:
              - {step: divide, do: r = 1 // r}
              - {step: write, do: x = r}
        """))
    assert graph.states == 0 and graph.edges == ()
    (node,) = graph.nodes
    assert node.cls == "failure" and node.initial and node.failure[0] == "error"


def test_choose_alternatives_are_separate_edges(program):
    graph = state_graph(program("""
        racecheck: 1
        title: choose
        state: {x: 0}
        threads:
          a:
            steps:
              - {step: pick, do: "x = choose(1, 2, 1)"}
        """))
    assert graph.states == 3
    assert sorted(e.picks for e in graph.edges) == [(), (1,), (2,)]
    g = to_networkx(graph)
    assert g.number_of_edges() == 3               # two parallel edges to x == 1
    assert sorted(d["label"] for _, _, d in g.edges(data=True)) == [
        "a: pick", "a: pick  [choose 1]", "a: pick  [choose 2]"]


def test_deadlock_allowed_is_not_a_deadlock_class(program):
    graph = state_graph(program(LOCKS + "deadlock: allowed\n"))
    assert "deadlock" not in classes(graph)
    stuck = next(n for n in graph.nodes if n.state is not None and n.state[:2] == (True, True))
    assert stuck.cls == "ordinary" and stuck.problems == ()


# -- the bound --------------------------------------------------------------------------------

def test_above_the_bound_the_graph_is_partial_with_frontier_nodes():
    prog = seed_program("unlocked")
    graph = state_graph(prog, max_states=20)
    assert not graph.complete and graph.states <= 20
    assert classes(graph) == {"initial": 1, "ordinary": 12, "frontier": 6}
    frontier = {n.id for n in graph.nodes if n.cls == "frontier"}
    assert not [e for e in graph.edges if e.src in frontier]
    # a true subgraph: every node and edge drawn exists in the full graph
    full = state_graph(prog)
    assert {n.state for n in graph.nodes} <= {n.state for n in full.nodes}
    ids = {n.state: n.id for n in full.nodes}
    full_edges = {(e.src, e.dst, e.thread, e.picks) for e in full.edges}
    for e in graph.edges:
        key = (ids[graph.nodes[e.src].state], ids[graph.nodes[e.dst].state], e.thread, e.picks)
        assert key in full_edges
    # every expanded node has all its edges
    for n in graph.nodes:
        if n.cls != "frontier":
            assert (len([e for e in graph.edges if e.src == n.id])
                    == len([e for e in full.edges if e.src == ids[n.state]]))
    dot = to_dot(graph)
    assert "partial: the state graph has more than 20 states" in dot
    assert 'style="filled,dashed"' in dot


def test_an_unexpanded_violating_state_is_frontier_and_keeps_its_problems(program):
    graph = state_graph(program("""
        racecheck: 1
        title: frontier
        state: {x: 0}
        threads:
          a:
            steps:
              - {step: one, do: x = 1}
              - {step: two, do: x = 2}
        invariants:
          not_one: x != 1
        """), max_states=2)
    assert not graph.complete and graph.states == 2
    assert [(n.cls, n.problems) for n in graph.nodes] == [("initial", ()), ("frontier", ("invariant not_one",))]
    assert "!! invariant not_one" in to_networkx(graph).nodes[1]["label"]


def test_exactly_at_the_bound_the_graph_is_complete():
    graph = state_graph(seed_program("unlocked"), max_states=58)
    assert graph.complete and graph.states == 58
    assert not state_graph(seed_program("unlocked"), max_states=57).complete


# -- DOT ---------------------------------------------------------------------------------------

_QUOTED = r'"(?:[^"\\\n]|\\.)*"'
_VALUE = rf'(?:{_QUOTED}|[A-Za-z_][A-Za-z_0-9.]*|-?[0-9.]+)'
_ATTRS = rf'\[(?:[a-z]+={_VALUE})(?:, [a-z]+={_VALUE})*\]'
_LINES = [re.compile(p) for p in (
    rf'^  (?:graph|node|edge) {_ATTRS};$',
    rf'^  n\d+ {_ATTRS};$',
    rf'^  n\d+ -> n\d+ {_ATTRS};$',
)]


def check_dot(text: str) -> tuple:
    """A strict check of the DOT subset to_dot writes; returns (nodes, edges)."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "digraph racecheck {" and lines[-1] == "}"
    nodes, edges = set(), 0
    for line in lines[1:-1]:
        assert any(p.match(line) for p in _LINES), f"malformed DOT line: {line!r}"
        if " -> " in line:
            edges += 1
            src, dst = re.match(r"^  (n\d+) -> (n\d+) ", line).groups()
            assert src in nodes and dst in nodes
        elif re.match(r"^  n\d+ ", line):
            nodes.add(line.split()[0])
    # braces balance outside quoted strings
    bare = re.sub(_QUOTED, '""', text)
    assert bare.count("{") == bare.count("}") == 1
    assert bare.count("[") == bare.count("]")
    return len(nodes), edges


@pytest.mark.parametrize("variant", ["v1", "unlocked", "trylock"])
def test_dot_of_the_seed_is_well_formed(variant):
    graph = state_graph(seed_program(variant))
    assert check_dot(to_dot(graph)) == (len(graph.nodes), len(graph.edges))


def test_dot_escapes_quotes_backslashes_and_newlines(program):
    graph = state_graph(program(AWKWARD))
    dot = to_dot(graph)
    assert check_dot(dot) == (len(graph.nodes), len(graph.edges))
    assert r'printk(\"x=%d\\n\", x); {x++} <&>' in dot
    assert r'x is \"one\" \\ here' in dot
    assert r'quotes \" and \\ backslashes {braces}' in dot
    assert dot_quote('a"b\\c\nd') == r'"a\"b\\c\nd"'
    assert dot_quote("a\nb", left=True) == r'"a\lb\l"'
    assert dot_quote("tab\there\r") == '"tab here "'


def test_dot_colours_nodes_by_class(program):
    dot = to_dot(state_graph(program(LOCKS)))
    assert dot.count('tooltip="deadlock"') == 1 and '"#ffcc80"' in dot
    assert dot.count('tooltip="violating"') == 1 and '"#f4a6a6"' in dot
    assert dot.count('tooltip="finished"') == 1 and dot.count('tooltip="initial"') == 1


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_graphviz_accepts_the_dot(program, tmp_path):
    for graph in (state_graph(seed_program("unlocked")), state_graph(program(AWKWARD))):
        done = subprocess.run(["dot", "-Tsvg"], input=to_dot(graph), capture_output=True, text=True)
        assert done.returncode == 0 and not done.stderr, done.stderr


# -- networkx and GraphML -------------------------------------------------------------------------

def test_networkx_attributes(program):
    graph = state_graph(program(LOCKS))
    g = to_networkx(graph)
    assert isinstance(g, nx.MultiDiGraph)
    assert g.number_of_nodes() == 14 and g.number_of_edges() == 14
    assert g.graph["complete"] == "yes" and g.graph["states"] == 14
    assert g.nodes[0]["class"] == "initial" and g.nodes[0]["initial"] == 1
    assert g.nodes[0]["label"].split("\n") == [
        "#0 initial", "A = False", "B = False", "order = 0", "a: lock A", "b: lock B"]
    for _, data in g.nodes(data=True):
        assert data["class"] in CLASSES
        assert all(isinstance(v, (str, int)) for v in data.values())
    for _, _, data in g.edges(data=True):
        assert data["label"] == f"{data['thread']}: {data['step']}"
        assert all(isinstance(v, (str, int)) for v in data.values())
    finished = [d for _, d in g.nodes(data=True) if d["class"] == "violating"]
    assert finished[0]["label"].split("\n")[-3:] == ["a: (finished)", "b: (finished)", "!! final a_first"]


def test_labels_show_locals_and_clip_long_values(program):
    graph = state_graph(program("""
        racecheck: 1
        title: long values
        state: {pages: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
        threads:
          a:
            locals: {i: 3, seen: false}
            steps:
              - {step: "pages[i] = 1", do: "pages[i] = 1"}
        """))
    lines = to_networkx(graph).nodes[0]["label"].split("\n")
    assert lines[1].startswith("pages = [0, 0") and lines[1].endswith("...") and len(lines[1]) == 72
    assert lines[2:] == ["a: pages[i] = 1", "  i=3, seen=False"]


@pytest.mark.parametrize("text", [LOCKS, AWKWARD])
def test_graphml_parses_back(program, text):
    graph = state_graph(program(text))
    back = nx.read_graphml(io.StringIO(to_graphml(graph)))
    assert back.number_of_nodes() == len(graph.nodes)
    assert back.number_of_edges() == len(graph.edges)
    for node in graph.nodes:
        data = back.nodes[str(node.id)]
        assert data["class"] == node.cls
        assert data["problems"] == "; ".join(node.problems)
    assert back.graph["title"] == graph.title


def test_graphml_of_a_partial_graph_says_so():
    graph = state_graph(seed_program("unlocked"), max_states=20)
    back = nx.read_graphml(io.StringIO(to_graphml(graph)))
    assert back.graph["complete"] == "no" and back.graph["max_states"] == 20
    assert sum(1 for _, d in back.nodes(data=True) if d["class"] == "frontier") == 6
