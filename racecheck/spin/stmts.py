"""The statements of a ``do`` block, as Promela lines."""

from __future__ import annotations

import ast
import re

from .expr import _Code
from .values import Lst, Rec, Val, _at, _comment, _describe, _Refuse, _ty


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
            lines.append(f"{macro}({cond}, {self.thread.block.done});" + (f"  {_comment(what)}" if what else ""))
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
            self.thread.block.chooses += 1
            for k, alt in enumerate(alts):
                lines.append(":: " + " ".join(self.assign(target, alt) + [_picked(k)]))
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


def _picked(k: int) -> str:
    """The printf that names a choose()'s pick in a replayed trail."""
    return f'printf("@RC p {k}\\n");'


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


