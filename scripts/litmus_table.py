#!/usr/bin/env python3
"""Run every .litmus file of a directory under racecheck's LKMM and print
a Markdown table (test, expected Result, racecheck's answer, consistent
executions, seconds) and a summary: agreements, disagreements, files
without a Result: line, unsupported files with the feature named, and
files that are not litmus tests.

    scripts/litmus_table.py tools/memory-model/litmus-tests

The seconds are wall-clock time on this machine, for orientation only.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from racecheck.errors import ScenarioError
from racecheck.explore.executions import TooBig
from racecheck.explore.litmus import check_litmus
from racecheck.scenario.litmus import LitmusUnsupported, parse_litmus_file


def row(path: str) -> tuple:
    """(test, expected, answer, executions, seconds, outcome, note)."""
    name = os.path.basename(path).removesuffix(".litmus")
    start = time.perf_counter()
    try:
        test = parse_litmus_file(path)
        result = check_litmus(test)
    except LitmusUnsupported as exc:
        return name, "?", "unsupported", "-", _since(start), "unsupported", exc.feature
    except ScenarioError as exc:
        return name, "?", "bad input", "-", _since(start), "bad", exc.message
    except TooBig as exc:
        return name, "?", "too big", "-", _since(start), "bad", str(exc)
    expected = (test.expected or "-") + (" DATARACE" if test.expected_race else "")
    answer = result.answer + (" DATARACE" if result.racy else "")
    outcome = {True: "agree", False: "disagree", None: "no Result:"}[result.agrees]
    return test.name, expected, answer, str(result.executions), _since(start), outcome, ""


def _since(start: float) -> str:
    return f"{time.perf_counter() - start:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    args = parser.parse_args(argv)
    files = sorted(os.path.join(args.directory, f) for f in os.listdir(args.directory) if f.endswith(".litmus"))
    if not files:
        print(f"no .litmus files in {args.directory}", file=sys.stderr)
        return 2
    rows = [row(path) for path in files]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print("| test | expected | racecheck | executions | seconds |")
    print("|---|---|---|---:|---:|")
    for name, expected, answer, executions, seconds, outcome, note in rows:
        mark = "" if outcome in ("agree", "no Result:") else f" ({outcome}{': ' + note if note else ''})"
        print(f"| {name} | {expected} | {answer}{mark} | {executions} | {seconds} |")
    count = {kind: sum(1 for r in rows if r[5] == kind) for kind in ("agree", "disagree", "no Result:",
                                                                      "unsupported", "bad")}
    print(f"\n{len(rows)} tests: {count['agree']} agree, {count['disagree']} disagree, "
          f"{count['no Result:']} without Result:, {count['unsupported']} unsupported, "
          f"{count['bad']} not taken")
    for r in rows:
        if r[5] in ("unsupported", "bad"):
            print(f"- {r[0]}: {r[5]}: {r[6]}")
    return 1 if count["disagree"] or count["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
