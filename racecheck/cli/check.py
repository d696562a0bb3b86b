"""``racecheck [check] PATH...``: check scenario files and print each
variant's verdict, race diagram and replay command; ``--schedule`` replays
one schedule step by step."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time

from racecheck import __version__
from racecheck.errors import ScenarioError, UsageError
from racecheck.explore.check import check_variant
from racecheck.explore.reduction import dependence, visible_conjuncts
from racecheck.explore.result import Bounds, ExitReason
from racecheck.explore.schedule import parse_schedule
from racecheck.explore.trace import replay, violations_at_end
from racecheck.model.program import Program
from racecheck.report.diagram import current_style
from racecheck.report.fold import fold_prose
from racecheck.report.replay import render_replay
from racecheck.report.summary import summary_line
from racecheck.report.text import describe_end, render_table, render_variant

from .common import (EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Parser, bounds_and_options,
                     end_progress, exit_status, find_scenarios, label_progress, load_file, load_variants,
                     pick_variants, search_options, worse)

DESCRIPTION = """\
Explore every interleaving of the threads in racecheck scenario files and
report, for each variant, whether its expected verdict holds. A violation
is drawn as a race diagram (one column per thread, as in kernel commit
messages) with the command that replays it."""

EPILOG = """\
exit status:
  0    every checked variant got the verdict it expects
  1    some variant did not
  2    bad input: a scenario file or an argument that cannot be used
  3    a bound (--max-states, --max-depth, --timeout, --max-memory) was hit
       before a verdict, and nothing mismatched
  69   a package racecheck needs is not installed (pip install -e .),
       or spin/gcc for --engine spin
  70   internal error in racecheck (please report it with the scenario
       file)
  130  interrupted

commands:
  racecheck [check] PATH...    check scenarios (this help)
  racecheck report PATH... --out DIR
                               Markdown, mail text, JSON and HTML reports
  racecheck report --check DIR whether stored reports still match their
                               scenario files and this racecheck
  racecheck diff OLD NEW       the before/after paragraph of a commit
                               message
  racecheck export --promela|--dot|--graphml SCENARIO
                               a Promela model, or the state graph
  racecheck explain SCENARIO   which steps make threads dependent, and
                               how to write them so they are not
  racecheck litmus FILE.litmus...
                               litmus tests under the kernel's memory model
                               (--witness: draw an execution showing it)
  racecheck audit FILE.litmus... | FILE.yaml
                               the ordering a litmus test (an lkmm
                               scenario) needs
  (racecheck COMMAND --help for each)

examples:
  racecheck scenarios/dirty_unlocked.yaml
  racecheck scenarios/ --max-states 1000000
  racecheck scenarios/dirty_unlocked.yaml --variant unlocked \\
      --schedule 'reclaim,writeback*3'"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="racecheck", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="scenario files, or directories searched for *.yaml scenario files")
    parser.add_argument("--version", action="version", version=f"racecheck {__version__}")
    parser.add_argument("--variant", metavar="NAME", help="check only this variant")
    parser.add_argument("--schedule", metavar="S",
                        help="replay this schedule (as printed under a diagram) and print the state after every step")
    parser.add_argument("--memory", choices=("sc", "lkmm"),
                        help="check under this memory model, whatever the file's memory: key says")
    parser.add_argument("--execution", metavar="N", type=int,
                        help="memory: lkmm: draw execution N (as printed under a diagram) and what it shows")
    search_options(parser)
    return parser


def run(argv) -> int:
    args = build_parser().parse_intermixed_args(argv)
    bounds, options = bounds_and_options(args)
    files = find_scenarios(args.paths)
    if args.schedule is not None:
        if len(files) != 1:
            raise UsageError("--schedule replays one scenario file; name exactly one")
        return _replay(files[0], args.variant, args.schedule, args.memory)
    if args.execution is not None:
        if len(files) != 1:
            raise UsageError("--execution replays one scenario file; name exactly one")
        from . import lkmm_check as lkmm_cli          # memory: lkmm only: not on the sc path
        return lkmm_cli.replay(files[0], args.variant, args.execution, args.memory)
    status = EXIT_OK
    start = time.perf_counter()
    results: list = []
    for n, path in enumerate(files):
        if n:
            print()
        status = worse(status, _check_file(path, args.variant, bounds, options, results, args.memory))
        if status == EXIT_INTERRUPTED:
            break
    if len(files) > 1:
        print()
        for line in fold_prose(summary_line(files, results, time.perf_counter() - start), current_style().width, "  "):
            print(line)
    return status


