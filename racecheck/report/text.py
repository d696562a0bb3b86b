"""Plain-text output for the terminal: verdict lines, diagrams, the table."""

from __future__ import annotations

import shlex

from racecheck.explore.check import CheckedVariant
from racecheck.explore.result import Outcome, Verdict
from racecheck.report.diagram import current_style, render_rows
from racecheck.report.diagram_layout import wrap_text
from racecheck.report.fold import fold_command, fold_prose
from racecheck.scenario.values import format_value


def replay_command(path: str, variant: str, schedule_text: str) -> str:
    parts = ["racecheck", shlex.quote(path)]
    if variant:
        parts += ["--variant", shlex.quote(variant)]
    parts += ["--schedule", shlex.quote(schedule_text)]
    return " ".join(parts)


def verdict_phrase(checked: CheckedVariant) -> str:
    result = checked.exploration
    if result.verdict is Verdict.VIOLATION:
        return f"violation of {result.violation.describe()}"
    if result.verdict is Verdict.SAFE:
        return "safe"
    return f"inconclusive ({result.exit_reason.describe()})"


def outcome_word(outcome: Outcome) -> str:
    return {Outcome.MATCH: "as expected", Outcome.MISMATCH: "NOT AS EXPECTED",
            Outcome.INCONCLUSIVE: "inconclusive"}[outcome]


def render_variant(checked: CheckedVariant, path: str) -> str:
    """Everything one variant prints: the verdict line, and the race if any;
    prose folded to the diagram width, the replay command broken with
    `` \\`` so that it still pastes into a shell."""
    width = current_style().width
    head, *prose = _verdict_lines(checked)
    lines = fold_prose(head, width, "    ") + [part for line in prose for part in fold_prose(line, width, "  ")]
    if checked.exploration.verdict is Verdict.VIOLATION:
        lines += [""] + render_rows(checked.program, checked.trace, checked.cycle_trace) + [""]
        lines += violation_lines(checked, width)
        for line in _replay_lines(checked, path):
            fold = fold_command if line.startswith(("replay: ", "  racecheck ")) else fold_prose
            lines += fold(line, width)
    return "\n".join(lines)


def _verdict_lines(checked: CheckedVariant) -> list:
    """The verdict line and the prose under it (not yet folded)."""
    result = checked.exploration
    name = checked.variant.name
    label = f"variant {name}" if name else "scenario"
    lines = [f"{label}: {verdict_phrase(checked)} ({_against_expectation(checked)})"]
    if checked.variant.description:
        lines.append("  " + " ".join(checked.variant.description.split()))
    if result.verdict is not Verdict.VIOLATION:
        reduced = " (with partial-order reduction)" if result.reduced else ""
        lines.append(f"  {result.stats.describe()}{reduced}; {result.exit_reason.describe()}")
        if result.collision_bound is not None:
            lines.append(f"  hash-compact: the probability that a fingerprint collision hid a state "
                         f"is at most {result.collision_bound:.1e}")
        lines.extend(coverage_lines(checked))
        return lines
    states = result.stats.states
    lines.append(f"  {counterexample_phrase(checked)}; {states} state{'' if states == 1 else 's'} explored"
                 f"{' (reduced)' if result.reduced else ''}, {result.stats.seconds:.2f} s")
    if checked.frequency is not None:
        lines.append(f"  how common, in the full state graph: {checked.frequency.describe()}")
    elif checked.stopped("frequency"):
        lines.append(f"  how common, in the full state graph: not computed ({checked.stopped('frequency')})")
    return lines


def _replay_lines(checked: CheckedVariant, path: str) -> list:
    """The cycle, the replay command and any other violation reachable."""
    violation = checked.exploration.violation
    name = checked.variant.name
    lines = []
    names = [t.name for t in checked.program.threads]
    schedule_text = violation.schedule.format(names)
    if violation.cycle is not None:
        lines.append(f"cycle: {violation.cycle.format(names)}")
    lines.append("replay: " + replay_command(path, name, schedule_text))
    for other in checked.exploration.others:
        lines.append(f"also reachable: {other.describe()}; replay:")
        lines.append("  " + replay_command(path, name, other.schedule.format(names)))
    return lines


