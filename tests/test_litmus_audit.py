"""``racecheck audit``: the primitives found, the weakening, the answers
of the weakened tests (pinned from herd7 in tests/lkmm/audit-herd7.tsv,
made by tests/lkmm/audit_oracle.py), the table and the exit statuses."""

from __future__ import annotations

import json
import os

import pytest

from racecheck.cli import main
from racecheck.explore.audit import audit_litmus
from racecheck.explore.litmus import check_litmus
from racecheck.model.lkmm_events import Val
from racecheck.model.lkmm_litmus import thread_program
from racecheck.scenario.litmus import parse_litmus, parse_litmus_file
from racecheck.scenario.litmus_weaken import primitives, weaken, weakened_name

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lkmm")


def audit_of(name: str):
    return audit_litmus(parse_litmus_file(os.path.join(HERE, name)))


def rows(audit) -> list:
    return [(r.primitive.thread, r.primitive.name, r.primitive.line, r.primitive.weakened, r.answer)
            for r in audit.weakened]


def _herd7_rows():
    with open(os.path.join(HERE, "audit-herd7.tsv"), encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    by_file = {}
    for name, line, primitive, answer in lines:
        by_file.setdefault(name, []).append((int(line), primitive, answer))
    return sorted(by_file.items())


HERD7 = _herd7_rows()


def test_herd7_table_covers_the_classic_tests():
    assert len(HERD7) == 64 and sum(len(r) for _, r in HERD7) == 132


@pytest.mark.parametrize("name,expected", HERD7, ids=[name for name, _ in HERD7])
def test_every_weakened_answer_agrees_with_herd7(name, expected):
    audit = audit_of(name)
    assert [(r.primitive.line, r.primitive.name, r.answer) for r in audit.weakened] == expected


def test_files_without_primitives_have_no_rows():
    listed = {name for name, _ in HERD7}
    bare = sorted(n for n in os.listdir(HERE) if n.endswith(".litmus") and n not in listed)
    assert len(bare) == 27
    for name in bare:
        assert audit_of(name).weakened == ()


def test_mp_with_wmb_and_rmb_needs_both_barriers():
    audit = audit_of("MP+wmb+rmb.litmus")
    assert audit.answer == "Never"
    assert rows(audit) == [(0, "smp_wmb", 14, "nothing", "Sometimes"), (1, "smp_rmb", 24, "nothing", "Sometimes")]
    assert all(r.needed(audit.answer) for r in audit.weakened)


def test_sb_needs_each_full_barrier_and_wmb_does_not_help():
    assert [r.answer for r in audit_of("SB+mb+mb.litmus").weakened] == ["Sometimes", "Sometimes"]
    weak = audit_of("SB+wmb+wmb.litmus")                  # Sometimes with or without them
    assert weak.answer == "Sometimes" and not any(r.needed(weak.answer) for r in weak.weakened)


def test_isa2_middle_acquire_is_not_needed_its_release_is():
    audit = audit_of("ISA2+rel+acqrel+acq.litmus")
    assert [(r.primitive.line, r.needed(audit.answer)) for r in audit.weakened] == [
        (14, True), (21, False), (22, True), (30, True)]


def test_lock_pairs_and_srcu_sections_are_weakened_whole():
    audit = audit_of("MP+lock+lock.litmus")
    assert [(r.primitive.line, r.primitive.end_line, r.answer) for r in audit.weakened] == [
        (13, 16, "Sometimes"), (24, 27, "Sometimes")]
    srcu = audit_of("SRCU+sync.litmus")
    assert [(r.primitive.name, r.primitive.end_line) for r in srcu.weakened] == [
        ("synchronize_srcu", 0), ("srcu_read_lock", 28)]


def test_weakened_names():
    assert weakened_name("smp_mb") == "nothing"
    assert weakened_name("smp_load_acquire") == "READ_ONCE"
    assert weakened_name("smp_store_release") == "WRITE_ONCE"
    assert weakened_name("xchg_acquire") == "xchg_relaxed"
    assert weakened_name("atomic_add_return") == "atomic_add_return_relaxed"
    assert weakened_name("atomic_fetch_inc_release") == "atomic_fetch_inc_relaxed"
    assert weakened_name("cmpxchg_relaxed") is None
    assert weakened_name("READ_ONCE") is None and weakened_name("atomic_inc") is None


NESTED = """C nested
{}
P0(int *x, int *y)
{
\tint r0;
\trcu_read_lock();
\trcu_read_lock(); r0 = READ_ONCE(*x); rcu_read_unlock();
\tif (r0) { smp_mb(); }
\trcu_read_unlock();
\tr0 = smp_load_acquire(y);
}
exists (0:r0=1)
"""


def test_nested_sections_pair_inside_out_and_weakening_keeps_the_rest():
    test = parse_litmus(NESTED, "n.litmus")
    found = primitives(test)
    assert [(p.name, p.line, p.end_line) for p in found] == [
        ("rcu_read_lock", 6, 9), ("rcu_read_lock", 7, 7), ("smp_mb", 8, 0), ("smp_load_acquire", 10, 0)]
    weak = weaken(test, found[3])
    ops = _ops(weak)
    assert ops[-1] == ("Load", "y", frozenset({"once"}), "READ_ONCE(*y)")
    assert [op[0] for op in _ops(weaken(test, found[0]))].count("Fence") == 3   # inner pair, smp_mb
    assert _ops(test)[-1][2] == frozenset({"acquire"})                           # the original is untouched


def _ops(test) -> list:
    gen = thread_program(test, 0)()
    out, sent = [], None
    try:
        while True:
            op = gen.send(sent)
            out.append((type(op).__name__, op.loc, getattr(op, "tags", None), op.label))
            sent = None
            if type(op).__name__ == "Load":
                sent = Val(1)
    except StopIteration:
        return out


# -- the command ------------------------------------------------------------------

def test_cli_table_fits_and_says_from_what_to_what(capsys):
    assert main(["audit", os.path.join(HERE, "MP+wmb+rmb.litmus"),
                 os.path.join(HERE, "ISA2+rel+acqrel+acq.litmus")]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 75
    assert "    14  P0 smp_wmb -> nothing              needed: Never -> Sometimes" in out
    assert "    21  P1 smp_load_acquire -> READ_ONCE\n          not needed for this test's condition" in out
    assert "  2 of 2 primitives needed" in out and "  3 of 4 primitives needed" in out


def test_cli_every_test_fits_75_columns(capsys):
    assert main(["audit", HERE]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 75


def test_cli_race_change_is_an_answer_change(capsys):
    assert main(["audit", os.path.join(HERE, "MP+plain+rel-acq.litmus")]) == 0
    out = capsys.readouterr().out
    assert "needed: Never -> Sometimes DATARACE" in out


def test_cli_json(capsys):
    assert main(["audit", "--json", os.path.join(HERE, "MP+lock+lock.litmus")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "racecheck-audit"
    (test,) = doc["tests"]
    assert test["answer"] == "Never"
    assert [(p["primitive"], p["line"], p["end_line"], p["needed"]) for p in test["primitives"]] == [
        ("spin_lock", 13, 16, True), ("spin_lock", 24, 27, True)]


def test_cli_no_primitive(capsys):
    assert main(["audit", os.path.join(HERE, "SB+once+once.litmus")]) == 0
    assert "no ordering primitive to weaken" in capsys.readouterr().out


def test_cli_bad_input_exits_2_with_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.litmus"
    bad.write_text("C bad\n{}\nP0(int *x) { WRITE_ONCE(*x 1); }\nexists (x=1)\n")
    assert main(["audit", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err and "Traceback" not in err
    loop = tmp_path / "loop.litmus"
    loop.write_text("C loop\n{}\nP0(int *x) { while (1) { } }\nexists (x=1)\n")
    assert main(["audit", str(loop)]) == 2
    assert "unsupported: loops" in capsys.readouterr().err
    assert main(["audit", str(tmp_path / "missing.litmus")]) == 2


def test_weakened_answers_match_a_direct_check():
    test = parse_litmus_file(os.path.join(HERE, "SB+xchg+xchg.litmus"))
    for prim in primitives(test):
        assert check_litmus(weaken(test, prim)).answer == "Sometimes"


def test_weakened_source_lines_match_the_weakening():
    test = parse_litmus_file(os.path.join(HERE, "MP+rel+acq.litmus"))
    store, load = primitives(test)
    assert weaken(test, store).lines[13].strip() == "WRITE_ONCE(*y, 1);"
    assert weaken(test, load).lines[21].strip() == "r0 = READ_ONCE(*y);"
    srcu = parse_litmus_file(os.path.join(HERE, "SRCU+sync.litmus"))
    sync, section = primitives(srcu)
    weak = weaken(srcu, section)
    assert (weak.lines[24].strip(), weak.lines[27].strip()) == ("idx = 0;", ";")
    assert weaken(srcu, sync).lines[14].strip() == ";"


def test_cli_witness_draws_the_counterexample_of_each_needed_primitive(capsys):
    assert main(["audit", "--witness", os.path.join(HERE, "MP+rel+acq.litmus"),
                 os.path.join(HERE, "ISA2+rel+acqrel+acq.litmus")]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 75
    assert out.count("\nwithout ") == 2 + 3                 # ISA2's middle acquire is not needed
    assert ("without P1 smp_load_acquire (line 22, weakened to READ_ONCE): Sometimes\n"
            "  witness: this execution reaches exists (1:r0=1 /\\ 1:r1=0)") in out
    assert "smp_store_release(y, 1)\n" in out and "r0 = READ_ONCE(*y)\n" in out
    assert "without P1 smp_load_acquire (line 21" not in out
