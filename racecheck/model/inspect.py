"""What a property read: the values behind a violated invariant or final check.

For a diagram's last lines (``with pte = 'swap', zswap = 0``), the maximal
variable references of the expression (names, fields, constant elements;
not comprehension variables) are evaluated in the bad state.
"""

from __future__ import annotations

import ast

from racecheck.model.compile import Names, Unit
from racecheck.model.program import Program
from racecheck.scenario.values import StepError


def property_reads(program: Program, name: str, state: tuple) -> list:
    """``[(text, value), ...]`` for each reference the property makes."""
    prop, _ = program.property(name)
    refs = _references(prop.code.tree.body)
    if not refs:
        return []
    slots = {n: i for i, n in enumerate(program.shared_names)}
    unit = Unit(Names(slots, program.params), "<racecheck property reads>")
    for i, node in enumerate(refs):
        unit.expression(f"r{i}", node)
    ns = unit.compile(program.params)
    result = []
    for i, node in enumerate(refs):
        try:
            value = ns[f"r{i}"](state)
        except (StepError, TypeError, ValueError, IndexError):
            continue
        result.append((ast.unparse(node), value))
    return result


def _references(tree) -> list:
    found: dict = {}

    def visit(node, bound: frozenset):
        if _is_reference(node, bound):
            found.setdefault(ast.unparse(node), node)
            return
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            inner = set(bound)
            for gen in node.generators:
                visit(gen.iter, frozenset(inner))
                inner.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
            return
        if isinstance(node, ast.Call):
            for arg in node.args:
                visit(arg, bound)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, bound)

    visit(tree, frozenset())
    return list(found.values())


def _is_reference(node, bound: frozenset) -> bool:
    """A name, or fields/constant elements of one, not bound by a comprehension."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant):
            return False
        node = node.value
    return isinstance(node, ast.Name) and node.id not in bound
