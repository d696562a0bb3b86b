"""``racecheck export``: a variant as a Promela model, or its state graph
as Graphviz DOT or GraphML."""

from __future__ import annotations

import sys

from racecheck.errors import UsageError
from racecheck.model.program import Program

from .common import EXIT_OK, Parser, load_variants, positive_int, sc_only


def run(argv) -> int:
    parser = Parser(prog="racecheck export",
                     description="Export one variant: as a Promela model for SPIN, or its explored state graph "
                                 "as Graphviz DOT or GraphML.")
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--promela", action="store_true", help="an equivalent Promela model (cross-check with SPIN)")
    kind.add_argument("--dot", action="store_true", help="the state graph in Graphviz DOT")
    kind.add_argument("--graphml", action="store_true", help="the state graph in GraphML")
    parser.add_argument("path", metavar="SCENARIO")
    parser.add_argument("--variant", metavar="NAME", help="the variant (needed when the file has several)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--max-states", type=positive_int, default=5000, metavar="N",
                        help="draw at most N states of the graph (default 5000)")
    args = parser.parse_intermixed_args(argv)
    scenario, variants = load_variants(args.path, args.variant)
    sc_only(scenario, args.path, "export")
    if len(variants) > 1:
        raise UsageError(f"{args.path} has several variants ({', '.join(v.name for v in variants)}); "
                         "choose one with --variant")
    program = Program(scenario, variants[0])
    if args.promela:
        from racecheck.spin import to_promela
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
