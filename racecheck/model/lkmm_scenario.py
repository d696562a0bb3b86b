"""A ``memory: lkmm`` scenario as LKMM thread code.

Each thread instance becomes a generator over ``lkmm_events`` operations
(the contract of ``explore.executions``): every access to a shared
variable is an event of its own, annotated from the code that makes it,

    x             a plain read        x = v           a plain write
    READ_ONCE(x)  a once read         WRITE_ONCE(x, v) a once write
    smp_load_acquire(x)  acquire      smp_store_release(x, v)  release
    smp_mb() ...  a fence             xchg(x, v) ...  an RMW (lkmm_vocab)
    spin_lock(l) / spin_unlock(l)     a lock's LKR/LKW and UL events

so a step is no longer atomic: ``x = x + 1`` is a plain read and a plain
write, as the C code it stands for. Locals hold ``Val``s: a value and the
reads it was computed from, so a stored value carries its data
dependencies, and the condition of an ``if`` step (or of an ``if`` in a
``do`` block) gives the control dependencies of the events in its
branches, and only of those, as in herd7; when a branch can leave its call
group or the thread (``return``, ``goto: end``), every event after the
``if`` depends on it too, since it runs only when the branch did not
leave (up to the end of the call group it leaves). An ``await`` is a read that must see a value making the condition
true (a wait loop that exits): a run in which it cannot is dropped (no
execution), and every later event of the thread is control-dependent on
its reads. Branches on params and locals alone make no events. Locations
are named, never computed, so there are no address dependencies.

A failed ``assert`` or a run-time error ends the thread's run; the run's
registers then carry ``FAILURE`` (kind, message, line), which
``explore.lkmm_check`` reports when the execution is consistent.
``evaluate`` computes a final check on an execution's memory and its
threads' locals (``THREAD.LOCAL``, ``THREAD[i].LOCAL``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from racecheck.model import runtime
from racecheck.scenario import lkmm_vocab as V
from racecheck.scenario import schema as S
from racecheck.scenario.values import StepError, format_value

from .lkmm_events import (ACQUIRE, NO_DEPS, ONCE, PLAIN, RELEASE, Fence, Load, Lock, Rmw, Store, Stuck, Unlock,
                          Val)

FAILURE = "__failure__"
MAX_LOOP = 1_000               # iterations of one while loop over locals, per run


def _floordiv(a, b):
    if b == 0:
        raise StepError("division by zero")
    return a // b


_TAGS = {"once": ONCE, "acquire": ACQUIRE, "release": RELEASE, "once+mb": ONCE}
_ORDERS = {"": (ONCE, ONCE, True), "_relaxed": (ONCE, ONCE, False), "_acquire": (ACQUIRE, ONCE, False),
           "_release": (ONCE, RELEASE, False)}
_BIN = {ast.Add: runtime.add, ast.Sub: lambda a, b: a - b, ast.Mult: runtime.mul,
        ast.FloorDiv: _floordiv, ast.Mod: runtime.mod}
_CMP = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
        ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
        ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b, ast.Is: lambda a, b: a is b,
        ast.IsNot: lambda a, b: a is not b}
_FUNCS = {"len": len, "min": min, "max": max, "abs": abs, "any": any, "all": all,
          "sum": lambda *a: runtime.bounded_sum(*a), "range": lambda *a: tuple(runtime.bounded_range(*a))}


@dataclass(frozen=True)
class Instance:
    """One thread instance: ``reclaim`` or ``reclaim#1`` with copies."""

    thread: S.ThreadDef
    copy: int

    @property
    def name(self) -> str:
        return self.thread.name if self.thread.copies == 1 else f"{self.thread.name}#{self.copy}"


def instances(scenario: S.Scenario) -> list:
    return [Instance(t, i) for t in scenario.threads for i in range(t.copies)]


def thread_programs(scenario: S.Scenario, variant: S.Variant) -> list:
    """Functions of no arguments returning each instance's generator."""
    params = dict(variant.params)
    return [(lambda inst=inst: _Thread(scenario, inst, params).run()) for inst in instances(scenario)]


