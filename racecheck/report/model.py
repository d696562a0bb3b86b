"""The model a report's verdicts are about, and the bounds they hold within.

A verdict is only as good as the model it was reached on, so every report
lists the model as racecheck read it (after parsing, so it shows what was
understood, not only what was typed): the params, the initial shared
state, each thread with its locals and its steps (``await`` and ``do`` code,
branches, loops, call groups, labels and gotos), and the properties with
their expressions. A thread's steps are drawn like this::

    step __read_swap_cache_async()
      await: folio.refs != 0 or not folio.swapcache
      do:    allocated = not folio.swapcache
             if not allocated and level == 'kernel':
                 folio.refs += 1
    if allocated:
      step __swap_writepage()
        do:    disk = True

A line starting with ``step``, ``if``, ``else``, ``while`` or ``call`` is a
step of the thread, as in the scenario file; code under ``await:`` and
``do:`` runs inside one atomic step. Step texts and wide values wrap at
``WIDTH``; code is never wrapped. ``bounds_parts`` and ``bounds_json``
give the bounds one variant was checked within. Nothing here depends on the
machine: the default memory bound is named, not given in bytes.
"""

from __future__ import annotations

import re
import textwrap

from racecheck.explore.result import default_memory
from racecheck.report.blocks import Code, Heading, Items, Para, Pre
from racecheck.scenario import schema as S
from racecheck.scenario.values import format_value

INDENT = "  "
_KEY = 7                       # width of "await: " and "do:    "
WIDTH = 73                     # step texts and values wrap here (the mail indents listings by 2)

INTRO = ("The model the verdicts above are about, as racecheck read it from the scenario file. "
         "Each step is atomic: it runs only when its await condition holds (at once if it has none), "
         "and its do code runs within the same step; other threads run only between steps. An if or "
         "while outside a step's code is a step of its own when its condition reads shared state; a "
         "call only groups the steps of a callee.")
PROPERTIES = ("An invariant must hold in every reachable state, a final check in every state where "
              "all threads have finished. Also checked in every variant: asserts and run-time errors "
              "in the steps' code, deadlock (some thread has not finished and none can run) and "
              "livelock (the threads can run on forever without all finishing), unless allowed.")

LKMM_INTRO = ("The model the verdicts above are about, as racecheck read it from the scenario file, checked "
              "under memory: lkmm (docs/lkmm.md). A step is not atomic: each access its code makes to shared "
              "state is an event, and every execution the Linux-kernel memory model allows is checked, "
              "stale reads and late stores included. Locals carry the dependencies of the values they hold; "
              "an await is a read that must see a value making it true.")
LKMM_PROPERTIES = ("A final check must hold at the end of every consistent execution. Also checked in every "
                   "variant: asserts and run-time errors in the steps' code, and data races between plain "
                   "accesses as the kernel's memory model defines them. Deadlock and livelock are not "
                   "checked under memory: lkmm.")


# -- the report section -----------------------------------------------------------------


def model_blocks(scenario: S.Scenario) -> list:
    """The section "The model" of a report."""
    blocks = [Heading(2, ("The model",)), Para((LKMM_INTRO if scenario.memory == "lkmm" else INTRO,))]
    if scenario.params:
        blocks.append(Para(("Params, with the values the file gives them (each variant's own values "
                            "are listed under the variant): ",) + _assignments(scenario.params) + (".",)))
    blocks += [Heading(3, ("Initial state",)),
               Pre(tuple(line for name, value in scenario.state for line in value_lines(name, value)), "model")]
    for thread in scenario.threads:
        blocks += thread_blocks(thread)
    return blocks + _property_blocks(scenario)


def thread_blocks(thread: S.ThreadDef) -> list:
    title = (": ", thread.title) if thread.title else ()
    blocks = [Heading(3, ("Thread ", Code(thread.name)) + title)]
    facts = []
    if thread.copies > 1:
        names = ", ".join(f"{thread.name}#{n}" for n in range(thread.copies))
        facts.append((f"{thread.copies} copies ({names}), each with its own locals; tid is the copy's "
                      f"number, 0 to {thread.copies - 1}.",))
    if thread.locals:
        facts.append(("Locals, private to the thread: ",) + _assignments(thread.locals) + (".",))
    blocks += [Para(parts) for parts in facts]
    return blocks + [Pre(tuple(step_lines(thread.steps)), "model")]


