"""``racecheck explain FILE [--variant V]``: which steps and invariant
conjuncts make threads dependent, with their lines, and how to write them
so that partial-order reduction can keep the threads apart."""

from __future__ import annotations

from racecheck.explore.reduction import dependence
from racecheck.model.program import Program
from racecheck.report.explain import render_explain

from .common import EXIT_OK, Parser, load_variants, sc_only


def run(argv) -> int:
    parser = Parser(prog="racecheck explain",
                    description="Say which steps and invariant conjuncts make threads dependent (so that "
                                "partial-order reduction must run them in every order), with their lines, "
                                "and how to write them so they do not. Runs no search.")
    parser.add_argument("path", metavar="SCENARIO")
    parser.add_argument("--variant", metavar="NAME", help="only this variant (default: every variant)")
    args = parser.parse_intermixed_args(argv)
    scenario, variants = load_variants(args.path, args.variant)
    sc_only(scenario, args.path, "explain")
    for i, variant in enumerate(variants):
        if i:
            print()
        print(render_explain(dependence(Program(scenario, variant)), args.path, variant.name), end="")
    return EXIT_OK
