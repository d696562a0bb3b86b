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
    """Numbering of the parts of the initial shared state.

    Each node of a shared value's tree has one *own* atom: a leaf's atom is
    the leaf; a record's or a list's own atom stands for its shape (which
    fields, how many elements), and it is written only when the whole node
    is replaced. A node is ``(full, children, own)``: ``full`` covers the
    node and everything below it, ``children`` maps field names or element
    positions to nodes (None for a leaf).

    Negative indices count from the end, so which element ``arr[-1]`` is
    depends on the list's length at run time. It is resolved with the
    initial length only where no step may write the list's shape
    (``unstable``, set once every write is known); elsewhere it stands for
    every element.
    """

    def __init__(self, shared: list):
        self.roots: dict = {}
        self.count = 0
        self.labels: list = []          # atom number -> what it stands for
        self.unstable = -1              # shape atoms some step may write (-1: not known yet)
        for name, value in shared:
            self.roots[name] = self._node(value, name)

    def _atom(self, label: str) -> int:
        self.labels.append(label)
        self.count += 1
        return 1 << (self.count - 1)

    def _node(self, value, label: str):
        if type(value) is Record and value[0].fields:
            own = self._atom(f"the shape of {label}")
            children = {f: self._node(v, f"{label}.{f}") for f, v in value.items()}
        elif isinstance(value, tuple) and type(value) is not Record and 0 < len(value) <= MAX_UNROLL:
            own = self._atom(f"the length of {label}")
            children = {i: self._node(v, f"{label}[{i}]") for i, v in enumerate(value)}
        else:
            bit = self._atom(label)
            return (bit, None, bit)
        full = own
        for child in children.values():
            full |= child[0]
        return (full, children, own)

    def _walk(self, location: tuple):
        """``(own atoms of the nodes passed, deepest node reached, how the
        path ended)``: ``None`` at that node, ``"dyn"`` at a key that stands
        for any element of it, ``"off"`` at a key its initial shape lacks."""
        node = self.roots.get(location[0])
        if node is None:
            return 0, None, None
        passed = 0
        for key in location[1:]:
            children = node[1]
            if children is None:
                return passed, node, "off"
            if key is _DYNAMIC:
                return passed, node, "dyn"
            if type(key) is bool:
                key = int(key)
            if type(key) is int and key < 0:
                if self.unstable < 0 or node[2] & self.unstable:
                    return passed, node, "dyn"
                key += len(children)
            child = children.get(key)
            if child is None:
                return passed, node, "off"
            passed |= node[2]
            node = child
        return passed, node, None

    def read_mask(self, location: tuple) -> int:
        """Reading a location: the shapes on the way and all of its value."""
        passed, node, _ = self._walk(location)
        return passed | node[0] if node is not None else 0

    mask = read_mask

    def shape_mask(self, location: tuple) -> int:
        """Looking into the value at a location (to index it or set a part
        of it): the shapes on the way and its own shape."""
        passed, node, end = self._walk(location)
        if node is None:
            return 0
        return passed | (node[2] if end is None else node[0])

    def write_mask(self, location: tuple) -> int:
        """Writing a location: all of the node it names; a key that stands
        for any element, or one the initial shape lacks, writes every
        element but not the container's shape."""
        _, node, end = self._walk(location)
        if node is None:
            return 0
        if end is not None and node[1] is not None:
            return node[0] & ~node[2]
        return node[0]

    def describe(self, mask: int) -> str:
        """The atoms of a mask, for people."""
        names = [label for i, label in enumerate(self.labels) if mask >> i & 1]
        return ", ".join(names) if names else "nothing"


class Accesses:
    """Read and write locations of code, for one thread instance."""

    def __init__(self, shared: frozenset, params: dict, tid: int | None):
        self.shared = shared
        self.consts = dict(params)
        if tid is not None:
            self.consts["tid"] = tid
        self.reads: set = set()
        self.writes: set = set()
        self.shapes: set = set()       # containers looked into to write a part of them

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
            if _DYNAMIC in location:         # cut at a dynamic key: any part below
                self.shapes.add(location)
            elif len(location) > 1:
                self.shapes.add(location[:-1])
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


def _analyse(code, shared: frozenset, params: dict, tid: int | None) -> Accesses:
    acc = Accesses(shared, params, tid)
    if code is not None:
        if code.is_expr:
            acc.expr(code.tree.body, {})
        else:
            acc.block(code.tree.body, {})
    return acc