def _against_expectation(checked: CheckedVariant) -> str:
    """``as expected``, or what was expected and how the verdict differs."""
    if checked.outcome is Outcome.MATCH:
        return "as expected"
    return f"expected {checked.variant.expect.describe()}: {outcome_word(checked.outcome)}"


def coverage_lines(checked: CheckedVariant) -> list:
    """A warning for each step a safe variant never executes (params aside)."""
    if checked.exploration.verdict is Verdict.SAFE and checked.stopped("coverage"):
        return [f"  steps never executed: not computed ({checked.stopped('coverage')})"]
    if not checked.coverage:
        return []
    lines = [f"  warning: {len(checked.coverage)} step{'s' if len(checked.coverage) > 1 else ''} never "
             "executed in any interleaving (a modelling mistake?):"]
    lines += [f"    {thread}: {text} ({where})" for thread, text, where in checked.coverage]
    return lines


def counterexample_phrase(checked: CheckedVariant) -> str:
    """``counterexample: 9 steps, 2 context switches (the fewest possible)``."""
    from racecheck.explore.counterexample import switches
    schedule = checked.exploration.violation.schedule
    n = switches(schedule)
    steps = len(schedule)
    text = (f"counterexample: {steps} step{'' if steps == 1 else 's'}, "
            f"{n} context switch{'' if n == 1 else 'es'}")
    if checked.exploration.violation.kind == "livelock":
        return text + " to the first state that cannot finish"
    if checked.minimal:
        return text + " (the fewest possible, then the fewest steps)"
    why = checked.stopped("minimisation") or "the full state graph is too large"
    return text + f" (as the search found it, not minimised: {why})"


def violation_lines(checked: CheckedVariant, width: int = 0) -> list:
    """The lines under a diagram that say what went wrong, each wrapped to
    ``width`` (0: not wrapped) with its continuation indented further."""
    return [part for line in _violation_lines(checked) for part in wrap_line(line, width)]


def wrap_line(line: str, width: int) -> list:
    if not width or len(line) <= width:
        return [line]
    lead = line[:len(line) - len(line.lstrip(" "))]
    if line.startswith("  where "):          # values: broken between them, never inside one
        return _wrap_items(line, width)
    return [lead + part for part in wrap_text(line.strip(), width - len(lead), "    ")]


def _wrap_items(line: str, width: int) -> list:
    lines = []
    for item in line.split(", "):
        if lines and len(lines[-1]) + len(item) + 3 <= width:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines.append(item if not lines else "      " + item)
    return lines


def _violation_lines(checked: CheckedVariant) -> list:
    violation = checked.exploration.violation
    program = checked.program
    if violation.kind in ("invariant", "final"):
        prop, _ = program.property(violation.name)
        lines = [f"{violation.kind} {violation.name} is violated:",
                 f"    {prop.code.one_line()}"]
        if checked.reads:
            values = ", ".join(f"{text} = {format_value(value)}" for text, value in checked.reads)
            lines.append(f"  where {values}")
        return lines
    if violation.kind == "deadlock":
        return ["deadlock: no thread can run, and not all have finished:"] + _blocked(checked)
    if violation.kind == "livelock":
        return ["livelock: from this state no ordering lets every thread finish;",
                "the threads can only repeat the steps after the marked line."]
    word = "assert failed" if violation.kind == "assert" else "run-time error"
    trace = checked.trace
    failed = trace.failed
    where = " while building the initial state" if trace.init_error is not None else ""
    if failed is not None:
        thread = program.threads[failed.thread]
        if failed.rows:
            instr = thread.instrs[failed.rows[-1].pc]
            where = f" in '{instr.text}' of thread {thread.name} ({instr.code_pos or instr.pos})"
        else:                                 # its await failed: the step did not start
            before = trace.steps[-2].after if len(trace.steps) > 1 else trace.initial
            instr = thread.instrs[before[thread.pc_slot]]
            where = f" in the await of '{instr.text}' of thread {thread.name} ({instr.node.await_.pos})"
    return [f"{word}{where}:"] + [f"    {line}" for line in violation.message.splitlines() or [""]]


