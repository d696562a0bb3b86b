"""A checking mode: every access a step makes lies inside its computed masks.

Partial-order reduction and dead-value merging trust the read and write
masks of ``model.access``, which are computed from the code before the
search, for every shape a value may take at run time. This module checks
that trust while a search runs. With checking on (``Program(...,
check_accesses=True)``, or the environment variable
``RACECHECK_CHECK_ACCESSES=1``, which racecheck's test suite sets), every
transition, ``await`` guard, invariant conjunct and final check is also run
as code compiled with ``checked=True`` (``model.tracking``), which records
the concrete locations it read and wrote. The check then demands:

* the atoms of every location a transition read (written) lie inside
  ``reads[t][pc]`` (``writes[t][pc]``) of ``AccessTables``;
* a guard's reads inside ``guards[t][pc]``; each invariant conjunct's
  reads inside its conjunct mask; final checks' reads inside
  ``final_reads``;
* the conjuncts, evaluated in order, decide each invariant as the whole
  does (the first that is false or fails gives its outcome), so splitting
  ``all(... for p in pages)``, ``not any(...)`` or ``range(len(L))`` into
  conjuncts cannot change what is checked;
* the checked run has the same outcome (state, or error message) as the
  ordinary run;
* a step run from the same state with every counter that nothing should
  observe (``AccessTables.unobserved``) changed has the same outcome
  apart from those counters.

A failure is an ``AccessCheckError`` (an internal error: a bug in racecheck,
never a verdict) naming the thread, the step, its position and the location.
"""

from __future__ import annotations

import ast
import copy
import os

from racecheck.errors import InternalError
from racecheck.model import tracking
from racecheck.model.access import AccessTables
from racecheck.model.compile import Names, Unit
from racecheck.model.locations import Element
from racecheck.model.runtime import Chooser
from racecheck.scenario.values import Record

ENV = "RACECHECK_CHECK_ACCESSES"


class AccessCheckError(InternalError):
    """A step touched a location outside its computed read or write set."""


def wanted() -> bool:
    """Is checking asked for by the environment?"""
    return os.environ.get(ENV, "") not in ("", "0")


class AccessChecker:
    """Wraps a program's steps, guards and properties with the check."""

    def __init__(self, program, user_errors, as_step_error):
        self.program = program
        self.tables = AccessTables(program)
        self.atoms = self.tables.atoms
        self.user_errors = user_errors
        self.as_step_error = as_step_error
        self.conjunct_fns = self._compile_conjuncts(program)

    # -- compiled conjuncts ------------------------------------------------
    def _compile_conjuncts(self, program) -> list:
        slots = {n: i for i, n in enumerate(program.shared_names)}
        unit = Unit(Names(slots, program.params), f"<racecheck {program.scenario.path} conjuncts>", checked=True)
        nodes = self.tables.conjunct_nodes
        for k, (node, env) in enumerate(nodes):
            unit.expression(f"k{k}", _substitute(node, env))
        ns = unit.compile(program.params)
        return [ns[f"k{i}"] for i in range(len(nodes))]

    # -- wrappers ------------------------------------------------------------
    def stepper(self, thread, fast, run_locals):
        t, slot, runs = thread.index, thread.pc_slot, thread.checked_runs
        reads, writes = self.tables.reads[t], self.tables.writes[t]

        def step(s, chooser):
            pc = s[slot]
            mine = None if chooser is None else Chooser(list(chooser.plan))
            tracking.LOG.clear()
            try:
                v = list(s)
                nxt = runs[pc](v, mine)
                v[slot] = run_locals(thread, v, nxt, mine, None)
                checked = tuple(v)
            except self.user_errors as exc:
                checked = _outcome(self.as_step_error(exc))   # no frames kept: the GC is off
            self._within(thread, pc, "reads", reads[pc], "writes", writes[pc])
            try:
                result = fast(s, chooser)
            except self.user_errors as exc:
                self._same(thread, pc, checked, _outcome(self.as_step_error(exc)))
                raise
            self._same(thread, pc, checked, result)
            if self.tables.unobserved:
                self._counters_agree(thread, pc, s, chooser, fast, result)
            return result
        return step

    def guard(self, thread, pc: int, fast, checked):
        mask = self.tables.guards[thread.index][pc]

        def guard(s):
            self._record(checked, s)
            self._within(thread, pc, "await reads", mask)
            return fast(s)
        return guard

    def invariant(self, k: int, prop, fast, checked):
        """Each conjunct reads inside its mask, and the conjuncts, taken in
        order, decide the invariant as the whole does: the first one that
        is false or fails gives the whole's outcome."""
        tables = self.tables
        parts = [(fn, tables.conjuncts[i]) for i, (fn, owner) in
                 enumerate(zip(self.conjunct_fns, tables.conjunct_props)) if owner == k]

        def invariant(s):
            decided = True
            for fn, mask in parts:
                outcome = self._record(fn, s)
                self._within(None, prop, "reads", mask)
                if decided is True:
                    decided = outcome
            try:
                value = fast(s)
            except self.user_errors:
                self._decides(prop, decided, "error")
                raise
            self._decides(prop, decided, bool(value))
            return value
        return invariant

    def final(self, prop, fast, checked):
        mask = self.tables.final_reads

        def final(s):
            self._record(checked, s)
            self._within(None, prop, "reads", mask)
            return fast(s)
        return final

    # -- the check -------------------------------------------------------------
    def _record(self, checked, s):
        """Run a checked expression on ``s`` for its log; its outcome (True,
        False or "error") only for comparing: the verdict comes from the
        ordinary run."""
        tracking.LOG.clear()
        try:
            return bool(checked(s))
        except self.user_errors:
            return "error"

    def _decides(self, prop, conjuncts, whole) -> None:
        if conjuncts != whole:
            raise AccessCheckError(f"access check: {self._place(None, prop)} is {whole} but its conjuncts, "
                                   f"in order, decide {conjuncts}")

    def _within(self, thread, where, read_word: str, read_mask: int, write_word: str = "", write_mask: int = 0):
        atoms = self.atoms
        for kind, location in tracking.LOG:
            if kind == "w":
                mask, allowed, word = atoms.write_mask(location), write_mask, write_word
            else:
                mask = atoms.read_mask(location) if kind == "r" else atoms.shape_mask(location)
                allowed, word = read_mask, read_word
            extra = mask & ~allowed
            if extra:
                raise AccessCheckError(
                    f"access check: {self._place(thread, where)} {word} {format_location(location)} "
                    f"({atoms.describe(extra)}), outside the set computed for it: {atoms.describe(allowed)}")

    def _counters_agree(self, thread, pc: int, s: tuple, chooser, fast, result) -> None:
        """The step from ``s`` with every unobserved counter changed has the
        same outcome apart from those counters (docs/reduction.md)."""
        other = None if chooser is None else Chooser(list(chooser.plan))
        try:
            shifted = fast(self._counters(s, _shift), other)
        except self.user_errors as exc:
            shifted = _outcome(self.as_step_error(exc))
        if self._counters(shifted, _blank) != self._counters(result, _blank):
            raise AccessCheckError(f"access check: {self._place(thread, pc)} depends on a counter nothing "
                                   f"should observe ({self.atoms.describe(self.tables.unobserved)})")

    def _counters(self, s, change):
        """``s`` with ``change`` applied to the value of each unobserved counter."""
        if type(s) is str:
            return s
        v = list(s)
        mask = self.tables.unobserved
        for i, name in enumerate(self.program.shared_names):
            v[i] = _map_leaves(v[i], self.atoms.roots[name], mask, change)
        return tuple(v)

    def _same(self, thread, pc: int, checked, result) -> None:
        if checked != result:
            raise AccessCheckError(f"access check: {self._place(thread, pc)} ran differently when checked: "
                                   f"{checked!r} against {result!r}")

    @staticmethod
    def _place(thread, where) -> str:
        if thread is None:
            return f"{where.kind} '{where.name}' ({where.code.pos})"
        instr = thread.instrs[where]
        return f"thread {thread.name}, step '{instr.text}' ({instr.pos}),"


