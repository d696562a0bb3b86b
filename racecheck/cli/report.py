"""``racecheck report``: Markdown, mail text, JSON and HTML reports;
``racecheck report --check DIR``: whether stored reports are still current."""

from __future__ import annotations

import os
import shlex

from racecheck.errors import UsageError

from .common import (EXIT_MISMATCH, EXIT_OK, Parser, bounds_and_options, check_all, exit_status, find_scenarios,
                     load_variants, search_options, worse)


def run(argv) -> int:
    parser = Parser(prog="racecheck report",
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
    search_options(parser)
    args = parser.parse_intermixed_args(argv)
    if args.check is not None:
        if args.paths or args.out or args.index:
            raise UsageError("--check DIR takes no scenario files, --out or --index")
        return _check_reports(args.check)
    if not args.paths or not args.out:
        raise UsageError("the following arguments are required: " +
                         ", ".join(n for n, v in (("PATH", args.paths), ("--out", args.out)) if not v))
    bounds, options = bounds_and_options(args)
    from racecheck.report.files import write_reports, write_text
    from racecheck.report.index import render_index
    from racecheck.report.jsonreport import to_json
    status = EXIT_OK
    summaries = []
    for path in find_scenarios(args.paths):
        path = os.path.normpath(path)
        scenario, variants = load_variants(path, args.variant)
        checked = check_all(scenario, variants, path, bounds, options)
        for written in write_reports(checked, path, args.out):
            print(written)
        summaries.append(to_json(checked, path))
        status = worse(status, exit_status(checked))
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
