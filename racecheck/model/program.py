"""A ``Program``: one variant of a scenario, ready to explore.

The program flattens each thread's step tree into a list of instructions
indexed by program counter (pc) and compiles their code for each thread
instance. It answers the questions a search asks, and nothing else:

* ``initial_states()``  the states before any thread has run;
* ``enabled(s, t)``     can thread instance ``t`` take a step in state ``s``;
* ``execute(s, t, ch)`` the state after that step (pure: ``s`` is unchanged);
* ``check_invariants(s)`` / ``check_finals(s)``  the names that fail.

Atomicity, as the format defines it: a transition of a thread runs one
instruction that touches shared state (or has ``await``), then every
following instruction that touches only the thread's locals and params, up
to the next scheduling point. The local-only instructions at the start of a
thread run as part of the initial state. Each instruction still has its own
pc, so traces can show every row in its place::

    pc 0  folio_test_dirty(folio)   <- scheduling point (reads folio)
    pc 1  if (dirty)                   runs in the same transition
    pc 2  folio_clear_dirty_for_io  <- next scheduling point
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

from racecheck.errors import InternalError, Pos
from racecheck.model import accesscheck
from racecheck.model.compile import Names, Unit
from racecheck.model.runtime import Chooser, LocalExits
from racecheck.scenario import schema as S
from racecheck.scenario.values import StepError

ACTION, BRANCH = 0, 1
MAX_LOCAL_STEPS = 10_000    # local-only instructions in one transition
MAX_LOCAL_STATES = 10_000   # local states the local-only loop of one transition may reach
USER_ERRORS = (StepError, TypeError, ValueError, IndexError, ZeroDivisionError,
                OverflowError, RecursionError)


@dataclass(frozen=True)
class Instr:
    """One instruction of a thread: an action step, or a branch/loop test."""

    pc: int
    kind: int
    text: str
    shared: bool              # a scheduling point: other threads may run before it
    calls: tuple              # enclosing call groups: ((call id, call text), ...)
    pos: Pos
    code_pos: Pos | None
    has_await: bool
    node: object              # the schema node it came from
    succ: tuple               # the pcs control can go to next


@dataclass(frozen=True)
class Thread:
    """One thread instance (``reclaim#1`` for the second of two copies)."""

    index: int
    name: str
    base: str
    copy: int
    title: str
    pc_slot: int
    local_slots: tuple        # ((name, slot), ...)
    instrs: tuple
    end: int                  # the pc of a finished thread
    guards: tuple             # per pc: g(s) or None
    runs: tuple               # per pc: a(v, ch) -> next pc
    traced: tuple             # per pc: t(v, ch, log) -> next pc
    entry: int
    stops: tuple              # per pc: True where a transition stops (shared, or end)
    chooses: tuple            # per pc: the transition from pc may call choose()
    loops: tuple              # per pc: local-only steps run from pc may loop and call choose()
    checked_guards: tuple = ()    # checking mode only: per pc, g(s) recording accesses
    checked_runs: tuple = ()      # checking mode only: per pc, a(v, ch) recording accesses


class Program:
    def __init__(self, scenario: S.Scenario, variant: S.Variant, check_accesses: bool | None = None):
        """``check_accesses``: run every step, guard and property also as
        checked code and fail on an access outside the computed masks
        (``model.accesscheck``); None: as the environment says."""
        self.check_accesses = accesscheck.wanted() if check_accesses is None else check_accesses
        self.scenario = scenario
        self.variant = variant
        self.params = dict(variant.params)
        self.shared_names = tuple(name for name, _ in scenario.state)
        self.shared_count = len(self.shared_names)
        self.slot_names: list = list(self.shared_names)
        self.threads = tuple(self._threads())
        self.invariants = self._properties(scenario.invariants)
        self.finals = self._properties(scenario.finals)
        self.deadlock_allowed = scenario.deadlock_allowed
        self.livelock_allowed = scenario.livelock_allowed
        self.may_cycle = any(_has_backward_jump(t) for t in self.threads)
        self._exits_seen: dict = {}     # a cache for local_exits (a pure function)
        self.checker = None
        if self.check_accesses:
            self._install_checks()

    # -- building ---------------------------------------------------------
    def _threads(self):
        index = 0
        for tdef in self.scenario.threads:
            instrs, entry = _flatten(tdef)
            for copy in range(tdef.copies):
                name = tdef.name if tdef.copies == 1 else f"{tdef.name}#{copy}"
                yield self._instance(index, name, tdef, copy, instrs, entry)
                index += 1

    def _instance(self, index, name, tdef, copy, flat, entry) -> Thread:
        pc_slot = len(self.slot_names)
        self.slot_names.append(f"{name}.pc")
        local_slots = []
        for lname, _ in tdef.locals:
            local_slots.append((lname, len(self.slot_names)))
            self.slot_names.append(f"{name}.{lname}")
        slots = {n: i for i, n in enumerate(self.shared_names)}
        slots.update(local_slots)
        names = Names(slots, self.params, copy, frozenset(n for n, _ in tdef.locals))
        unit = Unit(names, f"<racecheck {tdef.pos.file} thread {name}>")
        instrs = []
        for item in flat:
            instrs.append(self._emit(unit, item, len(flat)))
        ns = unit.compile(self.params)
        end = len(flat)
        checked = {}
        if self.check_accesses:
            cunit = Unit(names, f"<racecheck {tdef.pos.file} thread {name}, checked>", checked=True)
            for item in flat:
                self._emit(cunit, item, len(flat))
            checked = cunit.compile(self.params)
        guards = tuple(ns.get(f"g{i}") for i in range(end)) + (None,)
        runs = tuple(ns[f"a{i}"] for i in range(end)) + (None,)
        traced = tuple(ns[f"t{i}"] for i in range(end)) + (None,)
        stops = tuple(instr.shared for instr in instrs) + (True,)
        return Thread(index, name, tdef.name, copy, tdef.title, pc_slot, tuple(local_slots),
                      tuple(instrs), end, guards, runs, traced, entry, stops, _chooses(instrs, stops),
                      _loops(instrs, stops),
                      tuple(checked.get(f"g{i}") for i in range(end)) if checked else (),
                      tuple(checked[f"a{i}"] for i in range(end)) if checked else ())

    def _emit(self, unit: Unit, item, end: int) -> Instr:
        pc, node, links, calls = item
        shared_names = set(self.shared_names)
        if isinstance(node, S.Action):
            code = node.do
            touched = set(code.names) if code else set()
            if node.await_ is not None:
                unit.guard(f"g{pc}", node.await_)
            shared = node.await_ is not None or bool(touched & shared_names)
            for traced, prefix in ((False, "a"), (True, "t")):
                unit.action(f"{prefix}{pc}", code, links["next"], links["ret"], traced)
            code_pos = code.pos if code else (node.await_.pos if node.await_ else None)
            succ = (links["next"], links["ret"]) if code is not None and code.has_return else (links["next"],)
            return Instr(pc, ACTION, node.text, shared, calls, node.pos, code_pos,
                         node.await_ is not None, node, succ)
        shared = bool(set(node.cond.names) & shared_names)
        for traced, prefix in ((False, "a"), (True, "t")):
            unit.branch(f"{prefix}{pc}", node.cond, links["then"], links["else"], traced)
        return Instr(pc, BRANCH, node.text, shared, calls, node.pos, node.cond.pos, False, node,
                     (links["then"], links["else"]))

    def _properties(self, props, checked: bool = False) -> tuple:
        if not props:
            return ()
        slots = {n: i for i, n in enumerate(self.shared_names)}
        unit = Unit(Names(slots, self.params), f"<racecheck {self.scenario.path} properties>", checked=checked)
        for i, prop in enumerate(props):
            unit.guard(f"p{i}", prop.code)
        ns = unit.compile(self.params)
        return tuple((prop, ns[f"p{i}"]) for i, prop in enumerate(props))

    def _install_checks(self) -> None:
        """Checking mode: wrap guards and properties (steps: ``steppers``)."""
        checker = self.checker = accesscheck.AccessChecker(self, USER_ERRORS, as_step_error)
        self.threads = tuple(
            replace(t, guards=tuple(None if g is None else checker.guard(t, pc, g, t.checked_guards[pc])
                                    for pc, g in enumerate(t.guards[:-1])) + (None,))
            for t in self.threads)
        checked = self._properties(self.scenario.invariants, checked=True)
        self.invariants = tuple((prop, checker.invariant(k, prop, fn, checked[k][1]))
                                for k, (prop, fn) in enumerate(self.invariants))
        checked = self._properties(self.scenario.finals, checked=True)
        self.finals = tuple((prop, checker.final(prop, fn, checked[k][1]))
                            for k, (prop, fn) in enumerate(self.finals))

    # -- questions a search asks -------------------------------------------
    def initial_states(self):
        """Yield ``(choices, state)`` for each initial state.

        The base state holds the declared values with every thread at its
        entry; each thread's leading local-only instructions then run, and
        a ``choose()`` among them gives one initial state per alternative.
        """
        base = self.base_state()
        plan = []
        while plan is not None:
            chooser = Chooser(plan)
            yield chooser, self.run_prefixes(base, chooser)
            plan = chooser.next_plan()

    def base_state(self) -> tuple:
        """Declared values, every thread at its entry, before any code runs."""
        base = [value for _, value in self.scenario.state]
        defs = {t.name: t for t in self.scenario.threads}
        for thread in self.threads:
            base.append(thread.entry)
            base.extend(value for _, value in defs[thread.base].locals)
        return tuple(base)

    def run_prefixes(self, base: tuple, chooser: Chooser, log=None):
        """Run each thread's leading local-only steps (part of the initial state)."""
        v = list(base)
        try:
            for thread in self.threads:
                if log is not None:
                    log.append(("thread", thread.index))
                v[thread.pc_slot] = self._run_locals(thread, v, thread.entry, chooser, log)
        except USER_ERRORS as exc:
            return _failure(exc)
        return tuple(v)

    def enabled(self, s: tuple, t: int) -> bool:
        thread = self.threads[t]
        pc = s[thread.pc_slot]
        if pc == thread.end:
            return False
        guard = thread.guards[pc]
        return guard is None or bool(guard(s))

    def finished(self, s: tuple) -> bool:
        return all(s[t.pc_slot] == t.end for t in self.threads)

    def steppers(self) -> tuple:
        """Per thread, a fast ``step(s, chooser) -> state`` for the search.

        Same as ``execute`` without logging, and its exceptions are not
        converted: the caller catches ``USER_ERRORS`` and calls
        ``as_step_error``.
        """
        if self.checker is not None:
            return tuple(self.checker.stepper(t, self._stepper(t), self._run_locals) for t in self.threads)
        return tuple(self._stepper(t) for t in self.threads)

    def _stepper(self, thread: Thread):
        runs, stops, slot = thread.runs, thread.stops, thread.pc_slot
        run_locals = self._run_locals

        def step(s, chooser):
            v = list(s)
            pc = runs[s[slot]](v, chooser)
            if not stops[pc]:
                pc = run_locals(thread, v, pc, chooser, None)
            v[slot] = pc
            return tuple(v)
        return step

    def successors(self):
        """A function ``s -> [(t, picks, next state or StepError), ...]``: every
        step out of ``s``, one per thread that can run and per choose()
        alternative; a failing step (or a failing await) gives its error."""
        steppers = self.steppers()
        threads = [(t, th.pc_slot, th.end, th.guards, th.chooses) for t, th in enumerate(self.threads)]

        def expand(s: tuple) -> list:
            result = []
            for t, slot, end, guards, chooses in threads:
                pc = s[slot]
                if pc == end:
                    continue
                guard = guards[pc]
                if guard is not None:
                    try:
                        if not guard(s):
                            continue
                    except USER_ERRORS as exc:        # the await itself fails
                        result.append((t, (), as_step_error(exc)))
                        continue
                step = steppers[t]
                chooser = Chooser() if chooses[pc] else None
                while True:
                    try:
                        target = step(s, chooser)
                    except USER_ERRORS as exc:
                        target = as_step_error(exc)
                    result.append((t, chooser.used() if chooser else (), target))
                    if chooser is None:
                        break
                    plan = chooser.next_plan()
                    if plan is None:
                        break
                    chooser = Chooser(plan)
            return result
        return expand

    def execute(self, s: tuple, t: int, chooser: Chooser, log=None) -> tuple:
        """Run thread ``t``'s next transition; raise ``StepError`` if its code fails."""
        thread = self.threads[t]
        v = list(s)
        pc = s[thread.pc_slot]
        try:
            if log is None:
                pc = thread.runs[pc](v, chooser)
            else:
                log.append(("row", pc))
                pc = thread.traced[pc](v, chooser, log)
            pc = self._run_locals(thread, v, pc, chooser, log)
        except USER_ERRORS as exc:
            raise as_step_error(exc) from None
        v[thread.pc_slot] = pc
        return tuple(v)

    def _run_locals(self, thread: Thread, v: list, pc: int, chooser, log) -> int:
        instrs, end = thread.instrs, thread.end
        stuck = None
        if chooser is not None and thread.loops[pc]:
            exits = self.local_exits(thread, pc, v)
            chooser.take(exits)
            if log is not None:
                log.extend(("reached", at) for at in sorted(exits.pcs))
            if exits.stuck:
                stuck, slots = exits.stuck, [slot for _, slot in thread.local_slots]
        steps = 0
        while pc != end and not instrs[pc].shared:
            if stuck is not None and (pc, tuple(v[slot] for slot in slots)) in stuck:
                raise StepError(exits.message)
            steps += 1
            if steps > MAX_LOCAL_STEPS:
                raise StepError(f"thread {thread.name} ran {MAX_LOCAL_STEPS} local-only steps without reaching "
                                "a step that touches shared state (a loop of local-only steps never ends)")
            if log is None:
                pc = thread.runs[pc](v, chooser)
            else:
                log.append(("row", pc))
                pc = thread.traced[pc](v, chooser, log)
        return pc

    def local_exits(self, thread: Thread, pc: int, v) -> LocalExits:
        """The ways out of the local-only steps that run from ``pc`` with
        the locals of ``v``, when they may loop and call choose(): each
        distinct place the run can leave them (a step that touches shared
        state, the end of the thread, or a step that fails), with the picks
        of one shortest run there; the first is where picking 0 every time
        leads, when that run leaves without coming back to a local state.

        The steps are explored as a graph of local states, so a loop that
        comes back to a state it has been in (a retry) is a cycle, not an
        endless unrolling. A run that keeps turning while a way out stays
        reachable is no way out; a local state from which none can be
        reached is ``LocalExits.stuck``, and a run that gets there fails.
        Raises ``StepError`` when more than ``MAX_LOCAL_STATES`` local
        states are reachable (the loop's locals grow without end). Cached:
        the answer depends only on the thread, ``pc`` and its locals."""
        key = (thread.index, pc, tuple(v[slot] for _, slot in thread.local_slots))
        found = self._exits_seen.get(key)
        if found is None:
            try:
                found = _explore_locals(thread, pc, list(v))
            except StepError as exc:
                found = exc
            if len(self._exits_seen) >= 4096:
                self._exits_seen.clear()
            self._exits_seen[key] = found
        if isinstance(found, StepError):
            raise StepError(str(found))
        return found

    def judge(self, s: tuple) -> tuple:
        """``(false invariants, false final checks, errors)`` in state ``s``:
        every property is evaluated, even when another cannot be (each
        failure to evaluate is a ``PropertyError`` in ``errors``). Final
        checks are judged only when every thread has finished."""
        errors: list = []
        invariants = self._false(self.invariants, s, errors)
        finals = self._false(self.finals, s, errors) if self.finals and self.finished(s) else []
        return invariants, finals, errors

    @staticmethod
    def _false(props, s: tuple, errors: list) -> list:
        names = []
        for prop, fn in props:
            try:
                if not _holds(fn, s, prop):
                    names.append(prop.name)
            except PropertyError as exc:
                errors.append(exc)
        return names

    def failing_invariants(self, s: tuple) -> list:
        return [prop.name for prop, fn in self.invariants if not _holds(fn, s, prop)]

    def failing_finals(self, s: tuple) -> list:
        return [prop.name for prop, fn in self.finals if not _holds(fn, s, prop)]

    def property(self, name: str):
        for prop, fn in self.invariants + self.finals:
            if prop.name == name:
                return prop, fn
        raise InternalError(f"no property named {name!r}")

    def thread_named(self, name: str):
        for thread in self.threads:
            if thread.name == name:
                return thread
        return None

    def param_live_pcs(self, t: int) -> frozenset:
        """The pcs of thread ``t`` that control can reach at all once branch
        and loop tests that read only params and ``tid`` are decided: code
        switched off by a variant's params is not in it."""
        thread = self.threads[t]
        constant = set(self.params) | {"tid"}
        live, stack = set(), [thread.entry]
        while stack:
            pc = stack.pop()
            if pc in live or pc == thread.end:
                continue
            live.add(pc)
            instr = thread.instrs[pc]
            cond = getattr(instr.node, "cond", None)
            if instr.kind == BRANCH and cond is not None and set(cond.names) <= constant:
                try:
                    stack.append(thread.runs[pc](list(self.base_state()), None))
                    continue
                except USER_ERRORS:
                    pass                      # fails at run time: both ways stay possible
            stack.extend(instr.succ)
        return frozenset(live)

    def locals_of(self, s: tuple, t: int) -> tuple:
        return tuple((name, s[slot]) for name, slot in self.threads[t].local_slots)


class PropertyError(StepError):
    """An invariant or final check failed to evaluate (not just false)."""

    def __init__(self, prop, message: str):
        super().__init__(message)
        self.prop = prop


def _holds(fn, s, prop) -> bool:
    try:
        return bool(fn(s))
    except USER_ERRORS as exc:
        raise PropertyError(prop, f"{prop.kind} '{prop.name}' cannot be evaluated: {as_step_error(exc)}") from None


class InitialFailure(tuple):
    """Marks an initial state whose local prefix failed (holds the error)."""


def _failure(exc) -> InitialFailure:
    return InitialFailure((as_step_error(exc),))


def as_step_error(exc) -> StepError:
    if isinstance(exc, StepError):
        return exc
    message = str(exc).replace("'tuple'", "'list'")
    return StepError(f"{type(exc).__name__}: {message}")


# -- flattening the step tree ---------------------------------------------------

class _Ref:
    """A jump target whose pc is known only once everything is laid out."""

    __slots__ = ("pc", "to")

    def __init__(self, pc=None):
        self.pc = pc
        self.to = None        # or another _Ref this one stands for


def _flatten(tdef: S.ThreadDef):
    """Lay out a thread's steps: returns ``([(pc, node, links, calls)], entry)``."""
    items: list = []
    labels: dict = {}
    end = _Ref()
    call_ids = iter(range(1_000_000))

    def block(steps, after: _Ref, ret: _Ref, calls: tuple) -> _Ref:
        refs = [_Ref() for _ in steps] + [after]
        for i, node in enumerate(steps):
            refs[i].to = one(node, refs[i + 1], ret, calls)
        return refs[0]

    def one(node, nxt: _Ref, ret: _Ref, calls: tuple) -> _Ref:
        if isinstance(node, S.Call):
            inner = calls + ((next(call_ids), node.text),)
            return block(node.body, nxt, nxt, inner)
        here = _Ref(len(items))
        item = [here.pc, node, {}, calls]
        items.append(item)
        if getattr(node, "label", None):
            labels[node.label] = here
        if isinstance(node, S.Action):
            item[2].update(next=nxt if node.goto is None else ("goto", node.goto), ret=ret)
        elif isinstance(node, S.Branch):
            then = block(node.then, nxt, ret, calls)
            orelse = block(node.orelse, nxt, ret, calls)
            item[2].update(then=then, **{"else": orelse})
        else:  # Loop
            body = block(node.body, here, ret, calls)
            item[2].update(then=body, **{"else": nxt})
        return here

    entry = block(tdef.steps, end, end, ())
    end.pc = len(items)
    flat = []
    for pc, node, links, calls in items:
        resolved = {}
        for key, ref in links.items():
            if isinstance(ref, tuple):
                ref = end if ref[1] == "end" else labels[ref[1]]
            resolved[key] = _resolve(ref)
        flat.append((pc, node, resolved, calls))
    return flat, _resolve(entry)


def _resolve(ref: _Ref) -> int:
    for _ in range(1_000_000):
        if ref.pc is not None:
            return ref.pc
        if ref.to is None:
            break
        ref = ref.to
    raise InternalError("unresolved jump target")


def _chooses(instrs, stops) -> tuple:
    """Per pc: may the transition starting there call choose()?"""
    own = [bool((getattr(i.node, "do", None) or getattr(i.node, "cond", None)) and
                (getattr(i.node, "do", None) or i.node.cond).has_choose) for i in instrs]
    result = list(own)
    changed = True
    while changed:
        changed = False
        for pc, instr in enumerate(instrs):
            if result[pc]:
                continue
            if any(succ < len(instrs) and not stops[succ] and result[succ] for succ in instr.succ):
                result[pc] = changed = True
    return tuple(result) + (False,)


def _loops(instrs, stops) -> tuple:
    """Per pc: can the local-only steps run from pc (pc included) loop,
    and does one of them call choose()? (``Program.local_exits`` then.)"""
    end = len(instrs)
    local = [pc for pc in range(end) if not stops[pc]]
    succ = {pc: [n for n in instrs[pc].succ if n < end and not stops[n]] for pc in local}
    own = {pc for pc in local if _calls_choose(instrs[pc])}
    result = []
    for pc in range(end):
        region, stack = set(), [pc] if not stops[pc] else []
        while stack:
            at = stack.pop()
            if at not in region:
                region.add(at)
                stack.extend(succ[at])
        result.append(bool(region & own) and _has_cycle(region, succ))
    return tuple(result) + (False,)


def _calls_choose(instr) -> bool:
    code = getattr(instr.node, "do", None)
    return code is not None and bool(code.has_choose)


def _has_cycle(region: set, succ: dict) -> bool:
    """Does the graph ``succ`` restricted to ``region`` have a cycle?"""
    state: dict = {}                  # pc -> 1 on the path, 2 done
    for root in region:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            at, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[at] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return True
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    return False


def _explore_locals(thread: Thread, pc: int, v: list) -> LocalExits:
    """``Program.local_exits`` without the cache; ``v`` is scratch.

    A node is ``(pc, locals)`` before a local-only step runs; a move runs
    that step with one combination of choose() picks. A node from which no
    way out can be reached any more is *stuck*: a run that gets there loops
    forever without touching shared state, which is an error (one way out,
    ``LocalExits.stuck``, leads to the first stuck node)."""
    slots = [slot for _, slot in thread.local_slots]
    runs, stops = thread.runs, thread.stops

    def moves(node):
        """``(picks, way out or None, node after or None)`` per choose() alternative."""
        chooser = Chooser()
        while True:
            for slot, value in zip(slots, node[1]):
                v[slot] = value
            try:
                after = runs[node[0]](v, chooser)
            except USER_ERRORS as exc:
                yield tuple(chooser.plan[:chooser.count]), ("error", node[0], str(as_step_error(exc))), None
            else:
                after = (after, tuple(v[i] for i in slots))
                yield tuple(chooser.plan[:chooser.count]), after if stops[after[0]] else None, after
            plan = chooser.next_plan()
            if plan is None:
                return
            chooser = Chooser(plan)

    # phase 1: every local state, breadth first
    start = (pc, tuple(v[i] for i in slots))
    parent = {start: None}            # node -> (node before, picks)
    first: dict = {}                  # node -> its move picking 0 every time
    before: dict = {start: []}        # node -> the nodes with a move to it
    depth = {start: 0}                # node -> the number of picks that lead there
    ends: dict = {}                   # way out -> (node, picks after it), in the order found
    leaves: list = []                 # the nodes with a move out
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for picks, out, after in moves(node):
            first.setdefault(node, (picks, out, after))
            if out is not None:
                if out not in ends:
                    ends[out] = (node, picks)
                if not leaves or leaves[-1] is not node:
                    leaves.append(node)
                continue
            if after not in parent:
                if len(parent) >= MAX_LOCAL_STATES:
                    raise StepError(_loop_message(thread, parent, f"reaches more than {MAX_LOCAL_STATES} "
                                                  "local states (its locals grow without end?)"))
                parent[after] = (node, picks)
                depth[after] = depth[node] + len(picks)
                before[after] = []
                queue.append(after)
            before[after].append(node)
    # phase 2: the stuck nodes (no way out can be reached from them)
    free, todo = set(leaves), list(leaves)
    while todo:
        for node in before[todo.pop()]:
            if node not in free:
                free.add(node)
                todo.append(node)
    stuck = frozenset(node for node in parent if node not in free)
    stuck_at = next((node for node in parent if node in stuck), None)
    message = None
    if stuck:
        message = _loop_message(thread, stuck, "can run forever without reaching a step that "
                                "touches shared state")
        ends["stuck"] = (stuck_at, ())
    # phase 3: way out 0 is where picking 0 every time leads, if that leaves
    node, walk, seen = start, [], {start}
    while True:
        if node in stuck:
            zero = "stuck"
            ends[zero] = (None, tuple(walk))
            break
        picks, out, after = first[node]
        walk.extend(picks)
        if out is not None:
            zero = out
            ends[zero] = (None, tuple(walk))
            break
        if after in seen:
            zero = None
            break
        seen.add(after)
        node = after
    order = ([zero] if zero is not None else []) + [out for out in ends if out != zero]
    return LocalExits([ends[out] for out in order], parent, depth, frozenset(node[0] for node in parent),
                      stuck, message)


def _loop_message(thread: Thread, nodes, what: str) -> str:
    """``thread NAME: the local-only loop at FILE:LINE (TEXT) WHAT``: the
    loop is named by the first step a backward jump among ``nodes`` goes to."""
    pcs = {node[0] for node in nodes}
    heads = [n for pc in pcs for n in thread.instrs[pc].succ if n <= pc and n in pcs]
    instr = thread.instrs[min(heads) if heads else min(pcs)]
    return (f"thread {thread.name}: the local-only loop at {instr.pos.file}:{instr.pos.line} "
            f"({instr.text}) {what}")


def _has_backward_jump(thread: Thread) -> bool:
    """True when some pc can lead to itself (a loop or a backward goto)."""
    for instr in thread.instrs:
        node = instr.node
        if isinstance(node, S.Loop):
            return True
        if isinstance(node, S.Action) and node.goto not in (None, "end"):
            return True
    return False
