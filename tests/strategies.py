"""Hypothesis strategies: small random racecheck scenarios, as YAML text.

Every scenario is valid (it loads) and small, so that both racecheck and the
naive reference explorer (tests/reference.py) exhaust it quickly. Steps are
drawn from the constructs of docs/format.md: shared and local-only actions,
``await`` (locks and plain waits), if/else on shared or local conditions,
bounded loops, busy-wait loops, call groups with an early ``return``,
``choose()``, asserts, failing steps, guarded backward ``goto``, copies and
``tid``, params and variants.
"""

from __future__ import annotations

import yaml
from hypothesis import strategies as st


class _Ctx:
    """What one scenario declares, so that generated code only uses it."""

    def __init__(self, ints, bools, arr, rec, field, param, lock_ok):
        self.ints, self.bools = ints, bools
        self.arr, self.rec, self.field = arr, rec, field
        self.param = param
        self.lock_ok = lock_ok
        self.uses_lock = False
        self.asserts = 0

    def int_places(self):
        places = list(self.ints)
        if self.arr:
            places += ["arr[tid]", "arr[0]", "arr[1]"]
        if self.rec:
            places.append(f"rec.{self.field}")
        return places

    def bool_places(self):
        return list(self.bools) + (["rec.q"] if self.rec else [])


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
    return draw(st.sampled_from(stmts))


def _read_stmt(draw, ctx):
    reads = [f"r = {p}" for p in ctx.int_places()] + [f"m = {p}" for p in ctx.bool_places()]
    if ctx.rec:
        reads.append("lr = rec")
    return draw(st.sampled_from(reads))


def _step(draw, ctx, depth):
    """One step, or a few (a lock segment, a reset and its loop): a list."""
    kinds = ["shared"] * 6 + ["local"] * 2 + ["read"] * 3 + ["if"] * 3 + [
        "await", "await", "call", "call", "assert", "error", "return", "nop"]
    if ctx.lock_ok:
        kinds += ["lock"] * 3
    if depth == 0:
        kinds += ["loop", "loop", "spin"] + (["local spin"] if draw(st.integers(0, 19)) == 0 else [])
    if depth > 1:
        kinds = ["shared", "shared", "local", "read", "assert"]
    kind = draw(st.sampled_from(kinds))
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
    thread = {"locals": locals_, "steps": steps}
    if copies > 1:
        thread["copies"] = copies
    return thread


@st.composite
def scenario_texts(draw, failing_properties=True):
    """A small random scenario, as YAML text.

    With ``failing_properties``, invariants and final checks may fail to
    evaluate (an ``error`` violation).
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
    ctx = _Ctx(ints, bools, arr, rec, field, param, lock_ok=draw(st.booleans()))

    shape = draw(st.sampled_from(["2", "3", "copies", "copies+1"]))
    counts = {"2": [1, 1], "3": [1, 1, 1], "copies": [2], "copies+1": [2, 1]}[shape]
    most = 3 if sum(counts) == 3 else 4
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
    if rec:
        state["rec"] = {field: 0, "q": False}
    if ctx.uses_lock:
        state["lk"] = False

    doc = {"racecheck": 1, "title": "generated"}
    if param:
        doc["params"] = {"K": 1}
    doc["state"] = state
    doc["threads"] = threads

    int_props = [f"{p} <= 1" for p in ctx.int_places() if not p.endswith("[tid]")]
    int_props += [f"{p} >= 0" for p in ctx.int_places() if not p.endswith("[tid]")]
    bool_props = [f"not {b}" for b in ctx.bool_places()] + [b for b in ctx.bool_places()]
    if len(ctx.bool_places()) > 1:
        bool_props.append(f"not ({ctx.bool_places()[0]} and {ctx.bool_places()[1]})")
    if arr:
        int_props += ["sum(arr) < 3", "all(arr[k] <= 1 for k in range(2))", "any(v == 0 for v in arr)"]
    places = [p for p in ctx.int_places() if not p.endswith("[tid]")] + ctx.bool_places()
    if len(places) > 1:  # conjunctions (partial-order reduction splits invariants at 'and')
        int_props.append(f"{places[0]} != 2 and {places[-1]} != -1")
    if len(ints) > 1:
        int_props.append(f"{ints[0]} + {ints[1]} <= 2")
    if failing_properties:
        # cannot be evaluated when the place holds -1: an error violation
        int_props += [f"2 // ({p} + 1) >= 0" for p in ctx.int_places() if not p.endswith("[tid]")][:1]
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
