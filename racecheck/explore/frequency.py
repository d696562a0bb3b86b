"""How common a violation is: in states, and in orderings of the steps.

A counterexample shows that a race *can* happen; reviewers then ask how
narrow the window is. ``violation_frequency(program, violation)`` answers
over the full state graph (no reduction, no merging) with two ratios:

* ``violating_states`` of ``states``: how many reachable states show the
  violation (defined per kind below);
* ``violating_orderings`` of ``orderings``: how many of the essentially
  different complete runs reach it.

Orderings. A *run* starts in an initial state and takes steps (one
transition of one thread, with its ``choose()`` picks) until no thread can
run, or until a step fails (assert, run-time error: the run ends there). Two
runs are the same ordering when one becomes the other by repeatedly swapping
two adjacent *independent* steps: Mazurkiewicz traces. ``orderings`` counts
the traces of complete runs, so running two unrelated steps in either order
counts once::

    a: x = 1        b: y = 1          a;b  and  b;a  are one ordering
    a: x = 1        b: r = x          a;b  and  b;a  are two

Independence. Two steps of different threads are independent when neither
writes a shared location the other reads or writes (an ``await`` reads what
it tests), by the read/write masks of ``model.access``. Those masks treat an
index that is a local (``a[i]``) as "any element"; here a step's masks are
computed with the thread's locals at that state substituted as constants
(except locals the step itself assigns), so ``a[i]`` with ``i == 3`` is
``a[3]``. A step is thus identified by its thread, pc, those local values
and its picks; a step that fails is a distinct step, dependent on every
other. Steps of the same thread are always dependent, and different picks of
one ``choose()`` are different steps. Masks only over-approximate accesses,
so independent steps really commute (tests/test_coverage_frequency.py checks
the diamond on every pair it counts as independent).

What "violating" means, per kind of violation:

=========  ===================================  ================================
kind       violating state                      violating ordering
=========  ===================================  ================================
invariant  the invariant is false in it         some state it passes through
                                                violates the invariant (*)
final      all threads finished, check false    it ends in such a state
deadlock   not finished and no thread can run   it ends in such a state
assert     a step out of it fails that assert   it ends with that failing step
error      a step out of it fails at run time,  it ends with a failing step, or
           or a property cannot be evaluated    passes such a state (*)
livelock   no ending is reachable from it       (not counted: the graph is cyclic)
=========  ===================================  ================================

(*) Whether a run passes through a violating state could depend on which
run of a trace one looks at (``x += 1`` and ``y += 1`` in either order pass
through different states). So for these kinds, steps that may write what
the invariants in question read are made dependent on each other
("visible", as in partial-order reduction's condition C2): then every run of
a trace sees the same sequence of values of the invariant, and the answer is
the same for all of them. The ``orderings`` count is then that of this finer
equivalence, and can be larger than for other kinds of the same program.

Counting without enumerating: the orderings are counted in *lexicographic
normal form* (Anisimov and Knuth): order steps by (thread, picks); a run is
the lexicographically least of its trace exactly when it has no factor
``b u a`` with ``a < b`` and ``a`` independent of ``b`` and of every step of
``u``. That is what a sleep-set search explores (a step taken in a state
puts its smaller independent siblings to sleep; a sleeping step wakes when a
dependent step runs): a run that takes step ``a`` at position i is cut
exactly when ``a`` was a smaller sibling ``a < b`` of the step ``b`` taken at
some earlier position j, and is independent of every step from j to i, that
is, when the run has the factor ``b u a``. Independent steps commute (the
diamond: from the same state, either order gives the same state, and a
sleeping step stays enabled with the same outcome), so the complete runs are
closed under the swaps, every trace's least run is a run, and the number of
complete runs a sleep-set search explores is the number of traces, each
counted once. It is computed by
dynamic programming over (state, sleep set) pairs, memoised, which is exact
on an acyclic state graph. ``lastzero`` (Abdulla et al., POPL 2014) has
28 / 64 / 144 traces for N = 4 / 5 / 6, which this reproduces.

Limits. The full state graph must have at most ``budget`` states, else the
result is None. ``orderings`` and ``violating_orderings`` are None when the
state graph has a cycle (runs can be infinite; there is no finite count),
for livelock, or when the memo would need more than ``PAIR_FACTOR * budget``
(state, sleep set) pairs. Initial states are counted once each, however
many ``choose()`` picks at initialisation give them. An initial state that
cannot be built (its local prefix fails) is not a state and starts no run.
With a ``deadline`` (``explore.budget``), the count raises
``DeadlinePassed`` when that passes first.
"""

