"""Reduction follows meaning, not spelling (issue 11 item 1).

One model, N folio records each with its own reclaim and writeback thread
(benchmarks/shapes.py), written in several spellings that mean the same.
Partial-order reduction must give each the precise spelling's state count:
these are pinned, as are the counts of the search without reduction (the
same graph for every spelling). Before the access analysis read these
spellings for their meaning, N = 2 gave 2,404 states for ``for_p`` and
``range_len``, 1,083 for ``not_any``, 248 for ``counter``, 632 for
``state_index`` and ``state_index_written``, and 178,804 for ``div2``
(against 85 and 667); ``sum``, which stays above the precise count by its
meaning, gave 2,404 and gives 505 now that a comprehension reads only the
field it uses.

Each rule also has a case where it must not apply (the list's length
changes, the counter is read, the index is written), and a buggy variant of
the model whose violation every spelling must still find.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))

from benchmarks.shapes import records  # noqa: E402
from racecheck.cli import main  # noqa: E402
from racecheck.explore.reduction import visible_conjuncts  # noqa: E402
from racecheck.explore.result import Verdict  # noqa: E402
from racecheck.explore.search import explore  # noqa: E402
from racecheck.model.access import AccessTables  # noqa: E402


def _program(program, n, shape, bug=False):
    text = records(n, shape)
    if bug:                                   # writeback dirties the folio even while it is mapped
        text = text.replace("if: count != 0", "if: count == 99")
    return program(text)


# shape -> (N, states and transitions with reduction, states without reduction or None: not run)
PINNED = {
    "precise": (2, 83, 96, 2916),
    "for_p": (2, 83, 96, 2916),
    "range_len": (2, 83, 96, None),
    "not_any": (2, 83, 96, None),
    "counter": (2, 83, 96, 2916),
    "state_index_precise": (2, 83, 96, None),
    "state_index": (2, 83, 96, 2916),
    "state_index_written": (2, 83, 96, None),
    "div2_precise": (2, 622, 819, None),
    "div2": (2, 622, 819, None),
    "sum": (2, 219, 246, 2916),
}


@pytest.mark.parametrize("shape", sorted(PINNED))
def test_each_spelling_has_the_precise_state_count(program, shape):
    n, states, transitions, full = PINNED[shape]
    prog = _program(program, n, shape)
    reduced = explore(prog)
    assert reduced.verdict is Verdict.SAFE
    assert (reduced.stats.states, reduced.stats.transitions) == (states, transitions)
    if full is not None:
        assert explore(prog, reduction=False).stats.states == full


@pytest.mark.parametrize("shape", ["precise", "for_p", "range_len", "not_any", "counter", "div2", "state_index",
                                   "state_index_written"])
def test_each_spelling_still_finds_the_bug(program, shape):
    prog = _program(program, 2, shape, bug=True)
    result = explore(prog)
    assert result.verdict is Verdict.VIOLATION
    assert result.violation.name == "page_not_lost"


def _tables(program, text):
    return AccessTables(program(text))


LIST = """
    racecheck: 1
    title: a list of records
    state:
      pages: [{v: 0, slot: 1}, {v: 0, slot: 0}]
      ix: 0
      cnt: 0
    threads:
      w:
        copies: 2
        steps:
          - {step: one, do: "STEP"}
    invariants:
      inv: "INV"
    """


def _list(program, step="pages[tid].v = 1", inv="True"):
    return _tables(program, LIST.replace("STEP", step.replace("\n", "\\n")).replace("INV", inv))


def _describe(tables, mask):
    return tables.atoms.describe(mask)


@pytest.mark.parametrize("inv, parts", [
    ("all(p.v == 0 for p in pages)", ["pages[0].v", "pages[1].v"]),
    ("all(pages[i].v == 0 for i in range(len(pages)))", ["pages[0].v", "pages[1].v"]),
    ("not any(p.v > 0 for p in pages)", ["pages[0].v", "pages[1].v"]),
    ("not (pages[0].v > 0 or pages[1].v > 0)", ["pages[0].v", "pages[1].v"]),
    ("all(p.v == 0 or ix > 0 for p in pages)", ["pages[0].v, ix", "pages[1].v, ix"]),
])
def test_invariants_split_per_element(program, inv, parts):
    tables = _list(program, inv=inv)
    shape = "the length of pages, the shape of pages[{}], "
    assert [_describe(tables, m) for m in tables.conjuncts] == [
        shape.format(k) + part for k, part in enumerate(parts)]


def test_a_list_whose_length_changes_is_not_split(program):
    tables = _list(program, step="pages = [pages[0]]", inv="all(p.v == 0 for p in pages)")
    assert len(tables.conjuncts) == 1
    tables = _list(program, step="pages = [pages[0]]", inv="all(pages[i].v == 0 for i in range(len(pages)))")
    assert len(tables.conjuncts) == 1


ANY_PAGE = "the shape of pages[0], pages[0].v, pages[0].slot, the shape of pages[1], pages[1].v, pages[1].slot"


@pytest.mark.parametrize("step, written", [
    ("pages[tid // 2].v = 1", ["pages[0].v", "pages[0].v"]),
    ("pages[(tid + 1) % 2].v = 1", ["pages[1].v", "pages[0].v"]),
    ("pages[len(pages) - 1 - tid].v = 1", ["pages[1].v", "pages[0].v"]),
    ("pages[pages[tid].slot].v = 1", ["pages[1].v", "pages[0].v"]),     # slot: no step writes it
    ("pages[ix].v = 1", ["pages[0].v", "pages[0].v"]),                  # ix: no step writes it
    ("pages[ix].v = 1\nix = 1 - ix", [ANY_PAGE + ", ix"] * 2),
    ("pages[tid // (ix - ix)].v = 1", [ANY_PAGE] * 2),                   # fails: any element
    ("pages[tid].v = len(pages)\npages = pages + [pages[0]]\npages[len(pages) - 1].v = 1",
     ["the length of pages, " + ANY_PAGE] * 2),
])
def test_indices_fold(program, step, written):
    tables = _list(program, step=step)
    assert [_describe(tables, tables.writes[t][0]) for t in range(2)] == written


def test_an_index_steps_write_with_constants_stands_for_each_constant(program):
    # pages[0].slot: 1 initially, then 0; pages[1].slot: 0 always
    tables = _list(program, step="pages[pages[tid].slot].v = 1\npages[tid].slot = 0")
    assert [_describe(tables, tables.writes[t][0]) for t in range(2)] == [
        "pages[0].v, pages[0].slot, pages[1].v", "pages[0].v, pages[1].slot"]


@pytest.mark.parametrize("write", ["pages[tid].slot += 1", "pages[tid].slot = ix", "pages[tid] = pages[1 - tid]"])
def test_an_index_steps_write_otherwise_is_not_folded(program, write):
    tables = _list(program, step=f"pages[pages[tid].slot].v = 1\n{write}\nix = 1 - ix")
    assert _describe(tables, tables.writes[0][0]).startswith(ANY_PAGE)


@pytest.mark.parametrize("step, inv, unobserved", [
    ("cnt += 1", "True", "cnt"),
    ("cnt -= tid\ncnt = 0", "True", "cnt"),
    ("pages[tid].v += 2", "True", "pages[0].v, pages[1].v"),
    ("cnt += 1", "cnt < 5", "nothing"),                 # an invariant reads it
    ("cnt += 1\nix = cnt", "True", "nothing"),          # a step reads it
    ("cnt += ix", "True", "cnt"),                       # ix: no step writes it, a constant
    ("cnt = ix\nix = 1", "True", "nothing"),            # assigned what a step writes
    ("cnt += 1\ncnt = True", "True", "nothing"),        # may stop being an int
    ("cnt = cnt * 2", "True", "nothing"),
])
def test_counters_nothing_reads(program, step, inv, unobserved):
    tables = _list(program, step=step, inv=inv)
    assert _describe(tables, tables.unobserved) == unobserved


def test_a_sum_over_the_list_is_named(program):
    prog = _program(program, 2, "sum")
    found = visible_conjuncts(prog)
    assert [(c.invariant, c.text, c.threads) for c in found] == [
        ("swap_counted", "sum(p.swap_count for p in pages) <= 2",
         ("reclaim#0", "reclaim#1"))]
    assert visible_conjuncts(_program(program, 2, "for_p")) == []


def test_the_warning_is_printed_with_its_line(write_scenario, capsys):
    path = write_scenario(records(2, "sum"))
    assert main(["-q", path]) == 0
    err = capsys.readouterr().err
    line = next(i for i, text in enumerate(records(2, "sum").splitlines(), 1) if "swap_counted" in text)
    assert f"racecheck: warning: {path}:{line}:17: invariant 'swap_counted': `sum(p.swap_count" in err
    assert main(["-q", "--no-reduction", path]) == 0
    assert "warning" not in capsys.readouterr().err


def test_the_access_check_catches_a_counter_that_is_observed(program, monkeypatch):
    """If the analysis called an observed variable a counter nothing reads,
    the check (on in the test suite) fails the search instead of letting
    the reduction use the claim."""
    from racecheck.model.accesscheck import AccessCheckError
    monkeypatch.setattr(AccessTables, "_unobserved", lambda tables: tables.atoms.int_leaves)
    prog = program("""
        racecheck: 1
        title: a counter that an assert reads
        state: {cnt: 0}
        threads:
          w:
            copies: 2
            steps:
              - {step: count, do: cnt += 1}
              - {step: check, do: "assert cnt < 3"}
        """)
    with pytest.raises(AccessCheckError, match="depends on a counter nothing should observe"):
        explore(prog)


def test_the_access_check_catches_a_split_that_changes_an_invariant(program, monkeypatch):
    from racecheck.model import access
    from racecheck.model.accesscheck import AccessCheckError
    real = access.conjunct_nodes

    def wrong(code, shared, params, atoms=None):      # drops the last conjunct
        return real(code, shared, params, atoms)[:-1]
    monkeypatch.setattr(access, "conjunct_nodes", wrong)
    prog = program("""
        racecheck: 1
        title: the last element changes
        state: {arr: [0, 0]}
        threads:
          w: {steps: [{step: set, do: "arr[1] = 1"}]}
        invariants:
          zero: all(v == 0 for v in arr)
        """)
    with pytest.raises(AccessCheckError, match="conjuncts, in order, decide"):
        explore(prog)


@pytest.mark.parametrize("step, read", [
    ("ix = sum(p.v for p in pages)",
     "the length of pages, the shape of pages[0], pages[0].v, the shape of pages[1], pages[1].v"),
    ("ix = len([1 for p in pages])", "the length of pages"),
    ("ix = len(pages)", "the length of pages, " + ANY_PAGE),                  # len(L) reads L whole
    ("ix = sum(1 for p in pages)", "the length of pages"),
    ("ix = sum(p.v for p in pages)\npages = [pages[0]]", "the length of pages, " + ANY_PAGE),
])
def test_a_comprehension_over_a_fixed_list_reads_what_it_uses(program, step, read):
    tables = _list(program, step=step)
    assert _describe(tables, tables.reads[0][0]) == read


def test_a_coupling_conjunct_split_from_not_any_is_named_with_its_not(program):
    prog = program("""
        racecheck: 1
        title: two independent counters, one invariant over both
        state: {a: [0, 0]}
        threads:
          w:
            copies: 2
            steps:
              - {step: one, do: "a[tid] += 1"}
              - {step: two, do: "a[tid] += 1"}
        invariants:
          small: not any(a[0] + a[1] > k for k in range(3, 5))
        """)
    assert [(c.text, c.threads) for c in visible_conjuncts(prog)] == [("not (a[0] + a[1] > k)", ("w#0", "w#1"))]
