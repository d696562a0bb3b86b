"""The shipped scenario files (scenarios/*.yaml), by the memory model
their ``memory:`` key names. Tests of the sc engine (state graphs, SPIN,
the reference interpreter, schedules) walk ``shipped_scenarios("sc")``;
the ``memory: lkmm`` files are checked by the lkmm engine instead."""

from __future__ import annotations

import functools
import glob
import os

from racecheck.scenario.loader import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=None)
def _memory(path: str) -> str:
    return load_scenario(path).memory


def shipped_scenarios(memory: str) -> list:
    """Absolute paths of scenarios/*.yaml checked under ``memory``."""
    paths = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")))
    return [p for p in paths if _memory(p) == memory]