from __future__ import annotations

from dataclasses import dataclass

from racecheck.explore.graph import full_graph
from racecheck.explore.result import Violation
from racecheck.model.access import access_tables, code_accesses, code_masks
from racecheck.model.program import USER_ERRORS, Program, PropertyError
from racecheck.scenario.values import AssertFailed, StepError

DEFAULT_BUDGET = 200_000      # states of the full graph
PAIR_FACTOR = 10              # memo entries allowed per state of the budget


@dataclass(frozen=True)
class Frequency:
    states: int                       # reachable states (full graph)
    violating_states: int
    orderings: int | None             # traces of complete runs; None: cyclic graph, livelock, or too many
    violating_orderings: int | None

    def describe(self) -> str:
        text = f"{self.violating_states} of {self.states} states{_percent(self.violating_states, self.states)}"
        if self.orderings is not None:
            text += (f", {self.violating_orderings} of {self.orderings} orderings"
                     f"{_percent(self.violating_orderings, self.orderings)}")
        return text


def _nothing() -> None:
    pass


def _percent(part: int, whole: int) -> str:
    return f" ({100 * part / whole:.1f}%)" if whole else ""


def violation_frequency(program: Program, violation: Violation,
                        budget: int = DEFAULT_BUDGET, deadline=None, graph=None) -> Frequency | None:
    """How many states and orderings show ``violation``'s kind; None over
    budget. ``graph``: the full state graph (``explore.graph.full_graph``),
    when the caller has already built it."""
    raw = graph
    if raw is None:
        raw = full_graph(deadline.watching(program) if deadline is not None else program, budget)
    if not raw.complete:
        return None
    atoms = access_tables(program).atoms
    target = Target(program, violation, atoms)
    n = len(raw.states)
    if violation.kind == "livelock":
        return Frequency(n, _livelocked(raw), None, None)
    check = deadline.check if deadline is not None else _nothing
    violating = 0
    for sid in range(n):
        check()
        violating += target.state_violates(raw.states[sid], raw.out[sid])
    if _has_cycle(raw):
        return Frequency(n, violating, None, None)
    counted = count_traces(raw, Independence(program, target.visible, atoms), target, PAIR_FACTOR * budget, check)
    if counted is None:
        return Frequency(n, violating, None, None)
    return Frequency(n, violating, *counted)


# -- what violates ----------------------------------------------------------------------

class Target:
    """The violation's kind as predicates on states, end states and failing steps.

    ``passes(s)``: a run through ``s`` violates; ``ends(s)``: a run ending in
    ``s`` (no step out of it) violates; ``fails(exc)``: a run ending with a
    step that raised ``exc`` violates. ``visible``: the atoms ``passes``
    reads (steps writing them are kept in order; see the module doc).
    """

    def __init__(self, program: Program, violation: Violation, atoms=None):
        self.program = program
        self.kind, self.name, self.message = violation.kind, violation.name, violation.message
        self.visible = 0
        if self.kind == "invariant":
            self.invariant = program.property(self.name)[1]
            props = [p for p, _ in program.invariants if p.name == self.name]
            self.visible = _property_mask(program, props, atoms)
        elif self.kind == "error":
            self.visible = _property_mask(program, [p for p, _ in program.invariants], atoms)

    def passes(self, s: tuple) -> bool:
        program = self.program
        if self.kind == "invariant":
            try:
                return not self.invariant(s)
            except USER_ERRORS:
                return False              # cannot be evaluated: an error, not "false"
        if self.kind == "error":
            try:
                program.failing_invariants(s)
            except PropertyError:
                return True
        return False

    def ends(self, s: tuple) -> bool:
        program = self.program
        if self.kind == "deadlock":
            return not program.finished(s)
        if self.kind == "final" and program.finished(s):
            try:
                return self.name in program.failing_finals(s)
            except PropertyError:
                return False
        if self.kind == "error" and program.finished(s):
            try:
                program.failing_finals(s)
            except PropertyError:
                return True
        return False

    def fails(self, exc) -> bool:
        if self.kind == "assert":
            return isinstance(exc, AssertFailed) and (not self.message or str(exc) == self.message)
        return self.kind == "error" and not isinstance(exc, AssertFailed)

    def state_violates(self, s: tuple, out: list) -> bool:
        if self.passes(s) or not out and self.ends(s):
            return True
        return any(isinstance(target, StepError) and self.fails(target) for _, _, target in out)


