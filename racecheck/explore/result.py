"""The value a search returns: verdict, violation, statistics, exit reason.

Nothing here prints; ``report`` turns these values into text.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field

from racecheck.explore.schedule import Schedule


class Verdict(enum.Enum):
    SAFE = "safe"
    VIOLATION = "violation"
    INCONCLUSIVE = "inconclusive"


class ExitReason(enum.Enum):
    EXHAUSTED = "exhausted"
    FOUND = "found"
    MAX_STATES = "max-states"
    MAX_DEPTH = "max-depth"
    MAX_MEMORY = "max-memory"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    INCOMPLETE = "incomplete"      # --engine spin: a search that need not see every state

    def describe(self) -> str:
        return {
            ExitReason.EXHAUSTED: "the search was exhaustive",
            ExitReason.FOUND: "the search stopped at the violation it was looking for",
            ExitReason.MAX_STATES: "stopped at the --max-states bound",
            ExitReason.MAX_DEPTH: "states at the --max-depth bound were not expanded",
            ExitReason.MAX_MEMORY: "stopped at the --max-memory bound",
            ExitReason.TIMEOUT: "stopped at the --timeout bound",
            ExitReason.INTERRUPTED: "interrupted",
            ExitReason.INCOMPLETE: "SPIN's search was not exhaustive (bitstate or hash-compact, or its depth limit)",
        }[self]

    @property
    def is_bound(self) -> bool:
        return self not in (ExitReason.EXHAUSTED, ExitReason.FOUND)


class Outcome(enum.Enum):
    """How a verdict compares with what the scenario expects."""

    MATCH = "as expected"
    MISMATCH = "UNEXPECTED"
    INCONCLUSIVE = "inconclusive"


def parse_size(text: str) -> int:
    """``500M``, ``4G``, ``1048576``: a memory size in bytes (ValueError if not)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    number, unit = (text[:-1], units[text[-1].upper()]) if text[-1:].upper() in units else (text, 1)
    try:
        value = int(float(number) * unit)
    except (ValueError, OverflowError):
        raise ValueError(f"'{text}' is not a size like 500M or 4G") from None
    if value < 1 << 20:
        raise ValueError(f"'{text}' is too small: at least 1M")
    return value


def default_memory() -> int | None:
    """The default memory bound: half of this machine's memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class Bounds:
    """Where a search stops early (None: no bound). ``max_memory`` is in
    bytes of the process's peak resident memory."""

    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None
    max_memory: int | None = None


@dataclass(frozen=True)
class Violation:
    """One kind of violation and a shortest schedule that reaches it.

    ``kind`` is invariant, final, assert, deadlock, livelock or error;
    ``name`` the property name for invariant/final (else the kind);
    ``message`` the assert or error text. For a livelock, ``cycle`` is a
    schedule that the threads can repeat forever from the end of
    ``schedule`` without any of them finishing.
    """

    kind: str
    name: str
    message: str
    schedule: Schedule
    cycle: Schedule | None = None

    @property
    def key(self) -> tuple:
        return (self.kind, self.name, self.message if self.kind == "assert" else "")

    def describe(self) -> str:
        if self.kind in ("invariant", "final"):
            return f"{self.kind} {self.name}"
        if self.kind in ("assert", "error") and self.message:
            return f"{self.kind}: {self.message}"
        return self.kind

    def short(self) -> str:
        return self.name if self.kind in ("invariant", "final") else self.kind

    def matches(self, expect) -> bool:
        if expect.kind == "violation":
            return True
        if expect.kind != "named":
            return False
        if expect.name == "assert" and expect.message is not None:
            return self.kind == "assert" and self.message == expect.message
        if self.kind in ("invariant", "final"):
            return self.name == expect.name
        return self.kind == expect.name


@dataclass(frozen=True)
class Stats:
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    violating_states: int = 0

    def describe(self) -> str:
        return (f"{self.states} states, {self.transitions} transitions, depth {self.depth}, "
                f"{self.seconds:.2f} s")


@dataclass(frozen=True)
class Exploration:
    """The result of exploring one variant."""

    verdict: Verdict
    violation: Violation | None
    others: tuple = ()                  # further violation kinds met on the way
    stats: Stats = field(default_factory=Stats)
    exit_reason: ExitReason = ExitReason.EXHAUSTED
    bounds: Bounds = field(default_factory=Bounds)
    checked: tuple = ()                 # what was checked, for the report
    reduced: bool = False               # partial-order reduction was used
    collision_bound: float | None = None  # hash-compact: P(a fingerprint collision hid a state) <= this
    # per thread, the (pc, pc after) of every transition the search took (pc
    # after -1: the step or its await failed); explore.coverage reads it
    moves: tuple = field(default=(), compare=False, repr=False)

    def outcome(self, expect) -> Outcome:
        found = [v for v in (self.violation,) + self.others if v is not None]
        if expect.kind == "safe":
            if found:
                return Outcome.MISMATCH
            return Outcome.INCONCLUSIVE if self.exit_reason.is_bound else Outcome.MATCH
        if any(v.matches(expect) for v in found):
            return Outcome.MATCH
        return Outcome.INCONCLUSIVE if self.exit_reason.is_bound else Outcome.MISMATCH
