"""The ``memory: lkmm`` half of ``racecheck [check]``: each variant's
executions checked (explore.lkmm_check) and printed, and ``--execution N``
to draw one execution again."""

from __future__ import annotations

import sys

from racecheck.errors import UsageError
from racecheck.explore.executions import DEFAULT_MAX_CANDIDATES
from racecheck.explore.lkmm_check import check_variant_lkmm, replay_execution
from racecheck.explore.result import Bounds
from racecheck.report.model import is_default_memory
from racecheck.report.lkmm_scenario import render_lkmm_variant, replay_lines

from .common import EXIT_OK, load_file, pick_variants


def check(scenario, variant, bounds: Bounds, path: str, progress=None):
    """Check and print one variant; the checked variant."""
    checked = check_variant_lkmm(scenario, variant, max_candidates(bounds), progress=progress)
    print()
    print(render_lkmm_variant(checked, path))
    return checked


def warn_unbounded(path: str, bounds: Bounds) -> None:
    """Say so when a bound given does not bound an lkmm check."""
    given = [flag for flag, value in (("--max-depth", bounds.max_depth), ("--timeout", bounds.timeout),
                                      ("--max-memory", None if is_default_memory(bounds.max_memory)
                                       else bounds.max_memory)) if value is not None]
    if given:
        print(f"racecheck: warning: {path} is checked under memory: lkmm, where {', '.join(given)} "
              f"{'does' if len(given) == 1 else 'do'} not apply; --max-states bounds the candidate "
              "executions", file=sys.stderr)


def max_candidates(bounds: Bounds) -> int:
    """--max-states bounds the candidate executions under lkmm."""
    return bounds.max_states or DEFAULT_MAX_CANDIDATES


def replay(path: str, variant_name: str | None, number: int, memory: str | None) -> int:
    scenario = load_file(path, memory=memory)
    if scenario.memory != "lkmm":
        raise UsageError(f"{path} is checked under memory: sc: replay a counterexample with --schedule")
    if variant_name is None and len(scenario.variants) > 1:
        names = ", ".join(v.name for v in scenario.variants)
        raise UsageError(f"{path} has several variants ({names}); choose one with --variant")
    variant = pick_variants(path, scenario, variant_name)[0]
    found, total = replay_execution(scenario, variant, number)
    if found is None:
        raise UsageError(f"{path}: no execution {number}; there are {total} (from 1)")
    from racecheck.explore.lkmm_check import LkmmChecked
    from racecheck.explore.result import Exploration, Verdict
    from racecheck.model.lkmm_scenario import instances
    shell = LkmmChecked(scenario, variant, Exploration(Verdict.SAFE, None),
                        tuple(i.name for i in instances(scenario)))
    label = f", variant {variant.name}" if variant.name else ""
    print(f"== {path}{label}")
    for line in replay_lines(shell, found[0], number, total):
        print(line)
    return EXIT_OK
