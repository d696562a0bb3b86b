"""SPIN's bitstate search, one run or a swarm of them (``--bitstate``,
``--swarm K``).

A bitstate search (pan compiled with ``-DBITSTATE``) keeps one bit array
instead of a table of states: each state sets ``-k`` bits chosen by hash
functions, and a state whose bits are all set already counts as seen, so
a state that only collides with others is never expanded. Such a search
can miss states; it cannot show that no violation is reachable. A swarm
(Holzmann, Joshi and Groce, "Swarm verification", ASE 2008) runs many such
searches that differ in what they miss, and stops at the first violation
one of them finds::

    run 1   pan           -k3 -w32                SPIN's own order
    run 2   pan_permuted  -k1 -w32 -h10 -p_reverse processes in reverse
    run 3   pan_rand      -k2 -w32 -h47 -RS983488254
    ...                                           a random order, seeded

``plan(k, bits)`` picks these flags: run 1 is what ``--bitstate`` alone
runs, the others vary the bits per state (``-k``, 1 to 4), the hash
function (``-h``), the array size (``-w``, the largest that fits or half
of it) and the order of the search: processes in reverse (pan compiled
``-DPERMUTED``), then transitions and processes in a random order (pan
compiled ``-DT_RAND -DP_RAND``) from ``-RS`` seeds. The choice is a fixed
function of the run's number: the same runs every time. SPIN's own order
tries the highest-numbered thread first; a violation that needs thread 0
to go first may wait for nearly the whole state space there, and be
found at once in reverse (benchmarks/swarm.py, ``first_counters``).
``run_swarm`` compiles the verifiers the plan needs once, runs the plan
as many at a time as it is given (each in its own directory, for its
trail), kills the others at the first error and replays that run's trail
(``pan -r -S``: the trail names the transitions taken, whatever the order
that found them). ``Swarm`` is what was run and what pan said: states
stored in each run, pan's "hash factor" (bits in the array over states
stored; SPIN advises more than 100) and bits per state.

What it does not do: merge the runs' coverage (runs overlap; the states
they stored together lie between the largest run and their sum), or vary
pan's depth limit as SPIN's swarm tool does (each run grows it as
``pan.verify`` does). Nothing here prints.
"""

from __future__ import annotations

import math
import os
import random
import re
import subprocess
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from racecheck.errors import InternalError

from .pan import _PROGRESS, FIRST_DEPTH, MAX_DEPTH, VECTOR_SIZES, PanOptions, PanResult, _run, generated, parse

MAX_BITS = 32            # -w32: a 512 MiB array per run, SPIN's swarm default
MIN_BITS = 20
QUICK_BITS = 20          # tests: a 128 KiB array


@dataclass(frozen=True)
class Run:
    """One bitstate run: its number (from 1), whether it needs the pan
    compiled to search in random order, and pan's flags."""

    number: int
    build: str           # a key of BUILDS
    flags: tuple

    def describe(self) -> str:
        return f"run {self.number}: {self.build} {' '.join(self.flags)} (compiled {' '.join(BUILDS[self.build])})"


BUILDS = {"pan": ("-DBITSTATE",), "pan_permuted": ("-DBITSTATE", "-DPERMUTED"),
          "pan_rand": ("-DBITSTATE", "-DT_RAND", "-DP_RAND")}


def plan(count: int, bits: int) -> tuple:
    """``count`` runs over ``-w{bits}`` arrays (see the module's doc)."""
    runs = [Run(1, "pan", ("-k3", f"-w{bits}"))]
    for number in range(2, count + 1):
        pick = random.Random(number)
        flags = (f"-k{pick.randint(1, 4)}", f"-w{pick.choice((bits, bits - 1))}", f"-h{pick.randrange(100)}")
        if number == 2:
            runs.append(Run(number, "pan_permuted", flags + ("-p_reverse",)))
        else:
            runs.append(Run(number, "pan_rand", flags + (f"-RS{pick.randrange(1, 1 << 30)}",)))
    return tuple(runs)


def bits_for(memory: int | None, parallel: int, quick: bool = False) -> int:
    """``-w``: the largest array (2^w bits) such that the arrays of the
    runs at a time take at most a quarter of ``memory`` (the rest: pan's
    stacks, 60 MB at its first depth limit), from ``MIN_BITS`` to
    ``MAX_BITS``."""
    if quick:
        return QUICK_BITS
    if not memory:
        return MAX_BITS
    array = memory // (4 * parallel)
    return max(MIN_BITS, min(MAX_BITS, int(math.log2(max(1, array * 8)))))


def machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Finished:
    """A run and what pan reported; ``stopped``: killed before it ended
    (another run found a violation, or the time bound passed); ``limit``:
    "depth" or "memory" when pan's depth limit or -DMEMLIM cut it short."""

    run: Run
    result: PanResult | None
    hash_factor: float | None = None
    bits_per_state: int | None = None
    stopped: bool = False
    limit: str | None = None


