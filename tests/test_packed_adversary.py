"""Scenarios chosen to make the packed search (``explore.packed``) and the
interpreter's search disagree: values equal but not alike, states that
outgrow many groups at once, and the corners tests/test_packed.py does not
reach. Each is compared with ``_agree`` (same states, transitions, depth,
verdict, violations with schedules, moves; every counterexample replays).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from test_packed import EXHAUST, _agree, _scenario  # noqa: E402

import racecheck.explore.packed as packed  # noqa: E402
from racecheck.explore.result import Bounds  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.model.packed import PackedModel  # noqa: E402
from racecheck.model.packed_layout import Relayout  # noqa: E402
from racecheck.model.program import Program  # noqa: E402


def _count_layouts(monkeypatch) -> list:
    """The overrides of every layout the packed search builds, from now on."""
    layouts = []
    model = packed.PackedModel

    def counting(program, overrides=None):
        layouts.append(overrides)
        return model(program, overrides)
    monkeypatch.setattr(packed, "PackedModel", counting)
    return layouts


def _all_agree(scenario, **kw):
    results = []
    for variant in scenario.variants:
        results.append(_agree(scenario, variant, **kw))
        results.append(_agree(scenario, variant, expect=EXHAUST, **kw))
    return results


def test_true_and_1_are_one_state_as_in_the_interpreter():
    """``v = True`` and ``v = 1`` lead to equal states: the interpreter
    keeps one (3 states); told apart, the packed search found 5."""
    scenario = _scenario("{v: 1}", """\
        - step: v = choose(True, 1)
          do: v = choose(True, 1)
        - step: v = v
          do: v = v
        """)
    result = _all_agree(scenario)[0]
    assert (result.stats.states, result.stats.transitions) == (3, 3)


def test_equal_lists_of_look_alikes_keep_their_values():
    # one group holds 1 and True: messages show the values as they are
    scenario = _scenario("{l: [1, true]}", """\
        - step: show
          do: assert False, l
        """)
    result = _all_agree(scenario)[0]
    assert result.violation.message == "[1, True]"


def test_a_step_outgrowing_many_groups_restarts_once(monkeypatch):
    """210 variables set to -1 in one step: each group turns sym; this
    used to take one restart each, and past 200 raised RuntimeError."""
    names = [f"v{i}" for i in range(210)]
    state = "{" + ", ".join(f"{n}: 0" for n in names) + "}"
    do = "\n".join(f"    {n} = -1" for n in names)
    scenario = _scenario(state, f"- step: all\n  do: |\n{do}\n")
    restarts = _count_layouts(monkeypatch)
    result = _all_agree(scenario)[0]
    assert result.stats.states == 2
    assert len(restarts) == 4             # two layouts, for each of two runs


def test_a_layout_that_keeps_growing_is_left_to_the_interpreter(monkeypatch):
    monkeypatch.setattr(packed, "_MAX_RELAYOUTS", 3)
    names = [f"v{i}" for i in range(6)]
    state = "{" + ", ".join(f"{n}: 0" for n in names) + "}"
    steps = "".join(f"- step: s{n}\n  do: {n} = -1\n" for n in names)
    scenario = _scenario(state, steps)
    result = _all_agree(scenario)[0]
    assert result.stats.states == 7


def test_initial_look_alikes_in_one_group_leave_it_to_the_interpreter():
    scenario = _scenario("{l: [0, false, 1, true]}", """\
        - step: l[0] = l[3]
          do: l[0] = l[3]
        """)
    program = Program(scenario, scenario.variants[0], check_accesses=False)
    with pytest.raises(Relayout) as raised:
        PackedModel(program)
    assert raised.value.need == "equal"
    _all_agree(scenario)


@pytest.mark.parametrize("start, loop, step", [
    ("0", "{n} < 17", "{n} += 1"),                   # past 4 bits
    ("2", "{n} > -2", "{n} -= 1"),                   # below 0: sym
    ("s", "len({n}) < 10", "{n} = {n} + 'x'"),      # a 3-bit table fills
])
def test_variables_outgrowing_their_layout_one_after_another(monkeypatch, start, loop, step):
    """12 variables outgrow their group in turn: one restart each made
    the packed search many times slower than the interpreter (60 counters
    passing 15: 20.5 s against 1.2 s); past two restarts, the groups of a
    kind now widen together."""
    names = [f"c{i}" for i in range(12)]
    state = "{" + ", ".join(f"{n}: {start}" for n in names) + "}"
    steps = "".join(f"- while: {loop.format(n=n)}\n  steps:\n    - step: {n}\n"
                    f"      do: {step.format(n=n)}\n" for n in names)
    scenario = _scenario(state, steps)
    layouts = _count_layouts(monkeypatch)
    program = Program(scenario, scenario.variants[0], check_accesses=False)
    result = explore(program, reduction=False, packed=True)
    assert len(layouts) == 4
    assert result.stats.states == explore(program, reduction=False, packed=False).stats.states
    _agree(scenario, scenario.variants[0], expect=EXHAUST)


@pytest.mark.parametrize("steps, states", [
    ("- step: l[1] = l\n  do: l[1] = l\n", 299),                      # an element
    ("- step: l[-1] = l\n  do: |\n    l[-1] = l\n    l[0] = n\n", 299),
    ("- step: r.b = [r]\n  do: r.b = [r]\n", 149),                    # a field
], ids=["element", "negative-element", "field"])
def test_writing_into_an_element_keeps_the_value_limits(steps, states):
    """A list or record written into an element or field must leave the
    variable within 100 levels of nesting, as ``runtime.seti`` checks:
    the packed code wrote the bits and went on (SAFE, 12 states more), or
    (the field) crashed rebuilding the schedule with InternalError."""
    steps = "- while: n < 105\n  steps:\n" + "\n".join(
        "    " + line for line in (steps + "- step: n += 1\n  do: n += 1\n").splitlines())
    scenario = _scenario("{l: [0, 1], r: {a: 0, b: 1}, n: 0}", steps)
    result = _all_agree(scenario)[0]
    assert (result.stats.states, result.violation.kind) == (states, "error")
    assert "nested more than 100 deep" in result.violation.message


CORNERS = {
    # negative and out-of-range indices read from the state
    "negative-index": ("{l: [1, 2, 3], i: -3}", """\
        - step: x = l[i]
          do: x = l[i]
        - step: i -= 1
          do: i -= 1
        - step: l[i] = 9
          do: l[i] = 9
        """),
    # a string indexed, grown, then written into (an error)
    "string-index": ("{s: abc, i: 0}", """\
        - step: x = s[i]
          do: x = s[i]
        - step: s = s + s[-1]
          do: s = s + s[-1]
        - step: s[0] = 'z'
          do: s[0] = 'z'
        """),
    # a record copied whole into a local, changed, written back; then one
    # of another shape
    "record-copies": ("{r: {a: 1, t: [1, 2]}, q: {a: 1}}", """\
        - step: x = r
          do: x = r
        - step: change x
          do: |
            x.a += 1
            x.t[-1] = x.a
        - step: r = x
          do: r = x
        - step: r = q
          do: r = q
        """),
    # choose() in a local-only step after a shared one, then an index error
    "local-choose": ("{n: 0}", """\
        - step: n += 1
          do: n += 1
        - step: x = choose(0, 1, 2)
          do: x = choose(0, 1, 2)
        - step: x = [1, 2][x]
          do: x = [1, 2][x]
        - step: n = x
          do: n = x
        """),
    # an await that fails to evaluate, in a loop checked for livelock
    "await-error-loop": ("{n: 0, l: [1, 1, 1]}", """\
        - step: top
          label: top
          await: l[n] > 0
          do: n = (n + 1) % 4
          goto: top
        """),
    # initial states of different shapes, some failing
    "initial-shapes": ("{n: 0}", """\
        - step: init
          do: x = choose(1, 'a', [1, 2], None, True, 0)
        - step: x = 4 // x
          do: x = 4 // x
        - step: n = [x, n]
          do: n = [x, n]
        """),
    # lists and records of lists nested, written through dynamic indices
    "nested-dynamic": ("{p: [[{a: 1, b: [1, 2]}, {a: 2, b: [3, 4]}], [{a: 5, b: [0, 0]}, {a: 6, b: [1, 1]}]], i: 1}",
                       """\
        - step: w1
          do: p[i][i - 1].b[-i] = p[1 - i][i].a + 20
        - step: w2
          do: p[-1][-2].b[i] += 1
        - step: w3
          do: p[i] = p[0]
        - step: w4
          do: p[0][1] = p[1][0]
        """),
}


# code the generated expand pastes in (model.packed_inline) or unrolls
# (all()/any() over a list laid out in place: model.packed_code)
PASTED = {
    # returns inside ifs, a chain of local-only steps longer than the part
    # pasted in place, an if with no return before a return
    "chain-returns": ("{n: 0, l: [0, 0]}", """\
        - step: l1
          do: |
            if x > 1:
                x = x - 1
                return
            x = x + 2
        - step: l2
          do: x = x + 1
        - step: l3
          do: |
            if x == 3:
                x = 0
            x = x + 1
        - step: l4
          do: x = x * 1
        - step: l5
          do: x = x + 0
        - step: w
          do: |
            n = x
            if n > 3:
                return
            l[n % 2] = n
        """, ""),
    # all() and any() over records, as invariants, guards and values; an
    # element that fails, one left unread by short-circuit
    "unrolled": ("{l: [{v: 1, w: 0}, {v: 2, w: 1}, {v: 3, w: 2}], f: false}", """\
        - step: w1
          await: any(p.w == 1 for p in l)
          do: l[1].v = 0
        - step: w2
          do: f = all(p.v > 0 or p.w > 5 for p in l)
        - step: w3
          do: l[0].w = 1 if any(p.v == 0 or 6 // p.v > 10 for p in l) else 7
        - step: w4
          do: l[2].v = 0
        """, "invariants:\n  a: all(p.w < 7 for p in l)\n  b: any(p.v == 3 or 1 // p.v == 0 for p in l)\n"),
    # strings written and compared, a bool copied from a bool and from not
    "strings-bools": ("{s: a, b: false, c: true, r: [{t: x, on: false}]}", """\
        - step: w1
          do: |
            s = 'b'
            r[0].t = 'y'
        - step: w2
          do: |
            b = c
            r[0].on = not b
        - step: w3
          await: s == 'b' and r[0].t != 'x'
          do: s = 'c'
        """, "invariants:\n  on: not r[0].on or s != 'c'\n"),
}


@pytest.mark.parametrize("name", sorted(PASTED))
def test_pasted_and_unrolled_code_agree(name):
    state, steps, extra = PASTED[name]
    _all_agree(_scenario(state, steps, extra))
    _all_agree(_scenario(state, steps, extra), hash_compact=True)


def test_the_corners_are_pasted_in():
    """The scenarios above exercise the pasted code, not the calls it
    falls back on: no step of thread a is called from expand."""
    for name in ("chain-returns", "unrolled"):
        state, steps, extra = PASTED[name]
        scenario = _scenario(state, steps, extra)
        model = PackedModel(Program(scenario, scenario.variants[0], check_accesses=False))
        marks = tuple(tuple([0] * (t.end + 2) for _ in range(t.end + 1)) for t in model.program.threads)
        source = model.expander(marks).source
        assert "F0[" not in source and "G0_" not in source
    invariant = PackedModel(Program(scenario, scenario.variants[0], check_accesses=False)).fast_invariants[0]
    assert "for" not in invariant.__globals__["__source__"]


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corners_agree(name):
    state, steps = CORNERS[name]
    _all_agree(_scenario(state, steps))
    _all_agree(_scenario(state, steps), bounds=Bounds(max_depth=2), hash_compact=True)


def test_states_with_more_than_255_edges_back():
    """260 successors of every state, all but the first state's found
    before: their edges are counted past the one-byte count."""
    alternatives = ", ".join(map(str, range(260)))
    scenario = _scenario("{n: 0}", f"""\
        - step: top
          label: top
          do: n = choose({alternatives})
          goto: top
        """)
    result = _agree(scenario, scenario.variants[0], expect=EXHAUST)
    assert (result.stats.states, result.stats.transitions) == (260, 260 * 260)
    assert result.violation.kind == "livelock"


FAIL_BETWEEN = """\
racecheck: 1
title: a step fails between two successors, one of which breaks the invariant
state: {arr: [0, 0, 0]}
threads:
  w:
    copies: 2
    locals: {i: 0, g: 0}
    steps:
      - {step: check, label: again, do: "assert arr[1] == 0, 'shape 1'"}
      - while: i < 2
        steps:
          - {step: resize, do: "arr = [arr[k] for k in range(1, len(arr))]"}
          - {step: access, do: "arr[-1] += 1"}
          - {step: i++, do: i += 1}
      - if: g < 1
        then:
          - {step: goto again, do: g += 1, goto: again}
invariants:
  inv0: arr[0] <= 1
deadlock: allowed
livelock: allowed
"""


def test_failures_and_checks_keep_the_order_the_steps_ran():
    """In a state where thread 0's successor breaks the invariant and
    thread 1's step fails, both searches report the invariant first (the
    interpreter checks each successor as it makes it); the packed search
    used to record the failure first."""
    from test_packed import _load_text
    scenario = _load_text(FAIL_BETWEEN)
    result = _agree(scenario, scenario.variants[0], expect=EXHAUST)
    kinds = [v.kind for v in [result.violation, *result.others]]
    assert kinds.index("invariant") < kinds.index("error")
