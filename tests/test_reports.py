"""Reports: Markdown, mail text, JSON, SVG, HTML, the before/after diff, and
the committed reports under reports/.

The committed reports must be exactly what the current code generates for
every shipped scenario. After a change that alters them, regenerate with
``racecheck report scenarios/ --out reports/`` (or run this file with
``RACECHECK_UPDATE_REPORTS=1``, or ``python tests/test_reports.py``) and
review the diff.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from racecheck.cli import build_parser
from racecheck.cli.common import check_all
from racecheck.explore.check import check_variant
from racecheck.explore.lkmm_check import replay_execution
from racecheck.explore.result import Bounds, Verdict, default_memory
from racecheck.explore.schedule import Schedule, parse_schedule
from racecheck.explore.trace import replay, violations_at_end
from racecheck.model.program import Program
from racecheck.report import diff, files, jsonreport, mail, markdown, svg
from racecheck.report import html as html_report
from racecheck.report.diagram import render_rows
from racecheck.report.markdown import Pre, Table, document
from racecheck.report.stamp import stamp_of
from racecheck.scenario.loader import load_scenario
from tests.folding import unfold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORTS = os.path.join(ROOT, "reports")
UPDATE = "RACECHECK_UPDATE_REPORTS"
HINT = (f"regenerate with `racecheck report scenarios/ --out reports/` (or {UPDATE}=1 "
        ".venv/bin/python -m pytest -q tests/test_reports.py) and review the diff")
SEED = "scenarios/dirty_unlocked.yaml"


# -- helpers: checking scenarios the way reports name them -----------------------------


def scenario_paths() -> list:
    """Every shipped scenario, as a path relative to the checkout (reports name it so)."""
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "scenarios")) if n.endswith(".yaml"))
    return [f"scenarios/{name}" for name in names]


def check_file(path: str, **bounds) -> list:
    """Load a scenario by its path relative to the checkout and check every
    variant, with the CLI's default bounds (reports name the bounds used)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        scenario = load_scenario(path)
        bounds = Bounds(**{"max_memory": default_memory(), **bounds})
        return check_all(scenario, scenario.variants, path, bounds, {})   # as racecheck report does
    finally:
        os.chdir(cwd)


@functools.lru_cache(maxsize=None)
def shipped(path: str) -> tuple:
    return tuple(check_file(path))


def expected_reports() -> dict:
    """``{file name: text}`` of every report reports/ should hold."""
    expected = {}
    for path in scenario_paths():
        for suffix, text in files.render_all(list(shipped(path)), path).items():
            expected[files.report_stem(path) + suffix] = text
    return expected


def generate_reports(out_dir: str = REPORTS) -> list:
    """Write the reports of every shipped scenario into ``out_dir``."""
    written = []
    for path in scenario_paths():
        written += files.write_reports(list(shipped(path)), path, out_dir)
    return written


def check_text(write_scenario, text: str, **bounds) -> tuple:
    path = write_scenario(text)
    scenario = load_scenario(path)
    return path, [check_variant(scenario, v, Bounds(**bounds)) for v in scenario.variants]


def variant(checked: list, name: str):
    return next(c for c in checked if c.variant.name == name)


# -- scenarios that exercise what the shipped ones do not ----------------------------

ERRORS = """\
racecheck: 1
title: "errors and asserts \u2014 and <escaping>"
description: |
  A *test* of [markdown] escaping: __init__ <b>bold</b> & https://example.com/a_b_c.

  - kept as it is
    an indented line
source: [https://lore.kernel.org/all/x_y@z/]
params: {mode: error}
state: {x: 0, xs: [1, 2]}
threads:
  t:
    title: "t() \u2014 a dash"
    locals: {i: 0}
    steps:
      - call: helper()
        steps:
          - {step: x = 1, do: x = 1}
          - {step: bad, do: "i = xs[5] if mode == 'error' else 0"}
      - {step: check, do: "assert x == 0, 'x must stay 0'"}
  u:
    steps:
      - {step: "u: x = 0", do: x = 0}
variants:
  error: {params: {mode: error}, expect: {violation: error}}
  assert: {params: {mode: ok}, expect: {violation: {assert: x must stay 0}}}
"""

LIVELOCK = """\
racecheck: 1
title: a busy wait on a flag that may never be set
state: {ready: false, x: 0}
threads:
  spinner:
    title: wait_for_ready()
    steps:
      - while: not ready
        step: while (!READ_ONCE(ready))
        steps: []
      - {step: x = 1, do: x = 1}
  setter:
    title: set_ready()
    steps:
      - {step: "ready = maybe", do: "ready = choose(True, False)"}
expect: {violation: livelock}
"""

INITIAL = """\
racecheck: 1
title: threads that start with local-only code
state: {x: 0}
threads:
  a:
    locals: {k: 0}
    steps:
      - {step: pick, do: "k = choose(1, 2)"}
      - {step: write, do: x = k}
  b:
    locals: {m: 0}
    steps:
      - {step: pick m, do: "m = 3"}
      - {step: write m, do: x = m}
final:
  not_two: x != 2
expect: violation
"""