def _check_file(path: str, variant_name: str | None, bounds: Bounds, options: dict, tally: list,
                memory: str | None = None) -> int:
    """Check one file and print its results; its checked variants are appended
    to ``tally`` (nothing when it cannot be loaded)."""
    try:
        scenario, variants = load_variants(path, variant_name, memory=memory)
    except ScenarioError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"racecheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    glued = f"== {path}:".replace(" ", "\x00")      # never broken after '=='
    for line in fold_prose(f"{glued} {scenario.title}", current_style().width, "   "):
        print(line.replace("\x00", " "))
    results: list = []
    tally.append(results)
    if scenario.memory == "lkmm":
        from . import lkmm_check as lkmm_cli          # memory: lkmm only: not on the sc path
        lkmm_cli.warn_unbounded(path, bounds)
    for variant in variants:
        if scenario.memory == "lkmm":
            label_progress(options, path, variant)
            results.append(lkmm_cli.check(scenario, variant, bounds, path, options.get("progress")))
            end_progress(options)
            continue
        label_progress(options, path, variant)
        checked = check_variant(scenario, variant, bounds, **options)
        end_progress(options)
        _warn_visible(checked, options)
        results.append(checked)
        print()
        print(render_variant(checked, path))
        for line in getattr(checked, "swarm_lines", list)():     # --engine spin --bitstate: the runs
            print("\n".join(fold_prose(line, current_style().width, "  ")))
        if checked.exploration.exit_reason is ExitReason.INTERRUPTED:
            print("racecheck: interrupted; the statistics above are those of the partial search", file=sys.stderr)
            return EXIT_INTERRUPTED
    if len(scenario.variants) > 1 or variant_name:
        print()
        print(render_table(results))
    return exit_status(results)


WEAK_STATES = 10_000          # a reduced search this large warns about indices it cannot resolve


def _warn_visible(checked, options: dict) -> None:
    """Name the invariant conjuncts that keep the reduction from working,
    and, after a large search, the indices that stand for every element;
    say what --engine spin did not check."""
    if checked.stopped("livelock"):
        print(f"racecheck: warning: {checked.variant.name or 'the scenario'} can loop, and livelock is not\n"
              "  checked by --engine spin (the default engine checks it)", file=sys.stderr)
    if options.get("reduction", True) and len(checked.program.threads) > 1:
        for conjunct in visible_conjuncts(checked.program):
            print(f"racecheck: warning: {conjunct.describe()}", file=sys.stderr)
        if checked.exploration.stats.states >= WEAK_STATES:
            _warn_indexes(checked.program)


def _warn_indexes(program) -> None:
    coupled: dict = {}
    for coupling in dependence(program).couplings:
        for index in coupling.indexes:
            if not index.locals:
                coupled[index] = True
    for index in coupled:
        text = (f"racecheck: warning: {index.pos}: `{index.text}` indexes with a value that is not a "
                f"constant, so it stands for every element: steps on other elements stay ordered "
                f"with it, and partial-order reduction gains little (`racecheck explain "
                f"{index.pos.file}` says how to write it)")
        print("\n".join(textwrap.wrap(text, 75, subsequent_indent="  ", break_on_hyphens=False,
                                     break_long_words=False)),
              file=sys.stderr)


def _replay(path: str, variant_name: str | None, text: str, memory: str | None = None) -> int:
    scenario = load_file(path, memory=memory)
    if scenario.memory == "lkmm":
        raise UsageError(f"{path} is checked under memory: lkmm, where a counterexample is an "
                         "execution, not a schedule: replay it with --execution N")
    if variant_name is None and len(scenario.variants) > 1:
        names = ", ".join(v.name for v in scenario.variants)
        raise UsageError(f"{path} has several variants ({names}); choose one with --variant")
    variants = pick_variants(path, scenario, variant_name)
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
