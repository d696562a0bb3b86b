"""Enumerate the executions of thread code under the Linux-kernel memory
model, as herd7 and GenMC do: one execution per choice of reads-from and
coherence order, each kept when linux-kernel.cat accepts it.

Threads are functions returning generators that yield ``lkmm_events``
operations and are sent the values read (see ``model.lkmm_events``). The
search has three phases:

1. values: each location's possible values, a fixed point. Every read may
   return any value its location holds so far; the writes of every thread
   run add values; repeat until nothing new appears (at most one round per
   write the threads can make, and ``max_rounds``), which covers every
   value a chain of reads-from can carry. A value computed along a chain
   of k writes appears in round k, and no execution holds more writes
   than the threads' longest runs together, so the rounds stop there too
   (``x = x + 1`` in a loop of reads-from would otherwise grow forever;
   values beyond that bound could only come out of thin air).
2. runs: each thread's runs, one per sequence of values its reads return
   (a depth-first search that replays the generator from the start with a
   prefix of choices). A run is the thread's events with their values and
   dependencies, and its final registers.
3. graphs: for every combination of one run per thread, and for every
   location independently, every coherence order of its writes (initial
   write first) and every reads-from choice that matches values; the two
   per-location axioms (coherence, atomic) are checked per location here,
   which is exact because they only relate events of one location, so a
   location's choice that fails them is dropped before the cross product.
   Each combination of surviving location choices is a candidate
   execution, and ``lkmm.check`` runs the rest of the model on it.

No candidate is produced twice: runs differ in the value of some read, so
they differ in its reads-from; and within one combination every candidate
has its own rf/co choice. Spinlocks follow lock.cat: the critical sections
of each lock are ordered in every way (co), each LKR reads from the write
just before its LKW (the previous UL, or the initial write), at most one
LKW per lock may lack its unlock and it comes last, and a thread that takes
a lock it holds deadlocks (no execution).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace

from racecheck.model import lkmm
from racecheck.model.lkmm_events import (Event, Fence, IsLocked, Load, Lock, Rmw, Store, Stuck, SyncSrcu, TryLock,
                                         Unlock, Val, rmw_result)
from racecheck.model.lkmm_rel import Rel

DEFAULT_MAX_RUNS = 200_000            # thread runs in all, phase 2
DEFAULT_MAX_CANDIDATES = 2_000_000    # candidate executions, phase 3


class TooBig(Exception):
    """A bound on runs or candidates was hit; the answer would be partial."""


@dataclass(frozen=True)
class ThreadRun:
    """One run of one thread: its events (``eid`` unset), its final
    registers, and the rmw pairs among its events (keys)."""

    events: tuple
    regs: dict
    rmw: tuple


@dataclass(frozen=True)
class Execution:
    """A consistent execution: the graph, its final registers (keyed by
    (thread, name)) and memory, and the data races flagged in it."""

    graph: lkmm.Graph
    regs: dict
    memory: dict
    races: tuple


@dataclass
class Exploration:
    """The consistent executions, and what was counted on the way."""

    executions: list = field(default_factory=list)
    candidates: int = 0
    rejected: dict = field(default_factory=dict)     # axiom -> candidates it rejected
    runs: int = 0


# -- phase 1 and 2: values and thread runs ------------------------------------------

def explore(threads, init: dict, max_runs: int = DEFAULT_MAX_RUNS,
            max_candidates: int = DEFAULT_MAX_CANDIDATES, max_rounds: int = 64,
            prune: bool = True, max_replays: int = DEFAULT_MAX_CANDIDATES, progress=None) -> Exploration:
    """Every consistent execution of ``threads`` (functions returning
    generators) from the memory ``init`` (location -> value; absent
    locations start at 0). ``prune=False`` skips the per-location check
    of phase 3, so that every rf/co choice reaches the whole model: the
    same executions, more candidates (tests compare the two).
    ``max_replays`` bounds the thread code runs of phases 1 and 2 in all
    (every round, every thread, stuck and partial runs included): the
    rounds can multiply them where values grow from round to round.
    ``progress``: an object with ``every`` (seconds) and ``say(text)``,
    told how far the enumeration is at most that often."""
    domains = {loc: {value} for loc, value in init.items()}
    pulse = Pulse(progress)
    budget = Budget(max_replays, pulse)
    for rounds in range(1, max_rounds + 1):
        budget.round = rounds
        runs = [thread_runs(tid, program, domains, max_runs, budget) for tid, program in enumerate(threads)]
        if not _grow(domains, runs) or rounds > _max_writes(runs):
            break
    initial = {loc: init.get(loc, 0) for loc in domains}
    return _graphs(runs, initial, max_candidates, prune, pulse)


class Budget:
    """The runs of thread code the enumeration of runs may still try, over
    every round and thread."""

    def __init__(self, bound: int, pulse):
        self.bound, self.spent, self.pulse, self.round = bound, 0, pulse, 0

    def spend(self) -> None:
        self.spent += 1
        self.pulse(lambda: f"round {self.round} of thread runs: {self.spent:,} runs of thread code tried")
        if self.spent > self.bound:
            raise TooBig(f"more than {self.bound} runs of thread code while enumerating the threads' "
                         "runs (values that grow from round to round multiply them)")


class Pulse:
    """How far an enumeration is, told to ``progress`` (None: to no one)
    at most every ``progress.every`` seconds."""

    def __init__(self, progress):
        self.progress = progress
        self.start = self.last = time.monotonic()
        self.round = 0

    def __call__(self, what) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self.last >= self.progress.every:
            self.last = now
            self.progress.say(f"{what()}, {now - self.start:.0f} s")


def _max_writes(runs) -> int:
    """The most writes one execution can hold: a value needs at most that
    many rounds, one per write on the rf chain it was computed along."""
    return sum(max((sum(e.kind == "W" for e in run.events) for run in thread), default=0)
               for thread in runs)


def _grow(domains: dict, runs) -> bool:
    grown = False
    for thread in runs:
        for run in thread:
            for e in run.events:
                if e.loc is not None and e.loc not in domains:       # locks too: they need an IW
                    domains[e.loc] = {0}
                    grown = True
                if e.kind in ("W", "R") and e.value not in domains[e.loc]:
                    domains[e.loc].add(e.value)
                    grown = True
    return grown


def thread_runs(tid: int, program, domains: dict, max_runs: int = DEFAULT_MAX_RUNS,
                budget: Budget | None = None) -> list:
    """Every run of one thread when its reads return values from
    ``domains`` (location -> set of values; a location not there holds 0).
    ``budget``: shared by the caller's rounds and threads."""
    runs, stack = [], [()]
    while stack:
        choices = stack.pop()
        if budget is not None:
            budget.spend()
        try:
            outcome = _replay(tid, program, choices, domains)
        except Stuck:
            continue
        if isinstance(outcome, ThreadRun):
            runs.append(outcome)
            if len(runs) > max_runs:
                raise TooBig(f"thread P{tid} has more than {max_runs} runs")
        else:
            stack.extend(choices + (value,) for value in reversed(outcome))
    return runs


