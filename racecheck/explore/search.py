"""Exhaustive breadth-first search over every interleaving.

Breadth-first order makes the first violation found a shortest one (fewest
transitions, within the reduced graph when reduction is on), as TLC does.
Visited states are kept in a set: exactly (the state tuples), or, with
``hash_compact``, as 64-bit fingerprints (``statetable.value_fingerprints``:
a fixed function of the state; not Python's hash, which takes -1 and -2
for one value). A collision would wrongly treat a new state as visited,
and the result reports an upper bound on the probability that one
happened. A state's
number, its parent's number and the step that reached it are kept in flat
arrays, so any violation becomes a schedule by walking parents back. Per
thread, a byte marks each move (pc, pc after) that some transition made
(``Exploration.moves``): from those, ``explore.coverage`` knows what ran
without a search of its own.

What is checked, and when:

* invariants: in every state when it is first reached (initial ones too);
* final checks: in every state where all threads have finished;
* assert / error: when a transition's code fails (that transition has no
  successor state);
* deadlock: a state where some thread has not finished and none can run;
* livelock: after an exhaustive search, a reachable state from which no
  ending (all threads finished, a deadlock, or a failing step) can be
  reached. Found by backward reachability over stored edges, which are kept
  only when some thread can loop; under sleep sets, a state they do not
  lead to an ending is completed first (``explore.livelock``).

Bounds (``max_states``, ``max_depth``, ``timeout``, ``max_memory``) end the
search early; the verdict is then ``inconclusive`` unless a violation was
found, never ``safe``. The clock is read before every state is expanded,
whatever states cost, and the memory every ``_LOOK_SECONDS``; so the search
passes its deadline by at most one expansion (the work limit of
``model.runtime`` bounds each step it runs). The search stops at the end of
the breadth-first level in which the violation it is looking for appeared,
so the reported schedule is a shortest one among the violations of that
kind it found.
"""

from __future__ import annotations

import gc
import time
from array import array
from operator import itemgetter

from racecheck.errors import InternalError
from racecheck.explore.budget import peak_memory
from racecheck.explore.livelock import find_livelock as _find_livelock
from racecheck.explore.reduction import DeadValues, Reducer
from racecheck.explore.result import Bounds, ExitReason, Exploration, Stats, Verdict, Violation
from racecheck.explore.schedule import Schedule
from racecheck.explore.statetable import value_fingerprints
from racecheck.model.program import USER_ERRORS, InitialFailure, Program, as_step_error
from racecheck.model.runtime import Chooser
from racecheck.scenario.schema import SAFE
from racecheck.scenario.values import AssertFailed

_LOOK_SECONDS = 0.01         # between two looks at the memory (the clock: every state)
_PROGRESS_SECONDS = 1.0
_SLEEP_THREADS = 62          # sleep sets are bit masks in a signed 64-bit array


class _Found:
    """Violations met so far: the shortest of each kind, in order found."""

    def __init__(self):
        self.by_key: dict = {}

    def add(self, kind, name, message, sid, last_step, length):
        key = (kind, name, message if kind == "assert" else "")
        best = self.by_key.get(key)
        if best is None or length < best[0]:
            order = len(self.by_key) if best is None else best[1]
            self.by_key[key] = (length, order, kind, name, message, sid, last_step)


def explore(program: Program, bounds: Bounds = Bounds(), expect=SAFE, *,
            reduction: bool = True, hash_compact: bool = False, progress=None,
            deadline: float | None = None, packed: bool | None = None) -> Exploration:
    """Explore every interleaving of ``program`` within ``bounds``.

    ``progress(states, transitions, depth, seconds)`` is called while the
    search runs, every ``progress.every`` seconds (once a second if it has
    no ``every``). Ctrl-C ends the search with exit reason ``INTERRUPTED``
    and the statistics so far. ``deadline`` is the
    ``time.perf_counter()`` instant the search must stop by; by default,
    ``bounds.timeout`` seconds from now. ``packed``: run the unreduced
    search on packed states with generated code (``explore.packed``); by
    default, whenever reduction is off and accesses are not being checked.
    """
    if packed is None:
        packed = not reduction and program.checker is None
    if packed and reduction:
        raise ValueError("the packed search is the unreduced search")
    # Millions of stored tuples make every collection of the cyclic garbage
    # collector scan them all; the search creates no reference cycles.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if packed:
            from racecheck.explore.packed import explore_packed
            return explore_packed(program, bounds, expect, hash_compact, progress, deadline)
        return _explore(program, bounds, expect, reduction, hash_compact, progress, deadline)
    finally:
        if collecting:
            gc.enable()


