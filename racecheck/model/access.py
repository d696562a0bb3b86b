"""Which shared locations each step may read and write, as bit masks.

The locations of a piece of code and their atoms come from
``model.locations``. This module turns them into the tables that partial-
order reduction and dead-value merging use, splits invariants into
conjuncts, and finds the counters nothing observes.

The explorer's partial-order reduction needs, for each thread instance and
pc, the masks of the transition starting there (``reads``, ``writes``; an
``await`` guard's reads are reads) and of everything the thread may still
do from there (``future_reads``, ``future_writes``); and, for each
invariant conjunct, the atoms it reads.
"""

from __future__ import annotations

import ast

from racecheck.model.locations import Accesses, Atoms

MAX_VALUES = 8                # most values a leaf written with constants may be followed with
_NOTHING = (0, 0, 0, 0, 0)    # the masks of code that touches no shared variable (see _masks)


def _analyse(code, shared: frozenset, params: dict, tid: int | None, atoms: Atoms | None = None) -> Accesses:
    acc = Accesses(shared, params, tid, atoms)
    if code is not None:
        if code.is_expr:
            acc.expr(code.tree.body, {})
        else:
            acc.block(code.tree.body, {})
    return acc


def code_accesses(code, shared: frozenset, params: dict, tid: int | None) -> tuple:
    """``(reads, writes)`` location sets of a piece of code."""
    acc = _analyse(code, shared, params, tid)
    return acc.reads, acc.writes


def code_masks(atoms: Atoms, code, shared: frozenset, params: dict, tid: int | None) -> tuple:
    """``(reads, writes)`` atom masks of a piece of code; a write also reads
    the shapes of the containers it looks into."""
    return _masks(atoms, _analyse(code, shared, params, tid, atoms))[:2]


def _masks(atoms: Atoms, acc: Accesses) -> tuple:
    """``(reads, writes, loud reads, counter writes, other writes)`` as masks."""
    reads = loud = _mask(atoms, acc.loud)
    for location in acc.reads - acc.loud:
        reads |= atoms.read_mask(location)
    for location in acc.shapes:
        shape = atoms.shape_mask(location)
        reads |= shape
        loud |= shape
    counted, other = 0, _write_mask(atoms, acc.other_writes)
    for location in acc.counted:        # a counter must be one int leaf
        mask = atoms.write_mask(location)
        if mask & (mask - 1) or not mask & atoms.int_leaves:
            other |= mask
        else:
            counted |= mask
    return reads, counted | other, loud, counted, other


def conjunct_nodes(code, shared: frozenset, params: dict, atoms: Atoms | None = None) -> list:
    """An invariant's conjuncts, as ``(expression node, env)`` pairs.

    ``A and B`` splits, and ``not (A or B)`` into ``not A``, ``not B``.
    ``all(E for x in XS)`` splits into one conjunct per value of ``x``
    (``env`` maps ``x`` to it) when ``XS`` is ``range(...)`` with constant
    bounds (``len(L)`` is one when ``L``'s length is fixed), or, given
    ``atoms``, a shared list of fixed length (``x`` is then an ``Element``).
    ``not any(E for ...)`` splits in the same way, into ``not E`` each.
    Each split keeps the order in which Python evaluates the whole, so the
    first conjunct that is false or fails is the one that decides the whole.
    """
    acc = Accesses(shared, params, None, atoms)
    result: list = []

    def split(node, env):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for value in node.values:
                split(value, env)
            return
        negated = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
        if negated and isinstance(node.operand, ast.BoolOp) and isinstance(node.operand.op, ast.Or):
            for value in node.operand.values:
                split(_negate(value), env)
            return
        call = node.operand if negated else node
        unrolled = _unrolled(acc, call, "any" if negated else "all", env)
        if unrolled is not None:
            target, elt, values = unrolled
            for value in values:
                split(_negate(elt) if negated else elt, {**env, target: value})
            return
        result.append((node, env))

    split(code.tree.body, {})
    return result


