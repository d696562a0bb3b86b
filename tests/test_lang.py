"""The code language: what it accepts, what it means once compiled."""

import pytest

from racecheck.errors import ScenarioError
from racecheck.model.runtime import Chooser
from racecheck.scenario.values import StepError

HEADER = """
racecheck: 1
title: t
params: {k: 3}
state:
  x: 0
  xs: [1, 2, 3]
  rec: {a: 1, b: [true, false]}
  out: null
threads:
  t:
    locals: {l: 0}
    steps:
      - step: s
        do: |
{code}
"""


def run_code(program, code: str):
    """Run one do-block on the initial state; return the shared values."""
    text = HEADER.replace("{code}", "\n".join("          " + line for line in code.strip().splitlines()))
    prog = program(text)
    init = next(prog.initial_states())[1]
    after = prog.execute(init, 0, Chooser())
    return dict(zip(prog.shared_names, after[:prog.shared_count]))


@pytest.mark.parametrize("expr, expected", [
    ("1 + 2 * 3", 7),
    ("-7 // 2", -4),
    ("-7 % 3", 2),
    ("xs[-1]", 3),
    ("rec.b[1]", False),
    ("len(xs) + k", 6),
    ("sum(v for v in xs if v > 1)", 5),
    ("[v * 2 for v in xs]", (2, 4, 6)),
    ("max(xs) if x == 0 else 0", 3),
    ("any(v == 2 for v in xs) and not all(v == 2 for v in xs)", True),
    ("3 in xs", True),
    ("'swap' not in ('folio', 'swap')", False),
    ("out is None", True),
    ("min(3, 1, 2)", 1),
    ("abs(-4)", 4),
    ("range(3)", (0, 1, 2)),
    ("[(i, v) for i, v in [(0, 1)]]", ((0, 1),)),
    ("1 < x + 2 < 3", True),
])
def test_expressions_follow_python(program, expr, expected):
    assert run_code(program, f"out = {expr}")["out"] == expected


def test_field_and_element_assignment_rebuild_values(program):
    shared = run_code(program, "rec.b[0] = False\nxs[1] += 10\nx |= 1")
    assert shared["rec"].shape.fields == ("a", "b")
    assert dict(shared["rec"].items()) == {"a": 1, "b": (False, False)}
    assert shared["xs"] == (1, 12, 3)
    assert shared["x"] == 1


def test_and_or_short_circuit(program):
    # xs[10] would fail; short-circuit means it is never evaluated
    assert run_code(program, "out = x == 1 and xs[10] == 0")["out"] is False
    assert run_code(program, "out = x == 0 or xs[10] == 0")["out"] is True


def test_if_elif_else_and_return(program):
    shared = run_code(program, "if x == 1:\n    out = 1\nelif x == 0:\n    out = 2\n    return\nelse:\n    out = 3\nx = 9")
    assert shared["out"] == 2 and shared["x"] == 0


