"""The full state graph of a program: every state and every step, for drawing.

The verdict search (``explore.search``) keeps as little as it can: reduced
successors, merged dead values, parent pointers. This module does the
opposite, for a person who wants to *see* the interleavings: a plain
breadth-first search with no reduction and no merging, which records every
reachable state, every step between two states, and every step that fails.
It returns plain data (tuples and named tuples); ``report.graph`` turns it
into networkx, DOT or GraphML.

Each state node has one class, the first that applies in this order:

    frontier    not expanded (the graph reached ``max_states`` first),
                although some thread could still run
    violating   an invariant is false (or cannot be evaluated); or all
                threads have finished and a final check is false; or a
                step out of this state fails (assert, run-time error)
    deadlock    some thread has not finished and none can run (unless the
                scenario says ``deadlock: allowed``: then the state is
                classed as if it were not stuck)
    initial     an initial state
    finished    every thread has finished
    ordinary    anything else

``Node.problems`` lists everything a state violates (a deadlocked state can
violate an invariant too); the class only says which colour to draw it.

A step that fails has no successor state; it is drawn as an edge to a
*failure node*, one per distinct failure (kind and message), shared by all
the steps that fail that way. When the local-only code at the start of a
thread fails while the initial state is built, its failure node has no
incoming edge and ``initial`` set.

Size. ``state_graph`` never returns None. When the graph has more than
``max_states`` states, the search stops before expanding the first state
whose successors would pass the bound: the graph returned holds the first
``max_states`` (or fewer) states in breadth-first order, with ``complete``
False (a caller should say so: "the state graph has more than N states;
the first M are drawn"), and every state left unexpanded is a *frontier*
node with no outgoing edges (unless it is finished or stuck: then it has
no successors to miss). The graph is therefore always a true subgraph of
the full one: every edge drawn exists, every non-frontier node has all its
edges. A frontier node's ``problems`` still lists what it violates itself
(invariants), but not the failing steps out of it, which were not tried.

    #0 initial --reclaim: folio_trylock(folio)--> #1 ordinary --> ...
        |
        +--writeback: check--> #2 violating --writeback: assert--> failure (assert: ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from racecheck.model.program import USER_ERRORS, InitialFailure, Program, PropertyError
from racecheck.scenario.values import AssertFailed

DEFAULT_MAX_STATES = 5000
CLASSES = ("initial", "violating", "deadlock", "finished", "frontier", "ordinary", "failure")


class Node(NamedTuple):
    id: int
    cls: str                  # one of CLASSES
    state: tuple | None       # None for a failure node
    initial: bool
    problems: tuple           # ("invariant NAME", "final NAME", "deadlock", "assert: MSG", "error: MSG", ...)
    failure: tuple | None     # a failure node's (kind, message): kind is "assert" or "error"


class Edge(NamedTuple):
    src: int
    dst: int
    thread: str               # thread instance name
    picks: tuple              # choose() alternatives taken, () when none
    step: str                 # text of the instruction at the thread's pc in src


class ThreadInfo(NamedTuple):
    """What a report needs to describe a thread's part of a state."""

    name: str
    pc_slot: int
    local_slots: tuple        # ((name, slot), ...)
    steps: tuple              # instruction text per pc; pc == len(steps): finished


@dataclass(frozen=True)
class StateGraph:
    title: str
    shared_names: tuple       # the first len(shared_names) slots of a state
    threads: tuple            # ThreadInfo per thread instance
    nodes: tuple              # state nodes (ids 0..states-1, BFS order), then failure nodes
    edges: tuple
    states: int               # number of state nodes
    complete: bool            # False: stopped at max_states; frontier nodes were not expanded
    max_states: int

    def node_class_counts(self) -> dict:
        counts = dict.fromkeys(CLASSES, 0)
        for node in self.nodes:
            counts[node.cls] += 1
        return counts


# -- the raw graph, shared with coverage and frequency ------------------------------

@dataclass
class RawGraph:
    """Every reachable state and step, as the search found them.

    ``out[i]`` lists the steps out of state ``i`` as ``(t, picks, target)``
    where ``target`` is a state id or the ``StepError`` the step raised
    (a failing ``await`` has picks ``()``); it is None for a state that was
    not expanded. ``initial`` holds ``(picks, id)`` per initial state and
    ``initial_failures`` ``(picks, StepError)`` per initial state that could
    not be built.
    """

    states: list
    out: list
    initial: list
    initial_failures: list
    complete: bool


