"""Schedules: the printable, replayable list of choices a search made.

A schedule names, for each transition, the thread instance that ran and, when
its code called ``choose()``, which alternatives it took::

    writeback*2,reclaim*5,writeback:1,writeback

``NAME*N`` repeats a step N times; ``NAME:1.0`` took alternative 1 at the
first ``choose()`` and 0 at the second (trailing zeros are left out). A
leading ``init:I.J`` gives the choices made while building the initial state
(only when local-only code at the start of a thread calls ``choose()``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from racecheck.errors import UsageError, did_you_mean

_ITEM = re.compile(r"^(?P<name>[^\W\d]\w*(?:#\d+)?)(?::(?P<picks>\d+(?:\.\d+)*))?(?:\*(?P<times>\d+))?$")


@dataclass(frozen=True)
class Schedule:
    init: tuple = ()          # picks for the initial state
    steps: tuple = ()         # ((thread index, picks), ...)

    def __len__(self) -> int:
        return len(self.steps)

    def format(self, thread_names) -> str:
        items = []
        if self.init:
            items.append("init:" + ".".join(map(str, self.init)))
        i = 0
        while i < len(self.steps):
            j = i
            while j + 1 < len(self.steps) and self.steps[j + 1] == self.steps[i]:
                j += 1
            t, picks = self.steps[i]
            item = thread_names[t] + (":" + ".".join(map(str, picks)) if picks else "")
            items.append(item + (f"*{j - i + 1}" if j > i else ""))
            i = j + 1
        return ",".join(items) if items else "-"

    def extend(self, step) -> "Schedule":
        return Schedule(self.init, self.steps + (step,))


def parse_schedule(text: str, thread_names) -> Schedule:
    """Parse the printed form back; unknown threads are a ``UsageError``."""
    text = text.strip()
    if text in ("", "-"):
        return Schedule()
    init: tuple = ()
    steps = []
    index = {name: i for i, name in enumerate(thread_names)}
    for n, raw in enumerate(text.split(",")):
        item = raw.strip()
        if n == 0 and item.startswith("init:"):
            picks = item[len("init:"):]
            if not re.fullmatch(r"\d+(?:\.\d+)*", picks):
                raise UsageError(f"schedule item '{item}': init takes choices like init:1.0")
            init = tuple(int(p) for p in picks.split("."))
            continue
        match = _ITEM.match(item)
        if not match:
            raise UsageError(f"schedule item {n + 1} '{item}' is not THREAD, THREAD:CHOICES or THREAD*COUNT")
        name = match["name"]
        if name not in index:
            hint = did_you_mean(name, thread_names)
            raise UsageError(f"schedule item {n + 1}: no thread named '{name}'; threads are {', '.join(thread_names)}"
                             + (f" ({hint})" if hint else ""))
        picks = tuple(int(p) for p in match["picks"].split(".")) if match["picks"] else ()
        while picks and picks[-1] == 0:
            picks = picks[:-1]
        times = int(match["times"]) if match["times"] else 1
        if times > 1_000_000:
            raise UsageError(f"schedule item {n + 1}: repeat count {times} is too large")
        steps.extend([(index[name], picks)] * times)
    return Schedule(init, tuple(steps))