TWO_KINDS = """\
racecheck: 1
title: the expected violation behind another one
state: {x: 0, locked: false}
threads:
  a:
    steps:
      - {step: lock, await: not locked, do: locked = True}
      - {step: x = 1, do: x = 1}
      - {step: x = 2, do: x = 2}
  b:
    steps:
      - {step: lock, await: not locked, do: locked = True}
invariants:
  not_one: x != 1
final:
  not_two: x != 2
expect: {violation: not_two}
"""

SAFE_LOCK = """\
racecheck: 1
title: a lock around a counter
state: {locked: false, inside: 0}
threads:
  worker:
    title: do_work()
    copies: 3
    steps:
      - {step: spin_lock(&lock), await: not locked, do: locked = True}
      - {step: enter, do: inside += 1}
      - {step: leave; spin_unlock(&lock), do: "inside -= 1\\nlocked = False"}
invariants:
  exclusive: inside <= 1
"""


@pytest.fixture
def extra(write_scenario):
    """The inline scenarios above: {name: (path, checked variants)}."""
    texts = {"errors": ERRORS, "livelock": LIVELOCK, "initial": INITIAL, "two_kinds": TWO_KINDS}
    return {name: check_text(write_scenario, text) for name, text in texts.items()}


def every_report_input(extra) -> list:
    """(path, checked) for the shipped scenarios and the inline ones."""
    return [(p, list(shipped(p))) for p in scenario_paths()] + list(extra.values())


# -- Markdown ---------------------------------------------------------------------------


def test_markdown_report_of_the_seed():
    checked = list(shipped(SEED))
    text = markdown.render_markdown(checked, SEED)
    assert text.startswith("# zswap writeback marks a swapcache folio dirty without the folio lock\n")
    for heading in ("## Sources", "## Description", "## Variants",
                    "## Variant `v1`: violation of invariant page_not_lost",
                    "## Variant `unlocked`: violation of invariant page_not_lost",
                    "## Variant `trylock`: safe"):
        assert f"\n{heading}\n" in text
    assert "| variant | expected | states | result |" in text
    assert "| unlocked | violation page_not_lost | 42 | ok |" in text
    unlocked = text[text.index("## Variant `unlocked`"):text.index("## Variant `trylock`")]
    diagram = "\n".join(render_rows(checked[1].program, checked[1].trace))
    assert f"```text\n{diagram}\n```" in unlocked
    assert "Counterexample: 9 steps, 2 context switches (the fewest possible, then the fewest steps)" in unlocked
    assert "The invariant `page_not_lost` is violated:" in unlocked
    assert "```python\npte == 'folio' or folio.present or zswap != 0 or disk\n```" in unlocked
    assert "- `pte = 'swap'`\n- `folio.present = False`\n- `zswap = 0`\n- `disk = False`" in unlocked
    assert ("```sh\nracecheck scenarios/dirty_unlocked.yaml --variant unlocked "
            "--schedule 'writeback*3,reclaim*4,writeback*2'\n```") in unlocked
    trylock = text[text.index("## Variant `trylock`"):]
    assert "No violation: 41 states, 47 transitions, depth 12; the search was exhaustive." in trylock
    assert "Partial-order reduction was used" in trylock
    assert "- invariant page_not_lost\n- asserts and run-time errors\n- deadlock\n- livelock" in trylock
    assert "Steps never executed" not in text                 # trylock runs every step
    assert "How common the violation is" in unlocked
    assert "2 of 58 reachable states" in unlocked


def test_markdown_escapes_prose_but_not_code(extra):
    path, checked = extra["errors"]
    text = markdown.render_markdown(checked, path)
    assert "A \\*test\\* of \\[markdown\\] escaping: \\_\\_init\\_\\_ \\<b>bold\\</b> &" in text
    assert "<https://example.com/a_b_c>" in text and "<https://lore.kernel.org/all/x_y@z/>" in text
    assert "```text\n- kept as it is\n  an indented line\n```" in text   # indented: kept as written
    assert "Run-time error in 'bad' of thread t" in text
    assert "```text\nindex 5 out of range for list of length 2\n```" in text
    assert "Assert failed in 'check' of thread t" in text


def test_markdown_fences_and_code_spans_outlast_backticks():
    block = markdown.markdown_blocks([Pre(("a ``` b",), "text"), markdown.Para((markdown.Code("x`y"),))])
    assert block.startswith("````text\na ``` b\n````\n")
    assert "``x`y``" in block


def test_paragraph_starts_that_would_be_markup_are_escaped():
    text = markdown.markdown_blocks([markdown.Para(("1. not a list",)), markdown.Para(("# not a heading",)),
                                     markdown.Items((("- not nested",),))])
    assert "1\\. not a list" in text and "\\# not a heading" in text and "- \\- not nested" in text


