"""The ``racecheck`` command: check scenarios, draw races, replay schedules.

Exit status: 0 every checked variant got the verdict it expects; 1 some did
not; 2 bad input or usage; 3 a bound was hit before a verdict, and nothing
mismatched; 69 a package racecheck needs is not installed (or spin, gcc
for --engine spin); 70 an internal error of racecheck; 130 interrupted.

Each command lives in its own module here: ``check`` (the default),
``report``, ``diff``, ``export``, ``explain``, ``litmus``, ``audit``; ``common`` holds
what they share.
"""

from __future__ import annotations

import os
import sys

from racecheck.errors import InternalError, MissingDependency, ScenarioError, UsageError
from racecheck.report.diagram import diagram_style

from . import audit, check, diff, explain, export, litmus, report
from .check import EPILOG, build_parser
from .common import (EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_MISSING, EXIT_OK, EXIT_USAGE, PROGRESS_LOG_SECONDS,
                     Progress)

__all__ = ["main", "build_parser", "EPILOG", "EXIT_MISSING", "PROGRESS_LOG_SECONDS", "Progress"]

# command name -> the function that runs it on the rest of the command line
COMMANDS = {"check": check.run, "report": report.run, "diff": diff.run, "export": export.run,
            "explain": explain.run, "litmus": litmus.run, "audit": audit.run}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] and argv[0] in ("--version", "-h", "--help") or (
                argv[:1] and argv[0] not in COMMANDS and ("--version" in argv or "-h" in argv or "--help" in argv)):
            build_parser().parse_args(argv)
        return _main(argv)
    except SystemExit as exc:               # --help and --version
        return int(exc.code or 0)
    except UsageError as exc:
        print(f"racecheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ScenarioError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("racecheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (racecheck ... | head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except InternalError as exc:
        _internal(str(exc))
        return EXIT_INTERNAL
    except MissingDependency as exc:         # a program --engine spin runs (spin, gcc)
        print(exc.render(), file=sys.stderr)
        return EXIT_MISSING
    except ModuleNotFoundError as exc:       # a dependency imported late (report, export)
        missing = MissingDependency.of(exc)
        if missing is None:
            _internal(f"{type(exc).__name__}: {exc}")
            return EXIT_INTERNAL
        print(missing.render(), file=sys.stderr)
        return EXIT_MISSING
    except Exception as exc:                 # noqa: BLE001 - the last line of defence
        _internal(f"{type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def _internal(message: str) -> None:
    print(f"racecheck internal error: {message}\n"
          "This is a bug in racecheck, not a verdict on your scenario; please report it "
          "with the scenario file and the command line.", file=sys.stderr)


def _main(argv) -> int:
    if argv and argv[0] in COMMANDS:
        command, argv = argv[0], argv[1:]
    else:
        command = "check"
    with diagram_style():                   # options set it for this command only
        return COMMANDS[command](argv)

