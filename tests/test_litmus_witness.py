"""``racecheck litmus --witness``: the execution chosen, the diagram in
CPU columns, and when there is no witness."""

from __future__ import annotations

import json
import os

import pytest

from racecheck.cli import main
from racecheck.explore.witness import find_witness, stale_reads
from racecheck.report.witness import render_witness
from racecheck.scenario.litmus import parse_litmus, parse_litmus_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lkmm")


def witness_of(name: str):
    return find_witness(parse_litmus_file(os.path.join(HERE, name + ".litmus")))


def drawing(name: str) -> str:
    return render_witness(witness_of(name))


def test_mp_witness_reads_the_flag_new_and_the_data_old():
    assert drawing("MP+once+once") == """\
  witness: this execution reaches exists (1:r0=1 /\\ 1:r1=0)
  with 1:r0=1, 1:r1=0; 1 stale read; chosen from 1 such execution

P0                                    P1
------------------------------------  ------------------------------------
WRITE_ONCE(*x, 1)
  <- not yet visible to P1
WRITE_ONCE(*y, 1)
                                      r0 = READ_ONCE(*y)
                                        <- 1 (P0's y = 1)
                                      r1 = READ_ONCE(*x)
                                        <- 0 (initial; P0's x = 1 not
                                        yet seen)"""


def test_sb_witness_both_stores_late():
    text = drawing("SB+once+once")
    assert text.count("not yet visible to") == 2
    assert "r0 = READ_ONCE(*y)\n  <- 0 (initial; P1's y = 1 not\n  yet seen)" in text
    assert "2 stale reads" in text


def test_lb_witness_reads_from_a_row_below():
    text = drawing("LB+once+once")
    assert "r0 = READ_ONCE(*x)\n  <- 1 (P1's x = 1, a row below)" in text
    assert "0 stale reads" in text


def test_2plus2w_shows_coherence_order():
    text = drawing("2+2W+once+once")
    assert text.endswith("coherence x: 0 (initial), P1's 2, P0's 1 (final)\n"
                         "coherence y: 0 (initial), P0's 2, P1's 1 (final)")


def test_rmw_rows_say_what_they_wrote_and_own_writes_are_not_stale():
    witness = witness_of("SB+xchgrelaxed+xchgrelaxed")
    assert witness.stale == 2 == stale_reads(witness.execution)
    assert "r1 = xchg_relaxed(x, 1)\n  <- 0 (initial); writes 1" in render_witness(witness)


def test_simplest_witness_has_fewest_stale_reads():
    witness = witness_of("Counter+once")             # x=1: both increments read 0
    assert witness.candidates == 2 and witness.stale == 2
    wide = witness_of("IRIW+once+once")
    assert wide.stale == 2 and wide.candidates == 1


def test_no_witness_when_never_or_always():
    assert drawing("MP+wmb+rmb") == "  no witness: no consistent execution reaches exists (1:r0=1 /\\ 1:r1=0)"
    assert drawing("SB+forall") == "  no witness: every consistent execution keeps forall (0:r0=1 \\/ 1:r0=1)"
    assert witness_of("RM+filter").execution is None     # positive executions exist, none passes the filter


SB_NOT = """C SB-not
{}
P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }
P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }
%s (0:r0=0 /\\ 1:r0=0)
"""


@pytest.mark.parametrize("clause", ["~exists", "exists"])
def test_negated_exists_is_witnessed_when_violated(clause):
    witness = find_witness(parse_litmus(SB_NOT % clause, "sb.litmus"))
    assert witness.execution is not None
    verb = "violates" if clause == "~exists" else "reaches"
    assert render_witness(witness).startswith(f"  witness: this execution {verb} {clause} (0:r0=0")


def test_forall_is_witnessed_by_an_execution_where_it_fails():
    witness = find_witness(parse_litmus(SB_NOT % "forall", "sb.litmus"))
    assert witness.candidates == 3 and witness.stale == 0         # 1:r0=1 or 0:r0=1
    assert "violates forall" in render_witness(witness)


def _herd_rows():
    with open(os.path.join(HERE, "herd7-results.tsv"), encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                name, observation, positive, negative, *_ = line.rstrip("\n").split("\t")
                yield name, int(positive), int(negative)


HERD = list(_herd_rows())


@pytest.mark.parametrize("name,positive,negative", HERD, ids=[row[0] for row in HERD])
def test_a_witness_exists_exactly_when_herd7_counts_one(name, positive, negative):
    test = parse_litmus_file(os.path.join(HERE, name))
    witness = find_witness(test)
    expected = positive if test.quantifier != "forall" else negative
    assert (witness.execution is not None) == (expected > 0)
    assert witness.candidates == expected
    text = render_witness(witness)
    assert max(len(line) for line in text.splitlines()) <= 75


def test_cli_witness_text_and_json(capsys):
    path = os.path.join(HERE, "MP+once+once.litmus")
    assert main(["litmus", "--witness", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Test MP+once+once: Sometimes\n")
    assert "  witness: this execution reaches" in out and "P0      " in out
    assert main(["litmus", "--witness", "--json", path]) == 0
    (doc,) = json.loads(capsys.readouterr().out)["tests"]
    assert doc["witness"][0].startswith("  witness: this execution reaches")
    assert main(["litmus", "--json", path]) == 0
    assert "witness" not in json.loads(capsys.readouterr().out)["tests"][0]
