"""SPIN's state count on the Promela export against racecheck's unreduced one.

    python -m benchmarks.spin_states              # every shipped variant, lastzero(9)
    python -m benchmarks.spin_states --quick      # lastzero(6) instead of 9

For each variant: racecheck's stored states without reduction (exhaustive,
every kind of violation searched, so violating states are expanded too),
and SPIN's stored states on the exported model with every check switched
off (``-DCHECK_ALL=0``: no error stops pan either), without its
partial-order reduction (``-DNOREDUCE``: the same graph) and with it.
The ratio is SPIN's NOREDUCE count over racecheck's. Seconds are wall
clock of the search alone (racecheck's explore, pan's own elapsed time),
not of compiling. A script, not a test: benchmarks/SPIN.md keeps a run.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time

from benchmarks.families import lastzero

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(program) -> dict:
    """Both engines' counts on one program."""
    from racecheck.explore.search import explore
    from racecheck.scenario.schema import Expectation
    from racecheck.spin import to_promela
    from racecheck.spin.pan import PanOptions, verify
    start = time.perf_counter()
    result = explore(program, expect=Expectation("named", "__none__"), reduction=False)
    seconds = time.perf_counter() - start
    model = to_promela(program)
    full = verify(model, PanOptions(checks=(), reduction=False))
    por = verify(model, PanOptions(checks=()))
    return {"racecheck": result.stats.states, "racecheck s": seconds, "spin": full.states,
            "spin s": full.seconds, "spin por": por.states, "spin por s": por.seconds,
            "ratio": full.states / max(1, result.stats.states)}


def programs(quick: bool):
    """(label, program) for every shipped variant and lastzero."""
    from racecheck.model.program import Program
    from racecheck.scenario.loader import load_scenario
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))):
        scenario = load_scenario(path)
        for variant in scenario.variants:
            yield f"{os.path.basename(path)[:-5]} {variant.name}", Program(scenario, variant)
    n = 6 if quick else 9
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"lastzero{n}.yaml")
        with open(path, "w") as handle:
            handle.write(lastzero(n))
        scenario = load_scenario(path)
        yield f"lastzero({n})", Program(scenario, scenario.variants[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="lastzero(6) instead of lastzero(9)")
    args = parser.parse_args(argv)
    print("| variant | racecheck --no-reduction | s | SPIN -DNOREDUCE | s | ratio | SPIN with POR | s |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    worst = 0.0
    for label, program in programs(args.quick):
        m = measure(program)
        worst = max(worst, m["ratio"], 1 / max(m["ratio"], 1e-9))
        print(f"| {label} | {m['racecheck']:,} | {m['racecheck s']:.2f} | {m['spin']:,} | {m['spin s']:.2f} "
              f"| {m['ratio']:.2f} | {m['spin por']:,} | {m['spin por s']:.2f} |", flush=True)
    print(f"\nworst ratio (either way): {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
