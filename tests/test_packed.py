"""The packed search (generated code over packed states) against the
interpreter's search: same states, transitions, depth, verdict, the same
violations with the same schedules, and the same moves (coverage), on every
shipped variant, on random scenarios (shared data that changes shape
included), and on values that outgrow their layout. Every counterexample
the packed search reports replays in the interpreter.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings

sys.path.insert(0, str(Path(__file__).parent))

from strategies import scenario_texts  # noqa: E402
from test_differential import PROFILE  # noqa: E402

from racecheck.explore import levels, statetable  # noqa: E402
from racecheck.explore.result import Bounds  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.explore.trace import confirm  # noqa: E402
from racecheck.model.packed import PackedModel  # noqa: E402
from racecheck.model.program import Program  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402
from racecheck.scenario.schema import Expectation  # noqa: E402

SCENARIOS = Path(__file__).parent.parent / "scenarios"
FINGERPRINT_12345 = 0x7293C55E350B10
EXHAUST = Expectation("named", "__no_such_property__")


def _variants():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        scenario = load_scenario(str(path))
        if getattr(scenario, "memory", "sc") != "sc":
            continue                  # executions under LKMM: no interleaving search
        for variant in scenario.variants:
            yield pytest.param(scenario, variant, id=f"{path.stem}:{variant.name}")


def _summary(result) -> tuple:
    violations = [result.violation, *result.others] if result.violation else []
    return (result.verdict, result.exit_reason, result.stats.states, result.stats.transitions,
            result.stats.depth, result.stats.violating_states, result.moves,
            [(v.kind, v.name, v.message, v.schedule, v.cycle) for v in violations])


def _agree(scenario, variant, expect=None, bounds=Bounds(), hash_compact=False):
    program = Program(scenario, variant, check_accesses=False)
    expect = expect if expect is not None else variant.expect
    fast = explore(program, bounds, expect, reduction=False, hash_compact=hash_compact, packed=True)
    slow = explore(program, bounds, expect, reduction=False, hash_compact=hash_compact, packed=False)
    assert _summary(fast) == _summary(slow)
    for violation in ([fast.violation, *fast.others] if fast.violation else []):
        confirm(program, violation)          # raises unless it replays to the violation
    return fast


@pytest.mark.parametrize("scenario, variant", list(_variants()))
def test_shipped_variant_same_search(scenario, variant):
    _agree(scenario, variant)
    _agree(scenario, variant, expect=EXHAUST)


@pytest.mark.parametrize("scenario, variant", list(_variants())[::7])
def test_shipped_variant_same_search_hash_compact(scenario, variant):
    _agree(scenario, variant, hash_compact=True)


def _load_text(text: str):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(text)
    try:
        return load_scenario(handle.name)
    finally:
        os.unlink(handle.name)


@settings(PROFILE)
@given(scenario_texts(shapes=True))
def test_random_scenarios_same_search(text):
    scenario = _load_text(text)
    for variant in scenario.variants:
        _agree(scenario, variant, expect=EXHAUST, bounds=Bounds(max_states=20_000))


def _scenario(state: str, steps: str, extra: str = ""):
    """Thread ``a`` runs ``steps`` (a YAML list, any indentation), ``b`` one empty step."""
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "      ")
    return _load_text(f"racecheck: 1\ntitle: t\nstate: {state}\nthreads:\n  a:\n"
                      f"    locals: {{x: 0}}\n    steps:\n{body}\n"
                      f"  b:\n    steps:\n      - step: touch\n        do: pass\n{extra}\n")


GROWING = [
    # an int past its first 4 bits, and past 8
    ("{n: 0}", """\
       - while: n < 300
         steps:
           - step: n += 7
             do: n += 7
       """),
    # an int going negative, then a string, then None
    ("{n: 1}", """\
       - step: n -= 3
         do: n -= 3
       - step: n = 'low'
         do: n = 'low'
       - step: n = None
         do: n = None
       """),
    # a list that grows and shrinks, a bool that becomes an int
    ("{l: [1, 2], f: false}", """\
       - step: l = l + [3]
         do: l = l + [3]
       - step: f = 5
         do: f = 5
       - step: l = []
         do: l = []
       - step: l = [f]
         do: l = [f]
       """),
    # many symbols in one group, records in a list indexed by state
    ("{p: [{s: a}, {s: b}], i: 0}", """\
       - while: i < 20
         steps:
           - step: p[i % 2].s = name
             do: p[i % 2].s = 'v' + 'x' * i
           - step: i += 1
             do: i += 1
       """),
    # 1 and True kept apart; lists holding them too
    ("{v: 1, w: [1]}", """\
       - step: v = True
         do: v = True
       - step: w = [True]
         do: w = [True]
       - step: x = v + 1
         do: x = v + 1
       """),
]


@pytest.mark.parametrize("state, steps", GROWING)
def test_values_that_outgrow_the_layout(state, steps):
    scenario = _scenario(state, steps, extra="livelock: allowed")
    for variant in scenario.variants:
        _agree(scenario, variant, expect=EXHAUST)


def test_a_failing_fast_step_reports_the_interpreters_error():
    scenario = _scenario("{l: [0, 1, 2]}", """\
        - step: x = l[x + 5]
          do: x = l[x + 5]
        """)
    result = _agree(scenario, scenario.variants[0])
    assert result.violation.kind == "error"
    assert "index 5 out of range for list of length 3" in result.violation.message


def test_layout_widens_and_the_model_decodes_what_it_encodes():
    scenario = _scenario("{n: 0, l: [1, 2], r: {a: true, b: s}}", """\
        - step: n = 1000
          do: n = 1000
        """)
    program = Program(scenario, scenario.variants[0], check_accesses=False)
    model = PackedModel(program)
    state = next(s for _, s in program.initial_states())
    assert model.decode(model.encode(state)) == state
    groups = {key: (g.kind, g.width) for key, g in model.layout.groups.items()}
    assert groups[(0,)] == ("int", 4)
    assert groups[(2, ".a")] == ("bool", 1)
    assert groups[(2, ".b")][0] == "sym"
    result = explore(program, reduction=False, packed=True)
    assert result.stats.states == explore(program, reduction=False, packed=False).stats.states


@pytest.mark.parametrize("exact", [True, False])
def test_compiled_and_python_tables_number_alike(exact):
    rng = random.Random(7)
    states = [rng.getrandbits(rng.choice([3, 60, 101])) for _ in range(5000)]
    tables = [statetable.PyTable(13, exact)]
    if statetable.compiled():
        tables.append(statetable.table(13, exact))
    answers = [[t.add(s) for s in states] for t in tables]
    assert all(a == answers[0] for a in answers)
    assert len({s for s in states}) == len(tables[0])
    for t in tables:
        assert [t.find(s) for s in states[:100]] == [tables[0].find(s) for s in states[:100]]
        if exact:
            assert all(t.get(t.find(s)) == s for s in states[:100])
            assert t.slice(3, 7) == b"".join(t.get(k).to_bytes(13, "little") for k in range(3, 7))
            with pytest.raises(IndexError):
                t.slice(0, len(t) + 1)
        else:
            with pytest.raises(ValueError):
                t.slice(0, 1)
        with pytest.raises(OverflowError):
            t.add(1 << 104)


def test_the_compiled_table_is_built():
    # CI installs with a C compiler: the compact table must be there
    assert statetable.compiled()


def test_fingerprints_are_fixed():
    # the same in every process: pinned
    assert statetable.fingerprint(12345, 13) == FINGERPRINT_12345
    assert statetable.fingerprint(1, 13) != statetable.fingerprint(2, 13)


def test_edges_grow_a_fourth_byte(monkeypatch):
    """Past 2 ** 24 states, edges take 4 bytes (here: past 100)."""
    import racecheck.explore.packed as packed
    scenario = load_scenario(str(SCENARIOS / "swapin_skip_swapcache_aba.yaml"))
    looping = [v for v in scenario.variants if Program(scenario, v, check_accesses=False).may_cycle]
    assert looping
    monkeypatch.setattr(packed, "_THREE_BYTES", 100)
    for variant in looping:
        _agree(scenario, variant, expect=EXHAUST)


def _spill_often(monkeypatch):
    """Levels spilled after every call into the table, read back 3 states
    at a time: every way a level is kept is taken many times per search."""
    monkeypatch.setattr(levels, "BLOCK", 1)
    monkeypatch.setattr(levels, "_SLICE", 3)


@pytest.mark.parametrize("hash_compact", [False, True])
def test_levels_in_pieces_same_search(monkeypatch, hash_compact):
    _spill_often(monkeypatch)
    for name in ("exclusive_loads.yaml", "swapin_skip_swapcache_aba.yaml", "dirty_unlocked.yaml"):
        scenario = load_scenario(str(SCENARIOS / name))
        for variant in scenario.variants:
            _agree(scenario, variant, hash_compact=hash_compact)
            _agree(scenario, variant, expect=EXHAUST, bounds=Bounds(max_states=150), hash_compact=hash_compact)


@settings(PROFILE)
@given(scenario_texts(shapes=True))
def test_random_scenarios_levels_in_pieces(text):
    scenario = _load_text(text)
    with pytest.MonkeyPatch.context() as patch:
        _spill_often(patch)
        for variant in scenario.variants:
            _agree(scenario, variant, expect=EXHAUST, bounds=Bounds(max_states=5_000), hash_compact=True)


@pytest.mark.parametrize("exact", [True, False])
def test_a_level_gives_back_its_states_in_order(monkeypatch, exact):
    monkeypatch.setattr(levels, "BLOCK", 64)
    monkeypatch.setattr(levels, "_SLICE", 64)
    table = statetable.table(4, exact)
    for s in range(10):                   # an earlier level
        table.add(s)
    level = levels.Level(table, 4, exact, len(table))
    states = [1000 + 7 * k for k in range(500)]
    for s in states:
        table.add(s)
        level.buf += s.to_bytes(4, "little")
        level.spill()
    level.close()
    assert level.size == 500 and len(level.buf) < 64 + 4
    assert bool(level.blocks) is not exact
    pieces = list(level.pieces())
    assert len(pieces) > 1
    numbers = [first + k for first, data in pieces for k in range(len(data) // 4)]
    back = [int.from_bytes(data[k:k + 4], "little") for _, data in pieces for k in range(0, len(data), 4)]
    assert numbers == list(range(10, 510)) and back == states


def test_a_compact_level_is_kept_smaller():
    table = statetable.table(36, False)
    level = levels.Level(table, 36, False, 0)
    for k in range(100_000):             # states that differ in a few bytes, as siblings do
        s = (k % 8) << 200 | (k // 8) << 8 | 0x5A5A
        table.add(s)
        level.buf += s.to_bytes(36, "little")
        level.spill()
    level.close()
    kept = sum(len(b) for b in level.blocks) + len(level.buf)
    assert kept < 36 * 100_000 // 3
    assert sum(len(data) for _, data in level.pieces()) == 36 * 100_000


def test_without_the_compiled_table(monkeypatch):
    """Installed without a C compiler, the search keeps its states in
    Python (statetable.PyTable) and finds the same."""
    monkeypatch.setattr(statetable, "_Compiled", None)
    assert not statetable.compiled()
    for name in ("exclusive_loads.yaml", "dirty_unlocked.yaml"):
        scenario = load_scenario(str(SCENARIOS / name))
        for variant in scenario.variants:
            _agree(scenario, variant)
            _agree(scenario, variant, hash_compact=True)
