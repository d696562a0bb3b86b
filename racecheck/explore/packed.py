"""The unreduced breadth-first search over packed states.

Same search as ``explore.search`` without reduction (same order, so the
same states, transitions, depth and counterexamples), over
``model.packed.PackedModel``: a state is one integer, successors come from
generated code, and storage is compact:

* visited states: the packed integers' bytes (exact), or with
  ``hash_compact`` their 64-bit fingerprints (``explore.statetable``: a
  fixed function of the bytes, one-to-one for states of at most 8 bytes,
  the same in every process, so a run is repeatable);
* numbers and parents in flat arrays, as ``explore.search`` (steps are
  found again by replay, ``PackedPaths``);
* the levels of the search: read back from an exact table, compressed
  beside a compact one (``explore.levels``);
* edges, kept for the livelock check, as two flat integer arrays (each
  state's successors, in the order states are expanded), so that looping
  models can use ``hash_compact`` too. States themselves are not kept:
  a livelock cycle is rebuilt by replaying schedules.

A value the layout cannot hold starts the search again with a wider layout
(``model.packed_layout.Relayout``).
"""

from __future__ import annotations

import time
from array import array

from racecheck.errors import InternalError
from racecheck.explore import statetable
from racecheck.explore.levels import Level
from racecheck.explore.result import ExitReason, Exploration, Stats, Verdict
from racecheck.explore.search import (_explore, _PROGRESS_SECONDS, _checked, _check_state, _Found, _failure_kind,
                                      _goal_met, _moves, _ordered, _violation, _wants_livelock, look)
from racecheck.explore.schedule import Schedule
from racecheck.explore.result import Violation
from racecheck.model.packed import PackedModel
from racecheck.model.packed_layout import Relayout, widen
from racecheck.model.program import USER_ERRORS, InitialFailure, as_step_error
from racecheck.model.runtime import Chooser

_MAX_RELAYOUTS = 200
_EXACT_RELAYOUTS = 2            # restarts that widen only the groups that did not fit
_THREE_BYTES = 1 << 24          # the first state number an edge cannot hold in 3 bytes
_CHUNK = 256                    # states expanded between two looks at the clock
_SWEEP = 1 << 16                # states of the livelock sweep between two looks at the clock


def explore_packed(program, bounds, expect, hash_compact, progress, deadline) -> Exploration:
    """``explore.search.explore`` without reduction, on packed states."""
    start = time.perf_counter()
    if deadline is None and bounds.timeout:
        deadline = start + bounds.timeout
    overrides: dict = {}
    layout = None
    for restart in range(_MAX_RELAYOUTS):
        try:
            layout = None
            model = PackedModel(program, overrides)
            layout = model.layout
            return _search(program, model, bounds, expect, hash_compact, progress, deadline, start)
        except Relayout as need:
            if "equal" in need.needs.values():
                break             # equal states told apart: see model.packed_layout
            # past the first restarts, int groups widen together
            overrides = widen(overrides, need, layout if restart >= _EXACT_RELAYOUTS else None)
    # equal values not alike, or a layout that keeps growing: the
    # interpreter's search, which needs no layout
    return _explore(program, bounds, expect, False, hash_compact, progress, deadline)


