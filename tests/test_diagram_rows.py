"""What a diagram draws: shared writes, the initial block, waiting steps,
the model's bookkeeping (hidden unless verbose), footnotes."""

import os

import pytest

from racecheck.cli import main
from racecheck.explore.check import check_variant
from racecheck.report.diagram import INITIAL_MARK, SCHEDULED_MARK, STUCK_MARK, render_rows
from racecheck.scenario.loader import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LOST_UPDATE = """
    racecheck: 1
    title: lost update
    state: {counter: 0}
    threads:
      inc:
        copies: 2
        locals: {x: 0}
        steps:
          - {step: x = counter, do: x = counter}
          - {step: counter = x + 1, do: counter = x + 1}
    final:
      both_counted: counter == 2
    expect: {violation: both_counted}
    """


def shipped(name: str, variant: str):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        scenario = load_scenario(f"scenarios/{name}.yaml")
        return check_variant(scenario, scenario.variant(variant))
    finally:
        os.chdir(cwd)


def test_a_shared_write_of_the_same_value_is_drawn_as_a_shared_write(run):
    checked = run(LOST_UPDATE)[""]
    lines = render_rows(checked.program, checked.trace)
    writes = [line.strip() for line in lines if line.strip().startswith("counter = x + 1")]
    assert writes == ["counter = x + 1  <- counter: 0 -> 1", "counter = x + 1  <- counter: 1 -> 1"]
    assert not any("counter = 1" in line for line in lines)       # never the local form


def test_a_local_write_is_drawn_as_name_equals_value(run):
    checked = run(LOST_UPDATE)[""]
    lines = render_rows(checked.program, checked.trace)
    assert sum("x = counter  <- x = 0" in line for line in lines) == 2


INITIAL = """
    racecheck: 1
    title: initial rows
    state: {x: 0}
    threads:
      a:
        locals: {n: 0}
        steps:
          - {step: "n = choose(1, 2)", do: "n = choose(1, 2)"}
          - {step: x = n, do: x = n}
      b:
        steps:
          - {step: "x = 0", do: x = 0}
    invariants:
      small: x != 2
    expect: {violation: small}
    """


def test_rows_run_while_building_the_initial_state_stand_in_their_own_block(run):
    checked = run(INITIAL)[""]
    lines = render_rows(checked.program, checked.trace)
    start, end = lines.index(INITIAL_MARK), lines.index(SCHEDULED_MARK)
    assert start < end
    assert [line.strip() for line in lines[start + 1:end]] == ["n = choose(1, 2)  <- n = 2"]
    assert lines[end + 1].strip() == "x = n  <- x: 0 -> 2"
    assert lines[:start][-1].startswith("---")                   # the block comes right after the header


def test_no_initial_block_when_nothing_runs_before_scheduling(run):
    checked = run(LOST_UPDATE)[""]
    assert INITIAL_MARK not in render_rows(checked.program, checked.trace)


def test_deadlock_draws_each_waiting_step_in_its_column():
    checked = shipped("migrate_batch_writeback_deadlock", "before")
    lines = render_rows(checked.program, checked.trace, width=0)
    header = lines[0]
    loop_column = header.index("loop")
    stuck = lines.index(STUCK_MARK)
    waiting = lines[stuck + 1:]
    compaction = next(line for line in waiting if "folio_wait_writeback(B)" in line)
    assert compaction.startswith("  folio_test_writeback(B)")      # in migrate_folio_unmap(B), column 0
    assert compaction.endswith("... waits for not B.writeback")
    loop = next(line for line in waiting if "folio_lock(A)" in line)
    assert loop.index("folio_lock(A)") > loop_column
    assert loop.endswith("folio_lock(A)  ... waits for not A.locked")


def test_lost_wake_up_draws_the_sleeper_waiting():
    checked = shipped("isolated_clear_lost_waiter", "before")
    lines = render_rows(checked.program, checked.trace, width=0)
    locker_column = lines[0].index("locker")
    waiting = lines[lines.index(STUCK_MARK) + 1:]
    assert len(waiting) == 1                                      # putback has finished
    assert waiting[0].index("io_schedule()") > locker_column
    assert waiting[0].endswith("... waits for waiter_woken")


def test_no_waiting_rows_when_the_trace_does_not_end_stuck(run):
    checked = run(LOST_UPDATE)[""]
    assert STUCK_MARK not in render_rows(checked.program, checked.trace)


