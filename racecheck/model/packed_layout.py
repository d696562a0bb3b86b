"""Where each value of a state lives in one packed integer.

The flat state tuple (``model.program``) becomes a tree of nodes: a list of
fixed length is a ``ListNode`` whose elements share one template, a record
a ``RecordNode``, every atom a ``Leaf``: a run of bits at a fixed shift.
Leaves of the same position in every element of a list (``a[*]``,
``folio[*].locked``) form one *group* and share its encoding, so that an
element picked by an index read from the state is found by arithmetic:
element ``i`` starts ``i * stride`` bits after element 0. The threads'
pcs come first, in the lowest bits (every state's successors read them all).

Encodings, per group:

* ``int``: a non-negative ``int`` (never a ``bool``) below ``2 ** width``;
* ``bool``: one bit, ``True`` or ``False`` only;
* ``sym``: any value, by its number in the group's table (values are
  interned strictly: ``1`` and ``True`` get numbers of their own, and so
  do lists that hold them). The interpreter's search, though, takes
  states that are equal (``==``) for one: when a group meets two values
  that are equal but not alike, ``Relayout`` asks for ``"equal"`` and the
  search is left to the interpreter (``explore.packed``);
* ``pc``: a program counter, wide enough for every pc of its thread.

The layout is read off the initial states. A value that does not fit its
group (a wider integer, a new type, a list that changed length, a table
that ran out of numbers) raises ``Relayout`` naming the group and what it
needs; the search then starts again with that group widened or turned into
``sym`` (``explore.packed``). Layouts only grow, so this happens a bounded
number of times.
"""

from __future__ import annotations

from racecheck.scenario.values import Record

_INT_WIDTH = 4         # bits for an int group at first (values 0..15)
_SYM_WIDTH = 3         # bits for a sym group at first (8 distinct values)


class Relayout(Exception):
    """A value does not fit: ``key`` names the group, ``need`` the change;
    ``needs``: every group of the state that does not fit, and its change
    (``encode_state``), so that one restart widens them all."""

    def __init__(self, key: tuple, need, needs: dict | None = None):
        super().__init__(key, need)
        self.key, self.need = key, need
        self.needs = needs if needs is not None else {key: need}


class Group:
    """The encoding shared by the leaves at one position."""

    __slots__ = ("key", "kind", "width", "mask", "table", "codes", "equal")

    def __init__(self, key: tuple, kind: str, width: int):
        self.key, self.kind, self.width, self.mask = key, kind, width, (1 << width) - 1
        self.table: list = []          # sym: number -> value
        self.codes: dict = {}          # sym: strict key -> number
        self.equal: set = set()        # sym: the values interned, by equality

    def intern(self, value) -> int:
        """The number of ``value`` in a sym group; -1 when the table is
        full, -2 when it holds a value equal to ``value`` but not alike."""
        key = strict_key(value)
        code = self.codes.get(key)
        if code is None:
            code = len(self.table)
            if code > self.mask:
                return -1
            if value in self.equal:
                return -2
            self.equal.add(value)
            self.table.append(value)
            self.codes[key] = code
        return code


def strict_key(value):
    """A key equal only for values of the same types all the way down."""
    kind = type(value)
    if kind is tuple:
        return ("list",) + tuple(map(strict_key, value))
    if kind is Record:
        return ("record", value[0].fields) + tuple(map(strict_key, value[1:]))
    return (kind, value)


class Leaf:
    __slots__ = ("group", "offset")

    def __init__(self, group: Group, offset: int):
        self.group, self.offset = group, offset

    @property
    def size(self) -> int:
        return self.group.width


class ListNode:
    __slots__ = ("key", "length", "elem", "offset", "stride")

    def __init__(self, key, length, elem, offset):
        self.key, self.length, self.elem, self.offset = key, length, elem, offset
        self.stride = elem.size

    @property
    def size(self) -> int:
        return self.length * self.stride


class RecordNode:
    __slots__ = ("key", "shape", "fields", "offset", "size")

    def __init__(self, key, shape, fields: dict, offset: int, size: int):
        self.key, self.shape, self.fields, self.offset, self.size = key, shape, fields, offset, size


