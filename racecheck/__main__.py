"""``python -m racecheck``: the command line.

Run from a checkout whose dependencies are not installed, it first says
which package is missing and how to install it (exit status 69), before
reading any scenario, instead of failing on an import half-way through.
"""

import sys

from racecheck.errors import MissingDependency, missing_dependency


def run() -> int:
    missing = missing_dependency()
    if missing is None:
        try:
            from racecheck.cli import main
        except ModuleNotFoundError as exc:
            missing = MissingDependency.of(exc)
            if missing is None:
                raise
    if missing is not None:
        print(missing.render(), file=sys.stderr)
        return MissingDependency.EXIT_STATUS
    return main()


sys.exit(run())
