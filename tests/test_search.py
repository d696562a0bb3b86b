"""The explorer: exact state counts, every kind of violation, bounds."""

import pytest

from racecheck.explore.result import Bounds, ExitReason, Outcome, Verdict
from racecheck.explore.search import explore
from racecheck.explore.trace import confirm

INDEPENDENT = """
racecheck: 1
title: two threads, two independent steps each
state: {x: 0, y: 0}
threads:
  a:
    steps:
      - {step: x1, do: x += 1}
      - {step: x2, do: x += 1}
  b:
    steps:
      - {step: y1, do: y += 1}
      - {step: y2, do: y += 1}
final:
  both: x == 2 and y == 2
"""

MUTEX = """
racecheck: 1
title: a lock around a critical section
state: {locked: false, inside: 0}
threads:
  a: &worker
    steps:
      - {step: lock, await: not locked, do: locked = True}
      - {step: enter, do: inside += 1}
      - {step: "leave; unlock", do: "inside -= 1\\nlocked = False"}
  b: *worker
invariants:
  exclusive: inside <= 1
"""


def names(program):
    return [t.name for t in program.threads]


def test_independent_steps_give_the_full_grid(program):
    prog = program(INDEPENDENT)
    result = explore(prog, reduction=False)
    assert result.verdict is Verdict.SAFE
    assert (result.stats.states, result.stats.transitions, result.stats.depth) == (9, 12, 4)
    reduced = explore(prog)
    assert reduced.verdict is Verdict.SAFE and reduced.reduced
    assert (reduced.stats.states, reduced.stats.transitions) == (5, 4)   # one interleaving
    assert result.exit_reason is ExitReason.EXHAUSTED


def test_mutex_is_safe_with_exact_counts(program):
    result = explore(program(MUTEX), reduction=False)
    assert result.verdict is Verdict.SAFE
    assert (result.stats.states, result.stats.transitions, result.stats.depth) == (12, 12, 6)


def test_mutex_without_await_breaks_exclusion_in_shortest_order(program):
    prog = program(MUTEX.replace("await: not locked, ", ""))
    result = explore(prog)
    assert result.verdict is Verdict.VIOLATION
    assert result.violation.describe() == "invariant exclusive"
    assert result.violation.schedule.format(names(prog)) == "a*2,b*2"
    confirm(prog, result.violation)


def test_lost_update_violates_final_check(program):
    prog = program("""
        racecheck: 1
        title: lost update
        state: {c: 0}
        threads:
          a: &inc
            locals: {tmp: 0}
            steps:
              - {step: tmp = c, do: tmp = c}
              - {step: c = tmp + 1, do: c = tmp + 1}
          b: *inc
        final:
          counted: c == 2
        """)
    result = explore(prog)
    assert result.violation.describe() == "final counted"
    assert result.violation.schedule.format(names(prog)) == "a,b,a,b"


def test_abba_deadlock(program):
    prog = program("""
        racecheck: 1
        title: AB-BA
        state: {A: false, B: false}
        threads:
          a:
            steps:
              - {step: lock A, await: not A, do: A = True}
              - {step: lock B, await: not B, do: B = True}
              - {step: unlock, do: "A = False\\nB = False"}
          b:
            steps:
              - {step: lock B, await: not B, do: B = True}
              - {step: lock A, await: not A, do: A = True}
              - {step: unlock, do: "A = False\\nB = False"}
        """)
    result = explore(prog)
    assert result.violation.kind == "deadlock"
    assert result.violation.schedule.format(names(prog)) == "a,b"


def test_deadlock_allowed_is_not_reported(program):
    prog = program("""
        racecheck: 1
        title: waits forever
        deadlock: allowed
        state: {go: false}
        threads:
          a:
            steps:
              - {step: wait, await: go}
        """)
    result = explore(prog)
    assert result.verdict is Verdict.SAFE
    assert result.stats.states == 1


SPIN = """
racecheck: 1
title: spins on a flag nobody sets
state: {flag: 0, other: 0}
threads:
  a:
    steps:
      - while: flag == 0
        steps:
          - {step: cpu_relax(), do: other = other}
  b:
    steps:
      - {step: b, do: other = 0}
"""


def test_livelock_is_found_with_a_cycle(program):
    prog = program(SPIN)
    result = explore(prog)
    assert result.violation.kind == "livelock"
    assert result.violation.schedule.format(names(prog)) == "-"
    assert result.violation.cycle.format(names(prog)) == "a*2"
    confirm(prog, result.violation)


