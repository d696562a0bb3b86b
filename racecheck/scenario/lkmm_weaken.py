"""The ordering primitives of a scenario's step code, and the scenario
with one of them weakened, for ``racecheck audit FILE.yaml``.

The weakenings are those of ``litmus_weaken`` (docs/lkmm.md):

    smp_mb(), smp_rmb(), smp_wmb(), smp_mb__*()   -> nothing
    synchronize_rcu()                             -> nothing
    smp_load_acquire / atomic_read_acquire        -> READ_ONCE / atomic_read
    smp_store_release, rcu_assign_pointer,
    smp_store_mb / atomic_set_release             -> WRITE_ONCE / atomic_set
    xchg, cmpxchg, atomic_*_return, atomic_fetch_* (and _acquire, _release)
                                                  -> the _relaxed form
    spin_lock(l) ... spin_unlock(l) in one thread -> nothing, both
    rcu_read_lock() ... rcu_read_unlock()         -> nothing, both

Not weakened: READ_ONCE/WRITE_ONCE and plain accesses, ``barrier()``,
the atomics without a result (already unordered), ``atomic_*_and_test``
(no _relaxed form). A primitive inside a branch on params that the
variant does not take is left out of that variant's list.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, replace

from racecheck.scenario import lkmm_vocab as V
from racecheck.scenario import schema as S
from racecheck.scenario.lkmm_rules import map_codes

_NOTHING = ("fence",)
_RENAME = {"smp_load_acquire": "READ_ONCE", "atomic_read_acquire": "atomic_read",
           "smp_store_release": "WRITE_ONCE", "rcu_assign_pointer": "WRITE_ONCE", "smp_store_mb": "WRITE_ONCE",
           "atomic_set_release": "atomic_set"}
_PAIRS = {"spin_lock": "spin_unlock", "rcu_read_lock": "rcu_read_unlock"}
_CLOSERS = {close: opening for opening, close in _PAIRS.items()}


@dataclass(frozen=True)
class Primitive:
    """One ordering primitive: where it is, and what it becomes."""

    thread: str
    name: str
    line: int
    weakened: str                   # "nothing", "READ_ONCE", "xchg_relaxed", ...
    sites: tuple                    # ((id of its Code, lineno, col_offset), ...): 2 for a pair
    end_line: int = 0               # a pair: its closing line

    def describe(self) -> str:
        where = f"..{self.end_line}" if self.end_line else ""
        return f"{self.thread} {self.name}{where}"


def weakening(name: str) -> str | None:
    prim = V.PRIMITIVES[name]
    if prim.kind == "fence" and name != "barrier" and name not in ("rcu_read_lock", "rcu_read_unlock"):
        return "nothing"
    if name in _RENAME:
        return _RENAME[name]
    if prim.kind == "rmw" and prim.order != "_relaxed":
        base = name[: -len(prim.order)] if prim.order else name
        return base + "_relaxed" if base + "_relaxed" in V.PRIMITIVES else None
    return None


def primitives(scenario: S.Scenario, decide) -> list:
    """The primitives a variant's threads may run, in file order;
    ``decide(code)`` is the value of a branch condition on params alone
    (True/False), or None when it reads more."""
    out = []
    for thread in scenario.threads:
        calls = [(code, node) for code in _codes(thread.steps, decide)
                 for node in _calls(code.tree)]
        out += _singles(thread, calls) + _pairs(thread, calls)
    return sorted(out, key=lambda p: (p.line, p.thread, p.name))


def _singles(thread, calls) -> list:
    out = []
    for code, node in calls:
        name = node.func.id
        to = weakening(name)
        if to is not None:
            out.append(Primitive(thread.name, name, _line(code, node), to, ((id(code), node.lineno, node.col_offset),)))
    return out


def _pairs(thread, calls) -> list:
    """lock..unlock and rcu_read_lock..rcu_read_unlock, matched in program
    order (per lock, nesting counted)."""
    out, open_ = [], {}
    for code, node in calls:
        name = node.func.id
        key = (name if name in _PAIRS else _CLOSERS.get(name), V.location(node) if node.args else None)
        if name in _PAIRS:
            open_.setdefault(key, []).append((code, node))
        elif name in _CLOSERS and open_.get(key):
            code0, node0 = open_[key].pop()
            out.append(Primitive(thread.name, node0.func.id, _line(code0, node0), "nothing",
                                 ((id(code0), node0.lineno, node0.col_offset), (id(code), node.lineno, node.col_offset)),
                                 _line(code, node)))
    return out


def _line(code, node) -> int:
    return code.origin.pos(node.lineno, node.col_offset).line


def _calls(tree) -> list:
    return sorted((n for n in ast.walk(tree) if V.primitive_of(n)[1] is not None),
                  key=lambda n: (n.lineno, n.col_offset))


def _codes(steps, decide) -> list:
    """The Codes of the steps a variant may run: a branch whose condition
    reads params only follows the branch they choose."""
    out = []
    for step in steps:
        if isinstance(step, S.Action):
            out += [c for c in (step.await_, step.do) if c is not None]
        elif isinstance(step, S.Branch):
            out.append(step.cond)
            taken = decide(step.cond)
            if taken is None:
                out += _codes(step.then, decide) + _codes(step.orelse, decide)
            else:
                out += _codes(step.then if taken else step.orelse, decide)
        elif isinstance(step, S.Loop):
            out += [step.cond] + _codes(step.body, decide)
        else:
            out += _codes(step.body, decide)
    return out


def weaken(scenario: S.Scenario, primitive: Primitive) -> S.Scenario:
    """The scenario with ``primitive`` weakened."""
    sites = {site[0]: [] for site in primitive.sites}
    for code_id, lineno, col in primitive.sites:
        sites[code_id].append((lineno, col))
    to = primitive.weakened

    def fix(code):
        if code is None or id(code) not in sites:
            return code
        tree = _Weaken(set(sites[id(code)]), to).visit(copy.deepcopy(code.tree))
        return replace(code, tree=ast.fix_missing_locations(tree))

    threads = tuple(replace(t, steps=map_codes(t.steps, fix)) for t in scenario.threads)
    return replace(scenario, threads=threads)


class _Weaken(ast.NodeTransformer):
    def __init__(self, at: set, to: str):
        self.at, self.to = at, to

    def _here(self, node) -> bool:
        return isinstance(node, ast.Call) and (node.lineno, node.col_offset) in self.at

    def visit_Expr(self, node):
        if self._here(node.value) and self.to == "nothing":
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if self._here(node) and self.to != "nothing":
            node.func = ast.copy_location(ast.Name(self.to, ast.Load()), node.func)
        return node
