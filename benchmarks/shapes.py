"""Spelling shapes: one model, written several ways, under reduction.

    python -m benchmarks.shapes                      # every shape, N = 2, 3, 4
    python -m benchmarks.shapes --sizes 2,3 --bound 300000
    python -m benchmarks.shapes --shape for_p --sizes 4

The model is the records form of the ``pages`` family
(benchmarks/families.py): N independent folios, each a record in
``pages``, each with its own reclaim thread and zswap writeback thread
(``copies: N``, ``pages[tid]``). Invariant: a folio whose PTE no longer
maps it is still present, in zswap or on disk. The model is safe.

Partial-order reduction should give every spelling of the same meaning the
state count of the precise one (``precise``). Each shape below changes one
spelling:

* ``for_p``        the invariant as ``all(... for p in pages)``
* ``range_len``    ``all(pages[i]... for i in range(len(pages)))``
* ``not_any``      ``not any(<negation> for i in range(N))``
* ``counter``      a statistics counter ``nr_reclaimed += 1`` nobody reads
* ``div2``         writeback as 2N copies, two per folio, on ``pages[tid // 2]``
                   (its precise form, ``div2_precise``, has two writeback
                   threads of N copies each on ``pages[tid]``)
* ``state_index``  writeback finds the swap count through an index read from
                   state, ``swap_map[pages[tid].slot]`` (precise form:
                   ``swap_map[tid]``, which is ``precise`` with the count
                   moved out of the record)
* ``state_index_written``  as ``state_index``, and reclaim also assigns the
                   slot (``pages[tid].slot = tid`` in try_to_unmap): an index
                   some step writes, which the analysis does not resolve
* ``sum``          a conservation invariant ``sum(p.swap_count for p in pages)
                   <= N`` beside the precise one: inherently visible

Every measurement runs in this process with reduction on (the default
search), bounded at ``--bound`` states: ``>B`` marks a bound hit.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

SHAPES = ("precise", "for_p", "range_len", "not_any", "counter", "div2_precise", "div2",
          "state_index_precise", "state_index", "state_index_written", "sum")
PRECISE = {"div2": "div2_precise", "state_index": "state_index_precise",
           "state_index_written": "state_index_precise"}

_LOST = "{p}.pte == 'folio' or {p}.present or {p}.zswap_entry != 0 or {p}.disk"
_FOUND_LOST = "{p}.pte != 'folio' and not {p}.present and {p}.zswap_entry == 0 and not {p}.disk"


def invariant(shape: str) -> str:
    if shape == "for_p":
        return f"all({_LOST.format(p='p')} for p in pages)"
    if shape == "range_len":
        return f"all({_LOST.format(p='pages[i]')} for i in range(len(pages)))"
    if shape == "not_any":
        return f"not any({_FOUND_LOST.format(p='pages[i]')} for i in range(N))"
    return f"all({_LOST.format(p='pages[i]')} for i in range(N))"


def records(n: int, shape: str = "precise") -> str:
    """The records model with ``n`` folios, spelled as ``shape`` says."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}")
    folio = ("{pte: folio, present: true, zswap_entry: 1, disk: false, locked: false, dirty: false, "
             "swapcache: true, swap_count: 0, slot: SLOT}")
    folios = ", ".join(folio.replace("SLOT", str(i)) for i in range(n))
    state = f"  pages: [{folios}]\n"
    if shape.startswith("state_index"):
        state += f"  swap_map: [{', '.join(['0'] * n)}]\n"
    if shape == "counter":
        state += "  nr_reclaimed: 0\n"
    invariants = f"  page_not_lost: \"{invariant(shape)}\"\n"
    if shape == "sum":
        invariants += f"  swap_counted: sum(p.swap_count for p in pages) <= {n}\n"
    if shape == "div2":
        writeback = _writeback("writeback", 2 * n, "pages[tid // 2]", shape)
    elif shape == "div2_precise":
        writeback = _writeback("writeback", n, "pages[tid]", shape) + _writeback("writeback2", n, "pages[tid]", shape)
    else:
        writeback = _writeback("writeback", n, "pages[tid]", shape)
    return f"""\
racecheck: 1
title: reclaim vs trylock-fixed zswap writeback over {n} folio records ({shape})
params: {{N: {n}}}
state:
{state}threads:
{_reclaim(n, shape)}{writeback}invariants:
{invariants}"""


