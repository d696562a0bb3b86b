"""The README shows what racecheck really prints, and its pytest examples
select what they say.

Marked output. A code block that shows racecheck's output is marked by an
HTML comment on the line right before its opening fence, naming the
command (run from the root of the checkout) and, optionally, which lines of
its output the block shows::

    <!-- output: racecheck ARGS... -->                          the whole output
    <!-- output: racecheck ARGS... | from "PREFIX" -->          from the first line starting with PREFIX
    <!-- output: racecheck ARGS... | from "PREFIX" to "END" --> ... to the first line after it starting with END

The block must equal those lines exactly, but for timings: a number with two
decimals (``0.00 s``, the table's seconds column) and the spaces after it
match any other timing. Trailing spaces are ignored. The same marks work in
docs/*.md.

After a change to what racecheck prints, refresh every marked block at once
(from the root of the checkout; a block whose only difference is timing is
left alone)::

    .venv/bin/python -m tests.test_readme --update
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import glob
import io
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKED = re.compile(r"^<!-- output: (?P<command>[^|]*?)\s*(?:\|\s*(?P<lines>.*?))?\s*-->\n"
                    r"(?P<fence>```[^\n]*\n)(?P<body>.*?)^```$", re.S | re.M)
LINES = re.compile(r'(?:from "(?P<start>[^"]*)")?\s*(?:to "(?P<end>[^"]*)")?')
TIMING = re.compile(r"\b\d+\.\d\d\b( *)")


@dataclasses.dataclass(frozen=True)
class Block:
    path: str                 # relative to the checkout
    line: int                 # 1-based line of the marking comment
    command: str
    start: str | None         # the excerpt's first line starts with this
    end: str | None           # its last line starts with this
    body: str                 # the block's text, without the fences
    span: tuple               # (start, end) of the body in the file's text


def marked_blocks(path: str) -> list:
    text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    blocks = []
    for match in MARKED.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        lines = LINES.fullmatch(match.group("lines") or "")
        if lines is None:
            raise ValueError(f"{path}:{line}: cannot read the line range {match.group('lines')!r}: "
                             'write | from "PREFIX" to "PREFIX"')
        blocks.append(Block(path, line, match.group("command"), lines.group("start"), lines.group("end"),
                            match.group("body"), match.span("body")))
    return blocks


def documents() -> list:
    docs = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return ["README.md"] + docs


def run_racecheck(command: str) -> str:
    """What ``command`` (``racecheck ARGS...``) prints on stdout, run from the checkout's root."""
    from racecheck.cli import main
    argv = shlex.split(command)
    if argv[:1] != ["racecheck"]:
        raise ValueError(f"a marked block must show a racecheck command, not {command!r}")
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv[1:])
    except SystemExit as exc:            # argparse refusing the arguments
        status = exc.code
    finally:
        os.chdir(cwd)
    if status not in (0, 1, 3):
        raise ValueError(f"{command!r} exited with status {status}: {err.getvalue().strip()}")
    return out.getvalue()


def excerpt(output: str, start: str | None, end: str | None) -> list:
    """The lines of ``output`` a block shows (see the module doc); [] when a prefix is missing."""
    lines = [line.rstrip() for line in output.rstrip("\n").split("\n")]
    first = 0 if start is None else next((i for i, line in enumerate(lines) if line.startswith(start)), None)
    if first is None:
        return []
    if end is None:
        return lines[first:]
    last = next((i for i in range(first, len(lines)) if lines[i].startswith(end)), None)
    return [] if last is None else lines[first:last + 1]


def normalise(lines: list) -> list:
    return [TIMING.sub(lambda m: "<time>" + (" " if m.group(1) else ""), line.rstrip()) for line in lines]


def expected_lines(block: Block) -> list:
    return excerpt(run_racecheck(block.command), block.start, block.end)


def is_current(block: Block, actual: list) -> bool:
    return bool(actual) and normalise(block.body.rstrip("\n").split("\n")) == normalise(actual)


def keep_timings(old: list, new: list) -> list:
    """``new``, but where a line differs from ``old``'s only in timing, ``old``'s line:
    a refresh then changes only the lines whose content changed."""
    matcher = difflib.SequenceMatcher(None, normalise(old), normalise(new), autojunk=False)
    lines = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        lines += old[i1:i2] if tag == "equal" else new[j1:j2]
    return lines


def update(path: str) -> int:
    """Rewrite the marked blocks of ``path`` that differ from the real output; how many."""
    full = os.path.join(ROOT, path)
    text = open(full, encoding="utf-8").read()
    changed = 0
    for block in reversed(marked_blocks(path)):      # from the end: earlier spans stay valid
        actual = expected_lines(block)
        if not actual:
            raise ValueError(f"{path}:{block.line}: the output of {block.command!r} has no line "
                             f"starting with {block.start!r}" + (f" then {block.end!r}" if block.end else ""))
        if not is_current(block, actual):
            lines = keep_timings(block.body.rstrip("\n").split("\n"), actual)
            text = text[:block.span[0]] + "\n".join(lines) + "\n" + text[block.span[1]:]
            changed += 1
    if changed:
        with open(full, "w", encoding="utf-8") as handle:
            handle.write(text)
    return changed