def code_accesses(code, shared: frozenset, params: dict, tid: int | None) -> tuple:
    """``(reads, writes)`` location sets of a piece of code."""
    acc = _analyse(code, shared, params, tid)
    return acc.reads, acc.writes


def code_masks(atoms: Atoms, code, shared: frozenset, params: dict, tid: int | None) -> tuple:
    """``(reads, writes)`` atom masks of a piece of code; a write also reads
    the shapes of the containers it looks into."""
    acc = _analyse(code, shared, params, tid)
    reads = writes = 0
    for location in acc.reads:
        reads |= atoms.read_mask(location)
    for location in acc.shapes:
        reads |= atoms.shape_mask(location)
    for location in acc.writes:
        writes |= atoms.write_mask(location)
    return reads, writes


def conjunct_nodes(code, shared: frozenset, params: dict) -> list:
    """An invariant's conjuncts, as ``(expression node, env)`` pairs.

    ``A and B`` splits; so does ``all(E for i in range(N))`` with constant
    N, into one conjunct per value of ``i`` (``env`` maps ``i`` to it).
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
        result.append((node, env))

    split(code.tree.body, {})
    return result


def conjunct_reads(node, env: dict, shared: frozenset, params: dict) -> set:
    part = Accesses(shared, params, None)
    part.expr(node, env)
    return part.reads


def conjuncts(code, shared: frozenset, params: dict) -> list:
    """Read-location sets of an invariant's conjuncts (see ``conjunct_nodes``)."""
    return [conjunct_reads(node, env, shared, params) for node, env in conjunct_nodes(code, shared, params)]


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
        self.shared = frozenset(program.shared_names)
        self.params = program.params
        atoms = Atoms(list(program.scenario.state))
        self.atoms = atoms
        # Pass 1 treats every negative index as any element, to learn which
        # shapes may be written; pass 2 resolves negative indices where the
        # list's length cannot change.
        self._threads(program)
        atoms.unstable = _all(_all(w) for w in self.writes)
        self._threads(program)
        self._properties(program)

    def code_masks(self, code, tid: int | None) -> tuple:
        return code_masks(self.atoms, code, self.shared, self.params, tid)

    def _threads(self, program) -> None:
        self.reads, self.writes, self.guards = [], [], []
        self.future_reads, self.future_writes = [], []
        for thread in program.threads:
            r, w, g = [], [], []
            for instr in thread.instrs:
                node = instr.node
                guard = self.code_masks(getattr(node, "await_", None), thread.copy)[0]
                code = node.do if hasattr(node, "do") else node.cond
                reads, writes = self.code_masks(code, thread.copy)
                r.append(reads | guard)
                w.append(writes)
                g.append(guard)
            fr, fw = _future(thread, r, w)
            self.reads.append(r + [0])
            self.writes.append(w + [0])
            self.guards.append(g + [0])
            self.future_reads.append(fr + [0])
            self.future_writes.append(fw + [0])

    def _properties(self, program) -> None:
        atoms, shared, params = self.atoms, self.shared, self.params
        self.conjuncts = []
        self.conjunct_props = []            # per conjunct: the index of its invariant
        for k, (prop, _) in enumerate(program.invariants):
            for node, env in conjunct_nodes(prop.code, shared, params):
                self.conjuncts.append(_mask(atoms, conjunct_reads(node, env, shared, params)))
                self.conjunct_props.append(k)
        n = len(program.threads)
        total_r = [self.future_reads[t][program.threads[t].entry] | _all(self.reads[t]) for t in range(n)]
        total_w = [_all(self.writes[t]) for t in range(n)]
        self.neighbours = [tuple(u for u in range(n) if u != t and
                                 (total_w[t] & (total_r[u] | total_w[u]) or total_w[u] & total_r[t]))
                           for t in range(n)]
        self.conjunct_writers = [tuple(t for t in range(n) if total_w[t] & c) for c in self.conjuncts]
        finals = 0
        for prop, _ in program.finals:
            finals |= self.code_masks(prop.code, None)[0]
        self.final_reads = finals
        self.written = _all(total_w)


def _all(masks) -> int:
    result = 0
    for m in masks:
        result |= m
    return result


def _mask(atoms: Atoms, locations) -> int:
    result = 0
    for location in locations:
        result |= atoms.read_mask(location)
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
