"""Local-only loops that call choose(): a retry that comes back to a local
state it has been in is a cycle of the model, explored once, not unrolled
until the 10,000-step limit (docs/format.md, "Local-only loops").

Each scenario is checked by the reduced search, the unreduced interpreter
and, where it works, the packed search; the counts are exact.
"""

import pytest

from racecheck.explore.coverage import unexecuted_steps
from racecheck.explore.result import Verdict
from racecheck.explore.search import explore
from racecheck.explore.trace import confirm, replay
from racecheck.explore.schedule import parse_schedule
from racecheck.model import program as program_module
from racecheck.model.runtime import Chooser

# thread t retries at its very start (the initial state): picking True
# comes back to the state it left
RETRY_AT_START = """
racecheck: 1
title: a retry loop before any shared access
state: {x: 0}
threads:
  t:
    locals: {c: false}
    steps:
      - step: c = choose(True, False)
        label: retry
        do: c = choose(True, False)
      - if: c
        then:
          - {step: goto retry, goto: retry}
      - {step: x += 1, do: x += 1}
  u:
    steps:
      - {step: x += 1, do: x += 1}
final:
  two: x == 2
"""

# the loop after a shared step; way out is alternative 0, the loop 1, and
# the local n wraps around: x == 2 needs two turns
WRAPPING = """
racecheck: 1
title: a local loop after a shared step, its counter wraps around
state: {x: 0}
threads:
  t:
    locals: {n: 0, c: false}
    steps:
      - {step: read x, do: n = x}
      - step: next n
        label: again
        do: |
          n = (n + 1) % 3
          c = choose(False, True)
      - if: c
        then:
          - {step: goto again, goto: again}
      - {step: x = n, do: x = n}
invariants:
  not_two: x != 2
"""

GROWING = """
racecheck: 1
title: a local loop whose counter grows without end
state: {x: 0}
threads:
  t:
    locals: {n: 0, c: 1}
    steps:
      - {step: read x, do: n = x}
      - while: c == 1
        steps:
          - step: n += 1
            do: |
              n += 1
              c = choose(0, 1)
      - {step: x = n, do: x = n}
"""

STUCK = """
racecheck: 1
title: one alternative waits on a local forever
state: {x: 0}
threads:
  t:
    locals: {m: false}
    steps:
      - {step: read x, do: m = x == 0}
      - step: m = choose(False, True)
        do: m = choose(False, True)
      - while: m
        steps: []
      - {step: x = 1, do: x = 1}
"""

NO_WAY_OUT = """
racecheck: 1
title: every alternative loops
state: {x: 0}
threads:
  t:
    locals: {c: false}
    steps:
      - step: c = choose(True, True)
        label: retry
        do: c = choose(True, True)
      - if: c
        then:
          - {step: goto retry, goto: retry}
      - {step: x += 1, do: x += 1}
"""

TWO_RETRIES = """
racecheck: 1
title: two copies retry at their start, with a counter modulo 3
state: {x: 0}
threads:
  t:
    copies: 2
    locals: {c: false, k: 0}
    steps:
      - step: retry
        label: retry
        do: |
          k = (k + 1) % 3
          c = choose(True, False)
      - if: c
        then:
          - {step: goto retry, goto: retry}
      - {step: x += k, do: x += k}
final:
  small: x <= 4
"""


def searches(prog):
    """The reduced search and the unreduced interpreter."""
    return [explore(prog), explore(prog, reduction=False, packed=False)]


def counts(result):
    return (result.stats.states, result.stats.transitions, result.stats.depth)


def test_retry_at_start_is_one_initial_state_and_safe(program):
    prog = program(RETRY_AT_START)
    assert [s for _, s in prog.initial_states()] == [(0, 3, False, 0)]
    reduced, full = searches(prog)
    assert reduced.verdict is full.verdict is Verdict.SAFE
    assert counts(full) == (4, 4, 2)
    assert unexecuted_steps(prog) == ()        # 'goto retry' runs on the way round


def test_retry_at_start_packed(program):
    result = explore(program(RETRY_AT_START), reduction=False, packed=True)
    assert result.verdict is Verdict.SAFE
    assert counts(result) == (4, 4, 2)


def test_wrapping_loop_finds_every_way_out(program):
    prog = program(WRAPPING)
    for result in searches(prog):
        assert result.verdict is Verdict.VIOLATION
        assert result.violation.describe() == "invariant not_two"
        # read x, then the loop left after two turns (picks 1, then 0)
        assert result.violation.schedule.format(["t"]) == "t:1,t"
        confirm(prog, result.violation)


def test_wrapping_loop_reaches_three_states_after_the_loop(program):
    prog = program(WRAPPING.replace("x != 2", "x < 3"))
    reduced, full = searches(prog)
    assert reduced.verdict is full.verdict is Verdict.SAFE
    # initial; after 'read x' and the loop, n = 1, 2 or 0; then x = n
    assert counts(full) == (7, 6, 2)


def test_wrapping_loop_packed(program, monkeypatch):
    """The packed search takes a transition into such a loop the
    interpreter's way (model.packed: its fast code would unroll it)."""
    from racecheck.model import packed
    monkeypatch.setattr(packed, "MAX_LOCAL_STEPS", 100)        # fail fast if it unrolls
    monkeypatch.setattr(program_module, "MAX_LOCAL_STEPS", 100)
    result = explore(program(WRAPPING.replace("x != 2", "x < 3")), reduction=False, packed=True)
    assert result.verdict is Verdict.SAFE
    assert counts(result) == (7, 6, 2)


