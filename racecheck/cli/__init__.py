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

import importlib
import os
import sys

from racecheck.errors import InternalError, MissingDependency, ScenarioError, UsageError
from racecheck.report.diagram import diagram_style

from .common import (EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_MISSING, EXIT_OK, EXIT_USAGE, PROGRESS_LOG_SECONDS,
                     Progress)

__all__ = ["main", "build_parser", "EPILOG", "EXIT_MISSING", "PROGRESS_LOG_SECONDS", "Progress"]

# The commands, each run by ``run(argv)`` of the module of its name. A
# command's module is imported only when that command runs: ``racecheck
# FILE`` never loads the litmus and memory-model code (importing it took
# over a third of the seed file's 0.39 s end to end).
COMMANDS = ("check", "report", "diff", "export", "explain", "litmus", "audit")


def __getattr__(name: str):
    """``build_parser`` and ``EPILOG``, from the check command's module."""
    if name in ("build_parser", "EPILOG"):
        return getattr(_command("check"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command(name: str):
    return importlib.import_module(f"{__name__}.{name}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] and argv[0] in ("--version", "-h", "--help") or (
                argv[:1] and argv[0] not in COMMANDS and ("--version" in argv or "-h" in argv or "--help" in argv)):
            _command("check").build_parser().parse_args(argv)
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
        return _command(command).run(argv)

