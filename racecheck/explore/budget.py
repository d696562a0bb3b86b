"""What is left of a check's time and memory, for everything after the search.

``--timeout`` and ``--max-memory`` bound a variant's whole check: the
verdict search (which watches them itself, in ``explore.search``) and the
analyses that follow it: the fewest-switch minimisation, coverage and how
common the violation is. A ``Deadline`` is started with the check; each
analysis asks it between two units of its own work (one state expanded)
and stops when it has passed, so an analysis overruns the bound by at most
one such unit, whose cost the work limit of ``model.runtime`` bounds. A
stopped analysis reports nothing rather than a partial answer, and the
report says which bound stopped it ("not computed: time bound").

Memory is the peak resident size of the process (what the kernel's
``ru_maxrss`` says), looked at no more often than every ``MEMORY_LOOK``
seconds, because the look costs a system call.
"""

from __future__ import annotations

import resource
import time

MEMORY_LOOK = 0.02            # seconds between two looks at the memory
TIME = "time bound"
MEMORY = "memory bound"
INTERRUPTED = "interrupted"


def peak_memory() -> int:
    """Peak resident memory of this process, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class DeadlinePassed(Exception):
    """An analysis ran out of time or memory; ``reason`` is TIME or MEMORY."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Deadline:
    """The instant a check must end by (``time.perf_counter()``, None: no
    bound) and the memory it may use (bytes, None: no bound). ``reason`` is
    what ``passed()`` says once the instant has passed."""

    __slots__ = ("at", "max_memory", "reason", "_next_look")

    def __init__(self, at: float | None = None, max_memory: int | None = None, reason: str = TIME):
        self.at = at
        self.max_memory = max_memory
        self.reason = reason
        self._next_look = 0.0

    @classmethod
    def start(cls, bounds) -> "Deadline":
        """From now, the ``timeout`` and ``max_memory`` of a ``Bounds``."""
        at = time.perf_counter() + bounds.timeout if bounds.timeout else None
        return cls(at, bounds.max_memory)

    @classmethod
    def interrupted(cls) -> "Deadline":
        """Already passed: the person at the terminal pressed Ctrl-C."""
        return cls(0.0, None, INTERRUPTED)

    def passed(self) -> str | None:
        """TIME or MEMORY (or ``reason``) when that bound has passed, else None."""
        now = time.perf_counter()
        if self.at is not None and now >= self.at:
            return self.reason
        if self.max_memory is not None and now >= self._next_look:
            self._next_look = now + MEMORY_LOOK
            if peak_memory() > self.max_memory:
                return MEMORY
        return None

    def check(self) -> None:
        """Raise ``DeadlinePassed`` when a bound has been passed."""
        reason = self.passed()
        if reason is not None:
            raise DeadlinePassed(reason)

    def watching(self, program) -> "Watched":
        """``program`` for a search written against ``Program`` (such as
        ``explore.graph.full_graph``): its successor function checks this
        deadline before each state it expands."""
        return Watched(program, self)


class Watched:
    """A ``Program`` whose ``successors()`` function checks a deadline first;
    every other attribute is the program's own."""

    def __init__(self, program, deadline: Deadline):
        self._program = program
        self._deadline = deadline

    def __getattr__(self, name):
        return getattr(self._program, name)

    def successors(self):
        expand, check = self._program.successors(), self._deadline.check

        def watched(s: tuple) -> list:
            check()
            return expand(s)
        return watched