def _property_mask(program: Program, props: list, atoms=None) -> int:
    atoms = atoms if atoms is not None else access_tables(program).atoms
    shared = frozenset(program.shared_names)
    mask = 0
    for prop in props:
        for location in code_accesses(prop.code, shared, program.params, None)[0]:
            mask |= atoms.mask(location)
    return mask


# -- independence ---------------------------------------------------------------------------

class Independence:
    """Read/write masks of a step, with the thread's locals as constants.

    ``masks(s, t)`` -> ``(reads, writes)`` of thread ``t``'s transition in
    state ``s``; ``independent(t, ra, wa, u, rb, wb)`` for two successful
    steps. Steps writing ``visible`` atoms are dependent on each other.
    """

    def __init__(self, program: Program, visible: int = 0, atoms=None):
        self.program = program
        self.visible = visible
        self.atoms = atoms if atoms is not None else access_tables(program).atoms
        self.shared = frozenset(program.shared_names)
        self.cache: dict = {}
        self.fixed = [[self._fixed_locals(thread, instr) for instr in thread.instrs] for thread in program.threads]

    @staticmethod
    def _fixed_locals(thread, instr) -> tuple:
        """The (name, slot) of locals the instruction's code reads but does not assign."""
        named, assigned = set(), set()
        for code in _codes(instr.node):
            named |= code.names
            assigned |= code.assigned
        return tuple((name, slot) for name, slot in thread.local_slots if name in named - assigned)

    def masks(self, s: tuple, t: int) -> tuple:
        thread = self.program.threads[t]
        pc = s[thread.pc_slot]
        values = tuple((name, s[slot]) for name, slot in self.fixed[t][pc])
        key = (t, pc, values)
        found = self.cache.get(key)
        if found is None:
            consts = dict(self.program.params)
            consts.update(values)
            reads = writes = 0
            for code in _codes(thread.instrs[pc].node):
                r, w = code_masks(self.atoms, code, self.shared, consts, thread.copy)
                reads |= r
                writes |= w
            found = self.cache[key] = (reads, writes)
        return found

    def independent(self, t: int, ra: int, wa: int, u: int, rb: int, wb: int) -> bool:
        if t == u or wa & (rb | wb) or wb & ra:
            return False
        return not (wa & self.visible and wb & self.visible)


def _codes(node) -> list:
    return [c for c in (getattr(node, "await_", None), getattr(node, "do", None), getattr(node, "cond", None))
            if c is not None]


# -- counting traces ----------------------------------------------------------------------------

def count_traces(raw, independence: Independence, target: Target, max_pairs: int, check=_nothing):
    """``(orderings, violating orderings)`` over an acyclic raw graph, or None
    when more than ``max_pairs`` (state, sleep set) pairs would be memoised.

    A sleep-set search, memoised: the count for ``(state, sleep)`` is the
    number of complete runs from ``state`` in lexicographic normal form whose
    first step is not in ``sleep``. Steps out of a state are ordered by
    (thread, picks); taking step ``a`` puts to sleep every smaller step and
    every sleeping step that is independent of ``a``. Failing steps are
    dependent on everything: they never sleep. Sleep sets hold steps as
    (thread, picks): a sleeping step's thread has not moved, so in the
    state where it sleeps the pair names the same step. ``check()`` is
    called before each pair is counted (it may raise to stop the count).
    """
    counter = _Counter(raw, independence, target)
    totals = [0, 0]
    for root in sorted({sid for _, sid in raw.initial}):
        result = counter.count((root, _EMPTY), max_pairs, check)
        if result is None:
            return None
        totals[0] += result[0]
        totals[1] += result[1]
    return tuple(totals)


_EMPTY = frozenset()


