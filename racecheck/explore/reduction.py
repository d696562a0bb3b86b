"""Partial-order reduction: which threads to expand in a state.

The search expands, in each state, the enabled threads of an *ample set*
instead of all enabled threads. Ample sets are built from the read/write
masks of ``model.access`` (per field and element where indices are
constant), in the style of stubborn sets:

    A := {t}                                     (t enabled)
    repeat until nothing changes:
      for u in A enabled:   add every unfinished v whose future accesses
                            conflict with u's next transition        (C1)
      for u in A disabled:  add every unfinished v that may write what
                            u's await reads (its possible enablers)  (C1)
      for each invariant conjunct k read-touched by the writes of the
      enabled transitions in A: add every unfinished v that may still
      write what k reads                                             (C2)
    ample(s) := the enabled threads of A (the smallest over all t)

Two transitions conflict when one writes a location the other reads or
writes; guards count as reads, so a transition that can enable or disable
another conflicts with it.

Why this is sound for what racecheck checks. Let π be a run of the full
state graph from s that ends in a violation, and A the ample set at s.

* If π contains a transition of A, the first such one, a, commutes with
  everything before it (C1: nothing outside A conflicts with a), so a·π'
  reaches the same state: the reduced graph takes a first.
* If π contains none, every transition of π comes from threads outside A,
  which never conflict with A's transitions. Then for a in A, a·π is a run
  too, with the same guards and reads along π. Its last state differs from
  π's only in what a wrote. Deadlocks and final states cannot be reached
  this way (a stays enabled along π, so π's last state is not terminal);
  an assert or run-time error of π's last transition reads nothing a wrote,
  so it fails the same way; an invariant conjunct k either reads nothing a
  writes (then it is false after a·π too), or every thread that may write
  what k reads is in A (C2), so π changes nothing k reads and k is already
  false in s.

Either way the violation is reached from a successor in the reduced graph,
by a run of the same or smaller "height", which gives the claim by induction
when the state graph is acyclic. When threads can loop (``while``, a
backward ``goto``), the induction needs the cycle proviso (C3): a state is
fully expanded when one of its ample successors was numbered (first found)
no later than itself. Around a cycle the numbers cannot only grow, so some
edge of it goes to a state numbered no later: every cycle contains a fully
expanded state. (A successor found earlier in the same search but numbered
later, a diamond closing, does not count.)

A transition's own masks (``step_masks``) use the values, in the state, of
the locals it indexes with and does not assign (``a[i]``, ``i == 3``:
``a[3]``); only the thread itself changes them, so these masks are exact
for that transition. What a thread may still do (its future masks, for
C1 and C2) is refined by its locals' values too where it indexes shared
state with a local (``explore.futures``): every step it can take from the
state is within the refined masks, which is all C1 and C2 ask of them.

Sleep sets (``sleep``, used by ``explore.search``): the successor through
a gets, as its sleep set, the threads asleep in s or run before a in s
whose next steps are independent of a's; they are not run there, unless
the whole ample set sleeps and is smaller than the enabled set. A state
reached again with a smaller sleep set gets a second pass. The claim then
reads: from a state whose last pass had sleep set Z, every violation
reached by a run in which no thread of Z has a step independent of all
steps before it is found; the two cases above go through with a chosen as
the earliest-run thread of the set among such "first" threads
(docs/reduction.md, "Sleep sets", has the argument). When livelock is
checked, a state whose stored edges reach no ending is completed with
its whole ample set before it may count as livelocked (explore.livelock;
docs/reduction.md, "Livelock under sleep sets").

Livelock (a reachable state from which no ending can be reached) is
preserved in both directions. No false alarm: from any state of the reduced
graph, an ending reachable in the full graph is reachable in the reduced one
(a terminal ending by C0/C1 alone: a run to a terminal state must contain a
transition of every ample set on the way; a failing step as above). No miss:
if x is livelocked and π reaches it, the construction above reaches, in the
reduced graph, x itself or a state x·a·b... reachable from x, which is
livelocked too, since an ending reachable from it would be reachable from x.

Invariants split into conjuncts at ``and``, ``not (A or B)`` and at
``all(...)`` / ``not any(...)`` over a constant range or a shared list of
fixed length (``model.access.conjunct_nodes``), so an invariant over many
independent pages does not make every step visible.

Counters nothing observes (``AccessTables.unobserved``) are left out of
every mask here. The argument above then holds for the states projected
onto everything else: a counter's value flows only into itself and its
updates cannot fail, so enabledness, failures, the other writes and every
property are the same for states with the same projection, and the masks
without counters are exact for the projected system (docs/reduction.md).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from operator import itemgetter

from racecheck.errors import Pos
from racecheck.explore.futures import Futures
from racecheck.model.access import access_tables, code_masks, future_local_reads
from racecheck.scenario.values import Record


class Reducer:
    """Computes ample sets for one program."""

    def __init__(self, program):
        tables = self.tables = access_tables(program)
        self.pc_slots = tuple(t.pc_slot for t in program.threads)
        self.ends = tuple(t.end for t in program.threads)
        keep = ~tables.unobserved              # counters nothing reads never conflict
        self.reads = _pruned(tables.reads, keep)
        self.writes = _pruned(tables.writes, keep)
        self.guards = tables.guards
        self.future_reads = _pruned(tables.future_reads, keep)
        self.future_writes = _pruned(tables.future_writes, keep)
        self.neighbours = tables.neighbours
        self.conjuncts = tuple(zip(tables.conjuncts, tables.conjunct_writers))
        # per thread and pc: what the conjuncts that its transition writes read (C2)
        self.visible = [[_union(k for k in tables.conjuncts if k & w) for w in row] for row in self.writes]
        self.pcs_of = _getter(self.pc_slots)
        self.cache: dict = {}
        self._refining(program, keep)
        # what a thread may still do, for the values of its locals (explore.futures)
        self.futures = Futures(program, tables, keep)
        self.future_slots = self.futures.key_slots
        self.sensitive = tuple(t for t, row in enumerate(self.future_slots) if any(row))
        self.covered = [self._covered(t) if t in self.sensitive else None for t in range(len(program.threads))]

    def _covered(self, t: int) -> list:
        """Per pc: are the locals that key thread ``t``'s refined future
        among its step's index locals (which the ample-set key holds when
        ``t`` is enabled)?"""
        row = self.future_slots[t]
        return [bool(row[pc]) and set(row[pc]) <= {slot for _, slot in self._fixed(t, pc)}
                for pc in range(len(row) - 1)] + [False]

    def _refining(self, program, keep: int) -> None:
        """Where a transition indexes with a local it does not assign
        (``a[i]``, ``i`` a local), its masks in a state are computed with
        the local's value there (``a[3]``): ``refine[t][pc]`` holds those
        locals' (name, slot), found when (t, pc) is first asked about;
        ``refined`` caches the masks by their values."""
        self.program, self.keep = program, keep
        self.shared = frozenset(program.shared_names)
        self.refine = [[None] * len(thread.instrs) + [()] for thread in program.threads]
        self.refined: dict = {}

    def _fixed(self, t: int, pc: int) -> tuple:
        """``refine[t][pc]``, worked out on first use."""
        fixed = self.refine[t][pc]
        if fixed is None:
            thread = self.program.threads[t]
            fixed = self.refine[t][pc] = _index_locals(thread, thread.instrs[pc])
        return fixed

    def step_masks(self, s: tuple, t: int) -> tuple:
        """``(reads, writes)`` of thread ``t``'s transition in ``s``."""
        pc = s[self.pc_slots[t]]
        fixed = self.refine[t][pc]
        if fixed is None:
            fixed = self._fixed(t, pc)
        if not fixed:
            return self.reads[t][pc], self.writes[t][pc]
        key = (t, pc) + tuple(s[slot] for _, slot in fixed)
        found = self.refined.get(key)
        if found is None:
            found = self.refined[key] = self._refined(t, pc, tuple((name, s[slot]) for name, slot in fixed))
        return found

    def _refined(self, t: int, pc: int, values: tuple) -> tuple:
        r, w = self.reads[t][pc], self.writes[t][pc]
        if not all(type(v) in (int, str) for _, v in values):
            return r, w
        thread = self.program.threads[t]
        consts = dict(self.program.params)
        consts.update(values)
        reads = writes = 0
        for code in _codes(thread.instrs[pc].node):
            cr, cw = code_masks(self.tables.atoms, code, self.shared, consts, thread.copy)
            reads |= cr
            writes |= cw
        # never wider than the masks for any value
        return reads & self.keep & r, writes & self.keep & w

    def ample(self, s: tuple, enabled: list) -> list:
        """The threads to expand in ``s`` (``enabled`` is in thread order).

        The choice depends only on the pcs, on which threads are enabled,
        on the enabled threads' step masks and on the threads' future
        masks, so it is cached by the pcs, the enabled threads, the values
        of the locals the step masks were refined with, and the future
        masks that the values of the locals refined (``explore.futures``).
        """
        if len(enabled) <= 1:
            return enabled
        pcs = self.pcs_of(s)
        key = (pcs, tuple(enabled))
        refine = self.refine
        for t in enabled:
            fixed = refine[t][pcs[t]]
            if fixed is None:
                fixed = self._fixed(t, pcs[t])
            if fixed:
                key += tuple(s[slot] for _, slot in fixed)
        if self.sensitive:
            # a refined future joins the key unless the thread is enabled and
            # its step's index locals, already in the key, determine it
            slots_of, of, covered = self.future_slots, self.futures.of, self.covered
            for t in self.sensitive:
                pc = pcs[t]
                slots = slots_of[t][pc]
                if slots and not (covered[t][pc] and t in enabled):
                    key += (of(t, pc, tuple(s[slot] for slot in slots)),)
        chosen = self.cache.get(key)
        if chosen is None:
            chosen = self.cache[key] = self._ample(s, pcs, enabled)
        return chosen

    def sleep(self, s: tuple, threads: int, t: int) -> int:
        """The threads of the bit set ``threads`` whose next transitions in
        ``s`` are independent of ``t``'s (they stay asleep after it)."""
        r, w = self.step_masks(s, t)
        step_masks = self.step_masks
        kept = 0
        while threads:
            bit = threads & -threads
            threads ^= bit
            ru, wu = step_masks(s, bit.bit_length() - 1)
            if not (wu & (r | w) or w & ru):
                kept |= bit
        return kept

    def _ample(self, s: tuple, pcs: tuple, enabled: list) -> list:
        steps = {t: self.step_masks(s, t) for t in enabled}
        fr = [row[pc] for row, pc in zip(self.future_reads, pcs)]
        fw = [row[pc] for row, pc in zip(self.future_writes, pcs)]
        for t in self.sensitive:                # futures that follow the locals
            pc = pcs[t]
            slots = self.future_slots[t][pc]
            if slots:
                refined = self.futures.of(t, pc, tuple(s[slot] for slot in slots))
                if refined is not None:
                    fr[t], fw[t] = refined
        single = self._single(pcs, enabled, steps, fr, fw)
        if single is not None:
            return [single]
        enabled_set = set(enabled)
        best = enabled
        for t in enabled:
            members = self._closure(t, pcs, enabled_set, len(best), steps, fr, fw)
            if members is None:
                continue
            chosen = [u for u in enabled if u in members]
            if len(chosen) < len(best):
                best = chosen
                if len(best) == 2:
                    break               # no singleton exists (_single)
        return best

    def _single(self, pcs: tuple, enabled: list, steps: dict, fr: list, fw: list):
        """The first enabled thread that is an ample set on its own, or None.

        {t} is one when t's next transition conflicts with nothing the other
        unfinished threads may still do (C1), and nothing they may still
        write is read by a conjunct that t's transition writes (C2): a few
        mask operations against the union of the others' futures, without
        growing a closure. ``fr``, ``fw``: per thread, its future masks."""
        ends = self.ends
        n = len(pcs)
        # suffix[v]: the union of the futures of the unfinished threads >= v
        suffix_r, suffix_w = [0] * (n + 1), [0] * (n + 1)
        for v in range(n - 1, -1, -1):
            pc = pcs[v]
            if pc == ends[v]:
                suffix_r[v], suffix_w[v] = suffix_r[v + 1], suffix_w[v + 1]
            else:
                suffix_r[v] = suffix_r[v + 1] | fr[v]
                suffix_w[v] = suffix_w[v + 1] | fw[v]
        prefix_r = prefix_w = 0
        last = 0
        for t in enabled:
            for v in range(last, t):            # the unfinished threads before t
                pc = pcs[v]
                if pc != ends[v]:
                    prefix_r |= fr[v]
                    prefix_w |= fw[v]
            last = t
            pc = pcs[t]
            others_r, others_w = prefix_r | suffix_r[t + 1], prefix_w | suffix_w[t + 1]
            r, w = steps[t]
            visible = self.visible[t][pc] if w == self.writes[t][pc] else _union(k for k, _ in self.conjuncts if k & w)
            if not (w & (others_r | others_w) or (r | visible) & others_w):
                return t
        return None

    def _closure(self, t: int, pcs: tuple, enabled: set, limit: int, steps: dict, fr: list, fw: list):
        """The ample set grown from ``t``; None once it cannot beat ``limit``."""
        members = 1 << t
        work = [t]
        ends, neighbours = self.ends, self.neighbours
        guards = self.guards
        touched = 0
        while work:
            while work:
                u = work.pop()
                pc = pcs[u]
                if u in enabled:                                       # C1: conflicts
                    r, w = steps[u]
                    touched |= w
                    for v in neighbours[u]:
                        pv = pcs[v]
                        if not members >> v & 1 and pv != ends[v] and \
                                (w & (fr[v] | fw[v]) or r & fw[v]):
                            members |= 1 << v
                            work.append(v)
                else:                                                  # C1: possible enablers
                    g = guards[u][pc]
                    for v in neighbours[u]:
                        pv = pcs[v]
                        if not members >> v & 1 and pv != ends[v] and fw[v] & g:
                            members |= 1 << v
                            work.append(v)
            # C2: a conjunct written by a step of the set keeps all its writers in it
            for mask, writers in self.conjuncts:
                if touched & mask:
                    for v in writers:
                        pv = pcs[v]
                        if not members >> v & 1 and pv != ends[v] and fw[v] & mask:
                            members |= 1 << v
                            work.append(v)
            if bin(members).count("1") >= limit and sum(1 for u in enabled if members >> u & 1) >= limit:
                return None
        return {u for u in range(len(pcs)) if members >> u & 1}


