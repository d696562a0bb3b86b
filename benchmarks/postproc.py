"""Post-processing cost: how long a check spends after its verdict search.

    python -m benchmarks.postproc                  # every shipped scenario and family
    python -m benchmarks.postproc --quick          # small family sizes only

For each variant of each shipped scenario and each benchmark family size it
runs ``check_variant`` as ``racecheck`` does and prints the search's own
CPU seconds, the CPU seconds of everything after it (counterexample
confirmation and minimisation, coverage, how common: the check's total
minus compiling and searching), and what coverage and how-common said. This is a script,
not a test: nothing here asserts a time. benchmarks/POSTPROC.md records a run.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import tempfile
import time

from benchmarks.families import FAMILIES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = {"pages": [1, 2, 4, 8], "lastzero": [4, 5, 6], "counters": [4, 5, 6]}
QUICK = {"pages": [1, 2, 4], "lastzero": [4, 5], "counters": [4, 5]}


def measure(scenario, variant, repeat: int = 3) -> tuple:
    """(search CPU seconds, post-processing CPU seconds, states, what the
    analyses said), each time the best of ``repeat``. CPU time, not wall
    time: the machine these run on is shared."""
    from racecheck.explore import check
    from racecheck.explore.search import explore
    from racecheck.model.program import Program
    compiled = search = total = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        program = Program(scenario, variant)
        compiled = min(compiled, time.process_time() - start)
        start = time.process_time()
        explore(program, expect=variant.expect)
        search = min(search, time.process_time() - start)
        start = time.process_time()
        checked = check.check_variant(scenario, variant)
        total = min(total, time.process_time() - start)
    return search, max(total - compiled - search, 0.0), checked.exploration.stats.states, _said(checked)


def _said(checked) -> str:
    parts = []
    if checked.frequency is not None:
        parts.append("freq " + checked.frequency.describe())
    if checked.unexecuted is not None:
        parts.append(f"unexecuted {len(checked.unexecuted)}")
    for name, why in checked.not_computed:
        parts.append(f"{name}: not computed ({why})")
    return "; ".join(parts) or "-"


def cases(quick: bool):
    from racecheck.scenario.loader import load_scenario
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))):
        scenario = load_scenario(path)
        if getattr(scenario, "memory", "sc") != "sc":
            continue                  # executions under LKMM: no interleaving search to follow
        for variant in scenario.variants:
            yield f"{os.path.basename(path)} {variant.name or '-'}", scenario, variant
    for family, sizes in (QUICK if quick else SIZES).items():
        for n in sizes:
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
                handle.write(FAMILIES[family](n))
            scenario = load_scenario(handle.name)
            os.unlink(handle.name)
            yield f"{family}({n})", scenario, scenario.variants[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small family sizes only")
    args = parser.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| case | states | search CPU s | post CPU s | post - search s | analyses |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for name, scenario, variant in cases(args.quick):
        search, post, states, said = measure(scenario, variant)
        worst = max(worst, post - search)
        print(f"| {name} | {states} | {search:.3f} | {post:.3f} | {post - search:+.3f} | {said} |", flush=True)
    print(f"\nlargest post-processing time over the search's own: {worst:+.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
