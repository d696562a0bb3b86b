"""Scenario families for benchmarks: generated YAML texts.

* ``pages(n)``: n independent folios, each with the seed's reclaim thread and
  the trylock-fixed zswap writeback thread (``copies: n``, lists indexed by
  ``tid``), invariant page_not_lost over all folios. Safe.
* ``lastzero(n)``: Abdulla et al., "Optimal dynamic partial order
  reduction" (POPL 2014): ``a[0..n] = 0``; thread 0 runs
  ``for (i = n; a[i] != 0; i--);``, thread j in 1..n runs
  ``a[j] = a[j-1] + 1`` as a read step then a write step.
* ``counters(n)``: n threads that each take one lock twice to update two
  shared counters: contended, so reduction can do little; measures raw
  states per second.
"""

from __future__ import annotations


def pages(n: int) -> str:
    folio = "{locked: false, dirty: false, swapcache: true, present: true}"
    return f"""\
racecheck: 1
title: reclaim vs trylock-fixed zswap writeback over {n} independent folios
params: {{N: {n}}}
state:
  folio: [{", ".join([folio] * n)}]
  pte: [{", ".join(["folio"] * n)}]
  swap_count: [{", ".join(["0"] * n)}]
  zswap: [{", ".join(["1"] * n)}]
  disk: [{", ".join(["false"] * n)}]
threads:
  reclaim:
    title: shrink_folio_list()
    copies: {n}
    locals: {{dirty: false}}
    steps:
      - step: folio_trylock(folio)
        do: |
          if folio[tid].locked:
              return
          folio[tid].locked = True
      - step: try_to_unmap(folio)
        do: |
          pte[tid] = 'swap'
          swap_count[tid] += 1
      - step: folio_test_dirty(folio)
        do: dirty = folio[tid].dirty
      - if: dirty
        then:
          - call: pageout(folio)
            steps:
              - step: folio_clear_dirty_for_io(folio)
                do: folio[tid].dirty = False
              - step: zswap_store(folio)
                do: zswap[tid] = 2
        else:
          - step: __remove_mapping(folio)
            do: |
              folio[tid].swapcache = False
              folio[tid].present = False
      - step: folio_unlock(folio)
        do: folio[tid].locked = False
  writeback:
    title: zswap_writeback_entry()
    copies: {n}
    locals: {{entry: 0, allocated: false, count: 0}}
    steps:
      - step: entry = zswap_entry_find()
        do: |
          entry = zswap[tid]
          if entry == 0:
              return
      - step: __read_swap_cache_async()
        do: allocated = not folio[tid].swapcache
      - if: allocated
        then:
          - step: __swap_writepage()
            do: disk[tid] = True
        else:
          - step: folio_trylock(folio)
            do: |
              if folio[tid].locked:
                  return
              folio[tid].locked = True
          - step: count = swap_swapcount()
            do: count = swap_count[tid]
          - if: count != 0
            then:
              - step: return -EEXIST
                do: |
                  folio[tid].locked = False
                  return
          - step: set_page_dirty(page)
            do: folio[tid].dirty = True
          - step: folio_unlock(folio)
            do: folio[tid].locked = False
      - step: zswap_invalidate_entry()
        do: |
          if zswap[tid] == entry:
              zswap[tid] = 0
invariants:
  page_not_lost: all(pte[i] == 'folio' or folio[i].present or zswap[i] != 0 or disk[i] for i in range(N))
"""


def lastzero(n: int) -> str:
    writers = "\n".join(f"""\
  w{j}:
    locals: {{v: 0}}
    steps:
      - step: v = a[{j - 1}]
        do: v = a[{j - 1}]
      - step: a[{j}] = v + 1
        do: a[{j}] = v + 1""" for j in range(1, n + 1))
    return f"""\
racecheck: 1
title: lastzero {n} (Abdulla et al., POPL 2014)
state:
  a: [{", ".join(["0"] * (n + 1))}]
threads:
  reader:
    locals: {{i: {n}}}
    steps:
      - while: a[i] != 0
        step: "for (i = {n}; a[i] != 0; i--)"
        steps:
          - step: i--
            do: i -= 1
{writers}
"""


def counters(n: int) -> str:
    return f"""\
racecheck: 1
title: {n} threads updating two counters under one lock
state:
  locked: false
  hits: 0
  misses: 0
threads:
  worker:
    copies: {n}
    locals: {{seen: 0}}
    steps:
      - step: spin_lock(&lock)
        await: not locked
        do: locked = True
      - step: hits++
        do: |
          seen = hits
          hits += 1
      - step: spin_unlock(&lock)
        do: locked = False
      - step: spin_lock(&lock)
        await: not locked
        do: locked = True
      - step: misses += tid
        do: misses += tid
      - step: spin_unlock(&lock)
        do: locked = False
invariants:
  bounded: hits <= {n} and misses <= {n * (n - 1) // 2}
final:
  all_counted: hits == {n}
"""


FAMILIES = {"pages": pages, "lastzero": lastzero, "counters": counters}
