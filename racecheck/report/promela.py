"""Export one variant of a scenario as a Promela model, to cross-check with SPIN.

``to_promela(program)`` writes a model whose runs are racecheck's runs: the
same atomic transitions, the same interleavings, the same violations. SPIN's
verdict on it can then be compared with racecheck's (docs/promela.md gives
the commands). The mapping:

* shared variables are globals; a record becomes one global per field
  (``folio.dirty`` -> ``folio_dirty``), a list an array (a list of records,
  one array per field); strings and ``None`` are ``mtype`` symbols
  (``'swap'`` -> ``s_swap``, ``None`` -> ``nil``), booleans ``bool``,
  integers ``int``. SPIN's ints are 32-bit; racecheck's are unbounded, so a
  model whose values leave the 32-bit range wraps silently in SPIN;
* a thread definition is a ``proctype`` with ``tid`` as its parameter, run
  once per copy by ``init``; its locals are the proctype's locals, params
  are constants;
* a transition is one ``atomic`` block: a scheduling-point instruction and
  the local-only instructions glued to it, control following the flattened
  instructions (``Instr.succ``) with labels and ``goto``::

      L2:  atomic { RC_GO && (await) ->      <- scheduling point (pc 2)
               ...; goto L2_3                   local-only pc 3: same block
           L2_3: ...; goto L5 };                leaves the block: other
      L5:  atomic { ... }                       threads may run before pc 5

* ``choose(a, b)`` is ``if :: x = a :: x = b fi``; ``assert`` is
  ``assert``; a run-time error (index out of range, ``//`` or ``%`` by
  zero, a local-only loop past racecheck's 10,000 steps) is an ``assert``
  placed before the operation, under the conditions that short-circuit
  evaluation would reach it;
* invariants are checked by a monitor process whose ``atomic`` clauses fire
  in any state where one is false; final checks by a monitor that waits for
  the count of finished threads; deadlock is SPIN's "invalid end state"
  (every label where a thread may wait is not an end label, unless
  ``deadlock: allowed``, when they all are).

A step that fails has no successor in racecheck. In the model, a failing
check either stops SPIN with an error (its kind is checked) or, when its
kind is switched off with ``-DCHECK_...=0``, sets ``rc_stopped``, which
blocks every other transition, and parks the thread in a loop (so that the
stop is not a deadlock). Each kind can thus be checked on its own, with the
others silent, exactly as racecheck separates them.

Not exported: livelock (SPIN has no check for "an ending stays reachable";
the model has no progress labels), integer overflow past 32 bits, and
constructs without a faithful translation, which raise ``ExportError``
naming the construct and its position: lists whose length depends on the
data (a comprehension with a data-dependent ``if`` used as a list, ``range``
of a variable), lists nested in lists, values of different shapes in one
variable (a record and an int, a list of two lengths), strings other than as
symbols (ordering, ``in`` on strings, concatenation of variables), and the
truth value of a record.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from racecheck.errors import Pos, ScenarioError
from racecheck.model import runtime
from racecheck.model.program import BRANCH, MAX_LOCAL_STEPS, Program
from racecheck.scenario import schema as S
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
_INTERNAL = re.compile(r"L\d+(_\d+)?|P_\d+|L_end|end_\w*|rc_\w*|RC_\w*|CHECK_\w*|FLOORDIV|PYMOD|nil|s_\w*|v_\w*")


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


def to_promela(program: Program) -> str:
    """The Promela model of ``program`` (one variant of a scenario), as text.

    Raises ``ExportError`` when the scenario uses a construct that has no
    faithful translation.
    """
    return _Exporter(program).run()


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


# -- the translation of one piece of code ----------------------------------------

class _Code:
    """Translates one piece of scenario code (an instruction, an invariant).

    Expressions become Promela expressions; the run-time checks they need
    collect in ``checks`` as ``(kind, condition, what)``, each condition
    already weakened by the short-circuit ``guards`` that lead to it.
    """

    def __init__(self, ex: "_Exporter", env: dict, code, where: str):
        self.ex = ex
        self.env = env              # name -> translated value
        self.code = code            # the lang.Code, for positions
        self.where = where
        self.guards: list = []
        self.lazy: list = []        # guards of a lazy any()/all() after its first item
        self.bound: dict = {}
        self.checks: list = []

    # -- errors and checks --------------------------------------------------
    def error(self, node, message: str) -> ExportError:
        pos = self.code.origin.pos(getattr(node, "lineno", 1), getattr(node, "col_offset", 0)) if self.code else None
        return ExportError(pos, f"cannot export to Promela: {message} ({self.where})",
                           "racecheck checks this scenario; only the SPIN export refuses it")

    def check(self, cond: str, what: str, kind: str = "error") -> None:
        if cond == "true":
            return
        guards = self.guards + self.lazy
        if guards:
            cond = f"({_not(_conj(guards))} || {cond})"
        self.checks.append((kind, cond, what))

    def take_checks(self) -> list:
        checks, self.checks = self.checks, []
        return checks

    def guarded(self, cond: str):
        return _Guard(self.guards, cond)

    # -- expressions ----------------------------------------------------------
    def expr(self, node):
        try:
            return self._expr(node)
        except _Refuse as exc:
            raise self.error(node, str(exc)) from None

    def cond(self, node) -> Val:
        """``node`` as a truth value."""
        rep = self.expr(node)
        try:
            return self.truth(rep)
        except _Refuse as exc:
            raise self.error(node, str(exc)) from None

    def _expr(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise _Refuse(f"{type(node).__name__} expressions are not translated")
        return method(node)

    def _Constant(self, node):
        return self.ex.const(node.value)

    def _Name(self, node):
        name = node.id
        if name in self.bound:
            return self.bound[name]
        if name in self.env:
            return self.env[name]
        raise _Refuse(f"'{name}' is not readable here")

    def _Attribute(self, node):
        base = self.expr(node.value)
        if not isinstance(base, Rec):
            raise _Refuse(f"field '{node.attr}' of {_describe(_ty(base))} (a run-time error in racecheck)")
        for name, rep in base.fields:
            if name == node.attr:
                return rep
        raise _Refuse(f"the record has no field '{node.attr}' (a run-time error in racecheck)")

    def _Subscript(self, node):
        base = self.expr(node.value)
        index = self.expr(node.slice)
        if not isinstance(index, Val):
            raise _Refuse("a list or record used as an index")
        if isinstance(base, Val) and base.is_const and isinstance(base.const, str) and index.is_const:
            return self.fold(lambda: base.const[index.const], "string index out of range")
        if not isinstance(base, Lst) or index.ty == "sym":
            raise _Refuse("indexing other than a list by an integer")
        self.numeric(index)
        return self.index(base, index)

    def index(self, base: Lst, index: Val):
        if base.conds is not None:
            _ty(base)
        n = len(base.items)
        if index.is_const:
            i = int(index.const)
            if -n <= i < n:
                return base.items[i]
            self.check("false", f"index {i} out of range for a list of length {n}")
            if not n:
                raise _Refuse("indexing an empty list")
            return base.items[0]
        if n == 0:
            raise _Refuse("indexing an empty list")
        i = index.text
        if i == "tid":          # 0 <= tid < copies
            if self.env.get(_COPIES, n + 1) > n:
                self.check(f"({i} < {n})", f"index out of range for a list of length {n}")
            return self.pick(base.items, i)
        self.check(f"({i} >= {-n} && {i} < {n})", f"index out of range for a list of length {n}")
        return self.pick(base.items, f"({i} < 0 -> {i} + {n} : {i})")

    def pick(self, items, k: str):
        """The item at Promela index ``k`` (known to be in range)."""
        first = items[0]
        if all(isinstance(it, Val) for it in items):
            ty = self.join_all([it.ty for it in items])
            m = re.fullmatch(r"(\w+)\[0\]", first.text)
            if m and all(it.text == f"{m[1]}[{i}]" for i, it in enumerate(items)):
                return Val(f"{m[1]}[{k}]", ty, lvalue=first.lvalue)
            text = items[-1].text
            for i in range(len(items) - 2, -1, -1):
                text = f"({k} == {i} -> {items[i].text} : {text})"
            return Val(text, ty)
        if all(isinstance(it, Rec) and it.names() == first.names() for it in items):
            return Rec(tuple((f, self.pick([dict(it.fields)[f] for it in items], k)) for f in first.names()))
        if all(isinstance(it, Lst) and it.conds is None and len(it.items) == len(first.items) for it in items):
            return Lst(tuple(self.pick([it.items[j] for it in items], k) for j in range(len(first.items))))
        raise _Refuse("indexing a list whose items have different shapes")

    def join_all(self, types):
        ty = types[0]
        for t in types[1:]:
            ty = _join(ty, t)
            if ty is None:
                raise _Refuse("a value that is a number in one case and a string in another")
        return ty

    def _Tuple(self, node):
        return Lst(tuple(self.expr(e) for e in node.elts))

    _List = _Tuple

    def _BinOp(self, node):
        a, b = self.expr(node.left), self.expr(node.right)
        op = type(node.op)
        if isinstance(a, Lst) or isinstance(b, Lst):
            return self.list_op(op, a, b)
        if not (isinstance(a, Val) and isinstance(b, Val)):
            raise _Refuse("arithmetic on a record (a run-time error in racecheck)")
        if a.is_const and b.is_const:
            return self.fold_binop(op, a.const, b.const)
        self.numeric(a, b)
        if op in (ast.FloorDiv, ast.Mod):
            self.check(f"({b.text} != 0)", "division by zero")
            return Val(f"{'FLOORDIV' if op is ast.FloorDiv else 'PYMOD'}({a.text}, {b.text})", "int")
        sign = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}[op]
        return Val(f"({a.text} {sign} {b.text})", "int")

    def numeric(self, *vals) -> None:
        """Refuse strings as numbers; check that a mixed value holds a number."""
        if any(v.ty == "sym" for v in vals):
            raise _Refuse("strings or None used as numbers (or built at run time)")
        for v in vals:
            if v.ty == "mix" and not v.is_const:
                self.check(f"({v.text} >= RC_NUMBERS)", "a string or None used as a number")

    def list_op(self, op, a, b):
        if op is ast.Add and isinstance(a, Lst) and isinstance(b, Lst):
            _ty(a), _ty(b)
            return Lst(a.items + b.items)
        if op is ast.Mult:
            seq, count = (a, b) if isinstance(a, Lst) else (b, a)
            if isinstance(count, Val) and count.is_const and isinstance(count.const, int):
                _ty(seq)
                if len(seq.items) * max(count.const, 0) > MAX_UNROLL:
                    raise _Refuse(f"a list of more than {MAX_UNROLL} items")
                return Lst(seq.items * max(count.const, 0))
        raise _Refuse("this operation on lists (only + of lists and * by a constant are translated)")

    def fold(self, compute, what: str):
        """A constant result, or an always-failing check when it fails."""
        try:
            value = compute()
        except (ZeroDivisionError, IndexError):
            self.check("false", what)
            return Val("0", "int", 0)
        except Exception as exc:  # a type error of constants: racecheck fails there too
            raise _Refuse(f"an operation on constants that fails ({type(exc).__name__})") from None
        return self.ex.const(value)

    def fold_binop(self, op, x, y):
        fns = {ast.Add: runtime.add, ast.Sub: lambda p, q: p - q, ast.Mult: runtime.mul,
               ast.FloorDiv: lambda p, q: p // q, ast.Mod: runtime.mod}
        return self.fold(lambda: fns[op](x, y), "division by zero")

    def _UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            return self.negate(self.cond(node.operand))
        a = self.expr(node.operand)
        if not isinstance(a, Val):
            raise _Refuse("unary minus or plus on a list or record")
        if a.is_const:
            return self.fold(lambda: -a.const if isinstance(node.op, ast.USub) else +a.const, "")
        self.numeric(a)
        return Val(f"(-{a.text})", "int") if isinstance(node.op, ast.USub) else Val(a.text, "int")

    def truth(self, rep) -> Val:
        if isinstance(rep, Val):
            if rep.is_const:
                return self.ex.const(bool(rep.const))
            if rep.ty == "bool":
                return rep
            if rep.ty == "int":
                return Val(f"({rep.text} != 0)", "bool")
            falsy = [self.ex.symbol(None)] + ([self.ex.symbol("")] if "" in self.ex.strings else [])
            falsy += ["0"] if rep.ty == "mix" else []
            return Val("(" + " && ".join(f"{rep.text} != {s}" for s in falsy) + ")", "bool")
        if isinstance(rep, Lst):
            _ty(rep)
            return self.ex.const(bool(rep.items))
        raise _Refuse("the truth value of a record (a run-time error in racecheck)")

    def negate(self, t: Val) -> Val:
        if t.is_const:
            return self.ex.const(not t.const)
        return Val(_not(t.text), "bool")

    def _BoolOp(self, node):
        is_and = isinstance(node.op, ast.And)
        reps, mark = [], len(self.guards)
        for i, value in enumerate(node.values):
            rep = self.expr(value)
            reps.append(rep)
            if i == len(node.values) - 1:
                break
            go = self.truth_of(value, rep)
            go = go if is_and else self.negate(go)
            if go.is_const and not go.const:
                break                        # the rest is never evaluated
            if not go.is_const:
                self.guards.append(go.text)
        del self.guards[mark:]
        if all(isinstance(r, Val) and r.ty == "bool" and not r.is_const for r in reps):
            return Val("(" + (" && " if is_and else " || ").join(r.text for r in reps) + ")", "bool")
        result = reps[-1]
        for value, rep in zip(reversed(node.values[:len(reps) - 1]), reversed(reps[:-1])):
            t = self.truth_of(value, rep)
            result = self.select(t, result, rep) if is_and else self.select(t, rep, result)
        return result

    def truth_of(self, node, rep) -> Val:
        try:
            return self.truth(rep)
        except _Refuse as exc:
            raise self.error(node, str(exc)) from None

    def select(self, c: Val, a, b):
        """``a if c else b``, for values of the same shape."""
        if c.is_const:
            return a if c.const else b
        if isinstance(a, Val) and isinstance(b, Val):
            ty = _join(a.ty, b.ty)
            if ty is None:
                raise _Refuse("a value that is a number in one case and a string in another")
            return Val(a.text, ty) if a.text == b.text else Val(f"({c.text} -> {a.text} : {b.text})", ty)
        if isinstance(a, Rec) and isinstance(b, Rec) and a.names() == b.names():
            return Rec(tuple((f, self.select(c, x, y)) for (f, x), (_, y) in zip(a.fields, b.fields)))
        if isinstance(a, Lst) and isinstance(b, Lst) and len(a.items) == len(b.items):
            _ty(a), _ty(b)
            return Lst(tuple(self.select(c, x, y) for x, y in zip(a.items, b.items)))
        raise _Refuse("a value whose shape (record, list, scalar) depends on the run")

    def _IfExp(self, node):
        t = self.cond(node.test)
        if t.is_const:
            return self.expr(node.body if t.const else node.orelse)
        with self.guarded(t.text):
            a = self.expr(node.body)
        with self.guarded(self.negate(t).text):
            b = self.expr(node.orelse)
        return self.select(t, a, b)

    def _Compare(self, node):
        left = self.expr(node.left)
        parts, mark = [], len(self.guards)
        for i, (op, right_node) in enumerate(zip(node.ops, node.comparators)):
            right = self.expr(right_node)
            part = self.compare(type(op), left, right)
            parts.append(part)
            if part.is_const and not part.const:
                break
            if not part.is_const:
                self.guards.append(part.text)
            left = right
        del self.guards[mark:]
        if any(p.is_const and not p.const for p in parts):
            return self.ex.const(False)
        return Val(_conj(p.text for p in parts), "bool") if any(not p.is_const for p in parts) \
            else self.ex.const(True)

    def compare(self, op, a, b) -> Val:
        if op in (ast.Eq, ast.Is):
            return self.equal(a, b)
        if op in (ast.NotEq, ast.IsNot):
            eq = self.equal(a, b)
            if re.fullmatch(r"\(([^()]*) == ([^()]*)\)", eq.text):
                return Val(eq.text.replace(" == ", " != "), "bool")
            return self.negate(eq)
        if op in (ast.In, ast.NotIn):
            found = self.contains(b, a)
            return found if op is ast.In else self.negate(found)
        if isinstance(a, Val) and isinstance(b, Val):
            if a.is_const and b.is_const:
                return self.fold(lambda: {ast.Lt: a.const < b.const, ast.LtE: a.const <= b.const,
                                          ast.Gt: a.const > b.const, ast.GtE: a.const >= b.const}[op], "")
            self.numeric(a, b)
            sign = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}[op]
            return Val(f"({a.text} {sign} {b.text})", "bool")
        raise _Refuse("ordering lists or records")

    def equal(self, a, b) -> Val:
        if isinstance(a, Val) and isinstance(b, Val):
            if a.is_const and b.is_const:
                return self.ex.const(a.const == b.const)
            if (a.ty == "sym") != (b.ty == "sym") and "mix" not in (a.ty, b.ty):
                return self.ex.const(False)
            return Val(f"({a.text} == {b.text})", "bool")
        if isinstance(a, Rec) and isinstance(b, Rec):
            if a.names() != b.names():
                return self.ex.const(False)
            return self.all_of([self.equal(x, y) for (_, x), (_, y) in zip(a.fields, b.fields)])
        if isinstance(a, Lst) and isinstance(b, Lst):
            _ty(a), _ty(b)
            if len(a.items) != len(b.items):
                return self.ex.const(False)
            return self.all_of([self.equal(x, y) for x, y in zip(a.items, b.items)])
        return self.ex.const(False)

    def all_of(self, parts) -> Val:
        if any(p.is_const and not p.const for p in parts):
            return self.ex.const(False)
        texts = [p.text for p in parts if not p.is_const]
        return Val(_conj(texts), "bool") if texts else self.ex.const(True)

    def any_of(self, parts) -> Val:
        if any(p.is_const and p.const for p in parts):
            return self.ex.const(True)
        texts = [p.text for p in parts if not p.is_const]
        if not texts:
            return self.ex.const(False)
        return Val(texts[0] if len(texts) == 1 else "(" + " || ".join(texts) + ")", "bool")

    def contains(self, seq, x) -> Val:
        if isinstance(seq, Lst):
            conds = seq.conds or (None,) * len(seq.items)
            return self.any_of([self.both(c, self.equal(x, item)) for c, item in zip(conds, seq.items)])
        if isinstance(seq, Val) and seq.is_const and isinstance(x, Val) and x.is_const:
            return self.fold(lambda: x.const in seq.const, "")
        raise _Refuse("'in' on something other than a list")

    def both(self, cond, val: Val) -> Val:
        if cond is None:
            return val
        return self.all_of([Val(cond, "bool"), val])

    # -- calls and comprehensions -------------------------------------------------
    def _Call(self, node):
        name = node.func.id
        if name in ("any", "all") and len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            return self.lazy_any_all(name, node.args[0])
        args = [self.expr(a) for a in node.args]
        low, high = _ARITY[name]
        if not low <= len(args) <= high:
            raise _Refuse(f"{name}() with {len(args)} arguments (a run-time error in racecheck)")
        return getattr(self, "call_" + name)(args)

    def call_len(self, args):
        (x,) = args
        if isinstance(x, Lst):
            if x.conds is None:
                return self.ex.const(len(x.items))
            return self.sum_of([Val(f"({c} -> 1 : 0)", "int") for c in x.conds], self.ex.const(0))
        if isinstance(x, Val) and x.is_const and isinstance(x.const, str):
            return self.ex.const(len(x.const))
        raise _Refuse("len() of something other than a list or a constant string")

    def call_abs(self, args):
        (x,) = args
        if x.is_const:
            return self.fold(lambda: abs(x.const), "")
        self.numeric(x)
        return Val(f"({x.text} < 0 -> -{x.text} : {x.text})", "int")

    def call_min(self, args, op="<"):
        items = self.plain_items(args[0]) if len(args) == 1 else args
        if not items:
            self.check("false", f"{'min' if op == '<' else 'max'}() of an empty list")
            return self.ex.const(0)
        if not all(isinstance(i, Val) for i in items):
            raise _Refuse("min() or max() of lists or records")
        self.numeric(*items)
        best = items[0]
        for item in items[1:]:
            if best.is_const and item.is_const:
                best = self.ex.const(item.const if (item.const < best.const if op == "<" else item.const > best.const)
                                     else best.const)
            else:
                best = Val(f"({item.text} {op} {best.text} -> {item.text} : {best.text})",
                           _join(best.ty, item.ty) or "int")
        return best

    def call_max(self, args):
        return self.call_min(args, ">")

    def plain_items(self, x):
        if not isinstance(x, Lst):
            raise _Refuse("iterating over something other than a list")
        if x.conds is not None:
            _ty(x)
        return list(x.items)

    def call_sum(self, args):
        x, start = (args[0], self.ex.const(0)) if len(args) == 1 else args
        if not isinstance(x, Lst):
            raise _Refuse("sum() of something other than a list")
        conds = x.conds or (None,) * len(x.items)
        terms = []
        for cond, item in zip(conds, x.items):
            if not isinstance(item, Val):
                raise _Refuse("sum() of lists or records")
            terms.append(item if cond is None else Val(f"({cond} -> {item.text} : 0)", "int"))
        return self.sum_of(terms, start)

    def sum_of(self, terms, start: Val) -> Val:
        self.numeric(start, *terms)
        total = start.const if start.is_const else 0
        texts = [] if start.is_const else [start.text]
        for t in terms:
            if t.is_const:
                total += t.const
            else:
                texts.append(t.text)
        if not texts:
            return self.ex.const(total)
        if total:
            texts.append(self.ex.const(total).text)
        return Val("(" + " + ".join(texts) + ")" if len(texts) > 1 else texts[0], "int")

    def items_conds(self, x):
        if not isinstance(x, Lst):
            raise _Refuse("iterating over something other than a list")
        return x.items, x.conds or (None,) * len(x.items)

    def call_any(self, args):
        items, conds = self.items_conds(args[0])
        return self.any_of([self.both(c, self.truth(i)) for c, i in zip(conds, items)])

    def call_all(self, args):
        items, conds = self.items_conds(args[0])
        parts = []
        for c, i in zip(conds, items):
            t = self.truth(i)
            parts.append(t if c is None else self.any_of([Val(_not(c), "bool"), t]))
        return self.all_of(parts)

    def call_range(self, args):
        if not all(isinstance(a, Val) and a.is_const and isinstance(a.const, int) for a in args):
            raise _Refuse("range() of values known only at run time")
        r = range(*[a.const for a in args])
        if len(r) > MAX_UNROLL:
            raise _Refuse(f"range() of more than {MAX_UNROLL} items")
        return Lst(tuple(self.ex.const(i) for i in r))

    def _ListComp(self, node):
        items, conds = [], []
        mark = len(self.guards)
        self.generate(node, 0, [], lambda elt, cond: (items.append(elt), conds.append(cond)) and None)
        del self.guards[mark:]
        if all(c is None for c in conds):
            return Lst(tuple(items))
        return Lst(tuple(items), tuple(c or "true" for c in conds))

    _GeneratorExp = _ListComp

    def generate(self, node, k: int, conds: list, emit) -> bool:
        """Unroll the generators of a comprehension from the k-th; False stops it."""
        if k == len(node.generators):
            elt = self.expr(node.elt)
            return emit(elt, _conj(conds) if conds else None) is not False
        gen = node.generators[k]
        seq = self.expr(gen.iter)
        if not isinstance(seq, Lst) or seq.conds is not None:
            raise self.error(gen.iter, "a comprehension over something other than a list of known length")
        for item in seq.items:
            saved = dict(self.bound)
            self.bind(gen.target, item)
            ok = self.generate_item(node, k, gen, conds, emit)
            self.bound = saved
            if not ok:
                return False
        return True

    def generate_item(self, node, k, gen, conds, emit) -> bool:
        mark = len(self.guards)
        taken = list(conds)
        for test in gen.ifs:
            t = self.cond(test)
            if t.is_const and not t.const:
                del self.guards[mark:]
                return True
            if not t.is_const:
                self.guards.append(t.text)
                taken.append(t.text)
        ok = self.generate(node, k + 1, taken, emit)
        del self.guards[mark:]
        return ok

    def bind(self, target, item) -> None:
        if isinstance(target, ast.Name):
            self.bound[target.id] = item
            return
        if not isinstance(item, Lst) or item.conds is not None or len(item.items) != len(target.elts):
            raise self.error(target, "unpacking something other than a list of the right length")
        for t, v in zip(target.elts, item.items):
            self.bind(t, v)

    def lazy_any_all(self, name: str, gen):
        """any()/all() of a generator: items after a decisive one are not evaluated."""
        parts = []
        saved_lazy = self.lazy
        self.lazy = list(saved_lazy)
        mark = len(self.guards)

        def emit(elt, cond):
            t = self.truth(elt)
            t = t if name == "any" else self.negate(t)
            decisive = self.both(cond, t)
            parts.append(decisive)
            if decisive.is_const:
                return not decisive.const
            self.lazy.append(_not(decisive.text))
            return True

        self.generate(gen, 0, [], emit)
        del self.guards[mark:]
        self.lazy = saved_lazy
        if name == "any":
            return self.any_of(parts)
        return self.all_of([self.negate(p) for p in parts])


class _Guard:
    def __init__(self, guards: list, cond: str):
        self.guards, self.cond = guards, cond

    def __enter__(self):
        self.guards.append(self.cond)

    def __exit__(self, *exc):
        self.guards.pop()


# -- statements ------------------------------------------------------------------------

class _Stmts(_Code):
    """Translates the statements of a ``do`` block into Promela lines."""

    def __init__(self, ex, env, code, where, thread: "_Thread", jump_ret):
        super().__init__(ex, env, code, where)
        self.thread = thread
        self.jump_ret = jump_ret        # () -> lines that leave by 'return'

    def flush(self) -> list:
        lines = []
        for kind, cond, what in self.take_checks():
            macro = "RC_ASSERT" if kind == "assert" else "RC_ERROR"
            lines.append(f"{macro}({cond});" + (f"  {_comment(what)}" if what else ""))
        if lines:
            self.thread.uses_park = True
        return lines

    def block(self, stmts) -> list:
        """The lines of ``stmts``; ``returned`` tells whether they always return."""
        lines = []
        self.returned = False
        for node in stmts:
            lines += self.stmt(node)
            if isinstance(node, ast.Return):
                self.returned = True
                break
        return lines

    def stmt(self, node) -> list:
        try:
            return getattr(self, "s_" + type(node).__name__)(node)
        except _Refuse as exc:
            raise self.error(node, str(exc)) from None

    def s_Pass(self, node):
        return []

    def s_Return(self, node):
        return self.flush() + self.jump_ret()

    def s_Assert(self, node):
        t = self.cond(node.test)
        if node.msg is not None and not isinstance(node.msg, ast.Constant) and not (t.is_const and t.const):
            with self.guarded(self.negate(t).text):
                self.expr(node.msg)             # its failure is an error, not the assert
        what = ast.unparse(node.msg) if node.msg is not None else ast.unparse(node.test)
        if not (t.is_const and t.const):
            self.check(t.text, what, "assert")
        return self.flush()

    def s_If(self, node):
        t = self.cond(node.test)
        lines = self.flush()
        if t.is_const:
            lines += self.block(node.body if t.const else node.orelse)
            self.returned = False
            return lines
        body = self.block(node.body) or ["skip"]
        orelse = self.block(node.orelse) or ["skip"]
        self.returned = False
        return lines + ["if", f":: {t.text} ->"] + _indent(body) + [":: else ->"] + _indent(orelse) + ["fi;"]

    def s_Assign(self, node):
        value = node.value
        target = self.expr(node.targets[0])
        if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "choose":
            alts = [self.expr(a) for a in value.args]
            for alt, a in zip(alts, value.args):
                self.widen(node.targets[0], alt, a)
            lines = self.flush() + ["if"]
            for alt in alts:
                lines.append(":: " + " ".join(self.assign(target, alt)))
            return lines + ["fi;"]
        rep = self.expr(value)
        self.widen(node.targets[0], rep, value)
        return self.flush() + self.assign(target, rep)

    def s_AugAssign(self, node):
        target = self.expr(node.target)
        rhs = self.expr(node.value)
        if not isinstance(target, Val) or not isinstance(rhs, Val):
            raise _Refuse("augmented assignment to a list or record")
        op = type(node.op)
        if op in (ast.Add, ast.Sub):
            new = self.binop_vals(op, target, rhs)
        else:
            self.numeric(target, rhs)
            ty = "bool" if target.ty == rhs.ty == "bool" else "int"
            new = Val(f"({target.text} {'|' if op is ast.BitOr else '&'} {rhs.text})", ty)
        self.widen(node.target, new, node.value)
        return self.flush() + self.assign(target, new)

    def binop_vals(self, op, a: Val, b: Val) -> Val:
        self.numeric(a, b)
        return Val(f"({a.text} {'+' if op is ast.Add else '-'} {b.text})", "int")

    def widen(self, target, rep, node) -> None:
        try:
            ty = _ty(rep)
        except _Refuse as exc:
            raise self.error(node, str(exc)) from None
        path = []
        while not isinstance(target, ast.Name):
            path.append(("f", target.attr) if isinstance(target, ast.Attribute) else ("i",))
            target = target.value
        path.reverse()
        if not self.ex.widen(self.thread.type_key(target.id), tuple(path), ty):
            old = _at(self.ex.types[self.thread.type_key(target.id)], tuple(path))
            raise self.error(node, f"'{ast.unparse(target)}' holds {_describe(old)} and is assigned "
                                   f"{_describe(ty)} (one variable, one type)")

    def assign(self, target, value) -> list:
        pairs = list(_leaves(target, value))
        if any(not t.lvalue for t, _ in pairs):
            raise _Refuse("assignment to something that is not a variable")
        for k, (_, value) in enumerate(pairs):
            if any(_reads(value.text, t.text) for t, _ in pairs[:k]):
                raise _Refuse("a record or list assigned a value that reads it (the copy would need "
                              "temporaries)")
        return [f"{t.text} = {v.text};" for t, v in pairs]


def _reads(text: str, target: str) -> bool:
    """May the expression ``text`` read the variable or element ``target``?"""
    base, _, index = target.partition("[")
    for m in re.finditer(r"\b" + re.escape(base) + r"\b", text):
        rest = text[m.end():]
        if not index or not rest.startswith("["):
            return True
        read = rest[1:rest.index("]")] if "]" in rest else ""
        if not (read.isdigit() and index[:-1].isdigit()) or read == index[:-1]:
            return True
    return False


def _leaves(target, value):
    if isinstance(target, Val) and isinstance(value, Val):
        yield target, value
    elif isinstance(target, Rec) and isinstance(value, Rec) and target.names() == value.names():
        for (_, t), (_, v) in zip(target.fields, value.fields):
            yield from _leaves(t, v)
    elif isinstance(target, Lst) and isinstance(value, Lst) and len(target.items) == len(value.items):
        for t, v in zip(target.items, value.items):
            yield from _leaves(t, v)
    else:
        raise _Refuse("a value of another shape than the variable's")


def _indent(lines, n: int = 1) -> list:
    return ["\t" * n + line for line in lines]


# -- one thread definition: a proctype ---------------------------------------------------

class _Block:
    """One atomic block: the instruction at ``start`` and the local-only ones glued to it."""

    def __init__(self, start, prefix: str):
        self.start = start
        self.prefix = prefix
        self.placed = {}
        self.todo = []

    def label(self, pc: int) -> str:
        return f"{self.prefix}_{pc}"

    def want(self, pc: int) -> None:
        if pc not in self.placed:
            self.placed[pc] = True
            self.todo.append(pc)


class _Thread:
    def __init__(self, ex: "_Exporter", tdef: S.ThreadDef, thread, name: str):
        self.ex, self.tdef, self.thread = ex, tdef, thread
        self.instrs, self.end = thread.instrs, thread.end
        self.name = name
        self.namer = _Namer(ex.namer.taken)
        self.counts_steps = _has_local_cycle(self.instrs)
        self.uses_park = self.counts_steps
        self.requested, self.order = set(), []
        self.local_inits, self.decls = [], []
        self.env = dict(ex.shared_env)
        self.env["tid"] = Val("tid", "int")
        self.env[_COPIES] = tdef.copies
        for lname, value in tdef.locals:
            try:
                rep, decls = ex.layout(lname, ex.types[self.type_key(lname)], value, self.namer)
            except _Refuse as exc:
                raise ExportError(tdef.pos, f"cannot export to Promela: local '{lname}' of thread "
                                            f"{tdef.name}: {exc}") from None
            self.env[lname] = rep
            self.decls += decls

    def type_key(self, name: str):
        if name in dict(self.tdef.locals):
            return ("L", self.tdef.name, name)
        return ("S", name)

    def label(self, pc: int) -> str:
        return f"{'end_' if self.ex.program.deadlock_allowed else ''}L{pc}"

    def where(self, instr) -> str:
        return f"step '{instr.text}' of thread {self.tdef.name}, {instr.pos}"

    # -- jumps ---------------------------------------------------------------------
    def jump(self, pc: int, block: _Block) -> list:
        if pc != self.end and not self.instrs[pc].shared:
            block.want(pc)
            return [f"goto {block.label(pc)};"]
        lines = ["rc_steps = 0;"] if self.counts_steps else []
        if pc == self.end:
            return lines + ["rc_finished++;", "goto L_end;"]
        if pc not in self.requested:
            self.requested.add(pc)
            self.order.append(pc)
        return lines + [f"goto {self.label(pc)};"]

    # -- the proctype ----------------------------------------------------------------
    def emit(self) -> list:
        prefix = self.prefix()
        blocks = []
        done = 0
        while done < len(self.order):
            blocks += self.shared_block(self.order[done])
            done += 1
        lines = [f"proctype {self.name}(byte tid) {{"]
        lines += _indent([_decl_line(d) for d in self.decls])
        if self.counts_steps:
            lines += _indent(["int rc_steps = 0;"])
        lines += _indent(prefix + blocks)
        if self.uses_park:
            lines += _indent(["rc_park: do :: rc_stopped -> skip od;"])
        lines += _indent(["L_end: skip"]) + ["}"]
        return lines

    def prefix(self) -> list:
        """The local-only steps at the start: part of racecheck's initial state."""
        entry = self.thread.entry
        block = _Block(entry, "P")
        body = self.jump(entry, block)
        body += self.closure(block)
        self.prefix_fails = any(line.startswith(("RC_ERROR", "RC_ASSERT")) for line in _flat(body))
        inits = [f"{d.name}[{i}] = {v};" for d in self.decls if d.size and not d.uniform for i, v in enumerate(d.values)]
        if self.prefix_fails:
            inits = [f"(!rc_stopped && rc_ready == {self.ex.ready_index(self)} + tid) -> rc_ready++;"] + inits
        if not inits and entry != self.end and self.instrs[entry].shared:
            return []
        return [_comment("local-only steps at the thread's start (racecheck's initial state)"),
                "atomic {"] + _indent(inits + body) + ["};"]

    def closure(self, block: _Block) -> list:
        lines = []
        while block.todo:
            pc = block.todo.pop(0)
            body = self.instr_lines(pc, block)
            lines += [f"{block.label(pc)}:\t{_comment(self.instrs[pc].text)}"] + body
        return lines

    def shared_block(self, pc: int) -> list:
        instr = self.instrs[pc]
        block = _Block(pc, f"L{pc}")
        block.placed[pc] = True
        guard, errors = "RC_GO", []
        if instr.has_await:
            code = _Code(self.ex, self.env, instr.node.await_, self.where(instr))
            g = code.cond(instr.node.await_.tree.body)
            errors = [cond for _, cond, _ in code.take_checks()]
            guard = _conj(["RC_GO"] + errors + [g.text])
            if g.is_const and not g.const:
                guard = "false"
        body = self.instr_lines(pc, block) + self.closure(block)
        head = [f"{self.label(pc)}:\t{_comment(instr.text)}"]
        if not errors:
            return head + [f"atomic {{ {guard} ->"] + _indent(body) + ["};"]
        self.uses_park = True
        ok = _conj(errors)
        return head + ["if", f":: atomic {{ {guard} ->"] + _indent(body, 2) + ["\t}",
                       f":: atomic {{ RC_GO && {_not(ok)} -> RC_AWAIT_ERROR({ok}, {self.label(pc)}) }}", "fi;"]

    def instr_lines(self, pc: int, block: _Block) -> list:
        instr = self.instrs[pc]
        lines = []
        if self.counts_steps and not instr.shared:
            lines += ["rc_steps++;", f"RC_ERROR(rc_steps <= {MAX_LOCAL_STEPS});  "
                      + _comment("a loop of local-only steps that never ends")]
        if instr.kind == BRANCH:
            return lines + self.branch_lines(instr, block)
        return lines + self.action_lines(instr, block)

    def branch_lines(self, instr, block) -> list:
        code = _Stmts(self.ex, self.env, instr.node.cond, self.where(instr), self, None)
        t = code.cond(instr.node.cond.tree.body)
        lines = code.flush()
        then, orelse = instr.succ
        if t.is_const or then == orelse:
            return lines + self.jump(then if (t.const if t.is_const else True) else orelse, block)
        return lines + ["if", f":: {t.text} ->"] + _indent(self.jump(then, block)) + \
            [":: else ->"] + _indent(self.jump(orelse, block)) + ["fi;"]

    def action_lines(self, instr, block) -> list:
        code = instr.node.do
        if code is None:
            return self.jump(instr.succ[0], block)
        ret = instr.succ[1] if code.has_return else None
        stmts = _Stmts(self.ex, self.env, code, self.where(instr), self, lambda: self.jump(ret, block))
        lines = stmts.block(code.tree.body)
        return lines if stmts.returned else lines + self.jump(instr.succ[0], block)