class Layout:
    """The node of every slot, with offsets relative to their container
    (a slot's node: relative to bit 0 of the state)."""

    def __init__(self, initial: list, pc_ends: dict, overrides: dict | None = None):
        """``initial``: the initial state tuples; ``pc_ends``: slot -> the
        largest pc of that thread; ``overrides``: group key -> ``("int",
        width)``, ``("sym", width)`` or ``"whole"`` (keep the value at this
        position as one sym leaf)."""
        self.overrides = dict(overrides or {})
        self.groups: dict = {}
        self.slots: list = []
        # the pcs first, in the lowest bits: the generated code reads
        # every thread's pc from every state, and small ints are cheaper
        pcs, offset = {}, 0
        for k in sorted(pc_ends):
            pcs[k] = Leaf(self._group((k,), "pc", max(1, pc_ends[k].bit_length())), offset)
            offset += pcs[k].size
        self.pc_width = offset          # bits the pcs take, from bit 0
        for k, values in enumerate(zip(*initial)):
            node = pcs.get(k)
            if node is None:
                node = self._node((k,), list(values), offset)
                offset += node.size
            self.slots.append(node)
        self.bits = offset
        for group in self.groups.values():
            if group.kind == "sym":
                for value in _values_at(group.key, initial):
                    code = group.intern(value)
                    if code < 0:
                        raise Relayout(group.key, ("sym", group.width * 2) if code == -1 else "equal")

    def _group(self, key, kind, width) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, kind, width)
        return group

    def _node(self, key, values: list, offset: int):
        wanted = self.overrides.get(key)
        if wanted is None:
            first = values[0]
            if type(first) is tuple and first and all(type(v) is tuple and len(v) == len(first) for v in values):
                elem = self._node(key + ("*",), [e for v in values for e in v], 0)
                return ListNode(key, len(first), elem, offset)
            if type(first) is Record and all(type(v) is Record and v[0] is first[0] for v in values):
                fields, at = {}, 0
                for i, name in enumerate(first[0].fields, start=1):
                    node = self._node(key + ("." + name,), [v[i] for v in values], at)
                    fields[name] = node
                    at += node.size
                return RecordNode(key, first[0], fields, offset, at)
            if all(type(v) is bool for v in values):
                return Leaf(self._group(key, "bool", 1), offset)
            if all(type(v) is int and v >= 0 for v in values):
                top = max(values).bit_length()
                return Leaf(self._group(key, "int", max(_INT_WIDTH, top + 1)), offset)
        if isinstance(wanted, tuple):
            return Leaf(self._group(key, *wanted), offset)
        return Leaf(self._group(key, "sym", max(_SYM_WIDTH, len(values).bit_length() + 1)), offset)


def widen(overrides: dict, relayout: Relayout, layout: Layout | None = None) -> dict:
    """``overrides`` changed so that the values that did not fit fit.
    With ``layout`` (the one they did not fit), the other groups of its
    kind widen alike: an int group that must widen widens every narrower
    int group, a sym table that must grow every smaller one, an int
    group that must turn sym turns every int group sym. Variables that
    outgrow their layout one after another (counters passing 15, going
    below 0, strings taking new values) then cost one restart, not one
    each."""
    changed = dict(overrides)
    changed.update(relayout.needs)
    if layout is None:
        return changed
    eager: dict = {}
    for key, need in relayout.needs.items():
        if type(need) is not tuple:
            continue
        kind, width = need
        was = layout.groups.get(key)
        turns_sym = kind == "sym" and was is not None and was.kind == "int"
        for other, group in layout.groups.items():
            if group.kind == "int" and (kind == "int" and group.width < width or turns_sym):
                want = ("sym", max(_SYM_WIDTH, group.width + 1)) if turns_sym else ("int", width)
            elif group.kind == "sym" and kind == "sym" and not turns_sym and group.width < width:
                want = ("sym", width)
            else:
                continue
            eager[other] = want if other not in eager else _larger(eager[other], want)
    for key, need in eager.items():
        if key not in relayout.needs:
            changed[key] = need
    return changed


def _larger(a, b):
    """The need that covers both ``a`` and ``b`` (for one group)."""
    for word in ("equal", "whole"):
        if word in (a, b):
            return word
    if a[0] != b[0]:
        return a if a[0] == "sym" else b
    return a if a[1] >= b[1] else b


def _misfits(node, value, base: int, needs: dict) -> None:
    """Collect in ``needs`` every group where ``value`` does not fit."""
    if type(node) is Leaf:
        try:
            encode(node, value, base)
        except Relayout as relayout:
            old = needs.get(relayout.key)
            needs[relayout.key] = relayout.need if old is None else _larger(old, relayout.need)
        return
    at = base + node.offset
    if type(node) is ListNode:
        if type(value) is not tuple or len(value) != node.length:
            needs[node.key] = "whole"
            return
        for i, item in enumerate(value):
            _misfits(node.elem, item, at + i * node.stride, needs)
        return
    if type(value) is not Record or value[0] is not node.shape:
        needs[node.key] = "whole"
        return
    for i, field in enumerate(node.fields.values(), start=1):
        _misfits(field, value[i], at, needs)


