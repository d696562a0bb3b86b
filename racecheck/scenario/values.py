"""Scenario values: what shared variables, locals and params can hold.

Booleans, integers, strings (used as symbols), ``None``, lists and records.
All of them are immutable and hashable, so a state is a plain tuple of values:

* a list is a Python ``tuple`` (fixed length; ``x = pages`` copies nothing and
  aliases nothing, because nothing can change it in place);
* a record is a ``Record``: a tuple whose first item is its ``Shape`` (the
  field names), followed by the field values. Equality and hashing include
  the shape, so two records are equal only when their fields are.

Records cannot gain fields: the only way to change one is ``with_field``,
which keeps the shape.
"""

from __future__ import annotations

import re


class StepError(Exception):
    """A run-time failure of scenario code (wrong type, index out of range...)."""


class AssertFailed(StepError):
    """An ``assert`` statement in scenario code failed."""


class Shape:
    """The field names of a record; one interned object per tuple of names."""

    __slots__ = ("fields", "index")
    _interned: dict = {}

    def __new__(cls, fields: tuple):
        shape = cls._interned.get(fields)
        if shape is None:
            shape = object.__new__(cls)
            shape.fields = fields
            shape.index = {name: i + 1 for i, name in enumerate(fields)}
            cls._interned[fields] = shape
        return shape

    def __hash__(self) -> int:
        return hash(self.fields)

    def __repr__(self) -> str:
        return f"Shape({self.fields!r})"


class Record(tuple):
    """A record value: ``(shape, value1, value2, ...)``."""

    __slots__ = ()

    @staticmethod
    def make(fields: dict) -> "Record":
        return Record((Shape(tuple(fields)),) + tuple(fields.values()))

    @property
    def shape(self) -> Shape:
        return self[0]

    def items(self):
        return zip(self[0].fields, self[1:])


def type_name(value) -> str:
    """The scenario-level name of a value's type, for messages."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "str"
    if type(value) is Record:
        return "record"
    if isinstance(value, tuple):
        return "list"
    return type(value).__name__


MAX_SHOWN_DIGITS = 40
MAX_LITERAL_DIGITS = 4000         # an integer literal, in YAML or in code, is shorter than this
_LITERAL_BOUND = 10 ** MAX_LITERAL_DIGITS


_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def unprintable(text: str) -> str | None:
    """The first character of ``text`` that cannot be shown as it is, in
    words (``control character U+001B``, ``lone surrogate U+D800``); None
    when there is none. Tabs and newlines are fine. Scenario text is shown
    on terminals and in reports, where an escape sequence or a NUL would act
    instead of being read, and a lone surrogate cannot be written as UTF-8
    at all. A string cannot gain one at run time (there is no ``chr()``), so
    refusing them in literals keeps them out of every output."""
    match = _UNPRINTABLE.search(text)
    if match is None:
        return None
    code = ord(match.group())
    return f"{'lone surrogate' if 0xD800 <= code <= 0xDFFF else 'control character'} U+{code:04X}"


def literal_too_long(value: int) -> bool:
    """True when an integer literal's value has more than MAX_LITERAL_DIGITS
    decimal digits, whatever base it was written in (``0x`` packs 1.2
    decimal digits into each of its own). Python refuses to turn integers of
    more than 4,300 digits into text, so a longer literal could be read but
    never compiled or shown."""
    return abs(value) >= _LITERAL_BOUND


MAX_SHOWN_DEPTH = 40


def format_value(value, depth: int = 0) -> str:
    """A value as it would be written in the code language.

    An integer wider than 120 bits is shown as ``<integer of N bits>``: run
    time can build integers of up to 100,000 bits (``runtime.MAX_INT_BITS``),
    far past the 4,300 digits Python agrees to print, and no diagram needs
    their digits. Lists and records nested deeper than MAX_SHOWN_DEPTH show
    as ``[...]`` and ``{...}``: a loop can wrap a list in a list thousands
    of times (``x = [x]``), past Python's recursion limit."""
    if type(value) is int and value.bit_length() > 3 * MAX_SHOWN_DIGITS:
        sign = "-" if value < 0 else ""
        return f"<{sign}integer of {value.bit_length()} bits>"
    if type(value) is Record:
        if depth >= MAX_SHOWN_DEPTH:
            return "{...}"
        inner = ", ".join(f"{k}: {format_value(v, depth + 1)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, tuple):
        if depth >= MAX_SHOWN_DEPTH and value:
            return "[...]"
        return "[" + ", ".join(format_value(v, depth + 1) for v in value) + "]"
    return repr(value)


def is_value(value) -> bool:
    """True when ``value`` is something a scenario variable may hold."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if type(value) is Record:
        return all(is_value(v) for v in value[1:])
    if isinstance(value, tuple):
        return all(is_value(v) for v in value)
    return False


def record_fields(value, into: set) -> set:
    """Collect the field names of every record inside ``value``."""
    if type(value) is Record:
        into.update(value[0].fields)
        for v in value[1:]:
            record_fields(v, into)
    elif isinstance(value, tuple):
        for v in value:
            record_fields(v, into)
    return into


def _no_iteration(self, *args):
    raise StepError("a record cannot be iterated, measured or searched; use its fields")


def _no_order(self, other):
    raise StepError("records cannot be ordered with <, <=, > or >=; compare their fields")


# Records behave as values with fields only: iteration, len(), 'in' and
# ordering on a record are run-time errors, as they would be on a C struct.
Record.__iter__ = _no_iteration
Record.__len__ = _no_iteration
Record.__contains__ = _no_iteration
Record.__lt__ = Record.__le__ = Record.__gt__ = Record.__ge__ = _no_order
