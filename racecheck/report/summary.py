"""The last line of a check of several files: how many variants got what.

    checked 13 files, 28 variants: 28 as expected, 0 mismatched, 0 inconclusive in 4.2 s

Files that could not be loaded are counted apart ("; 1 file not checked
(see the errors above)"), since their variants are unknown.
"""

from __future__ import annotations

from racecheck.explore.result import Outcome


def summary_line(files: list, results: list, seconds: float) -> str:
    """``files``: every file named; ``results``: per file that could be
    checked, its list of checked variants; ``seconds``: the whole run."""
    outcomes = [c.outcome for checked in results for c in checked]
    count = {o: outcomes.count(o) for o in Outcome}
    text = (f"checked {plural(len(results), 'file')}, {plural(len(outcomes), 'variant')}: "
            f"{count[Outcome.MATCH]} as expected, {count[Outcome.MISMATCH]} mismatched, "
            f"{count[Outcome.INCONCLUSIVE]} inconclusive in {seconds:.1f} s")
    if len(files) > len(results):
        text += f"; {plural(len(files) - len(results), 'file')} not checked (see the errors above)"
    return text


def plural(n: int, word: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {word}{'' if n == 1 else 's'}"
