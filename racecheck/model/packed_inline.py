"""One straight-line ``expand`` function per variant (``model.packed``).

``PackedUnit`` compiles every step into a function ``a<pc>(s)`` that
returns the state after it, every ``await`` into ``g<pc>(s)``. Calling
them costs a Python call per step and a loop per chain of local steps;
this module pastes their bodies into one function instead::

    def expand(s_):
        o_ = []
        lo_ = s_ & 1023                   # the pcs (in the lowest bits)
        p_ = lo_ & 3                      # thread 0's pc, in place
        if p_ == 0:
            if <await of pc 0>:
                x_ = s_
                <body of a0, s renamed x_; each `return s & K | C`
                 (the pc after, q = C) becomes:>
                K0_0[q] = 1               # the transition 0 -> q was run
                o_.append(x_ & K | C)
        elif p_ == 1:
            ...
        p_ = lo_ & 12                     # thread 1 (pc 1 is 4), and so on
        return o_

A ``return`` inside an ``if`` takes the statements after the ``if`` into
both branches; ``return A if c else B`` becomes an ``if``. When the pc
after is a local-only step, its body follows in place (a few deep; past
that, ``run_local`` runs the rest of the chain), so a chain costs no call.
The code is the same code, in the same order, with the same names: what
it raises, it raises in the same cases. A body this cannot take apart (a
``return`` in a loop, a pc after that is not a constant) is called as
before. The pcs are found by a few comparisons, halving the range.
"""

from __future__ import annotations

import ast

_INLINE_DEPTH = 3        # local-only steps pasted after a step; past that, run_local
_MAX_LINES = 400         # lines of one step with its chain; past that, a call


# the runtime helpers that count work (model.runtime._spend): code that
# calls none of them needs no reset of the count
_SPENDING = frozenset({"_counted", "_add", "_mul", "range", "sum"})


class NotInlined(Exception):
    """This step's code is called, not pasted."""


def function_body(source: str, state: str = "x_") -> list:
    """The statements of the one function in ``source``, ``s`` renamed ``state``."""
    tree = ast.parse(source)
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef) or len(tree.body) != 1:
        raise NotInlined
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            if node.id == "s":
                node.id = state
            elif node.id == "_ch":
                raise NotInlined      # choose(): the careful way anyway
        elif isinstance(node, (ast.Lambda, ast.FunctionDef, ast.Global, ast.Nonlocal, ast.Yield,
                               ast.YieldFrom)) and node is not fn:
            raise NotInlined
    body = fn.body
    if not any(isinstance(n, ast.Name) and n.id in _SPENDING for n in ast.walk(fn)):
        body = [n for n in body if ast.unparse(n) != "_work[0] = 0"]    # nothing here counts work
    return body


def _constant(node):
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _constant(node.operand)
        return None if value is None else -value
    return None


def _fuse(write, value):
    """``value`` (``x_ & K | C``) with the write ``x_ = x_ & K1 | E``,
    ``x_ = x_ | B`` or ``x_ = x_ & K1`` before it folded in, or None. The
    write sets bits of a variable, the return those of the pc: apart."""
    if not (isinstance(write, ast.Assign) and len(write.targets) == 1 and isinstance(write.targets[0], ast.Name)
            and write.targets[0].id == "x_"):
        return None
    keep, pc = _constant(value.left.right), _constant(value.right)
    new = write.value
    if not isinstance(new, ast.BinOp):
        return None
    if isinstance(new.op, ast.BitOr) and _is_x(new.left) and _constant(new.right) is not None:
        text = f"x_ & {keep} | {_constant(new.right) | pc}"
    elif isinstance(new.op, ast.BitAnd) and _is_x(new.left) and _constant(new.right) is not None:
        text = f"x_ & {keep & _constant(new.right)} | {pc}"
    elif (isinstance(new.op, ast.BitOr) and isinstance(new.left, ast.BinOp) and isinstance(new.left.op, ast.BitAnd)
          and _is_x(new.left.left) and _constant(new.left.right) is not None):
        extra = ast.unparse(new.right)
        text = f"x_ & {keep & _constant(new.left.right)} | ({extra} | {pc})" if pc else \
            f"x_ & {keep & _constant(new.left.right)} | {extra}"
    else:
        return None
    return ast.parse(text, mode="eval").body


def _is_x(node) -> bool:
    return isinstance(node, ast.Name) and node.id == "x_"


def _has_return(node) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(node))


