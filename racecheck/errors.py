"""The two kinds of failure racecheck distinguishes.

``ScenarioError`` is the user's: a scenario file (or a command-line argument)
that cannot be accepted. It carries the position and renders as
``FILE:LINE:COL: message``, followed by the offending line with a caret and,
where one helps, a hint. ``ScenarioWarning`` is input that loads but is
probably not what its author meant; it renders the same way with
``warning:`` before the message, and changes no verdict and no exit status.
``MissingDependency`` is an installation problem: a package racecheck needs
cannot be imported. ``InternalError`` is racecheck's own: a bug, never
shown as a verdict.
"""

from __future__ import annotations

import difflib
import importlib.util
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
        return _render(self.pos, self.message, self.hint, self.source_line)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class ScenarioWarning:
    """Input that loads, but is probably a mistake (a YAML 1.1 boolean
    spelling, an ``await`` nothing else can change): shown on stderr as
    ``FILE:LINE:COL: warning: message``; the check goes on unchanged."""

    pos: Pos
    message: str
    hint: str = ""
    source_line: str = ""

    def render(self) -> str:
        return _render(self.pos, f"warning: {self.message}", self.hint, self.source_line)

    def __str__(self) -> str:
        return self.render()


def _render(pos: Pos | None, message: str, hint: str, source_line: str) -> str:
    """``FILE:LINE:COL: message``, the source line with a caret, the hint."""
    lines = [f"{pos}: {message}" if pos else message]
    if source_line and pos:
        text = source_line.rstrip("\n").expandtabs(1)
        lines.append(f"    {text}")
        lines.append("    " + " " * (pos.col - 1) + "^")
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)


class UsageError(RacecheckError):
    """A command-line request that cannot be carried out (exit status 2)."""


# import name -> the distribution that provides it (pyproject.toml's dependencies)
DEPENDENCIES = {"yaml": "PyYAML", "networkx": "networkx", "tabulate": "tabulate"}


class MissingDependency(RacecheckError):
    """Packages racecheck needs are not installed (exit status 69)."""

    EXIT_STATUS = 69                  # sysexits.h EX_UNAVAILABLE, beside 70 (EX_SOFTWARE) for bugs

    def __init__(self, modules):
        self.packages = tuple(DEPENDENCIES[m] for m in modules)
        quoted = [f"'{p}'" for p in self.packages]
        names = " and ".join(filter(None, (", ".join(quoted[:-1]), quoted[-1])))
        which = f"the Python package {names}, which is" if len(self.packages) == 1 else \
            f"the Python packages {names}, which are"
        super().__init__(f"racecheck needs {which} not installed")

    def render(self) -> str:
        return (f"racecheck: {self}\n"
                f"hint: install racecheck with its dependencies: pip install -e . (from the checkout), "
                f"or the missing packages alone: pip install {' '.join(self.packages)}")

    @staticmethod
    def of(exc: BaseException) -> "MissingDependency | None":
        """The missing dependency ``exc`` reports, if it is one (else None)."""
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            top = exc.name.split(".")[0]
            if top in DEPENDENCIES:
                return MissingDependency((top,))
        return None


def missing_dependency() -> MissingDependency | None:
    """The dependencies that cannot be found, looked up without being
    imported (networkx, for one, is imported only by some commands)."""
    missing = []
    for module in DEPENDENCIES:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):       # a finder refused it; or sys.modules[module] is None
            found = False
        if not found:
            missing.append(module)
    return MissingDependency(missing) if missing else None


class InternalError(RacecheckError):
    """A bug in racecheck itself."""


def did_you_mean(word: str, candidates) -> str:
    """A hint naming the closest candidate, or '' when none is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
