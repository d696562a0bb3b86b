"""The syntax of C litmus tests: the tree ``scenario.litmus`` parses a
test into, and the tokens it reads. No meaning here: ``model.lkmm_litmus``
runs the tree."""

from __future__ import annotations

import re
from dataclasses import dataclass

from racecheck.errors import Pos, ScenarioError


# -- the syntax tree --------------------------------------------------------------

@dataclass(frozen=True)
class Num:
    value: int
    line: int


@dataclass(frozen=True)
class Name:
    name: str
    line: int
    col: int = 1


@dataclass(frozen=True)
class Deref:
    expr: object
    line: int


@dataclass(frozen=True)
class AddrOf:
    name: str
    line: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    line: int
    text: str                     # the call as written, for reports


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object
    line: int


@dataclass(frozen=True)
class Unary:
    op: str                       # '!', '-', '~'
    expr: object
    line: int


@dataclass(frozen=True)
class Decl:
    name: str
    init: object | None
    line: int


@dataclass(frozen=True)
class Assign:
    target: object                # Name (a register) or Deref (a plain store)
    expr: object
    line: int
    text: str


@dataclass(frozen=True)
class ExprStmt:
    expr: object
    line: int


@dataclass(frozen=True)
class If:
    cond: object
    then: tuple
    orelse: tuple
    line: int


@dataclass(frozen=True)
class ThreadDef:
    index: int
    params: tuple                 # names of the pointer parameters
    body: tuple
    line: int


@dataclass(frozen=True)
class Atom:
    """``0:r0=1`` (thread 0's register r0) or ``x=1`` (location x)."""

    thread: int | None
    name: str
    value: object
    line: int

    def __str__(self) -> str:
        who = f"{self.thread}:" if self.thread is not None else ""
        return f"{who}{self.name}={self.value}"


@dataclass(frozen=True)
class Prop:
    """A condition: op is 'and', 'or', 'not', 'atom', 'true' or 'false'."""

    op: str
    args: tuple = ()

    def atoms(self):
        if self.op == "atom":
            yield self.args[0]
        for arg in self.args:
            if isinstance(arg, Prop):
                yield from arg.atoms()


@dataclass(frozen=True)
class LitmusTest:
    name: str
    path: str
    init: dict                    # location -> int, or the name of the location it points to
    init_regs: dict               # (thread, register) -> value
    threads: tuple
    quantifier: str               # 'exists', '~exists' or 'forall'
    condition: Prop
    expected: str | None          # Result: Always / Sometimes / Never
    expected_race: bool | None    # Result: ... DATARACE (None: not said)
    lines: tuple                  # the source lines, for messages
    shown: tuple = ()             # Atoms (value unused) of the 'locations [...]' clause
    filter: Prop | None = None    # 'filter P': only executions satisfying P count


# -- tokens -----------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<num>0[xX][0-9a-fA-F]+|[0-9]+)
  | (?P<id>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>/\\|\\/|==|!=|<=|>=|&&|\|\||->|<<|>>|[{}()\[\];,=*&+\-<>!~:|^%/?])
""", re.VERBOSE)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    line: int
    col: int


class Lexer:
    def __init__(self, path: str, text: str, first_line: int, lines):
        self.path, self.lines = path, lines
        self.toks = list(self._tokens(text, first_line))

    def _tokens(self, text: str, line: int):
        pos, col0 = 0, 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match:
                raise self.error(line, pos - col0 + 1, f"unexpected character {text[pos]!r}")
            kind = match.lastgroup
            if kind == "ws":
                for offset, ch in enumerate(match.group(), pos):
                    if ch == "\n":
                        line, col0 = line + 1, offset + 1
            else:
                yield Tok(kind, match.group(), line, pos - col0 + 1)
            pos = match.end()

    def error(self, line: int, col: int, message: str, hint: str = "") -> ScenarioError:
        return ScenarioError(Pos(self.path, line, col), message, hint, self.source(line))

    def source(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""