def _unrolled(acc: Accesses, node, function: str, env: dict):
    """``(variable, element expression, values)`` of ``function(E for x in
    XS)`` when XS unrolls to constants or elements, else None."""
    if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == function and len(node.args) == 1
            and isinstance(node.args[0], ast.GeneratorExp) and len(node.args[0].generators) == 1):
        return None
    gen = node.args[0].generators[0]
    if not isinstance(gen.target, ast.Name) or gen.ifs or gen.is_async:
        return None
    values = acc.constant_range(gen.iter, env)
    if values is None:
        values = acc.elements(gen.iter, env)
        if values is not None and _binds(node.args[0].elt, values[0].location[0] if values else None):
            return None                 # an inner comprehension rebinds the list's name
    return None if values is None else (gen.target.id, node.args[0].elt, values)


def _binds(node, name) -> bool:
    """Does a comprehension inside ``node`` bind ``name``?"""
    return any(isinstance(n, ast.comprehension) and any(isinstance(t, ast.Name) and t.id == name
                                                         for t in ast.walk(n.target)) for n in ast.walk(node))


def _negate(node):
    return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=node), node)


def conjunct_mask(node, env: dict, shared: frozenset, params: dict, atoms: Atoms) -> int:
    """The atoms a conjunct reads: its locations, and the shapes of the
    lists it iterates over."""
    part = Accesses(shared, params, None, atoms)
    part.expr(node, env)
    return _masks(atoms, part)[0]


