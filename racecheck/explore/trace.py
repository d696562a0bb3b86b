"""Replaying a schedule into a ``Trace``: every state, row and write.

A trace is what diagrams and ``--schedule`` print. Replay uses the traced
variants of the compiled steps, which log every write, branch outcome and
``return``; it never explores. ``confirm`` replays a counterexample found by
the search and checks that it reaches the same violation: a mismatch is an
internal error, never a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from racecheck.errors import InternalError, UsageError
from racecheck.explore.result import Violation
from racecheck.explore.schedule import Schedule
from racecheck.model.program import USER_ERRORS, InitialFailure, Program, as_step_error
from racecheck.model.runtime import ChoiceOutOfRange, Chooser
from racecheck.scenario.values import AssertFailed, StepError


@dataclass(frozen=True)
class Write:
    kind: str                 # "L" for a local, "S" for shared state
    target: str               # e.g. "folio.dirty", "pages[1]", "count"
    old: object
    new: object


@dataclass(frozen=True)
class Row:
    """One executed instruction: its thread, pc, writes and outcome."""

    thread: int
    pc: int
    writes: tuple = ()
    cond: bool | None = None  # a branch's outcome
    returned: bool = False


@dataclass(frozen=True)
class TraceStep:
    thread: int
    picks: tuple
    rows: tuple
    after: tuple | None       # None when the step failed
    error: StepError | None = None


@dataclass(frozen=True)
class Trace:
    schedule: Schedule
    initial: tuple
    init_rows: tuple
    steps: tuple
    init_error: StepError | None = None   # the initial state could not be built
    init_thread: int | None = None        # ... because this thread's code failed

    @property
    def final_state(self) -> tuple:
        for step in reversed(self.steps):
            if step.after is not None:
                return step.after
        return self.initial

    @property
    def failed(self) -> TraceStep | None:
        return self.steps[-1] if self.steps and self.steps[-1].error is not None else None

    @property
    def error(self) -> StepError | None:
        """The failure the trace ends in, if a step (or the initial state) failed."""
        failed = self.failed
        return failed.error if failed is not None else self.init_error


def replay(program: Program, schedule: Schedule) -> Trace:
    """Run ``schedule``; a step that cannot run is a ``UsageError``."""
    initial, init_rows, failure = _initial(program, schedule.init)
    if failure is not None:
        if schedule.steps:
            raise UsageError(f"the initial state cannot be built ({failure[1]}); the schedule cannot run")
        return Trace(schedule, initial, init_rows, (), failure[1], failure[0])
    state = initial
    steps = []
    for n, (t, picks) in enumerate(schedule.steps, start=1):
        if steps and steps[-1].error is not None:
            raise UsageError(f"schedule step {n}: the previous step failed; the schedule cannot go on")
        thread = program.threads[t]
        guard_error = _check_can_run(program, state, t, n)
        if guard_error is not None:           # the await itself fails: a failing step
            steps.append(TraceStep(t, picks, (), None, guard_error))
            continue
        log: list = []
        chooser = Chooser(picks)
        try:
            after = program.execute(state, t, chooser, log)
        except StepError as exc:
            if isinstance(exc, ChoiceOutOfRange):
                raise UsageError(f"schedule step {n} ({thread.name}): {exc}") from None
            steps.append(TraceStep(t, picks, _rows(t, log), None, exc))
            continue
        if len(chooser.plan) > chooser.count and any(chooser.plan[chooser.count:]):
            raise UsageError(f"schedule step {n} ({thread.name}) gives more choices than its code makes")
        steps.append(TraceStep(t, picks, _rows(t, log), after))
        state = after
    return Trace(schedule, initial, init_rows, tuple(steps))


def _initial(program: Program, picks: tuple):
    chooser = Chooser(picks)
    log: list = []
    base = program.base_state()
    state = program.run_prefixes(base, chooser, log)
    if any(chooser.plan[chooser.count:]):
        raise UsageError("schedule init: there is no such choice: the initial state makes "
                         f"{chooser.count} choice{'s' if chooser.count != 1 else ''}")
    failure = None
    if isinstance(state, InitialFailure):
        if isinstance(state[0], ChoiceOutOfRange):
            raise UsageError(f"schedule init: {state[0]}")
        threads = [e[1] for e in log if e[0] == "thread"]
        failure, state = (threads[-1], state[0]), base
    rows = []
    current = None
    chunk: list = []
    for event in log + [("thread", None)]:
        if event[0] == "thread":
            if current is not None:
                rows.extend(_rows(current, chunk))
            current, chunk = event[1], []
        else:
            chunk.append(event)
    return state, tuple(rows), failure


def _check_can_run(program: Program, state: tuple, t: int, n: int):
    """Refuse a step that cannot run; return the error if its await fails."""
    thread = program.threads[t]
    pc = state[thread.pc_slot]
    if pc == thread.end:
        raise UsageError(f"schedule step {n}: thread {thread.name} has already finished")
    try:
        ok = program.enabled(state, t)
    except USER_ERRORS as exc:
        return as_step_error(exc)
    if not ok:
        instr = thread.instrs[pc]
        raise UsageError(f"schedule step {n}: thread {thread.name} cannot run: "
                         f"'{instr.text}' waits for {instr.node.await_.one_line()}")
    return None


def _rows(t: int, log: list) -> tuple:
    rows = []
    pc, writes, cond, returned = None, [], None, False
    for event in log:
        tag = event[0]
        if tag == "row":
            if pc is not None:
                rows.append(Row(t, pc, _coalesce(writes), cond, returned))
            pc, writes, cond, returned = event[1], [], None, False
        elif tag == "w":
            writes.append(Write(*event[1:]))
        elif tag == "cond":
            cond = event[1]
        elif tag == "return":
            returned = True
    if pc is not None:
        rows.append(Row(t, pc, _coalesce(writes), cond, returned))
    return tuple(rows)


def _coalesce(writes: list) -> tuple:
    """Several writes to one target in one row: first old value, last new."""
    merged: dict = {}
    for w in writes:
        if w.target in merged:
            first = merged[w.target]
            merged[w.target] = Write(w.kind, w.target, first.old, w.new)
        else:
            merged[w.target] = w
    return tuple(merged.values())


# -- what a trace ends in ---------------------------------------------------------

def violations_at_end(program: Program, trace: Trace) -> list:
    """The violations the last state of ``trace`` (or its failed step) shows."""
    error = trace.error
    if error is not None:
        kind = "assert" if isinstance(error, AssertFailed) else "error"
        return [(kind, kind, str(error))]
    state = trace.final_state
    invariants, finals, errors = program.judge(state)
    result = [("invariant", name, "") for name in invariants] + [("final", name, "") for name in finals]
    result += [("error", "error", str(exc)) for exc in errors]
    if not program.finished(state):
        try:
            stuck = not any(program.enabled(state, t) for t in range(len(program.threads)))
        except USER_ERRORS as exc:
            return result + [("error", "error", str(as_step_error(exc)))]
        if stuck and not program.deadlock_allowed:
            result.append(("deadlock", "deadlock", ""))
    return result


def confirm(program: Program, violation: Violation) -> Trace:
    """Replay a counterexample; it must reach the violation it claims."""
    try:
        trace = replay(program, violation.schedule)
    except UsageError as exc:
        raise InternalError(f"the counterexample for {violation.describe()} does not replay: {exc}") from None
    if violation.kind == "livelock":
        _confirm_cycle(program, trace, violation)
        return trace
    keys = {(k, n, m if k == "assert" else "") for k, n, m in violations_at_end(program, trace)}
    if violation.key not in keys and not (violation.kind == "error" and any(k[0] == "error" for k in keys)):
        raise InternalError(f"the counterexample for {violation.describe()} replays to {sorted(keys) or 'no violation'}")
    return trace


def _confirm_cycle(program: Program, trace: Trace, violation: Violation) -> None:
    looped = replay(program, Schedule(trace.schedule.init, trace.schedule.steps + violation.cycle.steps))
    if not violation.cycle.steps or looped.final_state != trace.final_state:
        raise InternalError("the livelock cycle does not return to the state it starts from")