@dataclass(frozen=True)
class Swarm:
    """The runs of one bitstate search, in the order they ended."""

    planned: int
    parallel: int
    finished: tuple = ()
    found: Finished | None = None       # the run whose error trail was replayed
    timed_out: bool = False

    @property
    def ended(self) -> tuple:
        return tuple(f for f in self.finished if not f.stopped and f.result is not None)

    @property
    def states(self) -> int:
        return sum(f.result.states for f in self.finished if f.result is not None)

    @property
    def transitions(self) -> int:
        return sum(f.result.transitions for f in self.finished if f.result is not None)

    @property
    def depth(self) -> int:
        return max((f.result.depth for f in self.finished if f.result is not None), default=0)

    def limited(self, limit: str) -> int:
        return sum(1 for f in self.ended if f.limit == limit)


class _VectorTooSmall(Exception):
    """pan's state vector does not fit: compile again, larger."""


class _Pool:
    """The pan processes running, so that one error or the deadline can
    kill the rest."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs: dict = {}
        self.stop = threading.Event()
        self.seen: dict = {}             # run number -> (states, transitions, depth, memory)
        self.next_report = 0.0

    def start(self, number: int, cmd: list, cwd: str):
        with self.lock:
            if self.stop.is_set():
                return None
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            self.procs[number] = proc
            return proc

    def done(self, number: int) -> None:
        with self.lock:
            self.procs.pop(number, None)

    def kill_all(self) -> None:
        with self.lock:
            self.stop.set()
            for proc in self.procs.values():
                if proc.poll() is None:
                    proc.kill()


def run_swarm(model: str, options: PanOptions, runs: tuple, parallel: int, progress=None) -> Swarm:
    """Compile pan for ``runs`` and run them, ``parallel`` at a time, until
    one reports an error or all have ended (or ``options.timeout``)."""
    with generated(model, options) as (work, deadline):
        for vector in VECTOR_SIZES:
            _compile(work, options, runs, vector, deadline)
            swarm = _swarm(work, options, runs, parallel, deadline, progress)
            if swarm is not None:
                return swarm
        raise InternalError(f"pan's state vector needs more than {VECTOR_SIZES[-1]} bytes")


def _compile(work: str, options: PanOptions, runs: tuple, vector: int, deadline) -> None:
    flags = [flag for flag in options.gcc_flags(vector) if flag != "-DBITSTATE"]
    for build in sorted({run.build for run in runs}):
        _run(["gcc", "-O0" if options.quick else "-O2", "-w", *flags, *BUILDS[build], "-o", build, "pan.c"],
             work, deadline)


def _swarm(work, options, runs, parallel, deadline, progress) -> Swarm | None:
    """The runs' results; None when the state vector does not fit."""
    pool = _Pool()
    started = time.monotonic()
    finished, found, timed_out = [], None, False
    with ThreadPoolExecutor(max_workers=parallel) as executor:
        pending = {executor.submit(_one, work, run, options, pool, progress, started): run for run in runs}
        try:
            while pending:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                if not done:
                    timed_out = True
                    pool.kill_all()
                    continue
                for future in done:
                    pending.pop(future)
                    try:
                        one = future.result()
                    except _VectorTooSmall:
                        pool.kill_all()
                        return None
                    if one is None:           # not started: another run had found an error
                        continue
                    finished.append(one)
                    if found is None and not one.stopped and one.result.errors:
                        found = one
                        pool.kill_all()
        finally:
            pool.kill_all()
    if found is not None:
        found = _replayed(work, found, options, deadline)
    return Swarm(len(runs), parallel, tuple(finished), found, timed_out and found is None)


def _one(work: str, run: Run, options: PanOptions, pool: _Pool, progress, started: float):
    """One run in its own directory, its depth limit grown while it is too
    small (as ``pan.verify`` does); None if it was not started."""
    where = _directory(work, run, options)
    os.makedirs(where, exist_ok=True)
    first = depth = options.max_depth or FIRST_DEPTH
    while True:
        cmd = [os.path.join(work, run.build), *run.flags, f"-m{depth}", "-n"]
        proc = pool.start(run.number, cmd, where)
        if proc is None:
            return None if depth == first else Finished(run, None, stopped=True)
        out = _read(proc, run.number, pool, progress, started)
        pool.done(run.number)
        if "errors:" not in out:
            if "VECTORSZ" in out:
                raise _VectorTooSmall
            if pool.stop.is_set():
                return Finished(run, _partial(pool, run.number), stopped=True)
            raise InternalError(f"pan did not finish ({run.describe()}):\n{out[-2000:]}")
        result = parse(out, replace(options, bitstate=True))
        too_small = "max search depth too small" in out
        if too_small and not result.errors and not options.max_depth and depth < MAX_DEPTH:
            depth *= 10
            continue
        limit = "depth" if too_small and not result.errors else None
        limit = "memory" if "reached -DMEMLIM bound" in out else limit
        return Finished(run, result, _number(r"hash factor: ([\d.e+]+)", out, float),
                        _number(r"bits set per state: (\d+)", out, int), limit=limit)


