"""The architecture, enforced: data flows one way through the layers.

    errors, racecheck/__init__   anything may import them
    scenario/                    YAML text -> Scenario
    model/                       Scenario -> Program
    explore/                     search over a Program
    report/                      results -> text
    cli, pytest_plugin, __main__ thin shells

A module may import from its own layer and the layers above it in this list,
never from a later one (/work/shared/style.md, "The shape of the house").
Besides: ``model`` never imports ``yaml``; ``explore`` never imports
``report`` nor ``networkx``; ``scenario`` never imports ``model``; no module
imports ``cli`` (``__main__``, the ``python -m racecheck`` shim, and the
modules of the ``cli`` package itself excepted), and the shells do not
import each other.

Every module under racecheck/ is parsed with ``ast`` (nothing is imported);
every import statement counts, including those inside functions, and
``importlib.import_module("...")`` / ``__import__("...")`` with a literal
name. A module in no layer is itself a failure: place it in ``_LAYER_OF``.
"""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "racecheck")

LAYERS = ("base", "scenario", "model", "explore", "report", "shell")

# the first name after 'racecheck.' -> layer; '' is the package itself
_LAYER_OF = {"": "base", "errors": "base", "scenario": "scenario", "model": "model",
             "explore": "explore", "spin": "explore", "report": "report",
             "cli": "shell", "pytest_plugin": "shell", "__main__": "shell"}

# (importing layer, imported module or its top-level name): forbidden outright
_FORBIDDEN = {
    "model": ("yaml",),
    "explore": ("racecheck.report", "networkx"),
    "scenario": ("racecheck.model",),
}


# -- the checker ------------------------------------------------------------------

def discover(package_dir: str = PACKAGE) -> dict:
    """{module name: source text} for every .py file under racecheck/;
    a package's ``__init__`` is named ``racecheck.x.__init__``."""
    modules = {}
    for dirpath, dirnames, filenames in os.walk(package_dir):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            if filename.endswith(".py"):
                path = os.path.join(dirpath, filename)
                relative = os.path.relpath(path, os.path.dirname(package_dir))
                name = relative[:-3].replace(os.sep, ".")
                with open(path, encoding="utf-8") as handle:
                    modules[name] = handle.read()
    return modules


def module_name(name: str) -> str:
    """``racecheck.model.__init__`` -> ``racecheck.model``."""
    return name[:-len(".__init__")] if name.endswith(".__init__") else name


def layer_of(module: str) -> str | None:
    parts = module_name(module).split(".")
    if parts[0] != "racecheck":
        return None
    return _LAYER_OF.get(parts[1] if len(parts) > 1 else "")


def imports_of(name: str, source: str, known: set) -> list:
    """[(imported module, line)] for every import in ``source``.

    ``from racecheck.x import y`` imports ``racecheck.x.y`` when that is a
    module (``known``), else ``racecheck.x``; relative imports are resolved
    against the module's package.
    """
    tree = ast.parse(source, filename=name)
    package = module_name(name) if name.endswith(".__init__") else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in known else base, node.lineno))
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            found.append((node.args[0].value, node.lineno))
    return found