def _replay(tid: int, program, choices: tuple, domains: dict):
    """Run the thread with ``choices`` as the values of its first reads:
    a ThreadRun, or the options of the first read past the choices."""
    gen = program()
    builder = _RunBuilder(tid)
    sent, reads = None, 0
    try:
        while True:
            op = gen.send(sent)
            options = builder.options(op, domains)
            if options is None:
                sent = builder.issue(op, None)
                continue
            if reads == len(choices):
                return options
            sent = builder.issue(op, choices[reads])
            reads += 1
    except StopIteration as stop:
        return ThreadRun(tuple(builder.events), dict(stop.value or {}), tuple(builder.rmw))


class _RunBuilder:
    """Turns a thread's operations into its events."""

    def __init__(self, tid: int):
        self.tid = tid
        self.events, self.rmw = [], []

    def options(self, op, domains: dict):
        """The values a reading operation may return, or None."""
        if isinstance(op, (Load, Rmw)):
            return sorted(domains.get(op.loc, {0}), key=_order)
        if isinstance(op, (IsLocked, TryLock)):
            return [0, 1]
        return None

    def add(self, kind: str, op, value=None, tags=frozenset(), data=frozenset(), rmw_instr=False) -> tuple:
        key = (self.tid, len(self.events))
        loc = None if kind == "F" else op.loc
        tags = frozenset({op.loc}) if kind == "F" else tags
        if isinstance(op, SyncSrcu):                      # the one fence with a location
            kind, loc, tags = "F", op.loc, frozenset({"sync-srcu"})
        self.events.append(Event(key, kind, loc, value, tags, rmw_instr, op.addr, data, op.ctrl,
                                 op.label, op.line))
        return key

    def issue(self, op, value):
        """Record ``op``'s events; the Val the thread is sent back."""
        if isinstance(op, Load):
            return Val(value, frozenset({self.add("R", op, value, op.tags)}))
        if isinstance(op, Store):
            self.add("W", op, op.value.value, op.tags, op.value.deps)
            return None
        if isinstance(op, (Fence, SyncSrcu)):
            self.add("F", op)
            return None
        if isinstance(op, Rmw):
            new = rmw_result(op, value)
            if new is not None and op.mb:
                self.add("F", Fence("mb", ctrl=op.ctrl, label=op.label, line=op.line))
            read = self.add("R", op, value, op.read_tags, rmw_instr=True)
            if new is not None:
                write = self.add("W", op, new, op.write_tags, op.operand.deps, rmw_instr=True)
                self.rmw.append((read, write))
                if op.mb:
                    self.add("F", Fence("mb", ctrl=op.ctrl, label=op.label, line=op.line))
            return Val(value, frozenset({read}))
        if isinstance(op, Lock) or isinstance(op, TryLock) and value == 1:
            read = self.add("LKR", op)
            self.add("LKW", op)
            return Val(1, frozenset({read}))
        if isinstance(op, TryLock):
            return Val(0, frozenset({self.add("LF", op)}))
        if isinstance(op, Unlock):
            self.add("UL", op)
            return None
        if isinstance(op, IsLocked):
            return Val(value, frozenset({self.add("RL" if value else "RU", op)}))
        raise TypeError(f"thread code yielded {op!r}, not an LKMM operation")