def test_livelock_report_names_the_cycle(extra):
    path, checked = extra["livelock"]
    text = markdown.render_markdown(checked, path)
    assert "## Result: violation of livelock" in text
    assert "-- from here on, these steps can repeat forever --" in text
    assert "The steps after the marked line form the cycle `spinner`" in text
    assert "Counterexample: 1 step, 0 context switches to the first state that cannot finish" in text


def test_other_violations_are_listed_with_their_replay(extra):
    path, checked = extra["two_kinds"]
    assert checked[0].exploration.others, "the scenario must reach a second kind of violation"
    text = markdown.render_markdown(checked, path)
    also = text[text.index("### Also reachable"):]
    assert "Invariant not_one:" in also and "```sh\nracecheck " in also


def test_inconclusive_report_names_the_bound(write_scenario):
    path, checked = check_text(write_scenario, SAFE_LOCK, max_states=5)
    assert checked[0].exploration.verdict is Verdict.INCONCLUSIVE
    text = markdown.render_markdown(checked, path)
    assert "## Result: inconclusive" in text
    assert "Inconclusive: stopped at the --max-states bound (5), after " in text
    assert "this is not a proof that none is reachable" in text


def test_safe_report_without_reduction_says_so(write_scenario):
    path = write_scenario(SAFE_LOCK)
    scenario = load_scenario(path)
    checked = [check_variant(scenario, scenario.variants[0], reduction=False)]
    text = markdown.render_markdown(checked, path)
    assert "Every interleaving was explored (no partial-order reduction)." in text


def with_coverage_and_frequency(checked):
    coverage = (("reclaim", "folio_unlock(folio)", "scenarios/dirty_unlocked.yaml:40"),)
    frequency = SimpleNamespace(violating_states=3, states=43, violating_orderings=None, orderings=None)
    return replace(checked, coverage=coverage, frequency=frequency)


def test_coverage_warning_and_frequency_in_every_format():
    checked = [with_coverage_and_frequency(c) for c in shipped(SEED)]
    reports = files.render_all(checked, SEED)
    assert "### Steps never executed" in reports[".md"]
    assert "> **Warning:** No explored state executed these steps." in reports[".md"]
    assert "| thread | step | line |" in reports[".md"]
    assert "| reclaim | folio_unlock(folio) | 40 |" in reports[".md"]        # its own file: the line alone
    assert "- 3 of 43 reachable states show the violation (7.0%)\n- violating orderings: not computed" in reports[".md"]
    assert "WARNING: No explored state executed these steps." in reports[".txt"]
    assert 'class="warning"' in reports[".html"] and "3 of 43 reachable states show the violation (7.0%)" in reports[".html"]
    data = json.loads(reports[".json"])["variants"][0]
    assert data["coverage"] == [{"thread": "reclaim", "step": "folio_unlock(folio)",
                                 "where": "scenarios/dirty_unlocked.yaml:40"}]
    assert data["frequency"] == {"violating_states": 3, "states": 43, "violating_orderings": None,
                                 "orderings": None}


def test_frequency_is_read_with_getattr_and_empty_coverage_is_no_section():
    checked = [replace(shipped(SEED)[0], coverage=(), frequency=object())]
    text = markdown.render_markdown(checked, SEED)
    assert "Steps never executed" not in text
    assert "- violating states: not computed" in text
    assert json.loads(files.render_all(checked, SEED)[".json"])["variants"][0]["frequency"] == {
        "violating_states": None, "states": None, "violating_orderings": None, "orderings": None}


def test_no_report_holds_a_timing(extra):
    for path, checked in every_report_input(extra):
        for suffix, text in files.render_all(checked, path).items():
            assert not re.search(r"\d\.\d\d s\b|seconds", text), (path, suffix)


# -- mail ---------------------------------------------------------------------------------


def test_mail_is_ascii_without_tabs_and_fits_75_columns(extra):
    """Prose, code, commands and tables are all folded; only a single word
    longer than a line (a long path, a quoted schedule) may pass 75."""
    for path, checked in every_report_input(extra):
        text = mail.render_mail(checked, path)
        assert text.isascii() and "\t" not in text, path
        stamp = set(stamp_of(path).lines())        # read back by report --check: kept as it is
        for line in text.splitlines():
            if len(line) > mail.WIDTH and line not in stamp:
                assert len(line.strip().removesuffix(" \\").split()) == 1, (path, line)


def test_mail_keeps_diagrams_and_commands_intact():
    checked = list(shipped(SEED))
    text = mail.render_mail(checked, SEED)
    for one in checked[:2]:
        assert "\n".join(render_rows(one.program, one.trace)) in text
    assert ("\n  racecheck scenarios/dirty_unlocked.yaml --variant unlocked --schedule \\\n"
            "      'writeback*3,reclaim*4,writeback*2'\n") in text
    assert "zswap writeback marks a swapcache folio dirty without the folio lock\n=====" in text


def test_mail_turns_typography_into_ascii(extra):
    path, checked = extra["errors"]
    text = mail.render_mail(checked, path)
    assert text.startswith("errors and asserts -- and <escaping>\n")


# -- JSON ---------------------------------------------------------------------------------

