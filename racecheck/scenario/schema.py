"""The validated, immutable form of a scenario file.

A ``Scenario`` is what the loader produces from YAML: every name resolved,
every piece of code checked (``lang.Code``), every position kept for error
messages and diagrams. It says nothing about how the scenario is explored;
``model.program`` turns one ``Variant`` of it into a ``Program``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from racecheck.errors import Pos
from racecheck.scenario.lang import Code

VIOLATION_KINDS = ("deadlock", "livelock", "assert", "error")
LKMM_KINDS = ("data-race",)      # memory: lkmm only: a data race between plain accesses
MEMORY_MODELS = ("sc", "lkmm")


@dataclass(frozen=True)
class Expectation:
    """What the author expects: ``safe``, any ``violation``, or a named one.

    ``name`` is an invariant or final check name, or one of
    ``VIOLATION_KINDS``; ``message`` narrows ``assert`` to one message.
    """

    kind: str                    # "safe" | "violation" | "named"
    name: str = ""
    message: str | None = None

    def describe(self) -> str:
        if self.kind != "named":
            return self.kind
        if self.message is not None:
            return f"violation assert: {self.message}"
        return f"violation {self.name}"


SAFE = Expectation("safe")


@dataclass(frozen=True)
class Action:
    """An atomic step: wait for ``await``, run ``do``, continue at ``goto``."""

    text: str
    await_: Code | None
    do: Code | None
    label: str | None
    goto: str | None
    pos: Pos


@dataclass(frozen=True)
class Branch:
    cond: Code
    then: tuple
    orelse: tuple
    text: str
    label: str | None
    pos: Pos


@dataclass(frozen=True)
class Loop:
    cond: Code
    body: tuple
    text: str
    label: str | None
    pos: Pos


@dataclass(frozen=True)
class Call:
    """A call group: the steps of a callee, drawn indented under ``text``."""

    text: str
    body: tuple
    pos: Pos


@dataclass(frozen=True)
class ThreadDef:
    name: str
    title: str
    copies: int
    locals: tuple                # ((name, value), ...)
    steps: tuple
    pos: Pos


@dataclass(frozen=True)
class Property:
    """An invariant (checked in every state) or a final check."""

    kind: str                    # "invariant" | "final"
    name: str
    code: Code


@dataclass(frozen=True)
class Variant:
    """One checked configuration: the scenario with these params."""

    name: str                    # "" when the file declares no variants
    params: tuple                # ((name, value), ...) after overriding
    expect: Expectation
    description: str
    pos: Pos
    source: tuple = ()           # extension: the commits or patches this variant is (strings)


@dataclass(frozen=True)
class Scenario:
    path: str
    title: str
    description: str
    source: tuple
    params: tuple
    state: tuple
    threads: tuple
    invariants: tuple
    finals: tuple
    deadlock_allowed: bool
    livelock_allowed: bool
    expect: Expectation
    variants: tuple              # at least one Variant
    warnings: tuple = field(default=(), compare=False)   # ScenarioWarning: loads, but looks like a mistake
    leaves_out: str = ""         # extension: what the model leaves out of the kernel, and why the verdict survives
    memory: str = "sc"           # extension: "sc" (interleavings) or "lkmm" (model.lkmm_scenario)

    def variant(self, name: str) -> Variant | None:
        for variant in self.variants:
            if variant.name == name:
                return variant
        return None

    @property
    def properties(self) -> tuple:
        return self.invariants + self.finals
