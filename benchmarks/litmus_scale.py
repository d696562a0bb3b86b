"""Litmus tests with many processes: racecheck's LKMM against herd7.

Two generated families, each Never under LKMM, whose consistent executions
double with every process:

* ``SB<n>+mbs``: a ring of n store-buffering processes, each ``WRITE_ONCE``
  to its own variable, ``smp_mb()``, ``READ_ONCE`` of the next one's;
  exists: every read saw 0.
* ``ISA<n>+rel-acqs``: a release/acquire chain through n processes; the
  last one reads P0's first store; exists: the chain held and the read saw 0.

    python -m benchmarks.litmus_scale [--herd DIR] [--max-n N] [--out FILE.md]

``--herd DIR``: a herd7 installation (``DIR/bin/herd7``) with the kernel's
model in ``DIR/memory-model`` (linux-kernel.cfg and its .cat/.bell files);
without it only racecheck runs. Each time is one run's wall clock:
racecheck's ``check_litmus`` in this process (parsing included), herd7 as a
process (its start included, about 0.03 s). The answers and the numbers of
executions must agree; a disagreement is printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

from tabulate import tabulate

from racecheck.explore.litmus import check_litmus
from racecheck.scenario.litmus import parse_litmus


def sb_ring(n: int) -> str:
    init = "".join(f"\tx{i}=0;\n" for i in range(n))
    procs = "\n".join(f"P{i}(int *x{i}, int *x{(i + 1) % n})\n{{\n\tint r0;\n\n\tWRITE_ONCE(*x{i}, 1);\n"
                      f"\tsmp_mb();\n\tr0 = READ_ONCE(*x{(i + 1) % n});\n}}\n" for i in range(n))
    cond = " /\\ ".join(f"{i}:r0=0" for i in range(n))
    return f"C SB{n}+mbs\n\n{{\n{init}}}\n\n{procs}\nexists ({cond})\n"


def isa_chain(n: int) -> str:
    init = "".join(f"\tx{i}=0;\n" for i in range(n))
    procs = [f"P0(int *x0, int *x1)\n{{\n\tWRITE_ONCE(*x0, 1);\n\tsmp_store_release(x1, 1);\n}}\n"]
    for i in range(1, n - 1):
        procs.append(f"P{i}(int *x{i}, int *x{i + 1})\n{{\n\tint r0;\n\n\tr0 = smp_load_acquire(x{i});\n"
                     f"\tsmp_store_release(x{i + 1}, 1);\n}}\n")
    procs.append(f"P{n - 1}(int *x{n - 1}, int *x0)\n{{\n\tint r0;\n\tint r1;\n\n"
                 f"\tr0 = smp_load_acquire(x{n - 1});\n\tr1 = READ_ONCE(*x0);\n}}\n")
    cond = " /\\ ".join(f"{i}:r0=1" for i in range(1, n)) + f" /\\ {n - 1}:r1=0"
    return f"C ISA{n}+rel-acqs\n\n{{\n{init}}}\n\n" + "\n".join(procs) + f"\nexists ({cond})\n"


FAMILIES = {"SB ring + smp_mb": sb_ring, "ISA2 chain + release/acquire": isa_chain}


def run_racecheck(text: str) -> tuple:
    start = time.perf_counter()
    result = check_litmus(parse_litmus(text))
    return result.answer, result.positive + result.negative, time.perf_counter() - start


def run_herd(herd: str, text: str) -> tuple:
    with tempfile.NamedTemporaryFile("w", suffix=".litmus", delete=False) as handle:
        handle.write(text)
    try:
        start = time.perf_counter()
        out = subprocess.run([os.path.join(herd, "bin", "herd7"), "-conf", "linux-kernel.cfg", handle.name],
                             cwd=os.path.join(herd, "memory-model"), capture_output=True, text=True,
                             check=True).stdout
        seconds = time.perf_counter() - start
    finally:
        os.unlink(handle.name)
    found = re.search(r"Observation \S+ (\w+) (\d+) (\d+)", out)
    return found.group(1), int(found.group(2)) + int(found.group(3)), seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--herd", help="herd7 installation: DIR/bin/herd7 and DIR/memory-model")
    parser.add_argument("--max-n", type=int, default=10)
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    rows, disagree = [], 0
    for family, make in FAMILIES.items():
        for n in range(4, args.max_n + 1, 2):
            text = make(n)
            answer, executions, seconds = run_racecheck(text)
            row = [family, n, answer, f"{executions:,}", f"{seconds:.2f}"]
            if args.herd:
                h_answer, h_executions, h_seconds = run_herd(args.herd, text)
                same = (h_answer, h_executions) == (answer, executions)
                disagree += not same
                row += [h_answer, f"{h_executions:,}", f"{h_seconds:.2f}", "yes" if same else "NO"]
            rows.append(row)
            print(*row, sep="\t", flush=True)
    headers = ["family", "processes", "racecheck", "executions", "s"]
    if args.herd:
        headers += ["herd7", "executions", "s", "agree"]
    table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
    print(table)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                         f"{platform.python_implementation()} {platform.python_version()}, "
                         f"{os.cpu_count()} cores.\n\n{table}\n")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
