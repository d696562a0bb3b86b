"""Reading folded output back in tests.

racecheck folds its output to 75 columns: prose wraps, and a command is
broken between words with a trailing `` \\`` (as a shell reads it).
``unfold`` joins such commands back, as the shell would; ``flat`` puts
all of a text on one line with single spaces, for matching a phrase
wherever it was wrapped.
"""

from __future__ import annotations

import re


def unfold(text: str) -> str:
    """``text`` with every `` \\``-newline-indent continuation joined."""
    return re.sub(r" \\\n\s*", " ", text)


def flat(text: str) -> str:
    return " ".join(text.split())
