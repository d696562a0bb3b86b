"""What a thread may still do, for the values its locals have now.

The access tables give, per thread and pc, the masks of everything the
thread may still do from there (``future_reads``, ``future_writes``),
for every value of its locals. Where a thread indexes shared state with a
local (lastzero's reader: ``a[i]``), that is every element; but a thread's
locals change only by its own steps, so from a state where ``i == 3``
and the loop only decrements ``i``, the reader reads ``a[0..3]`` only.

``Futures`` works this out by a small exploration of the thread alone from
its (pc, locals), over *abstract local states*: a pc and, per local, its
value or UNKNOWN::

    (pc 0, i=3) --a[3] != 0 reads a written atom: both ways--> (pc 1, i=3), end
    (pc 1, i=3) --i -= 1 reads only i: run it-->               (pc 0, i=2)
    ...
    (pc 0, i=0) --a[0] no step writes: 0 != 0 is False-->      end

One step of the exploration, from (pc, L):

* its masks are those of the code at ``pc`` with L's known int and str
  locals as constants, each only where the code has not assigned it
  before the index that uses it (``_constant_locals``), never wider than
  the masks for every value;
* the code is run, every ``choose()`` alternative, on the initial shared
  values and L's known locals; its next pc and what it assigns are kept,
  except that a local assigned a value that may depend on an UNKNOWN
  local or on shared state (when the code reads an atom some step
  writes: atoms no step writes hold their initial values in every
  reachable state, ``model.access``) becomes UNKNOWN (``_tainted``);
* if a ``return`` or a branch test may so depend, or the run fails,
  control may go to any successor pc instead, and every local the code
  assigns becomes UNKNOWN.

A local that the thread will not read again from a pc, or that no index,
branch test or returning code depends on (``_relevant``), is UNKNOWN
there; an abstract state with no known relevant local contributes the
masks for every value from its pc and is not followed. Past ``BOUND``
abstract states the exploration gives up and the masks for every value
are used. The result is cached by thread, pc and the values of the
relevant locals the thread may still read.

Why the result covers every transition the thread can take in any run
from a reachable state s (docs/reduction.md, "Futures that follow the
locals"): by induction on the thread's steps in the run, its (pc, locals)
is matched (the known locals equal) by an explored abstract state, or
lies beyond one whose masks for every value were added.

Only threads with code that uses a local in an index or a ``range()``
are explored; for the others, the setup and the look-ups cost more than
the few states that branches on locals save.
"""

from __future__ import annotations

import ast
import re

from racecheck.model.access import code_masks, local_reads
from racecheck.model.program import BRANCH, USER_ERRORS
from racecheck.model.runtime import Chooser

BOUND = 64                      # abstract local states explored from one (thread, pc, locals)


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


