"""``racecheck litmus``: parsing, errors, unsupported features, exit
statuses, the text and JSON reports; and the explorer on thread code
written directly as Python generators (the front end scenarios will use).
"""

from __future__ import annotations

import json
import os

import pytest

from racecheck.cli import main
from racecheck.errors import ScenarioError
from racecheck.explore.executions import explore
from racecheck.explore.litmus import check_litmus
from racecheck.model.lkmm_events import ACQUIRE, ONCE, RELEASE, Fence, Load, Store, Val
from racecheck.scenario.litmus import LitmusUnsupported, parse_litmus

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lkmm")

MP = """C MP+test
(* Result: Never *)
{}
P0(int *x, int *y)
{
\tWRITE_ONCE(*x, 1);
\tsmp_store_release(y, 1);
}
P1(int *x, int *y)
{
\tint r0;
\tint r1;
\tr0 = smp_load_acquire(y);
\tr1 = READ_ONCE(*x);
}
exists (1:r0=1 /\\ 1:r1=0)
"""


def write(tmp_path, text: str, name: str = "t.litmus") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- the parser --------------------------------------------------------------------

def test_parse_reads_header_result_threads_and_condition():
    test = parse_litmus(MP, "mp.litmus")
    assert test.name == "MP+test"
    assert test.expected == "Never" and test.expected_race is None
    assert [t.params for t in test.threads] == [("x", "y"), ("x", "y")]
    assert test.quantifier == "exists"
    assert [str(a) for a in test.condition.atoms()] == ["1:r0=1", "1:r1=0"]


def test_parse_initial_values_and_pointers():
    test = parse_litmus("C t\n{ x=1; int *p = &y; 0:r1=2; spinlock_t s; }\nP0(int *x) { }\nexists (x=1)\n")
    assert test.init == {"x": 1, "p": "y", "s": 0}
    assert test.init_regs == {(0, "r1"): 2}


def test_datarace_marker_is_read():
    test = parse_litmus("C t\n(* Result: Sometimes DATARACE *)\nP0(int *x) { *x = 1; }\nexists (x=1)\n")
    assert (test.expected, test.expected_race) == ("Sometimes", True)


@pytest.mark.parametrize("text, line, message", [
    ("X86 t\nP0 | P1 ;\n", 1, "unsupported: architecture X86"),
    ("hello\n", 1, "a C litmus test starts with 'C NAME'"),
    ("C t\nP0(int *x) { WRITE_ONCE(*x, 1) }\nexists (x=1)\n", 2, "expected ';' after the statement"),
    ("C t\nP0(int *x) { WRITE_ONCE(*x); }\nexists (x=1)\n", 2, "WRITE_ONCE() takes 2 arguments, not 1"),
    ("C t\nP0(int *x) { WRITE_ONCE(*x, 1); }\n", 2, "no final condition"),
    ("C t\nP1(int *x) { }\nexists (x=1)\n", 2, "expected P0, found P1"),
    ("C t\nP0(int *x) { WRITE_ONC(*x, 1); }\nexists (x=1)\n", 2, "unknown function WRITE_ONC()"),
    ("C t\n(* Result: Never\nP0(int *x) { }\n", 2, "comment (* is never closed"),
])
def test_bad_input_names_file_and_line(text, line, message):
    with pytest.raises(ScenarioError) as info:
        parse_litmus(text, "bad.litmus")
    assert message in info.value.message
    assert info.value.pos.file == "bad.litmus" and info.value.pos.line == line


@pytest.mark.parametrize("body, feature", [
    ("while (1) { }", "loops"),
    ("srcu_barrier(s);", "SRCU primitive (srcu_barrier)"),
    ("atomic_andnot(1, x);", "atomic primitive (atomic_andnot)"),
    ("int r0 = x[1];", "arrays and structures"),
])
def test_unsupported_features_are_named(body, feature):
    with pytest.raises(LitmusUnsupported) as info:
        parse_litmus(f"C t\nP0(int *x, int *s)\n{{\n{body}\n}}\nexists (x=1)\n")
    assert info.value.feature == feature
    assert info.value.pos.line == 4


def test_comment_paren_star_inside_code_is_a_dereference():
    test = parse_litmus("C t\n(* a comment *)\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n")
    assert len(test.threads[0].body) == 1


# -- the command ---------------------------------------------------------------------

def test_agreeing_file_exits_0(tmp_path, capsys):
    assert main(["litmus", write(tmp_path, MP)]) == 0
    out = capsys.readouterr().out
    assert "Test MP+test: Never" in out
    assert "3 consistent executions: 0 positive, 3 negative; 3 states" in out
    assert all(len(line) <= 75 for line in out.splitlines())


def test_disagreeing_file_exits_1(tmp_path, capsys):
    path = write(tmp_path, MP.replace("Result: Never", "Result: Sometimes"))
    assert main(["litmus", path]) == 1
    assert "DISAGREES" in capsys.readouterr().out


def test_unsupported_file_exits_1_and_names_the_feature(tmp_path, capsys):
    path = write(tmp_path, MP.replace("\tint r1;\n", "\tint r1;\n\twhile (r1) { }\n"))
    assert main(["litmus", path]) == 1
    out = capsys.readouterr().out
    assert "Test MP+test: unsupported: loops" in out
    assert f"  at {path}:13:2" in out