TOP = {"schema", "schema_version", "file", "scenario_sha256", "racecheck_version", "title", "source",
       "description", "leaves_out", "variants", "model"}
VARIANT = {"name", "description", "source", "params", "expected", "verdict", "outcome", "outcome_text", "exit_reason",
           "exit_reason_text", "reduced", "bounds", "checked", "statistics", "collision_bound", "violation",
           "coverage", "frequency", "not_computed"}
STATISTICS = {"states", "transitions", "depth", "violating_states"}
VIOLATION = {"kind", "name", "message", "description", "property", "reads", "explanation", "schedule", "replay",
             "length", "context_switches", "minimal", "cycle", "diagram", "initial", "steps", "cycle_steps",
             "also_reachable"}
STEP = {"thread", "step", "choices", "rows", "error"}
ROW = {"thread", "pc", "text", "calls", "writes", "branch", "returned"}
WRITE = {"target", "old", "new", "kind"}
OTHER = {"kind", "name", "message", "description", "schedule", "replay"}
# memory: lkmm reports (docs/reports.md): a variant is judged over executions, not states
LKMM_VARIANT = {"name", "description", "source", "params", "expected", "verdict", "outcome", "outcome_text",
                "exit_reason", "exit_reason_text", "bounds", "checked", "statistics", "violation", "audit"}
LKMM_STATISTICS = {"states", "executions", "candidates", "violating_executions"}
LKMM_VIOLATION = {"kind", "name", "message", "execution", "diagram", "found", "replay", "also_reachable"}
LKMM_OTHER = {"kind", "name", "message", "description", "execution", "replay"}
LKMM_AUDIT = {"thread", "primitive", "line", "end_line", "weakened_to", "needed", "without_it"}


def is_lkmm(checked: list) -> bool:
    return bool(checked) and checked[0].scenario.memory == "lkmm"


def assert_schema(doc: dict) -> None:
    assert set(doc) == TOP | {"memory"} and doc["memory"] in ("sc", "lkmm")
    assert doc["schema"] == "racecheck-report" and doc["schema_version"] == jsonreport.SCHEMA_VERSION == 1
    assert all(isinstance(doc[k], str) for k in ("file", "title", "description"))
    assert all(isinstance(s, str) for s in doc["source"])
    if doc["memory"] == "lkmm":
        for v in doc["variants"]:
            assert_lkmm_variant(v)
        return
    for v in doc["variants"]:
        assert set(v) == VARIANT
        assert v["verdict"] in ("safe", "violation", "inconclusive")
        assert v["outcome"] in ("match", "mismatch", "inconclusive")
        assert all(isinstance(value, str) for value in v["params"].values())
        assert set(v["statistics"]) == STATISTICS and all(type(n) is int for n in v["statistics"].values())
        assert isinstance(v["reduced"], bool) and all(isinstance(c, str) for c in v["checked"])
        assert (v["violation"] is None) == (v["verdict"] != "violation")
        if v["violation"] is not None:
            assert_violation(v["violation"])


def assert_lkmm_variant(v: dict) -> None:
    assert set(v) == LKMM_VARIANT and v["verdict"] in ("safe", "violation", "inconclusive")
    assert set(v["statistics"]) == LKMM_STATISTICS and all(type(n) is int for n in v["statistics"].values())
    assert v["statistics"]["states"] == v["statistics"]["executions"] <= v["statistics"]["candidates"]
    assert set(v["bounds"]) == {"max_candidates"} and type(v["bounds"]["max_candidates"]) is int
    assert (v["violation"] is None) == (v["verdict"] != "violation")
    x = v["violation"]
    if x is not None:
        assert set(x) == LKMM_VIOLATION and type(x["execution"]) is int
        assert all(isinstance(line, str) for line in x["diagram"] + x["found"])
        assert x["replay"].endswith(f"--execution {x['execution']}")
        assert all(set(o) == LKMM_OTHER and o["replay"].endswith(f"--execution {o['execution']}")
                   for o in x["also_reachable"])
    assert v["audit"] is None or all(set(a) == LKMM_AUDIT and isinstance(a["needed"], bool) for a in v["audit"])


def assert_violation(x: dict) -> None:
    assert set(x) == VIOLATION
    assert all(isinstance(x[k], str) for k in ("kind", "name", "message", "description", "schedule", "replay"))
    assert type(x["length"]) is int and type(x["context_switches"]) is int and isinstance(x["minimal"], bool)
    assert x["length"] == len(x["steps"])
    assert all(set(r) == {"expr", "value"} and isinstance(r["value"], str) for r in x["reads"])
    assert all(isinstance(line, str) for line in x["diagram"] + x["explanation"])
    assert set(x["initial"]) == {"rows", "error"}
    rows = list(x["initial"]["rows"])
    for step in x["steps"] + (x["cycle_steps"] or []):
        assert set(step) == STEP and all(type(c) is int for c in step["choices"])
        rows += step["rows"]
    for row in rows:
        assert set(row) == ROW and type(row["pc"]) is int and row["branch"] in (None, True, False)
        for write in row["writes"]:
            assert set(write) == WRITE and write["kind"] in ("local", "shared")
            assert isinstance(write["old"], str) and isinstance(write["new"], str)
    assert all(set(o) == OTHER for o in x["also_reachable"])


