"""The vocabulary of the Promela export: its types, translated values,
names and the small text helpers every other module uses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from racecheck.errors import ScenarioError
from racecheck.scenario.values import Record

INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1
MAX_UNROLL = 1024             # most items a list may have to be unrolled
SCALARS = ("bool", "int", "sym", "mix")
_ARITY = {"len": (1, 1), "abs": (1, 1), "any": (1, 1), "all": (1, 1), "sum": (1, 2),
          "min": (1, 1_000_000), "max": (1, 1_000_000), "range": (1, 3)}
_NO = object()                # a value that is not a compile-time constant
_COPIES = " copies"           # in a thread's names: how many copies it has (tid < copies)

_RESERVED = frozenset("""
active assert atomic bit bool break byte chan d_step D_proctype do else empty enabled eval false fi
full goto hidden if init int len mtype nempty never nfull od of pc_value printf printm priority
proctype provided run short skip timeout true typedef unless unsigned xr xs local show inline
select for in ltl c_code c_decl c_expr c_state c_track trace notrace np_ always eventually until
weak strong release stronguntil weakuntil implies equivalent accept progress end tid
auto case char const continue default double enum extern float long register restrict return
signed sizeof static struct switch union void volatile while main
now this trpt tau depth rand srand random final max min mix rot ulong ushort uchar uint q_sz qptr
getframe wasnew iam_alive onstack_put onstack_zap onstack_now pptr cas a_cycles State Trans
""".split())
_INTERNAL = re.compile(r"L\d+(c\d+)?(_\d+|_done)?|P_(\d+|done)|end_\w*|rc_\w*|RC_\w*|CHECK_\w*|FLOORDIV|PYMOD|nil|s_\w*|v_\w*")


class ExportError(ScenarioError):
    """A construct of the scenario that has no faithful Promela translation."""


class _Refuse(Exception):
    """Raised deep inside a translation; turned into an ExportError with a position."""


def check_macro(kind: str, name: str = "") -> str:
    """The preprocessor switch for one kind of violation: ``-D<macro>=0`` turns it off.

    ``kind`` is ``assert``, ``error``, ``invariant`` or ``final`` (the last
    two with the property's name). Deadlock is switched with pan's ``-E``.
    """
    if kind in ("invariant", "final"):
        return f"CHECK_{kind.upper()}_{_ascii(name)}"
    return f"CHECK_{kind.upper()}"



# -- types and values ------------------------------------------------------------
#
# A type is "bool", "int", "sym" (strings and None), ("rec", ((field, type), ...))
# or ("list", element type, length). A value during translation is a Val (one
# Promela expression), a Rec (its fields) or a Lst (its items, and for a
# filtered comprehension the condition under which each item is in it).

@dataclass(frozen=True)
class Val:
    text: str
    ty: str
    const: object = _NO
    lvalue: bool = False

    @property
    def is_const(self) -> bool:
        return self.const is not _NO


@dataclass(frozen=True)
class Rec:
    fields: tuple             # ((name, value), ...)

    def names(self) -> tuple:
        return tuple(name for name, _ in self.fields)


@dataclass(frozen=True)
class Lst:
    items: tuple
    conds: tuple | None = None    # per item: a Promela condition, or None when all are in


def _join(a, b):
    """The type holding both ``a`` and ``b``, or None."""
    if a == b:
        return a
    if {a, b} == {"bool", "int"}:
        return "int"
    if a in SCALARS and b in SCALARS:
        return "mix"              # numbers and strings in one variable
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0]:
        if a[0] == "rec" and [f for f, _ in a[1]] == [f for f, _ in b[1]]:
            fields = tuple((f, _join(x, y)) for (f, x), (_, y) in zip(a[1], b[1]))
            return None if any(t is None for _, t in fields) else ("rec", fields)
        if a[0] == "list" and a[2] == b[2]:
            elem = _join(a[1], b[1])
            return None if elem is None else ("list", elem, a[2])
    return None


def _type_of(value):
    if value is None or isinstance(value, str):
        return "sym"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if type(value) is Record:
        return ("rec", tuple((f, _type_of(v)) for f, v in value.items()))
    elem = "empty"
    for item in value:
        t = _type_of(item)
        elem = t if elem == "empty" else _join(elem, t)
        if elem is None:
            raise _Refuse(f"the list {_short(value)} mixes values of different types")
    return ("list", elem, len(value))


def _describe(ty) -> str:
    if ty == "sym":
        return "a string or None"
    if ty == "mix":
        return "a number, a string or None"
    if ty in ("bool", "int"):
        return f"an {ty}" if ty == "int" else "a bool"
    if ty[0] == "rec":
        return "a record {" + ", ".join(f for f, _ in ty[1]) + "}"
    return f"a list of {ty[2]}"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


def _at(ty, path):
    for step in path:
        if step[0] == "f" and isinstance(ty, tuple) and ty[0] == "rec":
            ty = dict(ty[1]).get(step[1])
        elif step[0] == "i" and isinstance(ty, tuple) and ty[0] == "list":
            ty = ty[1]
        else:
            return None
    return ty


def _replace(ty, path, new):
    if not path:
        return new
    step, rest = path[0], path[1:]
    if step[0] == "f":
        return ("rec", tuple((f, _replace(t, rest, new) if f == step[1] else t) for f, t in ty[1]))
    return ("list", _replace(ty[1], rest, new), ty[2])


def _ty(rep):
    """The type of a translated value."""
    if isinstance(rep, Val):
        return rep.ty
    if isinstance(rep, Rec):
        return ("rec", tuple((f, _ty(r)) for f, r in rep.fields))
    if rep.conds is not None:
        raise _Refuse("a comprehension with a data-dependent 'if' builds a list whose length is known "
                      "only at run time")
    elem = "empty"
    for item in rep.items:
        t = _ty(item)
        elem = t if elem == "empty" else _join(elem, t)
        if elem is None:
            raise _Refuse("a list mixes values of different types")
    return ("list", elem, len(rep.items))


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else f"_u{ord(c):04x}" for c in name)


def _comment(text: str) -> str:
    text = " ".join(str(text).split()).replace("*/", "* /").replace("/*", "/ *")
    text = "".join(c if c.isascii() and c.isprintable() else "?" for c in text)
    return f"/* {text[:100]} */"


def _atomic(text: str) -> bool:
    """Is ``text`` one operand (a name, a literal, a call, a parenthesized expression)?"""
    if text.startswith("!"):
        return _atomic(text[1:])
    depth = 0
    for i, c in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(c, 0)
        if depth == 0 and not (c.isalnum() or c in "_)]") and not (c in "([" and i > 0 and text[i - 1] != " "):
            if c == "(" and i == 0:
                continue
            return False
    return True


def _not(text: str) -> str:
    """The negation of a Promela condition (never '!!', which is a send)."""
    if text.startswith("!") and _atomic(text[1:]):
        return text[1:]
    return f"!{text}" if _atomic(text) else f"!({text})"


def _conj(texts) -> str:
    texts = [t for t in texts if t != "true"]
    if not texts:
        return "true"
    return texts[0] if len(texts) == 1 else "(" + " && ".join(texts) + ")"


class _Namer:
    """Promela identifiers: unique, ASCII, clear of keywords and generated names."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def fresh(self, wanted: str, internal: bool = False) -> str:
        base = _ascii(wanted)
        if not internal and (base in _RESERVED or _INTERNAL.fullmatch(base) or base.startswith("_")):
            base = "v_" + base.lstrip("_")
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


