"""The examples in the README and docs are scenarios too: they must work.
And the package metadata says what the LICENSE file says."""

import os
import re

import pytest

from racecheck.explore.check import check_variant
from racecheck.explore.result import Outcome
from racecheck.scenario.loader import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def yaml_blocks(path):
    text = open(os.path.join(ROOT, path)).read()
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("racecheck:")]


def check_blocks(path, tmp_path):
    blocks = yaml_blocks(path)
    assert blocks, f"no scenario examples in {path}"
    for i, block in enumerate(blocks):
        file = tmp_path / f"example{i}.yaml"
        file.write_text(block)
        scenario = load_scenario(str(file))
        for variant in scenario.variants:
            assert check_variant(scenario, variant).outcome is Outcome.MATCH, (path, i, variant.name)


def test_readme_example_scenario_works(tmp_path):
    check_blocks("README.md", tmp_path)


def test_readme_commands_are_the_set_up_commands():
    text = open(os.path.join(ROOT, "README.md")).read()
    assert ".venv/bin/racecheck scenarios/dirty_unlocked.yaml" in text
    assert "pip install -q -e '.[test]' && .venv/bin/python -m pytest -q" in text
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert ".venv/bin/python -m pytest -q" in ci


def test_format_doc_example_scenarios_work(tmp_path):
    check_blocks("docs/format.md", tmp_path)


def test_scenario_table_is_generated_from_the_reports():
    import glob
    import json

    from racecheck.report.index import render_index
    reports = [json.load(open(p)) for p in glob.glob(os.path.join(ROOT, "reports", "*.json"))]
    assert len(reports) == len(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")))
    table = open(os.path.join(ROOT, "docs", "scenarios.md")).read()
    assert table == render_index(reports), \
        "regenerate: racecheck report scenarios/ --out reports/ --index docs/scenarios.md"
    import re
    total, ok = map(int, re.search(r"(\d+) variants, (\d+) with the verdict they expect", table).groups())
    assert total == ok


def test_license_metadata_is_spdx_and_points_at_the_license_file():
    tomllib = pytest.importorskip("tomllib")        # Python 3.11+
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        pyproject = tomllib.load(handle)
    project = pyproject["project"]
    assert project["license"] == "MIT"                # an SPDX expression, not the deprecated table
    assert project["license-files"] == ["LICENSE"]
    assert open(os.path.join(ROOT, "LICENSE")).readline().strip() == "MIT License"
    assert not any(c.startswith("License ::") for c in project["classifiers"])   # refused beside an SPDX license
    assert "setuptools>=77" in pyproject["build-system"]["requires"]             # the first to read both keys