def test_malformed_file_exits_2_with_file_and_line(tmp_path, capsys):
    path = write(tmp_path, MP.replace("smp_store_release(y, 1);", "smp_store_release(y, 1)"))
    assert main(["litmus", path, write(tmp_path, MP, "good.litmus")]) == 2
    captured = capsys.readouterr()
    assert f"{path}:8:" in captured.err
    assert "Traceback" not in captured.err
    assert "Test MP+test: Never" in captured.out          # the good file is still checked


def test_candidate_bound_exits_3(tmp_path, capsys):
    assert main(["litmus", write(tmp_path, MP), "--max-candidates", "2"]) == 3
    assert "more than 2 candidate executions" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["litmus", str(tmp_path / "nope.litmus")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_json_report(tmp_path, capsys):
    assert main(["litmus", write(tmp_path, MP), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (test,) = doc["tests"]
    assert (test["answer"], test["executions"], test["positive"], test["agrees"]) == ("Never", 3, 0, True)
    assert test["rejected"] == {"happens-before": 1}


def test_data_race_names_the_two_accesses(capsys):
    assert main(["litmus", os.path.join(HERE, "MP+plain+once.litmus")]) == 0
    out = capsys.readouterr().out
    assert "Test MP+plain+once: Sometimes DATARACE" in out
    races = [line for line in out.splitlines() if "data race" in line]
    assert races == ["  data race: P0 *x = 1 (write of x) line 13 and P1 *x (read of x) line 25"]


def test_directory_gives_a_summary(capsys):
    assert main(["litmus", HERE]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.endswith("agree, 0 disagree, 0 unsupported")


# -- thread code as Python generators --------------------------------------------------

def mp_writer():
    yield Store("x", value=Val(1))
    yield Store("y", value=Val(1), tags=RELEASE)
    return {}


def mp_reader(acquire: bool):
    def thread():
        r0 = yield Load("y", tags=ACQUIRE if acquire else ONCE)
        r1 = yield Load("x")
        return {"r0": r0.value, "r1": r1.value}
    return thread


@pytest.mark.parametrize("acquire, outcomes", [(True, {(0, 0), (0, 1), (1, 1)}),
                                               (False, {(0, 0), (0, 1), (1, 1), (1, 0)})])
def test_generator_threads_plug_in(acquire, outcomes):
    found = explore([mp_writer, mp_reader(acquire)], {"x": 0, "y": 0})
    seen = {(e.regs[(1, "r0")], e.regs[(1, "r1")]) for e in found.executions}
    assert seen == outcomes
    assert len(found.executions) == len(outcomes)


def test_dependencies_travel_with_values():
    """LB with a data dependency on each side: the value read carries the
    read, so each store is data-dependent on it and 1 never appears out
    of thin air. Three executions, all reading 0: each read may take its
    0 from the initial write or from the other thread's store of 0."""
    def thread(src, dst):
        def run():
            r = yield Load(src)
            yield Store(dst, value=r)
            return {"r": r.value}
        return run
    found = explore([thread("x", "y"), thread("y", "x")], {"x": 0, "y": 0})
    assert [e.regs for e in found.executions] == [{(0, "r"): 0, (1, "r"): 0}] * 3
    assert found.candidates == 4 and found.rejected == {"happens-before": 1}


def test_fence_between_generator_stores():
    def writer():
        yield Store("x", value=Val(1))
        yield Fence("mb")
        r = yield Load("y")
        return {"r": r.value}

    def other():
        yield Store("y", value=Val(1))
        yield Fence("mb")
        r = yield Load("x")
        return {"r": r.value}
    found = explore([writer, other], {})
    assert sorted((e.regs[(0, "r")], e.regs[(1, "r")]) for e in found.executions) == [(0, 1), (1, 0), (1, 1)]
    assert found.rejected == {"propagation": 1}


def test_executions_are_distinct_rf_co_choices():
    result_paths = [os.path.join(HERE, n) for n in ("IRIW+once+once.litmus", "Z6.0+lock+lock+mb.litmus",
                                                     "Counter+once.litmus")]
    for path in result_paths:
        from racecheck.model.lkmm_litmus import thread_program
        from racecheck.scenario.litmus import parse_litmus_file
        test = parse_litmus_file(path)
        found = explore([thread_program(test, i) for i in range(len(test.threads))], test.init)
        keys = {(tuple((g.events[a].key, g.events[b].key) for a, b in g.rf.pairs()),
                 tuple((g.events[a].key, g.events[b].key) for a, b in g.co.pairs()))
                for g in (e.graph for e in found.executions)}
        assert len(keys) == len(found.executions)
        assert check_litmus(test).executions == len(found.executions)


def test_an_unknown_name_is_pointed_at(tmp_path, capsys):
    path = tmp_path / "y.litmus"
    path.write_text("C y\n{}\nP0(int *x) {\n int r0;\n r0 = READ_ONCE(*y);\n}\nexists (0:r0=1)\n")
    assert main(["litmus", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}:5:18: P0: 'y' is neither a parameter nor a declared register"
    assert err[2].index("^") == err[1].index("*y") + 1
