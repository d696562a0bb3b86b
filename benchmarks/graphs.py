"""Hand-written graph code against networkx, on real state graphs.

    python -m benchmarks.graphs              # shipped scenarios and the families below
    python -m benchmarks.graphs --quick      # shipped scenarios only
    python -m benchmarks.graphs --families   # the families only

racecheck's analyses after the verdict walk graphs with their own code
although networkx is a dependency. This script measures each routine next
to the networkx call that would replace it, on the full state graph of every
variant of every shipped scenario and of the benchmark families, and checks
that both give the same answer:

* fewest switches (``explore.counterexample.fewest_switches``): a Dijkstra
  search over (state, thread that ran last) that builds states as it goes
  and stops at the first violating one; against networkx's
  ``multi_source_dijkstra`` on the same product graph, which must first be
  built (the full state graph, then the product with edge weights
  ``switch * BIG + 1``, and a sink behind every violating node);
* livelock (``explore.search._find_livelock`` after the search,
  ``explore.frequency._livelocked`` for the frequency): backward
  reachability from the ending states over an already built graph; against
  ``nx.ancestors`` of a sink node on an ``nx.DiGraph`` (and, for scale, the
  time networkx takes only to find the strongly connected components, the
  first step of a condensation-based answer);
* the cycle test before counting orderings (``explore.frequency._has_cycle``,
  Kahn's algorithm) against ``nx.is_directed_acyclic_graph``;
* the coverage walk (``explore.coverage.unexecuted_steps``): a breadth-first
  walk that runs every step with an instruction log; networkx has no
  equivalent (it would need the graph built first, and the log is what the
  walk is for), so it is timed next to ``full_graph`` only, to show where
  its time goes.

The families (``benchmarks/families.py``) add larger graphs: pages(2),
pages(3) (157,464 states), lastzero(6), counters(5), and, to have
violations to minimise, ``lastzero_chain`` (broken once every writer has
run in order), ``counters_all_in`` (broken by the last hit) and
``pages_cross`` (broken after one switch; pages_cross(4) has more than the
analyses' 200,000-state budget, so only the lazy search can run on it).

Times are the best of ``--repeat`` runs (default 3) in this process; "build"
is the conversion of racecheck's lists into a networkx graph, which a switch
would have to pay. This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import tempfile
import time
import tracemalloc

import networkx as nx
from tabulate import tabulate

from benchmarks.families import counters, lastzero, pages
from racecheck.explore import frequency, search
from racecheck.explore.counterexample import _failure_key, _state_violates, fewest_switches, switches
from racecheck.explore.coverage import unexecuted_steps
from racecheck.explore.graph import full_graph
from racecheck.explore.result import Bounds
from racecheck.explore.search import explore
from racecheck.model.program import Program
from racecheck.scenario.loader import load_scenario
from racecheck.scenario.values import StepError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET = 200_000              # the analyses' default state budget
SINK = "sink"


def lastzero_chain(n: int) -> str:
    """lastzero with an invariant broken once every writer has run in order."""
    return lastzero(n) + f"invariants:\n  not_chained: a[{n}] != {n}\n"


def counters_all_in(n: int) -> str:
    """counters whose invariant breaks when the last worker counts its hit."""
    return counters(n).replace(f"hits <= {n} and", f"hits < {n} and")


def pages_cross(n: int) -> str:
    """pages with an invariant one switch breaks: folio 0 dirtied while folio 1 is dropped."""
    return pages(n) + "  cross: not (folio[0].dirty and not folio[1].present)\n"


FAMILIES = [("pages", pages, 2), ("pages", pages, 3), ("lastzero", lastzero, 6),
            ("counters", counters, 5), ("lastzero_chain", lastzero_chain, 6),
            ("counters_all_in", counters_all_in, 5), ("pages_cross", pages_cross, 2),
            ("pages_cross", pages_cross, 4)]


# -- models ----------------------------------------------------------------------------

def models(quick: bool, families: bool):
    """``(name, program, expect)`` for every variant of every shipped scenario, then the families."""
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")) if not families else ()):
        scenario = load_scenario(path)
        for variant in scenario.variants:
            name = os.path.basename(path)[:-5] + (f"/{variant.name}" if variant.name else "")
            yield name, Program(scenario, variant), variant.expect
    if quick:
        return
    for family, make, n in FAMILIES:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            handle.write(make(n))
        scenario = load_scenario(handle.name)
        os.unlink(handle.name)
        yield f"{family}({n})", Program(scenario, scenario.variants[0]), scenario.variants[0].expect


def best(fn, repeat: int):
    """``(seconds, result)``: the fastest of ``repeat`` calls."""
    fastest, result = None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        fastest = elapsed if fastest is None else min(fastest, elapsed)
    return fastest, result


# -- networkx equivalents -------------------------------------------------------------

def to_digraph(raw) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(len(raw.states)))
    g.add_edges_from((sid, dst) for sid, steps in enumerate(raw.out) for _, _, dst in steps or ()
                     if type(dst) is int)
    return g


def nx_livelocked(raw, g: nx.DiGraph) -> int:
    """States with no path to an ending (no step out, or a failing step)."""
    g.add_node(SINK)
    g.add_edges_from((sid, SINK) for sid, steps in enumerate(raw.out)
                     if not steps or any(type(dst) is not int for _, _, dst in steps))
    can_end = nx.ancestors(g, SINK)
    g.remove_node(SINK)
    return len(raw.states) - len(can_end)


def product_graph(program, raw, target) -> tuple:
    """The (state, last thread) graph with weights ``switch * big + 1``, a sink
    behind every node that reaches the violation; ``(graph, sources, big)``."""
    lasts: list = [set() for _ in raw.states]
    for _, sid in raw.initial:
        lasts[sid].add(-1)
    for steps in raw.out:
        for t, _, dst in steps or ():
            if type(dst) is int:
                lasts[dst].add(t)
    big = sum(len(x) for x in lasts) + 1          # more steps than any shortest path has
    g = nx.DiGraph()
    for sid, steps in enumerate(raw.out):
        violates = _state_violates(program, raw.states[sid], target)
        for last in lasts[sid]:
            if violates:
                g.add_edge((sid, last), SINK, w=0)
                continue
            for t, _, dst in steps or ():
                w = (big if last not in (-1, t) else 0) + 1
                if type(dst) is int:
                    g.add_edge((sid, last), (dst, t), w=w)
                elif isinstance(dst, StepError) and _failure_key(dst) == target:
                    g.add_edge((sid, last), SINK, w=w)
    sources = [(sid, -1) for _, sid in raw.initial if (sid, -1) in g]
    return g, sources, big


def nx_fewest(g, sources, big) -> tuple:
    dist = nx.multi_source_dijkstra(g, sources, target=SINK, weight="w")[0]
    return divmod(dist, big)


# -- the measurements -------------------------------------------------------------------

def measure(name, program, expect, repeat):
    """One row: every routine on ``program``'s full graph; over the budget,
    only the fewest-switch search, which does not need the graph."""
    raw_s, raw = best(lambda: full_graph(program, BUDGET), 1)
    if not raw.complete:
        return {"model": name, "states": None, **fewest(program, expect, None, repeat)}
    raw_s, raw = best(lambda: full_graph(program, BUDGET), repeat)
    row = {"model": name, "states": len(raw.states), "edges": sum(len(s or ()) for s in raw.out),
           "full_graph": raw_s}
    row.update(reachability(raw, repeat))
    row["coverage"], _ = best(lambda: unexecuted_steps(program, BUDGET), repeat)
    row.update(fewest(program, expect, raw, repeat))
    if "few_nx" in row:
        row["few_nx_total"] = row["full_graph"] + row["few_product"] + row["few_nx"]
    return row


def reachability(raw, repeat: int) -> dict:
    """Livelocked states and the cycle test, by hand and by networkx (same answers)."""
    row = {}
    row["live_hand"], hand = best(lambda: frequency._livelocked(raw), repeat)
    succ = [[dst for _, _, dst in steps or () if type(dst) is int] for steps in raw.out]
    terminal = bytearray(1 if len(s) < len(steps or ()) or not steps else 0 for s, steps in zip(succ, raw.out))
    row["live_search"], _ = best(lambda: search._find_livelock(succ, terminal, _Found()), repeat)
    row["nx_build"], g = best(lambda: to_digraph(raw), repeat)
    row["nx_mb"] = allocated_mb(lambda: to_digraph(raw))
    row["live_nx"], theirs = best(lambda: nx_livelocked(raw, g), repeat)
    assert hand == theirs, (hand, theirs)
    row["scc_nx"], _ = best(lambda: list(nx.strongly_connected_components(g)), repeat)
    row["cycle_hand"], cyclic = best(lambda: frequency._has_cycle(raw), repeat)
    row["cycle_nx"], acyclic = best(lambda: nx.is_directed_acyclic_graph(g), repeat)
    assert cyclic != acyclic
    return row


def fewest(program, expect, raw, repeat: int) -> dict:
    """The fewest-switch search by hand and, when ``raw`` is given, by networkx;
    {} when the variant has no violation to minimise."""
    violation = explore(program, Bounds(), expect).violation
    if violation is None or violation.kind == "livelock" or not violation.schedule.steps:
        return {}
    row = {}
    row["few_hand"], minimized = best(lambda: fewest_switches(program, violation), repeat)
    assert minimized.minimal
    schedule = minimized.violation.schedule
    row["cost"] = (switches(schedule), len(schedule.steps))
    if raw is not None:
        row["few_product"], built = best(lambda: product_graph(program, raw, violation.key), repeat)
        row["few_nx"], theirs = best(lambda: nx_fewest(*built), repeat)
        assert row["cost"] == theirs, (row["cost"], theirs)
    return row


class _Found:
    """What ``search._find_livelock`` records into."""

    def __init__(self):
        self.by_key: dict = {}


def allocated_mb(fn) -> float:
    """Megabytes that ``fn()``'s result holds (allocated while it ran and still live)."""
    tracemalloc.start()
    try:
        result = fn()
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del result
    return size / 2**20


