"""Livelock under sleep sets (docs/reduction.md, "Livelock under sleep sets").

When threads can loop and livelock is checked, the reduced search runs
under sleep sets and keeps the edges it ran; a state whose stored edges do
not lead to an ending is then completed (explore.livelock) before it may
count as livelocked. These tests aim random scenarios at that rule: threads
that loop for ever or may (busy waits on shared values, retry loops with a
backward ``goto``, local cycles), that block (deadlocks), fail, or end;
racecheck with and without reduction must agree with the naive reference
(tests/reference.py) on the verdict and every violation kind, livelock
included, and every reported schedule (a livelock's cycle too) replays.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from test_differential import PROFILE, compare_if_small  # noqa: E402

from racecheck.explore.livelock import find_livelock  # noqa: E402
from racecheck.explore.result import Verdict  # noqa: E402
from racecheck.explore.search import _Found, explore  # noqa: E402

_SETS = ["x = 0", "x = 1", "x = (x + 1) % 3", "f = True", "f = False", "f = not f", "y = x", "y = 1 - y"]
_CONDS = ["x == 0", "x != 1", "f", "not f", "y == 1", "x == y", "x < 2 and f"]
_LOCALS = ["i = (i + 1) % 2", "r = choose(0, 1)", "r = x"]


@st.composite
def _step(draw, depth: int) -> list:
    kind = draw(st.sampled_from(["set"] * 5 + ["local"] * 2 + ["await", "spin", "loop", "if", "assert"]
                                 if depth == 0 else ["set", "set", "local", "assert"]))
    if kind == "set":
        code = draw(st.sampled_from(_SETS))
        if draw(st.integers(0, 3)) == 0:
            code += "\n" + draw(st.sampled_from(_SETS + _LOCALS))
        return [{"step": "write", "do": code}]
    if kind == "local":
        return [{"step": "local", "do": draw(st.sampled_from(_LOCALS))}]
    if kind == "await":
        node = {"step": "wait", "await": draw(st.sampled_from(_CONDS + ["r == 0", "i == 1"]))}
        if draw(st.booleans()):
            node["do"] = draw(st.sampled_from(_SETS))
        return [node]
    if kind == "spin":                        # a busy wait on a shared value
        return [{"while": draw(st.sampled_from(_CONDS)), "steps": []}]
    if kind == "loop":                        # a loop over shared state, or a local cycle
        cond = draw(st.sampled_from(_CONDS + ["i == 0", "r == 1"]))
        body = []
        for _ in range(draw(st.integers(1, 2))):
            body += draw(_step(1))
        return [{"while": cond, "steps": body}]
    if kind == "if":
        node = {"if": draw(st.sampled_from(_CONDS + ["r == 1"])), "then": draw(_step(1))}
        if draw(st.booleans()):
            node["else"] = draw(_step(1))
        return [node]
    return [{"step": "check", "do": f"assert {draw(st.sampled_from(_CONDS))}, 'checked'"}]


@st.composite
def _thread(draw) -> dict:
    # the first step touches shared state: a thread that starts with a
    # local-only loop computes its initial states by running it
    steps = [{"step": "write", "do": draw(st.sampled_from(_SETS))}]
    for _ in range(draw(st.integers(0, 2))):
        steps += draw(_step(0))
    back = draw(st.sampled_from(["none", "retry", "retry", "always", "exit"]))
    if back in ("retry", "always"):
        steps[0]["label"] = "top"
    if back == "retry":                       # retry while a shared condition holds
        steps.append({"if": draw(st.sampled_from(_CONDS)), "then": [{"step": "retry", "goto": "top"}]})
    elif back == "always":                    # never ends: runs for ever or blocks
        steps.append({"step": "again", "do": draw(st.sampled_from(_SETS + _LOCALS)), "goto": "top"})
    elif back == "exit":
        steps.insert(draw(st.integers(0, len(steps))), {"step": "leave", "goto": "end"})
    return {"locals": {"i": 0, "r": 0}, "steps": steps}


@st.composite
def looping_scenarios(draw) -> str:
    """Two or three threads, at least one of which can loop; livelock is
    checked, deadlock sometimes allowed."""
    count = draw(st.integers(2, 3))
    threads = {f"t{n}": draw(_thread()) for n in range(count)}
    text = yaml.safe_dump({"threads": threads})
    if "goto: top" not in text and "while:" not in text:
        threads["t0"]["steps"].append({"step": "again", "do": "f = not f", "goto": "top"})
        threads["t0"]["steps"][0]["label"] = "top"
    doc = {"racecheck": 1, "title": "loops", "state": {"x": 0, "y": 0, "f": False}, "threads": threads}
    if draw(st.integers(0, 3)) == 0:
        doc["deadlock"] = "allowed"
    if draw(st.integers(0, 3)) == 0:
        doc["invariants"] = {"bounded": draw(st.sampled_from(["x < 2", "not (f and y == 1)", "x + y < 3"]))}
    return yaml.safe_dump(doc, sort_keys=False)


@settings(PROFILE)
@given(looping_scenarios())
def test_looping_scenarios_agree(text):
    compare_if_small(text)


# -- hand-written: where the stored edges alone would be wrong ------------------------

# t0 and t1 write different variables, so their steps are independent; the
# invariant reads both (C2), so the ample set is both threads everywhere and
# sleep sets do the pruning. t2 loops until t0 has run: the state after t1
# then t0 is reached again by t0 then t1, and there t1 sleeps.
_DIAMOND = """
racecheck: 1
title: two independent writes and a waiter that retries
state: {x: 0, y: 0}
threads:
  t0:
    steps:
      - {step: x = 1, do: x = 1}
  t1:
    steps:
      - {step: y = 1, do: y = 1}
  t2:
    steps:
      - {step: look, label: top, do: "pass"}
      - if: x == 0
        then: [{step: retry, goto: top}]
