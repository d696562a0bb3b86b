"""pytest plugin: ``pytest scenarios/`` checks every scenario variant as a test.

Installed through the ``pytest11`` entry point, so any pytest run in an
environment where racecheck is installed can collect scenario files:

    $ pytest scenarios/                      # one test per variant
    $ pytest scenarios/ -k dirty_unlocked    # by file stem (or variant name)
    $ pytest -n auto scenarios/              # with pytest-xdist

What is collected: ``*.yaml`` / ``*.yml`` files with a top-level
``racecheck:`` key (``looks_like_scenario``); other YAML (CI configs,
fixtures) is left alone. Each variant is one test item, named after the
variant (``scenarios/dirty_unlocked.yaml::unlocked``), or after the file stem
when the scenario has no variants. Both the stem and the variant name are
``-k`` keywords.

How a verdict maps to a test outcome:

    Outcome.MATCH          pass
    Outcome.MISMATCH       fail; the report is the terminal text of
                           ``racecheck FILE``: the race diagram of the
                           violation and the ``--schedule`` replay command
    Outcome.INCONCLUSIVE   fail; a bound stopped the search first, so the
                           expectation was not shown to hold. It is not a
                           skip: a skipped test leaves a run green, and a
                           bounded search must never pass for ``safe``.

A file that cannot be loaded is a collection error whose text is the
loader's ``FILE:LINE:COL: message`` with the caret line, no traceback.
A loader warning (input that loads but looks like a mistake) is issued as a
``ScenarioFileWarning`` at the file and line, so it appears in pytest's
warnings summary (and ``-W error::racecheck.pytest_plugin.ScenarioFileWarning``
makes it fail the collection).

Bounds come from the ini file (``pytest.ini``, ``tox.ini``, ``setup.cfg`` or
``[tool.pytest.ini_options]`` in ``pyproject.toml``), or ``-o NAME=VALUE``:
``racecheck_max_states``, ``racecheck_max_depth``, ``racecheck_timeout``
(seconds), ``racecheck_max_memory`` (bytes, or 500M / 4G), and
``racecheck_reduction`` (bool, default true).

This module is a thin shell like ``racecheck.cli``: it loads, calls
``check_variant`` and renders with ``report.text``; it decides nothing about
verdicts itself. It does not import ``cli``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import pytest

from racecheck.errors import ScenarioError
from racecheck.explore.check import CheckedVariant, check_variant
from racecheck.explore.result import Bounds, ExitReason, Outcome, default_memory, parse_size
from racecheck.report.text import render_variant
from racecheck.scenario.loader import load_scenario, looks_like_scenario

SUFFIXES = (".yaml", ".yml")

# ini option -> (help text, the Bounds field it sets)
_INI_BOUNDS = {
    "racecheck_max_states": ("racecheck: stop a variant's search after storing N states", "max_states"),
    "racecheck_max_depth": ("racecheck: do not expand states more than N steps from the start", "max_depth"),
    "racecheck_timeout": ("racecheck: end a variant's check (search and analyses) after this many seconds",
                          "timeout"),
    "racecheck_max_memory": ("racecheck: stop when memory passes SIZE (bytes, or e.g. 500M, 4G; "
                             "default: half of this machine's memory)", "max_memory"),
}

# which ini option a bound's exit reason points at, for the inconclusive message
_BOUND_OPTION = {
    ExitReason.MAX_STATES: "racecheck_max_states",
    ExitReason.MAX_DEPTH: "racecheck_max_depth",
    ExitReason.TIMEOUT: "racecheck_timeout",
    ExitReason.MAX_MEMORY: "racecheck_max_memory",
}

_SETTINGS_KEY = pytest.StashKey["_Settings"]()


@dataclass(frozen=True)
class _Settings:
    bounds: Bounds
    reduction: bool


# -- hooks -------------------------------------------------------------------

def pytest_addoption(parser) -> None:
    for name, (help_text, _) in _INI_BOUNDS.items():
        parser.addini(name, help_text, default="")
    parser.addini("racecheck_reduction", "racecheck: use partial-order reduction (default true)",
                  type="bool", default=True)


def pytest_configure(config) -> None:
    config.stash[_SETTINGS_KEY] = _settings(config)


def pytest_collect_file(file_path, parent):
    if file_path.suffix in SUFFIXES and looks_like_scenario(str(file_path)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


# -- ini options ---------------------------------------------------------------

def _settings(config) -> _Settings:
    values = {}
    for name, (_, field_name) in _INI_BOUNDS.items():
        text = str(config.getini(name)).strip()
        parse = _parse_size if field_name == "max_memory" else (
            _parse_seconds if field_name == "timeout" else _parse_count)
        values[field_name] = parse(name, text) if text else None
    if values["max_memory"] is None:
        values["max_memory"] = default_memory()
    return _Settings(Bounds(**values), bool(config.getini("racecheck_reduction")))


def _bad(name: str, text: str, what: str) -> pytest.UsageError:
    return pytest.UsageError(f"racecheck: ini option {name} = {text!r} must be {what}")


def _parse_count(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _bad(name, text, "an integer") from None
    if value < 1:
        raise _bad(name, text, "at least 1")
    return value


def _parse_seconds(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(name, text, "a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise _bad(name, text, "a number of seconds more than 0")
    return value


def _parse_size(name: str, text: str) -> int:
    try:
        return parse_size(text)
    except ValueError:
        raise _bad(name, text, "a size like 500M or 4G, at least 1M") from None


# -- collection ----------------------------------------------------------------

def _display_path(path) -> str:
    """The path as the replay command should print it: relative to the
    current directory when the file is under it, else absolute."""
    absolute = os.path.abspath(str(path))
    try:
        relative = os.path.relpath(absolute, os.getcwd())
    except ValueError:                    # another drive (Windows)
        return absolute
    outside = relative == os.pardir or relative.startswith(os.pardir + os.sep)
    return absolute if outside else relative


class ScenarioFileWarning(UserWarning):
    """A scenario loads, but something in it looks like a mistake."""

    def __init__(self, warning):
        text = f"{warning.message}\nhint: {warning.hint}" if warning.hint else warning.message
        super().__init__(text)
        self.warning = warning            # the loader's ScenarioWarning, with its position


class ScenarioFile(pytest.File):
    """One scenario file; its items are its variants, in file order."""

    def collect(self):
        display = _display_path(self.path)
        scenario = load_scenario(display)     # ScenarioError: see repr_failure
        for warning in scenario.warnings:
            warnings.warn_explicit(ScenarioFileWarning(warning), ScenarioFileWarning,
                                   warning.pos.file, warning.pos.line)
        stem = self.path.stem
        self.extra_keyword_matches.add(stem)
        for variant in scenario.variants:
            item = ScenarioItem.from_parent(self, name=variant.name or stem,
                                            scenario=scenario, variant=variant, display=display)
            item.extra_keyword_matches.add(stem)
            yield item

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioError):
            return excinfo.value.render()
        if isinstance(excinfo.value, ScenarioFileWarning):      # -W error: a warning made an error
            return excinfo.value.warning.render()
        return super().repr_failure(excinfo)      # a Collector's takes no style


class VariantFailed(Exception):
    """Raised by ``ScenarioItem.runtest``; carries the checked variant."""

    def __init__(self, checked: CheckedVariant, text: str):
        super().__init__(text)
        self.checked = checked
        self.text = text


class ScenarioItem(pytest.Item):
    """One variant: passes when its verdict is the one it expects."""

    def __init__(self, *, scenario, variant, display: str, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.variant = variant
        self.display = display

    def runtest(self) -> None:
        settings = self.config.stash[_SETTINGS_KEY]
        if self.scenario.memory == "lkmm":
            from racecheck.explore.lkmm_check import check_variant_lkmm
            from racecheck.report.lkmm_scenario import render_lkmm_variant
            checked = check_variant_lkmm(self.scenario, self.variant)
            if checked.outcome is not Outcome.MATCH:
                raise VariantFailed(checked, render_lkmm_variant(checked, self.display))
            return
        checked = check_variant(self.scenario, self.variant, settings.bounds,
                                reduction=settings.reduction)
        if checked.exploration.exit_reason is ExitReason.INTERRUPTED:
            raise KeyboardInterrupt        # the search caught Ctrl-C: stop the session as pytest would
        if checked.outcome is Outcome.MATCH:
            return
        raise VariantFailed(checked, failure_text(checked, self.display))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, VariantFailed):
            return excinfo.value.text
        if isinstance(excinfo.value, ScenarioError):
            return excinfo.value.render()
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        # The domain heads the failure section. It must not end the nodeid:
        # pytest -v would then print its dots as '::' (a Python domain's habit).
        line = self.variant.pos.line - 1 if self.variant.name else 0
        what = f"variant {self.variant.name}" if self.variant.name else "scenario"
        return self.path, line, f"{self.display}: {what}"


def failure_text(checked: CheckedVariant, path: str) -> str:
    """The report of a variant that did not get its expected verdict."""
    text = render_variant(checked, path)
    if checked.outcome is not Outcome.INCONCLUSIVE:
        return text
    reason = checked.exploration.exit_reason
    option = _BOUND_OPTION.get(reason)
    advice = f"raise {option} in the ini file (or pass -o {option}=...)" if option else "run it again"
    return (f"{text}\n\ninconclusive: {reason.describe()} before a verdict, so the expectation "
            f"'{checked.variant.expect.describe()}' was not shown to hold; a bounded search is never "
            f"taken as safe.\n{advice}.")