def look(now: float, deadline, max_memory, progress, next_report: float, start: float, states: int,
         transitions: int, depth: int) -> tuple:
    """A look at the clock during a search: ``(bound, next_report,
    next_look)``, where ``bound`` is the ExitReason that stops the search
    (the deadline or the memory bound passed), else None; a progress
    report is made when one is due."""
    if deadline is not None and now >= deadline:
        return ExitReason.TIMEOUT, next_report, now
    if max_memory is not None and peak_memory() > max_memory:
        return ExitReason.MAX_MEMORY, next_report, now
    if progress is not None and now >= next_report:
        progress(states, transitions, depth, now - start)
        next_report = now + getattr(progress, "every", _PROGRESS_SECONDS)
    next_look = now + _LOOK_SECONDS
    if deadline is not None and deadline < next_look:
        next_look = deadline
    return None, next_report, next_look


def _explore(program, bounds, expect, reduction, hash_compact, progress, deadline) -> Exploration:
    start = time.perf_counter()
    if deadline is None and bounds.timeout:
        deadline = start + bounds.timeout
    max_states, max_depth, max_memory = bounds.max_states, bounds.max_depth, bounds.max_memory
    keep_edges = program.may_cycle and not program.livelock_allowed
    check_deadlock = not program.deadlock_allowed
    reducer = Reducer(program) if reduction and len(program.threads) > 1 else None
    ample = reducer.ample if reducer is not None else None
    proviso = reducer is not None and program.may_cycle
    # sleep sets (see explore.reduction); when livelock is checked, a state
    # that the stored edges do not lead to an ending is completed afterwards
    # (explore.livelock)
    sleeper = reducer.sleep if reducer is not None and len(program.threads) <= _SLEEP_THREADS else None
    numbered = keep_edges or proviso or sleeper is not None
    # merged states would break the replay of livelock cycles: not with edges
    merge = reduction and not keep_edges
    dead = DeadValues(program, reducer.tables if reducer else None).key if merge else None
    if hash_compact:
        fingerprint = value_fingerprints()
        keyof = (lambda s: fingerprint(dead(s))) if dead else fingerprint
    else:
        keyof = dead
    # A successor merged into a visited state may differ from it in dead
    # values that a finished invariant conjunct reads: check it on its own.
    recheck = invariants_of(program) if dead else ()

    # -- per-thread tables, bound to locals for the loop ----------------------
    threads = [(t, th.pc_slot, th.guards, th.end) for t, th in enumerate(program.threads)]
    chooses = [(th.pc_slot, th.chooses) for th in program.threads]
    steppers = program.steppers()
    invariants = tuple(fn for _, fn in program.invariants)
    has_finals = bool(program.finals)
    pcs_of = _pcs_getter(program)
    ends = tuple(th.end for th in program.threads)

    # -- storage: one entry per state, numbered in the order found ----------
    visited = {} if numbered else set()       # key [-> number]
    asleep = array("q")                       # number -> sleep set (a bit per thread), with sleep sets
    queued = bytearray()                      # number -> 1 while waiting in a level to be expanded
    born = array("i")                         # number -> depth when first found, with sleep sets
    parent = array("i")                       # number of the state it was reached from
    via = array("h")                          # thread that took the step (-1: initial)
    picks: dict = {}                          # number -> choose() picks, when not all 0
    states: list = []                         # number -> state, kept only for livelock
    edges: list = []
    terminal = bytearray()
    found = _Found()
    # what ran, for explore.coverage: marks[t][pc][pc after] is set when a
    # transition of thread t went from pc to pc after ([-1]: it failed)
    marks = tuple(tuple(bytearray(th.end + 2) for _ in range(th.end + 1)) for th in program.threads)
    violating = 0
    transitions = 0
    # states that failed a property, so that a merged state (see recheck) is
    # stored at most once, and never when it is its key's first state
    bad_states: set = set()

    def add_state(s, key, pid, t, chosen, length, sleeping=0, stored=True):
        """Store a new state and check the properties that hold in states.
        ``stored``: False for a merged state kept only for its schedule."""
        nonlocal violating
        sid = len(parent)
        parent.append(pid)
        via.append(t)
        if chosen:
            picks[sid] = chosen
        if sleeper is not None:
            asleep.append(sleeping)
            queued.append(1 if stored else 0)
            born.append(length)
        if keep_edges:
            visited[key] = sid
            states.append(s)
            edges.append([])
            terminal.append(0)
        elif numbered:
            if stored:
                visited[key] = sid
        else:
            visited.add(key)
        try:
            for fn in invariants:
                if not fn(s):
                    break
            else:
                if not has_finals and not keep_edges or pcs_of(s) != ends:
                    return sid
        except USER_ERRORS:
            pass                      # _check_state reports it as an error
        if recheck:
            bad_states.add(s)
        violating += _check_state(program, s, sid, length, found, keep_edges, terminal)
        return sid

    # a level of the breadth-first search: state numbers and states, side by side
    level, level_states = array("i"), []
    for chooser, s in program.initial_states():
        chosen = chooser.used()
        if isinstance(s, InitialFailure):
            found.add(*_failure_kind(s[0]), -1, chosen, 0)
            continue
        key = keyof(s) if keyof else s
        if key not in visited:
            level.append(add_state(s, key, -1, -1, chosen, 0))
            level_states.append(s)

    depth = 0
    clock = time.perf_counter
    watch = deadline is not None or max_memory is not None or progress is not None
    next_look = start
    next_report = start + getattr(progress, "every", _PROGRESS_SECONDS)
    goal = None
    exit_reason = ExitReason.EXHAUSTED
    try:
        while level:
            if goal is not None:
                exit_reason = ExitReason.FOUND
                break
            # at the depth bound, states are checked (deadlock) but not expanded
            expand = max_depth is None or depth < max_depth
            next_level, next_states = array("i"), []
            stop = False
            for sid, s in zip(level, level_states):
                # -- bounds and progress: the clock before every state ----
                if watch and clock() >= next_look:
                    bound, next_report, next_look = look(clock(), deadline, max_memory, progress, next_report,
                                                         start, len(parent), transitions, depth)
                    if bound is not None:
                        exit_reason, stop = bound, True
                        break
                # -- which threads can run --------------------------------
                enabled = []
                guard_failed = False
                for t, slot, guards, end in threads:
                    pc = s[slot]
                    if pc == end:
                        continue
                    guard = guards[pc]
                    if guard is None:
                        enabled.append(t)
                        continue
                    try:
                        if guard(s):
                            enabled.append(t)
                    except USER_ERRORS as exc:
                        marks[t][pc][-1] = 1
                        found.add("error", "error", str(as_step_error(exc)), sid, (t, ()), depth + 1)
                        guard_failed = True
                        if keep_edges:
                            terminal[sid] = 1
                if not enabled:
                    if pcs_of(s) != ends and not guard_failed:   # a failing await is not a deadlock
                        if keep_edges:
                            terminal[sid] = 1
                        if check_deadlock:
                            found.add("deadlock", "deadlock", "", sid, None, depth)
                            violating += 1
                    continue
                # (a second pass over a state keeps the depth it was found at)
                if not expand and not (sleeper is not None and born[sid] < max_depth):
                    exit_reason = ExitReason.MAX_DEPTH
                    continue
                # -- expand the ample set (all enabled threads without reduction)
                todo = ample(s, enabled) if ample is not None else enabled
                full = len(todo) == len(enabled)
                if sleeper is not None:
                    # run the awake part of the ample set: nothing if every
                    # enabled thread sleeps, all of a smaller set that sleeps
                    # (see explore.reduction); a second pass over a state
                    # reached again with a smaller sleep set runs what the
                    # first left asleep
                    queued[sid] = 0
                    sleeping = asleep[sid]
                    if sleeping:
                        awake = [t for t in todo if not sleeping >> t & 1]
                        if awake:
                            todo = awake
                        elif full:
                            continue
                    ran = 0
                while True:
                    old = failed = False
                    for t in todo:
                        if sleeper is not None:
                            # the successor's sleep set: what sleeps here or
                            # ran before t, if independent of t
                            after = sleeper(s, sleeping | ran, t) if sleeping | ran else 0
                            ran |= 1 << t
                        step = steppers[t]
                        slot, may_choose = chooses[t]
                        pc = s[slot]
                        mark = marks[t][pc]
                        chooser = Chooser() if may_choose[pc] else None
                        while True:
                            try:
                                s2 = step(s, chooser)
                            except USER_ERRORS as exc:
                                mark[-1] = 1
                                failed = True
                                found.add(*_failure_kind(as_step_error(exc)), sid,
                                          (t, chooser.used() if chooser else ()), depth + 1)
                                if keep_edges:
                                    terminal[sid] = 1
                            else:
                                transitions += 1
                                mark[s2[slot]] = 1
                                key = keyof(s2) if keyof else s2
                                if numbered:
                                    sid2 = visited.get(key)
                                    if sid2 is None:
                                        sid2 = add_state(s2, key, sid, t, chooser.used() if chooser else (),
                                                         depth + 1, after if sleeper else 0)
                                        next_level.append(sid2)
                                        next_states.append(s2)
                                    else:
                                        if sid2 <= sid:
                                            old = True    # C3: an edge that may close a cycle
                                        if sleeper is not None and asleep[sid2] & ~after:
                                            asleep[sid2] &= after
                                            if not queued[sid2]:
                                                queued[sid2] = 1
                                                next_level.append(sid2)
                                                next_states.append(s2)
                                        if recheck and s2 not in bad_states and not _holds_all(recheck, s2):
                                            add_state(s2, key, sid, t, chooser.used() if chooser else (), depth + 1,
                                                      stored=False)
                                    if keep_edges:
                                        edges[sid].append(sid2)
                                elif key not in visited:
                                    next_level.append(add_state(s2, key, sid, t, chooser.used() if chooser else (),
                                                                depth + 1))
                                    next_states.append(s2)
                                else:
                                    old = True
                                    if recheck and s2 not in bad_states and not _holds_all(recheck, s2):
                                        # stored for its schedule, not expanded
                                        add_state(s2, key, sid, t, chooser.used() if chooser else (), depth + 1)
                            if chooser is None:
                                break
                            plan = chooser.next_plan()
                            if plan is None:
                                break
                            chooser = Chooser(plan)
                    # A failing ample transition has no successor to carry the
                    # others' runs, and an old successor may close a cycle (C3):
                    # then the state is expanded fully.
                    if not full and (failed or proviso and old):
                        todo = [t for t in enabled if t not in todo and not (sleeper and sleeping >> t & 1)]
                        full = True
                        continue
                    break
                if max_states is not None and len(parent) >= max_states and next_level:
                    exit_reason, stop = ExitReason.MAX_STATES, True
                    break
            if goal is None:
                goal = _goal_met(found, expect)
            if stop:
                break
            if next_level:
                depth += 1
            level, level_states = next_level, next_states
        else:
            if goal is not None:
                exit_reason = ExitReason.FOUND
    except KeyboardInterrupt:
        exit_reason = ExitReason.INTERRUPTED

    # -- livelock: states from which no ending can be reached -------------
    if keep_edges and exit_reason is ExitReason.EXHAUSTED and _wants_livelock(found, expect):
        try:
            completed = [0]
            complete = None if sleeper is None else _completer(
                states, edges, terminal, visited, keyof, (parent, via, picks), threads, steppers, chooses, ample,
                completed)
            if not _find_livelock(edges, terminal, found, deadline, complete):
                exit_reason = ExitReason.TIMEOUT
            transitions += completed[0]
        except KeyboardInterrupt:
            exit_reason = ExitReason.INTERRUPTED

    elapsed = time.perf_counter() - start
    stats = Stats(len(parent), transitions, depth, elapsed, violating)
    paths = _Paths(parent, via, picks)
    violations = [_violation(rec, paths, program, states) for rec in _ordered(found, expect)]
    if violations:
        verdict = Verdict.VIOLATION
    elif exit_reason.is_bound:
        verdict = Verdict.INCONCLUSIVE
    else:
        verdict = Verdict.SAFE
    collision = (transitions * len(parent)) / 2.0 ** 64 if hash_compact else None
    return Exploration(verdict, violations[0] if violations else None, tuple(violations[1:]),
                       stats, exit_reason, bounds, _checked(program), reducer is not None, collision,
                       _moves(marks))


