"""Scenario files (format version 1) -> validated ``Scenario`` values.

Every rule of the format page is checked here, before anything runs: keys,
types, names, labels and gotos, and every piece of code (through
``lang.parse_code``). Each refusal is a ``ScenarioError`` naming file, line
and column, with the closest valid word as a hint where there is one. What
loads but looks like a mistake (``mistakes``) becomes a ``ScenarioWarning``
in ``Scenario.warnings``.
"""

from __future__ import annotations

import keyword
import re

from racecheck.errors import Pos, ScenarioError, ScenarioWarning, did_you_mean
from racecheck.scenario import lkmm_rules, mistakes
from racecheck.scenario import schema as S
from racecheck.scenario.columns import code_origin
from racecheck.scenario.lang import FUNCTIONS, Scope, parse_code
from racecheck.scenario.values import Record, record_fields
from racecheck.scenario.yaml_source import Source, YNode, parse_yaml, read_regular_file, read_source

FORMAT_VERSION = 1
MAX_COPIES = 64
MAX_STEP_NESTING = 40
MAX_STEPS = 2_000                 # steps of all threads, each copy counted: each is compiled on its own
_VARIANT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")

_TOP = ("racecheck", "title", "description", "source", "params", "state", "threads",
        "invariants", "final", "deadlock", "livelock", "expect", "variants", "leaves_out", "memory")
_TOP_REQUIRED = ("racecheck", "title", "state", "threads")
_THREAD = ("title", "copies", "locals", "steps")
_ACTION = ("step", "await", "do", "label", "goto")
_BRANCH = ("if", "then", "else", "step", "label")
_LOOP = ("while", "steps", "step", "label")
_CALL = ("call", "steps")
_VARIANT = ("params", "expect", "description", "source")
_RESERVED = set(FUNCTIONS) | {"choose", "tid"}


def load_scenario(path: str, memory: str | None = None) -> S.Scenario:
    """Read, parse and validate one scenario file; ``memory`` ("sc" or
    "lkmm") overrides the file's ``memory:`` key."""
    source = read_source(path)
    root = parse_yaml(source)
    return _Builder(source, memory).scenario(root)


def looks_like_scenario(path: str) -> bool:
    """Cheap test used when searching directories: a top-level 'racecheck:' key."""
    try:
        head = read_regular_file(path, 65536).decode("utf-8", "replace")
    except OSError:                       # also named pipes and devices: never opened blocking
        return False
    return re.search(r"^racecheck\s*:", head.replace("\r", "\n"), re.MULTILINE) is not None


