"""A naive reference explorer for racecheck scenario files.

Deliberately simple and independent of racecheck (nothing is imported from
it): it walks the step tree of docs/format.md directly, runs the code with
Python's own exec/eval on a dict environment (trusted, generated input
only), and searches the state space exhaustively. Tests compare its answers
with racecheck's explorer.

    explore(yaml_text, variant="") -> Result(states, kinds)
    fewest_switches(yaml_text, variant="") -> {kind: (switches, steps)}
    replay(yaml_text, variant, init, steps) -> the kinds a schedule ends in

``states`` counts the distinct reachable states (shared values, and per
thread instance its position in the step tree and its locals); ``kinds`` is
the set of violations reachable: ('invariant', NAME), ('final', NAME),
('deadlock',), ('livelock',), ('assert', MESSAGE), ('error',).
"""

from __future__ import annotations

import ast
import builtins
import functools
import textwrap
from dataclasses import dataclass

import yaml

END = "end"                 # the position of a finished thread
MAX_LOCAL_STEPS = 10_000    # docs/format.md: a local-only loop that never ends is an error


# -- values ---------------------------------------------------------------------

class Rec(dict):
    """A record: a dict whose fields are also attributes (``folio.dirty``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        if name not in self:
            raise AttributeError(f"a record cannot gain a field: {name}")
        self[name] = value


def value_of(v):
    """A YAML value as a scenario value (fresh copy: values never alias)."""
    if isinstance(v, dict):
        return Rec((k, value_of(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return [value_of(x) for x in v]
    return v


def freeze(v):
    """A hashable, exact key for a value (True and 1 stay distinct)."""
    if isinstance(v, dict):
        return ("rec",) + tuple((k, freeze(x)) for k, x in v.items())
    if isinstance(v, list):
        return ("list",) + tuple(freeze(x) for x in v)
    return (type(v).__name__, v)


def show(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(show(x) for x in v) + "]"
    return repr(v)


# -- code -----------------------------------------------------------------------

class Failure(Exception):
    """A failing step: kind is ('assert', message) or ('error',)."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


class AssertFailed(Exception):
    pass


def _assert_failed(message):
    raise AssertFailed(message if isinstance(message, str) else show(message))


class _Rewrite(ast.NodeTransformer):
    """Give Python code racecheck's value semantics.

    Tuples are lists; every assigned value is copied (``x = folio`` copies);
    ``assert`` raises with racecheck's message.
    """

    def visit_Tuple(self, node):
        return ast.copy_location(ast.List([self.visit(e) for e in node.elts], node.ctx), node)

    def visit_Assign(self, node):
        self.generic_visit(node)
        node.value = ast.Call(ast.Name("_copy", ast.Load()), [node.value], [])
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        node.value = ast.Call(ast.Name("_copy", ast.Load()), [node.value], [])
        return node

    def visit_Assert(self, node):
        if node.msg is None:
            msg = ast.Constant("assertion failed: " + ast.unparse(node.test))
        else:
            msg = self.visit(node.msg)
        test = self.visit(node.test)
        fail = ast.Expr(ast.Call(ast.Name("_assert_failed", ast.Load()), [msg], []))
        return ast.copy_location(ast.If(ast.UnaryOp(ast.Not(), test), [fail], []), node)


def source(code) -> str:
    """Code may be a string, or a YAML boolean or integer (``while: true``)."""
    return textwrap.dedent(code) if isinstance(code, str) else repr(code)


@functools.lru_cache(maxsize=None)
def names_in(code) -> frozenset:
    return frozenset(n.id for n in ast.walk(ast.parse(source(code))) if isinstance(n, ast.Name))


def compile_expr(code):
    tree = _Rewrite().visit(ast.parse(source(code).strip(), mode="eval"))
    return compile(ast.fix_missing_locations(tree), "<expr>", "eval")


