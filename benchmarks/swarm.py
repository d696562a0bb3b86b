"""The models behind docs/scale.md's "which engine when": ``counters(n)``
(benchmarks/families.py), and two with a bug for a bitstate search to
find.

``unlocked_counters(n)``: n threads count ``hits`` under a lock, as a read
step then a write step; variant ``locked`` is safe, variant ``unlocked``
has the last thread skip the lock, so that its update and another's can
overlap and one is lost (final ``all_counted`` fails). The unreduced
state space grows as counters(n)'s does.

``first_counters(n)``: counters(n) that also records which thread
counted first; invariant ``zero_not_first`` fails when thread 0 does. A
depth-first search in SPIN's own order (the highest-numbered process
first) meets it only after nearly every state where another thread went
first: what a swarm's other orders are for.

    python -m benchmarks.swarm DIR N       writes DIR/counters<N>.yaml,
                                           DIR/unlocked_counters<N>.yaml and
                                           DIR/first_counters<N>.yaml

The measurements are the commands of docs/scale.md run on these files.
"""

from __future__ import annotations

import os
import sys

from benchmarks.families import counters


def unlocked_counters(n: int) -> str:
    return f"""\
racecheck: 1
title: {n} threads counting under one lock, the last one without it
params: {{N: {n}, UNLOCKED: -1}}
state:
  locked: false
  hits: 0
threads:
  worker:
    copies: {n}
    locals: {{seen: 0}}
    steps:
      - step: spin_lock(&lock)
        await: not locked or tid == UNLOCKED
        do: |
          if tid != UNLOCKED:
              locked = True
      - step: seen = hits
        do: seen = hits
      - step: hits = seen + 1
        do: hits = seen + 1
      - step: spin_unlock(&lock)
        do: |
          if tid != UNLOCKED:
              locked = False
final:
  all_counted: hits == N
variants:
  locked:
    expect: safe
  unlocked:
    params: {{UNLOCKED: {n - 1}}}
    expect: {{violation: all_counted}}
"""


def first_counters(n: int) -> str:
    text = counters(n).replace("  misses: 0\n", "  misses: 0\n  first: -1\n", 1)
    text = text.replace("""          seen = hits
          hits += 1""", """          seen = hits
          if hits == 0:
              first = tid
          hits += 1""")
    text = text.replace("under one lock", "under one lock (can thread 0 count first?)", 1)
    return text.replace("invariants:\n", "invariants:\n  zero_not_first: first != 0\n", 1) + \
        "expect: {violation: zero_not_first}\n"


def main(argv=None) -> int:
    directory, n = (argv or sys.argv[1:])[:2]
    os.makedirs(directory, exist_ok=True)
    for name, family in (("counters", counters), ("unlocked_counters", unlocked_counters),
                         ("first_counters", first_counters)):
        text = family(int(n))
        path = os.path.join(directory, f"{name}{n}.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