# -- the tests ------------------------------------------------------------------------

ALL_BLOCKS = [block for path in documents() for block in marked_blocks(path)]


def test_the_readme_marks_its_example_outputs():
    marked = [block.command for block in ALL_BLOCKS if block.path == "README.md"]
    assert "racecheck scenarios/dirty_unlocked.yaml --variant unlocked" in marked
    assert "racecheck scenarios/dirty_unlocked.yaml" in marked


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: f"{b.path}:{b.line}")
def test_marked_block_is_the_real_output(block):
    actual = expected_lines(block)
    assert actual, f"{block.path}:{block.line}: no such lines in the output of {block.command!r}"
    assert normalise(block.body.rstrip("\n").split("\n")) == normalise(actual), \
        f"{block.path}:{block.line} is stale: run .venv/bin/python -m tests.test_readme --update"


def test_a_changed_count_is_caught_and_update_restores_it(tmp_path, monkeypatch):
    block = next(b for b in ALL_BLOCKS if b.path == "README.md" and b.command.endswith("--variant unlocked"))
    count = int(re.search(r"\b(\d+) states explored", block.body).group(1))
    wrong = block.body.replace(f"{count} states explored", f"{count + 1} states explored")
    assert not is_current(dataclasses.replace(block, body=wrong), expected_lines(block))
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    (tmp_path / "README.md").write_text(readme[:block.span[0]] + wrong + readme[block.span[1]:])
    (tmp_path / "scenarios").symlink_to(os.path.join(ROOT, "scenarios"))
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    assert update("README.md") == 1
    assert normalise((tmp_path / "README.md").read_text().split("\n")) == normalise(readme.split("\n"))
    assert update("README.md") == 0


def test_a_refresh_keeps_the_timings_of_unchanged_lines():
    old = ["a: 43 states, 0.00 s", "b", "c  0.00       ok"]
    new = ["a: 43 states, 0.01 s", "b2", "extra", "c  0.02       ok"]
    assert keep_timings(old, new) == ["a: 43 states, 0.00 s", "b2", "extra", "c  0.00       ok"]


def test_timings_match_any_timing_and_nothing_else():
    assert normalise(["43 states explored (reduced), 0.00 s", "v1  46  0.00       ok"]) == \
        normalise(["43 states explored (reduced), 12.34 s", "v1  46  1.25       ok"])
    assert normalise(["2 of 58 states (3.4%)"]) != normalise(["2 of 58 states (3.5%)"])
    assert normalise(["unlocked  43  0.00  ok"]) != normalise(["unlocked  44  0.00  ok"])


# -- the README's `pytest -k` examples --------------------------------------------------

def readme_pytest_selections() -> list:
    """``(args, comment)`` of each ``python -m pytest scenarios/...`` line of the README."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    found = re.findall(r"^\.venv/bin/python -m pytest (scenarios/.*?)(?:\s+#\s*(.*))?$", text, re.M)
    return [(shlex.split(args), comment) for args, comment in found]


def collected(args: list) -> list:
    """The test ids pytest collects for ``args`` (run from the checkout's root)."""
    args = [a for a in args if a not in ("-n", "auto")]
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "-p", "no:xdist", *args], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return [line for line in out.stdout.splitlines() if "::" in line]


def test_readme_k_examples_select_exactly_the_variant_they_name():
    examples = [args for args, _ in readme_pytest_selections() if "-k" in args]
    assert examples, "the README shows no -k example"
    for args in examples:
        name = args[args.index("-k") + 1]
        ids = collected(args)
        assert ids and all(i.endswith(f"::{name}") for i in ids), (args, ids)


def test_readme_node_id_example_selects_one_variant():
    examples = [args for args, _ in readme_pytest_selections() if "::" in args[0]]
    assert examples
    for args in examples:
        assert collected(args) == [args[0]]


def test_what_the_readme_says_k_unlocked_would_select():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert "`-k unlocked` would select every variant of `dirty_unlocked.yaml`" in " ".join(text.split())
    from racecheck.scenario.loader import load_scenario
    variants = [v.name for v in load_scenario(os.path.join(ROOT, "scenarios", "dirty_unlocked.yaml")).variants]
    assert collected(["scenarios/", "-k", "unlocked"]) == [f"scenarios/dirty_unlocked.yaml::{v}" for v in variants]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["--update"]:
        print(__doc__)
        return 2
    for path in documents():
        if marked_blocks(path):
            print(f"{path}: {update(path)} marked block(s) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