def compile_block(code, writable):
    """``do`` code as the body of ``_step()``; it returns None when ``return`` ran."""
    body = _Rewrite().visit(ast.parse(source(code))).body
    glob = [ast.Global(sorted(writable))] if writable else []
    fn = ast.FunctionDef("_step", ast.arguments([], [], None, [], [], None, []),
                         glob + body + [ast.Return(ast.Constant(True))], [], None, None)
    fn.type_params = []
    return compile(ast.fix_missing_locations(ast.Module([fn], [])), "<do>", "exec")


def user(fn, *args):
    """Run scenario code; its failures become a Failure (assert or error)."""
    try:
        return fn(*args)
    except AssertFailed as exc:
        raise Failure(("assert", exc.args[0])) from None
    except Exception:
        raise Failure(("error",)) from None


def _range(*args):
    return list(range(*args))


def _copy(v):
    if isinstance(v, dict):
        return Rec((k, _copy(x)) for k, x in v.items())
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


class Chooser:
    """``choose()`` for one run: picks from ``plan``, then alternative 0."""

    def __init__(self, plan=()):
        self.plan = plan
        self.taken = []
        self.sizes = []

    def choose(self, *alternatives):
        i = len(self.taken)
        k = self.plan[i] if i < len(self.plan) else 0
        self.taken.append(k)
        self.sizes.append(len(alternatives))
        return alternatives[k]


def every_choice(run):
    """Call ``run(chooser)`` once for every combination of choose() picks."""
    plans = [()]
    while plans:
        chooser = Chooser(plans.pop())
        yield run(chooser)
        for k in range(len(chooser.plan), len(chooser.sizes)):
            for alt in range(1, chooser.sizes[k]):
                plans.append(tuple(chooser.taken[:k]) + (alt,))


# -- the scenario ---------------------------------------------------------------

@dataclass
class Thread:
    name: str
    tid: int
    locals: dict
    steps: list
    labels: dict