class Inliner:
    """Pastes one thread's step bodies (``sources[pc]``, or None where a
    step must be called) into ``expand``'s lines."""

    def __init__(self, t: int, shift: int, mask: int, keep: int, stops, chooses, sources, end: int):
        self.t, self.shift, self.mask, self.keep = t, shift, mask, keep
        self.stops, self.chooses, self.end = stops, chooses, end
        self.bodies: dict = {}
        for pc, source in enumerate(sources):
            if source is None or chooses[pc]:
                continue
            try:
                self.bodies[pc] = function_body(source)
            except (NotInlined, SyntaxError):
                pass

    def step(self, pc: int, pad: str) -> list:
        """Lines running the step at ``pc`` (the state in ``x_``) through
        its local chain, marking and appending the state after it."""
        if pc not in self.bodies:
            raise NotInlined
        lines = self._block(self.bodies[pc], pad, pc, 0)
        if len(lines) > _MAX_LINES:
            raise NotInlined
        return lines

    def _block(self, stmts: list, pad: str, first: int, depth: int) -> list:
        lines: list = []
        last = None                   # the statement just emitted, and its lines
        for i, node in enumerate(stmts):
            if isinstance(node, ast.Return):
                fused = None if last is None else _fuse(last[0], node.value)
                if fused is not None:
                    del lines[-last[1]:]
                return lines + self._return(node.value, pad, first, depth, fused)
            if isinstance(node, ast.If) and _has_return(node):
                rest = stmts[i + 1:]
                lines.append(f"{pad}if {ast.unparse(node.test)}:")
                lines += self._block(node.body + rest, pad + "    ", first, depth)
                lines.append(f"{pad}else:")
                lines += self._block(node.orelse + rest, pad + "    ", first, depth)
                return lines
            if _has_return(node):
                raise NotInlined
            emitted = [pad + line for line in ast.unparse(node).splitlines()]
            lines += emitted
            last = (node, len(emitted))
            if isinstance(node, ast.Raise):
                return lines
            if len(lines) > _MAX_LINES:
                raise NotInlined
        raise NotInlined              # a step always returns its state

    def _return(self, value, pad: str, first: int, depth: int, fused=None) -> list:
        """Lines for ``return value``: mark and append the state, or go on
        with the local step after it. ``fused``: the same value with the
        write before it folded in (that write's lines are gone)."""
        if isinstance(value, ast.IfExp):
            return ([f"{pad}if {ast.unparse(value.test)}:"] + self._return(value.body, pad + "    ", first, depth)
                    + [f"{pad}else:"] + self._return(value.orelse, pad + "    ", first, depth))
        after = self._target(value)
        if after is None:
            raise NotInlined
        src = ast.unparse(fused if fused is not None else value)
        mark = f"K{self.t}_{first}"
        if self.stops[after]:
            return [f"{pad}{mark}[{after}] = 1", f"{pad}o_.append({src})"]
        if fused is not None:
            return [f"{pad}x_ = {src}"] + self._return(ast.parse(f"x_ & {self.keep} | {after << self.shift}",
                                                                 mode="eval").body, pad, first, depth)
        if depth < _INLINE_DEPTH and after in self.bodies:
            # nothing reads a thread's own pc: the step after runs on x_
            # as it is, and the pc is set once the chain stops
            return self._block(self.bodies[after], pad, first, depth + 1)
        return [f"{pad}x_ = L{self.t}({src}, {depth})",
                f"{pad}{mark}[x_ >> {self.shift} & {self.mask}] = 1",
                f"{pad}o_.append(x_)"]

    def _target(self, value):
        """The pc a ``return x_ & K | C`` goes to, or None."""
        if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr)
                and isinstance(value.left, ast.BinOp) and isinstance(value.left.op, ast.BitAnd)
                and isinstance(value.left.left, ast.Name) and value.left.left.id == "x_"
                and _constant(value.left.right) == self.keep):
            return None
        to = _constant(value.right)
        if to is None or to & ~(self.mask << self.shift):
            return None
        after = to >> self.shift
        return after if after <= self.end else None


def guard_test(source: str) -> tuple:
    """``(lines before, test)`` of a guard function ``g(s)``, over ``s_``."""
    body = function_body(source, "s_")
    if not body or not isinstance(body[-1], ast.Return) or any(_has_return(n) for n in body[:-1]):
        raise NotInlined
    return [line for n in body[:-1] for line in ast.unparse(n).splitlines()], ast.unparse(body[-1].value)


def dispatch(pcs: list, pad: str, arm, shift: int = 0) -> list:
    """``if p_ == pc << shift: arm(pc)`` over ``pcs`` (sorted), by halves
    when many."""
    if len(pcs) > 4:
        half = len(pcs) // 2
        return ([f"{pad}if p_ < {pcs[half] << shift}:"] + dispatch(pcs[:half], pad + "    ", arm, shift)
                + [f"{pad}else:"] + dispatch(pcs[half:], pad + "    ", arm, shift))
    lines = []
    for k, pc in enumerate(pcs):
        lines.append(f"{pad}{'if' if k == 0 else 'elif'} p_ == {pc << shift}:")
        lines += arm(pc, pad + "    ")
    return lines