@pytest.mark.parametrize("code, message", [
    ("out = xs[5]", "index 5 out of range"),
    ("out = rec.c", None),                       # refused at load: no such field anywhere
    ("out = x.a", "cannot read field 'a' of int"),
    ("out = 1 // x", "ZeroDivisionError"),
    ("out = len(x)", "TypeError"),
    ("out = 'a' < 1", "TypeError"),
    ("assert x == 1, 'x must be one'", "x must be one"),
    ("out = [0] * 1000000", "longer than"),
    ("out = range(10000000)", "range() of more than"),
    ("out = len(rec)", "record cannot be iterated"),
])
def test_runtime_failures_are_step_errors(program, code, message):
    if message is None:
        with pytest.raises(ScenarioError):
            run_code(program, code)
        return
    with pytest.raises(StepError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_code(program, code)


def test_choose_alternatives_are_enumerated(program):
    prog = program(HEADER.replace("{code}", "          x = choose(1, 2)\n          out = choose('a', 'b', 'c')"))
    init = next(prog.initial_states())[1]
    results = []
    chooser = Chooser()
    while chooser is not None:
        after = prog.execute(init, 0, chooser)
        results.append((chooser.used(), after[0], after[3]))
        plan = chooser.next_plan()
        chooser = Chooser(plan) if plan is not None else None
    assert results == [((), 1, "a"), ((0, 1), 1, "b"), ((0, 2), 1, "c"),
                       ((1,), 2, "a"), ((1, 1), 2, "b"), ((1, 2), 2, "c")]


@pytest.mark.parametrize("code, phrase", [
    ("import os", "import is not in the code language"),
    ("out = (lambda: 1)()", "only the functions"),
    ("out = rec.__class__", "dunder attribute '__class__'"),
    ("out = open('f')", "call to 'open' is not allowed"),
    ("out = 2 ** 8", "'**' is not in the code language"),
    ("out = 4 / 2", "'/' (use '//') is not in the code language"),
    ("out = f'{x}'", "f-strings is not in the code language"),
    ("out = {1: 2}", "dict literals"),
    ("for i in xs:\n    x = i", "'for' loops"),
    ("out = xs[0:2]", "slices"),
    ("out = 1.5", "floats are not values"),
    ("nosuch = 1", "assignment to undeclared name 'nosuch'"),
    ("k = 1", "cannot assign to param 'k'"),
    ("tid = 1", "cannot assign to 'tid'"),
    ("out = xx", "unknown variable 'xx'"),
    ("out = x is 1", "'is' and 'is not' compare only with None"),
    ("out = choose(1, 2) + 1", "choose() may only be the whole right side"),
    ("a = b = 1", "assign one target at a time"),
    ("return 1", "'return' takes no value"),
    ("len(xs)", "expression statements"),
])
def test_constructs_outside_the_language_are_refused(program, code, phrase):
    with pytest.raises(ScenarioError) as info:
        run_code(program, code)
    assert phrase in info.value.message


def test_unknown_variable_gets_a_hint(program):
    with pytest.raises(ScenarioError) as info:
        run_code(program, "out = rek.a")
    assert info.value.hint == "did you mean 'rec'?"


def test_error_position_points_into_the_block(program):
    with pytest.raises(ScenarioError) as info:
        run_code(program, "x = 1\nout = nosuch + 1")
    # the do block starts on line 15 of HEADER at column 11; line 2 of the code
    assert (info.value.pos.line, info.value.pos.col) == (17, 17)


# -- slips a newcomer makes: refused with a hint saying what was meant ----------

from test_bad_input import BASE, CODE_LINE, assert_refused, check, edit  # noqa: E402


@pytest.mark.parametrize("old, new, needle, where_", [
    ("await: mode == 'racy' or not lock", "await: counter = 1", "= 1", "step 'lock()' of thread 'inc' (await)"),
    ("in_range: counter <= 2", "in_range: counter = 2", "= 2", "invariant 'in_range'"),
    ("both_counted: counter == 2", "both_counted: counter = 2", "= 2", "final 'both_counted'"),
    ("      - step: unlock()\n", "      - if: tmp = 1\n        then: [{step: s}]\n      - step: unlock()\n", "= 1",
     "an if condition of thread 'inc'"),
    ("      - step: unlock()\n", "      - while: rec.owner = 1\n        steps: [{step: s}]\n      - step: unlock()\n",
     "= 1", "a while condition of thread 'inc'"),
])
def test_assignment_in_a_condition_suggests_equality(tmp_path, capsys, old, new, needle, where_):
    text = edit(old, new)
    path, run = check(tmp_path, capsys, text)
    assert_refused(run, path, text, needle, f"'=' assigns, but this is a condition ({where_})", hint=None,
                   after=new.split(": ", 1)[1].split("\n")[0])
    left, right = new.split(": ", 1)[1].split("\n")[0].split(" = ")
    assert run.err.splitlines()[-1] == f"hint: to compare, write '{left} == {right}'", run.err


def test_equality_as_a_statement_suggests_assignment(tmp_path, capsys):
    text = edit(CODE_LINE, "do: tmp == counter")
    path, run = check(tmp_path, capsys, text)
    assert_refused(run, path, text, "tmp == counter", "'==' compares, and its result is not used", hint=None)
    assert run.err.splitlines()[-1] == "hint: to assign, write 'tmp = counter'"


@pytest.mark.parametrize("word, python", [("true", "True"), ("false", "False"), ("TRUE", "True"),
                                          ("yes", "True"), ("off", "False"), ("null", "None")])
def test_yaml_spelling_of_a_constant_in_code_suggests_python(tmp_path, capsys, word, python):
    text = edit(CODE_LINE, f"do: tmp = {word}")
    path, run = check(tmp_path, capsys, text)
    assert_refused(run, path, text, f"{word}\n", f"unknown variable '{word}'", hint=None, after="do: tmp =")
    assert run.err.splitlines()[-1].endswith(f"write {python}"), run.err


OTHER = """\
  dec:
    steps:
      - step: s
        do: {code}
"""


@pytest.mark.parametrize("code, needle, phrase", [
    ("counter = inc.tmp", "inc.tmp", "'inc.tmp' names local 'tmp' of thread 'inc' (step 's' of thread 'dec'); "
                                     "a thread's locals are private"),
    ("inc.tmp = 1", "inc.tmp", "'inc.tmp' names local 'tmp' of thread 'inc'"),
    ("counter = tmp", "tmp\n", "unknown variable 'tmp' in step 's' of thread 'dec': it is a local of thread "
                               "'inc', and a thread's locals are private"),
    ("tmp = 1", "tmp = 1", "assignment to undeclared name 'tmp'"),
])
def test_reading_another_threads_local_says_locals_are_private(tmp_path, capsys, code, needle, phrase):
    text = edit("invariants:\n", OTHER.format(code=code) + "invariants:\n")
    path, run = check(tmp_path, capsys, text)
    assert_refused(run, path, text, needle, phrase, hint=None, after="  dec:")
    assert run.err.splitlines()[-1] == ("hint: to share 'tmp' between threads, move it from the locals of "
                                        "thread 'inc' to state (a shared variable)"), run.err


def test_invariant_reading_a_local_says_locals_are_private(tmp_path, capsys):
    text = edit("in_range: counter <= 2", "in_range: inc.tmp <= 2")
    path, run = check(tmp_path, capsys, text)
    assert_refused(run, path, text, "inc.tmp", "'inc.tmp' names local 'tmp' of thread 'inc' (invariant 'in_range')",
                   hint=None)


@pytest.mark.parametrize("code, needle, phrase", [
    ("counter = inc.nosuch", "inc.nosuch", "'inc' is a thread, not a variable"),
    ("counter = inc", "inc\n", "unknown variable 'inc'"),
])
def test_a_thread_name_in_code_is_named_as_such(tmp_path, capsys, code, needle, phrase):
    text = edit("invariants:\n", OTHER.format(code=code) + "invariants:\n")
    path, run = check(tmp_path, capsys, text)
    assert_refused(run, path, text, needle, phrase, hint=None, after="  dec:")
    assert run.err.splitlines()[-1].startswith("hint: that is a thread's name"), run.err


def test_a_comprehension_variable_named_like_a_thread_reads_its_own_fields(tmp_path, capsys):
    text = edit(CODE_LINE, "do: tmp = sum(inc.owner for inc in [rec, rec])")
    _, run = check(tmp_path, capsys, text)
    assert run.err == "" and run.status != 2, run.err         # loads; the verdict is another matter