invariants:
  small: x + y <= 2
"""


def test_waiter_that_can_always_finish_is_no_livelock(program):
    full = explore(program(_DIAMOND), reduction=False)
    reduced = explore(program(_DIAMOND))
    assert full.verdict is reduced.verdict is Verdict.SAFE
    assert reduced.stats.states <= full.stats.states


def test_waiter_that_can_never_finish_is_a_livelock(program):
    prog = program(_DIAMOND.replace("if: x == 0", "if: x == 0 or y == 1"))
    result = explore(prog)
    assert result.verdict is Verdict.VIOLATION
    assert result.violation.kind == "livelock"
    assert explore(prog, reduction=False).violation.kind == "livelock"


# Found by the strategy above: after t0 runs both steps and t1 its first
# two, the sleep-set search leaves a state whose stored edges reach no
# ending (t0's step that would let t1 out sleeps there); only its
# completion shows that every run can still end.
_RETRY = """
racecheck: 1
title: a retry loop that a sleeping step lets out
state: {x: 0, y: 0}
threads:
  t0:
    steps:
      - {step: x = 0, do: x = 0}
      - {step: y = x, do: y = x}
  t1:
    steps:
      - {step: x = 0, label: top, do: x = 0}
      - step: x = 1
        do: |
          x = 0
          x = 1
      - if: x == 0
        then: [{step: retry, goto: top}]
deadlock: allowed
"""


def _cannot_end(edges, terminal) -> int:
    """How many states the edges lead to no ending from."""
    reach = {sid for sid, end in enumerate(terminal) if end}
    grew = True
    while grew:
        grew = False
        for sid, succs in enumerate(edges):
            if sid not in reach and any(succ in reach for succ in succs):
                reach.add(sid)
                grew = True
    return len(edges) - len(reach)


def test_completion_keeps_a_false_livelock_out(program, monkeypatch):
    from racecheck.explore import search
    prog = program(_RETRY)
    full = explore(prog, reduction=False)
    assert full.verdict is Verdict.SAFE
    seen = []
    real = search._find_livelock

    def spy(edges, terminal, found, deadline=None, complete=None):
        seen.append(_cannot_end(edges, terminal))      # before completion
        return real(edges, terminal, found, deadline, complete)

    monkeypatch.setattr(search, "_find_livelock", spy)
    result = explore(prog)
    assert result.verdict is Verdict.SAFE
    assert result.stats.states <= full.stats.states
    assert seen[0] > 0          # the stored edges alone would call it a livelock


def test_completion_decides_a_state_without_stored_edges():
    # 0 -> 1 -> 2 (an ending); 3 has no stored edge: its completion leads
    # to 1, so nothing livelocks
    edges, terminal = [[1], [2], [], []], bytearray([0, 0, 1, 0])
    asked = []

    def complete(sid):
        asked.append(sid)
        edges[sid] = [1] if sid == 3 else edges[sid]
        return edges[sid]

    found = _Found()
    assert find_livelock(edges, terminal, found, complete=complete)
    assert asked == [3] and not found.by_key


def test_completion_adds_states_and_finds_the_livelock():
    # 0 -> 1 (an ending); 2 has no stored edge: completed, it reaches a new
    # state 3 that steps to itself: 2 and 3 livelock, 2 is reported first
    edges, terminal = [[1], [], []], bytearray([0, 1, 0])

    def complete(sid):
        if sid == 2:
            edges.append([])
            terminal.append(0)
            edges[2] = [3]
        else:
            edges[sid] = [sid]
        return edges[sid]

    found = _Found()
    assert find_livelock(edges, terminal, found, complete=complete)
    record = found.by_key[("livelock", "livelock", "")]
    assert record[5] == 2 and record[6] == ((2, 3), 1)
