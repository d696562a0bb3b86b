"""SPIN's error trail, read back as racecheck's ``Schedule``.

Every transition of the exported model prints the racecheck thread that
runs it, and every ``choose()`` the alternative it takes (``thread.py``)::

    @RC s 1        thread 1 runs a transition
    @RC p 2        ... whose first choose() takes alternative 2
    @RC s 0

pan ignores printf while it searches; when it replays its trail (``pan -r
-S``) only these lines are printed. Picks printed before the first
transition were made by the start-up steps (the schedule's ``init:``).
The monitors (invariants, final checks, deadlock) print nothing: they are
not racecheck steps.
"""

from __future__ import annotations

from racecheck.errors import InternalError
from racecheck.explore.schedule import Schedule


def schedule_of(lines, threads: int) -> Schedule:
    """The schedule that the ``@RC`` lines of a replayed trail describe."""
    init: list = []
    steps: list = []
    for line in lines:
        parts = line.split()
        if len(parts) != 3 or parts[0] != "@RC" or parts[1] not in "sp" or not parts[2].isdigit():
            raise InternalError(f"unexpected line in SPIN's replayed trail: {line!r}")
        value = int(parts[2])
        if parts[1] == "s":
            if value >= threads:
                raise InternalError(f"SPIN's trail names thread {value}; the program has {threads}")
            steps.append((value, []))
        else:
            (steps[-1][1] if steps else init).append(value)
    return Schedule(_trim(init), tuple((t, _trim(picks)) for t, picks in steps))


def _trim(picks: list) -> tuple:
    """Picks without trailing zeros, the printable form (``Chooser.used``)."""
    picks = list(picks)
    while picks and picks[-1] == 0:
        picks.pop()
    return tuple(picks)
