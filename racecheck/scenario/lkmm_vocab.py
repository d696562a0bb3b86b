"""The kernel's memory-ordering vocabulary in scenario code, and what it
means under ``memory: sc``.

Step code may call the primitives of ``PRIMITIVES`` (READ_ONCE,
smp_store_release, smp_mb, xchg, atomic_inc, spin_lock, ...). The first
(or, for ``atomic_add(v, x)`` and friends, the second) argument names a
shared variable, the location. Where a call may stand:

* a read (``READ_ONCE(x)``, ``smp_load_acquire(x)``, ``atomic_read(x)``)
  anywhere an expression may;
* a value-returning atomic (``xchg``, ``cmpxchg``, ``atomic_inc_return``,
  ...) as a statement or as the whole right side of ``t = ...``, where
  ``t`` may not appear among its arguments;
* a write, a fence, an atomic without a result, ``spin_lock`` and
  ``spin_unlock`` as statements; ``spin_lock`` only as the first
  statement of a step's ``do`` (it waits for the lock).

Under ``memory: sc`` every step is atomic and sees the latest writes, so
``lower`` rewrites the calls into the plain language before anything
compiles (``model.compile`` never sees them): a read is the variable, a
write an assignment, a fence ``pass``, an atomic the assignments it makes
(``t = xchg(x, v)`` is ``t = x; x = v``), ``spin_lock(l)`` an ``await``
of ``not l`` and ``l = True`` (or 1, as ``l`` is declared),
``spin_unlock(l)`` ``l = False`` (or 0). Under ``memory: lkmm``
``model.lkmm_scenario`` gives each call its LKMM events.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Primitive:
    """``kind``: read, write, fence, rmw (returns a value), update (an
    atomic without result), lock, unlock. ``loc``: the argument naming the
    location (None for fences); ``arity``: number of arguments."""

    kind: str
    arity: int
    loc: int | None = 0
    tags: str = "once"           # read/write: the access's annotation
    op: str = ""                 # rmw/update: xchg, cmpxchg, add, sub
    order: str = ""              # rmw: "" (fully ordered), _relaxed, _acquire, _release
    returns: str = ""            # rmw: old, new, test (new == 0)
    fence: str = ""              # fence: the LKMM fence tag


def _table() -> dict:
    t = {"READ_ONCE": Primitive("read", 1), "smp_load_acquire": Primitive("read", 1, tags="acquire"),
         "atomic_read": Primitive("read", 1), "atomic_read_acquire": Primitive("read", 1, tags="acquire"),
         "rcu_dereference": Primitive("read", 1),
         "WRITE_ONCE": Primitive("write", 2), "smp_store_release": Primitive("write", 2, tags="release"),
         "atomic_set": Primitive("write", 2), "atomic_set_release": Primitive("write", 2, tags="release"),
         "rcu_assign_pointer": Primitive("write", 2, tags="release"),
         "smp_store_mb": Primitive("write", 2, tags="once+mb"),
         "spin_lock": Primitive("lock", 1), "spin_unlock": Primitive("unlock", 1),
         "atomic_inc": Primitive("update", 1, op="add"), "atomic_dec": Primitive("update", 1, op="sub"),
         "atomic_add": Primitive("update", 2, loc=1, op="add"),
         "atomic_sub": Primitive("update", 2, loc=1, op="sub")}
    fences = {"smp_mb": "mb", "smp_rmb": "rmb", "smp_wmb": "wmb", "barrier": "barrier",
              "smp_mb__before_atomic": "before-atomic", "smp_mb__after_atomic": "after-atomic",
              "smp_mb__after_spinlock": "after-spinlock", "smp_mb__after_unlock_lock": "after-unlock-lock",
              "rcu_read_lock": "rcu-lock", "rcu_read_unlock": "rcu-unlock", "synchronize_rcu": "sync-rcu"}
    for name, tag in fences.items():
        t[name] = Primitive("fence", 0, loc=None, fence=tag)
    for order in ("", "_relaxed", "_acquire", "_release"):
        t["xchg" + order] = t["atomic_xchg" + order] = Primitive("rmw", 2, op="xchg", order=order, returns="old")
        t["cmpxchg" + order] = t["atomic_cmpxchg" + order] = Primitive("rmw", 3, op="cmpxchg", order=order,
                                                                       returns="old")
        for op in ("inc", "dec", "add", "sub"):
            arith = "add" if op in ("inc", "add") else "sub"
            arity, loc = (1, 0) if op in ("inc", "dec") else (2, 1)
            t[f"atomic_{op}_return{order}"] = Primitive("rmw", arity, loc=loc, op=arith, order=order,
                                                       returns="new")
            t[f"atomic_fetch_{op}{order}"] = Primitive("rmw", arity, loc=loc, op=arith, order=order,
                                                      returns="old")
    t["atomic_inc_and_test"] = Primitive("rmw", 1, op="add", returns="test")
    t["atomic_dec_and_test"] = Primitive("rmw", 1, op="sub", returns="test")
    t["atomic_sub_and_test"] = Primitive("rmw", 2, loc=1, op="sub", returns="test")
    return t


PRIMITIVES = _table()
STATEMENT_ONLY = ("write", "fence", "update", "lock", "unlock")


def primitive_of(node) -> tuple:
    """(name, Primitive) when ``node`` is a call of a kernel primitive."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PRIMITIVES:
        return node.func.id, PRIMITIVES[node.func.id]
    return None, None