def _blocked(checked: CheckedVariant) -> list:
    state = checked.trace.final_state
    lines = []
    for thread in checked.program.threads:
        pc = state[thread.pc_slot]
        if pc == thread.end:
            lines.append(f"    {thread.name}: finished")
        else:
            instr = thread.instrs[pc]
            lines.append(f"    {thread.name}: waits in '{instr.text}' for {instr.node.await_.one_line()}")
    return lines


def describe_end(kind: str, name: str, message: str) -> str:
    """One line for a violation a replayed schedule ends in."""
    if kind in ("invariant", "final"):
        return f"{kind} {name} is violated"
    if kind == "deadlock":
        return "deadlock: no thread can run, and not all have finished"
    return ("assert fails: " if kind == "assert" else "run-time error: ") + message


def verdict_cell(checked: CheckedVariant) -> str:
    """``violation (page_not_lost)``, ``safe`` or ``inconclusive``: the table's verdict."""
    result = checked.exploration
    verdict = result.verdict.value
    return verdict + (f" ({result.violation.short()})" if result.violation is not None else "")


def table_rows(checked_list: list, *, seconds: bool = True) -> tuple:
    """``(headers, rows)`` of the variant table, all cells strings; without
    the seconds column for reports that must not change from run to run.

    The verdict is not a column of its own: ``ok`` says it is the one
    expected; otherwise (or when the expectation names no property) the
    result cell names it. An assert's message is left to the variant's
    own section, so that the table fits a mail."""
    headers = ["variant", "expected", "states"] + (["seconds"] if seconds else []) + ["result"]
    rows = []
    for checked in checked_list:
        result = checked.exploration
        timing = [f"{result.stats.seconds:.2f}"] if seconds else []
        rows.append([checked.variant.name or "-", _expected_cell(checked.variant.expect),
                     str(result.stats.states)] + timing + [result_cell(checked)])
    return headers, rows


def _expected_cell(expect) -> str:
    return "violation assert" if expect.message is not None else expect.describe()


def result_cell(checked: CheckedVariant) -> str:
    """``ok``; ``ok: violation (deadlock)`` when the expectation was any
    violation; ``NOT AS EXPECTED: safe``; ``inconclusive (max-states)``."""
    expect = checked.variant.expect
    if checked.outcome is Outcome.MATCH:
        return "ok" if expect.kind != "violation" else f"ok: {verdict_cell(checked)}"
    if checked.outcome is Outcome.INCONCLUSIVE:
        return f"inconclusive ({checked.exploration.exit_reason.value})"
    return f"{outcome_word(checked.outcome)}: {verdict_cell(checked)}"


def render_table(checked_list: list, *, seconds: bool = True, tablefmt: str = "simple") -> str:
    headers, rows = table_rows(checked_list, seconds=seconds)
    return narrow_table(rows, headers, tablefmt, width=current_style().width)


def narrow_table(rows: list, headers: list, tablefmt: str = "simple", width: int = 0) -> str:
    """tabulate's table with two spaces between columns and none added
    around the headers (its default pads every header by two). Wider than
    ``width`` (0: no limit), the widest columns are narrowed in turn (never
    below their longest word) and their cells and headers wrap at spaces;
    a table that cannot fit that way stays wider than ``width``."""
    import tabulate as tabulate_module      # imported when needed: it is slow to import
    saved, tabulate_module.MIN_PADDING = tabulate_module.MIN_PADDING, 0
    try:
        limits = _column_limits(rows, headers, width)
        return tabulate_module.tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True,
                                        maxcolwidths=limits, maxheadercolwidths=limits)
    finally:
        tabulate_module.MIN_PADDING = saved


def _column_limits(rows: list, headers: list, width: int) -> list:
    """Per column, the width to wrap at (None: as wide as it is)."""
    columns = [[str(h)] + [str(row[k]) for row in rows] for k, h in enumerate(headers)]
    natural = [max(map(len, cells)) for cells in columns]
    if not width:
        return [None] * len(headers)
    least = [max(len(word) for cell in cells for word in cell.split() or [""]) for cells in columns]
    limits = list(natural)
    while sum(limits) + 2 * (len(limits) - 1) > width:
        room = [limit - low for limit, low in zip(limits, least)]
        if max(room) <= 0:
            break
        limits[room.index(max(room))] -= 1
    return [None if limit == full else limit for limit, full in zip(limits, natural)]