@dataclass(frozen=True)
class VisibleConjunct:
    """An invariant conjunct that keeps otherwise independent threads in
    step: it reads what several of them write, so C2 puts all of them in
    every ample set that writes it, and the reduction gains little there.
    A ``sum()`` over all elements is like this by its meaning; a
    conjunction over elements is not, once split (``all(... for p in L)``)."""

    invariant: str
    text: str                       # the conjunct, as written
    pos: Pos
    threads: tuple                  # names of the threads that write what it reads

    def describe(self) -> str:
        names = ", ".join(self.threads[:3]) + (f" and {len(self.threads) - 3} more" if len(self.threads) > 3 else "")
        return (f"{self.pos}: invariant '{self.invariant}': `{self.text}` reads what {len(self.threads)} threads "
                f"write that otherwise never conflict ({names}); every step of theirs that changes it stays "
                f"ordered, so partial-order reduction gains little. A conjunction over elements, written "
                f"all(... for p in L), does not cost this.")


def visible_conjuncts(program, tables=None) -> list:
    """The conjuncts that couple threads whose steps never conflict (at
    most one per piece of invariant text)."""
    tables = tables or access_tables(program)
    names = [t.name for t in program.threads]
    found, seen = [], set()
    for k, writers in enumerate(tables.conjunct_writers):
        node, _ = tables.conjunct_nodes[k]
        prop = program.invariants[tables.conjunct_props[k]][0]
        text = _text(prop.code.text, node)
        if (prop.name, text) in seen or not _couples(writers, tables.neighbours):
            continue
        seen.add((prop.name, text))
        pos = prop.code.origin.pos(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
        found.append(VisibleConjunct(prop.name, text, pos, tuple(names[t] for t in writers)))
    return found


def _text(source: str, node) -> str:
    """A conjunct as written; one split out of ``not any(...)`` or ``not (A
    or B)`` is the ``not`` of a part of the text."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and \
            (node.lineno, node.col_offset) == (node.operand.lineno, node.operand.col_offset):
        return f"not ({_text(source, node.operand)})"
    text = ast.get_source_segment(source, node) or ast.unparse(node)
    return " ".join(text.split())


def _couples(writers: tuple, neighbours: list) -> bool:
    """Are two of ``writers`` independent apart from the conjunct?"""
    return any(u not in neighbours[t] for i, t in enumerate(writers) for u in writers[i + 1:])


class Dead:
    """The placeholder for a value nothing will read again."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<dead>"


DEAD = Dead()


class DeadValues:
    """Merges states that differ only in values nothing will read again.

    A shared atom is *live* in a state when an unfinished thread may still
    read it, a final check reads it, or an invariant conjunct reads it whose
    atoms an unfinished thread may still write. Other atoms are constant
    from here on and nothing will look at them: no step, guard or final
    check reads them, and the invariant conjuncts over them can no longer
    change. The locals of a finished thread are dead too. Two states that
    agree on everything live have the same futures for every check, so the
    search stores one key for both (the state with dead values replaced by
    ``DEAD``) and expands only the first one it meets. A local that its
    thread will not read again (it is only assigned from here on) is dead in
    the same way. The one thing they
    may differ in is the (constant) value of a finished conjunct, so the
    search evaluates the invariants on every state it merges into a visited
    one: a violation there is recorded, with its own schedule.

    A counter nothing observes (``AccessTables.unobserved``: only ``x +=
    c`` and the like touch it) is dead in every state: its value never
    reaches a step, a guard or a check, so states that differ only there
    have the same futures too.

    What is dead depends only on the threads' pcs, so it is cached by them.
    """

    def __init__(self, program, tables=None):
        tables = tables or access_tables(program)
        self.tables = tables
        threads = program.threads
        self.pcs_of = _getter(tuple(t.pc_slot for t in threads))
        self.ends = tuple(t.end for t in threads)
        self.local_slots = tuple(tuple(slot for _, slot in t.local_slots) for t in threads)
        memo: dict = {}
        self.local_reads = tuple(future_local_reads(t, memo) for t in threads)
        self.roots = [tables.atoms.roots[name] for name in program.shared_names]
        self.conjuncts = tables.conjuncts
        self.varying = tables.written
        self.cache: dict = {}

    def key(self, s: tuple) -> tuple:
        pcs = self.pcs_of(s)
        plan = self.cache.get(pcs)
        if plan is None:
            plan = self.cache[pcs] = self._plan(pcs)
        if plan is False:
            return s
        dead, slots = plan
        v = list(s)
        if dead:
            for i, node in enumerate(self.roots):
                if node[0] & dead:
                    v[i] = _prune(v[i], node, dead)
        for slot in slots:
            v[slot] = DEAD
        return tuple(v)

    def _plan(self, pcs):
        t = self.tables
        live = t.final_reads
        writing = 0
        dead_slots = []
        for u, pc in enumerate(pcs):
            # a local the thread will not read again (or any local, once it has finished)
            dead_slots.extend(slot for slot in self.local_slots[u] if slot not in self.local_reads[u][pc])
            if pc == self.ends[u]:
                continue
            live |= t.future_reads[u][pc]
            writing |= t.future_writes[u][pc]
        for mask in self.conjuncts:
            if mask & writing:
                live |= mask
        dead = self.varying & (~live | t.unobserved)
        if not dead and not dead_slots:
            return False
        return (dead, tuple(dead_slots))


def _codes(node) -> list:
    return [c for c in (getattr(node, "await_", None), getattr(node, "do", None), getattr(node, "cond", None))
            if c is not None]


def _index_locals(thread, instr) -> tuple:
    """The (name, slot) of the locals that ``instr``'s code uses in an
    index and never assigns: its masks depend on their values."""
    local_names = {name for name, _ in thread.local_slots}
    named, assigned, indexing = set(), set(), set()
    for code in _codes(instr.node):
        named |= code.names
        assigned |= code.assigned
        if not (code.names - code.assigned) & local_names:
            continue
        for node in ast.walk(code.tree):
            if isinstance(node, ast.Subscript):
                indexing |= {n.id for n in ast.walk(node.slice) if isinstance(n, ast.Name)}
    used = (named - assigned) & indexing
    return tuple((name, slot) for name, slot in thread.local_slots if name in used)


def _union(masks) -> int:
    result = 0
    for mask in masks:
        result |= mask
    return result


def _pruned(table: list, keep: int) -> list:
    """A per-thread, per-pc table of masks without the atoms not in ``keep``."""
    if keep == -1:
        return table
    return [[mask & keep for mask in row] for row in table]


def _getter(slots: tuple):
    """A fast function from a state to the tuple of the values at ``slots``."""
    if len(slots) == 1:
        return lambda s, slot=slots[0]: (s[slot],)
    return itemgetter(*slots)


def _prune(value, node, dead: int):
    """``value`` with every atom in ``dead`` replaced by DEAD."""
    mask, children = node[0], node[1]
    if not mask & dead:
        return value
    if not mask & ~dead:
        return DEAD
    if children is None:
        return value
    if type(value) is Record and tuple(children) == value[0].fields:
        return Record((value[0],) + tuple(_prune(v, children[f], dead) for f, v in value.items()))
    if type(value) is tuple and len(value) == len(children):
        return tuple(_prune(v, children[i], dead) for i, v in enumerate(value))
    return value


# -- what makes threads dependent (racecheck explain) ---------------------------

@dataclass(frozen=True)
class Index:
    """An index that is not a constant: it stands for every element."""

    text: str                       # the subscript, as written
    pos: Pos
    locals: tuple                   # the thread's locals it uses (the rest comes from state)


@dataclass(frozen=True)
class Coupling:
    """Two threads whose steps may conflict, with the first pair of steps
    that does and the locations they share."""

    threads: tuple                  # (name, name)
    steps: tuple                    # ((step text, pos, "reads"/"writes"), (same for the other))
    shared: str                     # the atoms both touch, described
    indexes: tuple                  # Index of either step that widened its masks


@dataclass(frozen=True)
class Dependence:
    """Why partial-order reduction can or cannot keep threads apart."""

    threads: int
    pairs: int                      # pairs of threads that may ever conflict
    couplings: tuple                # one Coupling per pair of thread definitions and steps
    conjuncts: tuple                # VisibleConjunct


def dependence(program) -> Dependence:
    """Which threads may conflict, through which steps, and why."""
    tables = access_tables(program)
    keep = ~tables.unobserved
    reads, writes = _pruned(tables.reads, keep), _pruned(tables.writes, keep)
    threads = program.threads
    found, seen = [], set()
    pairs = 0
    for t, th in enumerate(threads):
        for u in tables.neighbours[t]:
            if u < t:
                continue
            pairs += 1
            indexed = set()
            for n, (pc, pu, mask) in enumerate(_conflicts(th, threads[u], reads[t], writes[t], reads[u], writes[u])):
                indexes = tuple(_dynamic_indexes(program, tables, th, pc, mask)
                                + _dynamic_indexes(program, tables, threads[u], pu, mask))
                # the first conflicting pair of steps, and each that an index widened
                fresh = set(indexes) - indexed
                if n and not fresh:
                    continue
                indexed |= fresh
                key = (th.base, threads[u].base, pc, pu)
                if key in seen:
                    continue
                seen.add(key)
                found.append(Coupling(
                    (th.name, threads[u].name),
                    (_step(th, pc, writes[t][pc] & mask), _step(threads[u], pu, writes[u][pu] & mask)),
                    tables.atoms.describe(mask), indexes))
    return Dependence(len(threads), pairs, tuple(found), tuple(visible_conjuncts(program, tables)))


def _conflicts(a, b, ra, wa, rb, wb):
    """``(pc of a, pc of b, shared mask)`` of each pair of conflicting steps."""
    for pa in range(a.end):
        for pb in range(b.end):
            mask = wa[pa] & (rb[pb] | wb[pb]) | wb[pb] & ra[pa]
            if mask:
                yield pa, pb, mask


def _step(thread, pc: int, writes: int) -> tuple:
    instr = thread.instrs[pc]
    return (instr.text, instr.code_pos or instr.pos, "writes" if writes else "reads")


def _dynamic_indexes(program, tables, thread, pc, mask: int) -> list:
    """The subscripts of a shared value, in the step at ``pc``, whose index
    is not a constant and that stand for atoms in ``mask``."""
    from racecheck.model.locations import DYNAMIC, Accesses
    found = []
    for code in _codes(thread.instrs[pc].node):
        acc = Accesses(tables.shared, program.params, thread.copy, tables.atoms)
        for node in ast.walk(code.tree):
            if not isinstance(node, ast.Subscript):
                continue
            try:
                location = acc.location(node, {})
            except Exception:           # noqa: BLE001 - an explanation, never a failure
                continue
            if location is not None and location[0] in tables.shared and DYNAMIC in location \
                    and tables.atoms.read_mask(location) & mask:
                text = " ".join((ast.get_source_segment(code.text, node) or ast.unparse(node)).split())
                pos = code.origin.pos(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
                names = {n.id for n in ast.walk(node.slice) if isinstance(n, ast.Name)}
                found.append(Index(text, pos, tuple(name for name, _ in thread.local_slots if name in names)))
    return found
