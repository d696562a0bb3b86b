"""What the ``racecheck`` commands share: exit statuses, the options of a
search, the progress line, finding and loading scenario files."""

from __future__ import annotations

import argparse
import os
import sys

from racecheck.errors import MissingDependency, UsageError, did_you_mean
from racecheck.explore.budget import peak_memory
from racecheck.explore.check import ANALYSIS_BUDGET, check_variant, select_variants
from racecheck.explore.result import Bounds, Outcome, default_memory, parse_size
from racecheck.report.diagram import DEFAULT_WIDTH, set_diagram_style
from racecheck.report.summary import plural
from racecheck.scenario.loader import load_scenario, looks_like_scenario

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_BOUND, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 70, 130
EXIT_MISSING = MissingDependency.EXIT_STATUS      # 69

PROGRESS_LOG_SECONDS = 30      # between two progress lines when stderr is not a terminal


HELP_WIDTH = 75                # --help fits a mail, as the rest of the output does


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)

    def _get_formatter(self):
        return self.formatter_class(prog=self.prog, width=HELP_WIDTH)


def search_options(parser) -> None:
    parser.add_argument("--max-states", type=positive_int, metavar="N",
                        help="stop after storing N states (verdict inconclusive unless a violation was found)")
    parser.add_argument("--max-depth", type=positive_int, metavar="N",
                        help="do not expand states more than N steps from the start")
    parser.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                        help="end each variant's check after this many seconds: the search, then the "
                             "minimisation, coverage and frequency after it (those it stops are reported "
                             "as not computed)")
    parser.add_argument("--max-memory", type=size_option, metavar="SIZE", default=default_memory(),
                        help="stop when racecheck's memory passes SIZE (e.g. 500M, 4G; default: half of "
                             "this machine's memory), in the search and in the analyses after it")
    parser.add_argument("--no-reduction", action="store_true",
                        help="explore every interleaving: no partial-order reduction, no merging of "
                             "states that differ only in dead values")
    parser.add_argument("--hash-compact", action="store_true",
                        help="store 64-bit fingerprints of states instead of the states (less memory; "
                             "prints the probability that a collision hid a state); with --engine spin, "
                             "SPIN's -DHC4, whose verdict is never 'safe'")
    parser.add_argument("--engine", choices=("racecheck", "spin"), default="racecheck",
                        help="who searches: racecheck (default), or SPIN on the Promela export, for models "
                             "too large for racecheck (needs spin and gcc; docs/scale.md)")
    parser.add_argument("--collapse", action="store_true",
                        help="--engine spin: compress stored states (-DCOLLAPSE; exact)")
    parser.add_argument("--bitstate", action="store_true",
                        help="--engine spin: one bit per state (-DBITSTATE): far less memory, but states "
                             "may be missed; the verdict is never 'safe'")
    parser.add_argument("--swarm", type=positive_int, default=0, metavar="K",
                        help="--engine spin: K bitstate searches that differ in hash functions, seeds and "
                             "search order (SPIN's swarm), --cores at a time, stopping at the first "
                             "violation; the verdict is never 'safe'")
    parser.add_argument("--cores", type=positive_int, metavar="N",
                        help="--engine spin: search on N cores (-DNCORE=N); with --swarm, run N searches "
                             "at a time (default: this machine's cores)")
    parser.add_argument("--graph-budget", type=count, metavar="N", default=ANALYSIS_BUDGET,
                        help="walk at most N states of the full (unreduced) state graph for coverage and "
                             f"'how common' (default {ANALYSIS_BUDGET:,}); coverage needs the walk only for "
                             "steps the verdict search never ran; over the budget they say 'not computed'")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr (on a terminal a line updated every second, "
                             f"otherwise a line at most every {PROGRESS_LOG_SECONDS} s)")
    parser.add_argument("--width", type=width_option, default=DEFAULT_WIDTH, metavar="N",
                        help=f"fit race diagrams in N columns (default {DEFAULT_WIDTH}, as kernel mail; 0: no limit)")
    parser.add_argument("--verbose", action="store_true",
                        help="draw every row in race diagrams, also the model's bookkeeping (branches "
                             "on params, local-only rows)")


def bounds_and_options(args) -> tuple:
    bounds = Bounds(args.max_states, args.max_depth, args.timeout, args.max_memory)
    set_diagram_style(args.width, args.verbose)
    options = dict(reduction=not args.no_reduction, hash_compact=args.hash_compact,
                   progress=None if args.quiet else Progress(sys.stderr.isatty()),
                   analysis_budget=args.graph_budget)
    spin = dict(collapse=args.collapse, bitstate=args.bitstate, swarm=args.swarm, cores=args.cores)
    if args.engine == "spin":
        options.update(engine="spin", spin=spin)
    elif args.collapse or args.bitstate or args.cores is not None:
        raise UsageError("--collapse, --bitstate and --cores are options of --engine spin")
    elif args.swarm:
        raise UsageError("--swarm is an option of --engine spin: --engine spin --swarm K")
    return bounds, options


def count(text: str) -> int:
    """A number of states: 0 or more."""
    return positive_int(text, 0, "must be 0 or more")


def positive_int(text: str, least: int = 1, message: str = "must be at least 1") -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < least:
        raise argparse.ArgumentTypeError(message)
    return value