class Scenario:
    def __init__(self, text: str, variant: str = ""):
        doc = yaml.safe_load(text)
        self.params = dict(doc.get("params") or {})
        if variant:
            self.params.update((doc["variants"][variant] or {}).get("params") or {})
        self.params = {k: value_of(v) for k, v in self.params.items()}
        self.shared = {k: value_of(v) for k, v in doc["state"].items()}
        self.threads = []
        for name, tdef in doc["threads"].items():
            copies = tdef.get("copies", 1)
            for tid in range(copies):
                labels = {}
                _collect_labels(tdef["steps"], (), labels)
                self.threads.append(Thread(name if copies == 1 else f"{name}#{tid}", tid,
                                           value_of(tdef.get("locals") or {}), tdef["steps"], labels))
        self.invariants = [(n, compile_expr(c)) for n, c in (doc.get("invariants") or {}).items()]
        self.finals = [(n, compile_expr(c)) for n, c in (doc.get("final") or {}).items()]
        self.deadlock_allowed = doc.get("deadlock") == "allowed"
        self.livelock_allowed = doc.get("livelock") == "allowed"
        self._code = {}

    # -- code, compiled once --------------------------------------------------
    def expr(self, code):
        key = ("expr", source(code))
        if key not in self._code:
            self._code[key] = compile_expr(code)
        return self._code[key]

    def block(self, code, thread):
        key = ("block", source(code), tuple(thread.locals))
        if key not in self._code:
            self._code[key] = compile_block(code, set(self.shared) | set(thread.locals))
        return self._code[key]

    def touches_shared(self, node) -> bool:
        """docs/format.md, Atomicity: is this step a scheduling point?"""
        if "call" in node:
            return False
        if "if" in node or "while" in node:
            return bool(names_in(node.get("if", node.get("while"))) & set(self.shared))
        if "await" in node:
            return True
        return "do" in node and bool(names_in(node["do"]) & set(self.shared))

    # -- positions in the step tree ------------------------------------------
    # A position is a path: (i,) is the i-th top-level step, (i, 'then', j)
    # the j-th step of its then-branch, (i, 'steps', j) of a loop or call body.
    @staticmethod
    def node_at(thread, path):
        block, node = thread.steps, None
        for part in path:
            if isinstance(part, int):
                node = block[part]
            else:
                block = node.get(part) or []
        return node

    def after(self, thread, path):
        """Where a thread goes when the step at ``path`` completes normally."""
        block = self.node_at(thread, path[:-2])[path[-2]] if len(path) > 1 else thread.steps
        if path[-1] + 1 < len(block):
            return path[:-1] + (path[-1] + 1,)
        if len(path) == 1:
            return END
        return self.block_done(thread, path[:-2], path[-2])

    def block_done(self, thread, owner, key):
        """Where a thread goes after the last step of ``owner``'s ``key`` block."""
        if "while" in self.node_at(thread, owner):
            return owner                    # back to the loop test
        return self.after(thread, owner)    # past the branch or call group

    def enter(self, thread, owner, key):
        if self.node_at(thread, owner).get(key):
            return owner + (key, 0)
        return self.block_done(thread, owner, key)

    def returned(self, thread, path):
        """``return``: leave the innermost call group, or finish the thread."""
        for j in range(len(path) - 2, 0, -1):
            if path[j] == "steps" and "call" in self.node_at(thread, path[:j]):
                return self.after(thread, path[:j])
        return END

    # -- running code ----------------------------------------------------------
    def env(self, shared, thread, lvals, chooser):
        env = {"__builtins__": builtins, "range": _range, "_copy": _copy,
               "_assert_failed": _assert_failed, "choose": chooser.choose, "tid": thread.tid}
        env.update(self.params)
        env.update(shared)
        env.update(zip(thread.locals, lvals))
        return env

    def do_step(self, thread, path, node, env):
        """Run one step; return the next position."""
        if "call" in node:
            return path + ("steps", 0)
        if "if" in node:
            test = user(eval, self.expr(node["if"]), env)
            return self.enter(thread, path, "then" if test else "else")
        if "while" in node:
            if user(eval, self.expr(node["while"]), env):
                return self.enter(thread, path, "steps")
            return self.after(thread, path)
        if "do" in node:
            exec(self.block(node["do"], thread), env)
            if user(env.pop("_step")) is None:
                return self.returned(thread, path)
        goto = node.get("goto")
        if goto == "end":
            return END
        if goto is not None:
            return thread.labels[goto]
        return self.after(thread, path)

    def run(self, thread, path, env, first):
        """A transition: the step at ``path`` (if ``first``), then the local-only ones."""
        count = 0
        while path != END:
            node = self.node_at(thread, path)
            if not first:
                if self.touches_shared(node):
                    break
                count += 1
                if count > MAX_LOCAL_STEPS:
                    raise Failure(("error",))
            first = False
            path = self.do_step(thread, path, node, env)
        return path

    # -- states: (shared values, ((position, local values), ...)) ----------------
    def initial_states(self):
        """Every thread runs its leading local-only steps: one 'init' transition."""
        def run(chooser):
            shared = {k: _copy(v) for k, v in self.shared.items()}
            threads = []
            try:
                for thread in self.threads:
                    env = self.env(shared, thread, [_copy(v) for v in thread.locals.values()], chooser)
                    path = self.run(thread, (0,), env, first=False)
                    threads.append((path, tuple(env[k] for k in thread.locals)))
            except Failure as exc:
                return exc
            return (tuple(shared.values()), tuple(threads))
        return list(every_choice(run))

    def enabled(self, state, t) -> bool:
        path, lvals = state[1][t]
        if path == END:
            return False
        node = self.node_at(self.threads[t], path)
        if "await" not in node:
            return True
        env = self.env(dict(zip(self.shared, _copy(list(state[0])))), self.threads[t], _copy(list(lvals)), Chooser())
        return bool(user(eval, self.expr(node["await"]), env))

    def successors(self, state, t):
        """Each successor state of thread ``t``'s transition, or a Failure."""
        thread = self.threads[t]
        path, lvals = state[1][t]

        def run(chooser):
            env = self.env(dict(zip(self.shared, _copy(list(state[0])))), thread, _copy(list(lvals)), chooser)
            try:
                path2 = self.run(thread, path, env, first=True)
            except Failure as exc:
                return exc
            threads = list(state[1])
            threads[t] = (path2, tuple(env[k] for k in thread.locals))
            return (tuple(env[k] for k in self.shared), tuple(threads))
        return list(every_choice(run))

    def check(self, props, state, kind, found):
        env = {"__builtins__": builtins, "range": _range, "_copy": _copy}
        env.update(self.params)
        env.update(zip(self.shared, state[0]))
        for name, code in props:
            try:
                if not user(eval, code, env):
                    found.add((kind, name))
            except Failure:
                found.add(("error",))


