"""Step code compiled over packed states (``model.packed``).

``PackedUnit`` is ``model.compile.Unit`` with a different idea of where a
variable lives: a read of a state variable, a field or an element becomes
a shift and a mask of the integer ``s`` (an element picked by an index read
at run time: a shift by index times the element's width), a write masks
the old bits out and ors the new ones in. Everything else is emitted by
``Unit`` itself, over the same runtime helpers. What the emitted code is
not sure of raises (``_SLOW``, or the helper's own error); the caller runs
the interpreter instead.
"""

from __future__ import annotations

import ast
import copy

from racecheck.model import runtime
from racecheck.model.compile import Names, Unit, _reset
from racecheck.model.packed_layout import Layout, Leaf, ListNode, RecordNode, decode_source, encode, strict_key
from racecheck.scenario.values import Record


class _Slow(Exception):
    """The fast code hands this transition to the interpreter."""


_SLOW = _Slow()


def _ix(index, length: int) -> int:
    """An element index for the fast code: Python's rules for an int in
    range, anything else to the interpreter."""
    if index.__class__ is int:
        if 0 <= index < length:
            return index
        if -length <= index < 0:
            return index + length
    raise _SLOW


def _put(s: int, node, base: int, value) -> int:
    """``s`` with the container ``node`` (its container at bit ``base``)
    holding ``value``."""
    at = base + node.offset
    return s & ~(((1 << node.size) - 1) << at) | encode(node, value, base)