def _values_at(key: tuple, initial: list) -> list:
    """Every value at a group's position in the initial states."""
    values = [s[key[0]] for s in initial]
    for part in key[1:]:
        if part == "*":
            values = [e for v in values for e in v]
        else:
            values = [v[v[0].index[part[1:]]] for v in values]
    return values


# -- encoding and decoding ---------------------------------------------------

def encode(node, value, base: int) -> int:
    """The bits of ``value`` placed at ``base + node.offset``; raises
    ``Relayout`` when it does not fit."""
    at = base + node.offset
    if type(node) is Leaf:
        group = node.group
        kind = group.kind
        if kind == "int" or kind == "pc":
            if type(value) is not int or value < 0:
                raise Relayout(group.key, ("sym", _SYM_WIDTH))
            if value >> group.width:
                raise Relayout(group.key, ("int", max(group.width * 2, value.bit_length())))
            return value << at
        if kind == "bool":
            if type(value) is not bool:
                raise Relayout(group.key, ("sym", _SYM_WIDTH))
            return int(value) << at
        code = group.intern(value)
        if code < 0:
            raise Relayout(group.key, ("sym", group.width * 2) if code == -1 else "equal")
        return code << at
    if type(node) is ListNode:
        if type(value) is not tuple or len(value) != node.length:
            raise Relayout(node.key, "whole")
        bits = 0
        for i, item in enumerate(value):
            bits |= encode(node.elem, item, at + i * node.stride)
        return bits
    if type(value) is not Record or value[0] is not node.shape:
        raise Relayout(node.key, "whole")
    bits = 0
    for i, field in enumerate(node.fields.values(), start=1):
        bits |= encode(field, value[i], at)
    return bits


def encode_state(layout: Layout, state: tuple) -> int:
    """The packed integer of ``state``; raises ``Relayout`` naming every
    group of it that does not fit (a state that sets hundreds of variables
    to values their layout cannot hold costs one restart, not hundreds)."""
    bits = 0
    try:
        for node, value in zip(layout.slots, state):
            bits |= encode(node, value, 0)
    except Relayout as first:
        needs: dict = {}
        for node, value in zip(layout.slots, state):
            _misfits(node, value, 0, needs)
        raise Relayout(first.key, first.need, needs) from None
    return bits


def decode_source(node, x: str, base: str, names: dict) -> str:
    """A Python expression for the value of ``node`` whose container
    starts at bit ``base`` (an expression) of the integer ``x``; ``names``
    collects the tables and shapes it refers to."""
    at = _plus(base, node.offset)
    if type(node) is Leaf:
        group = node.group
        read = f"{x} >> {at} & {group.mask}" if at != "0" else f"{x} & {group.mask}"
        if group.kind in ("int", "pc"):
            return f"({read})"
        if group.kind == "bool":
            names["_B"] = (False, True)
            return f"_B[{read}]"
        name = table_name(group)
        names[name] = group.table
        return f"{name}[{read}]"
    if type(node) is ListNode:
        items = [decode_source(node.elem, x, _plus(at, i * node.stride), names) for i in range(node.length)]
        return "(" + "".join(item + ", " for item in items) + ")"
    shape = f"_S{id(node.shape)}"
    names[shape] = node.shape
    names["_R"] = Record
    items = "".join(decode_source(f, x, at, names) + ", " for f in node.fields.values())
    return f"_R(({shape}, {items}))"


def table_name(group: Group) -> str:
    return "_T" + "".join(c if c.isalnum() else "_" for c in "_".join(map(str, group.key))) + f"_{id(group)}"


def _plus(base: str, offset: int) -> str:
    if base.isdigit():
        return str(int(base) + offset)
    return base if offset == 0 else f"({base} + {offset})"


def decoder(layout: Layout):
    """``decode(s) -> state tuple``, generated straight-line code."""
    names: dict = {}
    items = "".join(decode_source(node, "s", "0", names) + ",\n        " for node in layout.slots)
    source = f"def decode(s):\n    return ({items})\n"
    namespace = dict(names)
    namespace["__builtins__"] = {}
    exec(compile(source, "<racecheck packed decoder>", "exec"), namespace)  # generated code only
    return namespace["decode"]