class _Counter:
    def __init__(self, raw, independence: Independence, target: Target):
        self.raw, self.independence, self.target = raw, independence, target
        self.memo: dict = {}
        self.sleeps: dict = {}            # interned sleep sets
        self.steps: dict = {}             # state id -> (names, targets, independent-of bitmasks)

    def steps_of(self, sid: int) -> tuple:
        """The steps out of ``sid`` in order: names, targets, and per step the
        bitmask of the (successful) steps independent of it."""
        found = self.steps.get(sid)
        if found is None:
            s = self.raw.states[sid]
            ordered = sorted(self.raw.out[sid], key=lambda e: (e[0], e[1]))
            names = tuple((t, picks) for t, picks, _ in ordered)
            targets = tuple(dst for _, _, dst in ordered)
            masks = [self.independence.masks(s, t) if type(dst) is int else None for t, _, dst in ordered]
            indep = []
            for i, mi in enumerate(masks):
                bits = 0
                if mi is not None:
                    for j, mj in enumerate(masks):
                        if mj is not None and self.independence.independent(
                                names[i][0], mi[0], mi[1], names[j][0], mj[0], mj[1]):
                            bits |= 1 << j
                indep.append(bits)
            found = self.steps[sid] = (names, targets, tuple(indep))
        return found

    def children(self, sid: int, sleep: frozenset) -> list:
        """``(child key, None)`` per awake successful step, ``(None, exc)`` per failing one."""
        names, targets, indep = self.steps_of(sid)
        children = []
        for i, name in enumerate(names):
            if name in sleep:
                continue
            dst = targets[i]
            if type(dst) is not int:
                children.append((None, dst))
                continue
            bits = indep[i]
            asleep = frozenset(names[j] for j in range(len(names))
                               if bits >> j & 1 and (j < i or names[j] in sleep))
            asleep = self.sleeps.setdefault(asleep, asleep)
            children.append(((dst, asleep), None))
        return children

    def count(self, root, max_pairs: int, check=_nothing):
        """Iterative post-order over (state, sleep) pairs from ``root``."""
        memo = self.memo
        stack = [(root, None)]
        while stack:
            check()
            key, children = stack[-1]
            if key in memo:
                stack.pop()
                continue
            if children is None:
                children = self.children(*key)
                stack[-1] = (key, children)
                pending = [(child, None) for child, _ in children if child is not None and child not in memo]
                if pending:
                    stack.extend(pending)
                    continue
            stack.pop()
            memo[key] = self.combine(key[0], children)
            if len(memo) > max_pairs:
                return None
        return memo[root]

    def combine(self, sid: int, children: list) -> tuple:
        s = self.raw.states[sid]
        target = self.target
        if not self.raw.out[sid]:         # a complete run ends here
            return (1, 1 if target.passes(s) or target.ends(s) else 0)
        total = bad = 0
        for key, exc in children:
            if key is None:               # a run ending with a failing step
                total += 1
                bad += 1 if target.fails(exc) else 0
            else:
                t, b = self.memo[key]
                total += t
                bad += b
        return (total, total if target.passes(s) else bad)


# -- graph shape -----------------------------------------------------------------------------------

def _has_cycle(raw) -> bool:
    """Kahn's algorithm over the successful steps."""
    n = len(raw.states)
    indegree = [0] * n
    for steps in raw.out:
        for _, _, dst in steps:
            if type(dst) is int:
                indegree[dst] += 1
    ready = [sid for sid in range(n) if indegree[sid] == 0]
    seen = 0
    while ready:
        sid = ready.pop()
        seen += 1
        for _, _, dst in raw.out[sid]:
            if type(dst) is int:
                indegree[dst] -= 1
                if indegree[dst] == 0:
                    ready.append(dst)
    return seen < n


def _livelocked(raw) -> int:
    """States from which no ending (no step out, or a failing step) is reachable."""
    n = len(raw.states)
    reverse: list = [[] for _ in range(n)]
    can_end = bytearray(n)
    for sid, steps in enumerate(raw.out):
        if not steps or any(type(dst) is not int for _, _, dst in steps):
            can_end[sid] = 1
        for _, _, dst in steps:
            if type(dst) is int:
                reverse[dst].append(sid)
    stack = [sid for sid in range(n) if can_end[sid]]
    while stack:
        for pred in reverse[stack.pop()]:
            if not can_end[pred]:
                can_end[pred] = 1
                stack.append(pred)
    return n - sum(can_end)