def _collect_labels(steps, prefix, labels):
    for i, node in enumerate(steps):
        path = prefix + (i,)
        if node.get("label"):
            labels[node["label"]] = path
        for key in ("then", "else", "steps"):
            if node.get(key):
                _collect_labels(node[key], path + (key,), labels)


def key(state):
    shared, threads = state
    return (tuple(freeze(v) for v in shared),
            tuple((path, tuple(freeze(v) for v in lvals)) for path, lvals in threads))


# -- the search -------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    states: int
    kinds: frozenset


class TooBig(Exception):
    """More than ``max_states`` states: the scenario is too big to compare."""


def explore(text: str, variant: str = "", max_states: int = 100_000) -> Result:
    sc = Scenario(text, variant)
    found: set = set()
    seen: dict = {}          # key -> state
    edges: dict = {}         # key -> successor keys
    endings: set = set()     # keys of states where some run ends
    todo = []
    for s in sc.initial_states():
        if isinstance(s, Failure):
            found.add(s.kind)
        elif key(s) not in seen:
            seen[key(s)] = s
            todo.append(s)
    while todo:
        s = todo.pop()
        k = key(s)
        edges[k] = set()
        sc.check(sc.invariants, s, "invariant", found)
        done = all(path == END for path, _ in s[1])
        if done:
            endings.add(k)
            sc.check(sc.finals, s, "final", found)
        can_run = False
        for t in range(len(sc.threads)):
            try:
                if not sc.enabled(s, t):
                    continue
            except Failure as exc:
                found.add(exc.kind)
                endings.add(k)
                can_run = True      # a failing await is a failing step, not a deadlock
                continue
            can_run = True
            for s2 in sc.successors(s, t):
                if isinstance(s2, Failure):
                    found.add(s2.kind)
                    endings.add(k)
                    continue
                k2 = key(s2)
                edges[k].add(k2)
                if k2 not in seen:
                    if len(seen) >= max_states:
                        raise TooBig(f"more than {max_states} states")
                    seen[k2] = s2
                    todo.append(s2)
        if not can_run and not done:
            endings.add(k)
            if not sc.deadlock_allowed:
                found.add(("deadlock",))
    if not sc.livelock_allowed:
        preds: dict = {k: [] for k in seen}
        for k, succ in edges.items():
            for k2 in succ:
                preds[k2].append(k)
        can_end, todo = set(endings), list(endings)
        while todo:             # backwards from the endings
            for k in preds[todo.pop()]:
                if k not in can_end:
                    can_end.add(k)
                    todo.append(k)
        if len(can_end) < len(seen):
            found.add(("livelock",))
    return Result(len(seen), frozenset(found))


# -- the fewest context switches, by exhaustion --------------------------------------

def _switch(last: int, t: int) -> int:
    return 0 if last in (-1, t) else 1