def test_json_schema_of_every_report(extra):
    for path, checked in every_report_input(extra):
        doc = json.loads(files.render_all(checked, path)[".json"])
        assert_schema(doc)
        assert doc["file"] == path


def test_json_follows_the_trace():
    doc = jsonreport.to_json(list(shipped(SEED)), SEED)
    unlocked = doc["variants"][1]
    assert (unlocked["name"], unlocked["verdict"], unlocked["outcome"]) == ("unlocked", "violation", "match")
    assert unlocked["params"] == {"level": "'mail'", "writeback": "'dirty'", "put": "'none'"}
    x = unlocked["violation"]
    assert (x["kind"], x["name"], x["property"]) == ("invariant", "page_not_lost",
                                                     "pte == 'folio' or folio.present or zswap != 0 or disk")
    assert x["reads"][0] == {"expr": "pte", "value": "'swap'"}
    assert (x["schedule"], x["length"], x["context_switches"]) == ("writeback*3,reclaim*4,writeback*2", 9, 2)
    first = x["steps"][0]
    assert (first["thread"], first["step"]) == ("writeback", "entry = zswap_entry_find()")
    assert first["rows"][0]["writes"] == [{"target": "entry", "old": "0", "new": "1", "kind": "local"}]
    last = x["steps"][-1]["rows"][-1]
    assert last["text"] == "zswap_invalidate_entry()"
    assert last["writes"] == [{"target": "zswap", "old": "1", "new": "0", "kind": "shared"}]
    assert doc["variants"][2]["violation"] is None


def test_json_of_calls_failures_cycles_and_initial_rows(extra):
    doc = jsonreport.to_json(extra["errors"][1], extra["errors"][0])
    error = doc["variants"][0]["violation"]
    assert error["steps"][-1]["error"] == "index 5 out of range for list of length 2"
    assert error["steps"][0]["rows"][0]["calls"] == ["helper()"]
    livelock = jsonreport.to_json(extra["livelock"][1], extra["livelock"][0])["variants"][0]["violation"]
    assert livelock["cycle"] == "spinner" and livelock["cycle_steps"][0]["thread"] == "spinner"
    assert livelock["steps"][0]["choices"] == [1]
    initial = jsonreport.to_json(extra["initial"][1], extra["initial"][0])["variants"][0]["violation"]
    assert [r["thread"] for r in initial["initial"]["rows"]] == ["a", "b"]
    assert initial["schedule"].startswith("init:")


def test_docs_describe_every_json_field():
    doc = open(os.path.join(ROOT, "docs", "reports.md")).read()
    lkmm = LKMM_VARIANT | LKMM_STATISTICS | LKMM_VIOLATION | LKMM_OTHER | LKMM_AUDIT | {"memory", "max_candidates"}
    for key in sorted(TOP | VARIANT | STATISTICS | VIOLATION | STEP | ROW | WRITE | OTHER | {"expr", "value"} | lkmm):
        assert f"`{key}`" in doc, f"docs/reports.md does not describe the JSON field {key}"
    assert f"version {jsonreport.SCHEMA_VERSION}" in doc


# -- SVG ----------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def chart_texts(chart: str) -> list:
    root = ET.fromstring(chart)
    return [(t.text or "", float(t.get("x")), float(t.get("y"))) for t in root.iter(SVG + "text")]


def test_every_chart_is_self_contained_xml(extra):
    for path, checked in every_report_input(extra):
        if is_lkmm(checked):          # an execution is no interleaving: drawn as text only
            continue
        for one in checked:
            if one.trace is None:
                with pytest.raises(ValueError):
                    svg.sequence_chart(one)
                continue
            chart = svg.sequence_chart(one)
            root = ET.fromstring(chart)
            assert root.tag == SVG + "svg" and root.find(SVG + "title") is not None
            assert "<script" not in chart and "@import" not in chart and "href" not in chart
            names = {text for text, _, _ in chart_texts(chart)}
            assert {t.name for t in one.program.threads} <= names, path


def test_chart_lanes_time_and_violation():
    unlocked = shipped(SEED)[1]
    texts = chart_texts(svg.sequence_chart(unlocked))
    where = {text: (x, y) for text, x, y in texts}
    assert where["reclaim"][0] < where["writeback"][0]                          # one lane per thread
    assert where["folio_test_dirty(folio)"][1] < where["set_page_dirty(page)"][1]   # time runs down
    assert where["folio_test_dirty(folio)"][0] < where["set_page_dirty(page)"][0]
    axis = [text for text, x, _ in texts if x < svg.AXIS and text.isdigit()]
    assert axis == [str(n) for n in range(1, 10)]
    assert "invariant page_not_lost is violated:" in where
    assert where["invariant page_not_lost is violated:"][1] > where["zswap_invalidate_entry()"][1]
    assert texts[-1][0].startswith("where pte = 'swap'")
    chart = svg.sequence_chart(unlocked)
    assert chart.count("marker-end=") == 2                                      # two context switches


