"""``racecheck diff``: the before/after paragraph of a commit message."""

from __future__ import annotations

import argparse
import os

from racecheck.errors import UsageError

from .common import EXIT_OK, Parser, bounds_and_options, check_all, load_variants, sc_only, search_options


def run(argv) -> int:
    parser = Parser(prog="racecheck diff",
                     description="Compare two scenario files (the model before and after a patch), or\n"
                                 "two variants of one file, and print the 'before this patch / after this\n"
                                 "patch' paragraph of a commit message: the verdict table and the race\n"
                                 "diagrams the change removes or adds.",
                     epilog="examples:\n  racecheck diff old.yaml new.yaml\n"
                            "  racecheck diff scenarios/dirty_unlocked.yaml --variants unlocked trylock\n"
                            "  racecheck diff a.yaml::unlocked b.yaml::trylock",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH[::VARIANT]")
    parser.add_argument("--variants", nargs=2, metavar=("OLD", "NEW"), help="two variants of one file")
    search_options(parser)
    args = parser.parse_intermixed_args(argv)
    bounds, options = bounds_and_options(args)
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
        scenario, variants = load_variants(path, variant, warn=n == 0 or path != sides[0][0])
        sc_only(scenario, path, "diff")
        checked.append(check_all(scenario, variants, path, bounds, options))
    labels = [f"{p}::{v}" if v and not args.variants else (v or p) for p, v in sides]
    from racecheck.report.diff import render_diff
    print(render_diff(checked[0], checked[1], labels[0], labels[1]))
    return EXIT_OK