def _moves(marks) -> tuple:
    """Per thread, the set of ``(pc, pc after)`` marked (pc after -1: failed)."""
    return tuple(frozenset((pc, after if after < len(row) - 1 else -1)
                           for pc, row in enumerate(rows) for after, bit in enumerate(row) if bit)
                 for rows in marks)


def invariants_of(program) -> tuple:
    return tuple(fn for _, fn in program.invariants)


def _holds_all(fns, s) -> bool:
    try:
        return all(fn(s) for fn in fns)
    except USER_ERRORS:
        return False


def _check_state(program, s, sid, length, found, keep_edges, terminal) -> int:
    """The slow path of ``add_state``: record what fails in ``s``; 1 if any."""
    invariants, finals, errors = program.judge(s)
    for exc in errors:
        _drop_frames(exc)
    if keep_edges and program.finished(s):
        terminal[sid] = 1
    for name in invariants:
        found.add("invariant", name, "", sid, None, length)
    for name in finals:
        found.add("final", name, "", sid, None, length)
    for exc in errors:
        found.add("error", "error", str(exc), sid, None, length)
    return 1 if invariants or finals or errors else 0


def _drop_frames(exc) -> None:
    """Forget the tracebacks of ``exc`` and of the exceptions it chains to.
    Their frames lead back (``f_back``) to the frame that caught ``exc`` and
    holds it: a cycle, which the search, running without the cyclic garbage
    collector, would keep alive with every frame in it."""
    chain = [exc]
    while chain:
        exc = chain.pop()
        if exc is not None and exc.__traceback__ is not None:
            exc.__traceback__ = None
            chain += (exc.__cause__, exc.__context__)


