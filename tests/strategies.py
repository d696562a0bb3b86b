"""Hypothesis strategies: small random racecheck scenarios, as YAML text.

Every scenario is valid (it loads) and small, so that both racecheck and the
naive reference explorer (tests/reference.py) exhaust it quickly. Steps are
drawn from the constructs of docs/format.md: shared and local-only actions,
``await`` (locks and plain waits), if/else on shared or local conditions,
bounded loops, busy-wait loops, call groups with an early ``return``,
``choose()``, asserts, failing steps, guarded backward ``goto``, copies and
``tid``, params and variants.

With ``shapes=True`` it also draws the shapes of shared data that the access
analysis of partial-order reduction must follow while they change (issue 9):
a list whose length changes (grown with ``+``, shrunk with a comprehension,
replaced by a literal) read and written through negative indices and
``len()``; a shared slot that goes from ``None`` to a record and back, its
field read with or without a guard; and a list of lists (``grid[i][j]``)
whose rows change length. Steps that fail on them (an index out of range
after a shrink, the field of ``None``) are part of the point. These shapes
have no Promela translation, so they are off by default.

Also with ``shapes=True``, the spellings that the reduction must read for
their meaning (issue 11): a list of records ``pages`` reached through
``tid // 2``, ``tid % 2``, ``len(pages) - 1`` and an index read from state
(``pages[pages[0].slot]``, a field no step writes, and ``pages[ix]``, a
shared index some steps write); invariants and asserts over it written
``all(... for p in pages)``, ``range(len(pages))``, ``not any(...)``,
``not (A or B)`` and ``sum(...)``; sometimes a step that changes the list's
length, so that none of these may be taken per element; and a statistics
counter ``cnt`` (``cnt += 1``, ``cnt = 0``, ``pages[tid].n += 1``) that is
read only sometimes.
"""

from __future__ import annotations

import yaml
from hypothesis import strategies as st

from strategies_pages import PAGE_CHECKS, PAGE_PLACES, PAGE_PROPS, pages_stmt


class _Ctx:
    """What one scenario declares, so that generated code only uses it."""

    def __init__(self, ints, bools, arr, rec, field, param, lock_ok, resize=False, slot=False, grid=False,
                 pages=False, pages_resize=False, counter=False, counter_read=False):
        self.ints, self.bools = ints, bools
        self.arr, self.rec, self.field = arr, rec, field
        self.param = param
        self.lock_ok = lock_ok
        self.resize = resize          # arr changes length; negative indices
        self.slot = slot              # shared ``slot``: None or a record {v: int}
        self.grid = grid              # shared ``grid``: a list of lists
        self.pages = pages            # shared ``pages``: two records {v, q, n, slot}
        self.pages_resize = pages_resize  # some step changes the length of pages
        self.counter = counter        # shared ``cnt``, written by counter updates
        self.counter_read = counter_read  # ... and read by something
        self.focus = None             # one of the shapes: steps mostly on it
        self.uses_lock = False
        self.asserts = 0

    @property
    def shapes(self):
        return self.resize or self.slot or self.grid

    def int_places(self):
        places = list(self.ints)
        if self.arr:
            places += ["arr[tid]", "arr[0]", "arr[1]"]
            if self.resize:
                places += ["arr[-1]", "arr[-2]", "arr[-1]"]
        if self.rec:
            places.append(f"rec.{self.field}")
        if self.slot:
            places.append("slot.v")                 # fails while slot is None
        if self.grid:
            places += ["grid[0][0]", "grid[1][-1]", "grid[tid][0]", "grid[-1][0]"]
        if self.pages:
            places += PAGE_PLACES
        if self.counter_read:
            places.append("cnt")
        return places

    def safe_int_places(self):
        """Places that can always be read (for properties that must not fail)."""
        fixed = {"arr[tid]"} | ({"arr[0]", "arr[1]"} if self.resize else set())
        unsafe = ("arr[-", "slot.", "grid[") + (("pages[",) if self.pages_resize else ())
        return [p for p in self.int_places() if p not in fixed and not p.startswith(unsafe) and "tid" not in p]

    def bool_places(self):
        return list(self.bools) + (["rec.q"] if self.rec else []) + (["pages[tid % 2].q"] if self.pages else [])