def _order(value):
    return (isinstance(value, str), str(value) if isinstance(value, str) else value)


# -- phase 3: candidate executions ------------------------------------------------

def _graphs(runs, initial: dict, max_candidates: int, prune: bool, pulse=None) -> Exploration:
    result = Exploration(runs=sum(len(r) for r in runs))
    pulse = pulse or Pulse(None)
    for combo in itertools.product(*runs):
        events, rmw_keys = _number(combo, initial)
        n = len(events)
        base = lkmm.Base(events)
        eid = {e.key: e.eid for e in events}
        rmw = Rel.of_pairs(n, ((eid[a], eid[b]) for a, b in rmw_keys))
        keep = (lambda rf, co, r: lkmm.location_consistent(base, rf, co, r) is None) if prune else \
            (lambda rf, co, r: True)
        per_loc = [_location_choices(base, events, loc, rmw, keep) for loc in sorted(initial)]
        if any(not choices for choices in per_loc):
            continue
        for parts in itertools.product(*per_loc):
            result.candidates += 1
            pulse(lambda: f"{result.candidates:,} candidate executions, {len(result.executions):,} consistent")
            if result.candidates > max_candidates:
                raise TooBig(f"more than {max_candidates} candidate executions")
            rf = _union(n, (p[0] for p in parts))
            co = _union(n, (p[1] for p in parts))
            full_rmw = _union(n, [rmw] + [p[2] for p in parts])
            graph = lkmm.Graph(events, rf, co, full_rmw)
            verdict = lkmm.check(graph, base)
            if not verdict.consistent:
                result.rejected[verdict.failed] = result.rejected.get(verdict.failed, 0) + 1
                continue
            regs = {(tid, name): value for tid, run in enumerate(combo) for name, value in run.regs.items()}
            result.executions.append(Execution(graph, regs, _memory(graph, initial), verdict.races))
    return result


def _number(combo, initial: dict):
    """The events of one run per thread with initial writes first, each
    given its ``eid``; and the rmw pairs (keys)."""
    events = [Event((-1, i), "W", loc, initial[loc]) for i, loc in enumerate(sorted(initial))]
    rmw = []
    for run in combo:
        events.extend(run.events)
        rmw.extend(run.rmw)
    return tuple(replace(e, eid=i) for i, e in enumerate(events)), rmw


def _union(n: int, rels) -> Rel:
    out = Rel.empty(n)
    for rel in rels:
        out = out | rel
    return out


def _memory(graph: lkmm.Graph, initial: dict) -> dict:
    """Each location's final value: its co-last plain or marked write."""
    memory = dict(initial)
    for e in graph.events:
        if e.kind == "W" and not graph.co.rows[e.eid]:
            memory[e.loc] = e.value
    return memory