def _pcs_getter(program):
    slots = [t.pc_slot for t in program.threads]
    if len(slots) == 1:
        return lambda s, slot=slots[0]: (s[slot],)
    return itemgetter(*slots)


def _failure_kind(exc) -> tuple:
    if isinstance(exc, AssertFailed):
        return ("assert", "assert", str(exc))
    return ("error", "error", str(exc))


def _goal_met(found: _Found, expect):
    """Has the search found what it needs to stop (at the end of this level)?"""
    if not found.by_key:
        return None
    if expect.kind != "named":
        return True
    for kind, name, message in found.by_key:
        if Violation(kind, name, message, Schedule()).matches(expect):
            return True
    return None


def _wants_livelock(found: _Found, expect) -> bool:
    return not found.by_key or (expect.kind == "named" and expect.name == "livelock")


def _ordered(found: _Found, expect) -> list:
    """The violation to report first: the expected one, else the shortest."""
    records = sorted(found.by_key.values(), key=lambda r: (r[0], r[1]))
    if expect.kind == "named":
        matching = [r for r in records if Violation(r[2], r[3], r[4], Schedule()).matches(expect)]
        records = matching + [r for r in records if r not in matching]
    return records


class _Paths:
    """Turns state numbers back into schedules."""

    def __init__(self, parent, via, picks):
        self.parent, self.via, self.picks = parent, via, picks

    def to(self, sid: int) -> Schedule:
        steps = []
        while sid >= 0 and self.parent[sid] >= 0:
            steps.append((self.via[sid], self.picks.get(sid, ())))
            sid = self.parent[sid]
        init = self.picks.get(sid, ()) if sid >= 0 else ()
        return Schedule(init, tuple(reversed(steps)))