def _shared_stmt(draw, ctx):
    places = [(p, int) for p in ctx.int_places()] + [(p, bool) for p in ctx.bool_places()]
    target, kind = draw(st.sampled_from(places))
    if kind is int:
        other = draw(st.sampled_from(ctx.int_places()))
        return draw(st.sampled_from([
            f"{target} += 1", f"{target} -= 1", f"{target} = 0", f"{target} = r",
            f"{target} = {other} + 1", f"{target} = 1 - {other}", f"{target} = choose(0, 1)",
            f"{target} = r + tid",
        ]))
    other = draw(st.sampled_from(ctx.bool_places()))
    return draw(st.sampled_from([
        f"{target} = not {target}", f"{target} = True", f"{target} = False", f"{target} = m",
        f"{target} = not {other}", f"{target} = choose(False, True)",
    ]))


def _shared_cond(draw, ctx):
    i = draw(st.sampled_from(ctx.int_places()))
    conds = [f"{i} > 0", f"{i} == 1", f"{i} != 0", f"{i} < 2"]
    if ctx.param:
        conds.append(f"{i} < K")
    for b in ctx.bool_places():
        conds += [b, f"not {b}"]
    conds += _shape_conds(ctx)
    return draw(st.sampled_from(conds))


def _shape_conds(ctx):
    """Conditions on the changing shapes: lengths, None, guarded fields."""
    conds = []
    if ctx.resize:
        conds += ["len(arr) > 1", "len(arr) == 2", "len(arr) > 2 and arr[2] == 0", "arr[-1] == 0"]
    if ctx.slot:
        conds += ["slot is None", "slot is not None", "slot is not None and slot.v > 0"]
    if ctx.grid:
        conds += ["len(grid[0]) > 1", "grid[-1][-1] == 0", "len(grid[1]) < 2 or grid[1][1] == 0"]
    return conds


def _shape_stmt(draw, ctx):
    """A write that changes the shape of shared data (or reads it into a local)."""
    stmts = []
    if ctx.resize:
        stmts += [
            "arr = arr + [0]", "arr = arr + [1]",                       # grow
            "arr = [arr[k] for k in range(1, len(arr))]",               # drop the first
            "arr = [arr[k] for k in range(len(arr) - 1)]",              # drop the last
            "arr = [0, 0]", "arr = [0]", "arr = [0, 0, 0]",             # replace
            "arr = [v + 1 for v in arr]",                               # same length, every element
            "arr[-1] = 1", "arr[-2] = 1", "arr[-1] += 1",               # negative indices
            "arr = [0, 0]\narr[-1] = 1",                                # shrink, then write the new last
            "arr = arr + [r]\narr[-2] = 0",
        ]
    if ctx.slot:
        stmts += [
            "slot = ls", "slot = None", "ls = slot",                    # a record in and out
            "if slot is not None:\n    slot.v += 1",                    # guarded
            "slot.v = 1", "slot.v += 1",                                # unguarded: fails on None
            "r = slot.v", "r = slot.v if slot is not None else 0",
            "slot = ls if slot is None else None",
        ]
    if ctx.grid:
        stmts += [
            "grid[0] = [0]", "grid[1] = grid[1] + [0]", "grid[-1] = grid[-1] + [1]",
            "grid = [grid[1], grid[0]]", "grid[tid] = [r, r]", "grid[0][-1] = 1",
            "grid[-1][-1] += 1", "grid = grid + [[0]]", "grid[1][1] = 1",
        ]
    return draw(st.sampled_from(stmts))


def _reshape(draw, ctx):
    """A write that changes a list's length, nothing else."""
    stmts = []
    if ctx.resize:
        stmts += ["arr = arr + [0]", "arr = [arr[k] for k in range(1, len(arr))]",
                  "arr = [arr[k] for k in range(len(arr) - 1)]", "arr = [0, 0]", "arr = [0]", "arr = [0, 0, 0]"]
    if ctx.grid:
        stmts += ["grid[1] = [0]", "grid[1] = grid[1] + [0]", "grid[0] = [0]", "grid = grid + [[0]]",
                  "grid = [grid[0]]"]
    if ctx.slot:
        stmts += ["slot = None", "slot = ls"]
    return draw(st.sampled_from(stmts))


