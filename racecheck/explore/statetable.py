"""Visited-state tables for the packed search.

``table(nbytes, exact)`` numbers states (non-negative ints of at most
``nbytes`` bytes) in the order it first sees them: ``add(state)`` gives
the number of a state seen before, else ``-1 - number`` of a new one;
``find(state)`` the number or -1; ``get(number)`` the state back and
``slice(lo, hi)`` the bytes of states ``lo`` to ``hi - 1`` (exact
tables). ``store`` numbers a state's successors and appends the graph the
search keeps around them (the next level, parents, edges);
``expand_level`` runs the search's inner loop over a level, calling the
generated ``expand`` per state, so that a plain state costs no Python
bytecode outside ``expand``. The compiled table (``_statetable.c``) keeps
an exact state in ``nbytes`` bytes plus 6 to 16 bytes of index (its
number and a 16-bit tag of its hash), a compact one (hash compaction) in
about 17 bytes of 64-bit fingerprint and index. Without a C compiler at
install time, ``PyTable`` does the same with a dict and a list: the same
numbers, several times the memory.

Fingerprints are a fixed function of the state's bytes, the same in every
process; ``fingerprint`` is the compiled table's function written again
in Python (the tests compare the two tables' numbering, not their
fingerprints, which the compiled table does not expose).
"""

from __future__ import annotations

import struct

try:
    from racecheck.explore._statetable import Table as _Compiled
    from racecheck.explore._statetable import sweep as _compiled_sweep
    from racecheck.explore._statetable import value_fingerprint as _compiled_value_fingerprint
except ImportError:                   # built without a C compiler
    _Compiled = _compiled_sweep = _compiled_value_fingerprint = None

_M64 = (1 << 64) - 1
_INT32 = struct.Struct("=i")
_GOLDEN = 0x9E3779B97F4A7C15


def compiled() -> bool:
    """Is the compact compiled table available?"""
    return _Compiled is not None


def table(nbytes: int, exact: bool):
    return _Compiled(nbytes, exact) if _Compiled is not None else PyTable(nbytes, exact)


def sweep(parent, out, many, edges, width: int, can_end: bytearray, lo: int, hi: int, end: int) -> tuple:
    """One stretch of the livelock check's backward sweep
    (``explore.packed._find_livelock``), states ``hi - 1`` down to ``lo``:
    a state whose stored edges (``out[sid]`` of them, ``many[sid]`` when
    255, ending at edge ``end``; ``width`` bytes each in ``edges``) reach
    a state marked in ``can_end`` is marked, and a marked state marks its
    parent. ``(changed, end)``: did anything change, where the edges of
    state ``lo`` begin."""
    if _compiled_sweep is not None and _Compiled is not None:
        return _compiled_sweep(parent, out, many, edges, width, can_end, lo, hi, end)
    changed = False
    for sid in range(hi - 1, lo - 1, -1):
        count = out[sid]
        if count == 255:
            count = many[sid]
        first = end - count
        if not can_end[sid]:
            for k in range(first * width, end * width, width):
                if can_end[int.from_bytes(edges[k:k + width], "little")]:
                    can_end[sid] = 1
                    changed = True
                    break
        end = first
        if can_end[sid]:
            up = parent[sid]
            if up >= 0 and not can_end[up]:
                can_end[up] = 1
                changed = True
    return changed, end


def _mix(x: int) -> int:
    x ^= x >> 30
    x = x * 0xBF58476D1CE4E5B9 & _M64
    x ^= x >> 27
    x = x * 0x94D049BB133111EB & _M64
    return x ^ x >> 31


# value_fingerprint's tags, as in _statetable.c
_FP_NONE, _FP_INT, _FP_BIG = 0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0
_FP_STR, _FP_TUPLE, _FP_SHAPE = 0x082EFA98EC4E6C89, 0x452821E638D01377, 0xBE5466CF34E90C6C
_FP_OTHER, _FP_DEPTH = 0xC0AC29B7C97C50DD, 64


def value_fingerprints():
    """The function giving a state of the interpreted search its 64-bit
    fingerprint (for hash compaction): the compiled one, else
    ``value_fingerprint``. Python's own ``hash`` will not do: it gives -1
    and -2 one hash (so two states that differ only there would be taken
    for one) and salts strings differently in every process."""
    return _compiled_value_fingerprint if _compiled_value_fingerprint is not None else value_fingerprint


