"""Under ``memory: lkmm``, a scenario with ``smp_mb()`` between every
two shared accesses of each thread has exactly the sc verdicts (a full
barrier restores sequential consistency for marked accesses); without
the barriers lkmm may only add violations. And scenarios pinned against
herd7 (tests/lkmm_scenarios/herd/: hand translations, herd7's output in
herd7-results.tsv): the same answer, execution count and data-race flag.
"""

from __future__ import annotations

import csv
import os
import random

import pytest

from racecheck.explore.check import check_variant
from racecheck.explore.lkmm_check import check_variant_lkmm
from racecheck.scenario.loader import load_scenario

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lkmm_scenarios")

_ACCESSES = ("r = READ_ONCE(L)", "r = smp_load_acquire(L)", "WRITE_ONCE(L, V)", "smp_store_release(L, V)",
             "r = xchg(L, V)", "r = xchg_relaxed(L, V)", "atomic_inc(L)", "r = cmpxchg(L, 0, V)")


_READS = ("READ_ONCE(L)", "smp_load_acquire(L)", "xchg_relaxed(L, 0)", "atomic_read(L)")
_WRITES = ("WRITE_ONCE(L, 1)", "smp_store_release(L, 1)", "r = xchg_relaxed(L, 1)", "atomic_set(L, 1)")
# classic shapes: per thread, (kind, location) in program order; the final's weak outcome
_SHAPES = {
    "SB": ([("w", "x"), ("r", "y")], [("w", "y"), ("r", "x")], "T0.a1 == 0 and T1.a1 == 0"),
    "MP": ([("w", "x"), ("w", "y")], [("r", "y"), ("r", "x")], "T1.a0 == 1 and T1.a1 == 0"),
    "LB": ([("r", "x"), ("w", "y")], [("r", "y"), ("w", "x")], "T0.a0 == 1 and T1.a0 == 1"),
    "R": ([("w", "x"), ("w", "y")], [("w", "y"), ("r", "x")], "y == 1 and T1.a1 == 0"),
}


def random_scenario(rng: random.Random, fenced: bool) -> str:
    """A classic shape with random annotations (half the time), or two
    or three threads of one to three random accesses to x and y (five in
    all) with a random outcome as the final check's failure."""
    if rng.random() < 0.5:
        return _shape(rng, fenced)
    threads, atoms, budget = [], [], 5               # accesses in all: the enumeration grows fast
    for t in range(rng.choice((2, 2, 3))):
        steps, regs = [], []
        count = min(rng.choice((1, 2, 2, 2, 3)), budget - (2 - t))
        budget -= count
        for i in range(count):
            code = rng.choice(_ACCESSES).replace("L", rng.choice("xy")).replace("V", str(rng.randint(1, 2)))
            if code.startswith("r = "):
                reg = f"r{i}"
                regs.append(reg)
                code = reg + code[1:]
            steps += _with_fence(code, fenced and bool(steps))
        threads.append(_thread(t, regs, steps))
        atoms += [f"T{t}.{r} == {rng.choice((0, 0, 1, 1, 2))}" for r in regs]
    atoms += [f"{loc} == {rng.randint(0, 3)}" for loc in "xy" if rng.random() < 0.3]
    return _file(threads, " and ".join(atoms) or "x == 0")


def _shape(rng: random.Random, fenced: bool) -> str:
    name = rng.choice(sorted(_SHAPES))
    *shape, weak = _SHAPES[name]
    threads = []
    for t, accesses in enumerate(shape):
        steps, regs = [], []
        for i, (kind, loc) in enumerate(accesses):
            code = rng.choice(_READS if kind == "r" else _WRITES).replace("L", loc)
            if kind == "r" or code.startswith("r = "):
                regs.append(f"a{i}")
                code = f"a{i} = " + code.removeprefix("r = ")
            steps += _with_fence(code, fenced and bool(steps))
        threads.append(_thread(t, regs, steps))
    return _file(threads, weak)


def _with_fence(code: str, fence: bool) -> list:
    return (["      - step: smp_mb()\n        do: smp_mb()"] if fence else []) + \
        [f"      - step: {code}\n        do: {code}"]


def _thread(t: int, regs: list, steps: list) -> str:
    locals_ = "{" + ", ".join(f"{r}: 0" for r in regs) + "}"
    return f"  T{t}:\n    locals: {locals_}\n    steps:\n" + "\n".join(steps)


def _file(threads: list, cond: str) -> str:
    return ("racecheck: 1\ntitle: random\nstate: {x: 0, y: 0}\nthreads:\n" + "\n".join(threads) +
            f"\nfinal:\n  outcome: not ({cond})\n")


def verdict(path: str, memory: str) -> str:
    scenario = load_scenario(path, memory)
    [variant] = scenario.variants
    checked = check_variant_lkmm(scenario, variant) if memory == "lkmm" else \
        check_variant(scenario, variant, minimize=False, analysis_budget=0)
    return checked.exploration.verdict.value


@pytest.mark.parametrize("seed", range(40))
def test_full_barriers_give_the_sc_verdicts(tmp_path, seed):
    rng = random.Random(seed)
    fenced = tmp_path / "fenced.yaml"
    text = random_scenario(rng, fenced=True)
    fenced.write_text(text)
    assert verdict(str(fenced), "lkmm") == verdict(str(fenced), "sc"), text
    bare = tmp_path / "bare.yaml"
    bare.write_text(random_scenario(random.Random(seed), fenced=False))
    if verdict(str(bare), "sc") == "violation":
        assert verdict(str(bare), "lkmm") == "violation"


def test_the_random_scenarios_are_not_all_alike(tmp_path):
    """Guard against a generator whose scenarios never differ between the
    models without barriers (the test above would then prove little)."""
    differ = []
    for seed in range(40):
        bare = tmp_path / f"bare{seed}.yaml"
        bare.write_text(random_scenario(random.Random(seed), fenced=False))
        if verdict(str(bare), "sc") != verdict(str(bare), "lkmm"):
            differ.append(seed)
    assert differ == [1, 3, 4, 7, 8, 11, 14, 16, 18, 21, 25, 32, 36, 39]


def _herd() -> dict:
    with open(os.path.join(HERE, "herd", "herd7-results.tsv"), encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle, delimiter="\t") if r and not r[0].startswith("#")]
    return {r[0][:-len(".litmus")]: r[1:] for r in rows}


PINNED = [("lost_wakeup", "before"), ("lost_wakeup", "after"), ("early_return", "mb"), ("early_return", "none"),
          ("plain_mp", "once"), ("plain_mp", "relacq")]


@pytest.mark.parametrize("name, variant", PINNED)
def test_scenarios_agree_with_herd7(name, variant):
    observation, positive, negative, _states, flag = _herd()[f"{name}+{variant}"]
    scenario = load_scenario(os.path.join(HERE, f"{name}.yaml"))
    checked = check_variant_lkmm(scenario, scenario.variant(variant))
    found = {v.short() for v in (checked.exploration.violation,) + checked.exploration.others if v}
    [final] = scenario.finals
    assert checked.executions == int(positive) + int(negative)
    assert (final.name in found) == (observation != "Never")
    assert checked.violating == int(positive) or final.name not in found or "data-race" in found
    assert ("data-race" in found) == (flag == "data-race")
