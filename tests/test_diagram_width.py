"""Every diagram of every shipped scenario fits the width, in every text
format: terminal output, the .txt and .md reports, and ``racecheck diff``;
at the default width, so does every other line of the terminal and diff
output (the mail report's lines: tests/test_reports.py).

The diagram a format must contain is rendered once more at the same width
(``render_rows`` and ``violation_lines``); the test checks that each of its
lines fits and that the format prints exactly those lines, one after another.
"""

import os

import pytest

from racecheck.cli import main
from racecheck.explore.check import check_variant
from racecheck.report.diagram import DEFAULT_WIDTH, render_rows
from racecheck.report.text import violation_lines
from racecheck.scenario.loader import load_scenario
from tests.shipped import shipped_scenarios

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = [os.path.relpath(p, ROOT) for p in shipped_scenarios("sc")]
SMALL = 44


@pytest.fixture(scope="module")
def checked():
    """{scenario path: [CheckedVariant, ...]}, checked once for the module."""
    cache = {}

    def get(path):
        if path not in cache:
            cwd = os.getcwd()
            os.chdir(ROOT)                 # the paths in messages are as the command line gives them
            try:
                scenario = load_scenario(path)
                cache[path] = [check_variant(scenario, v) for v in scenario.variants]
            finally:
                os.chdir(cwd)
        return cache[path]
    return get


def diagrams(checked_list, width):
    """The diagram (and the lines under it) of each variant with a counterexample."""
    result = []
    for c in checked_list:
        if c.trace is not None:
            result.append((c.variant.name, render_rows(c.program, c.trace, c.cycle_trace, width=width),
                           violation_lines(c, width=width)))
    return result


def assert_fits_and_printed(blocks, text, width, where):
    assert blocks, f"{where}: no diagram to check"
    for name, rows, under in blocks:
        for line in rows + under:
            assert len(line) <= width, f"{where}, variant {name}: {len(line)} columns: {line!r}"
        assert "\n".join(rows) + "\n" in text, f"{where}, variant {name}: the diagram is not printed as drawn"
        assert "\n".join(under) in text, f"{where}, variant {name}: the lines under the diagram differ"


def assert_every_line_fits(text, width, where):
    """Not only the diagram: prose, tables and commands fold too; only one
    word longer than a line (a long path, a quoted schedule) may pass."""
    for line in text.splitlines():
        if len(line) > width:
            assert len(line.strip().removesuffix(" \\").split()) == 1, f"{where}: {len(line)} columns: {line!r}"


def run_cli(capsys, argv):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        status = main(argv)
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert status == 0, out
    return out


def test_every_shipped_scenario_has_a_diagram_to_check(checked):
    with_diagram = [p for p in SCENARIOS if any(c.trace is not None for c in checked(p))]
    assert len(SCENARIOS) >= 13 and with_diagram == SCENARIOS


@pytest.mark.parametrize("width", [None, SMALL])
@pytest.mark.parametrize("path", SCENARIOS)
def test_terminal_diagrams_fit(path, width, checked, capsys):
    limit = width or DEFAULT_WIDTH
    out = run_cli(capsys, [path] + (["--width", str(width)] if width else []))
    assert_fits_and_printed(diagrams(checked(path), limit), out, limit, f"racecheck {path}")
    if width is None:
        assert_every_line_fits(out, limit, f"racecheck {path}")


@pytest.mark.parametrize("width", [None, SMALL])
@pytest.mark.parametrize("path", SCENARIOS)
def test_report_diagrams_fit(path, width, checked, capsys, tmp_path):
    limit = width or DEFAULT_WIDTH
    run_cli(capsys, ["report", path, "--out", str(tmp_path)] + (["--width", str(width)] if width else []))
    stem = os.path.basename(path)[:-len(".yaml")]
    blocks = diagrams(checked(path), limit)
    for suffix in (".txt", ".md"):
        text = (tmp_path / (stem + suffix)).read_text()
        assert_fits_and_printed([(name, rows, []) for name, rows, _ in blocks], text, limit,
                                f"report {stem}{suffix}")


@pytest.mark.parametrize("width", [None, SMALL])
@pytest.mark.parametrize("path", SCENARIOS)
def test_diff_diagrams_fit(path, width, checked, capsys):
    limit = width or DEFAULT_WIDTH
    variants = checked(path)
    first = next(c for c in variants if c.trace is not None)
    last = next(c for c in reversed(variants) if c.trace is None)    # a safe fix
    out = run_cli(capsys, ["diff", path, "--variants", first.variant.name, last.variant.name]
                  + (["--width", str(width)] if width else []))
    assert_fits_and_printed(diagrams([first], limit), out, limit, f"racecheck diff {path}")
    if width is None:
        assert_every_line_fits(out, limit, f"racecheck diff {path}")


def test_width_zero_means_no_limit(checked):
    c = checked("scenarios/zswap_lru_writeback_swapoff.yaml")[0]
    wide = render_rows(c.program, c.trace, width=0)
    assert max(map(len, wide)) > 200               # the steps of this scenario are long
    assert not any(line.startswith("[1]") for line in wide)
    assert max(map(len, render_rows(c.program, c.trace))) <= DEFAULT_WIDTH


@pytest.mark.parametrize("bad", ["-1", "wide"])
def test_a_bad_width_is_a_usage_error(bad, capsys):
    assert main(["scenarios/dirty_unlocked.yaml", "--width", bad]) == 2
    assert "--width" in capsys.readouterr().err


def test_diff_prose_follows_the_width(capsys):
    out = run_cli(capsys, ["diff", "scenarios/dirty_unlocked.yaml", "--variants", "unlocked", "trylock",
                           "--width", "40"])
    assert_every_line_fits(out, 40, "racecheck diff --width 40")
    wide = run_cli(capsys, ["diff", "scenarios/dirty_unlocked.yaml", "--variants", "unlocked", "trylock",
                            "--width", "0"])
    assert "Before this patch, this ordering violates invariant page_not_lost (9 steps, 2 context switches):" \
        in wide.splitlines()
