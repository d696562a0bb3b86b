"""Every report holds the model it judges and the bounds it was judged in.

The model section lists the params, the initial state, each thread's steps
with their await and do code, and each property with its expression; each
variant names its bounds; a safe verdict says what it promises. Checked in
the Markdown, mail, HTML and JSON forms of the same report.
"""

from __future__ import annotations

import json
import os
import re
import sys
from html import unescape

from racecheck.explore.check import check_variant
from racecheck.explore.executions import DEFAULT_MAX_CANDIDATES
from racecheck.explore.result import Bounds, default_memory
from racecheck.report import files, mail, model
from racecheck.report.blocks import Code, Para
from racecheck.report.fold import fold_code
from racecheck.scenario.loader import load_scenario

sys.path.insert(0, os.path.dirname(__file__))
from test_reports import scenario_paths, shipped  # noqa: E402

MODEL = """\
racecheck: 1
title: a model with every kind of step
params: {mode: "fast", limit: 2}
state: {lock: false, count: 0, log: [1, 2]}
threads:
  worker:
    title: do_work()
    copies: 2
    locals: {mine: 0, tries: 0}
    steps:
      - step: spin_lock(&lock)
        label: again
        await: not lock
        do: |
          lock = True
          mine = count
      - while: tries < limit
        step: for (;;)
        steps:
          - {step: tries++, do: tries += 1}
      - call: bump()
        steps:
          - if: mode == 'fast'
            then:
              - {step: count = mine + 1, do: count = mine + 1}
            else:
              - {step: count++ slowly, do: "count = mine + 1", goto: out}
      - {step: spin_unlock(&lock), label: out, do: lock = False}
  observer:
    steps:
      - {step: look, await: count == 2}
invariants:
  bounded: count <= 2
final:
  both: count == 2
deadlock: allowed
variants:
  fast: {params: {mode: "fast"}, expect: safe}
  slow: {params: {mode: "slow"}, expect: safe}
"""

THREAD_LINES = [
    "label again:",
    "step spin_lock(&lock)",
    "  await: not lock",
    "  do:    lock = True",
    "         mine = count",
    "# drawn as: for (;;)",
    "while tries < limit:",
    "  step tries++",
    "    do:    tries += 1",
    "call bump()",
    "  if mode == 'fast':",
    "    step count = mine + 1",
    "      do:    count = mine + 1",
    "  else:",
    "    step count++ slowly",
    "      do:    count = mine + 1",
    "      goto:  out",
    "label out:",
    "step spin_unlock(&lock)",
    "  do:    lock = False",
]


def reports_of(write_scenario, text: str = MODEL, **bounds):
    path = write_scenario(text)
    scenario = load_scenario(path)
    checked = [check_variant(scenario, v, Bounds(**bounds)) for v in scenario.variants]
    return path, checked, files.render_all(checked, path)