def _shift(value):
    return value + 7 if type(value) is int else value


def _blank(value):
    return None


def _map_leaves(value, node, mask: int, change):
    """``value`` with ``change`` applied to the leaves of ``node`` in ``mask``."""
    full, children = node[0], node[1]
    if not full & mask:
        return value
    if children is None:
        return change(value)
    if type(value) is Record and tuple(children) == value[0].fields:
        return Record((value[0],) + tuple(_map_leaves(v, children[f], mask, change) for f, v in value.items()))
    if type(value) is tuple and len(value) == len(children):
        return tuple(_map_leaves(v, children[i], mask, change) for i, v in enumerate(value))
    return value


def _outcome(error) -> str:
    """A failing step's outcome, comparable and holding no frames."""
    return f"{type(error).__name__}: {error}"


def format_location(location: tuple) -> str:
    text = location[0]
    for key in location[1:]:
        text += f".{key}" if isinstance(key, str) else f"[{key}]"
    return text


class _Substitute(ast.NodeTransformer):
    """Replaces the names of ``env`` by their values, where not rebound."""

    def __init__(self, env: dict):
        self.env = env

    def visit_Name(self, node):
        if node.id in self.env and isinstance(node.ctx, ast.Load):
            value = self.env[node.id]
            if isinstance(value, Element):           # the element itself: L[k], L[k].f...
                return ast.copy_location(_location_node(value.location), node)
            return ast.copy_location(ast.Constant(value), node)
        return node

    def _comprehension(self, node):
        # the first iterable is evaluated outside; everything else sees the targets
        bound = {n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        first = node.generators[0]
        first.iter = self.visit(first.iter)
        inner = _Substitute({k: v for k, v in self.env.items() if k not in bound})
        for i, gen in enumerate(node.generators):
            if i:
                gen.iter = inner.visit(gen.iter)
            gen.ifs = [inner.visit(c) for c in gen.ifs]
        node.elt = inner.visit(node.elt)
        return node

    visit_ListComp = visit_GeneratorExp = _comprehension


def _location_node(location: tuple):
    node = ast.Name(id=location[0], ctx=ast.Load())
    for key in location[1:]:
        if isinstance(key, str):
            node = ast.Attribute(value=node, attr=key, ctx=ast.Load())
        else:
            node = ast.Subscript(value=node, slice=ast.Constant(key), ctx=ast.Load())
    return node


def _substitute(node, env: dict):
    if not env:
        return node
    return _Substitute(env).visit(copy.deepcopy(node))