def _shape_access(draw, ctx):
    """An access through an index or a field whose meaning depends on the shape now."""
    if ctx.focus and draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(_FOCUS_WRITES[ctx.focus]))
    stmts = []
    if ctx.resize:
        stmts += ["arr[-1] = 1", "arr[-2] = 1", "arr[-1] += 1", "r = arr[-1]", "r = arr[-2]", "arr[1] = 1",
                  "arr[2] = 1", "r = arr[1]"]
    if ctx.grid:
        stmts += ["grid[1][-1] = 1", "grid[-1][0] = 1", "grid[-1][-1] += 1", "r = grid[-1][-1]", "grid[1][0] = 1"]
    if ctx.slot:
        stmts += ["slot.v = 1", "if slot is not None:\n    slot.v = 1", "r = slot.v"]
    return draw(st.sampled_from(stmts))


# In a focused scenario (one shape, few steps), writes and checks reach the
# same elements through indices of both signs, so that a write and a check
# that touch one element after a length change are common.
_FOCUS_WRITES = {
    "resize": ["arr[-1] = 1", "arr[-2] = 1", "arr[0] = 1", "arr[1] = 1"],
    "grid": ["grid[1][-1] = 1", "grid[-1][0] = 1", "grid[1][0] = 1", "grid[-1][-1] = 1"],
    "slot": ["slot.v = 1", "if slot is not None:\n    slot.v = 1"],
}
_FOCUS_CHECKS = {
    "resize": ["arr[0] == 0", "arr[1] == 0", "arr[-1] == 0", "arr[-2] == 0"],
    "grid": ["grid[1][0] == 0", "grid[1][1] == 0", "grid[-1][0] == 0", "grid[-1][-1] == 0"],
    "slot": ["slot is None or slot.v == 0", "slot.v == 0"],
}


def _shape_check(draw, ctx):
    """A condition on an element or a field, for an assert: it may also fail to evaluate."""
    if ctx.focus and draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(_FOCUS_CHECKS[ctx.focus]))
    conds = []
    if ctx.resize:
        conds += ["arr[1] == 0", "arr[0] == 0", "arr[-1] == 0", "arr[-2] == 0", "len(arr) > 2 and arr[2] == 0",
                  "all(v == 0 for v in arr)"]
    if ctx.grid:
        conds += ["grid[1][0] == 0", "grid[0][-1] == 0", "grid[-1][-1] == 0", "len(grid[1]) < 2 or grid[1][1] == 0"]
    if ctx.slot:
        conds += ["slot is None or slot.v == 0", "slot.v == 0", "slot is None"]
    return draw(st.sampled_from(conds))


def _local_cond(draw, ctx):
    conds = ["r == 0", "m", "not m", "r > tid", "r < 1", True]  # True: a YAML boolean
    if ctx.param:
        conds.append("r < K")
    return draw(st.sampled_from(conds))


def _local_stmt(draw, ctx):
    stmts = ["r += 1", "m = not m", "r = tid", "r = 2 * r", "r = choose(0, 1)",
             "m = choose(True, False)", "r = r + 1 if m else r", "pass"]
    if ctx.rec:
        stmts += [f"lr.{ctx.field} += 1", "lr.q = m"]
    if ctx.param:
        stmts.append("r = K")
    if ctx.slot:
        stmts += ["ls.v += 1", "m = ls is None"]                       # ls may hold None
    return draw(st.sampled_from(stmts))


def _read_stmt(draw, ctx):
    reads = [f"r = {p}" for p in ctx.int_places()] + [f"m = {p}" for p in ctx.bool_places()]
    if ctx.rec:
        reads.append("lr = rec")
    if ctx.resize:
        reads += ["r = len(arr)", "r = sum(arr)", "m = 1 in arr", "r = arr[len(arr) - 1]"]
    if ctx.slot:
        reads += ["ls = slot", "m = slot is None", "r = slot.v if slot is not None else 0"]
    if ctx.grid:
        reads += ["r = len(grid[1])", "r = sum(sum(row) for row in grid)", "r = grid[1][tid]"]
    return draw(st.sampled_from(reads))