def html_text(page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", page))


def test_the_thread_listing_has_every_kind_of_step(load):
    scenario = load(MODEL)
    assert model.step_lines(scenario.threads[0].steps) == THREAD_LINES
    assert model.step_lines(scenario.threads[1].steps) == ["step look", "  await: count == 2"]


def test_every_text_format_holds_the_whole_model(write_scenario):
    _, checked, reports = reports_of(write_scenario)
    texts = {".md": reports[".md"], ".txt": reports[".txt"], ".html": html_text(reports[".html"])}
    indent = {".md": "", ".txt": "  ", ".html": ""}
    for suffix, text in texts.items():
        pad = indent[suffix]
        listing = "\n".join(pad + line for line in THREAD_LINES)
        assert listing in text, suffix
        state = "\n".join(pad + line for line in ("lock = False", "count = 0", "log = [1, 2]"))
        assert state in text, suffix
        assert f"{pad}invariant bounded:\n{pad}    count <= 2\n{pad}final both:\n{pad}    count == 2" in text, suffix
        flat = " ".join(text.replace("`", "").split())
        for words in ("the values the file gives them (each variant's own values are listed under the variant): "
                      "mode = 'fast', limit = 2.", "Locals, private to the thread: mine = 0, tries = 0.",
                      "deadlock: allowed", "2 copies (worker#0, worker#1)", "Thread worker: do_work()",
                      "Parameters: mode = 'slow', limit = 2."):
            assert words in flat, (suffix, words)


def test_long_step_texts_and_records_wrap_under_themselves(load):
    text = "a step text " * 8
    scenario = load(MODEL.replace("{step: look, await: count == 2}", f"{{step: {text.strip()}, await: count == 2}}")
                    .replace("log: [1, 2]", "log: " + str(list(range(30)))))
    lines = model.step_lines(scenario.threads[1].steps)
    assert len(lines) == 3 and lines[2] == "  await: count == 2"
    assert lines[0].startswith("step a step text") and lines[1].startswith("     text")
    assert " ".join(lines[0][5:].split() + lines[1].split()) == text.strip()
    state = model.value_lines("log", scenario.state[2][1])
    assert state[0].startswith("log = [0, 1, 2,") and state[1].startswith("       ") and state[-1].endswith("29]")
    assert all(len(line) <= model.WIDTH for line in state + lines)
    assert " ".join(" ".join(state).split()) == "log = " + str(list(range(30)))


def test_markdown_puts_the_model_in_fenced_blocks(write_scenario):
    _, _, reports = reports_of(write_scenario)
    md = reports[".md"]
    model_part = md[md.index("\n## The model\n"):]
    assert "```text\n" + "\n".join(THREAD_LINES) + "\n```" in model_part
    assert "```text\nlock = False\ncount = 0\nlog = [1, 2]\n```" in model_part
    assert "### Thread `observer`\n" in model_part and "### Properties\n" in model_part


def test_json_holds_the_model_structured(write_scenario):
    _, _, reports = reports_of(write_scenario)
    doc = json.loads(reports[".json"])["model"]
    assert doc["params"] == [{"name": "mode", "value": "'fast'"}, {"name": "limit", "value": "2"}]
    assert doc["state"][2] == {"name": "log", "value": "[1, 2]"}
    assert (doc["deadlock"], doc["livelock"]) == ("allowed", "error")
    worker = doc["threads"][0]
    assert (worker["name"], worker["title"], worker["copies"]) == ("worker", "do_work()", 2)
    assert worker["locals"] == [{"name": "mine", "value": "0"}, {"name": "tries", "value": "0"}]
    lock, loop, call, unlock = worker["steps"]
    assert lock == {"kind": "step", "text": "spin_lock(&lock)", "line": 11, "await": "not lock",
                    "do": "lock = True\nmine = count", "label": "again", "goto": None}
    assert (loop["kind"], loop["condition"], loop["text"]) == ("while", "tries < limit", "for (;;)")
    branch = call["steps"][0]
    assert (call["kind"], branch["kind"], branch["condition"]) == ("call", "if", "mode == 'fast'")
    assert branch["else"][0]["goto"] == "out" and unlock["label"] == "out"
    assert doc["properties"] == [{"kind": "invariant", "name": "bounded", "expression": "count <= 2", "line": 33},
                                 {"kind": "final", "name": "both", "expression": "count == 2", "line": 35}]


def test_bounds_are_named_in_every_format(write_scenario):
    _, checked, reports = reports_of(write_scenario, max_states=100000, max_depth=50, timeout=30,
                                     max_memory=3 << 30)
    words = "Bounds: --max-states 100000, --max-depth 50, --timeout 30 s, --max-memory 3G; partial-order reduction on."
    for suffix in (".md", ".txt", ".html"):
        text = html_text(reports[suffix]) if suffix == ".html" else reports[suffix]
        assert " ".join(text.replace("`", "").split()).count(words) == 2, suffix
    bounds = json.loads(reports[".json"])["variants"][0]["bounds"]
    assert bounds == {"max_states": 100000, "max_depth": 50, "timeout": 30, "max_memory": 3 << 30,
                      "reduction": True, "hash_compact": False}


def test_default_and_missing_bounds_do_not_depend_on_the_machine(write_scenario):
    path = write_scenario(MODEL)
    scenario = load_scenario(path)
    variant = scenario.variants[0]
    default = check_variant(scenario, variant, Bounds(max_memory=default_memory()), hash_compact=True)
    bare = check_variant(scenario, variant, Bounds(), reduction=False)
    md = files.render_all([default, bare], path)[".md"]
    assert ("Bounds: `--max-states` none, `--max-depth` none, `--timeout` none, `--max-memory` default "
            "(half of the machine's memory); partial-order reduction on; states stored as 64-bit "
            "fingerprints (--hash-compact).") in md
    assert ("Bounds: `--max-states` none, `--max-depth` none, `--timeout` none, `--max-memory` none; "
            "partial-order reduction off (--no-reduction).") in md
    assert str(default_memory()) not in md
    assert json.loads(files.render_all([default], path)[".json"])["variants"][0]["bounds"]["max_memory"] == "default"


def test_mail_says_what_safe_promises_without_pointing_into_the_repository(write_scenario):
    _, checked, reports = reports_of(write_scenario)
    text = " ".join(reports[".txt"].split())
    assert ("What safe promises: every interleaving of the threads' atomic steps, with every choose() "
            "alternative, was covered within the bounds above, and in none of them does a checked property "
            "fail; the reduction preserves every checked property, so it cannot hide a violation.") in text
    assert "docs/" not in reports[".txt"] and ".md" not in reports[".txt"]
    assert text.count("What safe promises:") == 2                 # both variants are safe


def test_unreduced_safe_promise_does_not_mention_a_reduction(write_scenario):
    path = write_scenario(MODEL)
    scenario = load_scenario(path)
    checked = [check_variant(scenario, scenario.variants[0], reduction=False)]
    text = " ".join(mail.render_mail(checked, path).split())
    assert "was covered within the bounds above, and in none of them does a checked property fail. It is" in text
    assert "the reduction preserves" not in text


def test_mail_does_not_break_a_short_code_span():
    para = Para(("x" * 66 + " ", Code("same = False"), " and ", Code("a long span " * 4), "."))
    text = mail.mail_blocks([para])
    assert text.splitlines()[1].startswith("same = False and")
    assert "\x00" not in text and all(len(line) <= mail.WIDTH for line in text.splitlines())


def test_every_shipped_report_holds_its_model_in_every_format():
    for path in scenario_paths():
        checked = list(shipped(path))
        scenario = checked[0].scenario
        reports = files.render_all(checked, path)
        texts = {".md": reports[".md"], ".txt": reports[".txt"], ".html": html_text(reports[".html"])}
        for thread in scenario.threads:
            listing = model.step_lines(thread.steps)
            for suffix, text in texts.items():
                pad = "  " if suffix == ".txt" else ""
                if suffix == ".txt":       # folded to 75 columns as the mail folds code
                    lines = [part for line in listing for part in fold_code(pad + mail.ascii_text(line), mail.WIDTH)]
                else:
                    lines = listing
                assert "\n".join(lines) in text, (path, thread.name, suffix)
        doc = json.loads(reports[".json"])["model"]
        assert [t["name"] for t in doc["threads"]] == [t.name for t in scenario.threads], path
        assert [p["name"] for p in doc["properties"]] == [p.name for p in scenario.properties], path
        variants = json.loads(reports[".json"])["variants"]
        if scenario.memory == "lkmm":     # executions are bounded by their number only
            assert all(v["bounds"] == {"max_candidates": DEFAULT_MAX_CANDIDATES} for v in variants), path
        else:
            assert all(v["bounds"]["max_memory"] == "default" for v in variants), path