class _Builder:
    def __init__(self, source: Source, memory: str | None = None):
        self.src = source
        self.memory = memory
        self.fields: frozenset = frozenset()
        self.private: tuple = ()              # (thread, its locals): for the hint when code reads them
        self.warnings: dict = {}              # (pos, message) -> ScenarioWarning, in file order

    # -- generic checks ---------------------------------------------------
    def error(self, pos: Pos, message: str, hint: str = "") -> ScenarioError:
        return self.src.error(pos, message, hint)

    def warn(self, pos: Pos, message: str, hint: str = "") -> None:
        self.warnings.setdefault((pos, message), ScenarioWarning(pos, message, hint, self.src.line(pos.line)))

    def mapping(self, node: YNode, what: str) -> dict:
        if not node.is_map():
            raise self.error(node.pos, f"{what} must be a mapping, not {_kind(node)}")
        return node.value

    def keys(self, node: YNode, allowed, required, what: str) -> dict:
        value = self.mapping(node, what)
        for key in value:
            if key not in allowed:
                raise self.error(node.key_pos[key], f"unknown key '{key}' in {what}",
                                 did_you_mean(key, allowed) or f"valid keys: {', '.join(allowed)}")
        for key in required:
            if key not in value:
                raise self.error(node.pos, f"missing required key '{key}' in {what}")
        return value

    def string(self, node: YNode, what: str, allow_scalars: bool = False) -> str:
        if isinstance(node.value, str):
            return node.value
        if allow_scalars and isinstance(node.value, (int, bool)) and not isinstance(node.value, list):
            return str(node.value).lower() if isinstance(node.value, bool) else str(node.value)
        raise self.error(node.pos, f"{what} must be a string, not {_kind(node)}")

    def one_line(self, node: YNode, what: str) -> str:
        text = self.string(node, what, allow_scalars=True).strip()
        if "\n" in text:
            raise self.error(node.pos, f"{what} must fit on one line")
        if not text:
            raise self.error(node.pos, f"{what} must not be empty")
        return text

    def name(self, key: str, pos: Pos, what: str) -> str:
        if not key.isidentifier() or keyword.iskeyword(key) or key in ("True", "False", "None"):
            raise self.error(pos, f"'{key}' is not a valid {what} name: use letters, digits and '_'")
        if key.startswith("__"):
            raise self.error(pos, f"'{key}' is not a valid {what} name: names may not start with '__'")
        if key in _RESERVED:
            raise self.error(pos, f"'{key}' cannot be a {what} name: it is a built-in name of the code language")
        return key

    def value(self, node: YNode, what: str):
        """A YAML value as a scenario value (records and lists immutable)."""
        value = node.value
        if isinstance(value, dict):
            fields = {}
            for key, sub in value.items():
                self.name(key, node.key_pos[key], "field")
                fields[key] = self.value(sub, f"{what}.{key}")
            return Record.make(fields)
        if isinstance(value, list):
            return tuple(self.value(sub, f"{what}[{i}]") for i, sub in enumerate(value))
        boolean = mistakes.boolean_spelling(value) if isinstance(value, str) and node.style is None else None
        if boolean:
            self.warn(node.pos, *mistakes.spelling_warning(value, boolean))
        return value

    def values(self, node: YNode | None, what: str, kind: str) -> tuple:
        if node is None:
            return ()
        items = self.mapping(node, what)
        return tuple((self.name(k, node.key_pos[k], kind), self.value(v, k)) for k, v in items.items())

    # -- the file ---------------------------------------------------------
    def scenario(self, root: YNode) -> S.Scenario:
        top = self.keys(root, _TOP, _TOP_REQUIRED, "the scenario's top level")
        self.version(top["racecheck"])
        memory = self.memory_model(top.get("memory"))
        params = self.values(top.get("params"), "params", "param")
        state = self.values(top["state"], "state", "shared variable")
        if not state:
            raise self.error(top["state"].pos, "state must declare at least one shared variable")
        threads_node = top["threads"]
        thread_items = self.mapping(threads_node, "threads")
        if not thread_items:
            raise self.error(threads_node.pos, "threads must declare at least one thread")
        local_sets = {name: self.thread_locals(node, name, threads_node.key_pos[name])
                      for name, node in thread_items.items()}
        self.check_name_clashes(root, params, state, local_sets, thread_items, threads_node)
        self.private = tuple((t, frozenset(n for n, _ in lv)) for t, lv in local_sets.items())
        self.fields = frozenset(self.all_fields(params, state, local_sets, top.get("variants")))
        shared = frozenset(n for n, _ in state)
        param_names = frozenset(n for n, _ in params)
        threads = tuple(self.thread(name, node, shared, param_names, local_sets[name])
                        for name, node in thread_items.items())
        self.check_size(threads, threads_node)
        invariants = self.properties(top.get("invariants"), "invariant", shared, param_names)
        finals = self.properties(top.get("final"), "final", shared, param_names, thread_locals=True)
        self.check_property_names(invariants, finals)
        prop_names = [p.name for p in invariants + finals]
        expect = self.expectation(top.get("expect"), prop_names) if "expect" in top else S.SAFE
        variants = self.variants(top.get("variants"), params, expect, prop_names)
        scenario = S.Scenario(
            path=self.src.path,
            title=self.one_line(top["title"], "title"),
            description=self.string(top["description"], "description").strip() if "description" in top else "",
            source=self.sources(top.get("source")),
            params=params, state=state, threads=threads,
            invariants=invariants, finals=finals,
            deadlock_allowed=self.policy(top.get("deadlock"), "deadlock"),
            livelock_allowed=self.policy(top.get("livelock"), "livelock"),
            expect=expect, variants=variants, warnings=tuple(self.warnings.values()),
            leaves_out=self.string(top["leaves_out"], "leaves_out").strip() if "leaves_out" in top else "",
            memory=memory)
        return self.for_memory(scenario)

    def memory_model(self, node: YNode | None) -> str:
        """``memory: sc`` (the default) or ``memory: lkmm``; the caller's
        choice wins over the file's."""
        if node is not None and (not isinstance(node.value, str) or node.value not in S.MEMORY_MODELS):
            raise self.error(node.pos, f"'memory' must be 'sc' or 'lkmm', not {_kind(node)}",
                             did_you_mean(node.value, S.MEMORY_MODELS) if isinstance(node.value, str) else "")
        return self.memory or (node.value if node is not None else "sc")

    def for_memory(self, scenario: S.Scenario) -> S.Scenario:
        """Refuse what the memory model cannot check; lower the kernel
        vocabulary for sc (scenario.lkmm_rules)."""
        lkmm_rules.check_lock_placement(scenario, self.src.line)
        if scenario.memory == "sc":
            return lkmm_rules.for_sc(scenario, self.src.line)
        lkmm_rules.refuse_for_lkmm(scenario, self.src.line)
        return scenario

    def check_size(self, threads, threads_node: YNode) -> None:
        """Refuse more than MAX_STEPS steps in all: a generated file can hold
        tens of thousands, and compiling each copy of each would take longer
        than any --timeout, which bounds only the search."""
        sizes = [(t.copies * _count_steps(t.steps), t) for t in threads]
        total = sum(n for n, _ in sizes)
        if total > MAX_STEPS:
            n, biggest = max(sizes, key=lambda s: s[0])
            copies = f" ({n // biggest.copies} steps, {biggest.copies} copies)" if biggest.copies > 1 else ""
            raise self.error(threads_node.key_pos[biggest.name],
                             f"the threads have {total} steps in all, each copy counted; at most {MAX_STEPS}",
                             f"thread '{biggest.name}' has {n}{copies}")

    def version(self, node: YNode) -> None:
        if type(node.value) is not int:
            raise self.error(node.pos, f"'racecheck' must be the format version, the integer 1, not {_kind(node)}")
        if node.value != FORMAT_VERSION:
            raise self.error(node.pos, f"unsupported format version {node.value}; this racecheck reads version {FORMAT_VERSION}")

    def sources(self, node: YNode | None) -> tuple:
        if node is None:
            return ()
        if node.is_list():
            return tuple(self.string(item, "each source") for item in node.value)
        return (self.string(node, "source"),)

    def policy(self, node: YNode | None, what: str) -> bool:
        if node is None:
            return False
        if node.value not in ("error", "allowed") or not isinstance(node.value, str):
            raise self.error(node.pos, f"'{what}' must be 'error' or 'allowed', not {_kind(node)}",
                             did_you_mean(node.value, ("error", "allowed")) if isinstance(node.value, str) else "")
        return node.value == "allowed"

    def thread_locals(self, node: YNode, thread: str, name_pos: Pos) -> tuple:
        self.name(thread, name_pos, "thread")
        body = self.keys(node, _THREAD, ("steps",), f"thread '{thread}'")
        return self.values(body.get("locals"), f"locals of thread '{thread}'", "local")

    def check_name_clashes(self, root, params, state, local_sets, thread_items, threads_node) -> None:
        param_names = {n for n, _ in params}
        for name, _ in state:
            if name in param_names:
                raise self.error(root.value["state"].key_pos[name], f"'{name}' is both a param and a shared variable")
        shared = {n for n, _ in state}
        for thread, local_vars in local_sets.items():
            for name, _ in local_vars:
                if name in shared or name in param_names:
                    other = "shared variable" if name in shared else "param"
                    pos = thread_items[thread].value["locals"].key_pos[name]
                    raise self.error(pos, f"local '{name}' of thread '{thread}' is also a {other}; rename one of them")

    def all_fields(self, params, state, local_sets, variants_node) -> set:
        fields: set = set()
        for _, value in params + state:
            record_fields(value, fields)
        for local_vars in local_sets.values():
            for _, value in local_vars:
                record_fields(value, fields)
        if variants_node is not None and variants_node.is_map():
            for variant in variants_node.value.values():
                if variant.is_map() and "params" in variant.value and variant.value["params"].is_map():
                    for sub in variant.value["params"].value.values():
                        record_fields(self.value(sub, "param"), fields)
        return fields

    # -- threads and steps ------------------------------------------------
    def thread(self, name: str, node: YNode, shared, params, local_vars) -> S.ThreadDef:
        body = node.value
        copies = 1
        if "copies" in body:
            copies = body["copies"].value
            if type(copies) is not int or not 1 <= copies <= MAX_COPIES:
                raise self.error(body["copies"].pos, f"copies of thread '{name}' must be an integer from 1 to {MAX_COPIES}")
        title = self.one_line(body["title"], f"title of thread '{name}'") if "title" in body else ""
        scope = dict(shared=shared, locals=frozenset(n for n, _ in local_vars), params=params, tid=True,
                     fields=self.fields, private=self.private)
        ctx = _ThreadContext(name, scope, {})
        steps_node = body["steps"]
        steps = self.steps(steps_node, ctx, f"steps of thread '{name}'", 0)
        if not steps:
            raise self.error(steps_node.pos, f"thread '{name}' has no steps")
        self.check_gotos(steps, ctx)
        return S.ThreadDef(name, title, copies, local_vars, steps, node.pos)

    def steps(self, node: YNode, ctx, what: str, depth: int) -> tuple:
        if depth > MAX_STEP_NESTING:
            raise self.error(node.pos, f"steps are nested more than {MAX_STEP_NESTING} levels deep")
        if node.value is None:
            return ()
        if not node.is_list():
            raise self.error(node.pos, f"{what} must be a list of steps, not {_kind(node)}")
        return tuple(self.step(item, ctx, depth) for item in node.value)

    def step(self, node: YNode, ctx, depth: int):
        if not node.is_map():
            raise self.error(node.pos, f"a step of thread '{ctx.thread}' must be a mapping (step:, if:, while: or call:), not {_kind(node)}")
        keys = node.value
        if "if" in keys:
            return self.branch(node, ctx, depth)
        if "while" in keys:
            return self.loop(node, ctx, depth)
        if "call" in keys:
            return self.call(node, ctx, depth)
        if "step" in keys:
            return self.action(node, ctx)
        if any(key in keys for key in ("do", "await", "goto", "label")):
            hint = "an action step needs 'step: TEXT', the text diagrams show for it"
        else:
            close = [did_you_mean(k, ("step", "if", "while", "call")) for k in keys]
            hint = next((h for h in close if h), "")
        raise self.error(node.pos, f"a step of thread '{ctx.thread}' needs one of 'step', 'if', 'while' or 'call'",
                         hint)

    def action(self, node: YNode, ctx) -> S.Action:
        keys = self.keys(node, _ACTION, ("step",), f"a step of thread '{ctx.thread}'")
        text = self.one_line(keys["step"], "step text")
        where = f"step '{text}' of thread '{ctx.thread}'"
        await_ = self.code(keys["await"], ctx.scope, where + " (await)", True) if "await" in keys else None
        if await_ is not None and mistakes.await_reads_no_state(await_, ctx.scope["shared"]):
            self.warn(await_.pos, *mistakes.await_warning(text, ctx.thread))
        do = self.code(keys["do"], ctx.scope, where, False) if "do" in keys else None
        label = self.label(keys.get("label"), ctx, node)
        goto = self.one_line(keys["goto"], "goto") if "goto" in keys else None
        if goto is not None:
            ctx.gotos.append((goto, keys["goto"].pos))
        return S.Action(text, await_, do, label, goto, node.pos)

    def branch(self, node: YNode, ctx, depth: int) -> S.Branch:
        keys = self.keys(node, _BRANCH, ("if", "then"), f"an if step of thread '{ctx.thread}'")
        cond = self.code(keys["if"], ctx.scope, f"an if condition of thread '{ctx.thread}'", True)
        text = self.one_line(keys["step"], "step text") if "step" in keys else f"if ({cond.one_line()})"
        label = self.label(keys.get("label"), ctx, node)
        then = self.steps(keys["then"], ctx, "then", depth + 1)
        orelse = self.steps(keys["else"], ctx, "else", depth + 1) if "else" in keys else ()
        return S.Branch(cond, then, orelse, text, label, node.pos)

    def loop(self, node: YNode, ctx, depth: int) -> S.Loop:
        keys = self.keys(node, _LOOP, ("while", "steps"), f"a while step of thread '{ctx.thread}'")
        cond = self.code(keys["while"], ctx.scope, f"a while condition of thread '{ctx.thread}'", True)
        text = self.one_line(keys["step"], "step text") if "step" in keys else f"while ({cond.one_line()})"
        label = self.label(keys.get("label"), ctx, node)
        body = self.steps(keys["steps"], ctx, "steps of the loop", depth + 1)
        return S.Loop(cond, body, text, label, node.pos)

    def call(self, node: YNode, ctx, depth: int) -> S.Call:
        keys = self.keys(node, _CALL, ("call", "steps"), f"a call group of thread '{ctx.thread}'")
        text = self.one_line(keys["call"], "call text")
        body = self.steps(keys["steps"], ctx, f"steps of call group '{text}'", depth + 1)
        if not body:
            raise self.error(keys["steps"].pos, f"call group '{text}' has no steps")
        return S.Call(text, body, node.pos)

    def label(self, node: YNode | None, ctx, step: YNode) -> str | None:
        if node is None:
            return None
        label = self.one_line(node, "label")
        if label == "end":
            raise self.error(node.pos, "'end' is reserved: 'goto: end' finishes the thread")
        if label in ctx.labels:
            raise self.error(node.pos, f"label '{label}' is used twice in thread '{ctx.thread}' (first at line {ctx.labels[label].line})")
        ctx.labels[label] = node.pos
        return label

    def check_gotos(self, steps, ctx) -> None:
        for target, pos in ctx.gotos:
            if target != "end" and target not in ctx.labels:
                raise self.error(pos, f"goto to unknown label '{target}' in thread '{ctx.thread}'",
                                 did_you_mean(target, list(ctx.labels) + ["end"]) or
                                 f"labels of this thread: {', '.join(ctx.labels) or '(none)'}; 'end' finishes the thread")

    # -- code -------------------------------------------------------------
    def code(self, node: YNode, scope: dict, where: str, expr: bool):
        if isinstance(node.value, bool):
            text = "True" if node.value else "False"
        else:
            text = self.string(node, f"code of {where}", allow_scalars=True)
        if not text.strip():
            raise self.error(node.pos, f"empty code in {where}")
        return parse_code(text, code_origin(node, self.src), Scope(where=where, **scope), expr=expr,
                          source_line=self.src.line)

    def properties(self, node: YNode | None, kind: str, shared, params, thread_locals: bool = False) -> tuple:
        if node is None:
            return ()
        items = self.mapping(node, "invariants" if kind == "invariant" else "final")
        result = []
        for name, expr_node in items.items():
            self.name(name, node.key_pos[name], kind)
            where = f"{kind} '{name}'"
            scope = dict(shared=shared, params=params, fields=self.fields, private=self.private,
                         thread_locals=thread_locals)
            result.append(S.Property(kind, name, self.code(expr_node, scope, where, True)))
        return tuple(result)

    def check_property_names(self, invariants, finals) -> None:
        seen = {}
        for prop in invariants + finals:
            if prop.name in S.VIOLATION_KINDS:
                raise self.error(prop.code.pos, f"'{prop.name}' names a kind of violation; give the {prop.kind} another name")
            if prop.name in seen:
                raise self.error(prop.code.pos, f"'{prop.name}' is both an invariant and a final check; names must differ")
            seen[prop.name] = prop

    # -- expectations and variants ---------------------------------------
    def expectation(self, node: YNode, prop_names) -> S.Expectation:
        value = node.value
        if value in ("safe", "violation"):
            return S.Expectation(value)
        if isinstance(value, dict):
            keys = self.keys(node, ("violation",), ("violation",), "expect")
            return self.named_expectation(keys["violation"], prop_names)
        raise self.error(node.pos, f"expect must be 'safe', 'violation' or {{violation: NAME}}, not {_kind(node)}",
                         did_you_mean(value, ("safe", "violation")) if isinstance(value, str) else "")

    def named_expectation(self, node: YNode, prop_names) -> S.Expectation:
        valid = list(prop_names) + list(S.VIOLATION_KINDS) + list(S.LKMM_KINDS)
        if node.is_map():
            keys = self.keys(node, ("assert",), ("assert",), "expect: {violation: ...}")
            return S.Expectation("named", "assert", self.string(keys["assert"], "assert message"))
        name = self.string(node, "the expected violation")
        if name.startswith("assert:"):
            return S.Expectation("named", "assert", name[len("assert:"):].strip())
        if name not in valid:
            raise self.error(node.pos, f"expected violation '{name}' is not an invariant, a final check or one of {', '.join(S.VIOLATION_KINDS)}",
                             did_you_mean(name, valid))
        return S.Expectation("named", name)

    def variants(self, node: YNode | None, params, expect, prop_names) -> tuple:
        if node is None:
            return (S.Variant("", params, expect, "", Pos(self.src.path, 1, 1)),)
        items = self.mapping(node, "variants")
        if not items:
            raise self.error(node.pos, "variants is empty; leave it out to check the scenario as it is")
        declared = dict(params)
        result = []
        for name, vnode in items.items():
            if not _VARIANT_NAME.match(name):
                raise self.error(node.key_pos[name], f"'{name}' is not a valid variant name: use letters, digits, '_', '-', '.' and '+'")
            body = self.keys(vnode, _VARIANT, (), f"variant '{name}'")
            overrides = dict(declared)
            if "params" in body:
                pnode = body["params"]
                for pname, pval in self.mapping(pnode, f"params of variant '{name}'").items():
                    if pname not in declared:
                        raise self.error(pnode.key_pos[pname], f"variant '{name}' sets param '{pname}', which is not declared in the top-level params",
                                         did_you_mean(pname, declared))
                    overrides[pname] = self.value(pval, pname)
            vexpect = self.expectation(body["expect"], prop_names) if "expect" in body else expect
            desc = self.string(body["description"], "description").strip() if "description" in body else ""
            vsource = self.sources(body.get("source"))
            result.append(S.Variant(name, tuple(overrides.items()), vexpect, desc, node.key_pos[name], vsource))
        for variant, message, hint in mistakes.duplicate_variants(result):
            self.warn(variant.pos, message, hint)
        return tuple(result)


class _ThreadContext:
    def __init__(self, thread: str, scope: dict, labels: dict):
        self.thread = thread
        self.scope = scope
        self.labels = labels
        self.gotos: list = []


def _count_steps(steps: tuple) -> int:
    """Steps, with those inside branches, loops and call groups."""
    total = 0
    for step in steps:
        total += 1
        if isinstance(step, S.Branch):
            total += _count_steps(step.then) + _count_steps(step.orelse)
        elif isinstance(step, (S.Loop, S.Call)):
            total += _count_steps(step.body)
    return total


def _kind(node: YNode) -> str:
    value = node.value
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"the integer {value}"
    return repr(value)