def test_livelock_allowed(program):
    result = explore(program(SPIN.replace("title:", "livelock: allowed\ntitle:")))
    assert result.verdict is Verdict.SAFE


def test_retry_loop_that_can_finish_is_not_a_livelock(program):
    result = explore(program("""
        racecheck: 1
        title: retry until the other thread sets the flag
        state: {flag: false}
        threads:
          a:
            steps:
              - while: not flag
                steps:
                  - {step: retry, do: pass}
          b:
            steps:
              - {step: set, do: flag = True}
        """))
    assert result.verdict is Verdict.SAFE


def test_assert_and_runtime_error(program):
    prog = program("""
        racecheck: 1
        title: use after free
        state: {freed: false, pages: [1, 2]}
        threads:
          a:
            steps:
              - {step: free, do: freed = True}
          b:
            steps:
              - {step: use, do: "assert not freed, 'use after free'"}
              - {step: index, do: "pages[2] = 0"}
        expect: {violation: error}
        """)
    result = explore(prog, expect=prog.variant.expect)
    kinds = {v.kind: v for v in (result.violation,) + result.others}
    assert kinds["assert"].message == "use after free"
    assert kinds["assert"].schedule.format(names(prog)) == "a,b"
    assert "index 2 out of range" in kinds["error"].message
    assert result.violation.kind == "error"          # the expected one is reported first
    assert result.outcome(prog.variant.expect) is Outcome.MATCH


def test_unbounded_counter_is_inconclusive_never_safe(program):
    prog = program("""
        racecheck: 1
        title: counts forever
        livelock: allowed
        state: {n: 0}
        threads:
          a:
            steps:
              - while: "True"
                steps:
                  - {step: n++, do: n += 1}
        invariants:
          counted: n >= 0    # n is observed: a counter nothing reads would be merged away
        """)
    result = explore(prog, Bounds(max_states=50))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.exit_reason is ExitReason.MAX_STATES
    assert result.stats.states >= 50
    assert result.outcome(prog.variant.expect) is Outcome.INCONCLUSIVE
    deep = explore(prog, Bounds(max_depth=10))
    assert deep.exit_reason is ExitReason.MAX_DEPTH and deep.verdict is Verdict.INCONCLUSIVE


def test_local_steps_join_the_step_before(program):
    prog = program("""
        racecheck: 1
        title: local steps are not scheduling points
        state: {x: 0}
        threads:
          a:
            locals: {l: 0}
            steps:
              - {step: l = 1, do: l = 1}        # runs in the initial state
              - {step: x = l, do: x = l}
              - {step: l = 2, do: l = 2}        # joins x = l
              - if: l == 2                       # so does this test
                then:
                  - {step: x = 5, do: x = 5}
        """)
    result = explore(prog)
    assert (result.stats.states, result.stats.transitions) == (3, 2)
    [(_, init)] = list(prog.initial_states())
    assert init[prog.threads[0].pc_slot] == 1    # the local prefix already ran


def test_copies_and_tid(program):
    result = explore(program("""
        racecheck: 1
        title: copies
        state: {xs: [0, 0, 0]}
        threads:
          w:
            copies: 3
            steps:
              - {step: "xs[tid] = 1", do: "xs[tid] = tid + 1"}
        final:
          all_set: xs == [1, 2, 3]
        """), reduction=False)
    assert result.verdict is Verdict.SAFE
    assert result.stats.states == 8


def test_choose_gives_one_successor_per_alternative(program):
    prog = program("""
        racecheck: 1
        title: choose
        state: {x: 0}
        threads:
          a:
            steps:
              - {step: pick, do: "x = choose(1, 2, 3)"}
        invariants:
          not_three: x != 3
        """)
    result = explore(prog)
    assert result.violation.schedule.format(names(prog)) == "a:2"
    confirm(prog, result.violation)


def test_goto_and_call_group_return(program):
    prog = program("""
        racecheck: 1
        title: goto and return
        state: {n: 0, after: false}
        threads:
          a:
            steps:
              - call: helper()
                steps:
                  - label: again
                    step: n++
                    do: |
                      n += 1
                      if n == 3:
                          return
                    goto: again
                  - {step: unreachable, do: n = 100}
              - {step: after, do: after = True}
        final:
          three: n == 3 and after
        """)
    result = explore(prog)
    assert result.verdict is Verdict.SAFE
    assert result.stats.states == 5     # n = 0, 1, 2, 3, then after