class PackedUnit(Unit):
    """``model.compile.Unit`` over a packed integer ``s``."""

    def __init__(self, names: Names, filename: str, layout: Layout, pc_leaf: Leaf | None = None):
        super().__init__(names, filename)
        self.layout = layout
        self.pc_leaf = pc_leaf
        self.namespace: dict = {}
        self.full = (1 << layout.bits) - 1     # masks are positive: a state has no bit past it

    # -- functions ----------------------------------------------------------
    def guard(self, fname: str, code) -> None:
        self._whole = code.tree
        super().guard(fname, code)

    def action(self, fname: str, code, nxt: int, ret: int, traced: bool = False) -> None:
        self._whole = code.tree if code is not None else None
        lines = [f"def {fname}(s, _ch=None):"]
        if code is not None and _reset(code.tree):
            lines.append(_reset(code.tree).rstrip("\n"))
        if code is not None:
            self.block(code.tree.body, lines, 1, ret, False)
        lines.append(f"    return {self._goto(nxt)}")
        self.chunks.append("\n".join(lines) + "\n")

    def branch(self, fname: str, code, then: int, orelse: int, traced: bool = False) -> None:
        self._whole = code.tree
        test = self.expr(code.tree.body, "s")
        if _reset(code.tree.body):
            test = f"(_work.__setitem__(0, 0) or {test})"
        self.chunks.append(f"def {fname}(s, _ch=None):\n    return {self._goto(then)} if {test} else "
                           f"{self._goto(orelse)}\n")

    def goto_keep(self) -> int:
        """The mask a step's ``return s & K | C`` keeps all but the pc with."""
        leaf = self.pc_leaf
        return self.full & ~(leaf.group.mask << leaf.offset)

    def _goto(self, pc: int) -> str:
        return f"s & {self.goto_keep()} | {pc << self.pc_leaf.offset}"

    def compile(self, consts: dict) -> dict:
        namespace = dict(runtime.NAMESPACE)
        namespace.update(self.namespace)
        namespace.update({"_ix": _ix, "_put": _put, "_SLOW": _SLOW, "_R": Record, "int": int,
                          "_checked_value": runtime.checked_value, "_tuple": tuple})
        namespace.update({f"P_{k}": v for k, v in consts.items()})
        source = "\n".join(self.chunks)
        exec(compile(source, self.filename, "exec"), namespace)  # generated code only
        namespace["__source__"] = source
        return namespace

    # -- statements -----------------------------------------------------------
    def stmt(self, node, lines: list, depth: int, ret: int, traced: bool) -> None:
        if isinstance(node, ast.Return):
            lines.append("    " * depth + f"return {self._goto(ret)}")
            return
        self._int_value = False
        self._bound = None
        if isinstance(node, ast.Assign):
            self._int_value = self._is_int(node.value, frozenset())
            self._bound = self._int_bound(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)) \
                and self._is_int(node.target, frozenset()) and self._is_int(node.value, frozenset()):
            # int += int is Python's + (model.runtime.add adds nothing for ints)
            rhs = self.expr(node.value, "s")
            sign = "+" if isinstance(node.op, ast.Add) else "-"
            self._int_value = True
            self.store(node.target, lambda old: f"({old} {sign} {rhs})", lines, "    " * depth, False,
                       reads_old=True)
            return
        super().stmt(node, lines, depth, ret, False)

    def store(self, target, make_value, lines: list, pad: str, traced: bool, reads_old: bool) -> None:
        chain = []
        node = target
        while not isinstance(node, ast.Name):
            chain.append(node)
            node = node.value
        chain.reverse()
        n = next(self._tmp)
        where, base, rest = self._resolve(node.id, chain, frozenset(), lines, pad, f"_i{n}_")
        if base is not None and base != "0" and not base.isdigit():
            lines.append(f"{pad}_b{n} = {base}")
            base = f"_b{n}"
        inside = len(chain) > len(rest)      # an element or field of a variable laid out in place
        if not rest:
            old = self._read(where, base) if reads_old else None
            src = make_value(old)
            if type(where) is Leaf and self._write_constant(where, base, src, lines, pad):
                return
            lines.append(f"{pad}_n{n} = {src}")
            is_int = getattr(self, "_int_value", False)
            self._write(where, base, f"_n{n}", lines, pad, n, is_int, getattr(self, "_bound", None))
            if inside and not is_int and not _scalar_literal(src):
                self._check_root(node.id, f"_n{n}", lines, pad)
            return
        # past a leaf (a value held whole): rebuild it as model.compile does
        lines.append(f"{pad}_c{n}_0 = {self._read(where, base)}")
        for j, acc in enumerate(rest):
            prev = f"_c{n}_{j}"
            if isinstance(acc, ast.Attribute):
                getter = f"_getf({prev}, {acc.attr!r})"
            else:
                lines.append(f"{pad}_k{n}_{j} = {self.expr(acc.slice, 's')}")
                getter = f"_geti({prev}, _k{n}_{j})"
            if j < len(rest) - 1 or reads_old:
                lines.append(f"{pad}_c{n}_{j + 1} = {getter}")
        lines.append(f"{pad}_n{n} = {make_value(f'_c{n}_{len(rest)}')}")
        value = f"_n{n}"
        for j in range(len(rest) - 1, -1, -1):
            acc = rest[j]
            if isinstance(acc, ast.Attribute):
                value = f"_setf(_c{n}_{j}, {acc.attr!r}, {value})"
            else:
                value = f"_seti(_c{n}_{j}, _k{n}_{j}, {value})"
        lines.append(f"{pad}_m{n} = {value}")
        self._write(where, base, f"_m{n}", lines, pad, n)
        if inside:
            self._check_root(node.id, f"_n{n}", lines, pad)

    def _check_root(self, name: str, value: str, lines: list, pad: str) -> None:
        """After a list or record was written into an element or field of
        ``name``: the variable's new value within the value limits
        (``runtime._checked_replace``, which the interpreter applies at
        every level), else an error (the interpreter then says which)."""
        root = self.layout.slots[self.names.slots[name]]
        lines.append(f"{pad}if {value}.__class__ is _tuple or {value}.__class__ is _R:")
        lines.append(f"{pad}    _checked_value({self._read(root, '0')})")

    def _write_constant(self, leaf, base: str, src: str, lines: list, pad: str) -> bool:
        """Emit the write of a literal that fits its leaf; False if it is not one."""
        group = leaf.group
        at = _plus(base, leaf.offset)
        if not at.isdigit():
            return False
        at = int(at)
        keep = self.full & ~(group.mask << at)
        if group.kind == "bool" and src in ("True", "False"):
            lines.append(f"{pad}s = s | {1 << at}" if src == "True" else f"{pad}s = s & {keep}")
            return True
        if group.kind == "int" and src.isdigit() and not int(src) >> group.width:
            lines.append(f"{pad}s = s & {keep} | {int(src) << at}")
            return True
        if group.kind == "sym" and _scalar_literal(src):
            value = ast.literal_eval(src)
            # numbers never change; a string is equal to nothing but itself,
            # so numbering it now cannot make look-alikes meet
            code = group.intern(value) if type(value) is str else group.codes.get(strict_key(value))
            if code is not None and code >= 0:
                lines.append(f"{pad}s = s & {keep} | {code << at}")
                return True
        return False

    def _write(self, node, base: str, value: str, lines: list, pad: str, n: int, is_int: bool = False,
               bound: int | None = None) -> None:
        """Emit the write of ``value`` (an int if ``is_int``, at most
        ``bound`` if that is known) into ``node``; what does not fit
        raises ``_SLOW``."""
        if type(node) is not Leaf:
            lines.append(f"{pad}s = _put(s, _N{id(node)}, {base}, {value})")
            self.namespace[f"_N{id(node)}"] = node
            return
        group = node.group
        at = _plus(base, node.offset)
        if at.isdigit():
            keep = str(self.full & ~(group.mask << int(at)))
        else:
            lines.append(f"{pad}_a{n} = {at}")
            at = f"_a{n}"
            keep = f"~({group.mask} << {at})"
        if group.kind == "bool":
            lines.append(f"{pad}if {value} is True:")
            lines.append(f"{pad}    s = s | 1 << {at}")
            lines.append(f"{pad}elif {value} is False:")
            lines.append(f"{pad}    s = s & {keep}")
            lines.append(f"{pad}else:")
            lines.append(f"{pad}    raise _SLOW")
            return
        if group.kind == "int":
            if not (is_int and bound is not None and bound <= group.mask):
                check = f"{value} >> {group.width}" if is_int else \
                    f"{value}.__class__ is not int or {value} >> {group.width}"
                lines.append(f"{pad}if {check}:")
                lines.append(f"{pad}    raise _SLOW")
            lines.append(f"{pad}s = s & {keep} | {value} << {at}")
            return
        gname = f"_G{id(group)}"
        self.namespace[gname] = group
        lines.append(f"{pad}_q{n} = {gname}.intern({value})")
        lines.append(f"{pad}if _q{n} < 0:")
        lines.append(f"{pad}    raise _SLOW")
        lines.append(f"{pad}s = s & {keep} | _q{n} << {at}")

    # -- expressions ----------------------------------------------------------
    def expr(self, node, sv: str, bound: frozenset = frozenset(), lazy: bool = False) -> str:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and self._is_int(node, bound):
            return f"({self.expr(node.left, 's', bound)} + {self.expr(node.right, 's', bound)})"
        if isinstance(node, ast.Call):
            unrolled = self._unrolled(node, bound)
            if unrolled is not None:
                return unrolled
        access = self._state_access(node, bound)
        if access is not None:
            where, base, rest = access
            code = self._read(where, base)
            for acc in rest:
                if isinstance(acc, ast.Attribute):
                    code = f"_getf({code}, {acc.attr!r})"
                else:
                    code = f"_geti({code}, {self.expr(acc.slice, 's', bound)})"
            return code
        return super().expr(node, "s", bound, lazy)

    def _unrolled(self, node, bound):
        """``all(E(p) for p in L)`` (or ``any``) over a list ``L`` of the
        state laid out element by element, as ``E(L[0]) and E(L[1]) and
        ...``: each element read in place, none decoded. Python's order
        and short-circuit; errors raise as they would. Only where the code
        counts no other work (``runtime.counted`` would count these items
        towards a limit this form does not check), else None."""
        if not (isinstance(node.func, ast.Name) and node.func.id in ("all", "any") and len(node.args) == 1
                and not node.keywords and isinstance(node.args[0], ast.GeneratorExp)):
            return None
        gen = node.args[0]
        if len(gen.generators) != 1:
            return None
        loop = gen.generators[0]
        if loop.ifs or loop.is_async or not isinstance(loop.target, ast.Name):
            return None
        access = self._state_access(loop.iter, bound)
        if access is None or access[2] or type(access[0]) is not ListNode or access[0].length > _UNROLL:
            return None
        if _spending(getattr(self, "_whole", None)) != 1:
            return None
        if any(isinstance(n, _SCOPES) for n in ast.walk(gen.elt)):
            return None
        name = loop.target.id
        items = []
        for i in range(access[0].length):
            elt = _Substitute(name, loop.iter, i).visit(copy.deepcopy(gen.elt))
            items.append(self.expr(elt, "s", bound))
        if not items:
            return "True" if node.func.id == "all" else "False"
        word = " and " if node.func.id == "all" else " or "
        return f"(True if ({word.join(items)}) else False)"

    def _resolve(self, name: str, chain: list, bound, lines, pad: str, tmp: str):
        """``(node, base, rest)``: the node a chain of accessors reaches
        through lists and records, the bit its container starts at (an
        expression), and the accessors left once a leaf is reached.
        ``lines``: emit index expressions as statements (stores), in order."""
        node = self.layout.slots[self.names.slots[name]]
        base = "0"
        for j, acc in enumerate(chain):
            if type(node) is ListNode and isinstance(acc, ast.Subscript):
                fixed = self._constant_index(acc.slice, node.length)
                if fixed is not None:
                    base = _plus(_plus(base, node.offset), node.stride * fixed)
                    node = node.elem
                    continue
                index = self.expr(acc.slice, "s", bound)
                if self._is_field(acc.slice, bound):
                    # a field's int is never negative: in range, it is
                    # itself; past the end, the tuple raises
                    self.namespace[f"_IX{node.length}"] = tuple(range(node.length))
                    index = f"_IX{node.length}[{index}]"
                else:
                    index = f"_ix({index}, {node.length})"
                if lines is not None:
                    lines.append(f"{pad}{tmp}{j} = {index}")
                    index = f"{tmp}{j}"
                at = _plus(base, node.offset)
                base = f"({at} + {node.stride} * {index})" if node.stride != 1 else f"({at} + {index})"
                node = node.elem
            elif type(node) is RecordNode and isinstance(acc, ast.Attribute) and acc.attr in node.fields:
                base = _plus(base, node.offset)
                node = node.fields[acc.attr]
            else:
                return node, base, chain[j:]
        return node, base, []

    def _constant_index(self, node, length: int):
        """The element a constant index (a literal, a param, ``tid``)
        picks, or None (not constant, or out of range: the interpreter's)."""
        value = self._constant(node)
        if type(value) is not int:
            return None
        if 0 <= value < length:
            return value
        if -length <= value < 0:
            return value + length
        return None

    def _constant(self, node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.names.params and node.id not in self.names.slots:
                return self.names.params[node.id]
            if node.id == "tid" and self.names.tid is not None and "tid" not in self.names.slots:
                return self.names.tid
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self._constant(node.operand)
            return -value if type(value) is int else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            left, right = self._constant(node.left), self._constant(node.right)
            if type(left) is int and type(right) is int:
                return left + right if isinstance(node.op, ast.Add) else left - right
        return None

    def _is_field(self, node, bound) -> bool:
        """Is ``node`` an int field read from the state (so never negative)?"""
        access = self._state_access(node, bound)
        return access is not None and not access[2] and type(access[0]) is Leaf and access[0].group.kind == "int"

    def _int_bound(self, node):
        """The largest value ``node`` can have when it is an int field
        read from the state, else None."""
        access = self._state_access(node, frozenset())
        if access is None:
            return None
        where, _, rest = access
        if rest or type(where) is not Leaf or where.group.kind != "int":
            return None
        return where.group.mask

    def _is_int(self, node, bound) -> bool:
        """Is ``node`` an int whatever the state (so ``+`` is Python's)?"""
        if type(self._constant(node)) is int:
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            return self._is_int(node.left, bound) and self._is_int(node.right, bound)
        access = self._state_access(node, bound)
        if access is not None:
            where, _, rest = access
            return not rest and type(where) is Leaf and where.group.kind == "int"
        return False

    def _state_access(self, node, bound):
        """``_resolve`` of a name, field or element chain rooted at a
        variable of the state, or None (a param, a comprehension variable,
        anything else)."""
        if not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            return None
        chain = []
        root = node
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            chain.append(root)
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in self.names.slots or root.id in bound:
            return None
        chain.reverse()
        return self._resolve(root.id, chain, bound, None, "", "")

    def _read(self, node, base: str) -> str:
        if type(node) is Leaf:
            return decode_source(node, "s", base, self.namespace)
        fname = f"_D{id(node)}"
        if fname not in self.namespace:
            names: dict = {}
            body = decode_source(node, "x", "0", names)
            namespace = dict(names)
            exec(compile(f"def {fname}(x):\n    return {body}\n", "<racecheck packed>", "exec"), namespace)
            self.namespace[fname] = namespace[fname]
        return f"{fname}(s >> {base})" if base != "0" else f"{fname}(s)"


_UNROLL = 64            # elements of a list an all()/any() is unrolled over, at most
_SCOPES = (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.Lambda)


def _spending(tree) -> int:
    """How many pieces of ``tree`` may count work (model.runtime): loops,
    range(), sum(), + and * (on lists); a large number for no tree."""
    if tree is None:
        return 1 << 30
    return sum(1 for n in ast.walk(tree)
               if isinstance(n, _SCOPES) or isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Mult))
               or isinstance(n, ast.Call) and getattr(n.func, "id", None) in ("range", "sum"))


class _Substitute(ast.NodeTransformer):
    """Replace the loop variable ``name`` by ``iterable[index]``."""

    def __init__(self, name: str, iterable, index: int):
        self.name, self.iterable, self.index = name, iterable, index

    def visit_Name(self, node):
        if node.id != self.name:
            return node
        return ast.copy_location(ast.Subscript(value=copy.deepcopy(self.iterable), slice=ast.Constant(self.index),
                                               ctx=ast.Load()), node)


def _scalar_literal(src: str) -> bool:
    """Is ``src`` the source of a literal str, int, bool or None?"""
    try:
        value = ast.literal_eval(src)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return type(value) in (str, int, bool) or value is None


def _plus(base: str, offset: int) -> str:
    if base.isdigit():
        return str(int(base) + offset)
    return base if offset == 0 else f"({base} + {offset})"
