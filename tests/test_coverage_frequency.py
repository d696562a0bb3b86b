"""Step coverage (explore.coverage) and violation frequency (explore.frequency).

Frequencies are pinned on tiny scenarios whose numbers are worked out by hand
in the comments, on the seed, on the lastzero benchmark (the trace counts of
Abdulla et al., POPL 2014), and checked on random scenarios against a
brute-force reference that enumerates every complete run and groups them
into Mazurkiewicz classes by swapping adjacent independent steps.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import deque
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

from families import lastzero  # noqa: E402
from strategies import scenario_texts  # noqa: E402

from racecheck.explore.coverage import unexecuted_steps  # noqa: E402
from racecheck.explore.frequency import Frequency, Independence, Target, violation_frequency  # noqa: E402
from racecheck.explore.result import Violation  # noqa: E402
from racecheck.explore.schedule import Schedule  # noqa: E402
from racecheck.model.program import USER_ERRORS, InitialFailure, Program, as_step_error  # noqa: E402
from racecheck.model.runtime import Chooser  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402
from racecheck.scenario.values import StepError  # noqa: E402

ROOT = Path(__file__).parent.parent
SEED = str(ROOT / "scenarios" / "dirty_unlocked.yaml")


def violation(kind: str, name: str | None = None, message: str = "") -> Violation:
    return Violation(kind, name or kind, message, Schedule())


def seed(variant: str) -> Program:
    scenario = load_scenario(SEED)
    return Program(scenario, scenario.variant(variant))


def from_text(text: str, variant: str | None = None) -> Program:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scenario.yaml")
        with open(path, "w") as f:
            f.write(text)
        scenario = load_scenario(path)
    return Program(scenario, scenario.variant(variant) if variant else scenario.variants[0])


def line_of(path: str, text: str) -> str:
    lines = open(path).read().split("\n")
    return f"{path}:{next(i for i, line in enumerate(lines, 1) if text in line)}"


# == coverage ====================================================================================

KERNEL_LEVEL_STEPS = [("reclaim", "folio_ref_freeze(folio, 1 + nr)"), ("reclaim", "folio_test_dirty(folio)"),
                      ("reclaim", "if (dirty)"), ("reclaim", "folio_ref_unfreeze(folio, 1 + nr)"),
                      ("reclaim", "__delete_from_swap_cache(folio)"),
                      ("writeback", "put_page(page)"), ("writeback", "put_page(page)")]


def test_seed_trylock_executes_every_step_of_its_level():
    # trylock is at the mail's level: only the kernel level's steps (the freeze and
    # re-test in __remove_mapping(), writeback's put_page()) never run
    assert [(name, text) for name, text, _ in unexecuted_steps(seed("trylock"))] == KERNEL_LEVEL_STEPS


def test_seed_v1_and_unlocked_leave_the_other_variants_steps():
    # unlocked: the kernel level's steps and the writeback steps under `if: writeback == 'trylock'`
    unlocked = unexecuted_steps(seed("unlocked"))
    assert [(name, text) for name, text, _ in unlocked] == \
        KERNEL_LEVEL_STEPS[:5] + [("writeback", "folio_trylock(folio)"), ("writeback", "put_page(page)"),
                                  ("writeback", "folio_unlock(folio)"), ("writeback", "put_page(page)")]
    assert ("writeback", "folio_trylock(folio)", f"{SEED}:153") in unlocked
    missing = [(name, text) for name, text, _ in unexecuted_steps(seed("v1"))]
    assert missing == [("reclaim", "folio_clear_dirty_for_io(folio)"), ("reclaim", "zswap_store(folio)"),
                       ("reclaim", "__remove_mapping(folio)"), ("reclaim", "folio_ref_unfreeze(folio, 1 + nr)"),
                       ("writeback", "folio_trylock(folio)"), ("writeback", "put_page(page)"),
                       ("writeback", "set_page_dirty(page)"), ("writeback", "folio_unlock(folio)")]


def test_step_after_goto_end_and_false_branch_are_found(write_scenario):
    path = write_scenario("""
        racecheck: 1
        title: dead code
        state: {x: 0}
        threads:
          a:
            locals: {r: 0}
            steps:
              - {step: prefix, do: r = 1}
              - if: r == 0
                then:
                  - {step: dead local, do: r = 2}
              - {step: write, do: x = 1}
              - {step: glued, do: r += 1}
              - if: x > 5
                step: too big?
                then:
                  - {step: never big, do: x = 0}
              - {step: leave, do: x = 2, goto: end}
              - {step: after end, do: x = 3}
          b:
            steps:
              - {step: wait for 7, await: x == 7, do: x = 0}
              - {step: after wait, do: x = 1}
        """)
    scenario = load_scenario(path)
    result = unexecuted_steps(Program(scenario, scenario.variants[0]))
    assert result == (
        ("a", "dead local", line_of(path, "dead local")),
        ("a", "never big", line_of(path, "never big")),
        ("a", "after end", line_of(path, "after end")),
        ("b", "wait for 7", line_of(path, "wait for 7")),
        ("b", "after wait", line_of(path, "after wait")),
    )


def test_failing_steps_count_as_executed():
    prog = from_text("""
        racecheck: 1
        title: failing steps
        state: {x: 0}
        threads:
          a:
            steps:
              - {step: check, do: "assert x == 1, 'x is not 1'"}
              - {step: unreachable, do: x = 2}
          b:
            steps:
              - {step: bad wait, await: 1 // x == 0}
        """)
    assert [(t, s) for t, s, _ in unexecuted_steps(prog)] == [("a", "unreachable")]


def test_copies_merge_when_they_agree_and_split_when_they_do_not():
    prog = from_text("""
        racecheck: 1
        title: copies
        state: {x: 0}
        threads:
          worker:
            copies: 2
            steps:
              - if: tid == 0
                then:
                  - {step: only copy 0, do: x += 1}
                else:
                  - {step: only copy 1, do: x += 2}
              - if: x > 10
                then:
                  - {step: never, do: x = 0}
        """)
    assert [(t, s) for t, s, _ in unexecuted_steps(prog)] == [
        ("worker#0", "only copy 1"), ("worker#0", "never"),
        ("worker#1", "only copy 0"), ("worker#1", "never")]
    same = from_text("""
        racecheck: 1
        title: copies that agree
        state: {x: 0}
        threads:
          worker:
            copies: 3
            steps:
              - {step: inc, do: x += 1}
              - if: x > 10
                then:
                  - {step: never, do: x = 0}
        """)
    assert [(t, s) for t, s, _ in unexecuted_steps(same)] == [("worker", "never")]


def test_coverage_over_budget_is_not_computed():
    assert unexecuted_steps(seed("trylock"), budget=10) is None
    assert unexecuted_steps(seed("trylock"), budget=54) == unexecuted_steps(seed("trylock"))


def test_choose_alternatives_are_all_covered():
    prog = from_text("""
        racecheck: 1
        title: choose in the prefix and in a step
        state: {x: 0}
        threads:
          a:
            locals: {r: 0}
            steps:
              - {step: pick, do: "r = choose(0, 1)"}
              - if: r == 1
                then:
                  - {step: one, do: x = 1}
              - {step: pick shared, do: "x = choose(5, 6)"}
              - if: x == 6
                then:
                  - {step: six, do: x = 0}
        """)
    assert unexecuted_steps(prog) == ()


# == frequency: hand-checked numbers ==================================================================

LOST_UPDATE = """
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
  both: c == 2
"""


def test_lost_update_frequency():
    # States: pcs (i, j) in 0..2 x 0..2; (0,0) (1,0) (0,1) (2,0) (0,2) (1,1): one each;
    # (2,1) and (1,2): two each (the other read before or after the write);
    # (2,2): c == 2 twice (a first, b first: different tmp) and c == 1 once: 13.
    # Runs: ra wa / rb wb interleaved, 6 of them; ra and rb commute (both read), so
    # ra rb wa wb ~ rb ra wa wb and ra rb wb wa ~ rb ra wb wa: 4 orderings, the
    # 2 interleaved ones end with c == 1.
    assert violation_frequency(from_text(LOST_UPDATE), violation("final", "both")) == Frequency(13, 1, 4, 2)


VISIBLE = """
racecheck: 1
title: two independent writes
state: {x: 0, y: 0}
threads:
  a:
    steps:
      - {step: x = 1, do: x = 1}
  b:
    steps:
      - {step: y = 1, do: y = 1}
invariants:
  y_first: not (x == 1 and y == 0)
final:
  both: x + y == 2
"""


def test_invariant_frequency_keeps_visible_steps_ordered():
    # 4 states; x = 1, y = 0 violates. For the final check the two writes commute:
    # 1 ordering. For the invariant both writes are visible (they write what it
    # reads): 2 orderings, and a;b passes the violating state.
    prog = from_text(VISIBLE)
    assert violation_frequency(prog, violation("final", "both")) == Frequency(4, 0, 1, 0)
    assert violation_frequency(prog, violation("invariant", "y_first")) == Frequency(4, 1, 2, 1)


LOCKS = """
racecheck: 1
title: AB-BA
state: {A: false, B: false, order: 0}
threads:
  a:
    steps:
      - {step: lock A, await: not A, do: A = True}
      - {step: lock B, await: not B, do: B = True}
      - {step: unlock both, do: "order = order * 10 + 1\\nA = False\\nB = False"}
  b:
    steps:
      - {step: lock B, await: not B, do: B = True}
      - {step: lock A, await: not A, do: A = True}
      - {step: unlock both, do: "order = order * 10 + 2\\nA = False\\nB = False"}
final:
  a_first: order == 12
"""


def test_deadlock_and_final_frequency():
    # 14 states (tests/test_graph.py). Orderings: a entirely first, b entirely
    # first, and {lock A; lock B} in either order (they commute), which deadlocks.
    prog = from_text(LOCKS)
    assert violation_frequency(prog, violation("deadlock")) == Frequency(14, 1, 3, 1)
    assert violation_frequency(prog, violation("final", "a_first")) == Frequency(14, 1, 3, 1)


def test_assert_frequency():
    # x = 0 -> a: x = 1 -> b's assert fails; or b checks first, then a writes.
    # 4 states; from one of them (x == 1, b not run) the assert fails.
    prog = from_text("""
        racecheck: 1
        title: assert
        state: {x: 0}
        threads:
          a:
            steps:
              - {step: x = 1, do: x = 1}
          b:
            steps:
              - {step: check, do: "assert x == 0, 'x changed'"}
        """)
    assert violation_frequency(prog, violation("assert", "assert", "x changed")) == Frequency(4, 1, 2, 1)
    assert violation_frequency(prog, violation("error")) == Frequency(4, 0, 2, 0)


def test_cyclic_graph_has_no_ordering_count_and_livelock_counts_states():
    spin = from_text("""
        racecheck: 1
        title: a spin wait
        state: {flag: false}
        threads:
          a:
            steps:
              - {while: not flag, steps: []}
          b:
            steps:
              - {step: set, do: flag = True}
        final:
          set: flag
        """)
    assert violation_frequency(spin, violation("final", "set")) == Frequency(3, 0, None, None)
    toggle = from_text("""
        racecheck: 1
        title: toggling forever
        state: {x: 0, y: 0}
        threads:
          a:
            steps:
              - while: true
                steps:
                  - {step: toggle, do: x = 1 - x}
          b:
            steps:
              - {step: y = 1, do: y = 1}
        """)
    assert violation_frequency(toggle, violation("livelock")) == Frequency(4, 4, None, None)


def test_frequency_over_budget_is_none():
    assert violation_frequency(seed("unlocked"), violation("invariant", "page_not_lost"), budget=57) is None


def test_describe():
    assert Frequency(58, 2, 8, 2).describe() == "2 of 58 states (3.4%), 2 of 8 orderings (25.0%)"
    assert Frequency(3, 0, None, None).describe() == "0 of 3 states (0.0%)"


# == frequency: the seed and lastzero ===================================================================

def test_seed_frequencies():
    lost = violation("invariant", "page_not_lost")
    assert violation_frequency(seed("unlocked"), lost) == Frequency(58, 2, 10, 2)
    assert violation_frequency(seed("v1"), lost) == Frequency(62, 2, 11, 5)
    assert violation_frequency(seed("unlocked_kernel"), lost) == Frequency(80, 0, 12, 0)
    assert violation_frequency(seed("put_first"), lost) == Frequency(86, 2, 17, 4)
    assert violation_frequency(seed("trylock"), lost) == Frequency(54, 0, 9, 0)
    for variant in ("v1", "unlocked", "unlocked_kernel", "put_first", "trylock"):
        assert brute_force(seed(variant), lost) == violation_frequency(seed(variant), lost)


@pytest.mark.parametrize("n, states, traces", [(2, 33, 5), (3, 130, 12), (4, 499, 28), (5, 1890, 64),
                                               (6, 7109, 144)])
def test_lastzero_trace_counts(n, states, traces):
    # Abdulla et al., "Optimal dynamic partial order reduction" (POPL 2014):
    # lastzero(4), (5), (6) have 28, 64 and 144 Mazurkiewicz traces. The state
    # graph is acyclic: the reader's loop moves i down on every turn.
    prog = from_text(lastzero(n))
    assert violation_frequency(prog, violation("deadlock")) == Frequency(states, 0, traces, 0)
    if n <= 3:
        assert brute_force(prog, violation("deadlock")) == Frequency(states, 0, traces, 0)


# == frequency against a brute-force reference on random scenarios ======================================

class TooBig(Exception):
    pass


def steps_from(program: Program, s: tuple) -> list:
    """Every step out of s: (t, picks, next state or StepError), straight from Program."""
    result = []
    for t, thread in enumerate(program.threads):
        if s[thread.pc_slot] == thread.end:
            continue
        try:
            if not program.enabled(s, t):
                continue
        except USER_ERRORS as exc:
            result.append((t, (), as_step_error(exc)))
            continue
        chooser = Chooser()
        while chooser is not None:
            try:
                target = program.execute(s, t, chooser)
            except StepError as exc:
                target = exc
            result.append((t, chooser.used(), target))
            plan = chooser.next_plan()
            chooser = Chooser(plan) if plan is not None else None
    return result


def brute_force(program: Program, wanted: Violation, max_runs: int = 3000, max_class: int = 20000) -> Frequency:
    """Enumerate every complete run; group them by swapping adjacent independent steps.

    A step (letter) is (thread, its pc and locals before the step, picks, outcome);
    two letters are independent when both succeed, their threads differ and
    Independence says so. Checks on the way: independence is a function of the
    letters, every independent pair commutes (the diamond), every word the swaps
    produce is itself a run, and all runs of a class agree on the violation.
    """
    independence = Independence(program, Target(program, wanted).visible)
    target = Target(program, wanted)
    letters: dict = {}                     # letter -> its number
    info: list = []                        # number -> (masks or None, thread)
    states: dict = {}                      # state -> steps out of it
    runs: dict = {}                        # tuple of letter numbers -> violates
    initial = []
    for _, s in program.initial_states():
        if not isinstance(s, InitialFailure) and s not in initial:
            initial.append(s)

    def letter(s, t, picks, target_):
        thread = program.threads[t]
        local = tuple(s[slot] for slot in [thread.pc_slot] + [slot for _, slot in thread.local_slots])
        ok = type(target_) is tuple
        key = (t, local, picks, "ok" if ok else (type(target_).__name__, str(target_)))
        masks = independence.masks(s, t) if ok else None
        if key in letters:
            assert info[letters[key]][0] == masks, "independence is not a function of the step"
        else:
            letters[key] = len(info)
            info.append((masks, t))
        return letters[key]

    def out(s):
        if s not in states:
            states[s] = steps_from(program, s)
            check_diamonds(s, states[s])
        return states[s]

    def check_diamonds(s, steps):
        ok = [(t, p, s2) for t, p, s2 in steps if type(s2) is tuple]
        for t, p, sa in ok:
            for u, q, sb in ok:
                if t < u and independent(letter(s, t, p, sa), letter(s, u, q, sb)):
                    after_a = {(v, r): x for v, r, x in steps_from(program, sa)}
                    after_b = {(v, r): x for v, r, x in steps_from(program, sb)}
                    assert after_a[(u, q)] == after_b[(t, p)], "independent steps do not commute"

    def independent(a, b):
        (ma, ta), (mb, tb) = info[a], info[b]
        if ma is None or mb is None:
            return False
        return independence.independent(ta, ma[0], ma[1], tb, mb[0], mb[1])

    # -- every complete run, depth first (a cycle means no count) ----------------
    cyclic = False
    for k, s0 in enumerate(initial):
        # runs from different initial states are different orderings: a first
        # pseudo-step names the initial state (dependent on everything)
        letters[("init", k)] = len(info)
        info.append((None, -1))
        stack = [(s0, (letters[("init", k)],), target.passes(s0), (s0,))]
        while stack:
            s, word, bad, path = stack.pop()
            steps = out(s)
            if not steps:
                runs[word] = bad or target.ends(s)
            for t, picks, s2 in steps:
                w2 = word + (letter(s, t, picks, s2),)
                if type(s2) is not tuple:
                    runs[w2] = bad or target.fails(s2)
                elif s2 in path:
                    cyclic = True
                else:
                    stack.append((s2, w2, bad or target.passes(s2), path + (s2,)))
            if len(runs) > max_runs or cyclic:
                break
        if len(runs) > max_runs:
            raise TooBig
    # -- every reachable state ------------------------------------------------------
    seen = set(initial)
    queue = deque(initial)
    while queue:
        s = queue.popleft()
        for _, _, s2 in out(s):
            if type(s2) is tuple and s2 not in seen:
                seen.add(s2)
                queue.append(s2)
    violating = sum(1 for s in seen if target.state_violates(s, out(s)))
    if cyclic or wanted.kind == "livelock":
        return Frequency(len(seen), violating, None, None)
    # -- classes: close each run under swaps of adjacent independent letters --------
    classes: dict = {}
    for word in runs:
        if word in classes:
            continue
        closure = {word}
        todo = [word]
        while todo:
            w = todo.pop()
            for i in range(len(w) - 1):
                if independent(w[i], w[i + 1]):
                    w2 = w[:i] + (w[i + 1], w[i]) + w[i + 2:]
                    if w2 not in closure:
                        closure.add(w2)
                        todo.append(w2)
            if len(closure) > max_class:
                raise TooBig
        assert closure <= set(runs), "a swap of independent steps gave a word that is not a run"
        verdicts = {runs[w] for w in closure}
        assert len(verdicts) == 1, "runs of one class disagree on the violation"
        canonical = min(closure)
        for w in closure:
            classes[w] = canonical
    canon = {}
    for w, c in classes.items():
        canon[c] = runs[w]
    return Frequency(len(seen), violating, len(canon), sum(1 for bad in canon.values() if bad))


def targets_of(program: Program) -> list:
    wanted = [violation("invariant", p.name) for p, _ in program.invariants]
    wanted += [violation("final", p.name) for p, _ in program.finals]
    wanted += [violation("deadlock"), violation("error"), violation("assert", "assert", "")]
    return wanted


_SETTINGS = settings(max_examples=int(os.environ.get("FREQUENCY_EXAMPLES", "120")), deadline=None,
                     database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                           HealthCheck.filter_too_much])


@_SETTINGS
@given(scenario_texts(failing_properties=True))
def test_frequency_equals_brute_force_on_random_scenarios(text):
    prog = from_text(text)
    for wanted in targets_of(prog):
        try:
            expected = brute_force(prog, wanted)
        except TooBig:
            assume(False)
        assert violation_frequency(prog, wanted) == expected, wanted


def test_brute_force_reference_agrees_on_the_hand_checked_scenarios():
    assert brute_force(from_text(LOST_UPDATE), violation("final", "both")) == Frequency(13, 1, 4, 2)
    assert brute_force(from_text(VISIBLE), violation("invariant", "y_first")) == Frequency(4, 1, 2, 1)
    assert brute_force(from_text(VISIBLE), violation("final", "both")) == Frequency(4, 0, 1, 0)
    assert brute_force(from_text(LOCKS), violation("deadlock")) == Frequency(14, 1, 3, 1)


def test_brute_force_catches_a_wrong_independence():
    # The reference must not simply trust Independence: one that calls two
    # conflicting steps independent breaks the diamond check.
    prog = from_text(LOST_UPDATE)

    class Liar(Independence):
        def independent(self, *args):
            return args[0] != args[3]

    import racecheck.explore.frequency as frequency
    original = frequency.Independence
    try:
        globals()["Independence"] = Liar
        with pytest.raises(AssertionError):
            brute_force(prog, violation("final", "both"))
    finally:
        globals()["Independence"] = original
