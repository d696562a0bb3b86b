"""The reduction's set-up: the shortcuts that make the access tables cheap
(code that names no shared variable is not analysed; analyses that
consulted no assumption are kept across the rounds of the fixpoint; the
future masks of a thread whose masks did not change are kept) must give
exactly the tables of analysing every piece of code in every round."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parent))

from shipped import shipped_scenarios  # noqa: E402
from strategies import scenario_texts  # noqa: E402

from racecheck.explore.reduction import Reducer  # noqa: E402
from racecheck.model import access  # noqa: E402
from racecheck.model.access import AccessTables  # noqa: E402
from racecheck.model.program import Program  # noqa: E402
from racecheck.scenario.loader import load_scenario  # noqa: E402

SCENARIOS = Path(__file__).parent.parent / "scenarios"
FIELDS = ("reads", "writes", "guards", "future_reads", "future_writes", "neighbours", "conjuncts",
          "conjunct_writers", "written", "unobserved", "final_reads", "loud", "counted", "other_writes",
          "varied", "assigned")


class Plain(AccessTables):
    """Every piece of code analysed in every round, nothing kept."""

    _futures = property(lambda self: {}, lambda self, value: None)

    def _masks(self, code, tid):
        acc = access._analyse(code, self.shared, self.params, tid, self.atoms)
        varied, constants = self._assigned(acc)
        self.varied |= varied
        for bit, value in constants:
            self.assigned[bit] = self.assigned.get(bit, frozenset()) | {value}
        return access._masks(self.atoms, acc)


def tables(cls, program) -> dict:
    t = cls(program)
    found = {name: getattr(t, name) for name in FIELDS}
    found.update(unwritten=t.atoms.unwritten, unstable=t.atoms.unstable, values=t.atoms.values)
    return found


def programs(path) -> list:
    scenario = load_scenario(str(path))
    return [Program(scenario, variant) for variant in scenario.variants]


@pytest.mark.parametrize("path", [Path(p) for p in shipped_scenarios("sc")], ids=lambda p: p.stem)
def test_shipped_tables_are_those_of_the_plain_analysis(path):
    for program in programs(path):
        assert tables(AccessTables, program) == tables(Plain, program)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario_texts(shapes=True))
def test_random_tables_are_those_of_the_plain_analysis(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("setup") / "s.yaml"
    path.write_text(text)
    for program in programs(path):
        assert tables(AccessTables, program) == tables(Plain, program)


def test_the_plain_analysis_really_differs_in_work(monkeypatch):
    """Guard against a comparison of two identical computations: the cheap
    tables analyse fewer pieces of code than the plain ones."""
    program = programs(SCENARIOS / "dirty_unlocked.yaml")[0]
    Plain(program)                  # what the program works out once for itself, out of the count
    calls = []
    real = access._analyse
    monkeypatch.setattr(access, "_analyse", lambda *args: calls.append(1) or real(*args))
    AccessTables(program)
    cheap, calls[:] = len(calls), []
    Plain(program)
    assert 0 < cheap < len(calls)


def test_index_locals_are_found_on_first_use():
    program = programs(SCENARIOS / "dirty_unlocked.yaml")[0]
    reducer = Reducer(program)
    assert all(fixed is None for row in reducer.refine for fixed in row[:-1])
    s = next(iter(program.initial_states()))[1]
    reducer.step_masks(s, 0)
    pc = s[program.threads[0].pc_slot]
    assert reducer.refine[0][pc] is not None
    assert sum(fixed is not None for row in reducer.refine for fixed in row[:-1]) == 1
