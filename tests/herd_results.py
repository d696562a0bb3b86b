"""herd7's answers for a directory of litmus tests, as pinned in its
herd7-results.tsv (file, Observation, Positive, Negative, States, Flag)."""

from __future__ import annotations

import os


def herd_results(directory: str) -> dict:
    """file name -> (observation, positive, negative, states, racy)."""
    rows = {}
    with open(os.path.join(directory, "herd7-results.tsv"), encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                name, observation, positive, negative, states, flag = line.rstrip("\n").split("\t")
                rows[name] = (observation, int(positive), int(negative), int(states), flag == "data-race")
    return rows
