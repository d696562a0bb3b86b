"""racecheck benchmarks: scaling families, racecheck next to SPIN.

    python -m benchmarks.run                 # the default table
    python -m benchmarks.run --quick         # small sizes only
    python -m benchmarks.run --family pages --sizes 1,2,4,8

Every measurement runs in a fresh Python process, so peak memory is that of
one search. For each family and size it reports racecheck's stored states,
transitions, seconds, states per second, peak resident memory and bytes per
stored state, with partial-order reduction (the default) and without, and,
when `spin` and a C compiler are installed, SPIN's stored states, seconds
(compile time excluded) and memory on the Promela export of the same model.
This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from tabulate import tabulate

from benchmarks.families import FAMILIES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SIZES = {"pages": [1, 2, 4, 8], "lastzero": [4, 5, 6, 9], "counters": [4, 5, 6]}
QUICK_SIZES = {"pages": [1, 2, 4], "lastzero": [4, 5], "counters": [4, 5]}
TIMEOUT = 600
FULL_BOUND = 2_000_000        # states; a search without reduction stops there
SPIN_MAX = {"pages": 4}       # larger sizes exhaust SPIN's memory (81 million states at pages 4)


# -- one measurement, in a child process -------------------------------------------

def measure_racecheck(family: str, n: int, mode: str) -> dict:
    """Load and explore one model; the numbers as a dict (runs in the child)."""
    from racecheck.explore.result import Bounds
    from racecheck.explore.search import explore
    from racecheck.model.program import Program
    from racecheck.scenario.loader import load_scenario
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(FAMILIES[family](n))
    scenario = load_scenario(handle.name)
    program = Program(scenario, scenario.variants[0])
    before = _peak_rss()
    start = time.perf_counter()
    bounds = Bounds(max_states=FULL_BOUND) if mode != "reduced" else Bounds()
    result = explore(program, bounds, reduction=(mode == "reduced"), hash_compact=(mode == "compact"))
    seconds = time.perf_counter() - start
    after = _peak_rss()
    os.unlink(handle.name)
    return {"states": result.stats.states, "transitions": result.stats.transitions,
            "seconds": seconds, "verdict": result.verdict.value, "peak_mb": after / 2**20,
            "bounded": result.exit_reason.is_bound,
            "bytes_per_state": (after - before) / max(result.stats.states, 1)}


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(family: str, n: int, mode: str) -> dict | None:
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", family, str(n), mode]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- SPIN ----------------------------------------------------------------------------

def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def measure_spin(family: str, n: int) -> dict | None:
    """Export to Promela, compile pan, run it; SPIN's own numbers."""
    try:
        from racecheck.spin import to_promela
    except ImportError:
        return None
    from racecheck.model.program import Program
    from racecheck.scenario.loader import load_scenario
    work = tempfile.mkdtemp(prefix="racecheck-spin-")
    path = os.path.join(work, "model.yaml")
    with open(path, "w") as handle:
        handle.write(FAMILIES[family](n))
    scenario = load_scenario(path)
    with open(os.path.join(work, "model.pml"), "w") as handle:
        handle.write(to_promela(Program(scenario, scenario.variants[0])))
    subprocess.run(["spin", "-a", "model.pml"], cwd=work, check=True, capture_output=True)
    # -DNOREDUCE: the graph racecheck --no-reduction explores (one d_step per
    # racecheck transition; SPIN's own reduction removes nothing on these
    # models anyway, benchmarks/SPIN.md)
    subprocess.run(["gcc", "-O2", "-DSAFETY", "-DNOREDUCE", "-DMEMLIM=16000", "-o", "pan", "pan.c"], cwd=work,
                   check=True, capture_output=True)
    start = time.perf_counter()
    try:
        out = subprocess.run(["./pan", "-m1000000"], cwd=work, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    seconds = time.perf_counter() - start
    text = out.stdout
    shutil.rmtree(work, ignore_errors=True)
    states = re.search(r"([\d.e+]+) states, stored", text)
    memory = re.search(r"([\d.]+)\s+total actual memory usage", text)
    errors = re.search(r"errors: (\d+)", text)
    return {"states": int(float(states.group(1))) if states else None, "seconds": seconds,
            "memory_mb": float(memory.group(1)) if memory else None,
            "errors": int(errors.group(1)) if errors else None}


# -- the table -----------------------------------------------------------------------

def row(family: str, n: int, with_spin: bool) -> list:
    reduced = run_child(family, n, "reduced") or {}
    full = run_child(family, n, "full") or {}
    compact = run_child(family, n, "compact") or {}
    spin = measure_spin(family, n) if with_spin and n <= SPIN_MAX.get(family, n) else None
    return [family, n,
            _int(reduced.get("states")), _sec(reduced), _rate(reduced),
            _int(full.get("states"), full.get("bounded")), _sec(full), _rate(full),
            _num(full.get("peak_mb"), 0), _num(full.get("bytes_per_state"), 0),
            _num(compact.get("bytes_per_state"), 0),
            _int(spin.get("states")) if spin else "-", _sec(spin) if spin else "-",
            _rate(spin) if spin else "-", _num(spin.get("memory_mb"), 0) if spin else "-",
            _ratio(full, spin)]


HEADERS = ["family", "N", "states (POR)", "s (POR)", "states/s (POR)",
           "states (full)", "s (full)", "states/s (full)", "peak MB (full)", "B/state (full)",
           "B/state (compact)", "SPIN states", "SPIN s", "SPIN states/s", "SPIN MB", "rate vs SPIN"]


def _int(value, bounded=False):
    if not isinstance(value, int):
        return "-"
    return f">{value:,}" if bounded else f"{value:,}"


def _sec(m):
    if not m:
        return "-"
    if m.get("timeout"):
        return f">{TIMEOUT}"
    return f"{m['seconds']:.2f}" if "seconds" in m else "-"


def _rate(m):
    if not m or not m.get("states") or not m.get("seconds"):
        return "-"
    return f"{m['states'] / m['seconds']:,.0f}"


def _num(value, digits):
    return f"{value:,.{digits}f}" if isinstance(value, (int, float)) else "-"


def _ratio(ours, spin):
    """racecheck's states/s over SPIN's, on the same graph: only when both
    searches were complete (a bounded search is a different graph)."""
    if not ours or not spin or not ours.get("seconds") or not spin.get("seconds") or not spin.get("states"):
        return "-"
    if ours.get("bounded") or spin.get("timeout"):
        return "-"
    return f"{(ours['states'] / ours['seconds']) / (spin['states'] / spin['seconds']):.2f}"


def seed_end_to_end(repeat: int = 5) -> float:
    """Seconds for `racecheck scenarios/dirty_unlocked.yaml`, interpreter start included."""
    exe = os.path.join(os.path.dirname(sys.executable), "racecheck")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "racecheck"]
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd + ["-q", "scenarios/dirty_unlocked.yaml"], cwd=ROOT, capture_output=True, check=True)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--family", choices=sorted(FAMILIES), help="only this family")
    parser.add_argument("--sizes", help="comma-separated sizes for --family")
    parser.add_argument("--no-spin", action="store_true", help="do not run SPIN")
    parser.add_argument("--child", nargs=3, metavar=("FAMILY", "N", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        family, n, mode = args.child
        print(json.dumps(measure_racecheck(family, int(n), mode)))
        return 0
    sizes = QUICK_SIZES if args.quick else DEFAULT_SIZES
    print(f"(searches without reduction stop at {FULL_BOUND:,} states: '>N' marks a bound hit)")
    if args.family:
        sizes = {args.family: [int(x) for x in args.sizes.split(",")] if args.sizes else sizes[args.family]}
    with_spin = not args.no_spin and spin_available()
    print(f"# racecheck benchmarks, {time.strftime('%Y-%m-%d')}, {platform.node()}: "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SPIN {'on' if with_spin else 'not run'}")
    rows = []
    for family, ns in sizes.items():
        for n in ns:
            rows.append(row(family, n, with_spin))
            print(f"  done {family} {n}", file=sys.stderr)
    print(tabulate(rows, headers=HEADERS, tablefmt="github", disable_numparse=True))
    print(f"\nseed file end to end (interpreter start included, best of 5): {seed_end_to_end():.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