def _flat(lines):
    return [line.strip() for line in lines]


def _has_local_cycle(instrs) -> bool:
    """Can a transition loop over local-only instructions (racecheck's 10,000-step error)?"""
    local = {i.pc for i in instrs if not i.shared}
    state = {}

    def visit(pc) -> bool:
        state[pc] = 1
        for nxt in instrs[pc].succ:
            if nxt in local and (state.get(nxt) == 1 or (nxt not in state and visit(nxt))):
                return True
        state[pc] = 2
        return False

    return any(pc not in state and visit(pc) for pc in sorted(local))


@dataclass
class _Decl:
    ptype: str
    name: str
    size: int | None
    values: list
    comment: str = ""

    @property
    def uniform(self) -> bool:
        return len(set(self.values)) <= 1


def _decl_line(d: _Decl) -> str:
    init = f" = {d.values[0]}" if d.values and (d.size is None or d.uniform) else ""
    size = f"[{d.size}]" if d.size is not None else ""
    return f"{d.ptype} {d.name}{size}{init};" + (f"\t{d.comment}" if d.comment else "")


# -- the whole model ------------------------------------------------------------------------

class _Exporter:
    def __init__(self, program: Program):
        self.program = program
        self.scenario = program.scenario
        self.types = {}
        self.strings = set()
        self.changed = False
        self._initial_types()

    def run(self) -> str:
        for _ in range(20):
            self.changed = False
            text = self.emit()
            if not self.changed:
                return text
        raise ExportError(None, "cannot export to Promela: the variables' types do not settle")

    # -- types -------------------------------------------------------------------------
    def _initial_types(self) -> None:
        for name, value in self.scenario.state:
            self.types[("S", name)] = self.value_type(value, f"state variable '{name}'")
        for tdef in self.scenario.threads:
            for name, value in tdef.locals:
                self.types[("L", tdef.name, name)] = self.value_type(
                    value, f"local '{name}' of thread {tdef.name}", tdef.pos)
        for value in [v for _, v in self.program.params.items()] + [v for _, v in self.scenario.state]:
            self.collect_strings(value)
        for tdef in self.scenario.threads:
            for _, value in tdef.locals:
                self.collect_strings(value)
        for node in _all_code(self.scenario):
            messages = {id(n.msg) for n in ast.walk(node.tree) if isinstance(n, ast.Assert) and n.msg}
            for sub in ast.walk(node.tree):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and id(sub) not in messages:
                    self.strings.add(sub.value)

    def value_type(self, value, what: str, pos: Pos | None = None):
        try:
            return _type_of(value)
        except _Refuse as exc:
            raise ExportError(pos or Pos(self.scenario.path, 1, 1),
                              f"cannot export to Promela: {what}: {exc}") from None

    def collect_strings(self, value) -> None:
        if value is None or isinstance(value, str):
            self.strings.add(value)
        elif isinstance(value, tuple):
            for v in value[1:] if type(value) is Record else value:
                self.collect_strings(v)

    def widen(self, key, path: tuple, ty) -> bool:
        """Let the variable at ``key`` hold ``ty`` at ``path``; False if it cannot."""
        old = _at(self.types[key], path)
        if old is None:
            return False
        new = _join(old, ty)
        if new is None:
            return False
        if new != old:
            self.types[key] = _replace(self.types[key], path, new)
            self.changed = True
        return True

    # -- values --------------------------------------------------------------------------
    def symbol(self, value) -> str:
        if value not in self.symbols:
            wanted = "nil" if value is None else "s_" + (re.sub(r"\W", "_", value, flags=re.ASCII)[:40] or "empty")
            self.symbols[value] = self.namer.fresh(wanted, internal=True)
            if value not in self.strings:     # a string built by folding: declare it up front next pass
                self.strings.add(value)
                self.changed = True
        return self.symbols[value]

    def const(self, value):
        if value is None or isinstance(value, str):
            return Val(self.symbol(value), "sym", value)
        if isinstance(value, bool):
            return Val("true" if value else "false", "bool", value)
        if isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                raise _Refuse(f"the integer {value} does not fit SPIN's 32-bit int")
            return Val(str(value) if value >= 0 else f"({value})", "int", value)
        if type(value) is Record:
            return Rec(tuple((f, self.const(v)) for f, v in value.items()))
        return Lst(tuple(self.const(v) for v in value))

    def literal(self, value, ty) -> str:
        if ty in ("int", "mix") and isinstance(value, bool):
            return "1" if value else "0"
        return self.const(value).text

    def layout(self, base: str, ty, value, namer: _Namer, size=None):
        """Declarations for a variable of type ``ty`` and its translated value.

        Inside a list (``size``), ``value`` holds one value per item.
        """
        if ty in SCALARS:
            name = namer.fresh(base)
            values = [self.literal(v, ty) for v in (value if size is not None else [value])]
            text = name if size is None else name + "[\0]"
            ptype = {"bool": "bool", "sym": "int" if self.int_symbols else "mtype"}.get(ty, "int")
            return Val(text, ty, lvalue=True), [_Decl(ptype, name, size, values)]
        if ty[0] == "rec":
            fields, decls = [], []
            for i, (f, fty) in enumerate(ty[1]):
                fv = [v[i + 1] for v in value] if size is not None else value[i + 1]
                rep, d = self.layout(f"{base}_{f}", fty, fv, namer, size)
                fields.append((f, rep))
                decls += d
            return Rec(tuple(fields)), decls
        if size is not None:
            raise _Refuse(f"'{base}' nests a list in a list")
        _, elem, n = ty
        if n == 0:
            return Lst(()), []
        rep, decls = self.layout(base, elem, list(value), namer, n)
        return Lst(tuple(_at_index(rep, i) for i in range(n))), decls

    # -- the model ------------------------------------------------------------------------
    def emit(self) -> str:
        self.namer = _Namer()
        self.symbols = {}
        self.int_symbols = any(_has_mix(ty) for ty in self.types.values())
        for s in sorted(self.strings, key=lambda s: (s is not None, s or "")):
            self.symbol(s)
        self.shared_env, shared_decls = self.shared_layout()
        self.ready = []
        threads = self.threads()
        body = []
        for thread in threads:
            body += thread.emit() + [""]
        monitors = self.invariant_monitor() + self.final_monitor()
        return "\n".join(self.header() + self.declarations(shared_decls) + body + monitors
                         + self.init(threads, shared_decls)) + "\n"

    def shared_layout(self):
        env = {name: self.const_param(name, value) for name, value in self.program.params.items()}
        decls = []
        for name, value in self.scenario.state:
            try:
                rep, d = self.layout(name, self.types[("S", name)], value, self.namer)
            except _Refuse as exc:
                raise ExportError(Pos(self.scenario.path, 1, 1),
                                  f"cannot export to Promela: state variable '{name}': {exc}") from None
            env[name] = rep
            decls += d
        return env, decls

    def const_param(self, name, value):
        try:
            return self.const(value)
        except _Refuse as exc:
            raise ExportError(self.program.variant.pos, f"cannot export to Promela: param '{name}': {exc}") from None

    def threads(self) -> list:
        names = {t.name: self.namer.fresh(t.name) for t in self.scenario.threads}
        first = {t.base: t for t in reversed(self.program.threads)}
        return [_Thread(self, tdef, first[tdef.name], names[tdef.name]) for tdef in self.scenario.threads]

    def ready_index(self, thread: _Thread) -> str:
        """Where this thread's failing prefix runs in the order of racecheck's initial state."""
        self.ready.append(thread)
        return f"RC_READY_{len(self.ready) - 1}"

    def header(self) -> list:
        program, scenario = self.program, self.scenario
        variant = f", variant {program.variant.name}" if program.variant.name else ""
        kinds = ["ASSERT", "ERROR"] + [f"INVARIANT_{_ascii(p.name)}" for p, _ in program.invariants] + \
            [f"FINAL_{_ascii(p.name)}" for p, _ in program.finals]
        lines = [
            _comment(scenario.title),
            _comment(f"racecheck scenario {scenario.path}{variant}, exported to Promela"),
            "/*",
            " * Check:  spin -a model.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m1000000",
            " * Every failing assert, run-time error, invariant and final check is an",
            " * assertion violation; a deadlock is an invalid end state" +
            (" (none here: deadlock: allowed)." if program.deadlock_allowed else "."),
            " * One kind alone: spin -DCHECK_ALL=0 -DCHECK_<KIND>=1 -a model.pml (and pan -E",
            " * unless checking deadlock). Livelock is not exported.",
            " * SPIN's int is 32-bit; racecheck's integers are unbounded (overflow is not checked).",
            " */",
            "#ifndef CHECK_ALL",
            "#define CHECK_ALL 1",
            "#endif",
        ]
        for kind in kinds:
            lines += [f"#ifndef CHECK_{kind}", f"#define CHECK_{kind} CHECK_ALL", "#endif"]
        for kind in ("ASSERT", "ERROR"):
            lines += [f"#if CHECK_{kind}",
                      f"#define RC_{kind}(c) if :: (c) -> skip :: else -> assert(c); rc_stopped = true; "
                      "goto rc_park fi",
                      "#else",
                      f"#define RC_{kind}(c) if :: (c) -> skip :: else -> rc_stopped = true; goto rc_park fi",
                      "#endif"]
        lines += ["#if CHECK_ERROR", "#define RC_AWAIT_ERROR(c, l) assert(c); goto l", "#else",
                  "#define RC_AWAIT_ERROR(c, l) goto l", "#endif"]
        for i, thread in enumerate(self.ready):
            lines.append(f"#define RC_READY_{i} {self.ready_offset(i)}")
        go = "(!rc_stopped && rc_ready == %d)" % self.ready_count() if self.ready else "(!rc_stopped)"
        lines += [f"#define RC_GO {go}",
                  "/* Python's // and % (floor division; C's / and % truncate toward zero) */",
                  "#define FLOORDIV(a, b) ((a) / (b) - ((((a) % (b) != 0) && (((a) < 0) != ((b) < 0))) -> 1 : 0))",
                  "#define PYMOD(a, b) ((((a) % (b) != 0) && (((a) < 0) != ((b) < 0))) -> (a) % (b) + (b) : (a) % (b))",
                  ""]
        return lines

    def ready_offset(self, i: int) -> int:
        return sum(self.copies(t) for t in self.ready[:i])

    def ready_count(self) -> int:
        return sum(self.copies(t) for t in self.ready)

    def copies(self, thread: _Thread) -> int:
        return thread.tdef.copies

    def declarations(self, shared_decls) -> list:
        lines = []
        if self.int_symbols:
            lines.append(_comment("strings and None: some variable also holds numbers, so they are "
                                  "the most negative ints"))
            for k, name in enumerate(self.symbols.values()):
                lines.append(f"#define {name} ({INT_MIN + 1 + k})")
            lines.append(f"#define RC_NUMBERS ({INT_MIN + 1 + len(self.symbols)})")
        elif self.symbols:
            lines.append("mtype = { " + ", ".join(self.symbols.values()) + " };")
        lines.append(_comment("shared state"))
        lines += [_decl_line(d) for d in shared_decls]
        lines += ["bool rc_stopped = false;\t" + _comment("a step failed whose kind is not checked"),
                  "byte rc_finished = 0;\t" + _comment("threads that have finished"),
                  "byte rc_ready = 0;\t" + _comment("threads whose failing start-up steps have run"), ""]
        return lines

    def init(self, threads, shared_decls) -> list:
        lines = [f"{d.name}[{i}] = {v};" for d in shared_decls if d.size and not d.uniform
                 for i, v in enumerate(d.values)]
        for thread in threads:
            lines += [f"run {thread.name}({copy});" for copy in range(thread.tdef.copies)]
        if self.program.invariants:
            lines.append("run rc_invariants();")
        if self.program.finals:
            lines.append("run rc_finals();")
        return ["init {", "\tatomic {"] + _indent(lines, 2) + ["\t}", "}"]

    # -- monitors -------------------------------------------------------------------------
    def properties(self, props) -> list:
        """Per property: (name, value text, [conditions under which it evaluates without error])."""
        env = {k: v for k, v in self.shared_env.items()}
        result = []
        for prop, _ in props:
            code = _Code(self, env, prop.code, f"{prop.kind} '{prop.name}'")
            t = code.cond(prop.code.tree.body)
            result.append((prop.name, t.text, [c for _, c, _ in code.take_checks()]))
        return result

    def invariant_monitor(self) -> list:
        if not self.program.invariants:
            return []
        clauses = self.clauses(self.properties(self.program.invariants), "INVARIANT", ["RC_GO"])
        return ["proctype rc_invariants() {", "end_invariants:", "\tdo", "\t:: false -> skip"] + clauses + \
            ["\tod", "}", ""]

    def final_monitor(self) -> list:
        if not self.program.finals:
            return []
        n = len(self.program.threads)
        clauses = self.clauses(self.properties(self.program.finals), "FINAL", ["RC_GO", f"rc_finished == {n}"])
        return ["proctype rc_finals() {", "end_finals:", "\tdo", "\t:: false -> skip"] + clauses + \
            ["\tod", "}", ""]

    def clauses(self, props, kind: str, context: list) -> list:
        """One clause per violation: a property false, or failing to evaluate.

        As in racecheck, each property is judged on its own: one that cannot
        be evaluated hides no other.
        """
        lines = []
        for name, text, checks in props:
            ok = _conj(checks)
            lines += [f"#if CHECK_{kind}_{_ascii(name)}",
                      f"\t:: atomic {{ {_conj(context + checks)} && {_not(text)} -> assert({text}) }}",
                      "#endif"]
            if checks:
                lines += ["#if CHECK_ERROR", f"\t:: atomic {{ {_conj(context)} && {_not(ok)} -> assert({ok}) }}",
                          "#endif"]
        return lines


def _has_mix(ty) -> bool:
    if ty == "mix":
        return True
    if isinstance(ty, tuple):
        return any(_has_mix(t) for _, t in ty[1]) if ty[0] == "rec" else _has_mix(ty[1])
    return False


def _at_index(rep, i: int):
    if isinstance(rep, Val):
        return Val(rep.text.replace("\0", str(i)), rep.ty, rep.const, rep.lvalue)
    return Rec(tuple((f, _at_index(r, i)) for f, r in rep.fields))


def _all_code(scenario: S.Scenario):
    """Every piece of code in the scenario."""
    for prop in scenario.invariants + scenario.finals:
        yield prop.code

    def walk(steps):
        for node in steps:
            for attr in ("do", "await_", "cond"):
                code = getattr(node, attr, None)
                if code is not None:
                    yield code
            for attr in ("then", "orelse", "body"):
                yield from walk(getattr(node, attr, ()) or ())

    for tdef in scenario.threads:
        yield from walk(tdef.steps)