def _read(proc, number: int, pool: _Pool, progress, started: float) -> str:
    """pan's output; its progress lines, summed over the runs, passed on."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        match = _PROGRESS.search(line)
        if match:
            with pool.lock:
                memory = int(float(match[4]) * 2 ** 20) if match[4] else 0
                pool.seen[number] = (int(float(match[2])), int(float(match[3])), int(match[1]), memory)
                seen = pool.seen.values()
                now = time.monotonic()
                if progress is not None and now >= pool.next_report:
                    progress(sum(s[0] for s in seen), sum(s[1] for s in seen), max(s[2] for s in seen),
                             now - started, memory=sum(s[3] for s in seen) or None)
                    pool.next_report = now + getattr(progress, "every", 1.0)
    proc.wait()
    return "".join(lines)


def _partial(pool: _Pool, number: int) -> PanResult | None:
    """What a killed run had reported of its search (pan prints a line
    every million states), or None."""
    if number not in pool.seen:
        return None
    states, transitions, depth, _ = pool.seen[number]
    return PanResult(0, states, transitions, depth, 0.0, "stopped", "")


def _number(pattern: str, out: str, kind):
    match = re.search(pattern, out)
    return kind(match[1]) if match else None


def _directory(work: str, run: Run, options: PanOptions) -> str:
    """Where a run writes its trail: a directory of its own, or, with
    -DNCORE (one run), pan.c's, whose name pan's cores take their shared
    memory keys from."""
    return work if options.cores > 1 else os.path.join(work, f"run{run.number}")


def _replayed(work: str, found: Finished, options: PanOptions, deadline) -> Finished:
    """The run that found an error, with the ``@RC`` lines of its trail."""
    where = _directory(work, found.run, options)
    out = _run([os.path.join(work, found.run.build), "-r", "-S", "-n"], where, deadline,
               check=False)
    lines = tuple(line.strip() for line in out.splitlines() if line.strip().startswith("@RC "))
    return replace(found, result=replace(found.result, replay=lines))


def describe(passes) -> list:
    """What the runs did, as lines of prose: ``passes`` is ``((what was
    looked for, Swarm), ...)``, one per search (``engine.runs``)."""
    lines = []
    for what, swarm in passes:
        head = f"  bitstate search for {what}: " if len(passes) > 1 else "  bitstate search: "
        lines.append(head + _runs_phrase(swarm) + "; " + _states_phrase(swarm))
        if swarm.found is not None:
            lines.append(f"  found by {swarm.found.run.describe()}")
    if passes and passes[-1][1].found is None:
        lines.append("  a bitstate search can miss states: no violation found is not a proof that "
                     "none is reachable (--engine spin without --bitstate, or the default engine, "
                     "can give one)")
    return lines


def _runs_phrase(swarm: Swarm) -> str:
    total, ended = swarm.planned, len(swarm.ended)
    at_a_time = "" if swarm.parallel == 1 else f", {swarm.parallel} at a time"
    if swarm.found is not None:
        if total == 1:
            return "the run found a violation"
        before = sum(1 for f in swarm.ended if not f.result.errors)
        at_a_time = "" if swarm.parallel == 1 else f" ({swarm.parallel} at a time)"
        return (f"run {swarm.found.run.number} of {total}{at_a_time} found a violation"
                + (f", {before} other{'s' if before > 1 else ''} ended without one" if before else ""))
    if swarm.timed_out and total == 1:
        text = "the time bound stopped the run"
    elif swarm.timed_out:
        text = (f"{ended} of {_plural(total, 'run')} ended without a violation before the time bound "
                "stopped the search")
    elif total == 1:
        text = "the run ended without a violation"
    else:
        text = f"all {total} runs ended without a violation{at_a_time}"
    cut = [f"{n} at {what}" for n, what in ((swarm.limited("depth"), "SPIN's depth limit"),
                                            (swarm.limited("memory"), "pan's memory bound")) if n]
    return text + (f" ({', '.join(cut)})" if cut else "")


def _states_phrase(swarm: Swarm) -> str:
    counts = [f.result.states for f in swarm.finished if f.result is not None]
    if not counts:
        return "no run reported its states"
    factors = [f.hash_factor for f in swarm.ended if f.hash_factor is not None]
    bits = sorted({f.bits_per_state for f in swarm.ended if f.bits_per_state is not None})
    if len(counts) == 1:
        text = f"{counts[0]:,} states stored"
    else:
        text = f"{_span(counts, '{:,}')} states stored in one run, {sum(counts):,} in all (runs overlap)"
    if factors:
        text += f"; hash factor {_span(factors, '{:.3g}')} (SPIN advises more than 100)"
    if bits:
        text += f", {_span(bits, '{}')} bit{'' if bits == [1] else 's'} per state"
    return text


def _span(values, form: str) -> str:
    low, high = min(values), max(values)
    return form.format(low) if low == high else f"{form.format(low)} to {form.format(high)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