class _Return(Exception):
    """``return``: leaves the call group, or the thread."""


class _End(Exception):
    """``goto: end``."""


class _Failed(Exception):
    def __init__(self, kind: str, message: str, line: int):
        super().__init__(message)
        self.kind, self.message, self.line = kind, message, line


class _Eval:
    """Expressions over ``Val``s; a shared variable is read through
    ``self.read`` (a generator)."""

    def __init__(self, params: dict, local_vals: dict, tid: int | None, shared=frozenset()):
        self.params = params
        self.locals = local_vals
        self.tid = tid
        self.shared = shared                  # the shared variables' names
        self.ctrl = NO_DEPS
        self.code = None                      # the Code being run (for lines)
        self.label = ""

    def line(self, node) -> int:
        return self.code.origin.pos(getattr(node, "lineno", 1), getattr(node, "col_offset", 0)).line

    def expr(self, node, bound: dict):
        kind = type(node)
        if kind is ast.Constant:
            return Val(node.value)
        if kind is ast.Name:
            return (yield from self.name(node, bound))
        if kind in (ast.Attribute, ast.Subscript) and self.location(node, bound) is not None:
            return (yield from self.read(self.location(node, bound), PLAIN, node))
        if kind is ast.Attribute:
            return (yield from self.attribute(node, bound))
        if kind is ast.Subscript:
            seq = yield from self.expr(node.value, bound)
            index = yield from self.expr(node.slice, bound)
            return Val(runtime.geti(seq.value, index.value), seq.deps | index.deps)
        if kind is ast.BinOp:
            left = yield from self.expr(node.left, bound)
            right = yield from self.expr(node.right, bound)
            return Val(_BIN[type(node.op)](left.value, right.value), left.deps | right.deps)
        if kind is ast.UnaryOp:
            val = yield from self.expr(node.operand, bound)
            op = type(node.op)
            out = (not val.value) if op is ast.Not else (-val.value if op is ast.USub else +val.value)
            return Val(out, val.deps)
        if kind is ast.BoolOp:
            return (yield from self.boolop(node, bound))
        if kind is ast.Compare:
            return (yield from self.compare(node, bound))
        if kind is ast.IfExp:
            test = yield from self.expr(node.test, bound)
            chosen = yield from self.expr(node.body if test.value else node.orelse, bound)
            return Val(chosen.value, chosen.deps | test.deps)
        if kind in (ast.Tuple, ast.List):
            vals = []
            for elt in node.elts:
                vals.append((yield from self.expr(elt, bound)))
            return Val(tuple(v.value for v in vals), _deps(vals))
        if kind in (ast.ListComp, ast.GeneratorExp):
            return (yield from self.comprehension(node, bound))
        if kind is ast.Call:
            return (yield from self.call(node, bound))
        raise StepError(f"{kind.__name__} is not in the code language")      # pragma: no cover

    def location(self, node, bound: dict) -> str | None:
        """``page.flags``: the memory location a field or element of a
        shared variable is (the loader allows constant indices only)."""
        root = V.root_of(node)
        if root is None or root.id in bound or root.id in self.locals or root.id not in self.shared:
            return None
        return V.path_of(node)

    def name(self, node, bound: dict):
        name = node.id
        if name in bound:
            return bound[name]
        if name in self.locals:
            return self.locals[name]
        if name in self.params:
            return Val(self.params[name])
        if name == "tid":
            return Val(self.tid)
        return (yield from self.read(name, PLAIN, node))

    def attribute(self, node, bound: dict):
        base = yield from self.expr(node.value, bound)
        return Val(runtime.getf(base.value, node.attr), base.deps)

    def boolop(self, node, bound: dict):
        deps, value = NO_DEPS, None
        for part in node.values:
            val = yield from self.expr(part, bound)
            deps, value = deps | val.deps, val.value
            if bool(value) == isinstance(node.op, ast.Or):
                break
        return Val(value, deps)

    def compare(self, node, bound: dict):
        left = yield from self.expr(node.left, bound)
        deps, result = left.deps, True
        for op, right_node in zip(node.ops, node.comparators):
            right = yield from self.expr(right_node, bound)
            deps |= right.deps
            try:
                ok = _CMP[type(op)](left.value, right.value)
            except TypeError as exc:
                raise StepError(str(exc)) from None
            if not ok:
                result = False
                break
            left = right
        return Val(result, deps)

    def comprehension(self, node, bound: dict):
        out, deps = [], NO_DEPS

        def walk(i, env):
            nonlocal deps
            if i == len(node.generators):
                val = yield from self.expr(node.elt, env)
                out.append(val.value)
                deps |= val.deps
                return
            gen = node.generators[i]
            seq = yield from self.expr(gen.iter, env)
            deps |= seq.deps
            for item in runtime.counted(seq.value):
                inner = dict(env)
                names = [gen.target] if isinstance(gen.target, ast.Name) else gen.target.elts
                values = [item] if isinstance(gen.target, ast.Name) else list(item)
                for n, v in zip(names, values):
                    inner[n.id] = Val(v, seq.deps)
                keep = True
                for cond in gen.ifs:
                    test = yield from self.expr(cond, inner)
                    deps |= test.deps
                    keep = keep and bool(test.value)
                if keep:
                    yield from walk(i + 1, inner)

        yield from walk(0, dict(bound))
        return Val(tuple(out), deps)

    def call(self, node, bound: dict):
        name, prim = V.primitive_of(node)
        if prim is not None:
            return (yield from self.read(V.location(node), _TAGS[prim.tags], node))
        vals = []
        for arg in node.args:
            vals.append((yield from self.expr(arg, bound)))
        try:
            return Val(_FUNCS[node.func.id](*[v.value for v in vals]), _deps(vals))
        except (TypeError, ValueError) as exc:
            raise StepError(f"{node.func.id}(): {exc}") from None


