"""Helpers that compiled scenario code calls, and the choice mechanism.

Compiled code (see ``model.compile``) runs in a namespace holding only these
names and the allowed built-ins; every value operation that could misbehave
on hostile input (field access, indexing, multiplication of sequences,
string formatting with ``%``, ``range``) goes through a helper here that
checks types and sizes and raises ``StepError`` with a readable message.

Sizes are logical. Values are immutable, so ``[[0] * N] * M`` is M
references to one row; it costs little memory, but hashing it (every new
state is hashed), comparing it or printing it visits N * M items. So a
value's *items* count every element of every list and record nested in
it, a shared row each time it appears, and a helper that builds a value
refuses one of more than ``MAX_VALUE_ITEMS`` items or nested more than
``MAX_VALUE_DEPTH`` deep. Counting costs at most the value's distinct
parts (a shared row is counted once and multiplied), never its logical
size. List literals are built by the compiled code itself and are not
counted here.
"""

from __future__ import annotations

from racecheck.scenario.values import AssertFailed, Record, StepError, format_value, type_name

MAX_SEQUENCE = 100_000        # longest list or string code may build
MAX_INT_BITS = 100_000        # largest integer a multiplication may build
MAX_WORK = 1_000_000          # comprehension iterations and items built by one piece of code
MAX_VALUE_ITEMS = 1_000_000   # items in a value, nested ones included, shared rows each time
MAX_VALUE_DEPTH = 100         # lists and records nested in one another

# Work done by the piece of code being evaluated. Compiled functions that can
# loop (comprehensions) or build sequences reset it when they start.
work = [0]


def _spend(amount: int) -> None:
    work[0] += amount
    if work[0] > MAX_WORK:
        raise StepError(f"the code does more than {MAX_WORK} steps of work "
                        "(comprehension iterations and list items) in one step")


def value_size(value) -> tuple:
    """``(items, depth)`` of a value: atoms are ``(0, 0)``; a list or record
    has its own items plus those of every list and record in it, counted
    each time they appear. Counting stops early once past the limits, so the
    result is then only known to be over them."""
    if type(value) is not tuple and type(value) is not Record:
        return (0, 0)
    return _measure(value, {}, 1)


def _measure(value, memo: dict, level: int) -> tuple:
    """``value_size`` of a list or record at nesting ``level``; ``memo`` maps
    the id of each part already measured (all alive in the value) to its size."""
    found = memo.get(id(value))
    if found is not None:
        return found
    items = value[1:] if type(value) is Record else value
    total, depth = len(items), 1
    kinds = set(map(type, items))
    if tuple in kinds or Record in kinds:
        if level >= MAX_VALUE_DEPTH:
            return (total, MAX_VALUE_DEPTH + 1)
        for item in items:
            if type(item) is tuple or type(item) is Record:
                size, below = _measure(item, memo, level + 1)
                total += size
                if below >= depth:
                    depth = below + 1
                if total > MAX_VALUE_ITEMS or depth > MAX_VALUE_DEPTH:
                    break
    memo[id(value)] = (total, depth)
    return (total, depth)


def _refuse_size(what: str, items: int, depth: int) -> None:
    if items > MAX_VALUE_ITEMS:
        raise StepError(f"{what} would build a value of more than {MAX_VALUE_ITEMS} items (the items of "
                        "lists and records nested in it included, a list held twice counted twice)")
    if depth > MAX_VALUE_DEPTH:
        raise StepError(f"{what} would build a value of lists and records nested more than "
                        f"{MAX_VALUE_DEPTH} deep")


def checked_value(value, what: str = "the code"):
    """``value``, or StepError when it is over the value limits."""
    _refuse_size(what, *value_size(value))
    return value


def _checked_replace(what: str, result, old, new):
    """``result`` is a list or record in which ``old`` was replaced by ``new``:
    refuse it when it is over the value limits. A replacement no bigger and no
    deeper than what it replaces keeps the value within them (every value
    already is), so only a larger one costs a count of the whole result."""
    if type(new) is not tuple and type(new) is not Record:
        return result
    new_items, new_depth = value_size(new)
    old_items, old_depth = value_size(old)
    if new_items > old_items or new_depth > old_depth:
        _refuse_size(what, *value_size(result))
    return result


def counted(iterable):
    """Iterate, counting each item against the work limit."""
    for item in iterable:
        work[0] += 1
        if work[0] > MAX_WORK:
            _spend(0)
        yield item


class ChoiceOutOfRange(StepError):
    """A replayed schedule names a choose() alternative that does not exist."""


