"""The translation of one piece of scenario code's expressions into
Promela expressions, with the run-time checks they need."""

from __future__ import annotations

import ast
import re

from racecheck.model import runtime

from .calls import _Calls
from .values import (_COPIES, MAX_UNROLL, ExportError, Lst, Rec, Val, _conj, _describe, _join, _not, _Refuse, _ty)


# -- the translation of one piece of code ----------------------------------------

class _Code(_Calls):
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


class _Guard:
    def __init__(self, guards: list, cond: str):
        self.guards, self.cond = guards, cond

    def __enter__(self):
        self.guards.append(self.cond)

    def __exit__(self, *exc):
        self.guards.pop()