def _dynamic_import(node: ast.Call) -> bool:
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (called in ("import_module", "__import__") and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def violations(modules: dict) -> list:
    """Every breach of the layering rules in ``{module name: source}``, as
    ``'racecheck/x.py:LINE: message'`` lines."""
    known = {module_name(n) for n in modules}
    problems = []
    for name, source in sorted(modules.items()):
        where = name.replace(".", "/") + ".py"
        layer = layer_of(name)
        if layer is None:
            problems.append(f"{where}: is in no layer; add it to _LAYER_OF in tests/test_layering.py")
            continue
        for target, line in imports_of(name, source, known):
            problem = _check(module_name(name), layer, target)
            if problem:
                problems.append(f"{where}:{line}: {problem}")
    return problems


def _check(importer: str, layer: str, target: str) -> str | None:
    top = target.split(".")[0]
    for forbidden in _FORBIDDEN.get(layer, ()):
        if target == forbidden or target.startswith(forbidden + ".") or top == forbidden:
            return f"{layer} must not import {forbidden} (imports {target})"
    if top != "racecheck":
        return None
    inside_cli = importer == "racecheck.cli" or importer.startswith("racecheck.cli.")
    if (target == "racecheck.cli" or target.startswith("racecheck.cli.")) and not inside_cli \
            and importer != "racecheck.__main__":
        return "no module imports racecheck.cli"
    target_layer = layer_of(target)
    if target_layer is None:
        return f"imports {target}, which is in no layer"
    if LAYERS.index(target_layer) > LAYERS.index(layer):
        return f"{layer} imports {target} from the later layer {target_layer}"
    same_shell = inside_cli and target.startswith("racecheck.cli")
    if layer == "shell" and target_layer == "shell" and importer != "racecheck.__main__" and not same_shell:
        return f"the shells do not import each other ({importer} imports {target})"
    return None


# -- the real package ------------------------------------------------------------

def test_every_module_is_found():
    modules = discover()
    for name in ("racecheck.errors", "racecheck.cli.__init__", "racecheck.cli.check", "racecheck.pytest_plugin",
                 "racecheck.scenario.loader", "racecheck.model.program",
                 "racecheck.explore.search", "racecheck.report.text"):
        assert name in modules
    assert all(layer_of(name) is not None for name in modules), sorted(modules)


def test_racecheck_respects_its_layers():
    problems = violations(discover())
    assert not problems, "layering violations:\n" + "\n".join(problems)


def test_imports_are_really_collected():
    """Guard against a checker that passes because it sees nothing."""
    modules = discover()
    known = {module_name(n) for n in modules}
    check = dict(imports_of("racecheck.explore.check", modules["racecheck.explore.check"], known))
    assert "racecheck.model.program" in check
    assert "racecheck.scenario.schema" in check
    cli = {t for t, _ in imports_of("racecheck.cli.check", modules["racecheck.cli.check"], known)}
    assert "racecheck.report.text" in cli and "racecheck" in cli


# -- the checker, on fake packages ------------------------------------------------

def test_clean_fake_package_passes():
    modules = {
        "racecheck.__init__": "__version__ = '0'\n",
        "racecheck.errors": "import difflib\n",
        "racecheck.scenario.loader": "import yaml\nfrom racecheck.errors import Pos\n",
        "racecheck.model.program": "from racecheck.scenario import loader\nfrom . import runtime\n",
        "racecheck.model.runtime": "",
        "racecheck.explore.search": "from racecheck.model.program import Program\n",
        "racecheck.report.text": "import networkx\nfrom racecheck.explore.search import x\n",
        "racecheck.cli": "from racecheck import __version__\nfrom racecheck.report.text import r\n",
        "racecheck.pytest_plugin": "from racecheck.report.text import r\n",
        "racecheck.__main__": "from racecheck.cli import main\n",
    }
    assert violations(modules) == []


@pytest.mark.parametrize("name, source, phrase", [
    ("racecheck.explore.search", "from racecheck.report.text import render_variant\n",
     "explore must not import racecheck.report"),
    ("racecheck.explore.graph", "import networkx as nx\n", "explore must not import networkx"),
    ("racecheck.explore.graph", "from networkx.algorithms import dag\n", "explore must not import networkx"),
    ("racecheck.model.program", "import yaml\n", "model must not import yaml"),
    ("racecheck.model.program", "def f():\n    from yaml import safe_load\n", "model must not import yaml"),
    ("racecheck.scenario.loader", "from racecheck.model.program import Program\n",
     "scenario must not import racecheck.model"),
    ("racecheck.scenario.loader", "from racecheck.explore import search\n",
     "scenario imports racecheck.explore.search from the later layer explore"),
    ("racecheck.model.program", "import racecheck.explore.result\n",
     "model imports racecheck.explore.result from the later layer explore"),
    ("racecheck.report.text", "from racecheck import cli\n", "no module imports racecheck.cli"),
    ("racecheck.pytest_plugin", "from racecheck.cli import main\n", "no module imports racecheck.cli"),
    ("racecheck.cli", "import racecheck.pytest_plugin\n", "the shells do not import each other"),
    ("racecheck.cli.check", "import racecheck.pytest_plugin\n", "the shells do not import each other"),
    ("racecheck.report.text", "from racecheck.cli.common import Parser\n", "no module imports racecheck.cli"),
    ("racecheck.errors", "from racecheck.scenario.schema import Scenario\n",
     "base imports racecheck.scenario.schema from the later layer scenario"),
    ("racecheck.model.compile", "from ..explore import search\n",
     "model imports racecheck.explore.search from the later layer explore"),
    ("racecheck.model.__init__", "from ..report.text import x\n",
     "model imports racecheck.report.text from the later layer report"),
    ("racecheck.model.compile", "import importlib\nm = importlib.import_module('racecheck.report.text')\n",
     "model imports racecheck.report.text"),
    ("racecheck.model.compile", "m = __import__('yaml')\n", "model must not import yaml"),
    ("racecheck.plugins.extra", "", "is in no layer"),
])
def test_checker_catches_a_synthetic_violation(name, source, phrase):
    modules = {
        "racecheck.explore.search": "", "racecheck.report.text": "", "racecheck.cli": "",
        "racecheck.pytest_plugin": "", "racecheck.scenario.schema": "",
        "racecheck.explore.result": "",
    }
    modules[name] = source
    problems = violations(modules)
    assert len(problems) == 1, problems
    assert phrase in problems[0], problems
    assert problems[0].startswith(name.replace(".", "/") + ".py")


def test_violation_names_the_line():
    problems = violations({"racecheck.model.program": "import os\n\n\nimport yaml\n"})
    assert problems == ["racecheck/model/program.py:4: model must not import yaml (imports yaml)"]
