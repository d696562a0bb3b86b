"""Plain text for a ``memory: lkmm`` scenario's variant: the verdict, the
counterexample execution drawn as litmus witnesses are (report.witness:
one column per thread, which write each read saw and which newer ones it
had not, which stores were not yet visible to whom), what went wrong, and
the command that replays the execution; 75 columns.

    wakeup_kcompactd                      kcompactd
    ------------------------------------  ------------------------------------
    pgdat->kcompactd_max_order = order
      <- not yet visible to kcompactd
                                          prepare_to_wait()
                                            <- not yet visible to
                                            wakeup_kcompactd
    if (!wq_has_sleeper(...))
      <- 0 (initial; kcompactd's waiting
      = 1 not yet seen)
                                          kcompactd_work_requested()
                                            <- 0 (initial; ...)
"""

from __future__ import annotations

import shlex
import textwrap

from racecheck.explore.lkmm_check import LkmmChecked, judge
from racecheck.explore.result import Verdict
from racecheck.model import lkmm_scenario as M
from racecheck.scenario.values import format_value

from .diagram_layout import wrap_text
from .fold import fold_command
from .litmus import WIDTH
from .text import outcome_word
from .witness import GAP, _coherence, _columns, _groups, _note, _order


def render_lkmm_variant(checked: LkmmChecked, path: str) -> str:
    lines = []
    for line in _head(checked):
        lines += _fold(line)
    if checked.exploration.verdict is Verdict.VIOLATION and checked.execution is not None:
        lines += [""] + execution_lines(checked, checked.execution) + [""]
        lines += found_lines(checked, checked.found)
        lines += fold_command("replay: " + replay_command(path, checked.variant.name, checked.number), WIDTH)
        for number, other in checked.also:
            lines += _fold(f"also found: {other.describe()}, simplest in execution {number}; replay:", "")
            lines += fold_command("  " + replay_command(path, checked.variant.name, number), WIDTH)
    return "\n".join(lines)


def replay_command(path: str, variant: str, number: int) -> str:
    parts = ["racecheck", shlex.quote(path)]
    if variant:
        parts += ["--variant", shlex.quote(variant)]
    return " ".join(parts + ["--execution", str(number)])


def _fold(text: str, indent: str = "    ") -> list:
    """``text`` in lines of 75 columns; ``name = value`` is never broken."""
    glued = text.replace(" = ", "\x00=\x00")
    return [line.replace("\x00", " ") for line in
            textwrap.wrap(glued, WIDTH, subsequent_indent=indent, break_on_hyphens=False,
                          break_long_words=False)] or [""]


def _head(checked: LkmmChecked) -> list:
    result = checked.exploration
    label = f"variant {checked.variant.name}" if checked.variant.name else "scenario"
    if result.verdict is Verdict.VIOLATION:
        verdict = f"violation of {result.violation.describe()}"
    elif result.verdict is Verdict.SAFE:
        verdict = "safe"
    else:
        verdict = f"inconclusive ({'; '.join(result.checked) or result.exit_reason.describe()})"
    against = "as expected" if checked.outcome.name == "MATCH" else \
        f"expected {checked.variant.expect.describe()}: {outcome_word(checked.outcome)}"
    lines = [f"{label}: {verdict} ({against})"]
    if checked.variant.description:
        lines.append("  " + " ".join(checked.variant.description.split()))
    n = checked.executions
    if result.verdict is not Verdict.INCONCLUSIVE:
        text = (f"  memory: lkmm; {n} consistent execution{'s' if n != 1 else ''} of {checked.candidates} "
                f"candidate{'s' if checked.candidates != 1 else ''}, {result.stats.seconds:.2f} s")
        if result.verdict is Verdict.VIOLATION:
            text += (f"; {checked.violating} show{'s' if checked.violating == 1 else ''} it; drawn: "
                     f"execution {checked.number}")
        lines.append(text)
    return lines


def execution_lines(checked: LkmmChecked, ex) -> list:
    """The execution as a diagram, and its coherence orders."""
    names = list(checked.names)
    threads = _groups(ex)
    count = len(names)
    width = max(12, (WIDTH - GAP * (count - 1)) // count)
    lines = [_columns([n[:width] for n in names], width).rstrip(), _columns(["-" * width] * count, width).rstrip()]
    order = _order(ex, threads)
    position = {key: n for n, key in enumerate(order)}
    for tid, i in order:
        row = threads[tid][i]
        text = row[0].label or row[0].describe()
        if i and threads[tid][i - 1][0].label == row[0].label:
            text = "  " + _source(checked, row[0].line)
        note = _note(ex, row, position, (tid, i), threads, names)
        cell = wrap_text(text, width) + (
            textwrap.wrap(f"<- {note}", width - 2, initial_indent="  ", subsequent_indent="  ",
                          break_on_hyphens=False) if note else [])
        for part in cell:
            lines.append((" " * ((width + GAP) * tid) + part).rstrip())
    return lines + _coherence(ex, names)


def _source(checked: LkmmChecked, line: int) -> str:
    try:
        with open(checked.scenario.path, encoding="utf-8") as f:
            text = f.read().splitlines()
    except OSError:
        return f"line {line}"
    return text[line - 1].strip() if 0 < line <= len(text) else f"line {line}"


def found_lines(checked: LkmmChecked, found) -> list:
    """What went wrong in the drawn execution, and the values it ended with."""
    lines = []
    for v in found:
        if v.kind == "final":
            prop = next(p for p in checked.scenario.finals if p.name == v.name)
            lines += _fold(f"final {v.name} is violated: {prop.code.one_line()}", "  ")
        elif v.kind == "data-race":
            lines += _fold(f"data race: {_access(checked, v.race.first)} and {_access(checked, v.race.second)}",
                           "  ")
        else:
            lines += _fold(("assert fails: " if v.kind == "assert" else "run-time error: ") + v.message, "  ")
    lines += _fold("at the end: " + _values(checked), "  ")
    return lines


def _access(checked: LkmmChecked, access: tuple) -> str:
    tid, label, line, kind, loc = access
    return f"{checked.names[tid]} '{label}' (line {line}, plain {kind} of {loc})"


def _values(checked: LkmmChecked) -> str:
    ex = checked.execution
    parts = [f"{loc} = {format_value(value)}" for loc, value in sorted(ex.memory.items())]
    for (tid, name), value in sorted(ex.regs.items()):
        if name != M.FAILURE:
            parts.append(f"{checked.names[tid]}.{name} = {format_value(value)}")
    return ", ".join(parts)


def replay_lines(checked: LkmmChecked, ex, number: int, total: int) -> list:
    """``racecheck FILE --execution N``: execution N drawn, and what it shows."""
    found = judge(checked.scenario, checked.variant, ex)
    checked = _with(checked, ex, found)
    lines = [f"execution {number} of {total} (memory: lkmm)", ""] + execution_lines(checked, ex) + [""]
    lines += found_lines(checked, found)
    if not found:
        lines += ["  no violation in this execution"]
    return lines


def _with(checked: LkmmChecked, ex, found):
    from dataclasses import replace
    return replace(checked, execution=ex, found=tuple(found))
