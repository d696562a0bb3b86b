"""Folding lines to a width (racecheck/report/fold.py)."""

import shlex

from racecheck.report.fold import fold_code, fold_command, fold_prose


def test_prose_wraps_at_spaces_with_a_deeper_continuation():
    line = "  the proposal at the mail's level: set_page_dirty() comes after reclaim's only dirty test"
    assert fold_prose(line, 40, "  ") == ["  the proposal at the mail's level:",
                                          "    set_page_dirty() comes after",
                                          "    reclaim's only dirty test"]


def test_a_list_item_continues_under_its_text():
    assert fold_prose("    - kernel: the refcount is 3: isolation, swap cache, PTE", 30) == [
        "    - kernel: the refcount is", "      3: isolation, swap", "      cache, PTE"]


def test_code_continues_four_columns_in_and_keeps_every_character():
    line = '  do:    assert si.swap_file, "use after free: swap_readpage() uses sis->swap_file"'
    folded = fold_code(line, 50)
    assert all(len(part) <= 50 for part in folded)
    assert folded[1].startswith("      ") and not folded[1].startswith("       ")
    assert " ".join(part.strip() for part in folded) == line.strip()


def test_a_folded_command_reads_back_as_the_same_words():
    line = "replay: racecheck 'my dir/x.yaml' --variant put_first --schedule 'writeback*4,reclaim*6'"
    folded = fold_command(line, 40)
    assert all(part.endswith(" \\") for part in folded[:-1]) and len(folded) > 1
    joined = " ".join(part.removesuffix(" \\").strip() for part in folded)
    assert shlex.split(joined) == shlex.split(line)


def test_width_zero_and_short_lines_are_left_alone():
    long = "x " * 100
    assert fold_prose(long, 0) == [long] and fold_code(long, 0) == [long] and fold_command(long, 0) == [long]
    assert fold_prose("short", 75) == ["short"]


def test_a_word_longer_than_the_line_stays_whole():
    url = "lore.kernel.org/lkml/BYAPR02MB448855960A9656EEA81141FC94D99@BYAPR02MB4488.namprd02.prod.outlook.com"
    assert fold_prose("  - Link: " + url, 40) == ["  - Link:", "    " + url]