def test_chart_groups_call_steps_and_marks_failures_and_cycles(extra):
    swapoff = shipped("scenarios/swapoff_swapin_swap_map.yaml")[0]
    chart = svg.sequence_chart(swapoff)
    texts = [text for text, _, _ in chart_texts(chart)]
    assert any(t.startswith("!! assert fails: NULL pointer access") for t in texts)
    assert 'font-style="italic"' in chart                # a box inside a call group repeats the call
    livelock = svg.sequence_chart(extra["livelock"][1][0])
    assert "from here on, these steps can repeat forever" in [t for t, _, _ in chart_texts(livelock)]
    initial = svg.sequence_chart(extra["initial"][1][0])
    assert "init" in [t for t, _, _ in chart_texts(initial)]


# -- HTML ---------------------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class WellFormed(HTMLParser):
    """Every element that is opened is closed, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list = []
        self.errors: list = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
        else:
            self.stack.pop()


def test_html_is_well_formed_and_holds_a_chart_per_violation(extra):
    for path, checked in every_report_input(extra):
        page = html_report.render_html(checked, path)
        parser = WellFormed()
        parser.feed(page)
        parser.close()
        assert parser.errors == [] and parser.stack == [], path
        if is_lkmm(checked):          # the execution drawn as text, no chart; and the audit's executions
            drawn = sum(1 for c in checked if c.execution is not None)
            assert page.count("<svg ") == 0 and page.count("<pre class=\"diagram\">") >= drawn > 0, path
        else:
            violations = sum(1 for c in checked if c.trace is not None)
            assert page.count("<svg ") == violations and page.count("<pre class=\"diagram\">") == violations
        assert "<script" not in page and "<link" not in page and "src=" not in page
        assert page.startswith("<!DOCTYPE html>") and "<style>" in page


def test_html_escapes_everything(extra):
    path, checked = extra["errors"]
    page = html_report.render_html(checked, path)
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<title>errors and asserts \u2014 and &lt;escaping&gt;</title>" in page
    assert '<a href="https://example.com/a_b_c">' in page


def test_html_has_the_markdown_content():
    checked = list(shipped(SEED))
    page = unescape(re.sub(r"<[^>]+>", "", html_report.render_html(checked, SEED)))
    for block in document(checked, SEED):
        if isinstance(block, Pre):
            assert "\n".join(block.lines) in page
        elif isinstance(block, markdown.Para):
            assert markdown.plain(block.parts) in page


# -- hostile text: every format escapes what it prints --------------------------------------

HOSTILE = """\
racecheck: 1
title: "<script>alert(1)</script> | *b* [x](javascript:alert(1)) `c` <!-- --> ]]>"
description: "<img src=x onerror=alert(1)> | ]]> */ -->"
source: ["<b>src</b> | http://example.com/<script>"]
state: {x: 0, s: "<s>|"}
threads:
  t:
    title: "<svg onload=alert(1)> | `t`"
    steps:
      - step: "<td>step</td> | `x` ]]> &lt;"
        do: |
          s = '</code><script>x</script>|'
          x = 1
      - call: "<call>|`c`"
        steps:
          - step: "if (a < b && c > d) | e"
            do: |
              assert x == 0, '<assert>|`m`\\n# injected heading'