class AccessTables:
    """Per thread instance and pc, the masks the reduction needs.

    ``reads[t][pc]``, ``writes[t][pc]``: the transition of thread ``t`` that
    starts at ``pc`` (its guard's reads included); ``guards[t][pc]``: what its
    ``await`` reads; ``future_reads[t][pc]``, ``future_writes[t][pc]``: the
    union over every instruction reachable from ``pc``. ``neighbours[t]``:
    the threads that may ever conflict with ``t``. ``conjuncts``: one mask
    per invariant conjunct; ``conjunct_writers[k]``: the threads that may
    write what conjunct ``k`` reads. Index ``end`` of each table is 0.
    """

    def __init__(self, program):
        self.shared = frozenset(program.shared_names)
        self.params = program.params
        atoms = Atoms(list(program.scenario.state))
        self.atoms = atoms
        self._settled: dict = {}            # (id of code, tid) -> (masks, assigned), for analyses that
                                            # consulted no assumption
        self._futures: dict = {}            # thread -> (reads, writes, future reads, future writes)
        self._rows: dict = {}               # thread -> its _row, when that consulted no assumption
        self._unwritten(program)
        self._properties(program)

    def _unwritten(self, program) -> None:
        """Find the atoms no step writes, the values of leaves that steps
        write only with constants, and the tables that follow.

        A negative index, ``len(L)`` and an index read from state are
        resolved by assuming that some atoms keep their initial values
        (``atoms.unwritten``; ``unstable`` is the rest) and that some
        leaves hold one of a few values (``atoms.values``). Start by
        assuming that every atom keeps its value, compute the steps' writes
        under the assumption, weaken it by what they write (drop a written
        atom; add the constant a step assigns to a leaf, or drop the leaf
        if a step writes it otherwise), and repeat until nothing changes.
        Then the assumption holds in every reachable state, by induction on
        the run: in a state where it holds, the computed masks are right,
        so every step keeps it.
        """
        atoms = self.atoms
        everything = (1 << atoms.count) - 1
        atoms.unwritten = everything
        atoms.values = {bit: frozenset([value]) for bit, value in atoms.initial.items()}
        recompute = True
        while True:
            atoms.unstable = everything & ~atoms.unwritten
            if recompute:
                # masks that consulted no assumption stay the same under a weaker one
                atoms.asked = False
                self._threads(program)
                written = _all(_all(w) for w in self.writes)
                recompute = atoms.asked
            values = {}
            for bit, held in atoms.values.items():
                if not bit & self.varied:
                    held = held | self.assigned.get(bit, frozenset())
                    if len(held) <= MAX_VALUES:
                        values[bit] = held
            if not written & atoms.unwritten and values == atoms.values:
                return
            atoms.unwritten &= ~written
            atoms.values = values

    def _assigned(self, acc) -> tuple:
        """What ``acc``'s code assigns: ``(the leaves it writes otherwise
        than with a constant, as a mask; ((leaf, constant), ...))``."""
        atoms = self.atoms
        varied, constants = 0, []
        for location in acc.varied:
            varied |= atoms.write_mask(location)
        for location, value in acc.assigns:
            mask = atoms.write_mask(location)
            bits = [1 << i for i in range(mask.bit_length()) if mask >> i & 1]
            if not all(bit in atoms.initial for bit in bits):
                varied |= mask
                continue
            constants.extend((bit, value) for bit in bits)
        return varied, tuple(constants)

    def code_masks(self, code, tid: int | None) -> tuple:
        return self._masks(code, tid)[:2]

    def _masks(self, code, tid: int | None) -> tuple:
        """The masks of ``code`` in thread ``tid``; what it assigns is added
        to ``varied`` and ``assigned``. An analysis that consulted no
        assumption (``atoms.asked``) is kept: it stays the same under a
        weaker one, so later rounds of the fixpoint reuse it."""
        if code is None or not code.names & self.shared:
            return _NOTHING                 # it touches no shared variable
        # copies of a thread share their code; only ``tid`` tells them apart
        key = (id(code), tid if "tid" in code.names else None)
        settled = self._settled.get(key)
        if settled is None:
            atoms = self.atoms
            asked, atoms.asked = atoms.asked, False
            acc = _analyse(code, self.shared, self.params, tid, atoms)
            settled = (_masks(atoms, acc), self._assigned(acc))
            if not atoms.asked:
                self._settled[key] = settled
            atoms.asked = asked or atoms.asked
        masks, (varied, constants) = settled
        self.varied |= varied
        for bit, value in constants:
            self.assigned[bit] = self.assigned.get(bit, frozenset()) | {value}
        return masks

    def _threads(self, program) -> None:
        self.reads, self.writes, self.guards = [], [], []
        self.future_reads, self.future_writes = [], []
        self.loud = self.counted = self.other_writes = self.varied = 0
        self.assigned: dict = {}            # leaf atom -> the constants steps assign to it
        atoms = self.atoms
        for t, thread in enumerate(program.threads):
            row = self._rows.get(t)
            if row is None:
                asked, atoms.asked = atoms.asked, False
                row = self._row(thread)
                if not atoms.asked:
                    self._rows[t] = row     # it consulted no assumption: the same in every round
                atoms.asked = asked or atoms.asked
            r, w, g, loud, counted, other, varied, constants = row
            self.loud |= loud
            self.counted |= counted
            self.other_writes |= other
            self.varied |= varied
            for bit, value in constants:
                self.assigned[bit] = self.assigned.get(bit, frozenset()) | {value}
            last = self._futures.get(t)
            if last is not None and last[0] == r and last[1] == w:
                fr, fw = last[2], last[3]   # the same masks as in the last round
            else:
                fr, fw = _future(thread, r, w)
                self._futures[t] = (r, w, fr, fw)
            self.reads.append(r + [0])
            self.writes.append(w + [0])
            self.guards.append(g + [0])
            self.future_reads.append(fr + [0])
            self.future_writes.append(fw + [0])

    def _row(self, thread) -> tuple:
        """A thread's per-pc masks ``(reads, writes, guards)``, and what
        its steps add to ``loud``, ``counted``, ``other_writes``,
        ``varied`` and ``assigned`` (as ``((leaf, constant), ...)``)."""
        r, w, g = [], [], []
        loud_all = counted_all = other_all = 0
        self.varied, varied_before = 0, self.varied
        assigned_before, self.assigned = self.assigned, {}
        for instr in thread.instrs:
            node = instr.node
            guard = self._masks(getattr(node, "await_", None), thread.copy)[0]
            code = node.do if hasattr(node, "do") else node.cond
            reads, writes, loud, counted, other = self._masks(code, thread.copy)
            r.append(reads | guard)
            w.append(writes)
            g.append(guard)
            loud_all |= loud | guard
            counted_all |= counted
            other_all |= other
        varied, self.varied = self.varied, varied_before
        constants = tuple((bit, value) for bit, values in self.assigned.items() for value in values)
        self.assigned = assigned_before
        return r, w, g, loud_all, counted_all, other_all, varied, constants

    def _properties(self, program) -> None:
        atoms, shared, params = self.atoms, self.shared, self.params
        self.conjuncts = []
        self.conjunct_props = []            # per conjunct: the index of its invariant
        self.conjunct_nodes = []            # per conjunct: (expression node, env)
        for k, (prop, _) in enumerate(program.invariants):
            for node, env in conjunct_nodes(prop.code, shared, params, atoms):
                self.conjuncts.append(conjunct_mask(node, env, shared, params, atoms))
                self.conjunct_props.append(k)
                self.conjunct_nodes.append((node, env))
        finals = 0
        for prop, _ in program.finals:
            finals |= self.code_masks(prop.code, None)[0]
        self.final_reads = finals
        self.unobserved = self._unobserved()
        keep = ~self.unobserved
        n = len(program.threads)
        total_r = [(self.future_reads[t][program.threads[t].entry] | _all(self.reads[t])) & keep for t in range(n)]
        total_w = [_all(self.writes[t]) & keep for t in range(n)]
        self.neighbours = [tuple(u for u in range(n) if u != t and
                                 (total_w[t] & (total_r[u] | total_w[u]) or total_w[u] & total_r[t]))
                           for t in range(n)]
        self.conjunct_writers = [tuple(t for t in range(n) if total_w[t] & c) for c in self.conjuncts]
        self.written = _all(_all(w) for w in self.writes)

    def _unobserved(self) -> int:
        """Counters nothing observes: int atoms that only counter updates
        write (``x += c``, ``x -= c``, ``x = c``, c a constant int) and that
        nothing reads but those updates themselves (no step, guard,
        invariant or final check; see docs/reduction.md for why the
        reduction may ignore them)."""
        observed = self.loud | self.final_reads | _all(self.conjuncts)
        return self.counted & self.atoms.int_leaves & ~self.other_writes & ~observed