def value_fingerprint(value, depth: int = 0) -> int:
    """The compiled ``value_fingerprint`` written again in Python: equal for
    equal values (True and 1 too), the same in every process."""
    if depth > _FP_DEPTH:
        raise ValueError("a state value nested too deep")
    if value is None:
        return _mix(_FP_NONE)
    if isinstance(value, int):
        if -(1 << 63) <= value < 1 << 63:
            return _mix((value + _FP_INT) & _M64)
        n = abs(value).bit_length() // 8 + 1
        return _hash_bytes(value.to_bytes(n, "little", signed=True)) ^ _FP_BIG
    if isinstance(value, str):
        return _hash_bytes(value.encode("utf-8", "surrogatepass")) ^ _FP_STR
    if isinstance(value, tuple):            # records too: tuple's own len and iter
        h = _FP_TUPLE ^ tuple.__len__(value)
        for item in tuple.__iter__(value):
            h = (_mix(h ^ value_fingerprint(item, depth + 1)) + _GOLDEN) & _M64
        return _mix(h)
    kind = type(value)
    if kind.__basicsize__ == object.__basicsize__ and not hasattr(value, "__dict__"):
        return _hash_bytes(kind.__name__.encode()) ^ _FP_OTHER     # a placeholder: by its type
    fields = getattr(value, "fields", None)
    if not isinstance(fields, tuple):
        raise TypeError(f"no fingerprint for a state value of type {type(value).__name__}")
    return value_fingerprint(fields, depth + 1) ^ _FP_SHAPE


def _hash_bytes(data: bytes) -> int:
    return fingerprint(int.from_bytes(data, "little"), len(data))


def fingerprint(state: int, nbytes: int) -> int:
    """The compiled table's 64-bit hash of a state of ``nbytes`` bytes."""
    h = (_GOLDEN ^ nbytes) & _M64
    for at in range(0, nbytes * 8, 64):
        h = (_mix(h ^ (state >> at & _M64)) + _GOLDEN) & _M64
    return _mix(h)


class PyTable:
    """``table()`` without the compiled part."""

    def __init__(self, nbytes: int, exact: bool = True):
        self.nbytes, self.exact = nbytes, exact
        self.numbers: dict = {}
        self.states: list = []

    def _key(self, state: int):
        if state < 0 or state >> (8 * self.nbytes):
            raise OverflowError("state does not fit the table")
        return state if self.exact else fingerprint(state, self.nbytes)

    def add(self, state: int) -> int:
        key = self._key(state)
        number = self.numbers.get(key)
        if number is not None:
            return number
        number = len(self.numbers)
        self.numbers[key] = number
        if self.exact:
            self.states.append(state)
        return -1 - number

    def find(self, state: int) -> int:
        return self.numbers.get(self._key(state), -1)

    def get(self, number: int) -> int:
        if not self.exact:
            raise ValueError("a compact table keeps no states")
        return self.states[number]

    def slice(self, lo: int, hi: int) -> bytes:
        if not self.exact:
            raise ValueError("a compact table keeps no states")
        if not 0 <= lo <= hi <= len(self.states):
            raise IndexError("no such states")
        return b"".join(s.to_bytes(self.nbytes, "little") for s in self.states[lo:hi])

    def __len__(self) -> int:
        return len(self.numbers)

    def store(self, succs: list, sid: int, nxt: bytearray, parents: bytearray, fresh, edges, width: int,
              outs, many, wide_from: int) -> int:
        """Number ``succs``, the successors of state ``sid``: a new state's
        bytes go to ``nxt``, its parent to ``parents`` (native 4-byte ints),
        the state itself to ``fresh`` (unless None); a state seen before is
        an edge, ``width`` bytes in ``edges`` (unless None), and ``outs``
        counts them (255: see ``many[sid]``). Edges widen to 4 bytes when
        state number ``wide_from`` is given. Returns the edge width."""
        count = 0
        parent = _INT32.pack(sid)
        for s in succs:
            r = self.add(s)
            if r >= 0:
                if edges is not None:
                    edges += r.to_bytes(width, "little")
                    count += 1
                continue
            nxt += s.to_bytes(self.nbytes, "little")
            parents += parent
            if fresh is not None:
                fresh.append(s)
            if edges is not None and -1 - r == wide_from and width == 3:
                edges[:] = b"".join(edges[k:k + 3] + b"\0" for k in range(0, len(edges), 3))
                width = 4
        if edges is not None:
            outs.append(min(count, 255))
            if count >= 255:
                many[sid] = count
        return width

    def expand_level(self, expand, level, start: int, stop: int, first: int, nxt: bytearray,
                     parents: bytearray, fresh, edges, width: int, outs, many, wide_from: int,
                     limit: int) -> tuple:
        """Expand ``level[start:stop]`` (states of ``nbytes`` bytes, numbered
        from ``first``) with ``expand(state) -> [successor, ...]``, storing
        as ``store``. ``(index, transitions, width, status)``: status 1 stops
        before a state ``expand`` fails on or finds no successor of, 2 after
        the table reaches ``limit`` states (``limit`` >= 0) with ``nxt`` not
        empty, 0 at ``stop``."""
        n = self.nbytes
        transitions = 0
        for i in range(start, stop):
            try:
                succs = expand(int.from_bytes(level[i * n:i * n + n], "little"))
            except Exception as exc:
                exc.__traceback__ = None
                return i, transitions, width, 1
            if not succs:
                return i, transitions, width, 1
            transitions += len(succs)
            width = self.store(succs, first + i, nxt, parents, fresh, edges, width, outs, many, wide_from)
            if 0 <= limit <= len(self.numbers) and nxt:
                return i + 1, transitions, width, 2
        return stop, transitions, width, 0
