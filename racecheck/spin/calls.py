"""Calls (``len``, ``sum``, ``min``, ``any``...) and comprehensions,
unrolled over lists of known length: a part of ``expr._Code``."""

from __future__ import annotations

import ast

from .values import _ARITY, MAX_UNROLL, Lst, Val, _conj, _join, _not, _Refuse, _ty


class _Calls:
    """The calls and comprehensions of ``_Code`` (a mixin: it uses the
    expression methods of the class it is mixed into)."""

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