def test_same_scenario_same_result(program):
    text = MUTEX.replace("await: not locked, ", "")
    first = explore(program(text))
    second = explore(program(text))
    assert first.violation == second.violation
    assert first.stats.states == second.stats.states


@pytest.mark.parametrize("variant, reduction, states, schedule", [
    ("v1", False, 61, "reclaim,writeback*3,reclaim*2,writeback,reclaim*3,writeback"),
    ("unlocked", False, 54, "reclaim,writeback*3,reclaim*3,writeback*2"),
    ("unlocked_kernel", False, 80, None),
    ("put_first", False, 84, "reclaim,writeback*3,reclaim*2,writeback,reclaim*3,writeback*2"),
    ("trylock", False, 54, None),
    ("v1", True, 43, "reclaim,writeback*3,reclaim*2,writeback,reclaim*4,writeback"),
    ("unlocked", True, 42, "reclaim,writeback*3,reclaim*2,writeback,reclaim*2,writeback"),
    ("unlocked_kernel", True, 52, None),
    ("put_first", True, 57, "reclaim,writeback*3,reclaim*2,writeback,reclaim*2,writeback,reclaim*2,writeback"),
    ("trylock", True, 41, None),
])
def test_seed_counts_and_counterexamples_are_pinned(variant, reduction, states, schedule):
    from racecheck.model.program import Program
    from racecheck.scenario.loader import load_scenario
    scenario = load_scenario("scenarios/dirty_unlocked.yaml")
    chosen = scenario.variant(variant)
    prog = Program(scenario, chosen)
    result = explore(prog, expect=chosen.expect, reduction=reduction)
    assert result.stats.states == states
    if schedule is None:
        assert result.verdict is Verdict.SAFE
        assert result.exit_reason is ExitReason.EXHAUSTED
    else:
        assert result.violation.schedule.format(names(prog)) == schedule
        confirm(prog, result.violation)


def test_failure_while_building_the_initial_state_is_an_error_violation(program):
    prog = program("""
        racecheck: 1
        title: the local prefix fails
        state: {x: 0}
        threads:
          a:
            locals: {l: [1]}
            steps:
              - {step: bad, do: "l = l[3]"}
              - {step: s, do: x = 1}
        """)
    result = explore(prog)
    assert result.violation.kind == "error"
    assert "index 3 out of range" in result.violation.message
    trace = confirm(prog, result.violation)
    assert trace.init_error is not None and trace.init_thread == 0


def test_deadlock_at_the_depth_bound_is_still_found(program):
    prog = program("""
        racecheck: 1
        title: blocks after two steps
        state: {x: 0, go: false}
        threads:
          a:
            steps:
              - {step: one, do: x = 1}
              - {step: two, do: x = 2}
              - {step: wait, await: go}
        """)
    result = explore(prog, Bounds(max_depth=2))
    assert result.violation is not None and result.violation.kind == "deadlock"
    assert explore(prog, Bounds(max_depth=1)).verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize("variant, schedule", [
    ("v1", "writeback*5,reclaim*6"),                     # writeback alone, then reclaim
    ("unlocked", "writeback*3,reclaim*4,writeback*2"),   # the order the review describes
    ("put_first", "writeback*4,reclaim*6,writeback*2"),  # reclaim between put_page() and set_page_dirty()
])
def test_reported_counterexample_has_fewest_context_switches(variant, schedule):
    from racecheck.explore.check import check_variant
    from racecheck.explore.counterexample import switches
    from racecheck.scenario.loader import load_scenario
    scenario = load_scenario("scenarios/dirty_unlocked.yaml")
    checked = check_variant(scenario, scenario.variant(variant))
    violation = checked.exploration.violation
    assert violation.schedule.format(names(checked.program)) == schedule
    assert checked.minimal
    # no schedule with fewer switches reaches it: brute force over the full graph
    assert switches(violation.schedule) == _fewest_switches_brute_force(checked.program, violation.name)


def _fewest_switches_brute_force(prog, invariant):
    """Every schedule of the (small, acyclic) state graph, depth first."""
    from racecheck.model.runtime import Chooser
    best = [None]

    def walk(s, last, switched):
        if invariant in prog.failing_invariants(s):
            best[0] = switched if best[0] is None else min(best[0], switched)
            return
        for t in range(len(prog.threads)):
            if prog.enabled(s, t):
                walk(prog.execute(s, t, Chooser()), t, switched + (last not in (None, t)))

    walk(next(prog.initial_states())[1], None, 0)
    return best[0]