def location(node: ast.Call) -> str | None:
    """The location a primitive call names: a shared variable, or a
    field or element of one (``page.flags``, ``slots[1]``); None for a
    fence."""
    prim = PRIMITIVES[node.func.id]
    return None if prim.loc is None else path_of(node.args[prim.loc])


def path_of(node) -> str | None:
    """``page.flags``, ``slots[1].count``: the text of a name followed by
    fields and constant integer indices; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = path_of(node.value)
        return None if base is None else f"{base}.{node.attr}"
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and type(node.slice.value) is int and node.slice.value >= 0:
        base = path_of(node.value)
        return None if base is None else f"{base}[{node.slice.value}]"
    return None


def root_of(node):
    """The Name a chain of fields and indices starts from (or None)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def operand(node: ast.Call, prim: Primitive):
    """The value argument of an rmw or update (None: inc and dec)."""
    if prim.op == "xchg":
        return node.args[1]
    if prim.op == "cmpxchg":
        return node.args[2]
    return node.args[0] if prim.arity == 2 else None


def lock_names(trees) -> set:
    """The variables used as spinlocks in ``trees``."""
    return {location(n) for tree in trees for n in ast.walk(tree)
            if primitive_of(n)[1] is not None and primitive_of(n)[1].kind in ("lock", "unlock")}


# -- memory: sc ---------------------------------------------------------------

def lower_tree(tree, lock_values: dict):
    """``tree`` (a checked ``ast.Module`` or ``ast.Expression``) with every
    primitive call rewritten into the plain language; ``spin_lock`` must
    already be gone (``lower_lock``). ``lock_values``: lock -> (held,
    free) values."""
    tree = _Lower(lock_values).visit(copy.deepcopy(tree))
    return ast.fix_missing_locations(tree)


class _Lower(ast.NodeTransformer):
    def __init__(self, lock_values: dict):
        self.lock_values = lock_values

    def visit_Call(self, node):
        self.generic_visit(node)
        name, prim = primitive_of(node)
        if prim is None:
            return node
        assert prim.kind == "read", name              # the checker placed the others
        return ast.copy_location(_with_ctx(node.args[prim.loc], ast.Load()), node)

    def visit_Expr(self, node):
        name, prim = primitive_of(node.value)
        if prim is None:
            return self.generic_visit(node)
        self.generic_visit(node.value)
        return [ast.copy_location(s, node) for s in self._statement(node.value, prim, None)]

    def visit_Assign(self, node):
        name, prim = primitive_of(node.value)
        if prim is None or prim.kind == "read":
            return self.generic_visit(node)
        for arg in node.value.args:
            self.visit(arg)
        out = self._statement(node.value, prim, node.targets[0])
        return [ast.copy_location(s, node) for s in out]

    def _statement(self, call: ast.Call, prim: Primitive, target) -> list:
        loc = location(call)
        x = lambda ctx=ast.Load(): _with_ctx(call.args[prim.loc], ctx)  # noqa: E731
        if prim.kind in ("fence", "read"):                     # a read whose value is dropped
            return [ast.Pass()]
        if prim.kind == "write":
            return [ast.Assign([x(ast.Store())], call.args[1])]
        if prim.kind in ("lock", "unlock"):
            held, free = self.lock_values.get(loc, (1, 0))
            return [ast.Assign([x(ast.Store())], ast.Constant(held if prim.kind == "lock" else free))]
        value = operand(call, prim) or ast.Constant(1)
        if prim.op == "xchg":
            change = [ast.Assign([x(ast.Store())], value)]
        elif prim.op == "cmpxchg":
            test = ast.Compare(x(), [ast.Eq()], [call.args[1]])
            change = [ast.If(test, [ast.Assign([x(ast.Store())], value)], [])]
        else:
            change = [ast.AugAssign(x(ast.Store()), ast.Add() if prim.op == "add" else ast.Sub(), value)]
        if target is None:
            return change
        if prim.returns == "old":
            return [ast.Assign([target], x())] + change
        result = x() if prim.returns == "new" else ast.Compare(x(), [ast.Eq()], [ast.Constant(0)])
        return change + [ast.Assign([target], result)]


def _with_ctx(node, ctx):
    """A copy of a location expression, its outermost node in ``ctx``."""
    out = copy.deepcopy(node)
    out.ctx = ctx
    return out


def lock_values(state: dict, locks) -> dict:
    """lock -> (held, free): True/False for a lock declared false, else 1/0."""
    return {name: (True, False) if isinstance(state.get(name), bool) else (1, 0) for name in locks}


def first_lock(code) -> ast.Call | None:
    """The ``spin_lock`` call that is the first statement of ``code``."""
    if code is None or code.is_expr or not code.tree.body:
        return None
    first = code.tree.body[0]
    if isinstance(first, ast.Expr):
        name, prim = primitive_of(first.value)
        if prim is not None and prim.kind == "lock":
            return first.value
    return None


def lower_code(code, lock_vals: dict):
    """``code`` (a ``lang.Code``) with its primitives rewritten for sc."""
    if code is None or not any(primitive_of(n)[1] is not None for n in ast.walk(code.tree)):
        return code
    return replace(code, tree=lower_tree(code.tree, lock_vals))
