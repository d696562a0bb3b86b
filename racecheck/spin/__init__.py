"""SPIN as racecheck's second engine: the Promela export, pan, the trail.

``to_promela(program)`` writes a model whose runs are racecheck's runs: the
same transitions, the same interleavings, the same violations, and the same
states (every transition is one ``d_step``, or an ``atomic`` block when it
calls ``choose()``: SPIN stores what racecheck stores without reduction). docs/promela.md gives the commands and the
mapping; in short:

* shared variables are globals; a record becomes one global per field
  (``folio.dirty`` -> ``folio_dirty``), a list an array (a list of records,
  one array per field); strings and ``None`` are ``mtype`` symbols
  (``'swap'`` -> ``s_swap``, ``None`` -> ``nil``), booleans ``bool``,
  integers ``int``. SPIN's ints are 32-bit; racecheck's are unbounded, so a
  model whose values leave the 32-bit range wraps silently in SPIN;
* a thread definition is a ``proctype`` with ``tid`` as its parameter, run
  once per copy by ``init``: a loop over its pc ``rc_pc`` with one ``d_step``
  per transition (``thread.py`` draws it); a finished thread stays in its
  loop, at an end label;
* ``choose()`` is a nondeterministic ``if`` (in an ``atomic`` block, whose
  inner states pan does not store); ``assert`` is ``assert``;
  a run-time error (index out of range, ``//`` or ``%`` by zero, a
  local-only loop past racecheck's 10,000 steps) is an ``assert`` placed
  before the operation, under the conditions that short-circuit evaluation
  would reach it;
* invariants, final checks and deadlock (SPIN's ``timeout``) are monitor
  processes whose clauses fire only in a violating state.

Each kind of violation has a preprocessor switch (``check_macro``). A step
that fails has no successor in racecheck; in the model, a failing check
either stops SPIN with an error (its kind is checked) or sets
``rc_stopped``, which blocks every transition and every monitor.

Not exported: livelock (SPIN has no check for "an ending stays reachable"),
integer overflow past 32 bits, and constructs without a faithful
translation, which raise ``ExportError`` naming the construct and its
position: lists whose length depends on the data, lists nested in lists,
values of different shapes in one variable, strings other than as symbols,
and the truth value of a record.

The modules: ``values`` (types, names, helpers), ``expr`` and ``calls``
(expressions), ``stmts``, ``thread``, ``export`` (the model); ``pan``
(compile and run SPIN's verifier), ``trail`` (its error trail as a
``Schedule``), ``engine`` (``racecheck --engine spin``).
"""

from __future__ import annotations

from .export import to_promela
from .values import ExportError, check_macro

__all__ = ["to_promela", "ExportError", "check_macro"]
