import pytest

from racecheck.scenario.values import Record, StepError, format_value, is_value, type_name


def test_records_are_values_equal_by_fields():
    a = Record.make({"locked": False, "dirty": True})
    b = Record.make({"locked": False, "dirty": True})
    assert a == b and hash(a) == hash(b)
    assert a != Record.make({"locked": False, "dirty": False})


def test_records_with_other_fields_differ_even_with_equal_values():
    assert Record.make({"a": 1}) != Record.make({"b": 1})


def test_record_cannot_be_iterated_or_measured():
    r = Record.make({"a": 1})
    with pytest.raises(StepError):
        len(r)
    with pytest.raises(StepError):
        list(iter(r))
    with pytest.raises(StepError):
        _ = 1 in r


def test_format_value_is_code_syntax():
    r = Record.make({"locked": False, "n": 2})
    assert format_value(r) == "{locked: False, n: 2}"
    assert format_value((1, "swap", None)) == "[1, 'swap', None]"


def test_type_names_and_value_check():
    assert [type_name(v) for v in (None, True, 1, "x", (1,), Record.make({}))] == \
        ["None", "bool", "int", "str", "list", "record"]
    assert is_value((1, Record.make({"a": (True,)})))
    assert not is_value(1.5)