class Futures:
    """Per thread, pc and values of the locals it may still read: the
    masks ``(reads, writes)`` of everything the thread may still do."""

    def __init__(self, program, tables, keep: int):
        self.program, self.tables, self.keep = program, tables, keep
        self.shared = frozenset(program.shared_names)
        self._base = None
        memo: dict = {}
        # only threads that index shared state with a local: elsewhere the
        # refinement would cost more than the few states it saves
        self.threads = [_ThreadInfo(thread, memo) if _indexes(thread, memo) else _Fixed(thread)
                        for thread in program.threads]
        # per thread and pc: the slots whose values key the refined future (() for every value)
        self.key_slots = [info.key_slots for info in self.threads]
        self.cache: dict = {}
        self.steps: dict = {}                 # (t, pc, abstract locals) -> _step's answer
        self.masks: dict = {}                 # (t, pc, values of the locals its masks use) -> masks

    def of(self, t: int, pc: int, values: tuple) -> tuple | None:
        """The ``(future reads, future writes)`` of thread ``t`` at ``pc``
        with ``values`` in its ``key_slots[t][pc]``, without the atoms not
        in ``keep``; None when they are those for every value."""
        key = (t, pc, values)
        found = self.cache.get(key, False)
        if found is False:
            found = self.cache[key] = self._explore(t, pc, values)
        return found

    def _explore(self, t: int, pc: int, values: tuple):
        info, tables = self.threads[t], self.tables
        fr, fw = tables.future_reads[t], tables.future_writes[t]
        start = [UNKNOWN] * len(info.slots)
        for slot, value in zip(info.key_slots[pc], values):
            start[info.index[slot]] = value
        first = (pc, tuple(start))
        seen, work = {first}, [first]
        reads = writes = 0
        while work:
            state = work.pop()
            at, local = state
            if at == info.end:
                continue
            if all(local[i] is UNKNOWN for i in info.key_index[at]):
                reads |= fr[at]                       # nothing known: the masks for every value
                writes |= fw[at]
                continue
            key = (t,) + state
            step = self.steps.get(key, False)
            if step is False:
                step = self.steps[key] = self._step(t, info, at, local)
            r, w, nexts = step
            reads |= r
            writes |= w
            for nxt in nexts:
                if nxt not in seen:
                    if len(seen) >= BOUND:
                        return None
                    seen.add(nxt)
                    work.append(nxt)
        keep = self.keep                              # counters nothing reads: as in the reducer
        reads &= fr[pc] & keep
        writes &= fw[pc] & keep
        if (reads, writes) == (fr[pc] & keep, fw[pc] & keep):
            return None
        return reads, writes

    def _step(self, t: int, info, pc: int, local: tuple):
        """``(reads, writes, [(next pc, locals), ...])`` of the code at
        ``pc`` from the abstract locals ``local`` (the locals not kept at
        the next pc forgotten)."""
        reads, writes = self._masks(t, info, pc, local)
        unknown = frozenset(info.names[i] for i, value in enumerate(local) if value is UNKNOWN)
        exact = not reads & ~self.tables.atoms.unwritten   # what it reads of shared state is initial
        nexts = None
        code = info.runnable[pc]
        if code is not None:
            # locals computed from unknown locals or from shared state read here
            # are UNKNOWN after it; the rest is the same in every state (_tainted)
            tainted, blind = _tainted(code, unknown if exact else unknown | self.shared, info.memo)
            if not blind:
                nexts = self._run(info, pc, local, frozenset(info.index_of[n] for n in tainted if n in info.index_of))
        if nexts is None:
            # any successor; what the code assigns may be anything
            forgotten = list(local)
            for i in info.assigns[pc]:
                forgotten[i] = UNKNOWN
            forgotten = tuple(forgotten)
            nexts = [(nxt, forgotten) for nxt in info.thread.instrs[pc].succ]
        return reads, writes, [info.forget(nxt) for nxt in nexts]

    def _masks(self, t: int, info, pc: int, local: tuple) -> tuple:
        """The unpruned masks of the code at ``pc`` with the known int and
        str locals as constants, never wider than for every value."""
        values = tuple(local[i] for i in info.mask_index[pc])
        if not any(type(value) in (int, str) for value in values):
            return self.tables.reads[t][pc], self.tables.writes[t][pc]
        key = (t, pc, values)
        found = self.masks.get(key)
        if found is None:
            thread, tables = info.thread, self.tables
            consts = dict(self.program.params)
            for i, value in zip(info.mask_index[pc], values):
                if type(value) in (int, str):
                    consts[thread.local_slots[i][0]] = value
            reads = writes = 0
            for code in info.codes[pc]:
                cr, cw = code_masks(tables.atoms, code, self.shared, consts, thread.copy)
                reads |= cr
                writes |= cw
            found = self.masks[key] = (reads & tables.reads[t][pc], writes & tables.writes[t][pc])
        return found

    def _run(self, info, pc: int, local: tuple, tainted: frozenset):
        """Run the code at ``pc`` on the initial shared values and the
        known locals of ``local``: every ``(next pc, locals)``, the locals
        it assigns in ``tainted`` UNKNOWN; None if it fails."""
        thread = info.thread
        if self._base is None:
            self._base = self.program.base_state()
        v = list(self._base)
        for slot, value in zip(info.slots, local):
            if value is not UNKNOWN:
                v[slot] = value
        run, assigns = thread.runs[pc], info.assigns[pc]
        nexts = []
        chooser = Chooser() if thread.chooses[pc] else None
        while True:
            w = list(v)
            try:
                nxt = run(w, chooser)
            except USER_ERRORS:
                return None
            nexts.append((nxt, tuple(UNKNOWN if i in tainted or (value is UNKNOWN and i not in assigns) else w[slot]
                                     for i, (slot, value) in enumerate(zip(info.slots, local)))))
            if chooser is None:
                return nexts
            plan = chooser.next_plan()
            if plan is None:
                return nexts
            chooser = Chooser(plan)


