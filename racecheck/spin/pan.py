"""Running SPIN on an exported model: ``spin -a``, ``gcc``, ``./pan``.

``verify(model, options)`` writes the model into a fresh directory,
generates and compiles the verifier and runs it, and returns a
``PanResult``: errors, states, transitions, depth, time, whether the search
was complete, and the lines the model printed while pan replayed its error
trail (``pan -r -S``; the ``@RC`` lines ``spin.trail`` reads back).

What is switched on: only the kinds of violation in ``options.checks``
(``export.check_macro`` names their switches), or all. pan runs with
partial-order reduction unless ``reduction`` is False (``-DNOREDUCE``);
``collapse`` is ``-DCOLLAPSE`` (exact, compressed state vectors),
``hash_compact`` ``-DHC4`` (a 32-bit fingerprint per state: a collision
may hide a state), ``bitstate`` ``-DBITSTATE`` (a bit per state: may miss
many), ``cores`` ``-DNCORE=N``. A search that is not exhaustive says so in
``incomplete``: bitstate, hash-compact, the depth limit reached, pan's
memory limit. Hash-compact counts as not exhaustive: its fingerprints are
short enough that on lastzero(9) (372,346 states) it missed 17 of them.

Nothing here prints; a missing ``spin`` or ``gcc`` is ``MissingTool``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from racecheck.errors import InternalError, MissingDependency, RacecheckError

from .values import check_macro

FIRST_DEPTH = 1_000_000          # pan's -m: steps on its depth-first stack; grown while it is too small
MAX_DEPTH = 100_000_000
VECTOR_SIZES = (4096, 65536)     # -DVECTORSZ: bytes in a state vector; the larger one if pan asks


class MissingTool(MissingDependency):
    """``spin`` or a C compiler is not on PATH (exit status 69, as for a
    missing package)."""

    def __init__(self, tools):
        RacecheckError.__init__(self, f"--engine spin needs {' and '.join(tools)}, which "
                                      f"{'is' if len(tools) == 1 else 'are'} not on PATH")
        self.packages = tuple(tools)

    def render(self) -> str:
        return (f"racecheck: {self}\n"
                "hint: install SPIN and a C compiler (Debian, Ubuntu: apt-get install\n"
                "  spin gcc), or use the default engine (leave out --engine spin)")


def missing_tools() -> list:
    """The programs SPIN runs need that are not on PATH."""
    return [tool for tool in ("spin", "gcc") if shutil.which(tool) is None]


def require_tools() -> None:
    missing = missing_tools()
    if missing:
        raise MissingTool(missing)


@dataclass(frozen=True)
class PanOptions:
    checks: tuple | None = None      # kinds switched on: ("invariant", NAME), ("deadlock",)...; None: all
    reduction: bool = True           # SPIN's partial-order reduction
    collapse: bool = False           # -DCOLLAPSE
    hash_compact: bool = False       # -DHC4
    bitstate: bool = False           # -DBITSTATE (incomplete)
    cores: int = 1                   # -DNCORE=N
    max_depth: int | None = None     # pan -m; None: grown until it suffices
    memory: int | None = None        # bytes: -DMEMLIM
    timeout: float | None = None     # seconds for the whole run
    quick: bool = False              # small models (tests): gcc -O0, a 2^18-slot hash table

    def spin_flags(self) -> list:
        if self.checks is None:
            return []
        return ["-DCHECK_ALL=0"] + [f"-D{check_macro(*kind)}=1" for kind in self.checks]

    def gcc_flags(self, vector: int) -> list:
        flags = ["-DSAFETY", f"-DVECTORSZ={vector}"]
        flags += [] if self.reduction else ["-DNOREDUCE"]
        flags += ["-DCOLLAPSE"] if self.collapse else []
        flags += ["-DHC4"] if self.hash_compact else []
        flags += ["-DBITSTATE"] if self.bitstate else []
        flags += [f"-DNCORE={self.cores}"] if self.cores > 1 else []
        flags += [f"-DMEMLIM={max(1, self.memory >> 20)}"] if self.memory else []
        return flags


@dataclass(frozen=True)
class PanResult:
    errors: int
    states: int                      # stored
    transitions: int
    depth: int
    seconds: float                   # pan's own elapsed time
    incomplete: str | None           # why the search was not exhaustive, or None
    output: str
    replay: tuple = field(default=(), repr=False)   # the model's printf lines along the error trail

    @property
    def complete(self) -> bool:
        return self.incomplete is None


class PanTimeout(RacecheckError):
    """The time bound passed while SPIN ran."""


def verify(model: str, options: PanOptions = PanOptions(), progress=None) -> PanResult:
    """Generate, compile and run pan on ``model``; replay its trail if it
    found an error. ``progress(states, transitions, depth, seconds,
    memory=BYTES)`` is called as pan reports (every million states), at
    most every ``progress.every`` seconds; ``memory`` is pan's."""
    require_tools()
    with generated(model, options) as (work, deadline):
        for vector in VECTOR_SIZES:
            _run(["gcc", "-O0" if options.quick else "-O2", "-w", *options.gcc_flags(vector), "-o", "pan",
                  "pan.c"], work, deadline)
            result = _search(work, options, deadline, progress)
            if result is not None:
                break
        else:
            raise InternalError(f"pan's state vector needs more than {VECTOR_SIZES[-1]} bytes")
        if result.errors:
            replay = _run(["./pan", "-r", "-S", "-n"], work, deadline, check=False)
            result = _with_replay(result, replay)
        return result


