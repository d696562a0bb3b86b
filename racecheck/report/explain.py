"""``racecheck explain``: why partial-order reduction can or cannot keep a
variant's threads apart, as text for people.

For each pair of thread definitions whose steps may conflict, the first
pair of steps that does, with their lines and the shared locations both
touch; when a step's index is not a constant (so it stands for every
element), how to write it so that it is; then the invariant conjuncts that
keep otherwise independent threads in step. This reads the access analysis
(``explore.reduction.dependence``); it runs no search.
"""

from __future__ import annotations

import textwrap

from racecheck.report.fold import fold_prose

WIDTH = 75


def render_explain(dependence, path: str, variant: str = "") -> str:
    label = f", variant {variant}" if variant else ""
    lines = fold_prose(f"== {path}{label}: what makes threads dependent", WIDTH, "   ") + [""]
    total = dependence.threads * (dependence.threads - 1) // 2
    lines += _wrap(f"{dependence.threads} threads; {dependence.pairs} of {total} pairs may conflict. "
                   "Steps conflict when one writes what the other reads or writes; partial-order "
                   "reduction runs only conflicting steps in every order.")
    for coupling in dependence.couplings:
        lines.append("")
        lines += _coupling(coupling)
    if dependence.conjuncts:
        lines.append("")
        lines.append("Invariant conjuncts that keep threads in step:")
        for conjunct in dependence.conjuncts:
            lines += _wrap(conjunct.describe(), "  ", "    ")
    if not dependence.couplings and not dependence.conjuncts:
        lines.append("")
        lines += _wrap("No two threads conflict: the reduced search runs them one after the other.")
    return "\n".join(lines) + "\n"


def _coupling(c) -> list:
    (text_a, pos_a, how_a), (text_b, pos_b, how_b) = c.steps
    out = [f"{c.threads[0]} and {c.threads[1]}:"]
    out += _wrap(f"{_place(pos_a)}: `{text_a}` {how_a} {c.shared}", "  ", "      ")
    out += _wrap(f"{_place(pos_b)}: `{text_b}` {how_b} the same", "  ", "      ")
    if not c.indexes:
        out += _wrap("A real conflict: both steps touch the same data, so their order matters.", "  ", "  ")
    for index in dict.fromkeys(c.indexes):
        out += _wrap(_hint(index), "  ", "  ")
    return out


def _hint(index) -> str:
    where = f"{_place(index.pos)}: `{index.text}`"
    if index.locals:
        names = ", ".join(index.locals)
        return (f"{where} indexes with the local {names}: the step itself is judged by its value in each "
                f"state, but the thread's later steps count every element. Where each copy has an element "
                f"of its own, index with tid (or tid // 2, a param, a constant).")
    return (f"{where} indexes with a value that is not a constant, so it stands for every element. "
            f"Index with tid, a param or an expression of those (tid // 2), or read the index from a "
            f"shared value that no step writes or that steps set only to constants.")


def _place(pos) -> str:
    return f"{pos.file}:{pos.line}"


def _wrap(text: str, first: str = "", rest: str | None = None) -> list:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=first if rest is None else rest,
                         break_on_hyphens=False, break_long_words=False)