class _ThreadInfo:
    """What the exploration needs of one thread, per pc.

    Its *relevant* locals are those that a step's masks or the thread's
    control flow may depend on (``_relevant``); the others are always
    UNKNOWN, which loses nothing: code that reads one is neither a branch
    condition nor code that may ``return``, and assigns no relevant local.
    """

    def __init__(self, thread, memo: dict):
        self.thread = thread
        self.end = thread.end
        self.slots = tuple(slot for _, slot in thread.local_slots)
        index = self.index = {slot: i for i, slot in enumerate(self.slots)}
        names = frozenset(name for name, _ in thread.local_slots)
        at = {name: index[slot] for name, slot in thread.local_slots}
        self.names = tuple(name for name, _ in thread.local_slots)
        self.index_of = at
        self.memo = memo
        self.codes = [_codes(instr) for instr in thread.instrs] + [[]]
        # per pc: the one piece of code to run (an action's, or a branch's test), or None
        self.runnable = [_runnable(instr) for instr in thread.instrs] + [None]
        facts = [[_facts(code, names, memo) for code in codes] for codes in self.codes]
        # per pc: the locals read, assigned, used in an index; is it a branch or may it return
        reads = [frozenset().union(*(f.read for f in row)) for row in facts]
        assigned = [frozenset().union(*(f.assigned for f in row)) for row in facts]
        indexing = [frozenset().union(*(f.indexing for f in row)) for row in facts]
        # a local whose value some index of the code sees changed by the code is no constant there
        constant = [frozenset().union(*(f.constant for f in row)) - frozenset().union(*(f.indexing - f.constant
                                                                                      for f in row))
                    for row in facts]
        deciding = [instr.kind == BRANCH or any(f.returns for f in row) for instr, row in zip(thread.instrs, facts)]
        relevant = _relevant(reads, assigned, indexing, deciding)
        self.reads = [frozenset(at[n] for n in row) for row in reads]
        self.assigns = [frozenset(at[n] for n in row) for row in assigned]
        self.mask_index = [tuple(sorted(at[n] for n in row)) for row in constant]
        # per pc: the relevant locals the thread may still read from there
        future = _future(thread, [frozenset(at[n] for n in row & relevant) for row in reads])
        self.key_index = [tuple(sorted(row)) for row in future]
        self.key_slots = [tuple(self.slots[i] for i in row) for row in self.key_index]

    def forget(self, state: tuple) -> tuple:
        """``state`` with the locals not in ``key_index`` of its pc UNKNOWN."""
        pc, local = state
        kept = self.key_index[pc]
        return pc, tuple(value if i in kept else UNKNOWN for i, value in enumerate(local))


class _Fixed:
    """A thread whose futures are those for every value of its locals."""

    def __init__(self, thread):
        self.key_slots = [()] * (thread.end + 1)


def _indexes(thread, memo: dict) -> bool:
    """Does some code of the thread use a local in an index or a
    ``range()``? (Code whose text shows no local after a ``[`` or a
    ``range(`` is not walked; missing one only leaves that thread's
    futures for every value.)"""
    names = frozenset(name for name, _ in thread.local_slots)
    if not names:
        return False
    near = re.compile(r"(?:\[|range\()[^\]]*?\b(?:%s)\b" % "|".join(map(re.escape, sorted(names))))
    return any(code.names & names and near.search(code.text) and _facts(code, names, memo).indexing
               for instr in thread.instrs for code in _codes(instr))


def _runnable(instr):
    """The code that decides where ``instr`` goes and what it assigns."""
    node = instr.node
    if instr.kind == BRANCH:
        return node.cond
    return node.do if getattr(node, "do", None) is not None else _NO_CODE


class _NoCode:
    """An action with only an ``await``: it assigns nothing and goes on."""

    tree = ast.Module(body=[], type_ignores=[])
    is_expr = False


_NO_CODE = _NoCode()


def _tainted(code, tainting: frozenset, memo: dict) -> tuple:
    """``(the locals code may assign a value that depends on a name in
    tainting, does a return depend on one)``: a value depends on the names
    of the expression it is computed from, and, inside an ``if`` whose
    test depends on one, on the test. Copies share the answer."""
    key = ("taint", id(code), tainting)
    found = memo.get(key)
    if found is None:
        tree = code.tree
        if code.is_expr:
            found = (frozenset(), bool(_names(tree.body) & tainting))
        else:
            tainted, blind = _block(tree.body, set(), tainting, False)
            found = (frozenset(tainted), blind)
        memo[key] = found
    return found