def width_option(text: str) -> int:
    return positive_int(text, 0, "must be 0 (no limit) or more")


def size_option(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def find_scenarios(paths) -> list:
    files = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(root, name)
                           for root, _, names in os.walk(path)
                           for name in names if name.endswith((".yaml", ".yml")))
            found = [f for f in found if looks_like_scenario(f)]
            if not found:
                raise UsageError(f"no scenario files (*.yaml with a 'racecheck:' key) under {path}")
            files.extend(found)
        elif os.path.lexists(path):         # a broken link or a loop: the loader says which
            files.append(path)
        else:
            raise UsageError(f"no such file or directory: {path}")
    return files


class Progress:
    """The search's progress on stderr. On a terminal one line, rewritten
    every second; elsewhere (a CI log, a file) a whole line at most every
    ``PROGRESS_LOG_SECONDS`` (the environment variable
    RACECHECK_PROGRESS_SECONDS sets another interval: tests use 0), naming
    the file and variant. ``label`` is set before each variant's check;
    ``every`` tells the search how often to call; ``memory``: the
    searching process's (pan's, with --engine spin), when not this one."""

    def __init__(self, tty: bool):
        self.tty = tty
        self.label = ""
        self.every = 1.0 if tty else seconds_from_environment("RACECHECK_PROGRESS_SECONDS", PROGRESS_LOG_SECONDS)
        self.shown = False

    def __call__(self, states: int, transitions: int, depth: int, seconds: float,
                 memory: int | None = None) -> None:
        rate = states / seconds if seconds > 0 else 0
        self._write(f"{states:,} states, depth {depth}, {rate:,.0f} states/s, {seconds:.0f} s",
                    f"{plural(states, 'state')}, {rate:,.0f} states/s, depth {depth}, "
                    f"{(memory or peak_memory()) / 2**20:,.0f} MiB, {seconds:.0f} s")

    def say(self, text: str) -> None:
        """Progress that is not a state count (the lkmm enumeration's)."""
        self._write(text, f"{text}, {peak_memory() / 2**20:,.0f} MiB")

    def _write(self, short: str, line: str) -> None:
        """``short`` over the terminal's line, or ``line`` as a line of the log."""
        if self.tty:
            sys.stderr.write(f"\r  {short} ")
            self.shown = True
        else:
            sys.stderr.write(f"racecheck: {self.label}: {line}\n")
        sys.stderr.flush()


def seconds_from_environment(name: str, default: float) -> float:
    """The number of seconds in environment variable ``name``; ``default``
    when it is unset or not a number of seconds."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= 0 else default


def end_progress(options: dict) -> None:
    progress = options.get("progress")
    if progress is not None and progress.shown:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        progress.shown = False


def check_all(scenario, variants, path: str, bounds: Bounds, options: dict) -> list:
    """``check_variant`` for each variant, its progress labelled with ``path``."""
    checked = []
    for variant in variants:
        if scenario.memory == "lkmm":
            from racecheck.explore.lkmm_audit import audited_check
            checked.append(audited_check(scenario, variant, bounds.max_states))
            continue
        label_progress(options, path, variant)
        checked.append(check_variant(scenario, variant, bounds, **options))
        end_progress(options)
    return checked


def label_progress(options: dict, path: str, variant) -> None:
    if options.get("progress") is not None:
        options["progress"].label = f"{path}, variant {variant.name}" if variant.name else path


def load_file(path: str, warn: bool = True, memory: str | None = None):
    """Load a scenario; print its warnings (they change no exit status) on stderr."""
    scenario = load_scenario(path, memory)
    for warning in scenario.warnings if warn else ():
        print(warning.render(), file=sys.stderr)
    return scenario


def pick_variants(path: str, scenario, variant_name: str | None) -> tuple:
    """The variants to check; UsageError, with the closest name, when there is no such one."""
    variants = select_variants(scenario, variant_name)
    if variants is None:
        names = [v.name for v in scenario.variants if v.name]
        close = did_you_mean(variant_name, names)
        raise UsageError(f"{path}: no variant named '{variant_name}'; "
                         f"{close + ' ' if close else ''}its variants are: {', '.join(names) or '(none)'}")
    return variants


def sc_only(scenario, path: str, command: str) -> None:
    """Refuse a memory: lkmm scenario in a command that explores interleavings."""
    if scenario.memory == "lkmm":
        raise UsageError(f"{path} is checked under memory: lkmm; racecheck {command} works on "
                         "interleavings (memory: sc) only: use racecheck FILE, report or audit")


def load_variants(path: str, variant_name: str | None, warn: bool = True, memory: str | None = None):
    """The scenario and the variants to check; ScenarioError/UsageError if not."""
    scenario = load_file(path, warn, memory)
    return scenario, pick_variants(path, scenario, variant_name)


def exit_status(results) -> int:
    outcomes = {c.outcome for c in results}
    if Outcome.MISMATCH in outcomes:
        return EXIT_MISMATCH
    if Outcome.INCONCLUSIVE in outcomes:
        return EXIT_BOUND
    return EXIT_OK


def worse(a: int, b: int) -> int:
    rank = {EXIT_OK: 0, EXIT_BOUND: 1, EXIT_MISMATCH: 2, EXIT_USAGE: 3, EXIT_INTERRUPTED: 4}
    return a if rank.get(a, 4) >= rank.get(b, 4) else b