"""


def test_index_escapes_every_cell():
    from racecheck.report.index import render_index
    report = {"file": "dir/a b](x).yaml", "title": "<script>alert(1)</script> | *b*\n# h", "source": [],
              "leaves_out": "<b>|</b>\n*all*",
              "variants": [{"name": "v|w", "verdict": "safe", "expected": "assert: <i>|</i>", "outcome": "match",
                            "source": ["commit <u>|"]}]}
    row = next(line for line in render_index([report]).splitlines() if line.startswith("| [a"))
    assert row == ("| [a b\\](x)](../reports/a%20b%5D%28x%29.md): \\<script>alert(1)\\</script> \\| \\*b\\* # h "
                   "| v\\|w | commit \\<u>\\| | safe (assert: \\<i>\\|\\</i>) | \\<b>\\|\\</b> \\*all\\* |")


def test_hostile_text_is_escaped_in_every_format(write_scenario):
    path, checked = check_text(write_scenario, HOSTILE)
    reports = files.render_all(checked, path)
    md = reports[".md"]
    assert md.startswith("# \\<script>alert(1)\\</script> \\| \\*b\\* \\[x\\](javascript:alert(1)) \\`c\\`")
    heading = next(line for line in md.splitlines() if line.startswith("## Result"))
    assert heading.endswith("\\<assert>\\|\\`m\\` # injected heading")      # one line: no heading injected
    prose = re.sub(r"(?ms)^(`{3,})\w*\n.*?^\1$", "", md)          # outside fenced blocks
    assert "# injected" not in prose.replace("` # injected", "")
    page = reports[".html"]
    parser = WellFormed()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    for raw in ("<script", "<img", "<svg onload", "<td>step", "<call>", "<assert>", "<b>src"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | *b*" in page
    chart = svg.sequence_chart(checked[0])
    ET.fromstring(chart)                                    # ]]> and & in text: still well-formed XML
    assert "&lt;td&gt;step&lt;/td&gt; | `x` ]]&gt; &amp;lt;" in chart
    assert json.loads(reports[".json"])["title"] == "<script>alert(1)</script> | *b* [x](javascript:alert(1)) `c` <!-- --> ]]>"
    diagram = render_rows(checked[0].program, checked[0].trace)
    assert diagram[-1].endswith("!! assert fails: <assert>|`m`\\n# injected heading")   # a row stays one row


# -- files and the diff -------------------------------------------------------------------


def test_write_reports_writes_four_files(tmp_path):
    out = tmp_path / "new" / "dir"
    written = files.write_reports(list(shipped(SEED)), SEED, str(out))
    assert [os.path.basename(p) for p in written] == [f"dirty_unlocked{s}" for s in files.SUFFIXES]
    text = (out / "dirty_unlocked.json").read_text()
    assert text.endswith("}\n") and text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert (out / "dirty_unlocked.md").read_text() == files.render_all(list(shipped(SEED)), SEED)[".md"]


def test_diff_of_two_variants_shows_the_removed_race():
    v1, unlocked, _, _, trylock = shipped(SEED)
    text = diff.render_diff([unlocked], [trylock], "variant unlocked", "variant trylock")
    assert "unlocked -> trylock  violation (page_not_lost)  safe" in text
    assert "Before this patch, this ordering violates invariant page_not_lost (9 steps,\n2 context switches):" in text
    assert "\n".join(render_rows(unlocked.program, unlocked.trace)) in text
    assert "--variant unlocked --schedule 'writeback*3,reclaim*4,writeback*2'" in unfold(text)
    assert "After this patch, no interleaving violates anything racecheck checks (41" in text
    added = diff.render_diff([trylock], [v1], "trylock", "v1")
    assert "After this patch, this ordering violates invariant page_not_lost (11 steps,\n1 context switch):" in added
    same = diff.render_diff([v1], [unlocked], "v1", "unlocked")
    assert "No change: violation of invariant page_not_lost before and after this\npatch." in same


def test_diff_of_two_files_pairs_variants_by_name(write_scenario):
    before = SAFE_LOCK.replace("inside <= 1", "inside <= 0") + "variants:\n  one: {expect: violation}\n  two: {}\n"
    old_path, old = check_text(write_scenario, before)
    new_path, new = check_text(write_scenario, SAFE_LOCK + "variants:\n  one: {}\n  three: {}\n")
    text = diff.render_diff(old, new, "old.yaml", "new.yaml")
    assert re.search(r"\none +violation \(exclusive\) +safe\n", text)
    assert re.search(r"\ntwo +violation \(exclusive\) +\(no such variant\)\n", text)
    assert re.search(r"\nthree +\(no such variant\) +safe\n", text)
    assert "one: Before this patch, this ordering violates invariant exclusive" in text
    assert text.isascii() and "\t" not in text


# -- every printed replay command replays -----------------------------------------------------


def commands_in(suffix: str, text: str) -> set:
    if suffix == ".json":
        doc = json.loads(text)
        found = set()
        for v in doc["variants"]:
            x = v["violation"]
            if x is not None:
                found |= {x["replay"]} | {o["replay"] for o in x["also_reachable"]}
        return found
    if suffix == ".html":
        text = unescape(re.sub(r"<[^>]+>", "", text))
    return {line.strip() for line in unfold(text).splitlines() if line.strip().startswith("racecheck ")}


def replays_to(command: str, kind: str, name: str, message: str, cycle: str | None) -> bool:
    args = build_parser().parse_args(shlex.split(command)[1:])
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        scenario = load_scenario(args.paths[0])
    finally:
        os.chdir(cwd)
    chosen = scenario.variant(args.variant) if args.variant else scenario.variants[0]
    if args.execution is not None:          # memory: lkmm: execution N, judged again
        found, _total = replay_execution(scenario, chosen, args.execution)
        return found is not None and (kind, name, message if kind == "assert" else "") in {
            (v.kind, v.name, v.message if v.kind == "assert" else "") for v in found[1]}
    program = Program(scenario, chosen)
    names = [t.name for t in program.threads]
    schedule = parse_schedule(args.schedule, names)
    trace = replay(program, schedule)
    if kind == "livelock":                  # the cycle leads back to the state the schedule ends in
        cycle_steps = parse_schedule(cycle, names).steps
        looped = replay(program, Schedule(schedule.init, schedule.steps + cycle_steps))
        return bool(cycle_steps) and looped.final_state == trace.final_state
    keys = {(k, n, m if k == "assert" else "") for k, n, m in violations_at_end(program, trace)}
    return (kind, name, message if kind == "assert" else "") in keys or (
        kind == "error" and any(k[0] == "error" for k in keys))


def test_every_replay_command_in_every_report_replays(extra):
    for path, checked in every_report_input(extra):
        reports = files.render_all(checked, path)
        doc = json.loads(reports[".json"])
        expected = commands_in(".json", reports[".json"])
        assert expected, path
        for suffix, text in reports.items():
            assert commands_in(suffix, text) == expected, (path, suffix)
        for v in doc["variants"]:
            x = v["violation"]
            if x is None:
                continue
            for item in [x] + x["also_reachable"]:
                cycle = x.get("cycle") if item is x else None      # lkmm: no cycles
                assert replays_to(item["replay"], item["kind"], item["name"], item["message"], cycle), \
                    (path, item["replay"])


# -- the committed reports ------------------------------------------------------------------


def test_committed_reports_are_up_to_date():
    expected = expected_reports()
    if os.environ.get(UPDATE) == "1":
        os.makedirs(REPORTS, exist_ok=True)
        for name in set(os.listdir(REPORTS)) - set(expected):
            os.remove(os.path.join(REPORTS, name))
        generate_reports(REPORTS)
    present = set(os.listdir(REPORTS)) if os.path.isdir(REPORTS) else set()
    missing = sorted(set(expected) - present)
    extra = sorted(present - set(expected))
    stale = sorted(name for name in set(expected) & present
                   if open(os.path.join(REPORTS, name), encoding="utf-8").read() != expected[name])
    problems = [f"{label}: {', '.join(names)}" for label, names in
                (("missing", missing), ("not from a shipped scenario", extra), ("out of date", stale)) if names]
    assert not problems, "reports/ is stale (" + "; ".join(problems) + "); " + HINT


def test_reports_do_not_depend_on_the_hash_seed():
    code = ("import sys; sys.path.insert(0, 'tests'); from test_reports import shipped, SEED; "
            "from racecheck.report.files import render_all; "
            "sys.stdout.write(render_all(list(shipped(SEED)), SEED)['.json'])")
    env = dict(os.environ, PYTHONHASHSEED="4242")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out == files.render_all(list(shipped(SEED)), SEED)[".json"]


if __name__ == "__main__":                   # python tests/test_reports.py: rewrite reports/
    for written in generate_reports(REPORTS):
        print(written)


CLAIMS = """\
racecheck: 1
title: what a model is a claim about
source: commit 0123456789ab the fix
leaves_out: |
  The slab allocator: a freed object is never reused here.

  Reclaim's second pass, which reads nothing this race writes.