def _block(stmts, tainted: set, tainting: frozenset, control: bool) -> tuple:
    blind = False
    for node in stmts:
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            deps = _names(node.value)
            bases = set()
            for part in ast.walk(target):
                if isinstance(part, ast.Subscript):
                    deps |= _names(part.slice)
                if isinstance(part, ast.Name):
                    bases.add(part.id)
            whole = isinstance(node, ast.Assign) and isinstance(target, ast.Name)
            if not whole:
                deps |= bases                 # a part of it, or x op= v: the old value counts
            dirty = control or bool(deps & (tainting | tainted))
            for base in bases:
                if dirty:
                    tainted.add(base)
                else:
                    tainted.discard(base)
        elif isinstance(node, ast.If):
            inner = control or bool(_names(node.test) & (tainting | tainted))
            then, b1 = _block(node.body, set(tainted), tainting, inner)
            other, b2 = _block(node.orelse, set(tainted), tainting, inner)
            tainted |= then | other
            blind = blind or b1 or b2
        elif isinstance(node, ast.Return):
            blind = blind or control
    return tainted, blind


def _names(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _codes(instr) -> list:
    """The pieces of code of an instruction: a branch's test, or an
    action's ``await`` and ``do``."""
    node = instr.node
    if instr.kind == BRANCH:
        return [node.cond]
    return [code for code in (node.await_, node.do) if code is not None]


def _facts(code, names: frozenset, memo: dict):
    """The ``_Facts`` of a piece of code; copies of a thread share them."""
    key = (id(code), names)
    found = memo.get(key)
    if found is None:
        used = code.names & names
        uses: dict = {}                           # local -> positions of the indices it is in
        if used and ("[" in code.text or "range" in code.text):
            for node in ast.walk(code.tree):
                if isinstance(node, ast.Subscript):
                    inner = node.slice
                elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "range":
                    inner = node
                else:
                    continue
                for n in ast.walk(inner):
                    if isinstance(n, ast.Name) and n.id in used:
                        uses.setdefault(n.id, []).append(_position(node))
        found = memo[key] = _Facts(code, names, frozenset(uses), _constant_locals(code, uses))
    return found


def _position(node) -> tuple:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _constant_locals(code, uses: dict) -> frozenset:
    """The locals in ``uses`` that hold their value at the start of the
    code wherever an index uses them: not assigned, or only after (in the
    text, which is the order of execution: the code has no loops) every
    index that uses them. ``x = a[x]`` counts as after, conservatively."""
    assigned = code.assigned & frozenset(uses)
    if not assigned:
        return frozenset(uses)
    first: dict = {}
    for node in ast.walk(code.tree):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            for n in ast.walk(target):
                if isinstance(n, ast.Name) and n.id in assigned:
                    first[n.id] = min(first.get(n.id, (1 << 30, 0)), _position(node))
    return frozenset(name for name, at in uses.items()
                      if name not in assigned or max(at) < first.get(name, (0, 0)))


class _Facts:
    """What a piece of code does with the thread's locals."""

    __slots__ = ("code", "names", "assigned", "indexing", "constant", "returns", "_read")

    def __init__(self, code, names: frozenset, indexing: frozenset, constant: frozenset):
        self.code, self.names = code, names
        self.assigned = frozenset(code.assigned & names)
        self.indexing = indexing                  # in an index or a range()
        self.constant = constant                  # of those, the ones whose value there is the start's
        self.returns = bool(getattr(code, "has_return", False))
        self._read = None

    @property
    def read(self) -> frozenset:
        """The locals it reads (found on first use: it walks the code)."""
        if self._read is None:
            self._read = frozenset(local_reads(self.code, self.names))
        return self._read


def _relevant(reads: list, assigned: list, indexing: list, deciding: list) -> frozenset:
    """The locals whose values a step's masks or the thread's control flow
    may depend on: those in an index or a ``range()``, those read by a
    branch condition or by code that may ``return``, and, until nothing
    changes, those read by code that assigns one of them."""
    relevant = set()
    for read, index, decides in zip(reads, indexing, deciding):
        relevant |= index
        if decides:
            relevant |= read
    changed = bool(relevant)
    while changed:
        changed = False
        for read, assigns in zip(reads, assigned):
            if assigns & relevant and not read <= relevant:
                relevant |= read
                changed = True
    return frozenset(relevant)


def _future(thread, own: list) -> list:
    """Per pc (and the end): the union of ``own`` over the pcs reachable from it."""
    n = thread.end
    future = list(own[:n]) + [frozenset()]
    changed = True
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            acc = future[pc]
            for succ in thread.instrs[pc].succ:
                acc = acc | future[succ]
            if acc != future[pc]:
                future[pc], changed = acc, True
    return future
