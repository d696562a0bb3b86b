"""Which shared locations each step may read and write, as bit masks.

A *location* is a shared variable followed by constant field names and
element indices: ``folio.dirty``, ``pte[2]``, ``pages[1].locked``. Indices
that are literals, params, ``tid`` or arithmetic on those are constants; any
other index (``pages[i]`` with ``i`` a local) stands for every element.
``all(... for i in range(N))`` with a constant ``N`` is unrolled.

Locations become bit masks over the *atoms* of the initial state: the leaves
of every shared value (each field of a record, each element of a list of up
to 64 elements). A location covers the atoms below it. If a value changes
shape at run time (a list grows, a null becomes a record), a location that no
longer fits the initial shape covers its whole variable: masks may only
over-approximate, never miss an access.

The explorer's partial-order reduction needs, for each thread instance and
pc, the masks of the transition starting there (``reads``, ``writes``; an
``await`` guard's reads are reads) and of everything the thread may still
do from there (``future_reads``, ``future_writes``); and, for each
invariant conjunct, the atoms it reads.
"""

from __future__ import annotations

import ast

from racecheck.scenario.values import Record

MAX_UNROLL = 64
_DYNAMIC = object()


class Atoms:
    """Numbering of the leaves of the initial shared state."""

    def __init__(self, shared: list):
        self.roots: dict = {}          # var -> node; node = (mask, children dict or None)
        self.count = 0
        for name, value in shared:
            self.roots[name] = self._node(value)

    def _node(self, value):
        if type(value) is Record and value[0].fields:
            children = {f: self._node(v) for f, v in value.items()}
        elif isinstance(value, tuple) and type(value) is not Record and 0 < len(value) <= MAX_UNROLL:
            children = {i: self._node(v) for i, v in enumerate(value)}
        else:
            bit = 1 << self.count
            self.count += 1
            return (bit, None)
        mask = 0
        for child in children.values():
            mask |= child[0]
        return (mask, children)

    def mask(self, location: tuple) -> int:
        """The atoms a location covers: the deepest node its path reaches."""
        node = self.roots.get(location[0])
        if node is None:
            return 0
        for key in location[1:]:
            children = node[1]
            if children is None or key is _DYNAMIC:
                return node[0]
            if isinstance(key, int) and not isinstance(key, bool) and key < 0:
                key += len(children)
            child = children.get(key)
            if child is None:
                return node[0]
            node = child
        return node[0]