def fewest_switches(text: str, variant: str = "", max_states: int = 100_000) -> dict:
    """For each reachable violation kind except livelock, the least
    ``(context switches, steps)`` over every schedule that reaches it.

    A context switch is a step taken by another thread than the step before
    it; a failing step counts as a step (and its switch, if any, counts). The
    search is exhaustive over nodes (state, thread that ran last), in order
    of (switches, steps): every node is settled with its least cost, and
    every violation seen from every node is a candidate.
    """
    import heapq

    sc = Scenario(text, variant)
    best: dict = {}          # kind -> (switches, steps)

    def offer(kind, cost):
        if kind not in best or cost < best[kind]:
            best[kind] = cost

    settled: set = set()
    states: set = set()
    heap: list = []
    counter = 0
    for s in sc.initial_states():
        if isinstance(s, Failure):
            offer(s.kind, (0, 0))
        else:
            heapq.heappush(heap, (0, 0, counter, -1, s))
            counter += 1
    while heap:
        sw, steps, _, last, s = heapq.heappop(heap)
        node = (key(s), last)
        if node in settled:
            continue
        settled.add(node)
        if node[0] not in states:
            states.add(node[0])
            if len(states) > max_states:
                raise TooBig(f"more than {max_states} states")
        found: set = set()
        sc.check(sc.invariants, s, "invariant", found)
        done = all(path == END for path, _ in s[1])
        if done:
            sc.check(sc.finals, s, "final", found)
        for kind in found:
            offer(kind, (sw, steps))
        can_run = False
        for t in range(len(sc.threads)):
            cost = (sw + _switch(last, t), steps + 1)
            try:
                if not sc.enabled(s, t):
                    continue
            except Failure as exc:
                offer(exc.kind, cost)
                can_run = True
                continue
            can_run = True
            for s2 in sc.successors(s, t):
                if isinstance(s2, Failure):
                    offer(s2.kind, cost)
                elif (key(s2), t) not in settled:
                    heapq.heappush(heap, (cost[0], cost[1], counter, t, s2))
                    counter += 1
        if not can_run and not done and not sc.deadlock_allowed:
            offer(("deadlock",), (sw, steps))
    return best


# -- replaying a schedule ------------------------------------------------------------

class NoReplay(Exception):
    """A schedule that does not fit the scenario (a finished or waiting thread)."""


def replay(text: str, variant: str, init: tuple, steps) -> frozenset:
    """Run a schedule: ``init`` the choose() picks of the initial state,
    ``steps`` ``((thread index, picks), ...)``. Returns the violation kinds
    the run ends in (a failing last step, or what its last state violates)."""
    sc = Scenario(text, variant)

    def run_initial(chooser):
        shared = {k: _copy(v) for k, v in sc.shared.items()}
        threads = []
        for thread in sc.threads:
            env = sc.env(shared, thread, [_copy(v) for v in thread.locals.values()], chooser)
            path = sc.run(thread, (0,), env, first=False)
            threads.append((path, tuple(env[k] for k in thread.locals)))
        return (tuple(shared.values()), tuple(threads))

    try:
        s = run_initial(Chooser(tuple(init)))
    except Failure as exc:
        if steps:
            raise NoReplay("the initial state fails, but the schedule goes on") from None
        return frozenset([exc.kind])
    for n, (t, picks) in enumerate(steps):
        thread = sc.threads[t]
        path, lvals = s[1][t]
        if path == END:
            raise NoReplay(f"step {n}: {thread.name} has finished")
        try:
            if not sc.enabled(s, t):
                raise NoReplay(f"step {n}: {thread.name} is waiting")
        except Failure as exc:
            if n != len(steps) - 1:
                raise NoReplay(f"step {n}: {thread.name}'s await fails, but the schedule goes on") from None
            return frozenset([exc.kind])
        env = sc.env(dict(zip(sc.shared, _copy(list(s[0])))), thread, _copy(list(lvals)), Chooser(tuple(picks)))
        try:
            path2 = sc.run(thread, path, env, first=True)
        except Failure as exc:
            if n != len(steps) - 1:
                raise NoReplay(f"step {n}: {thread.name} fails, but the schedule goes on") from None
            return frozenset([exc.kind])
        threads = list(s[1])
        threads[t] = (path2, tuple(env[k] for k in thread.locals))
        s = (tuple(env[k] for k in sc.shared), tuple(threads))
    found: set = set()
    sc.check(sc.invariants, s, "invariant", found)
    done = all(path == END for path, _ in s[1])
    if done:
        sc.check(sc.finals, s, "final", found)
    else:
        can_run = False
        for t in range(len(sc.threads)):
            try:
                can_run = sc.enabled(s, t) or can_run
            except Failure as exc:
                found.add(exc.kind)
                can_run = True
        if not can_run and not sc.deadlock_allowed:
            found.add(("deadlock",))
    return frozenset(found)