class Chooser:
    """Supplies the alternatives of ``choose()`` during one transition.

    Explores the choice tree depth-first: run once with ``plan`` (missing
    picks default to 0), then ``next_plan()`` gives the next plan, or None.

    A local-only loop (``model.program``) is explored once as a graph of
    local states: its ways out are ``LocalExits``, and a run through it
    takes one of them whole (``take``). ``next_plan`` then moves to the
    loop's next way out instead of to the next pick inside the loop, so a
    loop that comes back to a local state it has been in is not unrolled
    again and again::

        picks  3 | 1 0 1 | ...      the run: free picks, then a loop
                   '---'            its way out number k (LocalExits.path(k))
        next   3 | way out k+1      or, when k is the last, the next of 3
    """

    __slots__ = ("plan", "count", "sizes", "given", "segments", "_handed")

    def __init__(self, plan=()):
        self.plan = list(plan)
        self.given = len(self.plan)     # picks that bind; past them each pick is 0
        self.count = 0
        self.sizes: list = []
        # (start, LocalExits, k): a loop left by its way out k; a plan from
        # next_plan hands on those it keeps, for a run that does not take()
        self.segments: list = list(getattr(plan, "segments", ()))
        self._handed = {start: k for start, _, k in self.segments}

    def pick(self, n: int) -> int:
        i = self.count
        self.count += 1
        self.sizes.append(n)
        if i < self.given:
            k = self.plan[i]
            if not 0 <= k < n:
                raise ChoiceOutOfRange(f"choice {k} does not exist: this choose() has {n} alternatives")
            return k
        if i < len(self.plan):
            self.plan[i] = 0            # a default an earlier, abandoned run left
        else:
            self.plan.append(0)
        return 0

    def used(self) -> tuple:
        """The picks made, without trailing zeros (the printable form)."""
        plan = self.plan[:self.count]
        while plan and plan[-1] == 0:
            plan.pop()
        return tuple(plan)

    def take(self, exits: "LocalExits") -> None:
        """The run enters a local-only loop whose ways out are ``exits``.
        A plan from ``next_plan`` holds the picks of the way out to take
        and says which one it is; with no picks left to follow, the run
        takes way out 0. Otherwise (a replayed schedule) it follows the
        picks it was given, then 0s, as everywhere."""
        start = self.count
        k = self._handed.get(start)
        while self.segments and self.segments[-1][0] >= start:
            self.segments.pop()           # recorded again, as this run takes them
        if k is None and start >= self.given:
            k = 0
            del self.plan[start:]
            self.plan.extend(exits.path(0))
            self.given = len(self.plan)
        if k is not None:
            self.segments.append((start, exits, k))

    def next_plan(self):
        plan = self.plan[:self.count]
        segments = self.segments
        if not segments:
            for i in range(len(plan) - 1, -1, -1):
                if plan[i] + 1 < self.sizes[i]:
                    return plan[:i] + [plan[i] + 1]
            return None
        s = len(segments) - 1
        i = len(plan) - 1
        while i >= 0:
            while s >= 0 and segments[s][0] > i:
                s -= 1
            if s >= 0 and segments[s][0] + segments[s][1].length(segments[s][2]) > i:
                start, exits, k = segments[s]
                if k + 1 < exits.count:
                    return _Plan(plan[:start] + list(exits.path(k + 1)),
                                 segments[:s] + [(start, exits, k + 1)])
                i, s = start - 1, s - 1
                continue
            if plan[i] + 1 < self.sizes[i]:
                return _Plan(plan[:i] + [plan[i] + 1], segments[:s + 1])
            i -= 1
        return None


class _Plan(list):
    """A plan from ``Chooser.next_plan``, with the loops it goes through."""

    __slots__ = ("segments",)

    def __init__(self, plan: list, segments: list):
        super().__init__(plan)
        self.segments = segments


class LocalExits:
    """The ways out of a local-only loop from one local state, numbered
    0, 1, ...: ``path(k)`` gives the picks of a run to way out ``k``
    (distinct, none a prefix of another, since each is a run that ends
    where its last pick leads). A way out is a step that touches shared
    state, the end of the thread, a step that fails, or getting stuck (the
    run fails there: ``stuck``). The paths are kept as a tree of the local
    states explored (``parent``), not written out one by one."""

    __slots__ = ("count", "pcs", "stuck", "message", "_ends", "_parent", "_depth")

    def __init__(self, ends: list, parent: dict, depth: dict, pcs: frozenset = frozenset(),
                 stuck: frozenset = frozenset(), message: str | None = None):
        self._ends = ends               # per way out: (node, picks after it), node None: picks from the start
        self._parent = parent           # node -> (node before, picks) or None
        self._depth = depth             # node -> the number of picks that lead there
        self.count = len(ends)
        self.pcs = pcs                  # the steps that run on some way through the loop
        self.stuck = stuck              # (pc, locals) from which no way out can be reached
        self.message = message          # the error a run that gets stuck fails with

    def path(self, k: int) -> tuple:
        node, tail = self._ends[k]
        picks: list = list(tail)
        while node is not None and self._parent[node] is not None:
            node, step = self._parent[node]
            picks[:0] = step
        return tuple(picks)

    def length(self, k: int) -> int:
        node, tail = self._ends[k]
        return len(tail) + (self._depth[node] if node is not None else 0)


def getf(value, name):
    if type(value) is Record:
        i = value[0].index.get(name)
        if i is not None:
            return value[i]
        raise StepError(f"record {format_value(value)} has no field '{name}'")
    raise StepError(f"cannot read field '{name}' of {type_name(value)} {format_value(value)}")