def ms(value) -> str:
    return "-" if value is None else f"{value * 1000:,.1f}"


def tables(rows: list) -> str:
    built = [r for r in rows if r["states"] is not None]
    live = [[r["model"], f"{r['states']:,}", f"{r['edges']:,}", ms(r["full_graph"]),
             ms(r["live_hand"]), ms(r["live_search"]), ms(r["nx_build"]), ms(r["live_nx"]),
             ms(r["scc_nx"]), f"{r['nx_mb']:.1f}", ms(r["cycle_hand"]), ms(r["cycle_nx"]), ms(r["coverage"])] for r in built]
    few = [[r["model"], f"{r['states']:,}" if r["states"] else f">{BUDGET:,}", "%d / %d" % r["cost"],
            ms(r["few_hand"]), ms(r.get("full_graph")), ms(r.get("few_product")), ms(r.get("few_nx")),
            ms(r.get("few_nx_total"))] for r in rows if "cost" in r]
    return "\n\n".join([
        "Reachability and cycles on the built full graph (ms):\n\n" + tabulate(
            live, headers=["model", "states", "edges", "full_graph", "livelock hand (frequency)",
                           "livelock hand (search)", "nx.DiGraph build", "nx.ancestors",
                           "nx SCCs", "nx.DiGraph MB",
                           "cycle hand", "nx.is_dag", "coverage walk"],
            tablefmt="github", disable_numparse=True),
        "Fewest switches (ms; cost = switches / steps, equal in both):\n\n" + tabulate(
            few, headers=["model", "states", "cost", "hand (lazy)", "full_graph", "product graph",
                          "nx dijkstra", "nx total"], tablefmt="github", disable_numparse=True)])