ASSERT_AFTER_SWITCH = """
racecheck: 1
title: the failing step's own switch counts
state: {x: 0}
threads:
  A:
    steps:
      - {step: copy, do: x = x}
      - {step: check, do: "assert x == 0, 'saw x'"}
  B:
    steps:
      - {step: set, do: x = 1}
"""


def test_fewest_switches_counts_the_switch_into_a_failing_step(program):
    """A,B,A fails with 2 switches; B,A,A fails with 1 (issue 9, item 2)."""
    from racecheck.explore.counterexample import fewest_switches, switches
    prog = program(ASSERT_AFTER_SWITCH)
    result = explore(prog)
    minimized = fewest_switches(prog, result.violation)
    assert minimized.minimal
    assert minimized.violation.schedule.format(names(prog)) == "B,A*2"
    assert switches(minimized.violation.schedule) == 1
    assert confirm(prog, minimized.violation) is not None


def test_hash_compact_gives_the_same_counts_and_a_collision_bound(program):
    prog = program(MUTEX)
    exact = explore(prog, reduction=False)
    compact = explore(prog, reduction=False, hash_compact=True)
    assert (compact.stats.states, compact.verdict) == (exact.stats.states, exact.verdict)
    assert 0 < compact.collision_bound < 1e-15
    assert exact.collision_bound is None


def test_a_failing_ample_step_does_not_hide_another_thread_failing(program):
    prog = program("""
        racecheck: 1
        title: two independent asserts
        state: {x: 0}
        threads:
          t0: {steps: [{step: first, do: 'assert x > 0, "t0 fails"'}]}
          t1: {steps: [{step: second, do: 'assert x > 0, "t1 fails"'}]}
        expect: {violation: "assert: t1 fails"}
        """)
    result = explore(prog, expect=prog.variant.expect)
    assert result.violation.message == "t1 fails"


def test_merged_state_still_has_its_invariant_checked(program):
    # once p has finished, nothing reads x again: both successors of the
    # choice have the same live values and are merged into one stored key,
    # but the second one violates the invariant and must still be seen
    prog = program("""
        racecheck: 1
        title: the last write of x finishes its writer
        state: {x: 0}
        threads:
          p: {steps: [{step: pick, do: "x = choose(0, 1)"}]}
        invariants:
          zero: x == 0
        """)
    result = explore(prog)
    assert result.violation.describe() == "invariant zero"
    assert result.violation.schedule.format(names(prog)) == "p:1"


# == partial-order reduction on lastzero (benchmarks/families.py) ===========

def _lastzero(n: int, livelock_allowed: bool) -> str:
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from families import lastzero
    text = lastzero(n)
    return text.replace("threads:\n", "livelock: allowed\nthreads:\n", 1) if livelock_allowed else text


@pytest.mark.parametrize("n, allowed, states, transitions", [
    # livelock checked (the reader loops): ample sets with masks refined by
    # the reader's index i, the proviso on state numbers, sleep sets, and
    # the livelock check's completion (explore.livelock; 1 and 7 of these
    # states); 499 states and 1,156 transitions without reduction at N = 4
    (3, False, 66, 67), (4, False, 187, 197),
    # livelock allowed: dead values merged too
    (3, True, 52, 62), (4, True, 137, 167),
])
def test_lastzero_reduced_counts(program, n, allowed, states, transitions):
    result = explore(program(_lastzero(n, allowed)))
    assert result.verdict is Verdict.SAFE
    assert (result.stats.states, result.stats.transitions) == (states, transitions)


def test_sleep_sets_prune_a_transition_into_a_state_reached_otherwise(program):
    # the invariant reads what both threads write (C2: the ample set is
    # both), but their steps are independent: after b, a sleeps, and
    # b;a is not run (a;b reaches the same state)
    text = """
racecheck: 1
title: two independent writes under one invariant
state: {x: 0, y: 0}
threads:
  a:
    steps:
      - {step: x, do: x = 1}
  b:
    steps:
      - {step: y, do: y = 1}
invariants:
  small: x + y <= 2
"""
    prog = program(text)
    assert (explore(prog, reduction=False).stats.transitions, explore(prog).stats.transitions) == (4, 3)
    assert explore(prog).stats.states == 4
    broken = program(text.replace("x + y <= 2", "x + y <= 1"))
    assert explore(broken).verdict is Verdict.VIOLATION
