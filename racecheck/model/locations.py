"""Which shared locations a piece of code may read and write.

A *location* is a shared variable followed by constant field names and
element indices: ``folio.dirty``, ``pte[2]``, ``pages[1].locked``. Indices
that are literals, params, ``tid`` or arithmetic on those (``+ - * // %``)
are constants, and so are ``len(L)`` of a shared list ``L`` whose length no
step can change and a shared leaf no step writes (its initial value: which
atoms no step writes is worked out by ``model.access.AccessTables``); any
other index (``pages[i]`` with ``i`` a local) stands for every element. A comprehension over ``range(N)`` with a constant ``N``
is unrolled.

Locations become bit masks over the *atoms* of the initial state
(``Atoms``): the leaves of every shared value (each field of a record, each
element of a list of up to 64 elements). A location covers the atoms below
it. If a value changes shape at run time (a list grows, a null becomes a
record), a location that no longer fits the initial shape covers its whole
variable: masks may only over-approximate, never miss an access.
"""
from __future__ import annotations

import ast

from racecheck.scenario.values import Record

MAX_UNROLL = 64
DYNAMIC = object()                      # an index that is not a constant


class Choice:
    """An index read from a leaf that may hold only these values (each
    write to it assigns a constant): it stands for each of them."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = tuple(sorted(values, key=repr))

    def __repr__(self) -> str:
        return f"Choice{self.values!r}"


def _expand(location: tuple) -> list:
    """The locations a location with ``Choice`` keys stands for."""
    result = [()]
    for key in location:
        keys = key.values if type(key) is Choice else (key,)
        result = [prefix + (k,) for prefix in result for k in keys]
    return result


def _chosen(location: tuple) -> bool:
    return any(type(key) is Choice for key in location)


class Element:
    """What a comprehension variable stands for in ``for x in L`` over a
    shared list ``L`` of fixed length, unrolled: the element at
    ``location`` (``("pages", 2)``), read when ``x`` is read."""

    __slots__ = ("location",)

    def __init__(self, location: tuple):
        self.location = location

    def __repr__(self) -> str:
        return f"Element({self.location!r})"


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
    every element. ``unwritten`` and ``values`` say which leaves keep their
    initial value or take one of a few constants; ``AccessTables`` sets
    all three, as a fixpoint over every step's writes.
    """

    def __init__(self, shared: list):
        self.roots: dict = {}
        self.count = 0
        self.labels: list = []          # atom number -> what it stands for
        self.unstable = -1              # shape atoms some step may write (-1: not known yet)
        self.int_leaves = 0             # leaves that hold an int (not a bool) initially
        self.unwritten = 0              # atoms no step may write (0: not known yet; see AccessTables)
        self.asked = False              # set when an answer depended on unstable, unwritten or values
        self.values: dict = {}          # leaf atom -> the values it may hold, for leaves some step
                                        # writes, always with a constant (see AccessTables)
        self.initial: dict = {}         # leaf atom -> its initial int or str value
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
            if type(value) is int:
                self.int_leaves |= bit
            if type(value) in (int, str):
                self.initial[bit] = value
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
            if key is DYNAMIC:
                return passed, node, "dyn"
            if type(key) is bool:
                key = int(key)
            if type(key) is int and key < 0:
                self.asked = True
                if self.unstable < 0 or node[2] & self.unstable:
                    return passed, node, "dyn"
                key += len(children)
            child = children.get(key)
            if child is None:
                return passed, node, "off"
            passed |= node[2]
            node = child
        return passed, node, None

    def fixed_length(self, location: tuple):
        """The length of the list at ``location`` if no step can change it
        (its shape atom is not in ``unstable``), else None."""
        if _chosen(location):
            return None
        self.asked = True
        _, node, end = self._walk(location)
        if node is None or end is not None or node[1] is None or self.unstable < 0 or node[2] & self.unstable:
            return None
        if not all(type(key) is int for key in node[1]):
            return None                 # a record
        return len(node[1])

    def constant_value(self, location: tuple):
        """The value of a leaf no step may write (its initial value); a
        ``Choice`` for a leaf that steps write only with constants; else
        DYNAMIC."""
        if _chosen(location):
            return DYNAMIC
        self.asked = True
        _, node, end = self._walk(location)
        if node is None or end is not None or node[1] is not None:
            return DYNAMIC
        if node[2] & self.unwritten:
            return self.initial.get(node[2], DYNAMIC)
        values = self.values.get(node[2])
        if values is None:
            return DYNAMIC
        return next(iter(values)) if len(values) == 1 else Choice(values)

    def _each(self, mask_of, location: tuple) -> int:
        mask = 0
        for one in _expand(location):
            mask |= mask_of(one)
        return mask

    def read_mask(self, location: tuple) -> int:
        """Reading a location: the shapes on the way and all of its value."""
        if _chosen(location):
            return self._each(self.read_mask, location)
        passed, node, _ = self._walk(location)
        return passed | node[0] if node is not None else 0

    mask = read_mask

    def shape_mask(self, location: tuple) -> int:
        """Looking into the value at a location (to index it or set a part
        of it): the shapes on the way and its own shape."""
        if _chosen(location):
            return self._each(self.shape_mask, location)
        passed, node, end = self._walk(location)
        if node is None:
            return 0
        return passed | (node[2] if end is None else node[0])

    def write_mask(self, location: tuple) -> int:
        """Writing a location: all of the node it names; a key that stands
        for any element, or one the initial shape lacks, writes every
        element but not the container's shape."""
        if _chosen(location):
            return self._each(self.write_mask, location)
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
    """Read and write locations of code, for one thread instance.

    With ``atoms`` (whose ``unstable`` is known), ``len(L)`` of a shared
    list of fixed length is a constant. Besides ``reads`` and ``writes``
    it keeps apart what a *counter update* touches (``x += c``, ``x -= c``
    or ``x = c`` with ``c`` a constant int, ``x`` a constant location):
    ``counted`` (its location) and ``quiet`` (the read of ``x += c``,
    which only feeds ``x`` itself). ``reads`` and ``writes`` hold every
    access, counter updates included; ``loud`` the reads that are not
    quiet and ``other_writes`` the writes that are not counter updates
    (``AccessTables.unobserved`` uses them).
    """

    def __init__(self, shared: frozenset, params: dict, tid: int | None, atoms: Atoms | None = None):
        self.shared = shared
        self.consts = dict(params)
        if tid is not None:
            self.consts["tid"] = tid
        self.atoms = atoms
        self.reads: set = set()
        self.writes: set = set()
        self.shapes: set = set()       # containers looked into to write a part of them
        self.loud: set = set()         # reads other than a counter update's own
        self.counted: set = set()      # locations a counter update writes
        self.other_writes: set = set()
        self.assigns: set = set()      # (location, constant int or str) of each ``x = c``
        self.varied: set = set()       # locations written other than by ``x = c``

    # -- statements ---------------------------------------------------------
    def block(self, stmts, env: dict) -> None:
        for node in stmts:
            self.stmt(node, env)

    def stmt(self, node, env: dict) -> None:
        if isinstance(node, ast.Assign):
            self.target(node.targets[0], env, also_read=False, counter=self._int_constant(node.value, env),
                        value=self.constant(node.value, env))
            value = node.value
            args = value.args if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "choose" else [value]
            for arg in args:
                self.expr(arg, env)
        elif isinstance(node, ast.AugAssign):
            counter = isinstance(node.op, (ast.Add, ast.Sub)) and self._int_constant(node.value, env)
            self.target(node.target, env, also_read=True, counter=counter)
            self.expr(node.value, env)
        elif isinstance(node, ast.If):
            self.expr(node.test, env)
            self.block(node.body, env)
            self.block(node.orelse, env)
        elif isinstance(node, ast.Assert):
            self.expr(node.test, env)
            if node.msg is not None:
                self.expr(node.msg, env)

    def _int_constant(self, node, env: dict) -> bool:
        return type(self.constant(node, env)) is int

    def target(self, node, env: dict, also_read: bool, counter: bool = False, value=DYNAMIC) -> None:
        location = self.location(node, env)
        if location is None:
            return
        if location[0] in self.shared:
            self.writes.add(location)
            counter = counter and DYNAMIC not in location
            (self.counted if counter else self.other_writes).add(location)
            if type(value) in (int, str) and DYNAMIC not in location:
                self.assigns.add((location, value))
            else:
                self.varied.add(location)
            if DYNAMIC in location:          # cut at a dynamic key: any part below
                self.shapes.add(location)
            elif len(location) > 1:
                self.shapes.add(location[:-1])
            if also_read:
                self.reads.add(location)
                if not counter:
                    self.loud.add(location)
        self.index_reads(node, env)

    def read(self, location: tuple) -> None:
        self.reads.add(location)
        self.loud.add(location)

    # -- expressions --------------------------------------------------------
    def expr(self, node, env: dict) -> None:
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            location = self.location(node, env)
            if location is not None:
                if location[0] in self.shared:
                    self.read(location)
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
        if len(gens) == 1 and isinstance(gens[0].target, ast.Name):
            elements = self.elements(gens[0].iter, env)
            if elements is not None:        # each element read where it is used
                self.shapes.add(elements[0].location[:-1])     # its length
                self.index_reads(gens[0].iter, env)
                for element in elements:
                    inner = {**env, gens[0].target.id: element}
                    for cond in gens[0].ifs:
                        self.expr(cond, inner)
                    self.expr(node.elt, inner)
                return
        if len(gens) == 1:
            values = self.constant_range(gens[0].iter, env)
            if values is not None and isinstance(gens[0].target, ast.Name):
                self.expr(gens[0].iter, env)  # what its bounds read (``len(L)`` reads L)
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
                    inner[name.id] = DYNAMIC
            for cond in gen.ifs:
                self.expr(cond, inner)
        self.expr(node.elt, inner)

    def constant_range(self, node, env: dict):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "range"):
            return None
        args = [self.constant(a, env) for a in node.args]
        if any(a is DYNAMIC or type(a) is not int for a in args):
            return None
        try:
            values = range(*args)
        except (TypeError, ValueError):
            return None
        return list(values) if len(values) <= MAX_UNROLL else None

    def elements(self, node, env: dict):
        """``[Element, ...]`` for each element of a shared list of fixed
        length that ``node`` names, or None."""
        if self.atoms is None or not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            return None
        location = self.location(node, env)
        if location is None or location[0] not in self.shared or DYNAMIC in location:
            return None
        n = self.atoms.fixed_length(location)
        return None if n is None else [Element(location + (k,)) for k in range(n)]

    def location(self, node, env: dict):
        """``(var, key, ...)`` for a variable reference, or None if not one."""
        keys = []
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Attribute):
                keys.append(node.attr)
            else:
                keys.append(self.constant(node.slice, env))
            node = node.value
        if isinstance(node, ast.Name) and isinstance(env.get(node.id), Element):
            base = env[node.id].location
        elif not isinstance(node, ast.Name) or node.id in env:
            if isinstance(node, ast.Name) or not keys:
                return None
            self.expr(node, env)          # e.g. a call's result indexed
            return None
        else:
            base = (node.id,)
        keys.reverse()
        if DYNAMIC in keys:
            keys = keys[:keys.index(DYNAMIC) + 1]
        return base + tuple(keys)

    def index_reads(self, node, env: dict) -> None:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Subscript):
                self.expr(node.slice, env)
            node = node.value

    def constant(self, node, env: dict):
        """The value of an index expression if it is constant, else DYNAMIC."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env:
                value = env[node.id]
                return value if isinstance(value, (int, str)) else DYNAMIC
            if node.id in self.consts and node.id not in self.shared:
                value = self.consts[node.id]
                return value if isinstance(value, (int, str)) else DYNAMIC
            return self._state_value(node, env)
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self._state_value(node, env)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.constant(node.operand, env)
            return -value if type(value) is int else DYNAMIC
        if isinstance(node, ast.BinOp) and type(node.op) in _FOLDED:
            left, right = self.constant(node.left, env), self.constant(node.right, env)
            if type(left) is int and type(right) is int:
                return _FOLDED[type(node.op)](left, right)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "len" and len(node.args) == 1:
            return self._length(node.args[0], env)
        return DYNAMIC

    def _state_value(self, node, env: dict):
        """A shared leaf no step writes is a constant (its initial value);
        one that steps write only with constants, a ``Choice`` of them."""
        if self.atoms is None:
            return DYNAMIC
        location = self.location(node, env)
        if location is None or location[0] not in self.shared or DYNAMIC in location:
            return DYNAMIC
        return self.atoms.constant_value(location)

    def _length(self, node, env: dict):
        """``len()`` of a shared list of fixed length, else DYNAMIC."""
        elements = self.elements(node, env)
        return DYNAMIC if elements is None else len(elements)


def _floor_div(a: int, b: int):
    return a // b if b else DYNAMIC      # division by zero: the step fails, no location


def _mod(a: int, b: int):
    return a % b if b else DYNAMIC


_FOLDED = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.FloorDiv: _floor_div, ast.Mod: _mod}
