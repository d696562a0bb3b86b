"""The ``racecheck`` command: check scenarios, draw races, replay schedules.

Exit status: 0 every checked variant got the verdict it expects; 1 some did
not; 2 bad input or usage; 3 a bound was hit before a verdict, and nothing
mismatched; 69 a package racecheck needs is not installed; 70 an internal
error of racecheck; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

from racecheck import __version__
from racecheck.errors import InternalError, MissingDependency, ScenarioError, UsageError, did_you_mean
from racecheck.explore.budget import peak_memory
from racecheck.explore.check import ANALYSIS_BUDGET, check_variant, select_variants
from racecheck.explore.reduction import visible_conjuncts
from racecheck.explore.result import Bounds, ExitReason, Outcome, default_memory, parse_size
from racecheck.explore.schedule import parse_schedule
from racecheck.explore.trace import replay, violations_at_end
from racecheck.model.program import Program
from racecheck.report.replay import render_replay
from racecheck.report.diagram import DEFAULT_WIDTH, diagram_style, set_diagram_style
from racecheck.report.summary import plural, summary_line
from racecheck.report.text import describe_end, render_table, render_variant
from racecheck.scenario.loader import load_scenario, looks_like_scenario

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_BOUND, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 70, 130
EXIT_MISSING = MissingDependency.EXIT_STATUS      # 69

DESCRIPTION = """\
Explore every interleaving of the threads in racecheck scenario files and
report, for each variant, whether its expected verdict holds. A violation is
drawn as a race diagram (one column per thread, as in kernel commit messages)
with the command that replays it."""

EPILOG = """\
exit status:
  0    every checked variant got the verdict it expects
  1    some variant did not
  2    bad input: a scenario file or an argument that cannot be used
  3    a bound (--max-states, --max-depth, --timeout, --max-memory) was hit
       before a verdict, and nothing mismatched
  69   a package racecheck needs is not installed (pip install -e .)
  70   internal error in racecheck (please report it with the scenario file)
  130  interrupted

commands:
  racecheck [check] PATH...    check scenarios (this help)
  racecheck report PATH... --out DIR
                               Markdown, mail text, JSON and HTML reports
  racecheck report --check DIR whether stored reports still match their
                               scenario files and this racecheck
  racecheck diff OLD NEW       the before/after paragraph of a commit message
  racecheck export --promela|--dot|--graphml SCENARIO
                               a Promela model, or the state graph
  (racecheck COMMAND --help for each)

examples:
  racecheck scenarios/dirty_unlocked.yaml
  racecheck scenarios/ --max-states 1000000
  racecheck scenarios/dirty_unlocked.yaml --variant unlocked --schedule 'reclaim,writeback*3'"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="racecheck", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="scenario files, or directories searched for *.yaml scenario files")
    parser.add_argument("--version", action="version", version=f"racecheck {__version__}")
    parser.add_argument("--variant", metavar="NAME", help="check only this variant")
    parser.add_argument("--schedule", metavar="S",
                        help="replay this schedule (as printed under a diagram) and print the state after every step")
    _search_options(parser)
    return parser


def _search_options(parser) -> None:
    parser.add_argument("--max-states", type=_positive_int, metavar="N",
                        help="stop after storing N states (verdict inconclusive unless a violation was found)")
    parser.add_argument("--max-depth", type=_positive_int, metavar="N",
                        help="do not expand states more than N steps from the start")
    parser.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                        help="end each variant's check after this many seconds: the search, then the "
                             "minimisation, coverage and frequency after it (those it stops are reported "
                             "as not computed)")
    parser.add_argument("--max-memory", type=_size, metavar="SIZE", default=default_memory(),
                        help="stop when racecheck's memory passes SIZE (e.g. 500M, 4G; default: half of "
                             "this machine's memory), in the search and in the analyses after it")
    parser.add_argument("--no-reduction", action="store_true",
                        help="explore every interleaving: no partial-order reduction, no merging of "
                             "states that differ only in dead values")
    parser.add_argument("--hash-compact", action="store_true",
                        help="store 64-bit fingerprints of states instead of the states (less memory; "
                             "prints the probability that a collision hid a state)")
    parser.add_argument("--graph-budget", type=_count, metavar="N", default=ANALYSIS_BUDGET,
                        help="walk at most N states of the full (unreduced) state graph for coverage and "
                             f"'how common' (default {ANALYSIS_BUDGET:,}); coverage needs the walk only for "
                             "steps the verdict search never ran; over the budget they say 'not computed'")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr (on a terminal a line updated every second, "
                             f"otherwise a line at most every {PROGRESS_LOG_SECONDS} s)")
    parser.add_argument("--width", type=_width, default=DEFAULT_WIDTH, metavar="N",
                        help=f"fit race diagrams in N columns (default {DEFAULT_WIDTH}, as kernel mail; 0: no limit)")
    parser.add_argument("--verbose", action="store_true",
                        help="draw every row in race diagrams, also the model's bookkeeping (branches "
                             "on params, local-only rows)")