def _step(draw, ctx, depth):
    """One step, or a few (a lock segment, a reset and its loop): a list."""
    kinds = ["shared"] * 6 + ["local"] * 2 + ["read"] * 3 + ["if"] * 3 + [
        "await", "await", "call", "call", "assert", "error", "return", "nop"]
    if ctx.lock_ok:
        kinds += ["lock"] * 3
    if ctx.shapes:
        kinds += ["shape"] * 4 + ["reshape+access"] * 6 + ["shape check"] * 5
    if ctx.pages or ctx.counter:
        kinds += ["pages"] * 6 + (["pages check"] * 2 if ctx.pages else [])
    if depth == 0:
        kinds += ["loop", "loop", "spin"] + (["local spin"] if draw(st.integers(0, 19)) == 0 else [])
    if depth > 1:
        kinds = ["shared", "shared", "local", "read", "assert"] + (["shape"] * 2 if ctx.shapes else [])
    elif ctx.focus:
        # few steps, most of them on the changing shapes
        kinds = ["shape"] + ["reshape+access"] * 4 + ["shape check"] * 4 + ["shared", "read", "await", "if"]
    kind = draw(st.sampled_from(kinds))
    if kind == "pages":
        return [{"step": "pages", "do": pages_stmt(draw, ctx)}]
    if kind == "pages check":
        ctx.asserts += 1
        return [{"step": "check", "do": f"assert {draw(st.sampled_from(PAGE_CHECKS))}, 'pages {ctx.asserts}'"}]
    if kind == "shape":
        code = _shape_stmt(draw, ctx)
        if draw(st.integers(0, 3)) == 0:
            code += "\n" + draw(st.sampled_from([_shared_stmt, _shape_stmt]))(draw, ctx)
        return [{"step": "reshape", "do": code}]
    if kind == "reshape+access":
        # two steps: the second's index or field means something else than
        # it did in the initial state
        return [{"step": "resize", "do": _reshape(draw, ctx)}, {"step": "access", "do": _shape_access(draw, ctx)}]
    if kind == "shape check":
        ctx.asserts += 1
        return [{"step": "check", "do": f"assert {_shape_check(draw, ctx)}, 'shape {ctx.asserts}'"}]
    if kind == "shared":
        code = _shared_stmt(draw, ctx)
        if draw(st.booleans()):
            code += "\n" + draw(st.sampled_from([_shared_stmt(draw, ctx), _local_stmt(draw, ctx)]))
        return [{"step": "write", "do": code}]
    if kind == "local":
        return [{"step": "local", "do": _local_stmt(draw, ctx)}]
    if kind == "read":
        return [{"step": "read", "do": _read_stmt(draw, ctx)}]
    if kind == "await":
        # an await is a scheduling point even on a local-only condition
        node = {"step": "wait", "await": draw(st.sampled_from([_shared_cond, _shared_cond, _local_cond]))(draw, ctx)}
        if draw(st.booleans()):
            node["do"] = draw(st.sampled_from([_shared_stmt, _local_stmt]))(draw, ctx)
        return [node]
    if kind == "nop":
        return [{"step": "no code"}]
    if kind == "local spin":
        # a busy wait on a local condition: an error if it ever spins
        return [{"while": _local_cond(draw, ctx), "steps": []}]
    if kind == "lock":
        ctx.uses_lock = True
        inner = _steps(draw, ctx, depth + 1, 0, 2)
        return ([{"step": "lock", "await": "not lk", "do": "lk = True"}] + inner
                + [{"step": "unlock", "do": "lk = False"}])
    if kind == "if":
        cond = draw(st.sampled_from([_shared_cond, _local_cond]))(draw, ctx)
        node = {"if": cond, "then": _steps(draw, ctx, depth + 1, 0, 2)}
        if draw(st.booleans()):
            node["else"] = _steps(draw, ctx, depth + 1, 0, 2)
        return [node]
    if kind == "loop":
        body = _steps(draw, ctx, depth + 1, 1, 2) + [{"step": "i++", "do": "i += 1"}]
        reset = [{"step": "i = 0", "do": "i = 0"}] if draw(st.booleans()) else []
        return reset + [{"while": "i < 2", "steps": body}]
    if kind == "spin":
        return [{"while": _shared_cond(draw, ctx), "steps": []}]
    if kind == "call":
        cond = draw(st.sampled_from([_shared_cond, _local_cond]))(draw, ctx)
        if draw(st.booleans()):
            bail = {"step": "bail", "do": f"if {cond}:\n    return\n{_shared_stmt(draw, ctx)}"}
        else:
            bail = {"if": cond, "then": [{"step": "return", "do": "return"}]}
        body = _steps(draw, ctx, depth + 1, 0, 1) + [bail] + _steps(draw, ctx, depth + 1, 1, 2)
        return [{"call": "helper()", "steps": body}]
    if kind == "assert":
        ctx.asserts += 1
        cond = draw(st.sampled_from([_shared_cond, _local_cond]))(draw, ctx)
        if draw(st.booleans()):
            return [{"step": "check", "do": f"assert {cond}, 'failed {ctx.asserts}'"}]
        return [{"step": "check", "do": f"assert {cond}"}]
    if kind == "error":
        place = draw(st.sampled_from(ctx.int_places() + ["r"]))
        return [{"step": "divide", "do": f"r = 2 // {place}"}]
    # return: leaves the enclosing call group, or finishes the thread
    cond = draw(st.sampled_from([_shared_cond, _local_cond]))(draw, ctx)
    return [{"step": "quit", "do": f"if {cond}:\n    return\n{_shared_stmt(draw, ctx)}"}]


