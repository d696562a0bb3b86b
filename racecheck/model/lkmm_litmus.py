"""Run the threads of a C litmus test as LKMM thread code.

Each thread of a ``LitmusTest`` becomes a generator that yields the
operations of ``lkmm_events`` one at a time and is sent the values read;
registers hold ``Val``s, so every value remembers the reads it came from:

* an access through a pointer held in a register gets that register's
  reads as its address dependencies (``READ_ONCE(*r0)``);
* a store's value gives the data dependencies (``WRITE_ONCE(*y, r0)``);
* the condition of an ``if`` adds its reads to the control dependencies of
  the operations in its branches, and of those only: as in herd7, a store
  after the end of the ``if`` is not control-dependent on the condition
  (tests/lkmm/LB+ctrl-after-if+mb.litmus pins it).

The primitives are those of the kernel's linux-kernel.def: READ_ONCE and
WRITE_ONCE are ``once``; smp_load_acquire / smp_store_release,
rcu_dereference (once) and rcu_assign_pointer (release); the value-
returning atomics (xchg, cmpxchg, atomic_*_return, atomic_fetch_*) are
fully ordered (an ``mb`` fence on each side) without a suffix, and
``once``/``acquire``/``release`` with ``_relaxed``/``_acquire``/
``_release``; the non-returning atomic_add and friends read with
``noreturn``, as herd7's C semantics (CSem) has them. ``evaluate`` decides a final condition.
"""

from __future__ import annotations

from racecheck.errors import Pos
from racecheck.scenario import litmus as L

from .lkmm_events import (ACQUIRE, NO_DEPS, ONCE, PLAIN, RELEASE, Fence, IsLocked, Load, Lock, Rmw, Store,
                          Stuck, SyncSrcu, TryLock, Unlock, Val)


_FENCE_TAG = {"smp_mb": "mb", "smp_rmb": "rmb", "smp_wmb": "wmb", "barrier": "barrier",
              "smp_mb__before_atomic": "before-atomic", "smp_mb__after_atomic": "after-atomic",
              "smp_mb__after_spinlock": "after-spinlock", "smp_mb__after_unlock_lock": "after-unlock-lock",
              "rcu_read_lock": "rcu-lock", "rcu_read_unlock": "rcu-unlock", "synchronize_rcu": "sync-rcu",
              "synchronize_rcu_expedited": "sync-rcu", "smp_mb__after_srcu_read_unlock": "after-srcu-read-unlock"}
SRCU_LOCK, SRCU_UNLOCK = frozenset({"srcu-lock"}), frozenset({"srcu-unlock"})
# suffix -> (read tags, write tags, fully ordered), as herd7's CSem gives them
_ORDERS = {"": (ONCE, ONCE, True), "_relaxed": (ONCE, ONCE, False), "_acquire": (ACQUIRE, ONCE, False),
           "_release": (ONCE, RELEASE, False)}
_BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "/": lambda a, b: a // b if b else 0, "%": lambda a, b: a % b if b else 0,
           "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
           "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
           "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b),
           ">": lambda a, b: int(a > b), "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b)}


def thread_program(test: L.LitmusTest, index: int):
    """A function of no arguments returning thread ``index``'s generator;
    the generator returns {register: value} at the end."""
    thread = test.threads[index]
    regs = {name: Val(value) for (tid, name), value in test.init_regs.items() if tid == index}
    return lambda: _Thread(test, thread, dict(regs)).run()