def _bounds_and_options(args) -> tuple:
    bounds = Bounds(args.max_states, args.max_depth, args.timeout, args.max_memory)
    set_diagram_style(args.width, args.verbose)
    options = dict(reduction=not args.no_reduction, hash_compact=args.hash_compact,
                   progress=None if args.quiet else _Progress(sys.stderr.isatty()),
                   analysis_budget=args.graph_budget)
    return bounds, options


def _count(text: str) -> int:
    """A number of states: 0 or more."""
    return _positive_int(text, 0, "must be 0 or more")


def _positive_int(text: str, least: int = 1, message: str = "must be at least 1") -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < least:
        raise argparse.ArgumentTypeError(message)
    return value


def _width(text: str) -> int:
    return _positive_int(text, 0, "must be 0 (no limit) or more")


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


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


COMMANDS = ("check", "report", "diff", "export")


def _main(argv) -> int:
    if argv and argv[0] in COMMANDS:
        command, argv = argv[0], argv[1:]
    else:
        command = "check"
    with diagram_style():                   # options set it for this command only
        return {"check": _check, "report": _report, "diff": _diff, "export": _export}[command](argv)


def _check(argv) -> int:
    args = build_parser().parse_intermixed_args(argv)
    bounds, options = _bounds_and_options(args)
    files = find_scenarios(args.paths)
    if args.schedule is not None:
        if len(files) != 1:
            raise UsageError("--schedule replays one scenario file; name exactly one")
        return _replay(files[0], args.variant, args.schedule)
    status = EXIT_OK
    start = time.perf_counter()
    results: list = []
    for n, path in enumerate(files):
        if n:
            print()
        status = _worse(status, _check_file(path, args.variant, bounds, options, results))
        if status == EXIT_INTERRUPTED:
            break
    if len(files) > 1:
        print()
        print(summary_line(files, results, time.perf_counter() - start))
    return status


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


PROGRESS_LOG_SECONDS = 30      # between two progress lines when stderr is not a terminal


class _Progress:
    """The search's progress on stderr. On a terminal one line, rewritten
    every second; elsewhere (a CI log, a file) a whole line at most every
    ``PROGRESS_LOG_SECONDS`` (the environment variable
    RACECHECK_PROGRESS_SECONDS sets another interval: tests use 0), naming
    the file and variant. ``label`` is set before each variant's check;
    ``every`` tells the search how often to call."""

    def __init__(self, tty: bool):
        self.tty = tty
        self.label = ""
        self.every = 1.0 if tty else _seconds_from_environment("RACECHECK_PROGRESS_SECONDS", PROGRESS_LOG_SECONDS)
        self.shown = False

    def __call__(self, states: int, transitions: int, depth: int, seconds: float) -> None:
        rate = states / seconds if seconds > 0 else 0
        if self.tty:
            sys.stderr.write(f"\r  {states:,} states, depth {depth}, {rate:,.0f} states/s, {seconds:.0f} s ")
            self.shown = True
        else:
            sys.stderr.write(f"racecheck: {self.label}: {plural(states, 'state')}, {rate:,.0f} states/s, "
                             f"depth {depth}, {peak_memory() / 2**20:,.0f} MiB, {seconds:.0f} s\n")
        sys.stderr.flush()


