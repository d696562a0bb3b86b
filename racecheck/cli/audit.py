"""``racecheck audit FILE.litmus... | FILE.yaml``: weaken each ordering
primitive of C litmus tests, or of a ``memory: lkmm`` scenario, in turn
and say which ones the test's answer (the scenario's properties) need."""

from __future__ import annotations

import argparse
import json

from racecheck.errors import ScenarioError, UsageError
from racecheck.explore.audit import audit_litmus
from racecheck.explore.executions import DEFAULT_MAX_CANDIDATES, TooBig
from racecheck.explore.witness import find_witness
from racecheck.report.audit import audit_json, render_audit, render_without
from racecheck.report.witness import render_witness
from racecheck.scenario.litmus import parse_litmus_file

from racecheck.scenario.loader import looks_like_scenario

from . import lkmm_audit as lkmm_audit_cli
from .common import EXIT_OK, Parser, positive_int, worse
from .litmus import find_litmus, refused

DESCRIPTION = """\
For every ordering primitive of C litmus tests (barriers, acquire and
release, ordered RMWs, lock pairs, RCU and SRCU read-side sections and
grace periods), weaken it alone (a barrier or pair to nothing, acquire/
release to READ_ONCE/WRITE_ONCE, an RMW to its _relaxed form), check the
test again under the Linux-kernel memory model, and say whether the
answer changes. A scenario file (memory: lkmm) is audited per variant:
a primitive is needed when the scenario without it violates something
it did not; its counterexample follows the table. See docs/lkmm.md."""

EPILOG = """\
exit status:
  0    every test was audited
  2    bad input: a file that is not a C litmus test (file:line given),
       or one using a feature racecheck does not model yet
  3    --max-candidates was hit before an answer

examples:
  racecheck audit tests/lkmm/MP+wmb+rmb.litmus
  racecheck audit --witness tests/lkmm/SB+mb+mb.litmus
  racecheck audit tests/lkmm/ --json
  racecheck audit scenarios/kcompactd_wakeup.yaml --variant after"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="racecheck audit", epilog=EPILOG, description=DESCRIPTION,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="FILE",
                        help="litmus files, directories searched for *.litmus, or scenario files")
    parser.add_argument("--variant", metavar="NAME", help="a scenario file: audit only this variant")
    parser.add_argument("--memory", choices=("lkmm",),
                        help="audit a memory: sc scenario file under lkmm")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument("--witness", action="store_true",
                        help="after the table, draw the counterexample without each needed primitive")
    parser.add_argument("--max-candidates", type=positive_int, default=DEFAULT_MAX_CANDIDATES, metavar="N",
                        help=f"stop a check after N candidate executions (default {DEFAULT_MAX_CANDIDATES})")
    return parser


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    scenarios = [p for p in args.paths if p.endswith((".yaml", ".yml")) or looks_like_scenario(p)]
    if scenarios:
        if len(scenarios) != len(args.paths):
            raise UsageError("audit either litmus tests or scenario files, not both at once")
        return lkmm_audit_cli.run(scenarios, args)
    documents, status, printed = [], EXIT_OK, 0
    for path in find_litmus(args.paths):
        try:
            audit = audit_litmus(parse_litmus_file(path), max_candidates=args.max_candidates)
        except (ScenarioError, TooBig) as exc:
            status = worse(status, refused(path, exc))
            continue
        documents.append(audit_json(audit))
        if args.json:
            continue
        print(("\n" if printed else "") + render_audit(audit))
        printed += 1
        for row in audit.weakened:
            if args.witness and row.needed(audit.answer):
                print("\n" + render_without(row, render_witness(find_witness(row.test, args.max_candidates))))
    if args.json:
        print(json.dumps({"schema": "racecheck-audit", "schema_version": 1, "tests": documents}, indent=2))
    return status