def test_growing_loop_is_an_error_naming_the_loop(program, monkeypatch):
    monkeypatch.setattr(program_module, "MAX_LOCAL_STATES", 50)
    prog = program(GROWING)
    for result in searches(prog):
        assert result.verdict is Verdict.VIOLATION
        assert result.violation.kind == "error"
        assert result.violation.message == (
            f"thread t: the local-only loop at {prog.scenario.path}:10 (while (c == 1)) reaches more than 50 local "
            "states (its locals grow without end?)")
        assert result.violation.schedule.format(["t"]) == "t"
        confirm(prog, result.violation)


def test_stuck_alternative_is_an_error_that_replays(program):
    prog = program(STUCK)
    for result in searches(prog):
        assert result.violation.kind == "error"
        assert result.violation.message == (
            f"thread t: the local-only loop at {prog.scenario.path}:12 (while (m)) can run forever without reaching "
            "a step that touches shared state")
        assert result.violation.schedule.format(["t"]) == "t:1"
        confirm(prog, result.violation)


def test_loop_with_no_way_out_is_an_error_in_the_initial_state(program):
    prog = program(NO_WAY_OUT)
    result = explore(prog)
    assert result.violation.kind == "error"
    assert f"at {prog.scenario.path}:9 (c = choose(True, True)) can run forever" in result.violation.message
    assert result.violation.schedule.format(["t"]) == "-"


def test_two_copies_retrying_at_start(program):
    prog = program(TWO_RETRIES)
    # each copy leaves with k = 1, 2 or 0: 3 * 3 initial states
    assert len(list(prog.initial_states())) == 9
    reduced, full = searches(prog)
    assert reduced.verdict is full.verdict is Verdict.SAFE
    assert counts(full) == (36, 36, 2)
    assert explore(prog, reduction=False, packed=True).stats.states == 36


def test_trimmed_schedule_replays_the_same_way_out(program):
    """A printed schedule drops trailing zero picks: replaying it must take
    the loop's way out the search took, not another."""
    prog = program(TWO_RETRIES)
    seen = set()
    for chooser, state in prog.initial_states():
        picks = chooser.used()
        again = replay(prog, parse_schedule("init:" + ".".join(map(str, picks)) if picks else "-",
                                            [t.name for t in prog.threads]))
        assert again.initial == state
        seen.add(state)
    assert len(seen) == 9


# -- the chooser on its own -------------------------------------------------------

def ways_out(*paths):
    from racecheck.model.runtime import LocalExits
    return LocalExits([(None, tuple(p)) for p in paths], {}, {})


def test_chooser_moves_to_the_next_way_out_not_the_next_pick():
    exits = ways_out((0, 1), (1,), (0, 0, 0))
    chooser = Chooser()
    assert chooser.pick(2) == 0              # a free pick before the loop
    chooser.take(exits)
    for n in (2, 2):
        chooser.pick(n)
    assert chooser.used() == (0, 0, 1)
    plans = []
    while True:
        plan = chooser.next_plan()
        if plan is None:
            break
        plans.append(list(plan))
        chooser = Chooser(plan)
        chooser.pick(2)
        chooser.take(exits)
        for _ in exits.path(chooser.segments[-1][2]):
            chooser.pick(2)
    assert plans == [[0, 1], [0, 0, 0, 0], [1], [1, 1], [1, 0, 0, 0]]


def test_plan_hands_on_its_loops_to_a_run_that_does_not_take():
    """The packed search's fast code follows a plan's picks without
    take(): next_plan must still know where the loop's picks are."""
    exits = ways_out((1,), (0, 1), (0, 0, 1))
    chooser = Chooser()
    chooser.take(exits)
    chooser.pick(2)
    plan = chooser.next_plan()
    assert list(plan) == [0, 1]
    fast = Chooser(plan)
    fast.pick(2)
    fast.pick(2)                             # no take(): the plan knew the loop
    assert list(fast.next_plan()) == [0, 0, 1]


def test_replayed_picks_are_followed_not_replaced():
    """A schedule's picks (a plain list) pass through a loop as given."""
    exits = ways_out((1,), (0, 1))
    chooser = Chooser([0, 1])
    chooser.take(exits)
    assert (chooser.pick(2), chooser.pick(2)) == (0, 1)
    assert chooser.segments == []


def test_ways_out_share_the_tree_of_local_states():
    from racecheck.model.runtime import LocalExits
    parent = {"a": None, "b": ("a", (1,)), "c": ("b", (0, 1))}
    exits = LocalExits([(None, (0,)), ("c", (1,)), ("b", ())], parent, {"a": 0, "b": 1, "c": 3})
    assert [exits.path(k) for k in range(exits.count)] == [(0,), (1, 0, 1, 1), (1,)]
    assert [exits.length(k) for k in range(exits.count)] == [1, 4, 1]


def test_spin_engine_refuses_a_local_loop_with_choose(load):
    """The export would unroll the loop under SPIN's step counter and report
    its overflow as an error racecheck does not have: a clear refusal, with
    the loop's file and line, before SPIN or gcc is needed."""
    from racecheck.errors import UsageError
    from racecheck.spin.engine import check_variant_spin
    scenario = load(WRAPPING)
    with pytest.raises(UsageError, match=r":\d+: thread .* local-only loop that calls choose\(\)"):
        check_variant_spin(scenario, scenario.variants[0])