def _seconds_from_environment(name: str, default: float) -> float:
    """The number of seconds in environment variable ``name``; ``default``
    when it is unset or not a number of seconds."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= 0 else default


def _end_progress(options: dict) -> None:
    progress = options.get("progress")
    if progress is not None and progress.shown:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        progress.shown = False


def _check_all(scenario, variants, path: str, bounds: Bounds, options: dict) -> list:
    """``check_variant`` for each variant, its progress labelled with ``path``."""
    checked = []
    for variant in variants:
        _label(options, path, variant)
        checked.append(check_variant(scenario, variant, bounds, **options))
        _end_progress(options)
    return checked


def _label(options: dict, path: str, variant) -> None:
    if options.get("progress") is not None:
        options["progress"].label = f"{path}, variant {variant.name}" if variant.name else path


def _load(path: str, warn: bool = True):
    """Load a scenario; print its warnings (they change no exit status) on stderr."""
    scenario = load_scenario(path)
    for warning in scenario.warnings if warn else ():
        print(warning.render(), file=sys.stderr)
    return scenario


def _variants(path: str, scenario, variant_name: str | None) -> tuple:
    """The variants to check; UsageError, with the closest name, when there is no such one."""
    variants = select_variants(scenario, variant_name)
    if variants is None:
        names = [v.name for v in scenario.variants if v.name]
        close = did_you_mean(variant_name, names)
        raise UsageError(f"{path}: no variant named '{variant_name}'; "
                         f"{close + ' ' if close else ''}its variants are: {', '.join(names) or '(none)'}")
    return variants


def _load_variants(path: str, variant_name: str | None, warn: bool = True):
    """The scenario and the variants to check; ScenarioError/UsageError if not."""
    scenario = _load(path, warn)
    return scenario, _variants(path, scenario, variant_name)


def _check_file(path: str, variant_name: str | None, bounds: Bounds, options: dict, tally: list) -> int:
    """Check one file and print its results; its checked variants are appended
    to ``tally`` (nothing when it cannot be loaded)."""
    try:
        scenario, variants = _load_variants(path, variant_name)
    except ScenarioError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"racecheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"== {path}: {scenario.title}")
    results: list = []
    tally.append(results)
    for variant in variants:
        _label(options, path, variant)
        checked = check_variant(scenario, variant, bounds, **options)
        _end_progress(options)
        _warn_visible(checked, options)
        results.append(checked)
        print()
        print(render_variant(checked, path))
        if checked.exploration.exit_reason is ExitReason.INTERRUPTED:
            print("racecheck: interrupted; the statistics above are those of the partial search", file=sys.stderr)
            return EXIT_INTERRUPTED
    if len(scenario.variants) > 1 or variant_name:
        print()
        print(render_table(results))
    return _status(results)


def _warn_visible(checked, options: dict) -> None:
    """Name the invariant conjuncts that keep the reduction from working."""
    if options.get("reduction", True) and len(checked.program.threads) > 1:
        for conjunct in visible_conjuncts(checked.program):
            print(f"racecheck: warning: {conjunct.describe()}", file=sys.stderr)


def _status(results) -> int:
    outcomes = {c.outcome for c in results}
    if Outcome.MISMATCH in outcomes:
        return EXIT_MISMATCH
    if Outcome.INCONCLUSIVE in outcomes:
        return EXIT_BOUND
    return EXIT_OK


def _worse(a: int, b: int) -> int:
    rank = {EXIT_OK: 0, EXIT_BOUND: 1, EXIT_MISMATCH: 2, EXIT_USAGE: 3, EXIT_INTERRUPTED: 4}
    return a if rank.get(a, 4) >= rank.get(b, 4) else b


# -- racecheck report ------------------------------------------------------------

def _report(argv) -> int:
    parser = _Parser(prog="racecheck report",
                     usage="racecheck report PATH... --out DIR [--index FILE] [options]\n"
                           "       racecheck report --check DIR",
                     description="Write Markdown, mail-ready text, JSON and HTML reports for each scenario file: "
                                 "the verdict table, race diagrams, replay commands and sequence charts.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories")
    parser.add_argument("--out", metavar="DIR", help="directory to write the reports into (required)")
    parser.add_argument("--variant", metavar="NAME", help="only this variant")
    parser.add_argument("--index", metavar="FILE",
                        help="also write a Markdown table of all the scenarios and their verdicts here")
    parser.add_argument("--check", metavar="DIR",
                        help="write nothing; say for each report in DIR whether it still matches its scenario "
                             "file (SHA-256) and this racecheck's version: exit 0 if all do, 1 if any is stale")
    _search_options(parser)
    args = parser.parse_intermixed_args(argv)
    if args.check is not None:
        if args.paths or args.out or args.index:
            raise UsageError("--check DIR takes no scenario files, --out or --index")
        return _check_reports(args.check)
    if not args.paths or not args.out:
        raise UsageError("the following arguments are required: " +
                         ", ".join(n for n, v in (("PATH", args.paths), ("--out", args.out)) if not v))
    bounds, options = _bounds_and_options(args)
    from racecheck.report.files import write_reports, write_text
    from racecheck.report.index import render_index
    from racecheck.report.jsonreport import to_json
    status = EXIT_OK
    summaries = []
    for path in find_scenarios(args.paths):
        path = os.path.normpath(path)
        scenario, variants = _load_variants(path, args.variant)
        checked = _check_all(scenario, variants, path, bounds, options)
        for written in write_reports(checked, path, args.out):
            print(written)
        summaries.append(to_json(checked, path))
        status = _worse(status, _status(checked))
    if args.index:
        command = "racecheck report " + " ".join(shlex.quote(str(a)) for a in argv)
        write_text(args.index, render_index(summaries, args.index, args.out, command), parents=True)
        print(args.index)
    return status


def _check_reports(directory: str) -> int:
    from racecheck.report.stamp import check_reports, plural
    results = check_reports(directory)
    for one in results:
        print(one.describe())
    stale = sum(1 for one in results if one.problems)
    print(f"{plural(len(results), 'report')}: {len(results) - stale} up to date, {stale} stale")
    return EXIT_MISMATCH if stale else EXIT_OK


# -- racecheck diff --------------------------------------------------------------

def _diff(argv) -> int:
    parser = _Parser(prog="racecheck diff",
                     description="Compare two scenario files (the model before and after a patch), or two "
                                 "variants of one file, and print the 'before this patch / after this patch' "
                                 "paragraph of a commit message: the verdict table and the race diagrams the "
                                 "change removes or adds.",
                     epilog="examples:\n  racecheck diff old.yaml new.yaml\n"
                            "  racecheck diff scenarios/dirty_unlocked.yaml --variants unlocked trylock\n"
                            "  racecheck diff a.yaml::unlocked b.yaml::trylock",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH[::VARIANT]")
    parser.add_argument("--variants", nargs=2, metavar=("OLD", "NEW"), help="two variants of one file")
    _search_options(parser)
    args = parser.parse_intermixed_args(argv)
    bounds, options = _bounds_and_options(args)
    if args.variants:
        if len(args.paths) != 1:
            raise UsageError("--variants compares two variants of one file: name exactly one PATH")
        sides = [(args.paths[0], args.variants[0]), (args.paths[0], args.variants[1])]
    elif len(args.paths) == 2:
        sides = [tuple(p.split("::", 1)) if "::" in p else (p, None) for p in args.paths]
    else:
        raise UsageError("diff takes two scenarios (OLD NEW), or one file and --variants OLD NEW")
    checked = []
    for n, (path, variant) in enumerate(sides):
        if not os.path.lexists(path):
            raise UsageError(f"no such file: {path}")
        scenario, variants = _load_variants(path, variant, warn=n == 0 or path != sides[0][0])
        checked.append(_check_all(scenario, variants, path, bounds, options))
    labels = [f"{p}::{v}" if v and not args.variants else (v or p) for p, v in sides]
    from racecheck.report.diff import render_diff
    print(render_diff(checked[0], checked[1], labels[0], labels[1]))
    return EXIT_OK


# -- racecheck export ------------------------------------------------------------

def _export(argv) -> int:
    parser = _Parser(prog="racecheck export",
                     description="Export one variant: as a Promela model for SPIN, or its explored state graph "
                                 "as Graphviz DOT or GraphML.")
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--promela", action="store_true", help="an equivalent Promela model (cross-check with SPIN)")
    kind.add_argument("--dot", action="store_true", help="the state graph in Graphviz DOT")
    kind.add_argument("--graphml", action="store_true", help="the state graph in GraphML")
    parser.add_argument("path", metavar="SCENARIO")
    parser.add_argument("--variant", metavar="NAME", help="the variant (needed when the file has several)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--max-states", type=_positive_int, default=5000, metavar="N",
                        help="draw at most N states of the graph (default 5000)")
    args = parser.parse_intermixed_args(argv)
    scenario, variants = _load_variants(args.path, args.variant)
    if len(variants) > 1:
        raise UsageError(f"{args.path} has several variants ({', '.join(v.name for v in variants)}); "
                         "choose one with --variant")
    program = Program(scenario, variants[0])
    if args.promela:
        from racecheck.report.promela import to_promela
        text = to_promela(program)
    else:
        from racecheck.explore.graph import state_graph
        from racecheck.report.graph import to_dot, to_graphml
        graph = state_graph(program, args.max_states)
        if not graph.complete:
            print(f"racecheck: the state graph has more than {args.max_states} states; the first "
                  f"{args.max_states} are drawn, the rest of the frontier is marked", file=sys.stderr)
        text = to_graphml(graph) if args.graphml else to_dot(graph)
    if args.output:
        from racecheck.report.files import write_text
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _replay(path: str, variant_name: str | None, text: str) -> int:
    scenario = _load(path)
    if variant_name is None and len(scenario.variants) > 1:
        names = ", ".join(v.name for v in scenario.variants)
        raise UsageError(f"{path} has several variants ({names}); choose one with --variant")
    variants = _variants(path, scenario, variant_name)
    program = Program(scenario, variants[0])
    schedule = parse_schedule(text, [t.name for t in program.threads])
    trace = replay(program, schedule)
    label = f", variant {variants[0].name}" if variants[0].name else ""
    print(f"== {path}{label}: replay of {len(schedule)} steps")
    print()
    for line in render_replay(program, trace):
        print(line)
    print()
    found = violations_at_end(program, trace)
    if found:
        for kind, name, message in found:
            print(f"after step {len(trace.steps)}: {describe_end(kind, name, message)}")
    else:
        state = trace.final_state
        done = "all threads have finished" if program.finished(state) else "no violation in the last state"
        print(f"after step {len(trace.steps)}: {done}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
