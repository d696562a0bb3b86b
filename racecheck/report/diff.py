"""The "before this patch / after this patch" paragraph of a commit message.

Compares two sets of checked variants: two scenario files (the model before
and after the patch; variants are paired by name), or two variants of one
file (``old=[before]``, ``new=[after]``; a single pair is compared whatever
the names). The text is plain, as a commit message is: a table of verdicts,
then, for each violation the patch removes, the race diagram that shows it
before the patch and the command that replays it; for each violation the
patch adds, the same for after the patch. Prose is wrapped at 75 columns;
diagrams and commands are not. Replay commands name each scenario by the
path it was loaded from (``Scenario.path``).

It compares verdicts, not state spaces: a violation counts as removed when
its kind and name (for an assert, its message) is no longer reachable.
"""

from __future__ import annotations

from racecheck.explore.check import CheckedVariant
from racecheck.explore.counterexample import switches
from racecheck.explore.result import Verdict
from racecheck.report.diagram import current_style, render_rows
from racecheck.report.mail import mail_blocks
from racecheck.report.markdown import Para, Pre, Table, bound_phrase, stats_phrase, thread_names
from racecheck.report.text import replay_command, verdict_cell, verdict_phrase, violation_lines


def render_diff(old: list, new: list, old_label: str, new_label: str) -> str:
    """The before/after paragraph for a commit message (plain text)."""
    return mail_blocks(diff_blocks(old, new, old_label, new_label))


def diff_blocks(old: list, new: list, old_label: str, new_label: str) -> list:
    pairs = pair_variants(old, new)
    blocks = [Para((f"Checked with racecheck: before this patch is {old_label}, "
                    f"after this patch is {new_label}.",)),
              Table(("variant", "before this patch", "after this patch"),
                    tuple((_label(a, b), _cell(a), _cell(b)) for a, b in pairs))]
    for before, after in pairs:
        if before is not None and after is not None:
            blocks += _changes(before, after, _label(before, after) if len(pairs) > 1 else "")
    return blocks


def pair_variants(old: list, new: list) -> list:
    """``[(old or None, new or None), ...]``: by variant name, or the only two."""
    if len(old) == 1 and len(new) == 1:
        return [(old[0], new[0])]
    by_name = {c.variant.name: c for c in new}
    pairs = [(c, by_name.get(c.variant.name)) for c in old]
    names = {c.variant.name for c in old}
    return pairs + [(None, c) for c in new if c.variant.name not in names]


def _label(before, after) -> str:
    names = [c.variant.name or "-" for c in (before, after) if c is not None]
    return names[0] if len(set(names)) == 1 else " -> ".join(names)


def _cell(checked) -> str:
    return "(no such variant)" if checked is None else verdict_cell(checked)


# -- what changed -----------------------------------------------------------------


def found(checked: CheckedVariant) -> dict:
    """The violations a check reached, by key (kind, name, assert message)."""
    result = checked.exploration
    return {v.key: v for v in (result.violation,) + result.others if v is not None}


def _changes(before: CheckedVariant, after: CheckedVariant, label: str) -> list:
    lead = f"{label}: " if label else ""
    was, now = found(before), found(after)
    removed = [v for key, v in was.items() if key not in now]
    added = [v for key, v in now.items() if key not in was]
    if not removed and not added:            # the table says it all when there are several pairs
        return [] if label else [Para((f"No change: {verdict_phrase(before)} before and after this patch.",))]
    blocks = []
    for violation in removed:
        blocks += _ordering(before, violation, lead + "Before this patch")
    if removed:
        blocks += _after(after, lead, [v for key, v in now.items() if key in was])
    for violation in added:
        blocks += _ordering(after, violation, lead + "After this patch")
    return blocks


def _ordering(checked: CheckedVariant, violation, when: str) -> list:
    """A violation with its diagram (the main one) or its replay command only."""
    names = thread_names(checked)
    command = replay_command(checked.scenario.path, checked.variant.name, violation.schedule.format(names))
    n = switches(violation.schedule)
    size = f"{len(violation.schedule)} steps, {n} context switch{'' if n == 1 else 'es'}"
    if violation is not checked.exploration.violation or checked.trace is None:
        return [Para((f"{when}, this schedule also {reaches(violation)} ({size}):",)), Pre((command,), "sh")]
    diagram = render_rows(checked.program, checked.trace, checked.cycle_trace)
    return [Para((f"{when}, this ordering {reaches(violation)} ({size}):",)),
            Pre(tuple(diagram), "diagram"), Pre(tuple(violation_lines(checked, width=current_style().width)), "diagram"),
            Pre((command,), "sh")]


def _after(after: CheckedVariant, lead: str, kept: list) -> list:
    result = after.exploration
    reduced = ", with partial-order reduction" if result.reduced else ""
    if result.verdict is Verdict.SAFE:
        return [Para((f"{lead}After this patch, no interleaving violates anything racecheck checks "
                      f"({stats_phrase(after)}{reduced}; {result.exit_reason.describe()}).",))]
    if result.verdict is Verdict.INCONCLUSIVE:
        return [Para((f"{lead}After this patch, the search is inconclusive: {bound_phrase(after)}, "
                      f"after {stats_phrase(after)}; no violation was found in that part.",))]
    if not kept:
        return []
    return [Para((f"{lead}After this patch, still reachable: {', '.join(v.describe() for v in kept)}.",))]


def reaches(violation) -> str:
    """``violates invariant page_not_lost``, ``ends in a deadlock``, ..."""
    if violation.kind in ("invariant", "final"):
        return f"violates {violation.kind} {violation.name}"
    if violation.kind in ("deadlock", "livelock"):
        return f"ends in a {violation.kind}"
    if violation.kind == "assert":
        return f"fails the assert '{violation.message}'"
    return f"hits a run-time error ({violation.message})"
