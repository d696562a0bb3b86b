"""The two kinds of failure racecheck distinguishes.

``ScenarioError`` is the user's: a scenario file (or a command-line argument)
that cannot be accepted. It carries the position and renders as
``FILE:LINE:COL: message``, followed by the offending line with a caret and,
where one helps, a hint. ``InternalError`` is racecheck's own: a bug, never
shown as a verdict.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Pos:
    """A position in a scenario file; ``line`` and ``col`` count from 1."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class RacecheckError(Exception):
    """Base of the errors racecheck raises on purpose."""


class ScenarioError(RacecheckError):
    """Bad user input, with the place it was found."""

    def __init__(self, pos: Pos | None, message: str, hint: str = "", source_line: str = ""):
        super().__init__(message)
        self.pos = pos
        self.message = message
        self.hint = hint
        self.source_line = source_line

    def render(self) -> str:
        head = f"{self.pos}: {self.message}" if self.pos else self.message
        lines = [head]
        if self.source_line and self.pos:
            text = self.source_line.rstrip("\n").expandtabs(1)
            lines.append(f"    {text}")
            lines.append("    " + " " * (self.pos.col - 1) + "^")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class UsageError(RacecheckError):
    """A command-line request that cannot be carried out (exit status 2)."""


class InternalError(RacecheckError):
    """A bug in racecheck itself."""


def did_you_mean(word: str, candidates) -> str:
    """A hint naming the closest candidate, or '' when none is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