def _steps(draw, ctx, depth, lo, hi):
    steps = []
    for _ in range(draw(st.integers(lo, hi))):
        steps += _step(draw, ctx, depth)
    return steps


def _thread(draw, ctx, copies, nsteps):
    steps = []
    for _ in range(nsteps):
        steps += _step(draw, ctx, 0)
    if "call" not in steps[0] and draw(st.integers(0, 3)) == 0:
        # a guarded backward goto to the first step (runs at most once more)
        steps[0]["label"] = "again"
        jump = {"step": "goto again", "do": "g += 1", "goto": "again"}
        steps.append({"if": "g < 1", "then": [jump]})
    elif draw(st.integers(0, 6)) == 0:
        steps.insert(draw(st.integers(0, len(steps))), {"step": "exit", "goto": "end"})
    locals_ = {"r": 0, "m": False, "i": 0, "g": 0}
    if ctx.rec:
        locals_["lr"] = {ctx.field: 0, "q": False}
    if ctx.slot:
        locals_["ls"] = {"v": draw(st.integers(0, 1))}
    thread = {"locals": locals_, "steps": steps}
    if copies > 1:
        thread["copies"] = copies
    return thread


@st.composite
def scenario_texts(draw, failing_properties=True, shapes=False):
    """A small random scenario, as YAML text.

    With ``failing_properties``, invariants and final checks may fail to
    evaluate (an ``error`` violation). With ``shapes``, shared data may change
    shape (see the module's docstring); each shape is drawn on its own.
    """
    ints = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=0, max_size=2, unique=True))
    bools = draw(st.lists(st.sampled_from(["f", "h"]), min_size=0 if ints else 1, max_size=2, unique=True))
    arr = draw(st.integers(0, 3)) == 0
    rec = draw(st.integers(0, 3)) == 0
    # a record field may share its name with a shared variable: a field is not a name
    field = draw(st.sampled_from(["p"] + ints[:1]))
    param = draw(st.integers(0, 3)) == 0
    if not ints and not arr and not rec:
        ints = ["a"]
    resize = slot = grid = False
    if shapes:
        resize = draw(st.booleans())
        arr = arr or resize
        slot = draw(st.integers(0, 3)) == 0
        grid = draw(st.integers(0, 4)) == 0
    pages = shapes and draw(st.integers(0, 2)) == 0
    counter = shapes and draw(st.integers(0, 2)) == 0
    ctx = _Ctx(ints, bools, arr, rec, field, param, lock_ok=draw(st.booleans()),
               resize=resize, slot=slot, grid=grid, pages=pages,
               pages_resize=pages and draw(st.integers(0, 3)) == 0,
               counter=counter, counter_read=counter and draw(st.integers(0, 3)) == 0)
    if ctx.shapes and draw(st.booleans()):
        # focused: one shape only, few steps
        ctx.focus = draw(st.sampled_from([k for k in ("resize", "resize", "grid", "slot") if getattr(ctx, k)]))
        ctx.resize, ctx.slot, ctx.grid = (ctx.focus == "resize"), (ctx.focus == "slot"), (ctx.focus == "grid")
        resize, slot, grid = ctx.resize, ctx.slot, ctx.grid
        ctx.pages = ctx.pages_resize = ctx.counter = ctx.counter_read = False

    shape = draw(st.sampled_from(["2", "3", "copies", "copies+1"]))
    counts = {"2": [1, 1], "3": [1, 1, 1], "copies": [2], "copies+1": [2, 1]}[shape]
    most = 3 if sum(counts) == 3 else 4
    if ctx.focus:
        most = 2
    threads = {}
    for n, copies in enumerate(counts):
        name = "w" if copies > 1 else f"t{n}"
        threads[name] = _thread(draw, ctx, copies, draw(st.integers(1, most)))

    state = {}
    for v in ints:
        state[v] = draw(st.integers(0, 1))
    for v in bools:
        state[v] = draw(st.booleans())
    if arr:
        state["arr"] = [0, draw(st.integers(0, 1))]
        if resize:
            state["arr"] = [0] * draw(st.integers(0, 2)) + state["arr"][1:]
        if ctx.focus:
            state["arr"] = [0] * len(state["arr"])
    if rec:
        state["rec"] = {field: 0, "q": False}
    if slot:
        state["slot"] = draw(st.sampled_from([None, {"v": 0}]))
    if grid:
        state["grid"] = draw(st.sampled_from([[[0, 0], [0, 0]], [[0], [0, 0]], [[0, 0], [0]]]))
    if ctx.pages:
        slots = draw(st.sampled_from([[0, 1], [1, 0], [1, 1]]))
        state["pages"] = [{"v": 0, "q": False, "n": 0, "slot": k} for k in slots]
        state["ix"] = draw(st.integers(0, 1))
    if ctx.counter:
        state["cnt"] = draw(st.integers(0, 1))
    if ctx.uses_lock:
        state["lk"] = False

    doc = {"racecheck": 1, "title": "generated"}
    if param:
        doc["params"] = {"K": 1}
    doc["state"] = state
    doc["threads"] = threads

    if failing_properties:
        prop_places = [p for p in dict.fromkeys(ctx.int_places()) if "tid" not in p]
    else:
        prop_places = ctx.safe_int_places()
    int_props = [f"{p} <= 1" for p in prop_places]
    int_props += [f"{p} >= 0" for p in prop_places]
    prop_bools = [b for b in ctx.bool_places() if "tid" not in b]
    bool_props = [f"not {b}" for b in prop_bools] + prop_bools
    if len(prop_bools) > 1:
        bool_props.append(f"not ({prop_bools[0]} and {prop_bools[1]})")
    if arr:
        int_props += ["sum(arr) < 3", "any(v == 0 for v in arr)"]
        if failing_properties or not resize:
            int_props.append("all(arr[k] <= 1 for k in range(2))")
    if resize:
        int_props += ["len(arr) >= 2", "len(arr) <= 2", "all(v <= 1 for v in arr)",
                      "len(arr) < 2 or arr[1] == 0", "len(arr) < 2 or arr[-2] == 0 and arr[-1] <= 1"]
    if slot:
        int_props += ["slot is None or slot.v <= 1", "slot is not None", "slot is None"]
    if grid:
        int_props += ["all(x <= 1 for row in grid for x in row)", "len(grid) == 2 and len(grid[0]) <= 2",
                      "sum(len(row) for row in grid) <= 4", "len(grid) < 2 or len(grid[1]) < 2 or grid[1][1] == 0"]
        if failing_properties:
            int_props += ["grid[1][-1] <= 1", "len(grid[1]) < 2 or grid[1][1] == 0"]
    if ctx.pages and (failing_properties or not ctx.pages_resize):
        int_props += PAGE_PROPS
    if ctx.counter_read:
        int_props += ["cnt <= 2", "cnt >= 0 and cnt != 3"]
    places = prop_places + prop_bools
    if len(places) > 1:  # conjunctions (partial-order reduction splits invariants at 'and')
        int_props.append(f"{places[0]} != 2 and {places[-1]} != -1")
    if len(ints) > 1:
        int_props.append(f"{ints[0]} + {ints[1]} <= 2")
    if failing_properties:
        # cannot be evaluated when the place holds -1: an error violation
        int_props += [f"2 // ({p} + 1) >= 0" for p in prop_places][:1]
    props = st.sampled_from(int_props + bool_props)
    invariants = draw(st.lists(props, max_size=2, unique=True))
    if invariants:
        doc["invariants"] = {f"inv{i}": e for i, e in enumerate(invariants)}
    finals = draw(st.lists(props, max_size=1))
    if ctx.uses_lock and draw(st.booleans()):
        finals.append("not lk")
    if finals:
        doc["final"] = {f"fin{i}": e for i, e in enumerate(finals)}
    if draw(st.integers(0, 4)) == 0:
        doc["deadlock"] = "allowed"
    if draw(st.integers(0, 4)) == 0:
        doc["livelock"] = "allowed"
    if param and draw(st.booleans()):
        doc["variants"] = {"one": {"params": {"K": 1}}, "two": {"params": {"K": 2}}}
    return yaml.safe_dump(doc, sort_keys=False)