def _search(program, model: PackedModel, bounds, expect, hash_compact, progress, deadline, start):
    max_states, max_depth, max_memory = bounds.max_states, bounds.max_depth, bounds.max_memory
    keep_edges = program.may_cycle and not program.livelock_allowed
    check_deadlock = not program.deadlock_allowed

    threads = [(t, leaf.offset, leaf.group.mask, th.end, model.guards[t], model.steppers[t], th.chooses,
                marks_row)
               for (t, th), leaf, marks_row in zip(enumerate(program.threads), model.pc_leaves,
                                                   (tuple([0] * (th.end + 2) for _ in range(th.end + 1))
                                                    for th in program.threads))]
    marks = tuple(row[7] for row in threads)
    fast_invariants = model.fast_invariants
    pc_bits, ends = model.pc_bits, model.ends
    has_finals = bool(program.finals)
    finished = model.finished
    decode = model.decode
    fast_expand = model.expander(marks)

    nbytes = max(1, (model.layout.bits + 7) // 8)
    table = statetable.table(nbytes, exact=not hash_compact)
    # the graph, appended to by the table (statetable): the next level's
    # states in bytes (explore.levels), per state its parent (native
    # 4-byte ints), and for the livelock check the edges to states found
    # before (3 bytes each until there are 2 ** 24 states, then 4) and per
    # expanded state how many it has (255: see ``many``)
    parents = bytearray()
    edge_to = bytearray() if keep_edges else None
    out = bytearray() if keep_edges else None
    many: dict = {} if keep_edges else None
    width = 3
    # the states just found, to be checked, when anything needs a look
    fresh = [] if fast_invariants or has_finals or keep_edges else None
    terminal = bytearray()
    found = _Found()
    violating = 0
    transitions = 0

    def check_fresh(length, first=None):
        """Check the states ``fresh`` holds (the last ones numbered, unless
        ``first`` says where they start)."""
        nonlocal violating
        if first is None:
            first = len(table) - len(fresh)
        if keep_edges:
            terminal.extend(bytes(len(fresh)))
        if not fast_invariants:
            ends_at = [k for k, s in enumerate(fresh) if s & pc_bits == ends]
            for k in ends_at:
                violating += _check_state(program, decode(fresh[k]), first + k, length, found, keep_edges,
                                          terminal)
            fresh.clear()
            return
        for k, s in enumerate(fresh):
            try:
                for fn in fast_invariants:
                    if not fn(s):
                        break
                else:
                    if not has_finals and not keep_edges or s & pc_bits != ends:
                        continue
            except Exception:
                pass                      # the careful way below decides
            violating += _check_state(program, decode(s), first + k, length, found, keep_edges, terminal)
        fresh.clear()

    def careful(s, sid, depth, expand):
        """The successors of ``s`` by the interpreter's rules: guards that
        fail, choose(), failing steps; None when it has none to expand (an
        ending, a deadlock, or the depth bound: ``depth_bound`` set)."""
        nonlocal violating, depth_bound
        enabled = []
        guard_failed = False
        for row in threads:
            t, shift, mask, end, guards = row[:5]
            pc = s >> shift & mask
            if pc == end:
                continue
            guard = guards[pc]
            if guard is None:
                enabled.append(row)
                continue
            try:
                if guard(s):
                    enabled.append(row)
            except USER_ERRORS as exc:
                row[7][pc][-1] = 1
                found.add("error", "error", str(as_step_error(exc)), sid, (t, ()), depth + 1)
                guard_failed = True
                if keep_edges:
                    terminal[sid] = 1
        if not enabled:
            if not finished(s) and not guard_failed:
                if keep_edges:
                    terminal[sid] = 1
                if check_deadlock:
                    found.add("deadlock", "deadlock", "", sid, None, depth)
                    violating += 1
            return None
        if not expand:
            depth_bound = True
            return None
        succs = []
        for t, shift, mask, end, guards, step, may_choose, mark_rows in enabled:
            pc = s >> shift & mask
            mark = mark_rows[pc]
            chooser = Chooser() if may_choose[pc] else None
            while True:
                try:
                    s2 = step(s, chooser)
                except USER_ERRORS as exc:
                    mark[-1] = 1
                    failures.append((len(succs), (*_failure_kind(as_step_error(exc)), sid,
                                                  (t, chooser.used() if chooser else ()), depth + 1)))
                    if keep_edges:
                        terminal[sid] = 1
                else:
                    mark[s2 >> shift & mask] = 1
                    succs.append(s2)
                if chooser is None:
                    break
                plan = chooser.next_plan()
                if plan is None:
                    break
                chooser = Chooser(plan)
        return succs

    def check_in_order(succs, length):
        """Check the states just stored from ``succs`` and record the
        ``failures`` between them in the order the steps ran, as the
        interpreter does (it checks each successor as it makes it)."""
        new = list(fresh)
        fresh.clear()
        base = len(table) - len(new)
        done = k = 0
        pending = iter(failures + [(len(succs) + 1, None)])
        at, failure = next(pending)
        for i in range(len(succs) + 1):
            while at == i:
                if k > done:
                    fresh.extend(new[done:k])
                    check_fresh(length, base + done)
                    done = k
                found.add(*failure)
                at, failure = next(pending)
            if i < len(succs) and k < len(new) and new[k] == succs[i]:
                k += 1
        if len(new) > done:
            fresh.extend(new[done:])
            check_fresh(length, base + done)
        failures.clear()

    failures: list = []               # (successors made before it, Found.add's arguments)
    depth_bound = False
    # a level of the breadth-first search (explore.levels)
    level = Level(table, nbytes, not hash_compact, 0)
    for chooser, s in program.initial_states():
        chosen = chooser.used()
        if isinstance(s, InitialFailure):
            found.add(*_failure_kind(s[0]), -1, chosen, 0)
            continue
        width = table.store([model.encode(s)], -1, level.buf, parents, fresh, None, width, None, None, 0)
        if fresh:
            check_fresh(0)
    level.close()

    depth = 0
    clock = time.perf_counter
    watch = deadline is not None or max_memory is not None or progress is not None
    next_look = time.perf_counter()
    next_report = start + getattr(progress, "every", _PROGRESS_SECONDS)
    goal = None
    exit_reason = ExitReason.EXHAUSTED
    expand_level, store = table.expand_level, table.store
    from_bytes = int.from_bytes
    limit = -1 if max_states is None else max_states
    wide_from = _THREE_BYTES
    try:
        while level.size:
            if goal is not None:
                exit_reason = ExitReason.FOUND
                break
            expand = max_depth is None or depth < max_depth
            nxt = Level(table, nbytes, not hash_compact, len(table))
            stop = False
            for first, states in level.pieces():
                size = len(states) // nbytes
                at = 0
                while at < size:
                    if watch and clock() >= next_look:
                        bound, next_report, next_look = look(clock(), deadline, max_memory, progress, next_report,
                                                             start, len(table), transitions, depth)
                        if bound is not None:
                            exit_reason, stop = bound, True
                            break
                    # -- the generated code, while every step out of a state is plain
                    if expand:
                        at, count, width, status = expand_level(
                            fast_expand, states, at, min(size, at + _CHUNK), first, nxt.buf, parents,
                            fresh, edge_to, width, out, many, wide_from, limit)
                        transitions += count
                        if fresh:
                            check_fresh(depth + 1)
                        if status == 2:
                            exit_reason, stop = ExitReason.MAX_STATES, True
                            break
                        nxt.spill()
                        if status == 0:
                            continue
                    # -- the careful way: guards that fail, choose(), failing steps
                    sid = first + at
                    s = from_bytes(states[at * nbytes:(at + 1) * nbytes], "little")
                    at += 1
                    succs = careful(s, sid, depth, expand)
                    if succs is None:
                        if keep_edges:
                            out.append(0)
                        if depth_bound:
                            exit_reason = ExitReason.MAX_DEPTH
                        continue
                    transitions += len(succs)
                    width = store(succs, sid, nxt.buf, parents, fresh, edge_to, width, out, many, wide_from)
                    if failures and fresh is None:          # nothing to check between them
                        for _, failure in failures:
                            found.add(*failure)
                        failures.clear()
                    elif failures:
                        check_in_order(succs, depth + 1)
                    elif fresh:
                        check_fresh(depth + 1)
                    if max_states is not None and len(table) >= max_states and nxt:
                        exit_reason, stop = ExitReason.MAX_STATES, True
                        break
                    nxt.spill()
                if stop:
                    break
            if goal is None:
                goal = _goal_met(found, expect)
            if stop:
                break
            nxt.close()
            if nxt.size:
                depth += 1
            level = nxt
        else:
            if goal is not None:
                exit_reason = ExitReason.FOUND
    except KeyboardInterrupt:
        exit_reason = ExitReason.INTERRUPTED
    level = nxt = None
    parent = memoryview(parents).cast("i")

    if keep_edges and exit_reason is ExitReason.EXHAUSTED and _wants_livelock(found, expect):
        out.extend(bytes(len(parent) - len(out)))
        try:
            if not _find_livelock(parent, out, many, _Edges(edge_to, width), terminal, found, deadline):
                exit_reason = ExitReason.TIMEOUT
        except KeyboardInterrupt:
            exit_reason = ExitReason.INTERRUPTED

    elapsed = time.perf_counter() - start
    stats = Stats(len(parent), transitions, depth, elapsed, violating)
    paths = PackedPaths(program, model, table, parent)
    violations = [_livelock(program, paths, *rec[6]) if rec[2] == "livelock" else _violation(rec, paths, program, ())
                  for rec in _ordered(found, expect)]
    if violations:
        verdict = Verdict.VIOLATION
    elif exit_reason.is_bound:
        verdict = Verdict.INCONCLUSIVE
    else:
        verdict = Verdict.SAFE
    collision = (transitions * len(parent)) / 2.0 ** 64 if hash_compact else None
    return Exploration(verdict, violations[0] if violations else None, tuple(violations[1:]),
                       stats, exit_reason, bounds, _checked(program), False, collision, _moves(marks))


def _find_livelock(parent, out, many, to, terminal, found: _Found, deadline) -> bool:
    """``explore.search._find_livelock`` over the flat arrays: the states
    from which no ending can be reached. A state's successors are the
    states it was the parent of (numbered after it) and its stored edges
    (``out[sid]`` of them, ``many[sid]`` when 255 or more, stored in order
    of numbers). Two sweeps from the last state to the first settle every
    state whose ways out go forward in breadth-first order (most of them);
    if the second still changed something, backward reachability settles
    the rest."""
    n = len(terminal)
    can_end = bytearray(terminal)
    for _ in range(2):
        changed = False
        end = len(to)
        for hi in range(n, 0, -_SWEEP):
            if _late(deadline):
                return False
            moved, end = statetable.sweep(parent, out, many, to.data, to.width, can_end, max(0, hi - _SWEEP), hi,
                                          end)
            changed = changed or moved
        if not changed:
            break
    else:
        start = array("i", bytes(4 * (n + 1)))
        for sid in range(n):
            count = out[sid]
            start[sid + 1] = start[sid] + (count if count < 255 else many[sid])
        if not _backward(parent, start, to, can_end, deadline):
            return False
    first = can_end.find(0)
    if first >= 0:
        found.by_key[("livelock", "livelock", "")] = (0, len(found.by_key), "livelock", "livelock", "",
                                                       first, (first,))
    return True


class _Edges:
    """Read access to edges packed ``width`` bytes each."""

    def __init__(self, data: bytearray, width: int):
        self.data, self.width = data, width

    def __len__(self) -> int:
        return len(self.data) // self.width

    def __getitem__(self, k: int) -> int:
        w = self.width
        return int.from_bytes(self.data[k * w:k * w + w], "little")

    def __iter__(self):
        w, data = self.width, self.data
        return (int.from_bytes(data[k:k + w], "little") for k in range(0, len(data), w))


def _backward(parent, start, to, can_end: bytearray, deadline) -> bool:
    """Mark in ``can_end`` every state with a path to a marked one."""
    n = len(can_end)
    count = array("i", bytes(4 * (n + 1)))
    for target in to:
        count[target + 1] += 1
    for sid in range(n):
        if parent[sid] >= 0:
            count[sid + 1] += 1
    for i in range(n):
        count[i + 1] += count[i]
    fill = array("i", count)
    preds = array("i", bytes(4 * count[n]))
    for sid in range(n):
        if sid % 4096 == 0 and _late(deadline):
            return False
        up = parent[sid]
        if up >= 0:
            preds[fill[sid]] = up
            fill[sid] += 1
        for k in range(start[sid], start[sid + 1]):
            target = to[k]
            preds[fill[target]] = sid
            fill[target] += 1
    fill = None
    stack = [sid for sid in range(n) if can_end[sid]]
    done = 0
    while stack:
        done += 1
        if done % 4096 == 0 and _late(deadline):
            return False
        sid = stack.pop()
        for k in range(count[sid], count[sid + 1]):
            pred = preds[k]
            if not can_end[pred]:
                can_end[pred] = 1
                stack.append(pred)
    return True


def _late(deadline) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


class PackedPaths:
    """Turns state numbers back into schedules without stored steps: from
    each state on the way, the step is the first whose successor the table
    numbers as the next state (the order the search tried them in)."""

    def __init__(self, program, model: PackedModel, table, parent):
        self.program, self.model, self.table, self.parent = program, model, table, parent
        self.expand = program.successors()

    def _number(self, state) -> int:
        try:
            return self.table.find(self.model.encode(state))
        except Relayout:
            return -1

    def walk(self, sid: int) -> tuple:
        """``(schedule, state)`` of state ``sid``."""
        chain = []
        while sid >= 0:
            chain.append(sid)
            sid = self.parent[sid]
        chain.reverse()
        for chooser, state in self.program.initial_states():
            if type(state) is tuple and self._number(state) == chain[0]:
                init = chooser.used()
                break
        else:
            raise InternalError("a stored initial state cannot be rebuilt")
        steps = []
        for child in chain[1:]:
            step, state = self.step_to(state, child)
            steps.append(step)
        return Schedule(init, tuple(steps)), state

    def to(self, sid: int) -> Schedule:
        return self.walk(sid)[0]

    def step_to(self, state: tuple, sid: int) -> tuple:
        """``((thread, picks), state after)``: the first step from ``state``
        to the state numbered ``sid``."""
        for t, picks, target in self.expand(state):
            if type(target) is tuple and self._number(target) == sid:
                return (t, picks), target
        raise InternalError("a stored edge of the state graph cannot be replayed")

    def first_step(self, state: tuple) -> tuple:
        """``((thread, picks), state after, its number)`` of the first step
        from ``state`` that does not fail."""
        for t, picks, target in self.expand(state):
            if type(target) is tuple:
                return (t, picks), target, self._number(target)
        raise InternalError("a livelocked state has no step")


def _livelock(program, paths: PackedPaths, first) -> Violation:
    """The schedule to the cycle and the cycle: from the first livelocked
    state, follow first steps until a state repeats (as explore.search)."""
    schedule, state = paths.walk(first)
    seen: dict = {}
    steps = []
    sid = first
    while sid not in seen:
        seen[sid] = len(steps)
        step, state, sid = paths.first_step(state)
        steps.append(step)
    k = seen[sid]
    for step in steps[:k]:
        schedule = schedule.extend(step)
    return Violation("livelock", "livelock", "", schedule, Schedule((), tuple(steps[k:])))
