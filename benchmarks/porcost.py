"""What partial-order reduction costs and saves, in CPU time.

    python -m benchmarks.porcost                 # every model below
    python -m benchmarks.porcost --only lastzero

For each model, the search with reduction (the default) and without:
stored states, transitions and CPU seconds (``time.process_time``, the
best of ``--repeat`` runs, so other jobs on the machine count less; each
run on a freshly built program, so that the reduction's set-up counts). The
models: the ``pages`` family with its invariant spelled ``for p in
pages`` (benchmarks/shapes.py, ``for_p``) at N = 3, ``lastzero`` at N =
4, 5, 6 (benchmarks/families.py) as written (livelock checked: the
reader loops) and with ``livelock: allowed``, ``counters`` at N = 4,
``scan`` (a reader over a[0..N-1] and a writer per element) at N = 5, 7, and
every variant of every shipped scenario (scenarios/), each searched as
``racecheck`` does, stopping at the violation it expects (those with
``memory: lkmm`` are left out: their check is not this search). A
script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def models(only: str | None):
    from benchmarks.families import counters, lastzero
    from benchmarks.shapes import records
    found = [("pages for_p N=3", records(3, "for_p"))]
    for n in (4, 5, 6):
        found.append((f"lastzero N={n}", lastzero(n)))
    for n in (4, 5, 6):
        found.append((f"lastzero N={n} livelock allowed", lastzero(n).replace(
            "threads:\n", "livelock: allowed\nthreads:\n", 1)))
    found.append(("counters N=4", counters(4)))
    for n in (5, 7):
        found.append((f"scan N={n}", scan(n)))
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))):
        with open(path) as handle:
            found.append((os.path.basename(path)[:-5], handle.read()))
    return [(name, text) for name, text in found if not only or only in name]


def scan(n: int) -> str:
    """A thread that reads a[0..n-1] in order, and a writer per element:
    what the reader may still read depends on its index."""
    return f"""\
racecheck: 1
title: scan {n}
state:
  a: [{", ".join(["0"] * n)}]
  seen: 0
threads:
  scanner:
    locals: {{i: 0, s: 0}}
    steps:
      - while: i < {n}
        steps:
          - step: s += a[i]
            do: |
              s += a[i]
              i += 1
      - step: seen = s
        do: seen = s
  writer:
    copies: {n}
    steps:
      - step: a[tid] = 1
        do: a[tid] = 1
"""


def measure(text: str, repeat: int) -> list:
    from racecheck.explore.result import Bounds
    from racecheck.explore.search import explore
    from racecheck.model.program import Program
    from racecheck.scenario.loader import load_scenario
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(text)
    try:
        scenario = load_scenario(handle.name)
    finally:
        os.unlink(handle.name)
    rows = []
    if scenario.memory != "sc":
        return rows                     # memory: lkmm is checked by enumeration, not this search
    for variant in scenario.variants:
        row = {"variant": variant.name}
        for mode in ("reduced", "full"):
            best = None
            for _ in range(repeat):
                program = Program(scenario, variant)     # a fresh one: its access tables count
                start = time.process_time()
                result = explore(program, Bounds(max_states=500_000), variant.expect,
                                 reduction=(mode == "reduced"))
                cpu = time.process_time() - start
                best = cpu if best is None else min(best, cpu)
            row[mode] = (result.stats.states, result.stats.transitions, best, result.verdict.value)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="only models whose name contains this")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"# reduction cost, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    print("| model | variant | reduced states / transitions / ms | full states / transitions / ms "
          "| CPU reduced / full |")
    print("|---|---|---|---|---|")
    total = [0.0, 0.0]
    for name, text in models(args.only):
        for row in measure(text, args.repeat):
            r, f = row["reduced"], row["full"]
            total[0] += r[2]
            total[1] += f[2]
            ratio = r[2] / f[2] if f[2] else 0.0
            print(f"| {name} | {row['variant']} | {r[0]:,} / {r[1]:,} / {r[2] * 1000:.0f} "
                  f"| {f[0]:,} / {f[1]:,} / {f[2] * 1000:.0f} | {ratio:.2f} |")
            sys.stdout.flush()
    print(f"\ntotal CPU: reduced {total[0]:.2f} s, full {total[1]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
