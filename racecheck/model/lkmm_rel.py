"""Binary relations over the events of one execution, as bit matrices.

The .cat language of herd7 speaks of sets of events and relations between
them; this module gives both a small, exact vocabulary:

* a *set* is an ``int`` bitmask (bit ``i`` is event ``i``);
* a ``Rel`` is one successor bitmask per event.

The operators follow the .cat spelling where Python allows it::

    r | s        union               r & s      intersection
    r - s        difference (\\)      r.seq(s)   composition  (r ; s)
    r.inv()      inverse  (r^-1)     r.plus()   transitive closure (r+)
    r.star()     r*                  r.opt()    r?
    Rel.ident(n, S)   [S]            Rel.cross(n, A, B)   A * B

Relations here are small (a litmus test has tens of events), so the
closure is Warshall's algorithm on bitmasks. Nothing here knows about
memory models; ``lkmm`` builds the Linux-kernel relations from it.
"""

from __future__ import annotations


def bits(mask: int):
    """The indexes of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Rel:
    """A relation on events ``0..n-1``: ``rows[i]`` is the set of ``j``
    with ``(i, j)`` in the relation."""

    __slots__ = ("n", "rows")

    def __init__(self, n: int, rows):
        self.n = n
        self.rows = tuple(rows)

    # -- construction -------------------------------------------------------

    @classmethod
    def empty(cls, n: int) -> "Rel":
        return cls(n, (0,) * n)

    @classmethod
    def of_pairs(cls, n: int, pairs) -> "Rel":
        rows = [0] * n
        for i, j in pairs:
            rows[i] |= 1 << j
        return cls(n, rows)

    @classmethod
    def ident(cls, n: int, mask: int = -1) -> "Rel":
        """``[S]``: the identity on the set ``mask`` (every event if -1)."""
        return cls(n, ((1 << i) if mask >> i & 1 else 0 for i in range(n)))

    @classmethod
    def cross(cls, n: int, dom: int, rng: int) -> "Rel":
        """``A * B``: every pair from ``dom`` to ``rng``."""
        return cls(n, (rng if dom >> i & 1 else 0 for i in range(n)))

    # -- algebra ------------------------------------------------------------

    def __or__(self, other: "Rel") -> "Rel":
        return Rel(self.n, (a | b for a, b in zip(self.rows, other.rows)))

    def __and__(self, other: "Rel") -> "Rel":
        return Rel(self.n, (a & b for a, b in zip(self.rows, other.rows)))

    def __sub__(self, other: "Rel") -> "Rel":
        return Rel(self.n, (a & ~b for a, b in zip(self.rows, other.rows)))

    def seq(self, *others: "Rel") -> "Rel":
        """``self ; other ; ...``"""
        rel = self
        for other in others:
            rel = Rel(rel.n, (_image(row, other.rows) for row in rel.rows))
        return rel

    def inv(self) -> "Rel":
        rows = [0] * self.n
        for i, row in enumerate(self.rows):
            for j in bits(row):
                rows[j] |= 1 << i
        return Rel(self.n, rows)

    def plus(self) -> "Rel":
        rows = list(self.rows)
        for k in range(self.n):
            bit, row_k = 1 << k, rows[k]
            if not row_k:
                continue
            for i in range(self.n):
                if rows[i] & bit:
                    rows[i] |= row_k
        return Rel(self.n, rows)

    def star(self) -> "Rel":
        return self.plus() | Rel.ident(self.n)

    def opt(self) -> "Rel":
        return self | Rel.ident(self.n)

    def restrict(self, dom: int = -1, rng: int = -1) -> "Rel":
        """``[dom] ; self ; [rng]``"""
        return Rel(self.n, ((row & rng) if dom >> i & 1 else 0 for i, row in enumerate(self.rows)))

    # -- questions ----------------------------------------------------------

    def domain(self) -> int:
        mask = 0
        for i, row in enumerate(self.rows):
            if row:
                mask |= 1 << i
        return mask

    def range(self) -> int:
        mask = 0
        for row in self.rows:
            mask |= row
        return mask

    def is_empty(self) -> bool:
        return not any(self.rows)

    def is_irreflexive(self) -> bool:
        return not any(row >> i & 1 for i, row in enumerate(self.rows))

    def is_acyclic(self) -> bool:
        return self.plus().is_irreflexive()

    def pairs(self):
        return [(i, j) for i, row in enumerate(self.rows) for j in bits(row)]

    def __contains__(self, pair) -> bool:
        i, j = pair
        return bool(self.rows[i] >> j & 1)

    def __eq__(self, other) -> bool:
        return isinstance(other, Rel) and self.rows == other.rows

    def __hash__(self) -> int:
        return hash(self.rows)

    def __repr__(self) -> str:
        return f"Rel({self.pairs()})"


def _image(row: int, rows) -> int:
    out = 0
    while row:
        low = row & -row
        out |= rows[low.bit_length() - 1]
        row ^= low
    return out