@contextlib.contextmanager
def generated(model: str, options: PanOptions):
    """A fresh directory holding ``model`` and the pan.c that ``spin -a``
    generates from it, with the checks of ``options``; yields it and the
    deadline of ``options.timeout``."""
    deadline = time.monotonic() + options.timeout if options.timeout else None
    with tempfile.TemporaryDirectory(prefix="racecheck-spin-") as work:
        with open(os.path.join(work, "model.pml"), "w", encoding="utf-8") as handle:
            handle.write(model)
        _run(["spin", *options.spin_flags(), "-a", "model.pml"], work, deadline)
        yield work, deadline


def _search(work: str, options: PanOptions, deadline, progress) -> PanResult | None:
    """pan's result, growing its depth limit while it is too small; None
    when the state vector does not fit (compile again, larger)."""
    depth = options.max_depth or FIRST_DEPTH
    while True:
        flags = [f"-m{depth}", "-n"] + (["-w26"] if options.bitstate else ["-w18"] if options.quick else [])
        out = _watch(["./pan", *flags], work, deadline, progress)
        if "VECTORSZ" in out and "errors:" not in out:
            return None
        result = parse(out, options)
        too_small = "max search depth too small" in out
        if not too_small or options.max_depth or depth >= MAX_DEPTH or result.errors:
            if too_small and not result.errors:
                result = _incomplete(result, f"SPIN's depth limit (-m{depth}) was reached")
            return result
        depth *= 10


def _with_replay(result: PanResult, out: str) -> PanResult:
    lines = tuple(line.strip() for line in out.splitlines() if line.strip().startswith("@RC "))
    return PanResult(result.errors, result.states, result.transitions, result.depth, result.seconds,
                     result.incomplete, result.output, lines)


def _incomplete(result: PanResult, why: str) -> PanResult:
    return PanResult(result.errors, result.states, result.transitions, result.depth, result.seconds,
                     result.incomplete or why, result.output, result.replay)


def parse(out: str, options: PanOptions = PanOptions()) -> PanResult:
    """pan's statistics (summed over cores with -DNCORE)."""
    errors = [int(n) for n in re.findall(r"errors: (\d+)", out)]
    if not errors:
        raise InternalError(f"pan did not finish:\n{out[-2000:]}")
    states = sum(int(float(n)) for n in re.findall(r"([\d.e+]+) states, stored", out))
    transitions = sum(int(float(n)) for n in re.findall(r"([\d.e+]+) transitions \(", out))
    depth = max((int(n) for n in re.findall(r"depth reached (\d+)", out)), default=0)
    seconds = max((float(n) for n in re.findall(r"elapsed time ([\d.e+]+) seconds", out)), default=0.0)
    incomplete = None
    if options.bitstate:
        incomplete = "a bitstate search (-DBITSTATE) may miss states"
    elif options.hash_compact:
        incomplete = "hash-compact (-DHC4) may miss states"
    elif "reached -DMEMLIM bound" in out or "out of memory" in out:
        incomplete = "SPIN's memory bound was reached"
    return PanResult(max(errors), states, transitions, depth, seconds, incomplete, out)


_PROGRESS = re.compile(r"Depth=\s*(\d+)\s+States=\s*([\d.e+]+)\s+Transitions=\s*([\d.e+]+)"
                       r"(?:\s+Memory=\s*([\d.]+))?")


def _watch(cmd: list, work: str, deadline, progress) -> str:
    """Run pan, passing its progress lines on; its whole output."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timer = None
    if deadline is not None:
        timer = threading.Timer(max(0.0, deadline - start), proc.kill)
        timer.start()
    lines, next_report = [], start
    try:
        for line in proc.stdout:
            lines.append(line)
            match = _PROGRESS.search(line)
            now = time.monotonic()
            if match and progress is not None and now >= next_report:
                memory = {"memory": int(float(match[4]) * 2 ** 20)} if match[4] else {}
                progress(int(float(match[2])), int(float(match[3])), int(match[1]), now - start, **memory)
                next_report = now + getattr(progress, "every", 1.0)
        proc.wait()
    finally:
        if timer is not None:
            timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if deadline is not None and time.monotonic() >= deadline and proc.returncode != 0:
        raise PanTimeout("the time bound passed while SPIN ran")
    return "".join(lines)


def _run(cmd: list, work: str, deadline, check: bool = True) -> str:
    timeout = None
    if deadline is not None:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise PanTimeout("the time bound passed while SPIN ran")
    try:
        run = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PanTimeout("the time bound passed while SPIN ran") from None
    out = run.stdout + run.stderr
    if check and (run.returncode != 0 or re.search(r"^spin: .*error", run.stdout, re.M | re.I)):
        raise InternalError(f"{' '.join(cmd)} failed on the exported model:\n{out[-2000:]}")
    return out