def _reclaim(n: int, shape: str) -> str:
    count = "pages[tid].swap_count += 1"
    if shape.startswith("state_index"):
        count = "swap_map[tid] += 1"
    if shape == "state_index_written":
        count += "\n          pages[tid].slot = tid"
    stat = "\n              nr_reclaimed += 1" if shape == "counter" else ""
    return f"""\
  reclaim:
    title: shrink_folio_list()
    copies: {n}
    locals: {{dirty: false}}
    steps:
      - step: folio_trylock(folio)
        do: |
          if pages[tid].locked:
              return
          pages[tid].locked = True
      - step: try_to_unmap(folio)
        do: |
          pages[tid].pte = 'swap'
          {count}
      - step: folio_test_dirty(folio)
        do: dirty = pages[tid].dirty
      - if: dirty
        then:
          - call: pageout(folio)
            steps:
              - step: folio_clear_dirty_for_io(folio)
                do: pages[tid].dirty = False
              - step: zswap_store(folio)
                do: pages[tid].zswap_entry = 2
        else:
          - step: __remove_mapping(folio)
            do: |
              pages[tid].swapcache = False
              pages[tid].present = False{stat}
      - step: folio_unlock(folio)
        do: pages[tid].locked = False
"""


def _writeback(name: str, copies: int, page: str, shape: str) -> str:
    count = f"{page}.swap_count"
    if shape in ("state_index", "state_index_written"):
        count = f"swap_map[{page}.slot]"
    elif shape == "state_index_precise":
        count = "swap_map[tid]"
    return f"""\
  {name}:
    title: zswap_writeback_entry()
    copies: {copies}
    locals: {{entry: 0, allocated: false, count: 0}}
    steps:
      - step: entry = zswap_entry_find()
        do: |
          entry = {page}.zswap_entry
          if entry == 0:
              return
      - step: __read_swap_cache_async()
        do: allocated = not {page}.swapcache
      - if: allocated
        then:
          - step: __swap_writepage()
            do: {page}.disk = True
        else:
          - step: folio_trylock(folio)
            do: |
              if {page}.locked:
                  return
              {page}.locked = True
          - step: count = swap_swapcount()
            do: count = {count}
          - if: count != 0
            then:
              - step: return -EEXIST
                do: |
                  {page}.locked = False
                  return
          - step: set_page_dirty(page)
            do: {page}.dirty = True
          - step: folio_unlock(folio)
            do: {page}.locked = False
      - step: zswap_invalidate_entry()
        do: |
          if {page}.zswap_entry == entry:
              {page}.zswap_entry = 0
"""


def measure(n: int, shape: str, bound: int) -> dict:
    """States, seconds and verdict of the reduced search of one model."""
    from racecheck.explore.result import Bounds
    from racecheck.explore.search import explore
    from racecheck.model.program import Program
    from racecheck.scenario.loader import load_scenario
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(records(n, shape))
    try:
        scenario = load_scenario(handle.name)
        program = Program(scenario, scenario.variants[0])
        start = time.perf_counter()
        result = explore(program, Bounds(max_states=bound))
        seconds = time.perf_counter() - start
    finally:
        os.unlink(handle.name)
    return {"states": result.stats.states, "seconds": seconds, "verdict": result.verdict.value,
            "bounded": result.exit_reason.is_bound}


def _precise(shape: str) -> str:
    """The shape whose state count ``shape`` should reach."""
    return shape if shape in PRECISE.values() else PRECISE.get(shape, "precise")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=SHAPES, help="only this shape (and its precise form)")
    parser.add_argument("--sizes", default="2,3,4", help="comma-separated N (default 2,3,4)")
    parser.add_argument("--bound", type=int, default=200_000, help="stop a search at this many states")
    args = parser.parse_args(argv)
    shapes = SHAPES if not args.shape else ("precise", _precise(args.shape), args.shape)
    shapes = tuple(dict.fromkeys(shapes))
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"# spelling shapes, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, bound {args.bound:,} states")
    print("| shape | " + " | ".join(f"N = {n}: states (s)" for n in sizes) + " | x precise (largest N) |")
    print("|---" * (len(sizes) + 2) + "|")
    baseline: dict = {}
    for shape in shapes:
        cells, last = [], None
        for n in sizes:
            m = measure(n, shape, args.bound)
            mark = ">" if m["bounded"] else ""
            cells.append(f"{mark}{m['states']:,} ({m['seconds']:.2f})")
            if shape in ("precise",) + tuple(PRECISE.values()):
                baseline[(shape, n)] = m["states"]
            last = m
        base = baseline.get((_precise(shape), sizes[-1]))
        ratio = f"{last['states'] / base:,.1f}" if base else "-"
        print(f"| {shape} | " + " | ".join(cells) + f" | {'>' if last['bounded'] else ''}{ratio} |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