def access_tables(program) -> AccessTables:
    """The ``AccessTables`` of ``program``, computed once per program (the
    search, dead-value merging and the command's warnings all need them;
    they depend only on the program, which never changes)."""
    tables = program.__dict__.get("_access_tables")
    if tables is None:
        tables = program.__dict__["_access_tables"] = AccessTables(program)
    return tables


def _all(masks) -> int:
    result = 0
    for m in masks:
        result |= m
    return result


def _mask(atoms: Atoms, locations) -> int:
    result = 0
    for location in locations:
        result |= atoms.read_mask(location)
    return result


def _write_mask(atoms: Atoms, locations) -> int:
    result = 0
    for location in locations:
        result |= atoms.write_mask(location)
    return result


def _future(thread, reads: list, writes: list) -> tuple:
    """Fixpoint over the control-flow graph: what may still be accessed."""
    n = len(thread.instrs)
    fr, fw = list(reads), list(writes)
    changed = True
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            r, w = fr[pc], fw[pc]
            for succ in thread.instrs[pc].succ:
                if succ < n:
                    r |= fr[succ]
                    w |= fw[succ]
            if (r, w) != (fr[pc], fw[pc]):
                fr[pc], fw[pc] = r, w
                changed = True
    return fr, fw


def local_reads(code, local_names: frozenset) -> set:
    """The locals a piece of code may read (a name loaded, or updated by an
    augmented assignment); locals it only assigns are not read."""
    if code is None or not code.names & local_names:
        return set()
    if not code.assigned & local_names:
        return set(code.names & local_names)    # a local named and never assigned is read
    names = set()
    for node in ast.walk(code.tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in local_names:
            names.add(node.id)
        elif isinstance(node, ast.AugAssign):
            target = node.target
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if isinstance(target, ast.Name) and target.id in local_names:
                names.add(target.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            base = node.value                 # x.f = v and x[i] = v keep x's other parts
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name) and base.id in local_names:
                names.add(base.id)
    return names


def future_local_reads(thread, memo: dict | None = None) -> list:
    """Per pc: the local slots the thread may still read from there on.
    ``memo`` (a dict, shared between calls) keeps what each instruction
    reads by name, for the copies of a thread, which share their code."""
    slots = dict(thread.local_slots)
    names = frozenset(slots)
    memo = {} if memo is None else memo
    own = []
    for instr in thread.instrs:
        node = instr.node
        key = (id(node), names)
        read = memo.get(key)
        if read is None:
            read = memo[key] = (local_reads(getattr(node, "await_", None), names)
                                | local_reads(getattr(node, "do", None), names)
                                | local_reads(getattr(node, "cond", None), names))
        own.append(frozenset(slots[n] for n in read))
    future = list(own)
    changed = True
    while changed:
        changed = False
        for pc in range(len(future) - 1, -1, -1):
            acc = future[pc]
            for succ in thread.instrs[pc].succ:
                if succ < len(future):
                    acc = acc | future[succ]
            if acc != future[pc]:
                future[pc], changed = acc, True
    return future + [frozenset()]