def _property_blocks(scenario: S.Scenario) -> list:
    lines = []
    for prop in scenario.properties:
        lines.append(f"{'invariant' if prop.kind == 'invariant' else 'final'} {prop.name}:")
        lines += [INDENT * 2 + line for line in _code_lines(prop.code)]
    allowed = [kind for kind, ok in (("deadlock", scenario.deadlock_allowed),
                                     ("livelock", scenario.livelock_allowed)) if ok]
    text = LKMM_PROPERTIES if scenario.memory == "lkmm" else PROPERTIES
    blocks = [Heading(3, ("Properties",)), Para((text,))]
    if lines:
        blocks.append(Pre(tuple(lines), "model"))
    if allowed:
        blocks.append(Items(tuple((Code(f"{kind}: allowed"), " (not a violation in this file)")
                                  for kind in allowed)))
    return blocks


def _assignments(pairs: tuple) -> tuple:
    parts: list = []
    for n, (name, value) in enumerate(pairs):
        parts += ([", "] if n else []) + [Code(f"{name} = {format_value(value)}")]
    return tuple(parts)


# -- a thread's steps as text -------------------------------------------------------------


def step_lines(steps: tuple, depth: int = 0) -> list:
    """The lines of a list of steps, indented by ``depth`` levels."""
    lines: list = []
    for node in steps:
        lines += _node_lines(node, depth)
    return lines


def _node_lines(node, depth: int) -> list:
    pad = INDENT * depth
    label = [f"{pad}label {node.label}:"] if getattr(node, "label", None) else []
    if isinstance(node, S.Action):
        return label + wrapped(f"{pad}step ", node.text) + _action_body(node, depth + 1)
    if isinstance(node, S.Branch):
        head = _drawn_as(node, "if", pad) + [f"{pad}if {node.cond.one_line()}:"]
        rest = [f"{pad}else:"] + step_lines(node.orelse, depth + 1) if node.orelse else []
        return label + head + step_lines(node.then, depth + 1) + rest
    if isinstance(node, S.Loop):
        head = _drawn_as(node, "while", pad) + [f"{pad}while {node.cond.one_line()}:"]
        return label + head + step_lines(node.body, depth + 1)
    if isinstance(node, S.Call):
        return wrapped(f"{pad}call ", node.text) + step_lines(node.body, depth + 1)
    raise TypeError(f"not a step: {node!r}")


def wrapped(prefix: str, text: str) -> list:
    """``prefix + text``, wrapped at spaces to ``WIDTH`` under the text's start."""
    lines = textwrap.wrap(text, max(WIDTH - len(prefix), 20), break_long_words=False, break_on_hyphens=False)
    return [(prefix if n == 0 else " " * len(prefix)) + line for n, line in enumerate(lines or [""])]


def value_lines(name: str, value) -> list:
    """``name = value``; a record or list too wide is broken after its commas."""
    text = f"{name} = {format_value(value)}"
    if len(text) <= WIDTH or text[len(name) + 3:][:1] not in "{[":
        return [text]
    lines, hang = [""], " " * (len(name) + 4)
    for part in re.split(r"(?<=,) ", text):
        if lines[-1] and len(lines[-1]) + 1 + len(part) > WIDTH:
            lines.append(hang)
        lines[-1] += (" " if lines[-1].strip() else "") + part
    return lines


def _action_body(action: S.Action, depth: int) -> list:
    pad = INDENT * depth
    lines = []
    for key, code in (("await:", action.await_), ("do:", action.do)):
        if code is not None:
            first, *rest = _code_lines(code) or [""]
            lines.append(f"{pad}{key.ljust(_KEY)}{first}".rstrip())
            lines += [f"{pad}{' ' * _KEY}{line}".rstrip() for line in rest]
    if action.goto is not None:
        lines.append(f"{pad}{'goto:'.ljust(_KEY)}{action.goto}")
    return lines