def _location_choices(base: lkmm.Base, events, loc: str, rmw: Rel, keep) -> list:
    """Every (rf, co, extra rmw) choice for one location that ``keep``
    accepts (the per-location axioms, when pruning)."""
    here = [e for e in events if e.loc == loc and e.kind != "F"]
    if any(e.kind in ("LKR", "LKW", "UL", "LF", "RL", "RU") for e in here):
        return _lock_choices(base, here, rmw, keep)
    n = len(events)
    init = next(e for e in here if e.is_init)
    writes = [e for e in here if e.kind == "W" and not e.is_init]
    reads = [e for e in here if e.kind == "R"]
    sources = [[w for w in [init] + writes if w.value == r.value] for r in reads]
    out = []
    for order in itertools.permutations(writes):
        co = _chain(n, [init] + list(order))
        for choice in itertools.product(*sources):
            rf = Rel.of_pairs(n, ((w.eid, r.eid) for w, r in zip(choice, reads)))
            if keep(rf, co, rmw):
                out.append((rf, co, Rel.empty(n)))
    return out


def _chain(n: int, order) -> Rel:
    """The strict total order listing ``order``."""
    return Rel.of_pairs(n, ((a.eid, b.eid) for i, a in enumerate(order) for b in order[i + 1:]))


def _lock_choices(base: lkmm.Base, here, rmw: Rel, keep) -> list:
    """lock.cat for one lock: every order of its critical sections."""
    n = base.n
    init = next(e for e in here if e.is_init)
    by_thread = {}
    for e in here:
        if not e.is_init:
            by_thread.setdefault(e.tid, []).append(e)
    if any(e.kind in ("R", "W") and not e.is_init for e in here):
        return []                                  # mixed-lock-accesses: not modelled
    sections, lk_rmw = [], []                       # (LKW, its UL or None)
    for evs in by_thread.values():
        evs.sort(key=lambda e: e.key)
        held = None
        for i, e in enumerate(evs):
            if e.kind in ("LKR", "RU") and held is not None:
                return []                           # lock-nest, nested-is-locked: no execution
            if e.kind == "LKR":
                lk_rmw.append((e, evs[i + 1]))
                held = evs[i + 1]
            elif e.kind == "UL":
                if held is None:
                    return []                       # unmatched-unlock: not modelled
                sections.append((held, e))
                held = None
        if held is not None:
            sections.append((held, None))
    unmatched = [s for s in sections if s[1] is None]
    if len(unmatched) > 1:
        return []                                   # unmatched-locks: more than one deadlocks
    matched = [s for s in sections if s[1] is not None]
    lkr_of = {lkw.eid: lkr for lkr, lkw in lk_rmw}
    extra_rmw = Rel.of_pairs(n, ((r.eid, w.eid) for r, w in lk_rmw))
    out = []
    for order in itertools.permutations(matched):
        order = list(order) + unmatched
        chain = [init]
        for lkw, ul in order:
            chain += [lkw] + ([ul] if ul else [])
        co = _chain(n, chain)
        lk_rf = [(chain[chain.index(lkw) - 1], lkr_of[lkw.eid]) for lkw, _ in order]
        for rf_pairs in _lock_reads(here, by_thread, init):
            rf = Rel.of_pairs(n, ((w.eid, r.eid) for w, r in lk_rf + rf_pairs))
            if keep(rf, co, rmw | extra_rmw):
                out.append((rf, co, extra_rmw))
    return out


def _lock_reads(here, by_thread, init):
    """rf choices for spin_is_locked and failed spin_trylock (lock.cat's
    rf-lf, with RL counted in LF, and rf-ru): lists of (write, read)
    pairs, one write per read."""
    options = []
    for e in here:
        if e.kind not in ("LF", "RL", "RU"):
            continue
        own = sorted(by_thread[e.tid], key=lambda x: x.key)
        before = [x for x in own if x.key < e.key and x.kind in ("LKW", "UL")]
        last = before[-1] if before else None
        others = [x for x in here if not x.is_init and x.tid != e.tid]
        if e.kind in ("LF", "RL"):
            if last is not None and last.kind == "LKW":          # rfi-lf
                options.append([(last, e)])
            else:                                                 # rfe-lf: an external LKW
                options.append([(w, e) for w in others if w.kind == "LKW"])
        else:
            # possible-rf-ru: the last po-earlier UL, or an external UL or IW
            internal = [(last, e)] if last is not None and last.kind == "UL" else []
            options.append(internal + [(w, e) for w in [init] + others if w.kind == "UL" or w.is_init])
    for combo in itertools.product(*options):
        yield list(combo)
