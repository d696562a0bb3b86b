"""Export one variant of a scenario as a Promela model, to cross-check with SPIN.

``to_promela(program)`` writes a model whose runs are racecheck's runs: the
same atomic transitions, the same interleavings, the same violations. SPIN's
verdict on it can then be compared with racecheck's (docs/promela.md gives
the commands). The mapping:

* shared variables are globals; a record becomes one global per field
  (``folio.dirty`` -> ``folio_dirty``), a list an array (a list of records,
  one array per field); strings and ``None`` are ``mtype`` symbols
  (``'swap'`` -> ``s_swap``, ``None`` -> ``nil``), booleans ``bool``,
  integers ``int``. SPIN's ints are 32-bit; racecheck's are unbounded, so a
  model whose values leave the 32-bit range wraps silently in SPIN;
* a thread definition is a ``proctype`` with ``tid`` as its parameter, run
  once per copy by ``init``; its locals are the proctype's locals, params
  are constants;
* a transition is one ``atomic`` block: a scheduling-point instruction and
  the local-only instructions glued to it, control following the flattened
  instructions (``Instr.succ``) with labels and ``goto``::

      L2:  atomic { RC_GO && (await) ->      <- scheduling point (pc 2)
               ...; goto L2_3                   local-only pc 3: same block
           L2_3: ...; goto L5 };                leaves the block: other
      L5:  atomic { ... }                       threads may run before pc 5

* ``choose(a, b)`` is ``if :: x = a :: x = b fi``; ``assert`` is
  ``assert``; a run-time error (index out of range, ``//`` or ``%`` by
  zero, a local-only loop past racecheck's 10,000 steps) is an ``assert``
  placed before the operation, under the conditions that short-circuit
  evaluation would reach it;
* invariants are checked by a monitor process whose ``atomic`` clauses fire
  in any state where one is false; final checks by a monitor that waits for
  the count of finished threads; deadlock is SPIN's "invalid end state"
  (every label where a thread may wait is not an end label, unless
  ``deadlock: allowed``, when they all are).

A step that fails has no successor in racecheck. In the model, a failing
check either stops SPIN with an error (its kind is checked) or, when its
kind is switched off with ``-DCHECK_...=0``, sets ``rc_stopped``, which
blocks every other transition, and parks the thread in a loop (so that the
stop is not a deadlock). Each kind can thus be checked on its own, with the
others silent, exactly as racecheck separates them.

Not exported: livelock (SPIN has no check for "an ending stays reachable";
the model has no progress labels), integer overflow past 32 bits, and
constructs without a faithful translation, which raise ``ExportError``
naming the construct and its position: lists whose length depends on the
data (a comprehension with a data-dependent ``if`` used as a list, ``range``
of a variable), lists nested in lists, values of different shapes in one
variable (a record and an int, a list of two lengths), strings other than as
symbols (ordering, ``in`` on strings, concatenation of variables), and the
truth value of a record.
"""

from __future__ import annotations

from .export import to_promela
from .values import ExportError, check_macro

__all__ = ["to_promela", "ExportError", "check_macro"]