class _Thread(_Eval):
    """One thread instance's steps, run as LKMM thread code."""

    def __init__(self, scenario: S.Scenario, inst: Instance, params: dict):
        super().__init__(params, {name: Val(value) for name, value in inst.thread.locals}, inst.copy,
                         frozenset(name for name, _ in scenario.state))
        self.inst = inst
        self.awaited = NO_DEPS                # the reads of every await so far

    def run(self):
        try:
            yield from self.steps(self.inst.thread.steps)
        except (_Return, _End):
            pass
        except _Failed as failed:
            return self.registers((failed.kind, failed.message, failed.line))
        return self.registers(None)

    def registers(self, failure) -> dict:
        regs = {name: val.value for name, val in self.locals.items()}
        if failure is not None:
            regs[FAILURE] = failure
        return regs

    def read(self, loc: str, tags, node):
        return (yield Load(loc, tags=tags, ctrl=self.ctrl, label=self.label, line=self.line(node)))

    # -- steps ---------------------------------------------------------------
    def steps(self, steps):
        for step in steps:
            if isinstance(step, S.Action):
                yield from self.action(step)
            elif isinstance(step, S.Branch):
                yield from self.branch(step)
            elif isinstance(step, S.Loop):
                yield from self.loop(step)
            else:
                outer = self.ctrl
                try:
                    yield from self.steps(step.body)
                except _Return:
                    pass
                # after the group, both ways out meet: what an early return
                # made control-dependent ends here, an await's order stays
                self.ctrl = outer | self.awaited

    def guarded(self, code, label: str, run):
        """``run()`` with ``code`` current; StepError becomes a failure."""
        self.code, self.label = code, label
        try:
            return (yield from run())
        except (StepError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise _Failed("error", str(exc), code.pos.line) from None

    def action(self, step: S.Action):
        if step.await_ is not None:
            val = yield from self.guarded(step.await_, step.text, lambda: self.expr(step.await_.tree.body, {}))
            if not val.value:
                raise Stuck(f"{self.inst.name}: await {step.await_.one_line()} cannot hold")
            self.ctrl = self.ctrl | val.deps
            self.awaited = self.awaited | val.deps
        if step.do is not None:
            yield from self.guarded(step.do, step.text, lambda: self.block(step.do.tree.body))
        if step.goto == "end":
            raise _End()

    def branch(self, step: S.Branch):
        val = yield from self.guarded(step.cond, step.text, lambda: self.expr(step.cond.tree.body, {}))
        outer, self.ctrl = self.ctrl, self.ctrl | val.deps
        yield from self.steps(step.then if val.value else step.orelse)
        if not _may_leave(step.then + step.orelse):
            self.ctrl = outer

    def loop(self, step: S.Loop):
        for _ in range(MAX_LOOP):
            val = yield from self.guarded(step.cond, step.text, lambda: self.expr(step.cond.tree.body, {}))
            if not val.value:
                return
            yield from self.steps(step.body)
        raise _Failed("error", f"the loop '{step.text}' ran {MAX_LOOP} times; loops under memory: lkmm "
                      "need a bound", step.pos.line)

    # -- statements ----------------------------------------------------------
    def block(self, stmts):
        for stmt in stmts:
            yield from self.statement(stmt)

    def statement(self, node):
        kind = type(node)
        if kind is ast.Assign:
            name, prim = V.primitive_of(node.value)
            if prim is not None and prim.kind == "rmw":
                val = yield from self.kernel(node.value, prim)
            else:
                val = yield from self.expr(node.value, {})
            yield from self.assign(node.targets[0], val, node)
        elif kind is ast.AugAssign:
            old = yield from self.expr(node.target, {})
            rhs = yield from self.expr(node.value, {})
            op = {ast.Add: runtime.add, ast.Sub: lambda a, b: a - b, ast.BitOr: lambda a, b: a | b,
                  ast.BitAnd: lambda a, b: a & b}[type(node.op)]
            yield from self.assign(node.target, Val(op(old.value, rhs.value), old.deps | rhs.deps), node)
        elif kind is ast.If:
            test = yield from self.expr(node.test, {})
            outer, self.ctrl = self.ctrl, self.ctrl | test.deps
            yield from self.block(node.body if test.value else node.orelse)
            if not any(isinstance(n, ast.Return) for n in ast.walk(node)):
                self.ctrl = outer
        elif kind is ast.Return:
            raise _Return()
        elif kind is ast.Assert:
            test = yield from self.expr(node.test, {})
            if not test.value:
                message = "assertion failed: " + ast.unparse(node.test)
                if node.msg is not None:
                    message = format_value((yield from self.expr(node.msg, {})).value)
                    message = message[1:-1] if message[:1] == "'" else message
                raise _Failed("assert", message, self.line(node))
        elif kind is ast.Expr:
            yield from self.kernel(node.value, V.primitive_of(node.value)[1])

    def assign(self, target, val: Val, node):
        if isinstance(target, ast.Name) and target.id in self.locals:
            self.locals[target.id] = val
            return
        loc = target.id if isinstance(target, ast.Name) else self.location(target, {})
        if loc is None:
            raise StepError("under memory: lkmm a local is assigned whole")     # the loader refuses it
        yield Store(loc, value=val, tags=PLAIN, ctrl=self.ctrl, label=self.label, line=self.line(node))

    def kernel(self, node, prim):
        """The events of a primitive call; its result (a Val)."""
        where = {"ctrl": self.ctrl, "label": self.label, "line": self.line(node)}
        loc = V.location(node)
        if prim.kind == "read":
            return (yield Load(loc, tags=_TAGS[prim.tags], **where))
        if prim.kind == "fence":
            yield Fence(prim.fence, **where)
            return Val(0)
        if prim.kind in ("lock", "unlock"):
            yield (Lock if prim.kind == "lock" else Unlock)(loc, **where)
            return Val(0)
        if prim.kind == "write":
            val = yield from self.expr(node.args[1], {})
            yield Store(loc, value=val, tags=_TAGS[prim.tags], **where)
            if prim.tags == "once+mb":
                yield Fence("mb", **where)
            return Val(0)
        arg = V.operand(node, prim)
        operand = (yield from self.expr(arg, {})) if arg is not None else Val(1)
        if prim.kind == "update":
            yield Rmw(loc, kind=prim.op, operand=operand, read_tags=frozenset({"noreturn"}), write_tags=ONCE,
                      mb=False, **where)
            return Val(0)
        expected = (yield from self.expr(node.args[1], {})) if prim.op == "cmpxchg" else None
        read_tags, write_tags, mb = _ORDERS[prim.order]
        old = yield Rmw(loc, kind=prim.op, operand=operand, expected=expected, read_tags=read_tags,
                        write_tags=write_tags, mb=mb, **where)
        if prim.returns == "old":
            return old
        new = runtime.add(old.value, operand.value) if prim.op == "add" else old.value - operand.value
        return Val(new if prim.returns == "new" else new == 0, old.deps | operand.deps)


def _deps(vals) -> frozenset:
    out = NO_DEPS
    for v in vals:
        out |= v.deps
    return out


def _may_leave(steps) -> bool:
    """Whether running ``steps`` may leave the group or the thread."""
    for step in steps:
        if isinstance(step, S.Action):
            if step.goto == "end" or (step.do is not None and step.do.has_return):
                return True
        elif isinstance(step, S.Branch):
            if step.cond.has_return or _may_leave(step.then + step.orelse):
                return True
        elif isinstance(step, S.Loop) and _may_leave(step.body):
            return True
    return False


# -- final checks -----------------------------------------------------------------

class _Final(_Eval):
    """A final check over an execution's memory and registers."""

    def __init__(self, params: dict, memory: dict, regs: dict, index: dict, shared=frozenset()):
        super().__init__(params, {}, None, shared)
        self.memory, self.regs, self.index = memory, regs, index

    def read(self, loc: str, tags, node):
        return Val(self.memory[loc])
        yield                                                      # pragma: no cover

    def attribute(self, node, bound: dict):
        base, copy = node.value, None
        if isinstance(base, ast.Subscript) and isinstance(base.value, ast.Name) and base.value.id in self.index:
            copy = (yield from self.expr(base.slice, bound)).value
            base = base.value
        if isinstance(base, ast.Name) and base.id in self.index and base.id not in bound:
            return Val(self.thread_local(base.id, copy, node.attr))
        return (yield from super().attribute(node, bound))

    def thread_local(self, thread: str, copy, name: str):
        tids = self.index[thread]
        if copy is None and len(tids) > 1:
            raise StepError(f"thread '{thread}' has {len(tids)} copies: write {thread}[i].{name}")
        if copy is not None and (not isinstance(copy, int) or not 0 <= copy < len(tids)):
            raise StepError(f"{thread}[{copy}]: thread '{thread}' has copies 0 to {len(tids) - 1}")
        return self.regs[(tids[copy or 0], name)]


def evaluate(scenario: S.Scenario, params: dict, code, memory: dict, regs: dict):
    """The value of a final check (``code``) on an execution."""
    index: dict = {}
    for tid, inst in enumerate(instances(scenario)):
        index.setdefault(inst.thread.name, []).append(tid)
    ev = _Final(params, memory, regs, index, frozenset(name for name, _ in scenario.state))
    ev.code = code
    gen = ev.expr(code.tree.body, {})
    try:
        gen.send(None)
    except StopIteration as stop:
        return stop.value.value
    raise AssertionError("a final check made an event")          # pragma: no cover


def param_choice(code, params: dict):
    """The truth of a condition that reads params alone (None: it reads
    more, or fails)."""
    if not set(code.names) <= set(params):
        return None
    ev = _Final(params, {}, {}, {})
    ev.code = code
    try:
        ev.expr(code.tree.body, {}).send(None)
    except StopIteration as stop:
        return bool(stop.value.value)
    except (StepError, TypeError, ValueError, KeyError):
        return None
    return None                                                   # pragma: no cover
