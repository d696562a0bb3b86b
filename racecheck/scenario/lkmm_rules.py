"""What ``memory:`` changes in a loaded scenario.

``refuse_for_lkmm`` raises a ``ScenarioError`` (file and line) for what
``memory: lkmm`` cannot check yet, saying why:

* ``invariants``: an execution graph has no global states between steps
  (state the property as a final check, or an ``assert``);
* a ``while`` loop whose condition reads shared state, or a local that
  its body computes from shared state: the enumeration of executions
  needs threads with finitely many runs (write the iterations out, or
  wait with ``await``);
* ``goto`` other than ``goto: end`` (a jump backwards is a loop);
* ``choose()``: a thread's runs differ only in the values they read;
* shared variables holding records or lists: every shared variable is one
  memory location (split the record into variables);
* assignment to a field or element: the same;
* a spinlock variable read or written other than by spin_lock and
  spin_unlock (lock.cat gives such executions no meaning).

``for_sc`` lowers the kernel vocabulary to the plain language
(``lkmm_vocab``), ``spin_lock(l)`` to an ``await`` on the step.
``check_lock_placement`` refuses a ``spin_lock`` that is not the first
statement of a ``do`` under either model.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import replace

from racecheck.errors import ScenarioError
from racecheck.scenario import lkmm_vocab as V
from racecheck.scenario import schema as S
from racecheck.scenario.lang import Code
from racecheck.scenario.values import Record


def walk(steps):
    """Every step, nested ones included, in file order."""
    for step in steps:
        yield step
        if isinstance(step, S.Branch):
            yield from walk(step.then + step.orelse)
        elif isinstance(step, (S.Loop, S.Call)):
            yield from walk(step.body)


def codes(step) -> list:
    if isinstance(step, S.Action):
        return [c for c in (step.await_, step.do) if c is not None]
    if isinstance(step, (S.Branch, S.Loop)):
        return [step.cond]
    return []


def _error(code: Code, node, message: str, hint: str, source_line) -> ScenarioError:
    pos = code.origin.pos(getattr(node, "lineno", 1), getattr(node, "col_offset", 0)) if node is not None \
        else code.pos
    return ScenarioError(pos, message, hint, source_line(pos.line))


def check_lock_placement(scenario: S.Scenario, source_line) -> None:
    for thread in scenario.threads:
        for step in walk(thread.steps):
            for code in codes(step):
                first = V.first_lock(code) if isinstance(step, S.Action) and code is step.do else None
                for node in ast.walk(code.tree):
                    if V.primitive_of(node)[0] == "spin_lock" and node is not first:
                        raise _error(code, node, "spin_lock() must be the first statement of a step's do: "
                                     "it waits for the lock", "start a step of its own with it", source_line)


def refuse_for_lkmm(scenario: S.Scenario, source_line) -> None:
    if scenario.invariants:
        inv = scenario.invariants[0]
        raise _error(inv.code, None, f"invariant '{inv.name}' cannot be checked under memory: lkmm: an "
                     "execution has no global states between steps",
                     "state it as a final check (final:), or as an assert in a step", source_line)
    shared = dict(scenario.state)
    locks = V.lock_names(c.tree for t in scenario.threads for s in walk(t.steps) for c in codes(s))
    for thread in scenario.threads:
        for step in walk(thread.steps):
            _refuse_step(step, thread, shared, locks, source_line)
    for prop in scenario.finals:
        check_locations(prop.code, shared, f"final '{prop.name}'", source_line)


def _refuse_step(step, thread, shared: dict, locks: set, source_line) -> None:
    where = f"thread '{thread.name}'"
    if isinstance(step, S.Action) and step.goto not in (None, "end"):
        raise ScenarioError(step.pos, f"goto under memory: lkmm: only 'goto: end' ({where}); a jump may loop",
                            "use if/else steps", source_line(step.pos.line))
    if isinstance(step, S.Loop):
        _refuse_loop(step, where, shared, source_line)
    for code in codes(step):
        check_locations(code, shared, where, source_line)
        for node in ast.walk(code.tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "choose":
                raise _error(code, node, f"choose() is not supported under memory: lkmm yet ({where})",
                             "a thread's runs differ only in the values its reads return; make the choice "
                             "a param and a variant", source_line)
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                root = V.root_of(target)
                if not isinstance(target, ast.Name) and (root is None or root.id not in shared):
                    raise _error(code, node, f"under memory: lkmm a local is assigned whole ({where})",
                                 "assign the local a new value, or keep the record in state", source_line)
            if isinstance(node, ast.Name) and node.id in locks and not _lock_use(code.tree, node):
                raise _error(code, node, f"spinlock '{node.id}' is read or written directly ({where}); "
                             "under memory: lkmm a lock is only taken and released",
                             "use spin_lock() and spin_unlock() only, or another variable", source_line)


def check_locations(code: Code, shared: dict, where: str, source_line) -> None:
    """Under lkmm every access to a record or list in state names one
    scalar leaf (``page.flags``, ``slots[1]``), a memory location of its
    own; refuse a whole record, or an index that is not a constant."""
    parents = {child: node for node in ast.walk(code.tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(code.tree):
        if not (isinstance(node, ast.Name) and isinstance(shared.get(node.id), tuple)):
            continue
        top = node
        while isinstance(parents.get(top), (ast.Attribute, ast.Subscript)) and parents[top].value is top:
            top = parents[top]
        path = V.path_of(top)
        if path is None:
            raise _error(code, top, f"under memory: lkmm an element of '{node.id}' is named by a constant "
                         f"index ({where})", "each element is a memory location of its own", source_line)
        if isinstance(leaf_value(shared[node.id], path[len(node.id):]), tuple):
            raise _error(code, top, f"'{path}' is a whole record or list; under memory: lkmm each of its "
                         f"fields and elements is a memory location of its own ({where})",
                         "read or write one field or element at a time", source_line)


def leaf_value(value, rest: str):
    """The part ``rest`` (``.flags[1]``) of ``value``; None when absent."""
    while rest:
        if rest[0] == ".":
            name = rest[1:].split(".")[0].split("[")[0]
            rest = rest[1 + len(name):]
            value = dict(value.items()).get(name) if type(value) is Record else None
        else:
            index = int(rest[1:rest.index("]")])
            rest = rest[rest.index("]") + 1:]
            value = value[index] if isinstance(value, tuple) and type(value) is not Record \
                and index < len(value) else None
    return value


def flatten(name: str, value) -> dict:
    """A shared variable as its memory locations: ``{"page.flags": 0, ...}``."""
    if type(value) is Record:
        return {k: v for field, sub in value.items() for k, v in flatten(f"{name}.{field}", sub).items()}
    if isinstance(value, tuple):
        return {k: v for i, sub in enumerate(value) for k, v in flatten(f"{name}[{i}]", sub).items()}
    return {name: value}


def _lock_use(tree, name_node) -> bool:
    for node in ast.walk(tree):
        _, prim = V.primitive_of(node)
        if prim is not None and prim.kind in ("lock", "unlock") and node.args[0] is name_node:
            return True
    return False


def _refuse_loop(step: S.Loop, where: str, shared: dict, source_line) -> None:
    reads = set(step.cond.names) & set(shared)
    if not reads:
        computed = set()
        for inner in walk(step.body):
            for code in codes(inner):
                if set(code.names) & set(shared):
                    computed |= set(code.assigned) - set(shared)
        reads = set(step.cond.names) & computed
    if reads:
        raise ScenarioError(step.pos, f"a while loop over shared state ({', '.join(sorted(reads))}) cannot be "
                            f"checked under memory: lkmm yet ({where}): the enumeration needs threads with "
                            "finitely many runs",
                            "write the iterations out as steps, or wait with await (a read that must see "
                            "the value it waits for)", source_line(step.pos.line))


# -- memory: sc ---------------------------------------------------------------

def for_sc(scenario: S.Scenario, source_line) -> S.Scenario:
    """The scenario with the kernel vocabulary lowered to the plain language."""
    locks = V.lock_names(c.tree for t in scenario.threads for s in walk(t.steps) for c in codes(s))
    values = V.lock_values(dict(scenario.state), locks)
    threads = tuple(replace(t, steps=_lower_steps(t.steps, values)) for t in scenario.threads)
    copies = {t.name: t.copies for t in scenario.threads}
    finals = tuple(replace(p, code=_thread_locals(V.lower_code(p.code, values), copies, source_line))
                   for p in scenario.finals)
    invariants = tuple(replace(p, code=V.lower_code(p.code, values)) for p in scenario.invariants)
    return _shared_locals(replace(scenario, threads=threads, finals=finals, invariants=invariants))


def _lower_steps(steps, values: dict) -> tuple:
    out = []
    for step in steps:
        if isinstance(step, S.Action):
            out.append(_lower_action(step, values))
        elif isinstance(step, S.Branch):
            out.append(replace(step, cond=V.lower_code(step.cond, values),
                               then=_lower_steps(step.then, values), orelse=_lower_steps(step.orelse, values)))
        elif isinstance(step, S.Loop):
            out.append(replace(step, cond=V.lower_code(step.cond, values), body=_lower_steps(step.body, values)))
        else:
            out.append(replace(step, body=_lower_steps(step.body, values)))
    return tuple(out)


def _lower_action(step: S.Action, values: dict) -> S.Action:
    lock = V.first_lock(step.do)
    await_ = V.lower_code(step.await_, values)
    if lock is not None:
        name = V.location(lock)
        free = ast.copy_location(ast.UnaryOp(ast.Not(), ast.copy_location(ast.Name(name, ast.Load()), lock)), lock)
        test = free if await_ is None else ast.copy_location(ast.BoolOp(ast.And(), [await_.tree.body, free]), lock)
        tree = ast.fix_missing_locations(ast.Expression(test))
        base = await_ or step.do
        text = (f"({await_.text}) and " if await_ else "") + f"not {name}"
        await_ = replace(base, text=text, tree=tree, is_expr=True,
                         names=frozenset((await_.names if await_ else frozenset()) | {name}),
                         assigned=frozenset(), has_choose=False, has_return=False)
    return replace(step, await_=await_, do=V.lower_code(step.do, values))


def _thread_locals(code: Code, copies: dict, source_line) -> Code:
    """A final check's ``THREAD.LOCAL`` as the name ``THREAD.LOCAL``, which
    ``_shared_locals`` makes a shared variable."""
    if not any("." in name for name in code.names):
        return code

    class Slots(ast.NodeTransformer):
        def visit_Attribute(self, node):
            base = node.value
            if isinstance(base, ast.Subscript) and isinstance(base.value, ast.Name) and base.value.id in copies:
                raise _error(code, base, f"under memory: sc, a final check reads the locals of threads "
                             f"without copies only ({base.value.id} has {copies[base.value.id]})",
                             "check it under memory: lkmm, or share the value in state", source_line)
            if isinstance(base, ast.Name) and base.id in copies and f"{base.id}.{node.attr}" in code.names:
                if copies[base.id] > 1:
                    raise _error(code, node, f"under memory: sc, a final check reads the locals of threads "
                                 f"without copies only ({base.id} has {copies[base.id]})",
                                 "check it under memory: lkmm, or share the value in state", source_line)
                return ast.copy_location(ast.Name(f"{base.id}.{node.attr}", ast.Load()), node)
            return self.generic_visit(node)

    tree = ast.fix_missing_locations(Slots().visit(copy.deepcopy(code.tree)))
    return replace(code, tree=tree)


def _shared_locals(scenario: S.Scenario) -> S.Scenario:
    """Under sc, a local that a final check reads (``T.r``) becomes the
    shared variable ``T.r``, which only its thread touches: the same
    values in every interleaving, and the search keeps it alive to the
    end (a finished thread's locals are otherwise dead to it)."""
    wanted = {name for p in scenario.finals for name in p.code.names if "." in name}
    if not wanted:
        return scenario
    state, threads = list(scenario.state), []
    for thread in scenario.threads:
        mine = {name.split(".", 1)[1] for name in wanted if name.split(".", 1)[0] == thread.name}
        if not mine:
            threads.append(thread)
            continue
        rename = {local: f"{thread.name}.{local}" for local in mine}
        state += [(rename[n], v) for n, v in thread.locals if n in mine]
        locals_ = tuple((n, v) for n, v in thread.locals if n not in mine)
        threads.append(replace(thread, locals=locals_, steps=map_codes(thread.steps, lambda c: _rename(c, rename))))
    return replace(scenario, state=tuple(state), threads=tuple(threads))


def _rename(code, rename: dict):
    if code is None or not set(code.names) & set(rename):
        return code

    class Names(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in rename:
                return ast.copy_location(ast.Name(rename[node.id], node.ctx), node)
            return node

    tree = ast.fix_missing_locations(Names().visit(copy.deepcopy(code.tree)))
    return replace(code, tree=tree, names=frozenset(rename.get(n, n) for n in code.names),
                   assigned=frozenset(rename.get(n, n) for n in code.assigned))


def map_codes(steps, fix) -> tuple:
    """``steps`` with every Code replaced by ``fix(code)``."""
    out = []
    for step in steps:
        if isinstance(step, S.Action):
            out.append(replace(step, await_=fix(step.await_), do=fix(step.do)))
        elif isinstance(step, (S.Branch, S.Loop)):
            extra = dict(then=map_codes(step.then, fix), orelse=map_codes(step.orelse, fix)) \
                if isinstance(step, S.Branch) else dict(body=map_codes(step.body, fix))
            out.append(replace(step, cond=fix(step.cond), **extra))
        else:
            out.append(replace(step, body=map_codes(step.body, fix)))
    return tuple(out)