def setf(value, name, new):
    if type(value) is Record:
        i = value[0].index.get(name)
        if i is not None:
            return _checked_replace(f"setting field '{name}'", Record(value[:i] + (new,) + value[i + 1:]),
                                    value[i], new)
        raise StepError(f"record {format_value(value)} has no field '{name}' (records cannot gain fields)")
    raise StepError(f"cannot set field '{name}' of {type_name(value)} {format_value(value)}")


_MISSING = object()


def peekf(value, name):
    """The field's old value for a trace, or a marker; never raises."""
    if type(value) is Record:
        i = value[0].index.get(name)
        if i is not None:
            return value[i]
    return _MISSING


def peeki(seq, index):
    """The element's old value for a trace, or a marker; never raises."""
    if type(seq) is tuple and type(index) in (int, bool) and -len(seq) <= index < len(seq):
        return seq[index]
    return _MISSING


def geti(seq, index):
    if type(seq) is tuple or type(seq) is str:
        if type(index) is not int and type(index) is not bool:
            raise StepError(f"list index must be an integer, not {type_name(index)} {format_value(index)}")
        try:
            return seq[index]
        except IndexError:
            raise StepError(f"index {index} out of range for {type_name(seq)} of length {len(seq)}") from None
    raise StepError(f"cannot index {type_name(seq)} {format_value(seq)}")


def seti(seq, index, new):
    if type(seq) is not tuple:
        raise StepError(f"cannot assign an element of {type_name(seq)} {format_value(seq)}")
    if type(index) is not int and type(index) is not bool:
        raise StepError(f"list index must be an integer, not {type_name(index)} {format_value(index)}")
    n = len(seq)
    i = index + n if index < 0 else index
    if not 0 <= i < n:
        raise StepError(f"index {index} out of range for list of length {n}")
    return _checked_replace("setting a list element", seq[:i] + (new,) + seq[i + 1:], seq[i], new)


def add(a, b):
    if type(a) is Record or type(b) is Record:
        raise StepError(f"unsupported operand for +: {type_name(a)} and {type_name(b)}")
    if type(a) in (tuple, str) and type(b) in (tuple, str):
        if len(a) + len(b) > MAX_SEQUENCE:
            raise StepError(f"'+' would build a {type_name(a)} longer than {MAX_SEQUENCE}")
        _spend(len(a) + len(b))
        if type(a) is tuple and type(b) is tuple:
            (items_a, depth_a), (items_b, depth_b) = value_size(a), value_size(b)
            _refuse_size("'+'", items_a + items_b, max(depth_a, depth_b))
    return a + b


def mul(a, b):
    if type(a) is Record or type(b) is Record:
        raise StepError(f"unsupported operand for *: {type_name(a)} and {type_name(b)}")
    if type(a) in (tuple, str) or type(b) in (tuple, str):
        count = b if type(a) in (tuple, str) else a
        seq = a if type(a) in (tuple, str) else b
        if type(count) is int and len(seq) * max(count, 0) > MAX_SEQUENCE:
            raise StepError(f"'*' would build a {type_name(seq)} longer than {MAX_SEQUENCE}")
        if type(count) is int:
            _spend(len(seq) * max(count, 0))
            if type(seq) is tuple and count > 1:
                items, depth = value_size(seq)
                _refuse_size("'*'", items * count, depth)
    elif type(a) is int and type(b) is int and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise StepError(f"'*' would build an integer of more than {MAX_INT_BITS} bits")
    return a * b


def mod(a, b):
    if type(a) is str:
        raise StepError("'%' on a string is not supported (no string formatting in scenario code)")
    return a % b


def bounded_range(*args):
    r = range(*args)
    try:
        size = len(r)
    except OverflowError:
        size = MAX_SEQUENCE + 1
    if size > MAX_SEQUENCE:
        raise StepError(f"range() of more than {MAX_SEQUENCE} items")
    _spend(size)
    return tuple(r)


def bounded_sum(iterable, *start):
    """sum(), with '+' on lists and strings checked as the operator is."""
    total = start[0] if start else 0
    for item in iterable:
        total = add(total, item) if type(total) is not int or type(item) is not int else total + item
    return total


def choose(chooser, alternatives):
    return alternatives[chooser.pick(len(alternatives))]


def assert_failed(message):
    text = message if isinstance(message, str) else format_value(message)
    raise AssertFailed(text)


def tuple_of(iterable):
    result = []
    for item in iterable:
        result.append(item)
        if len(result) > MAX_SEQUENCE:
            raise StepError(f"a comprehension built more than {MAX_SEQUENCE} items")
    return checked_value(tuple(result), "a comprehension")


NAMESPACE = {
    "__builtins__": {},
    "len": len, "min": min, "max": max, "abs": abs, "any": any, "all": all,
    "sum": bounded_sum, "range": bounded_range, "tuple": tuple_of, "bool": bool,
    "_counted": counted, "_work": work,
    "_getf": getf, "_setf": setf, "_geti": geti, "_seti": seti, "_peekf": peekf, "_peeki": peeki,
    "_add": add, "_mul": mul, "_mod": mod, "_choose": choose,
    "_assert_failed": assert_failed, "_value": checked_value,
}
