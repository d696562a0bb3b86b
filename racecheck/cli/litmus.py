"""``racecheck litmus FILE.litmus...``: run C litmus tests under the
Linux-kernel memory model and compare each answer with its ``Result:``
line."""

from __future__ import annotations

import argparse
import json
import os
import sys

from racecheck.errors import ScenarioError, UsageError
from racecheck.explore.executions import DEFAULT_MAX_CANDIDATES, TooBig
from racecheck.explore.litmus import check_litmus
from racecheck.explore.witness import find_witness
from racecheck.report.litmus import (render_result, render_summary, render_unsupported, result_json,
                                     unsupported_json)
from racecheck.report.witness import render_witness
from racecheck.scenario.litmus import LitmusUnsupported, parse_litmus_file

from .common import EXIT_BOUND, EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, Parser, positive_int, worse

DESCRIPTION = """\
Explore every execution of C litmus tests (the format of the kernel's
tools/memory-model/litmus-tests) under the Linux-kernel memory model, as
herd7 does, and compare each answer (Always, Sometimes, Never; DATARACE)
with the test's Result: line. See docs/lkmm.md."""

EPILOG = """\
exit status:
  0    every test agrees with its Result: line, or has none
  1    some test disagrees, or uses a feature racecheck does not model
       yet (reported as 'unsupported: FEATURE')
  2    bad input: a file that is not a C litmus test (file:line given)
  3    --max-candidates was hit before an answer

examples:
  racecheck litmus tests/lkmm/MP+rel+acq.litmus
  racecheck litmus --witness tests/lkmm/SB+once+once.litmus
  racecheck litmus tools/memory-model/litmus-tests/ --json"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="racecheck litmus", epilog=EPILOG,
                     description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="FILE",
                        help="litmus files, or directories searched for *.litmus")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument("--witness", action="store_true",
                        help="draw one execution that reaches the exists clause (or violates ~exists, "
                             "forall), in CPU columns")
    parser.add_argument("--max-candidates", type=positive_int, default=DEFAULT_MAX_CANDIDATES, metavar="N",
                        help=f"stop a test after N candidate executions (default {DEFAULT_MAX_CANDIDATES})")
    parser.add_argument("--to-yaml", action="store_true",
                        help="write each test as a memory: lkmm scenario file (NAME.yaml) instead of checking it")
    parser.add_argument("--out", metavar="DIR", default=".",
                        help="with --to-yaml: the directory to write to (default: the current one)")
    return parser


def refused(path: str, exc) -> int:
    """Say why ``path`` could not be checked; its exit status: 2 for bad
    input (a ScenarioError), 3 for the --max-candidates bound (TooBig)."""
    if isinstance(exc, TooBig):
        print(f"racecheck: {path}: {exc}; raise --max-candidates to finish", file=sys.stderr)
        return EXIT_BOUND
    print(exc.render(), file=sys.stderr)
    return EXIT_USAGE


def find_litmus(paths) -> list:
    files = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(root, name) for root, _, names in os.walk(path)
                           for name in names if name.endswith(".litmus"))
            if not found:
                raise UsageError(f"no *.litmus files under {path}")
            files.extend(found)
        elif os.path.lexists(path):
            files.append(path)
        else:
            raise UsageError(f"no such file or directory: {path}")
    return files


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    if args.to_yaml:
        return _to_yaml(args)
    results, unsupported, documents, status = [], [], [], EXIT_OK
    for path in find_litmus(args.paths):
        try:
            test = parse_litmus_file(path)
            result = check_litmus(test, max_candidates=args.max_candidates)
            witness = render_witness(find_witness(test, args.max_candidates)) if args.witness else None
        except LitmusUnsupported as exc:
            name = _name_of(path)
            unsupported.append(path)
            documents.append(unsupported_json(path, name, exc.feature))
            _say(args, render_unsupported(name, exc.feature, str(exc.pos or path)))
            status = worse(status, EXIT_MISMATCH)
            continue
        except (ScenarioError, TooBig) as exc:
            status = worse(status, refused(path, exc))
            continue
        results.append(result)
        documents.append(result_json(result))
        _say(args, render_result(result))
        if witness is not None:
            documents[-1]["witness"] = witness.split("\n")
            _say(args, witness + "\n")
        if result.agrees is False:
            status = worse(status, EXIT_MISMATCH)
    if args.json:
        print(json.dumps({"schema": "racecheck-litmus", "schema_version": 1, "tests": documents}, indent=2))
    elif len(results) + len(unsupported) > 1:
        print(render_summary(results, unsupported))
    return status


def _say(args, text: str) -> None:
    if not args.json:
        print(text)


def _name_of(path: str) -> str:
    """The test's name from its header line, or the file name."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("C "):
                    return line[2:].strip()
    except (OSError, UnicodeDecodeError):
        pass
    return os.path.basename(path)


def _to_yaml(args) -> int:
    """Write each test as a scenario file; name those that cannot be."""
    from racecheck.scenario.litmus_yaml import to_yaml
    status = EXIT_OK
    os.makedirs(args.out, exist_ok=True)
    for path in find_litmus(args.paths):
        try:
            text = to_yaml(parse_litmus_file(path))
        except ScenarioError as exc:
            status = worse(status, refused(path, exc))
            continue
        target = os.path.join(args.out, os.path.basename(path).removesuffix(".litmus") + ".yaml")
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(target)
    return status