class _Thread:
    def __init__(self, test: L.LitmusTest, thread: L.ThreadDef, regs: dict):
        self.test, self.thread = test, thread
        self.regs = regs
        self.params = set(thread.params)
        self.ctrl = NO_DEPS

    def run(self):
        yield from self.block(self.thread.body)
        return {name: val.value for name, val in self.regs.items()}

    def block(self, stmts):
        for stmt in stmts:
            yield from self.statement(stmt)

    def statement(self, stmt):
        if isinstance(stmt, L.Decl):
            self.regs[stmt.name] = (yield from self.expr(stmt.init)) if stmt.init is not None else Val(0)
        elif isinstance(stmt, L.Assign):
            value = yield from self.expr(stmt.expr)
            yield from self.assign(stmt, value)
        elif isinstance(stmt, L.ExprStmt):
            yield from self.expr(stmt.expr)
        elif isinstance(stmt, L.If):
            cond = yield from self.expr(stmt.cond)
            outer, self.ctrl = self.ctrl, self.ctrl | cond.deps     # ctrl: the branches only
            yield from self.block(stmt.then if _truth(cond.value) else stmt.orelse)
            self.ctrl = outer

    def assign(self, stmt: L.Assign, value: Val):
        target = stmt.target
        if isinstance(target, L.Name):
            if target.name in self.params:
                raise self.unsupported(stmt.line, f"assigning to the parameter {target.name}")
            self.regs[target.name] = value
            return
        loc = yield from self.pointer(target.expr)
        yield Store(loc.value, value=value, tags=PLAIN, addr=loc.deps, ctrl=self.ctrl,
                    label=stmt.text, line=stmt.line)

    # -- expressions ---------------------------------------------------------

    def expr(self, node):
        if isinstance(node, L.Num):
            return Val(node.value)
        if isinstance(node, L.Name):
            return self.name(node)
        if isinstance(node, L.AddrOf):
            return Val(node.name)
        if isinstance(node, L.Deref):                    # a plain load
            loc = yield from self.pointer(node.expr)
            value = yield Load(loc.value, tags=PLAIN, addr=loc.deps, ctrl=self.ctrl,
                               label=f"*{loc.value}", line=node.line)
            return value
        if isinstance(node, L.Unary):
            val = yield from self.expr(node.expr)
            number = self.number(val, node.line)
            out = {"!": int(not number), "-": -number, "~": ~number}[node.op]
            return Val(out, val.deps)
        if isinstance(node, L.Binary):
            return (yield from self.binary(node))
        if isinstance(node, L.Call):
            return (yield from self.call(node))
        raise AssertionError(f"unknown node {node!r}")

    def name(self, node: L.Name) -> Val:
        if node.name in self.regs:
            return self.regs[node.name]
        if node.name in self.params:
            return Val(node.name)                         # a pointer to the shared variable
        raise L.ScenarioError(Pos(self.test.path, node.line, node.col),
                              f"P{self.thread.index}: '{node.name}' is neither a parameter nor a declared register",
                              source_line=_line(self.test, node.line))

    def binary(self, node: L.Binary):
        left = yield from self.expr(node.left)
        if node.op in ("&&", "||"):
            short = _truth(left.value) == (node.op == "||")
            if short:
                return Val(int(node.op == "||"), left.deps)
            right = yield from self.expr(node.right)
            return Val(int(_truth(right.value)), left.deps | right.deps)
        right = yield from self.expr(node.right)
        if node.op in ("==", "!="):
            return Val(_BINARY[node.op](left.value, right.value), left.deps | right.deps)
        out = _BINARY[node.op](self.number(left, node.line), self.number(right, node.line))
        return Val(out, left.deps | right.deps)

    def number(self, val: Val, line: int) -> int:
        if not isinstance(val.value, int):
            raise self.unsupported(line, "arithmetic on pointers")
        return val.value

    def pointer(self, node):
        """The location a pointer expression designates, as a Val whose
        deps are the address dependencies."""
        val = yield from self.expr(node)
        if not isinstance(val.value, str):
            raise Stuck(f"P{self.thread.index} dereferences the non-pointer value {val.value}")
        return val

    def lvalue(self, node, call: L.Call):
        """The location of ``*p`` in READ_ONCE(*p) and friends."""
        if not isinstance(node, L.Deref):
            raise L.ScenarioError(Pos(self.test.path, call.line, 1),
                                  f"{call.name}() takes a dereferenced pointer, as in {call.name}(*x)",
                                  source_line=_line(self.test, call.line))
        return (yield from self.pointer(node.expr))

    # -- the primitives ------------------------------------------------------

    def call(self, node: L.Call):
        name, args = node.name, node.args
        where = {"label": node.text, "line": node.line}
        if name in _FENCE_TAG:
            yield Fence(_FENCE_TAG[name], ctrl=self.ctrl, **where)
            return Val(0)
        if name in ("READ_ONCE", "rcu_dereference"):
            loc = yield from self.lvalue(args[0], node)
            return (yield Load(loc.value, tags=ONCE, addr=loc.deps, ctrl=self.ctrl, **where))
        if name in ("smp_load_acquire", "atomic_read_acquire", "atomic_read"):
            loc = yield from self.pointer(args[0])
            tags = ONCE if name == "atomic_read" else ACQUIRE
            return (yield Load(loc.value, tags=tags, addr=loc.deps, ctrl=self.ctrl, **where))
        if name in ("WRITE_ONCE", "rcu_assign_pointer", "smp_store_mb"):
            loc = yield from self.lvalue(args[0], node)
            value = yield from self.expr(args[1])
            tags = RELEASE if name == "rcu_assign_pointer" else ONCE
            yield Store(loc.value, value=value, tags=tags, addr=loc.deps, ctrl=self.ctrl, **where)
            if name == "smp_store_mb":
                yield Fence("mb", ctrl=self.ctrl, **where)
            return Val(0)
        if name in ("smp_store_release", "atomic_set_release", "atomic_set"):
            loc = yield from self.pointer(args[0])
            value = yield from self.expr(args[1])
            tags = ONCE if name == "atomic_set" else RELEASE
            yield Store(loc.value, value=value, tags=tags, addr=loc.deps, ctrl=self.ctrl, **where)
            return Val(0)
        if name.startswith("spin_"):
            return (yield from self.lock(node, where))
        if "srcu" in name:
            return (yield from self.srcu(node, where))
        return (yield from self.atomic(node, where))

    def lock(self, node: L.Call, where: dict):
        loc = yield from self.pointer(node.args[0])
        kind = {"spin_lock": Lock, "spin_unlock": Unlock, "spin_trylock": TryLock,
                "spin_is_locked": IsLocked}[node.name]
        result = yield kind(loc.value, addr=loc.deps, ctrl=self.ctrl, **where)
        return result if result is not None else Val(0)

    def srcu(self, node: L.Call, where: dict):
        """linux-kernel.def: srcu_read_lock(X) __load{srcu-lock}(*X);
        srcu_read_unlock(X,Y) __store{srcu-unlock}(*X,Y) (srcu_down_read and
        srcu_up_read alike); synchronize_srcu(X) __srcu{sync-srcu}(X)."""
        loc = yield from self.pointer(node.args[0])
        if node.name in ("srcu_read_lock", "srcu_down_read"):
            return (yield Load(loc.value, tags=SRCU_LOCK, addr=loc.deps, ctrl=self.ctrl, **where))
        if node.name in ("srcu_read_unlock", "srcu_up_read"):
            cookie = yield from self.expr(node.args[1])
            yield Store(loc.value, value=cookie, tags=SRCU_UNLOCK, addr=loc.deps, ctrl=self.ctrl, **where)
            return Val(0)
        yield SyncSrcu(loc.value, addr=loc.deps, ctrl=self.ctrl, **where)
        return Val(0)

    def atomic(self, node: L.Call, where: dict):
        name, args = node.name, node.args
        base, order = _split_order(name)
        if base in ("xchg", "atomic_xchg"):
            loc = yield from self.pointer(args[0])
            new = yield from self.expr(args[1])
            return (yield self.rmw(loc, "xchg", new, None, _ORDERS[order], where))
        if base in ("cmpxchg", "atomic_cmpxchg"):
            loc = yield from self.pointer(args[0])
            expected = yield from self.expr(args[1])
            new = yield from self.expr(args[2])
            return (yield self.rmw(loc, "cmpxchg", new, expected, _ORDERS[order], where))
        if base == "atomic_add_unless":
            loc = yield from self.pointer(args[0])
            operand = yield from self.expr(args[1])
            unless = yield from self.expr(args[2])
            old = yield self.rmw(loc, "add_unless", operand, unless, _ORDERS[""], where)
            return Val(int(old.value != unless.value), old.deps | unless.deps)
        # atomic_OP(V, X), atomic_inc(X), atomic_OP_return(V, X), atomic_fetch_OP(V, X), ..._and_test
        op = next(o for o in ("add", "sub", "inc", "dec") if f"_{o}" in base)
        if op in ("inc", "dec"):
            loc_node, operand = args[0], Val(1)
        else:
            loc_node = args[1]
            operand = yield from self.expr(args[0])
        loc = yield from self.pointer(loc_node)
        kind = "add" if op in ("add", "inc") else "sub"
        if base in ("atomic_add", "atomic_sub", "atomic_inc", "atomic_dec"):
            yield self.rmw(loc, kind, operand, None, (frozenset({"noreturn"}), ONCE, False), where)
            return Val(0)
        old = yield self.rmw(loc, kind, operand, None, _ORDERS[order], where)
        new = old.value + operand.value if kind == "add" else old.value - operand.value
        deps = old.deps | operand.deps
        if base.startswith("atomic_fetch_"):
            return old
        if base.endswith("_and_test"):
            return Val(int(new == 0), deps)
        if base == "atomic_add_negative":
            return Val(int(new < 0), deps)
        return Val(new, deps)

    def rmw(self, loc: Val, kind: str, operand: Val, expected, order, where) -> Rmw:
        read_tags, write_tags, mb = order
        return Rmw(loc.value, kind=kind, operand=operand, expected=expected, read_tags=read_tags,
                   write_tags=write_tags, mb=mb, addr=loc.deps, ctrl=self.ctrl, **where)

    def unsupported(self, line: int, feature: str) -> L.LitmusUnsupported:
        return L.LitmusUnsupported(Pos(self.test.path, line, 1), feature, _line(self.test, line))


def _split_order(name: str):
    for suffix in ("_relaxed", "_acquire", "_release"):
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def _truth(value) -> bool:
    return value != 0


def _line(test: L.LitmusTest, line: int) -> str:
    return test.lines[line - 1] if 0 < line <= len(test.lines) else ""


# -- the final condition --------------------------------------------------------

def evaluate(prop: L.Prop, regs: dict, memory: dict) -> bool:
    """``prop`` on the final state: ``regs[(thread, name)]`` and
    ``memory[location]`` (a location never written keeps its initial value,
    which ``memory`` holds too)."""
    if prop.op == "true":
        return True
    if prop.op == "false":
        return False
    if prop.op == "not":
        return not evaluate(prop.args[0], regs, memory)
    if prop.op == "and":
        return all(evaluate(arg, regs, memory) for arg in prop.args)
    if prop.op == "or":
        return any(evaluate(arg, regs, memory) for arg in prop.args)
    atom = prop.args[0]
    return atom_value(atom, regs, memory) == atom.value


def atom_value(atom: L.Atom, regs: dict, memory: dict):
    if atom.thread is None:
        return memory.get(atom.name, 0)
    return regs.get((atom.thread, atom.name), 0)
