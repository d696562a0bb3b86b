"""racecheck benchmarks: scaling families, racecheck next to SPIN.

    python -m benchmarks.run                 # the default tables
    python -m benchmarks.run --quick         # small sizes only
    python -m benchmarks.run --family pages --sizes 1,2,4,8

Every measurement runs in a fresh Python process, so peak memory is that of
one search. For each family and size it reports racecheck's stored states,
transitions, seconds, states per second, peak resident memory and bytes per
stored state, with partial-order reduction (the default) and without, and,
when `spin` and a C compiler are installed, SPIN's stored states, seconds
(compile time excluded) and memory on the Promela export of the same model.
The families are benchmarks/families.py's, and ``records``: the pages model
in its natural spelling (a record per folio, the invariant ``all(... for p
in pages)``: benchmarks/shapes.py's ``for_p``). For lastzero, a second
table sets racecheck next to SPIN on a hand-written Promela model of the
same program (benchmarks/direct.py), not on racecheck's export.
This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

from tabulate import tabulate

from benchmarks import direct
from benchmarks.families import FAMILIES as _FAMILIES
from benchmarks.pan import TIMEOUT, run_pan, spin_available
from benchmarks.shapes import records


def natural_records(n: int) -> str:
    """The pages model as one would write it: a record per folio, the
    invariant over ``for p in pages``."""
    return records(n, "for_p")


FAMILIES = {"pages": _FAMILIES["pages"], "records": natural_records, "lastzero": _FAMILIES["lastzero"],
            "counters": _FAMILIES["counters"]}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SIZES = {"pages": [1, 2, 4, 8], "records": [1, 2, 3, 4, 8], "lastzero": [4, 5, 6, 9],
                 "counters": [4, 5, 6]}
QUICK_SIZES = {"pages": [1, 2, 4], "records": [1, 2, 3], "lastzero": [4, 5], "counters": [4, 5]}
FULL_BOUND = 2_000_000        # states; a search without reduction stops there
# larger sizes exhaust SPIN's memory (the full graph grows 54 times per folio)
SPIN_MAX = {"pages": 4, "records": 4}


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

def measure_spin(family: str, n: int) -> dict | None:
    """SPIN on racecheck's Promela export of the model (benchmarks/pan.py:
    without SPIN's own reduction, the graph racecheck --no-reduction
    explores: one d_step per racecheck transition; SPIN's reduction
    removes nothing on these models anyway, benchmarks/SPIN.md)."""
    try:
        from racecheck.spin import to_promela
    except ImportError:
        return None
    from racecheck.model.program import Program
    from racecheck.scenario.loader import load_scenario
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(FAMILIES[family](n))
    try:
        scenario = load_scenario(handle.name)
    finally:
        os.unlink(handle.name)
    return run_pan(to_promela(Program(scenario, scenario.variants[0])))


# -- the table -----------------------------------------------------------------------

def measure_row(family: str, n: int, with_spin: bool) -> dict:
    """Every measurement of one family and size, as dicts."""
    measured = {mode: run_child(family, n, mode) or {} for mode in ("reduced", "full", "compact")}
    measured["spin"] = measure_spin(family, n) if with_spin and n <= SPIN_MAX.get(family, n) else None
    return measured


def row(family: str, n: int, measured: dict) -> list:
    reduced, full, compact, spin = (measured[k] for k in ("reduced", "full", "compact", "spin"))
    return [family, n,
            _int(reduced.get("states")), _sec(reduced), _rate(reduced),
            _int(full.get("states"), full.get("bounded")), _sec(full), _rate(full),
            _num(full.get("peak_mb"), 0), _num(full.get("bytes_per_state"), 0),
            _num(compact.get("bytes_per_state"), 0),
            _int(spin.get("states")) if spin else "-", _sec(spin) if spin else "-",
            _rate(spin) if spin else "-", _num(spin.get("memory_mb"), 0) if spin else "-",
            _ratio(full, spin)]


def direct_row(n: int, measured: dict, spin: dict) -> list:
    """lastzero(n): racecheck next to SPIN on the hand-written models."""
    reduced, full = measured["reduced"], measured["full"]
    d, dp, c, cp = (spin[k] for k in ("direct", "direct_por", "classic", "classic_por"))
    return [n, _int(full.get("states"), full.get("bounded")), _sec(full), _rate(full),
            _int(d.get("states")), _sec(d), _rate(d), _ratio(full, d),
            _int(reduced.get("states")), _sec(reduced), _int(dp.get("states")), _sec(dp),
            _int(c.get("states")), _sec(c), _int(cp.get("states")), _sec(cp)]


DIRECT_HEADERS = ["N", "states (full)", "s (full)", "states/s (full)",
                  "SPIN direct states", "SPIN direct s", "SPIN direct states/s", "rate vs SPIN direct",
                  "states (POR)", "s (POR)", "SPIN direct POR states", "SPIN direct POR s",
                  "SPIN classic states", "SPIN classic s", "SPIN classic POR states", "SPIN classic POR s"]

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
    rows, direct_rows = [], []
    for family, ns in sizes.items():
        for n in ns:
            measured = measure_row(family, n, with_spin)
            rows.append(row(family, n, measured))
            if family == "lastzero" and with_spin:
                direct_rows.append(direct_row(n, measured, direct.measure(n)))
            print(f"  done {family} {n}", file=sys.stderr)
    print(tabulate(rows, headers=HEADERS, tablefmt="github", disable_numparse=True))
    if direct_rows:
        print("\nlastzero against a hand-written Promela model (benchmarks/direct.py):\n")
        print(tabulate(direct_rows, headers=DIRECT_HEADERS, tablefmt="github", disable_numparse=True))
    print(f"\nseed file end to end (interpreter start included, best of 5): {seed_end_to_end():.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
