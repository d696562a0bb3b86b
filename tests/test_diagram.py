"""Race diagrams: a golden file for the seed, and the layout rules."""

import os

from racecheck.cli import main
from tests.folding import unfold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden", "dirty_unlocked.txt")


def run_seed(capsys) -> str:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        status = main(["scenarios/dirty_unlocked.yaml"])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert status == 0
    return out


def normalise(text: str) -> str:
    """Timings vary from run to run; everything else must not."""
    import re
    text = re.sub(r"\d+\.\d\d s\b", "#.## s", text)
    return re.sub(r"(?m)^(\S.*\S)\s+\d+\.\d\d(\s+ok)$", r"\1  #.##\2", text)


def test_seed_output_matches_golden_file(capsys, update_golden):
    out = normalise(run_seed(capsys))
    if update_golden or not os.path.exists(GOLDEN):
        with open(GOLDEN, "w") as handle:
            handle.write(out)
    with open(GOLDEN) as handle:
        assert out == handle.read(), "run pytest --update-golden after checking the new output by eye"


def test_diagram_is_mail_safe(capsys):
    out = run_seed(capsys)
    assert "\t" not in out
    assert out.isascii()


def test_unlocked_race_reads_like_the_review(capsys):
    out = run_seed(capsys)
    unlocked = out[out.index("variant unlocked"):out.index("variant trylock")]
    lines = unlocked.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("reclaim "))
    assert "writeback" in lines[header]
    assert lines[header + 1].split() == ["shrink_folio_list()", "zswap_writeback_entry()"]
    test_dirty = next(i for i, line in enumerate(lines) if "folio_test_dirty(folio)" in line)
    set_dirty = next(i for i, line in enumerate(lines) if "set_page_dirty(page)" in line)
    assert test_dirty < set_dirty
    # reclaim's rows start in column 0, writeback's in its own column
    assert lines[test_dirty].startswith("folio_test_dirty(folio)  <- dirty = False")
    assert lines[set_dirty].strip() == "set_page_dirty(page)"
    # the note did not fit after the row in 75 columns: it wraps under it
    assert lines[set_dirty + 1].strip() == "<- folio.dirty: False -> True"
    assert lines[set_dirty + 1].index("<-") == lines[set_dirty].index("set_page_dirty") + 2
    assert lines[set_dirty].index("set_page_dirty") == lines[header].index("writeback")
    assert max(len(line) for line in lines[header:lines.index("", header)]) <= 75
    assert not any("if (level == 'mail')" in line for line in lines)   # params only: bookkeeping
    assert "invariant page_not_lost is violated:" in unlocked
    assert "replay: racecheck scenarios/dirty_unlocked.yaml --variant unlocked --schedule " in unfold(unlocked)


def test_call_group_steps_are_indented_under_the_call(run):
    checked = run("""
        racecheck: 1
        title: call groups
        state: {x: 0}
        threads:
          a:
            steps:
              - call: pageout(folio)
                steps:
                  - {step: inner, do: x = 1}
        invariants:
          never_one: x != 1
        """)[""]
    from racecheck.report.diagram import render_rows
    lines = render_rows(checked.program, checked.trace)
    assert lines[-2:] == ["pageout(folio)", "  inner  <- x: 0 -> 1"]


def test_wrapped_step_text_stays_in_its_column(run):
    checked = run("""
        racecheck: 1
        title: long steps
        state: {x: 0}
        threads:
          a:
            steps:
              - {step: "spin_lock(&mapping->private_lock); busy = atomic_read(&bh->b_count) != 0", do: x = x + 1}
          b:
            steps:
              - {step: "a very long step of the second thread that must wrap within its column", do: x = x + 1}
        invariants:
          never_two: x != 2
        """)[""]
    from racecheck.report.diagram import render_rows
    lines = render_rows(checked.program, checked.trace, width=50)
    second = lines[0].index("b")
    assert all(len(line) <= 50 for line in lines)
    body = lines[lines.index(next(l for l in lines if l.startswith("---"))) + 1:]
    for line in body:
        text = line.lstrip()
        start = len(line) - len(text)
        if text.startswith("<-"):
            continue
        assert start < second - 4 or start >= second, line       # a line starts in one column
        if start < second:                                        # thread a: never into b's column
            assert len(line.split("  <-")[0]) <= second - 2, line
    assert "    busy = atomic_read(" in body                   # a continuation: 4 spaces in