params: {fixed: false}
state: {x: 0}
threads:
  a:
    steps:
      - {step: write, do: 'x = 1 if not fixed else 0'}
invariants:
  zero: x == 0
variants:
  before:
    params: {fixed: false}
    expect: {violation: zero}
    source: v6.6, before 0123456789ab
  after:
    params: {fixed: true}
    source: [commit 0123456789ab the fix, "LKML 2023-11-15 [PATCH v2]"]
"""


def test_variant_source_and_leaves_out_reach_every_report(write_scenario):
    path, checked = check_text(write_scenario, CLAIMS)
    assert [c.variant.source for c in checked] == [("v6.6, before 0123456789ab",),
                                                   ("commit 0123456789ab the fix", "LKML 2023-11-15 [PATCH v2]")]
    reports = files.render_all(checked, path)
    assert "\n## What the model leaves out\n\nThe slab allocator: a freed object is never reused here.\n" \
        in reports[".md"]
    assert "Corresponds to: commit 0123456789ab the fix; LKML 2023-11-15 \\[PATCH v2\\]." in reports[".md"]
    assert "What the model leaves out\n-------------------------" in reports[".txt"]
    assert "Corresponds to: v6.6, before 0123456789ab." in reports[".txt"]
    doc = json.loads(reports[".json"])
    assert doc["leaves_out"].startswith("The slab allocator") and "second pass" in doc["leaves_out"]
    assert doc["variants"][0]["source"] == ["v6.6, before 0123456789ab"]
    from racecheck.report.index import render_index
    rows = [line for line in render_index([doc]).splitlines() if line.startswith("| ")][1:]
    assert rows[0].split(" | ")[2:] == ["v6.6, before 0123456789ab", "violation of zero (violation zero)",
                                        "The slab allocator: a freed object is never reused here. Reclaim's "
                                        "second pass, which reads nothing this race writes. |"]
    assert rows[1].split(" | ")[1:4] == ["after", "commit 0123456789ab the fix; LKML 2023-11-15 \\[PATCH v2\\]",
                                         "safe (safe)"]


def test_variant_source_must_be_text(write_scenario, capsys):
    from racecheck.cli import main
    path = write_scenario(CLAIMS.replace("source: v6.6, before 0123456789ab", "source: {commit: 1}"))
    assert main([path]) == 2
    err = capsys.readouterr().err
    assert f"{path}:20:13: source must be a string, not a mapping" in err