def _violation(record, paths: _Paths, program, states) -> Violation:
    _, _, kind, name, message, sid, last_step = record
    if kind == "livelock":
        return _livelock(program, states, paths, *last_step)
    if sid < 0:                         # the initial state could not be built
        return Violation(kind, name, message, Schedule(last_step, ()))
    schedule = paths.to(sid)
    if last_step is not None:
        schedule = schedule.extend(last_step)
    return Violation(kind, name, message, schedule)


def _livelock(program, states, paths: _Paths, walk, k) -> Violation:
    """Schedule to the start of the cycle, and the cycle itself."""
    steps = [_step_between(program, states[a], states[b]) for a, b in zip(walk, walk[1:] + (walk[k],))]
    schedule = paths.to(walk[0])
    for step in steps[:k]:
        schedule = schedule.extend(step)
    return Violation("livelock", "livelock", "", schedule, Schedule((), tuple(steps[k:])))


def _step_between(program, a, b) -> tuple:
    for t, picks, target in program.successors()(a):
        if target == b:
            return (t, picks)
    raise InternalError("a stored edge of the state graph cannot be replayed")


def _completer(states, edges, terminal, visited, keyof, paths, threads, steppers, chooses, ample, count):
    """``explore.livelock``'s ``complete`` for a search under sleep sets:
    runs the whole ample set of a stored state (every enabled thread when
    a successor is numbered no later than the state: the cycle proviso),
    stores the states it reaches that were not stored, with their numbers,
    parents and edges, and returns the successors (none, marking the state
    terminal, when it is an ending). ``count[0]`` counts the transitions."""
    parent, via, picks = paths

    def complete(sid):
        s = states[sid]
        enabled = []
        for t, slot, guards, end in threads:
            pc = s[slot]
            if pc == end:
                continue
            guard = guards[pc]
            try:
                if guard is None or guard(s):
                    enabled.append(t)
            except USER_ERRORS:
                terminal[sid] = 1                 # a failing await
                return []
        if not enabled:
            terminal[sid] = 1                     # finished, or a deadlock
            return []
        todo = ample(s, enabled)
        full = len(todo) == len(enabled)
        succs = []
        while True:
            old = False
            for t in todo:
                step = steppers[t]
                slot, may_choose = chooses[t]
                chooser = Chooser() if may_choose[s[slot]] else None
                while True:
                    try:
                        s2 = step(s, chooser)
                    except USER_ERRORS:
                        terminal[sid] = 1         # a failing step
                        return succs
                    count[0] += 1
                    key = keyof(s2) if keyof else s2
                    sid2 = visited.get(key)
                    if sid2 is None:
                        sid2 = visited[key] = len(parent)
                        parent.append(sid)
                        via.append(t)
                        if chooser is not None and chooser.used():
                            picks[sid2] = chooser.used()
                        states.append(s2)
                        edges.append([])
                        terminal.append(0)
                    elif sid2 <= sid:
                        old = True
                    succs.append(sid2)
                    if chooser is None:
                        break
                    plan = chooser.next_plan()
                    if plan is None:
                        break
                    chooser = Chooser(plan)
            if old and not full:
                todo = [t for t in enabled if t not in todo]
                full = True
                continue
            break
        edges[sid] = succs
        return succs

    return complete


def _checked(program: Program) -> tuple:
    items = [f"invariant {p.name}" for p, _ in program.invariants]
    items += [f"final {p.name}" for p, _ in program.finals]
    items.append("asserts and run-time errors")
    if not program.deadlock_allowed:
        items.append("deadlock")
    if not program.livelock_allowed:
        items.append("livelock")
    return tuple(items)
