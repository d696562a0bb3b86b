"""Events of the Linux-kernel memory model (LKMM), and the operations a
thread issues to make them.

Thread code talks to the explorer one memory operation at a time: it
yields an operation (``Load``, ``Store``, ``Fence``, ``Rmw``, ``Lock``,
``Unlock``, ``IsLocked``, ``TryLock``) and, for those that read, is sent
back the value read as a ``Val``. A ``Val`` carries the read events its
value was computed from (``deps``); thread code passes them on in the
``addr`` of a later operation, in the ``value`` of a store or in ``ctrl``
after a branch, which is how the explorer learns the address, data and
control dependencies (linux-kernel.bell's ``addr``, ``data``, ``ctrl``)::

    def thread(x, y):                    # P1 of MP, as Python
        r0 = yield Load("y", ONCE)       # r0.deps = {the read of y}
        if r0.value:                     # a branch on r0 ...
            ctrl = r0.deps               # ... orders what follows
        r1 = yield Load("x", ONCE, ctrl=ctrl)
        return {"r0": r0, "r1": r1}

The litmus front end (``lkmm_litmus``) is one such thread program; a
scenario front end can be another.

Event kinds follow herd7 and lock.cat: ``R``, ``W`` and ``F`` (fence), and
for spinlocks ``LKR``/``LKW`` (the read and write of a successful
``spin_lock``), ``UL`` (``spin_unlock``), ``LF`` (a failed
``spin_trylock``), ``RL``/``RU`` (``spin_is_locked`` returning true or
false). Tags are the annotations of linux-kernel.def: ``once``,
``acquire``, ``release``, ``mb``, ``noreturn`` on accesses, and the fence
names (``mb``, ``rmb``, ``wmb``, ``barrier``, ``before-atomic``,
``after-atomic``, ``after-spinlock``, ``after-unlock-lock``, ``rcu-lock``,
``rcu-unlock``, ``sync-rcu``, ``after-srcu-read-unlock``) on fences.
SRCU follows linux-kernel.def: ``srcu_read_lock`` is a read tagged
``srcu-lock`` of the srcu_struct, ``srcu_read_unlock`` a write tagged
``srcu-unlock`` of the cookie, ``synchronize_srcu`` a ``SyncSrcu``
operation: an F event tagged ``sync-srcu`` that, alone among fences, has
a location.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ONCE = frozenset({"once"})
ACQUIRE = frozenset({"acquire"})
RELEASE = frozenset({"release"})
MB = frozenset({"mb"})
PLAIN = frozenset()

FENCES = ("mb", "rmb", "wmb", "barrier", "before-atomic", "after-atomic", "after-spinlock",
          "after-unlock-lock", "rcu-lock", "rcu-unlock", "sync-rcu", "after-srcu-read-unlock")
READ_KINDS = frozenset({"R", "LKR", "LF", "RL", "RU"})
WRITE_KINDS = frozenset({"W", "LKW", "UL"})
LOCK_KINDS = frozenset({"LKR", "LKW", "UL", "LF", "RL", "RU"})

NO_DEPS: frozenset = frozenset()


class Stuck(Exception):
    """Raised by thread code when a run cannot go on (a value read is not
    a pointer, say): the explorer drops the run, no execution follows it."""


@dataclass(frozen=True)
class Val:
    """A value and the read events (keys) it was computed from."""

    value: object
    deps: frozenset = NO_DEPS

    def __bool__(self):
        raise TypeError("test .value, not the Val itself")


@dataclass(frozen=True)
class Op:
    """What every operation carries: the control dependencies in force
    (read keys), the address dependencies of its location, and where it
    came from (for reports)."""

    loc: str
    ctrl: frozenset = field(default=NO_DEPS, kw_only=True)
    addr: frozenset = field(default=NO_DEPS, kw_only=True)
    label: str = field(default="", kw_only=True)
    line: int = field(default=0, kw_only=True)


@dataclass(frozen=True)
class Load(Op):
    """A read; the thread is sent the value read."""

    tags: frozenset = ONCE


@dataclass(frozen=True)
class Store(Op):
    """A write of ``value`` (its deps become data dependencies)."""

    value: Val = Val(0)
    tags: frozenset = ONCE


@dataclass(frozen=True)
class Fence(Op):
    """A fence; ``loc`` holds its tag (``mb``, ``rmb``, ...)."""


@dataclass(frozen=True)
class SyncSrcu(Op):
    """``synchronize_srcu(loc)``: a grace period of one srcu_struct."""


@dataclass(frozen=True)
class Rmw(Op):
    """An atomic read-modify-write; the thread is sent the old value.

    ``kind`` is ``xchg`` (write ``operand``), ``cmpxchg`` (write
    ``operand`` if the old value equals ``expected``; a failed cmpxchg is
    a read alone), ``add_unless`` (add ``operand`` unless the old value
    equals ``expected``; otherwise a read alone), or an arithmetic ``add``/``sub``/``and``/``or``/
    ``xor``/``andnot`` of ``operand`` to the old value. ``read_tags`` and
    ``write_tags`` are the annotations of its two events (herd7 puts
    ``acquire`` on the read only, ``release`` on the write only, and
    ``noreturn`` on the read of an atomic that returns nothing, such as
    ``atomic_inc``). ``mb`` is a fully ordered RMW (``xchg``, ``cmpxchg``,
    ``atomic_add_return``): as herd7 does, an ``mb`` fence comes before
    and after it when it writes; a failed cmpxchg has neither.
    """

    kind: str = "xchg"
    operand: Val = Val(0)
    expected: Val | None = None
    read_tags: frozenset = ONCE
    write_tags: frozenset = ONCE
    mb: bool = False


@dataclass(frozen=True)
class Lock(Op):
    """``spin_lock``: an LKR/LKW pair that takes the lock."""


@dataclass(frozen=True)
class Unlock(Op):
    """``spin_unlock``: a UL event."""


@dataclass(frozen=True)
class TryLock(Op):
    """``spin_trylock``: sent 1 (LKR/LKW, the lock taken) or 0 (LF)."""


@dataclass(frozen=True)
class IsLocked(Op):
    """``spin_is_locked``: sent 1 (an RL event) or 0 (an RU event)."""


def rmw_result(op: Rmw, old):
    """The value an RMW writes after reading ``old``, or None when it does
    not write (a failed cmpxchg)."""
    new = op.operand.value
    if op.kind == "xchg":
        return new
    if op.kind == "cmpxchg":
        return new if old == op.expected.value else None
    if op.kind == "add_unless":                     # atomic_add_unless(v, a, u)
        if old == op.expected.value:
            return None
        if not isinstance(old, int) or not isinstance(new, int):
            raise TypeError("add_unless on a non-integer value")
        return old + new
    if not isinstance(old, int) or not isinstance(new, int):
        raise TypeError(f"{op.kind} on a non-integer value")
    return {"add": old + new, "sub": old - new, "and": old & new, "or": old | new,
            "xor": old ^ new, "andnot": old & ~new}[op.kind]


@dataclass(frozen=True)
class Event:
    """One event of an execution.

    ``key`` is (thread, index in the thread) and stays the same in every
    execution that shares the thread's run; ``eid`` is the event's index in
    the execution (``-1`` while a thread run is being built). Initial
    writes have thread -1. ``addr``/``data``/``ctrl`` are the keys of the
    reads this event depends on, as the thread code reported them.
    """

    key: tuple
    kind: str
    loc: str | None
    value: object = None
    tags: frozenset = PLAIN
    rmw_instr: bool = False          # one of the events of an RMW instruction
    addr: frozenset = NO_DEPS
    data: frozenset = NO_DEPS
    ctrl: frozenset = NO_DEPS
    label: str = ""
    line: int = 0
    eid: int = -1

    @property
    def tid(self) -> int:
        return self.key[0]

    @property
    def is_read(self) -> bool:
        return self.kind in READ_KINDS

    @property
    def is_write(self) -> bool:
        return self.kind in WRITE_KINDS

    @property
    def is_init(self) -> bool:
        return self.key[0] < 0

    def describe(self) -> str:
        """``P1:R[once] y=1`` and the like, for reports."""
        who = "init" if self.is_init else f"P{self.tid}"
        tag = ",".join(sorted(self.tags))
        text = f"{who}:{self.kind}" + (f"[{tag}]" if tag else "")
        if self.kind == "F":
            return text
        return f"{text} {self.loc}={self.value}" if self.value is not None else f"{text} {self.loc}"