def _drawn_as(node, keyword: str, pad: str) -> list:
    """A branch or loop drawn under a text of its own says so, on the line before."""
    default = f"{keyword} ({node.cond.one_line()})"
    return [] if node.text == default else wrapped(f"{pad}# drawn as: ", node.text)


def _code_lines(code) -> list:
    lines = [line.expandtabs(8).rstrip() for line in code.text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


# -- the bounds of one variant's check ----------------------------------------------------


def bounds_parts(result) -> tuple:
    """``Bounds: --max-states none, ...; partial-order reduction on.`` as inline parts."""
    bounds = result.bounds
    parts: list = ["Bounds: "]
    for n, (flag, value) in enumerate(_bound_values(bounds)):
        parts += ([", "] if n else []) + [Code(flag), f" {value}"]
    parts.append("; partial-order reduction " + ("on" if result.reduced else "off (--no-reduction)"))
    if result.collision_bound is not None:
        parts.append("; states stored as 64-bit fingerprints (--hash-compact)")
    return tuple(parts) + (".",)


def _bound_values(bounds) -> list:
    timeout = None if bounds.timeout is None else f"{bounds.timeout:g} s"
    return [("--max-states", _or_none(bounds.max_states)), ("--max-depth", _or_none(bounds.max_depth)),
            ("--timeout", _or_none(timeout)), ("--max-memory", memory_text(bounds.max_memory))]


def _or_none(value) -> str:
    return "none" if value is None else str(value)


def memory_text(size: int | None) -> str:
    if size is None:
        return "none"
    if is_default_memory(size):
        return "default (half of the machine's memory)"
    for unit, scale in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if size % scale == 0:
            return f"{size // scale}{unit}"
    return f"{size} bytes"


def is_default_memory(size: int | None) -> bool:
    """The CLI's default memory bound varies by machine; reports name it instead."""
    return size is not None and size == default_memory()


def bounds_json(result) -> dict:
    bounds = result.bounds
    memory = "default" if is_default_memory(bounds.max_memory) else bounds.max_memory
    return {"max_states": bounds.max_states, "max_depth": bounds.max_depth, "timeout": bounds.timeout,
            "max_memory": memory, "reduction": result.reduced, "hash_compact": result.collision_bound is not None}


# -- the model as JSON --------------------------------------------------------------------


def model_json(scenario: S.Scenario) -> dict:
    return {"params": _pairs_json(scenario.params), "state": _pairs_json(scenario.state),
            "threads": [_thread_json(t) for t in scenario.threads],
            "properties": [{"kind": p.kind, "name": p.name, "expression": "\n".join(_code_lines(p.code)),
                            "line": p.code.pos.line} for p in scenario.properties],
            "deadlock": "allowed" if scenario.deadlock_allowed else "error",
            "livelock": "allowed" if scenario.livelock_allowed else "error"}


def _pairs_json(pairs: tuple) -> list:
    return [{"name": name, "value": format_value(value)} for name, value in pairs]


def _thread_json(thread: S.ThreadDef) -> dict:
    return {"name": thread.name, "title": thread.title, "copies": thread.copies,
            "locals": _pairs_json(thread.locals), "steps": [step_json(s) for s in thread.steps]}


def step_json(node) -> dict:
    """One step of a thread: ``kind`` step, if, while or call, and its parts."""
    common = {"text": node.text, "line": node.pos.line}
    if isinstance(node, S.Action):
        return {"kind": "step", **common, "await": _code_json(node.await_), "do": _code_json(node.do),
                "label": node.label, "goto": node.goto}
    if isinstance(node, S.Branch):
        return {"kind": "if", **common, "condition": node.cond.one_line(), "label": node.label,
                "then": [step_json(s) for s in node.then], "else": [step_json(s) for s in node.orelse]}
    if isinstance(node, S.Loop):
        return {"kind": "while", **common, "condition": node.cond.one_line(), "label": node.label,
                "steps": [step_json(s) for s in node.body]}
    return {"kind": "call", **common, "steps": [step_json(s) for s in node.body]}


def _code_json(code) -> str | None:
    return None if code is None else "\n".join(_code_lines(code))