def totals(rows: list) -> str:
    def total(key):
        return sum(r[key] for r in rows if key in r)
    few = [r for r in rows if "few_nx" in r]
    return (f"totals over {len(rows)} models (ms): livelock hand {ms(total('live_hand'))}, "
            f"nx build + ancestors {ms(total('nx_build') + total('live_nx'))}, nx.ancestors alone "
            f"{ms(total('live_nx'))}; cycle hand {ms(total('cycle_hand'))}, nx.is_dag alone "
            f"{ms(total('cycle_nx'))}; fewest switches over the {len(few)} violations both ran: hand "
            f"{ms(sum(r['few_hand'] for r in few))}, nx (graph + product + dijkstra) "
            f"{ms(sum(r['few_nx_total'] for r in few))}, nx dijkstra alone {ms(sum(r['few_nx'] for r in few))}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shipped scenarios only")
    parser.add_argument("--families", action="store_true", help="the families only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the best counts)")
    args = parser.parse_args(argv)
    print(f"# graph routines, {time.strftime('%Y-%m-%d')}, {platform.node()}: {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, networkx {nx.__version__}, load {os.getloadavg()[0]:.2f}\n")
    rows = []
    for name, program, expect in models(args.quick, args.families):
        rows.append(measure(name, program, expect, args.repeat))
        print(f"  done {name}", file=sys.stderr)
    print(tables(rows))
    print("\n" + totals(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