def full_graph(program: Program, max_states: int) -> RawGraph:
    """Breadth-first over every interleaving, no reduction, at most ``max_states`` states."""
    states: list = []
    index: dict = {}
    out: list = []
    initial: list = []
    initial_failures: list = []
    for chooser, s in program.initial_states():
        if isinstance(s, InitialFailure):
            initial_failures.append((chooser.used(), s[0]))
            continue
        if s not in index:
            if len(states) >= max_states:
                return RawGraph(states, out, initial, initial_failures, False)
            index[s] = len(states)
            states.append(s)
            out.append(None)
        initial.append((chooser.used(), index[s]))
    expand = program.successors()
    sid = 0
    while sid < len(states):               # states grows while we walk it
        edges = []
        fresh: dict = {}                   # new states of this expansion -> their future ids
        for t, picks, s2 in expand(states[sid]):
            if type(s2) is tuple:
                dst = index.get(s2)
                if dst is None:
                    dst = fresh.setdefault(s2, len(states) + len(fresh))
                edges.append((t, picks, dst))
            else:
                edges.append((t, picks, s2))
        if len(states) + len(fresh) > max_states:
            return RawGraph(states, out, initial, initial_failures, False)
        for s2 in fresh:                   # in order of first appearance: ids match
            index[s2] = len(states)
            states.append(s2)
            out.append(None)
        out[sid] = edges
        sid += 1
    return RawGraph(states, out, initial, initial_failures, True)


def failure_kind(exc) -> tuple:
    """``(kind, message)`` of a failing step: kind ``assert`` or ``error``."""
    return ("assert" if isinstance(exc, AssertFailed) else "error", str(exc))


def state_problems(program: Program, s: tuple) -> list:
    """What ``s`` itself violates: invariants, and final checks when finished."""
    try:
        problems = [f"invariant {name}" for name in program.failing_invariants(s)]
        if program.finished(s):
            problems += [f"final {name}" for name in program.failing_finals(s)]
    except PropertyError as exc:
        return [f"error: {exc}"]
    return problems


# -- the graph for drawing ------------------------------------------------------------

def state_graph(program: Program, max_states: int = DEFAULT_MAX_STATES) -> StateGraph:
    """The full state graph, or its first ``max_states`` states (``complete`` False)."""
    raw = full_graph(program, max_states)
    names = [t.name for t in program.threads]
    failures: dict = {}                    # (kind, message) -> failure node id (offset later)
    failure_initial: set = set()
    edges = []
    step_problems: list = [[] for _ in raw.states]
    for sid, steps in enumerate(raw.out):
        for t, picks, target in steps or ():
            thread = program.threads[t]
            text = thread.instrs[raw.states[sid][thread.pc_slot]].text
            if type(target) is int:
                edges.append((sid, target, names[t], picks, text))
                continue
            key = failure_kind(target)
            fid = failures.setdefault(key, len(failures))
            edges.append((sid, -1 - fid, names[t], picks, text))
            step_problems[sid].append(f"{key[0]}: {key[1]}")
    for _, exc in raw.initial_failures:
        key = failure_kind(exc)
        failure_initial.add(failures.setdefault(key, len(failures)))
    initial = {sid for _, sid in raw.initial}
    n = len(raw.states)
    nodes = [_state_node(program, sid, s, sid in initial, raw.out[sid] is not None, step_problems[sid])
             for sid, s in enumerate(raw.states)]
    for (kind, message), fid in failures.items():
        nodes.append(Node(n + fid, "failure", None, fid in failure_initial, (f"{kind}: {message}",),
                          (kind, message)))
    edges = [Edge(src, dst if dst >= 0 else n - 1 - dst, thread, picks, text)
             for src, dst, thread, picks, text in edges]
    title = program.scenario.title + (f" (variant {program.variant.name})" if program.variant.name else "")
    return StateGraph(title, program.shared_names, _thread_infos(program), tuple(nodes), tuple(edges),
                      n, raw.complete, max_states)


def _state_node(program: Program, sid: int, s: tuple, initial: bool, expanded: bool, failing: list) -> Node:
    problems = state_problems(program, s) + _dedup(failing)
    finished = program.finished(s)
    stuck = False
    if not finished:
        try:
            stuck = not any(program.enabled(s, t) for t in range(len(program.threads)))
        except USER_ERRORS:
            stuck = False                  # a failing await: a failing step, not a deadlock
    if stuck and not program.deadlock_allowed:
        problems.append("deadlock")
    if not expanded and not finished and not stuck:
        cls = "frontier"
    elif any(p != "deadlock" for p in problems):
        cls = "violating"
    elif stuck and not program.deadlock_allowed:
        cls = "deadlock"
    elif initial:
        cls = "initial"
    elif finished:
        cls = "finished"
    else:
        cls = "ordinary"
    return Node(sid, cls, s, initial, tuple(problems), None)


def _dedup(items: list) -> list:
    return list(dict.fromkeys(items))


def _thread_infos(program: Program) -> tuple:
    return tuple(ThreadInfo(t.name, t.pc_slot, t.local_slots, tuple(i.text for i in t.instrs))
                 for t in program.threads)
