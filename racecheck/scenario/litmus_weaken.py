"""The ordering primitives of a C litmus test, and the test with one of
them weakened, for ``racecheck audit``.

Each primitive is weakened to the least that keeps the code meaningful:

* a barrier (``smp_mb()``, ``smp_rmb()``, ``smp_wmb()``,
  ``smp_mb__before_atomic()``, ``smp_mb__after_atomic()``,
  ``smp_mb__after_spinlock()``, ``smp_mb__after_unlock_lock()``,
  ``smp_mb__after_srcu_read_unlock()``) and a grace period
  (``synchronize_rcu()``, ``synchronize_srcu()``) to nothing;
* ``smp_load_acquire(p)`` to ``READ_ONCE(*p)``, ``smp_store_release(p, v)``,
  ``rcu_assign_pointer(*p, v)`` and ``smp_store_mb(*p, v)`` to
  ``WRITE_ONCE(*p, v)``; ``atomic_read_acquire``/``atomic_set_release``
  to ``atomic_read``/``atomic_set``;
* an ordered value-returning RMW (``xchg``, ``cmpxchg``,
  ``atomic_*_return``, ``atomic_fetch_*``, with no suffix or with
  ``_acquire``/``_release``) to its ``_relaxed`` form;
* a ``spin_lock``/``spin_unlock`` pair of one lock in one thread, an
  ``rcu_read_lock``/``rcu_read_unlock`` pair and an
  ``srcu_read_lock``/``srcu_read_unlock`` pair to nothing (the register
  an ``srcu_read_lock`` set gets 0).

The weakening works on the syntax tree, so the weakened test keeps the
line numbers of the original; its source lines (for reports) are edited
to match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import litmus as L

_REMOVE = ("smp_mb", "smp_rmb", "smp_wmb", "smp_mb__before_atomic", "smp_mb__after_atomic",
           "smp_mb__after_spinlock", "smp_mb__after_unlock_lock", "smp_mb__after_srcu_read_unlock",
           "synchronize_rcu", "synchronize_rcu_expedited", "synchronize_srcu", "synchronize_srcu_expedited")
_RENAME = {"atomic_read_acquire": "atomic_read", "atomic_set_release": "atomic_set",
           "rcu_assign_pointer": "WRITE_ONCE", "smp_store_mb": "WRITE_ONCE"}
_PAIRS = {"spin_lock": "spin_unlock", "rcu_read_lock": "rcu_read_unlock",
          "srcu_read_lock": "srcu_read_unlock"}
_RMW_BASES = ("xchg", "atomic_xchg", "cmpxchg", "atomic_cmpxchg")


@dataclass(frozen=True)
class Primitive:
    """One ordering primitive (a pair for locks and read-side sections):
    its thread, its name as written, its line (the first one of a pair),
    and what the audit weakens it to."""

    thread: int
    name: str
    line: int
    weakened: str                 # 'nothing', 'READ_ONCE', 'xchg_relaxed', ...
    calls: tuple                  # the Call nodes it is made of
    end_line: int = 0             # a pair's closing line

    def describe(self) -> str:
        """``P0 smp_wmb()``, ``P1 spin_lock(s)..unlock``."""
        if self.end_line:
            opener = self.calls[0]
            return f"P{self.thread} {opener.text}..{self.end_line}"
        return f"P{self.thread} {self.name}"


def weakened_name(name: str) -> str | None:
    """What a single call is weakened to, or None if it orders nothing
    the audit weakens ('nothing' for a barrier)."""
    if name in _REMOVE:
        return "nothing"
    if name == "smp_load_acquire":
        return "READ_ONCE"
    if name == "smp_store_release":
        return "WRITE_ONCE"
    if name in _RENAME:
        return _RENAME[name]
    base, order = _split(name)
    if order == "_relaxed":
        return None
    if base in _RMW_BASES or base.startswith("atomic_fetch_") or (
            base.startswith("atomic_") and base.endswith("_return")):
        return base + "_relaxed"
    return None


def primitives(test: L.LitmusTest) -> list:
    """Every ordering primitive of the test, in thread then line order."""
    found = []
    for thread in test.threads:
        calls = list(_calls(thread.body))
        paired = set()
        for i, call in enumerate(calls):
            if id(call) in paired:
                continue
            if call.name in _PAIRS:
                closer = _closer(calls[i + 1:], call, paired)
                if closer is not None:
                    paired.update((id(call), id(closer)))
                    found.append(Primitive(thread.index, call.name, call.line, "nothing", (call, closer),
                                           closer.line))
                continue
            weak = weakened_name(call.name)
            if weak is not None:
                found.append(Primitive(thread.index, call.name, call.line, weak, (call,)))
    return found


def weaken(test: L.LitmusTest, primitive: Primitive) -> L.LitmusTest:
    """The test with ``primitive`` weakened, everything else the same."""
    targets = {id(call) for call in primitive.calls}
    threads = list(test.threads)
    index = primitive.thread
    threads[index] = replace(threads[index], body=_block(threads[index].body, targets))
    lines = list(test.lines)
    for call in primitive.calls:
        if 0 < call.line <= len(lines):
            lines[call.line - 1] = _edit_line(lines[call.line - 1], call, primitive.weakened)
    return replace(test, threads=tuple(threads), lines=tuple(lines))


def call_span(line: str, name: str, nth: int = 0):
    """(start, end) of the ``nth`` call ``name(...)`` on a source line, or
    None."""
    starts = [m.start() for m in re.finditer(rf"\b{re.escape(name)}\s*\(", line)]
    if nth >= len(starts):
        return None
    depth, i = 0, line.index("(", starts[nth])
    while i < len(line):
        depth += {"(": 1, ")": -1}.get(line[i], 0)
        if depth == 0:
            return starts[nth], i + 1
        i += 1
    return None


def _edit_line(text: str, call: L.Call, weakened: str) -> str:
    """The source line with the call as weakened (the first call of that
    name on the line)."""
    span = call_span(text, call.name)
    if span is None:
        return text
    start, end = span
    inner = text[text.index("(", start) + 1:end - 1]
    if weakened == "nothing":
        new = "0" if re.search(r"=\s*$", text[:start]) else ""
    elif call.name in ("smp_load_acquire", "smp_store_release"):
        new = f"{weakened}(*{inner})"
    else:
        new = f"{weakened}({inner})"
    return text[:start] + new + text[end:]


def _closer(rest, opener: L.Call, paired: set):
    """The call closing ``opener``'s pair: the first later closing call on
    the same lock (spinlocks, SRCU) that is not paired yet; for RCU, the
    matching one counting nesting."""
    want = _PAIRS[opener.name]
    depth = 0
    for call in rest:
        if id(call) in paired:
            continue
        if opener.name == "rcu_read_lock":
            if call.name == "rcu_read_lock":
                depth += 1
            elif call.name == want:
                if depth == 0:
                    return call
                depth -= 1
        elif call.name == want and _first_arg(call) == _first_arg(opener):
            return call
    return None


def _first_arg(call: L.Call):
    """The lock or srcu_struct a call names, without line numbers."""
    return _shape(call.args[0]) if call.args else None


def _shape(node):
    if isinstance(node, L.Name):
        return node.name
    if isinstance(node, L.Deref):
        return ("*", _shape(node.expr))
    if isinstance(node, L.AddrOf):
        return ("&", node.name)
    return repr(node)


def _calls(stmts):
    """The Call nodes of a block, in source order."""
    for stmt in stmts:
        if isinstance(stmt, L.If):
            yield from _expr_calls(stmt.cond)
            yield from _calls(stmt.then)
            yield from _calls(stmt.orelse)
        elif isinstance(stmt, L.Decl):
            yield from _expr_calls(stmt.init)
        elif isinstance(stmt, L.Assign):
            yield from _expr_calls(stmt.target)
            yield from _expr_calls(stmt.expr)
        elif isinstance(stmt, L.ExprStmt):
            yield from _expr_calls(stmt.expr)


def _expr_calls(node):
    if isinstance(node, L.Call):
        for arg in node.args:
            yield from _expr_calls(arg)
        yield node
    elif isinstance(node, (L.Binary,)):
        yield from _expr_calls(node.left)
        yield from _expr_calls(node.right)
    elif isinstance(node, (L.Unary, L.Deref)):
        yield from _expr_calls(node.expr)


# -- rebuilding the tree with the targets weakened ------------------------------

def _block(stmts, targets) -> tuple:
    out = []
    for stmt in stmts:
        if isinstance(stmt, L.If):
            out.append(replace(stmt, cond=_expr(stmt.cond, targets), then=_block(stmt.then, targets),
                               orelse=_block(stmt.orelse, targets)))
        elif isinstance(stmt, L.ExprStmt):
            if isinstance(stmt.expr, L.Call) and id(stmt.expr) in targets and _removed(stmt.expr):
                continue                                  # the statement goes
            out.append(replace(stmt, expr=_expr(stmt.expr, targets)))
        elif isinstance(stmt, L.Decl):
            out.append(replace(stmt, init=_expr(stmt.init, targets)))
        elif isinstance(stmt, L.Assign):
            out.append(replace(stmt, target=_expr(stmt.target, targets), expr=_expr(stmt.expr, targets)))
        else:
            out.append(stmt)
    return tuple(out)


def _removed(call: L.Call) -> bool:
    return call.name in _REMOVE or call.name in _PAIRS or call.name in _PAIRS.values()


def _expr(node, targets):
    if node is None:
        return None
    if isinstance(node, L.Call):
        args = tuple(_expr(arg, targets) for arg in node.args)
        if id(node) not in targets:
            return replace(node, args=args)
        if _removed(node):
            return L.Num(0, node.line)                    # r = srcu_read_lock(s): r gets 0
        name = weakened_name(node.name)
        if name in ("READ_ONCE", "WRITE_ONCE") and node.name in ("smp_load_acquire", "smp_store_release"):
            args = (L.Deref(args[0], node.line),) + args[1:]
        text = name + node.text[len(node.name):]
        if node.name in ("smp_load_acquire", "smp_store_release"):
            text = f"{name}(*{node.text[len(node.name) + 1:]}"
        return L.Call(name, args, node.line, text)
    if isinstance(node, L.Binary):
        return replace(node, left=_expr(node.left, targets), right=_expr(node.right, targets))
    if isinstance(node, (L.Unary, L.Deref)):
        return replace(node, expr=_expr(node.expr, targets))
    return node


def _split(name: str):
    for suffix in ("_relaxed", "_acquire", "_release"):
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""
