"""lastzero against a hand-written Promela model, not racecheck's export.

The program is the classic one of Abdulla et al., "Optimal dynamic partial
order reduction" (POPL 2014): an array ``a[0..N]`` of zeros, a reader

    for (i = N; a[i] != 0; i--);

and N writers, writer j doing ``a[j] = a[j-1] + 1`` as a read then a
write. benchmarks/families.py writes it for racecheck; below it is written
for SPIN by hand, twice:

* ``direct``: the Promela a SPIN user would write, with two choices that
  make its graph racecheck's (same states, same transitions, checked by
  the state counts: 499 / 1,890 / 7,109 / 372,346 for N = 4 / 5 / 6 / 9,
  racecheck's ``--no-reduction`` counts). (1) The reader's test and its
  ``i--`` are one ``d_step``: racecheck runs a loop test and the step it
  enables that touches only locals as one transition. (2) Every process
  ends at ``end: false`` instead of terminating: SPIN removes a finished
  process only when it is the last one created, and those removals are
  transitions into states racecheck does not have (its finished threads
  stay, at their end).
* ``classic``: the same without those two choices (``a[i] != 0 -> i--``
  two statements, processes that terminate): 1,597 / 6,440 / 25,179 /
  1,382,048 states without SPIN's reduction for N = 4 / 5 / 6 / 9; SPIN's
  partial-order reduction, which skips interleavings of statements that
  touch only local data (``i--``, the end of a process), removes about
  half. On ``direct`` it removes nothing: every transition left reads or
  writes ``a``.

Neither model has an invariant or an assertion (racecheck's lastzero has
none either); SPIN checks invalid end states only (there are none).
"""

from __future__ import annotations

_HEAD = """\
/* lastzero({n}), hand-written (benchmarks/direct.py) */
#define N {n}
byte a[N + 1];
"""

DIRECT = _HEAD + """
active proctype reader() {{
    byte i = N;
    do
    :: d_step {{ a[i] != 0 -> i-- }}
    :: else -> break
    od;
end: false
}}

active [N] proctype writer() {{
    byte v;
    v = a[_pid - 1];
    a[_pid] = v + 1;
end: false
}}
"""

CLASSIC = _HEAD + """
active proctype reader() {{
    byte i = N;
    do
    :: a[i] != 0 -> i--
    :: else -> break
    od
}}

active [N] proctype writer() {{
    byte v;
    v = a[_pid - 1];
    a[_pid] = v + 1
}}
"""


def lastzero_promela(n: int, classic: bool = False) -> str:
    """The hand-written Promela lastzero(n): ``direct`` (racecheck's graph)
    or ``classic``. The reader is process 0 and writer j is process j."""
    if not 1 <= n <= 254:
        raise ValueError("lastzero's N must be in 1..254 (a byte array)")
    return (CLASSIC if classic else DIRECT).format(n=n)


def measure(n: int) -> dict:
    """SPIN on both hand-written models, with and without its reduction."""
    from benchmarks.pan import run_pan
    return {"direct": run_pan(lastzero_promela(n)),
            "direct_por": run_pan(lastzero_promela(n), reduce=True),
            "classic": run_pan(lastzero_promela(n, classic=True)),
            "classic_por": run_pan(lastzero_promela(n, classic=True), reduce=True)}