class Accesses:
    """Read and write locations of code, for one thread instance."""

    def __init__(self, shared: frozenset, params: dict, tid: int | None):
        self.shared = shared
        self.consts = dict(params)
        if tid is not None:
            self.consts["tid"] = tid
        self.reads: set = set()
        self.writes: set = set()

    # -- statements ---------------------------------------------------------
    def block(self, stmts, env: dict) -> None:
        for node in stmts:
            self.stmt(node, env)

    def stmt(self, node, env: dict) -> None:
        if isinstance(node, ast.Assign):
            self.target(node.targets[0], env, also_read=False)
            value = node.value
            args = value.args if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "choose" else [value]
            for arg in args:
                self.expr(arg, env)
        elif isinstance(node, ast.AugAssign):
            self.target(node.target, env, also_read=True)
            self.expr(node.value, env)
        elif isinstance(node, ast.If):
            self.expr(node.test, env)
            self.block(node.body, env)
            self.block(node.orelse, env)
        elif isinstance(node, ast.Assert):
            self.expr(node.test, env)
            if node.msg is not None:
                self.expr(node.msg, env)

    def target(self, node, env: dict, also_read: bool) -> None:
        location = self.location(node, env)
        if location is None:
            return
        if location[0] in self.shared:
            self.writes.add(location)
            if also_read:
                self.reads.add(location)
        self.index_reads(node, env)

    # -- expressions --------------------------------------------------------
    def expr(self, node, env: dict) -> None:
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            location = self.location(node, env)
            if location is not None:
                if location[0] in self.shared:
                    self.reads.add(location)
                self.index_reads(node, env)
                return
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            self.comprehension(node, env)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, env)

    def comprehension(self, node, env: dict) -> None:
        gens = node.generators
        if len(gens) == 1:
            values = self.constant_range(gens[0].iter, env)
            if values is not None and isinstance(gens[0].target, ast.Name):
                for value in values:
                    inner = dict(env)
                    inner[gens[0].target.id] = value
                    for cond in gens[0].ifs:
                        self.expr(cond, inner)
                    self.expr(node.elt, inner)
                return
        inner = dict(env)
        for gen in gens:
            self.expr(gen.iter, inner)
            for name in ast.walk(gen.target):
                if isinstance(name, ast.Name):
                    inner[name.id] = _DYNAMIC
            for cond in gen.ifs:
                self.expr(cond, inner)
        self.expr(node.elt, inner)

    def constant_range(self, node, env: dict):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "range"):
            return None
        args = [self.constant(a, env) for a in node.args]
        if any(a is _DYNAMIC or type(a) is not int for a in args):
            return None
        try:
            values = range(*args)
        except (TypeError, ValueError):
            return None
        return list(values) if len(values) <= MAX_UNROLL else None

    def location(self, node, env: dict):
        """``(var, key, ...)`` for a variable reference, or None if not one."""
        keys = []
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Attribute):
                keys.append(node.attr)
            else:
                keys.append(self.constant(node.slice, env))
            node = node.value
        if not isinstance(node, ast.Name) or node.id in env:
            if isinstance(node, ast.Name) or not keys:
                return None
            self.expr(node, env)          # e.g. a call's result indexed
            return None
        keys.reverse()
        if _DYNAMIC in keys:
            keys = keys[:keys.index(_DYNAMIC) + 1]
        return (node.id,) + tuple(keys)

    def index_reads(self, node, env: dict) -> None:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Subscript):
                self.expr(node.slice, env)
            node = node.value

    def constant(self, node, env: dict):
        """The value of an index expression if it is constant, else _DYNAMIC."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in self.consts and node.id not in self.shared:
                value = self.consts[node.id]
                return value if isinstance(value, (int, str)) else _DYNAMIC
            return _DYNAMIC
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.constant(node.operand, env)
            return -value if type(value) is int else _DYNAMIC
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = self.constant(node.left, env), self.constant(node.right, env)
            if type(left) is int and type(right) is int:
                return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[type(node.op)]
        return _DYNAMIC


def code_accesses(code, shared: frozenset, params: dict, tid: int | None) -> tuple:
    """``(reads, writes)`` location sets of a piece of code."""
    acc = Accesses(shared, params, tid)
    if code is None:
        return set(), set()
    if code.is_expr:
        acc.expr(code.tree.body, {})
    else:
        acc.block(code.tree.body, {})
    return acc.reads, acc.writes


def conjuncts(code, shared: frozenset, params: dict) -> list:
    """Read-location sets of an invariant's conjuncts.

    ``A and B`` splits; so does ``all(E for i in range(N))`` with constant
    N, into one conjunct per value of ``i``.
    """
    acc = Accesses(shared, params, None)
    result: list = []

    def split(node, env):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for value in node.values:
                split(value, env)
            return
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "all" and len(node.args) == 1
                and isinstance(node.args[0], ast.GeneratorExp) and len(node.args[0].generators) == 1):
            gen = node.args[0].generators[0]
            values = acc.constant_range(gen.iter, env)
            if values is not None and isinstance(gen.target, ast.Name) and not gen.ifs:
                for value in values:
                    inner = dict(env)
                    inner[gen.target.id] = value
                    split(node.args[0].elt, inner)
                return
        part = Accesses(shared, params, None)
        part.expr(node, env)
        result.append(part.reads)

    split(code.tree.body, {})
    return result


class AccessTables:
    """Per thread instance and pc, the masks the reduction needs.

    ``reads[t][pc]``, ``writes[t][pc]``: the transition of thread ``t`` that
    starts at ``pc`` (its guard's reads included); ``guards[t][pc]``: what its
    ``await`` reads; ``future_reads[t][pc]``, ``future_writes[t][pc]``: the
    union over every instruction reachable from ``pc``. ``neighbours[t]``:
    the threads that may ever conflict with ``t``. ``conjuncts``: one mask
    per invariant conjunct; ``conjunct_writers[k]``: the threads that may
    write what conjunct ``k`` reads. Index ``end`` of each table is 0.
    """

    def __init__(self, program):
        shared = frozenset(program.shared_names)
        atoms = Atoms(list(program.scenario.state))
        self.atoms = atoms
        mask = lambda locations: _mask(atoms, locations)  # noqa: E731
        self.reads, self.writes, self.guards = [], [], []
        self.future_reads, self.future_writes = [], []
        for thread in program.threads:
            r, w, g = [], [], []
            for instr in thread.instrs:
                reads, writes = set(), set()
                node = instr.node
                guard = set()
                if hasattr(node, "await_") and node.await_ is not None:
                    guard = code_accesses(node.await_, shared, program.params, thread.copy)[0]
                code = node.do if hasattr(node, "do") else node.cond
                reads, writes = code_accesses(code, shared, program.params, thread.copy)
                r.append(mask(reads | guard))
                w.append(mask(writes))
                g.append(mask(guard))
            fr, fw = _future(thread, r, w)
            self.reads.append(r + [0])
            self.writes.append(w + [0])
            self.guards.append(g + [0])
            self.future_reads.append(fr + [0])
            self.future_writes.append(fw + [0])
        self.conjuncts = []
        for prop, _ in program.invariants:
            self.conjuncts.extend(mask(c) for c in conjuncts(prop.code, shared, program.params))
        n = len(program.threads)
        total_r = [self.future_reads[t][program.threads[t].entry] | _all(self.reads[t]) for t in range(n)]
        total_w = [_all(self.writes[t]) for t in range(n)]
        self.neighbours = [tuple(u for u in range(n) if u != t and
                                 (total_w[t] & (total_r[u] | total_w[u]) or total_w[u] & total_r[t]))
                           for t in range(n)]
        self.conjunct_writers = [tuple(t for t in range(n) if total_w[t] & c) for c in self.conjuncts]
        finals = set()
        for prop, _ in program.finals:
            finals |= code_accesses(prop.code, shared, program.params, None)[0]
        self.final_reads = mask(finals)
        self.written = _all(total_w)


def _all(masks) -> int:
    result = 0
    for m in masks:
        result |= m
    return result


def _mask(atoms: Atoms, locations) -> int:
    result = 0
    for location in locations:
        result |= atoms.mask(location)
    return result


def _future(thread, reads: list, writes: list) -> tuple:
    """Fixpoint over the control-flow graph: what may still be accessed."""
    n = len(thread.instrs)
    fr, fw = list(reads), list(writes)
    changed = True
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            r, w = fr[pc], fw[pc]
            for succ in thread.instrs[pc].succ:
                if succ < n:
                    r |= fr[succ]
                    w |= fw[succ]
            if (r, w) != (fr[pc], fw[pc]):
                fr[pc], fw[pc] = r, w
                changed = True
    return fr, fw


def local_reads(code, local_names: frozenset) -> set:
    """The locals a piece of code may read (a name loaded, or updated by an
    augmented assignment); locals it only assigns are not read."""
    if code is None:
        return set()
    names = set()
    for node in ast.walk(code.tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in local_names:
            names.add(node.id)
        elif isinstance(node, ast.AugAssign):
            target = node.target
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if isinstance(target, ast.Name) and target.id in local_names:
                names.add(target.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            base = node.value                 # x.f = v and x[i] = v keep x's other parts
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name) and base.id in local_names:
                names.add(base.id)
    return names


def future_local_reads(thread) -> list:
    """Per pc: the local slots the thread may still read from there on."""
    slots = dict(thread.local_slots)
    names = frozenset(slots)
    own = []
    for instr in thread.instrs:
        node = instr.node
        read = local_reads(getattr(node, "await_", None), names) | local_reads(getattr(node, "do", None), names) \
            | local_reads(getattr(node, "cond", None), names)
        own.append(frozenset(slots[n] for n in read))
    future = list(own)
    changed = True
    while changed:
        changed = False
        for pc in range(len(future) - 1, -1, -1):
            acc = future[pc]
            for succ in thread.instrs[pc].succ:
                if succ < len(future):
                    acc = acc | future[succ]
            if acc != future[pc]:
                future[pc], changed = acc, True
    return future + [frozenset()]