def test_param_only_branches_are_hidden_unless_verbose():
    checked = shipped("dirty_unlocked", "unlocked")
    quiet = render_rows(checked.program, checked.trace)
    verbose = render_rows(checked.program, checked.trace, verbose=True)
    for branch in ("if (writeback == 'trylock')", "if (put == 'before')", "if (level == 'mail')"):
        assert not any(branch in line for line in quiet)
        assert any(branch in line for line in verbose)
    # a branch on a local that holds a value read from shared state stays
    for branch in ("if (dirty)  <- False", "if (allocated)  <- False", "if (count != 0)  <- False"):
        assert any(branch in line for line in quiet)


BOOKKEEPING = """
    racecheck: 1
    title: bookkeeping
    params: {mode: fast}
    state: {x: 0, y: 0}
    threads:
      a:
        locals: {i: 0, seen: 0}
        steps:
          - {step: seen = x, do: seen = x}
          - {step: i = 1, do: i = 1}
          - if: i == 1
            then:
              - {step: "local story step"}
          - if: seen == 0
            then:
              - {step: y = 1, do: y = 1}
          - if: mode == 'fast'
            then:
              - {step: x = 1, do: x = 1}
    invariants:
      never: not (x == 1 and y == 1)
    expect: {violation: never}
    """


def test_local_only_rows_that_use_no_shared_value_are_hidden(run):
    checked = run(BOOKKEEPING)[""]
    quiet = [line.strip() for line in render_rows(checked.program, checked.trace)]
    assert quiet[-5:] == ["seen = x  <- seen = 0", "local story step", "if (seen == 0)  <- True",
                          "y = 1  <- y: 0 -> 1", "x = 1  <- x: 0 -> 1"]
    verbose = [line.strip() for line in render_rows(checked.program, checked.trace, verbose=True)]
    assert "i = 1  <- i = 1" in verbose and "if (i == 1)  <- True" in verbose
    assert "if (mode == 'fast')  <- True" in verbose


def test_verbose_option_on_the_command_line(write_scenario, capsys):
    path = write_scenario(BOOKKEEPING)
    assert main([path]) == 0
    assert "if (mode == 'fast')" not in capsys.readouterr().out
    assert main([path, "--verbose"]) == 0
    assert "if (mode == 'fast')  <- True" in capsys.readouterr().out


def test_notes_too_wide_for_their_column_become_footnotes():
    checked = shipped("free_pages_speculative_leak", "before")
    lines = render_rows(checked.program, checked.trace, width=60)
    assert max(map(len, lines)) <= 60
    marked = [line for line in lines if line.rstrip().endswith("[1]")]
    assert len(marked) == 1 and marked[0].startswith(" ")        # a row of a later column
    note = next(line for line in lines if line.startswith("[1] "))
    assert "p0.state: free -> order1" in note


def test_strings_that_are_words_lose_their_quotes_in_notes():
    checked = shipped("dirty_unlocked", "unlocked")
    text = "\n".join(render_rows(checked.program, checked.trace))
    assert "pte: folio -> swap" in text and "'folio'" not in text


@pytest.mark.parametrize("value, shown", [("folio", "folio"), ("True", "'True'"), ("a b", "'a b'"),
                                          ("", "''"), ("1", "'1'"), (1, "1"), (None, "None")])
def test_plain_value(value, shown):
    from racecheck.report.diagram import plain_value
    assert plain_value(value) == shown


def test_command_line_width_and_verbose_last_for_one_command_only(write_scenario, capsys, tmp_path):
    from racecheck.report.diagram import DEFAULT_WIDTH, current_style
    path = write_scenario(BOOKKEEPING)
    assert main(["report", path, "--out", str(tmp_path), "--width", "0", "--verbose"]) == 0
    capsys.readouterr()
    report = (tmp_path / (os.path.basename(path)[:-len(".yaml")] + ".txt")).read_text()
    assert "if (mode == 'fast')  <- True" in report
    assert current_style().width == DEFAULT_WIDTH and not current_style().verbose
    assert main(["diff", path, path, "--verbose"]) == 0
    assert "No change" in capsys.readouterr().out


def test_the_example_in_docs_diagrams_is_what_the_seed_draws():
    import re
    text = open(os.path.join(ROOT, "docs", "diagrams.md")).read()
    example = re.search(r"```text\n(.*?)\n```", text, re.S).group(1)
    checked = shipped("dirty_unlocked", "unlocked")
    assert example.splitlines() == render_rows(checked.program, checked.trace), \
        "paste the seed's 'unlocked' diagram into docs/diagrams.md"
