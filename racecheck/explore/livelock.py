"""Livelock: a reachable state from which no ending can be reached.

An *ending* is a state where every thread has finished, a deadlock, or a
state with a failing step (an assert, a run-time error, a failing
``await``). After an exhaustive search that kept its edges, the states
that can reach an ending are found by backward reachability from the
ending states; what is left livelocks.

Under sleep sets the stored edges are not the whole ample sets (a
sleeping transition is not run), so a state that can end may have no
stored way to: such a state is only a *candidate*. Each candidate is
*completed* (``complete``: the search's function that runs its whole
ample set, or every enabled thread under the cycle proviso, and adds the
states it reaches that were not stored), and reachability is brought up
to date, until every state that still cannot end has been completed.
Those livelock; if none is left, no stored state does, and then no
reachable state does (docs/reduction.md, "Livelock under sleep sets",
has the argument).

    stored by the search          completed               livelocks
    s --b--> ... --> end          s --a--> s.a --> end    (none)
    (a asleep in s)

This module checks nothing else: the states added by completion are
reachable, but their invariants are not evaluated (the search already
found every kind of violation there is).
"""

from __future__ import annotations

import time


def find_livelock(edges, terminal, found, deadline=None, complete=None) -> bool:
    """Record, in ``found`` (``explore.search._Found``), the first livelocked
    state (the smallest number: reached first) with a cycle from it.
    ``edges[sid]``: the numbers of the stored successors of state ``sid``;
    ``terminal[sid]``: 1 for an ending. ``complete(sid)``, when given, adds
    the rest of ``sid``'s ample successors (new states are appended to
    ``edges`` and ``terminal``) and returns them all, or marks ``sid``
    terminal. False when the ``deadline`` (a ``time.perf_counter()``
    instant) passed first."""
    n = len(edges)
    reverse: list = [[] for _ in range(n)]
    for sid in range(n):
        if sid % 4096 == 0 and _late(deadline):
            return False
        for succ in edges[sid]:
            reverse[succ].append(sid)
    can_end = bytearray(terminal)
    if not _spread(can_end, reverse, [sid for sid in range(n) if terminal[sid]], deadline):
        return False
    if complete is not None and not _complete_all(edges, terminal, reverse, can_end, complete, deadline):
        return False
    first = can_end.find(0)            # smallest number: reached first by BFS
    if first >= 0:
        found.by_key[("livelock", "livelock", "")] = (0, len(found.by_key), "livelock", "livelock", "",
                                                       first, _cycle_from(first, edges))
    return True


def _spread(can_end, reverse, stack, deadline) -> bool:
    """Mark every predecessor, transitively, of the states on ``stack``."""
    done = 0
    while stack:
        done += 1
        if done % 4096 == 0 and _late(deadline):
            return False
        sid = stack.pop()
        for pred in reverse[sid]:
            if not can_end[pred]:
                can_end[pred] = 1
                stack.append(pred)
    return True


def _complete_all(edges, terminal, reverse, can_end, complete, deadline) -> bool:
    """Complete candidates until every state that cannot end is complete.

    The deepest candidates first (they are numbered last): an ending found
    from one spreads back to the earlier ones, which then need nothing.
    A state that completion adds is completed next, before older ones."""
    completed = bytearray(len(edges))
    pending = [sid for sid in range(len(edges)) if not can_end[sid]]
    done = 0
    while pending:
        sid = pending.pop()
        if can_end[sid] or completed[sid]:
            continue
        done += 1
        if done % 256 == 0 and _late(deadline):
            return False
        completed[sid] = 1
        before = len(edges)
        succs = complete(sid)
        for new in range(before, len(edges)):
            reverse.append([])
            completed.append(0)
            can_end.append(terminal[new])
            if not terminal[new]:
                pending.append(new)
        for succ in succs:
            reverse[succ].append(sid)
        if terminal[sid] or any(can_end[succ] for succ in succs):
            can_end[sid] = 1
            if not _spread(can_end, reverse, [sid], deadline):
                return False
    return True


def _late(deadline) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


def _cycle_from(sid: int, edges) -> tuple:
    """Follow first successors from ``sid`` until a state repeats."""
    seen: dict = {}
    walk = []
    while sid not in seen:
        seen[sid] = len(walk)
        walk.append(sid)
        sid = edges[sid][0]
    return (tuple(walk), seen[sid])
