"""``racecheck --engine spin``: one variant checked by SPIN, reported as racecheck.

The variant is exported (``to_promela``), pan is compiled and run
(``spin.pan``), and an error trail is read back (``spin.trail``) into a
racecheck ``Schedule`` that racecheck's traced interpreter replays: the
diagram and the replay line are those of the default engine, and a trail
that does not replay to a violation is an internal error, never a verdict.

Which kinds pan looks for, so that its verdict is the default engine's:

* a variant that expects a named violation: first that kind alone (found:
  the verdict, as the default engine stops at it); then, if it is not
  reachable, every other kind, as the default engine goes on to report
  what else it meets;
* a variant that expects ``safe`` or any violation: every kind at once.

pan stops at its first error, so at most one violation is reported (the
default engine may name others as "also reachable"), and its trail is the
path its depth-first search took, not a shortest one nor one with the
fewest context switches (reported as not minimised).

Not checked: livelock (SPIN has no check for "an ending stays reachable");
a variant that expects one is refused, and a loop-free verdict on a
variant that can loop says so (``not_computed``). Coverage and "how common"
are not computed. ``--max-states`` has no counterpart in pan and is
refused; ``--max-depth`` is pan's ``-m``, ``--max-memory`` its
``-DMEMLIM``, ``--timeout`` the time of the whole run. A search that is not
exhaustive (bitstate, hash-compact, a depth or memory limit) gives an
inconclusive verdict, never "safe"; a violation it finds is real (replayed).
``--bitstate`` and ``--swarm K`` run one or K bitstate searches
(``spin.swarm``); the variant comes back as ``SwarmChecked``, whose
``swarm_lines()`` say what the runs did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace

from racecheck.errors import InternalError, UsageError
from racecheck.explore.check import CheckedVariant
from racecheck.explore.result import Bounds, ExitReason, Exploration, Stats, Verdict, Violation
from racecheck.explore.trace import confirm, replay, violations_at_end
from racecheck.model.inspect import property_reads
from racecheck.model.program import Program
from racecheck.scenario.schema import Scenario, Variant

from .export import to_promela
from .pan import PanOptions, PanResult, PanTimeout, require_tools, verify
from .swarm import bits_for, describe, machine_cores, plan, run_swarm
from .trail import schedule_of

NOT_MINIMISED = "SPIN's depth-first trail, --engine spin"
NOT_COMPUTED = "--engine spin"


def check_variant_spin(scenario: Scenario, variant: Variant, bounds: Bounds = Bounds(), *,
                       reduction: bool = True, hash_compact: bool = False, collapse: bool = False,
                       bitstate: bool = False, swarm: int = 0, cores: int | None = None, quick: bool = False,
                       progress=None) -> CheckedVariant:
    """Check one variant with SPIN; the result as the default engine gives it.
    ``swarm``: that many bitstate runs (``spin.swarm``); ``cores``: pan's
    -DNCORE, or with ``swarm`` the runs at a time (None: 1, or with
    ``swarm`` this machine's cores). ``quick``: compile pan for a small
    model (tests); ``progress`` as for ``explore``, called as pan reports."""
    bitstate = bitstate or swarm > 0
    _refuse_combinations(bitstate, hash_compact, collapse)
    if bounds.max_states is not None:
        raise UsageError("--max-states has no counterpart in SPIN's pan;\n"
                         "  bound --engine spin with --max-memory, --max-depth or --timeout")
    program = Program(scenario, variant)
    _refuse_choose_loops(program)
    expect = variant.expect
    if expect.kind == "named" and expect.name == "livelock":
        raise UsageError(f"{scenario.path}: variant {variant.name or '(default)'} expects a livelock,\n"
                         "  which --engine spin does not check; use the default engine")
    require_tools()
    model = to_promela(program)
    options = PanOptions(reduction=reduction, collapse=collapse, hash_compact=hash_compact, bitstate=bitstate,
                         cores=cores or 1, max_depth=bounds.max_depth, memory=bounds.max_memory, quick=quick)
    if bitstate:
        parallel = min(swarm, cores or machine_cores()) if swarm else 1
        return _check_bitstate(scenario, variant, program, model, options, bounds, swarm, parallel, progress)
    start = time.monotonic()
    totals, found, result = Stats(), None, None
    for checks in runs(program, expect):
        timeout = None if bounds.timeout is None else bounds.timeout - (time.monotonic() - start)
        try:
            result = verify(model, _with(options, checks, timeout), progress)
        except PanTimeout:
            result = None
            break
        totals = _add(totals, result)
        if result.errors:
            found = violation_from(program, result, checks)
            break
        if not result.complete:
            break
    return _checked(scenario, variant, program, found, totals, _exit_reason(result, found, bounds),
                    bounds, reduction)


def _refuse_choose_loops(program: Program) -> None:
    """A local-only loop that calls choose() is taken by racecheck as a
    graph of local states (docs/format.md), a retry that can always leave
    as leaving; the export unrolls it under a step counter, and SPIN would
    report the counter's overflow as an error racecheck does not have."""
    for thread in program.threads:
        for pc, loops in enumerate(thread.loops[:thread.end]):
            if loops:
                pos = thread.instrs[pc].pos
                raise UsageError(f"{pos.file}:{pos.line}: thread {thread.name} runs a local-only loop that calls "
                                 "choose(),\n  which --engine spin does not take; use the default engine")


def _refuse_combinations(bitstate: bool, hash_compact: bool, collapse: bool) -> None:
    for given, name, what in ((hash_compact, "--hash-compact", "a fingerprint of each state (-DHC4)"),
                              (collapse, "--collapse", "each state compressed (-DCOLLAPSE)")):
        if bitstate and given:
            raise UsageError(f"--bitstate and --swarm cannot be combined with {name}: a bitstate search "
                             f"stores one bit array, {name} {what}; choose one")


def _check_bitstate(scenario, variant, program, model, options, bounds, count, parallel,
                    progress) -> CheckedVariant:
    """One bitstate run, or ``count`` of them (``spin.swarm``), ``parallel``
    at a time, for each set of kinds ``runs`` gives, until a violation is
    found. A violation found after the expected kind was looked for in
    vain is no mismatch: the search that missed the expected kind was not
    exhaustive (the outcome is inconclusive)."""
    memory = options.memory // parallel if options.memory else None
    options = replace(options, cores=1 if count else options.cores, memory=memory)
    todo = plan(max(1, count), bits_for(bounds.max_memory, parallel, options.quick))
    start = time.monotonic()
    passes, found, exit_reason = [], None, ExitReason.INCOMPLETE
    for checks in runs(program, variant.expect):
        timeout = None if bounds.timeout is None else bounds.timeout - (time.monotonic() - start)
        try:
            swarm = run_swarm(model, _with(options, checks, timeout), todo, parallel, progress)
        except PanTimeout:
            exit_reason = ExitReason.TIMEOUT
            break
        passes.append((_looked_for(checks), swarm))
        if swarm.found is not None:
            found = violation_from(program, swarm.found.result, checks)
            exit_reason = ExitReason.FOUND if len(passes) == 1 else ExitReason.INCOMPLETE
            break
        if swarm.timed_out:
            exit_reason = ExitReason.TIMEOUT
            break
    stats = Stats(sum(s.states for _, s in passes), sum(s.transitions for _, s in passes),
                  max((s.depth for _, s in passes), default=0), time.monotonic() - start)
    checked = _checked(scenario, variant, program, found, stats, exit_reason, bounds, options.reduction)
    return SwarmChecked(**{f.name: getattr(checked, f.name) for f in fields(CheckedVariant)},
                        passes=tuple(passes))


@dataclass(frozen=True)
class SwarmChecked(CheckedVariant):
    """A variant checked by bitstate runs: ``passes`` as ``swarm.describe``
    takes them."""

    passes: tuple = ()

    def swarm_lines(self) -> list:
        return describe(self.passes)


def _looked_for(checks) -> str:
    names = [kind[-1] for kind in checks]
    return ", ".join(names) if len(names) <= 2 else "every other kind"


def runs(program: Program, expect) -> list:
    """The kinds switched on in each pan run, in order (see the module's doc)."""
    every = kinds(program)
    if expect.kind != "named":
        return [every]
    wanted = [k for k in every if _matches(k, expect.name)]
    rest = [k for k in every if k not in wanted]
    return [wanted] + ([rest] if rest else []) if wanted else [every]


def kinds(program: Program) -> list:
    """Every kind of violation the model can check, as ``check_macro`` takes it."""
    found = [("assert",), ("error",)]
    found += [("invariant", p.name) for p, _ in program.invariants]
    found += [("final", p.name) for p, _ in program.finals]
    return found + ([] if program.deadlock_allowed else [("deadlock",)])


def _matches(kind: tuple, name: str) -> bool:
    return kind[-1] == name


def violation_from(program: Program, result: PanResult, checks) -> Violation:
    """The violation SPIN's trail reaches, replayed by racecheck."""
    schedule = schedule_of(result.replay, len(program.threads))
    try:
        trace = replay(program, schedule)
    except UsageError as exc:
        raise InternalError(f"SPIN's error trail does not replay in racecheck: {exc}") from None
    keys = set(checks)             # ("invariant", NAME), ("assert",)...: as kinds() gives them
    for kind, name, message in violations_at_end(program, trace):
        key = (kind, name) if kind in ("invariant", "final") else (kind,)
        if key in keys:
            return Violation(kind, name, message, schedule)
    raise InternalError(f"SPIN reports an error ({_pan_error(result.output)}) whose trail "
                        f"{schedule.format([t.name for t in program.threads])} reaches none of "
                        f"{sorted(keys)} in racecheck")


def _pan_error(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("pan:") and ("violated" in line or "error" in line):
            return line.strip()
    return "no error line"


def _with(options: PanOptions, checks, timeout) -> PanOptions:
    return replace(options, checks=tuple(checks), timeout=timeout)


def _add(totals: Stats, result: PanResult) -> Stats:
    return Stats(totals.states + result.states, totals.transitions + result.transitions,
                 max(totals.depth, result.depth), totals.seconds + result.seconds)


def _exit_reason(result: PanResult | None, found, bounds: Bounds) -> ExitReason:
    if result is None:
        return ExitReason.TIMEOUT
    if found is not None:
        return ExitReason.FOUND
    if result.complete:
        return ExitReason.EXHAUSTED
    if "depth" in result.incomplete and bounds.max_depth:
        return ExitReason.MAX_DEPTH
    if "memory" in result.incomplete:
        return ExitReason.MAX_MEMORY
    return ExitReason.INCOMPLETE


def _checked(scenario, variant, program, violation, stats, exit_reason, bounds, reduction) -> CheckedVariant:
    if violation is not None:
        verdict = Verdict.VIOLATION
    elif exit_reason.is_bound:
        verdict = Verdict.INCONCLUSIVE
    else:
        verdict = Verdict.SAFE
    exploration = Exploration(verdict, violation, (), stats, exit_reason, bounds, _what_is_checked(program),
                              reduction)
    skipped = [("coverage", NOT_COMPUTED)]
    if program.may_cycle and not program.livelock_allowed:
        skipped.append(("livelock", NOT_COMPUTED))
    if violation is None:
        return CheckedVariant(scenario, variant, program, exploration, not_computed=tuple(skipped))
    trace = confirm(program, violation)
    reads = ()
    if violation.kind in ("invariant", "final"):
        reads = tuple(property_reads(program, violation.name, trace.final_state))
    skipped += [("minimisation", NOT_MINIMISED), ("frequency", NOT_COMPUTED)]
    return CheckedVariant(scenario, variant, program, exploration, trace, None, reads, minimal=False,
                          not_computed=tuple(skipped))


def _what_is_checked(program: Program) -> tuple:
    items = [f"invariant {p.name}" for p, _ in program.invariants]
    items += [f"final {p.name}" for p, _ in program.finals]
    items.append("asserts and run-time errors")
    return tuple(items + ([] if program.deadlock_allowed else ["deadlock"]))
