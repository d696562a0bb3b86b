#!/usr/bin/env python3
"""Generate the expected answers of tests/test_litmus_audit.py with herd7.

usage: python3 tests/lkmm/audit_oracle.py HERD7_WRAPPER FILE.litmus...
(HERD7_WRAPPER: a script running herd7 -conf linux-kernel.cfg on files,
such as lkmm-herd). For every primitive ``racecheck audit`` finds, this
writes the weakened test to a temporary directory by editing the source
text (not racecheck's syntax tree: the two weakenings check each other),
runs herd7 on it, and prints one line per primitive:

    FILE  LINE  NAME  herd7-answer-of-the-weakened-test

to be pinned in tests/test_litmus_audit.py. Not run by the test suite.
"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from racecheck.scenario.litmus import parse_litmus_file  # noqa: E402
from racecheck.scenario.litmus_weaken import call_span, primitives  # noqa: E402


def weaken_text(lines, prim, calls_on_line):
    lines = list(lines)
    for call in prim.calls:
        nth = calls_on_line[id(call)]
        text = lines[call.line - 1]
        start, end = call_span(text, call.name, nth)
        inner = text[text.index("(", start) + 1:end - 1]
        if prim.weakened == "nothing":
            new = "0" if re.search(r"=\s*$", text[:start]) else ""
            if not new:                   # herd7 takes no empty statement: drop the ';'
                end += len(re.match(r"\s*;?", text[end:]).group())
        elif call.name in ("smp_load_acquire", "smp_store_release"):
            new = f"{prim.weakened}(*{inner})"
        else:
            new = f"{prim.weakened}({inner})"
        lines[call.line - 1] = text[:start] + new + text[end:]
    return lines


def main(argv):
    herd, files = argv[0], argv[1:]
    out = tempfile.mkdtemp(prefix="audit-oracle-")
    jobs = []
    for path in files:
        test = parse_litmus_file(path)
        seen, calls_on_line = {}, {}
        prims = primitives(test)
        for prim in prims:
            for call in prim.calls:
                key = (call.line, call.name)
                calls_on_line[id(call)] = seen.get(key, 0)
                seen[key] = seen.get(key, 0) + 1
        src = open(path).read().split("\n")
        for prim in prims:
            lines = weaken_text(src, prim, calls_on_line)
            name = f"{test.name}-w{prim.line}"
            lines[0] = f"C {name}"
            target = os.path.join(out, name + ".litmus")
            with open(target, "w") as handle:
                handle.write("\n".join(lines))
            jobs.append((os.path.basename(path), prim, name, target))
    text = subprocess.run([herd] + [j[3] for j in jobs], capture_output=True, text=True).stdout
    answers, current = {}, None
    for line in text.splitlines():
        m = re.match(r"Test (\S+) ", line)
        if m:
            current = m.group(1)
        m = re.match(r"Observation (\S+) (\w+)", line)
        if m:
            answers[m.group(1)] = m.group(2)
        if line.startswith("Flag data-race") and current:
            answers[current + "!race"] = True
    for base, prim, name, _ in jobs:
        answer = answers.get(name, "ERROR") + (" DATARACE" if answers.get(name + "!race") else "")
        print(f"{base}\t{prim.line}\t{prim.name}\t{answer}")
    print(f"# variants in {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
