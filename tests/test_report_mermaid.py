"""The Mermaid sequence diagram in Markdown reports: its shape, and that no
text in a scenario can break out of a label."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

from racecheck.report import markdown, mermaid
from racecheck.report.files import render_all

sys.path.insert(0, os.path.dirname(__file__))
from test_report_stamp import LOST_UPDATE  # noqa: E402
from test_reports import INITIAL, LIVELOCK, SEED, check_text, shipped  # noqa: E402

PARAM_BRANCH = "      - if: checked == 'yes'\n        then:\n          - {step: never, do: x = 0}\n"
LOST_UPDATE = (LOST_UPDATE.replace("state:", "params: {checked: 'no'}\nstate:")
               .replace("    steps:\n", "    steps:\n" + PARAM_BRANCH))

ODD = 'a;b #c <d> "e" \'f\' %%{init: {}}%% `g` \\h &amp; style x fill:#f00; classDef k end -->> T1'

HOSTILE = (
    "racecheck: 1\ntitle: odd text\nstate: {s: '', x: 0}\nthreads:\n  w:\n"
    f"    title: {json.dumps('wrap: ' + ODD)}\n    steps:\n"
    f"      - step: {json.dumps('wrap: ' + ODD)}\n        do: s = 'x'\n"
    "      - {step: check, do: \"assert x == 1, 'no; #1 <b>'\"}\n")

ENTITY = re.compile(r"#(\d+|[a-z]+);")
NAMED = {"lt": "<", "gt": ">", "quot": '"', "amp": "&"}


def blocks(md: str) -> list:
    return [b.splitlines() for b in re.findall(r"(?ms)^```mermaid\n(.*?)^```$", md)]


def decode(text: str) -> str:
    return ENTITY.sub(lambda m: chr(int(m.group(1))) if m.group(1).isdigit() else NAMED[m.group(1)], text)


def test_markdown_has_one_mermaid_block_per_counterexample():
    checked = list(shipped(SEED))
    md = markdown.render_markdown(checked, SEED)
    found = blocks(md)
    assert len(found) == sum(1 for c in checked if c.trace is not None) == 3
    assert all(b[0] == "sequenceDiagram" for b in found)
    unlocked = md[md.index("## Variant `unlocked`"):md.index("## Variant `unlocked_kernel`")]
    assert unlocked.index("```text\nreclaim") < unlocked.index("```mermaid\n") < unlocked.index("```python\n")
    assert "mermaid" not in render_all(checked, SEED)[".txt"] and "mermaid" not in render_all(checked, SEED)[".html"]


def test_seed_diagram_lines():
    lines = mermaid.sequence_diagram(shipped(SEED)[1])
    assert lines[:4] == ["sequenceDiagram",
                         "    participant T0 as reclaim<br/>shrink_folio_list()",
                         "    participant S as shared state",
                         "    participant T1 as writeback<br/>zswap_writeback_entry()"]
    assert "    Note over T1: entry = zswap_entry_find()<br/>entry = 1" in lines
    assert "    Note over T0: if (dirty) -#gt; False" in lines
    assert "    T1->>S: set_page_dirty(page)<br/>folio.dirty: False -#gt; True" in lines
    assert lines.index("    T0->>S: __remove_mapping(folio)<br/>folio.swapcache: True -#gt; False<br/>"
                       "folio.present: True -#gt; False") < lines.index(
        "    T1->>S: set_page_dirty(page)<br/>folio.dirty: False -#gt; True")
    assert lines[-1] == ("    Note over T0,T1: invariant page_not_lost is violated:<br/>pte == 'folio' or folio.present "
                         "or zswap != 0 or disk<br/>where pte = 'swap', folio.present = False, zswap = 0, disk = False")
    assert not any("writeback == 'trylock'" in line or "put == " in line for line in lines)   # params only


def test_a_write_of_the_same_value_is_still_a_shared_write(write_scenario):
    _, checked = check_text(write_scenario, LOST_UPDATE)
    lines = mermaid.sequence_diagram(checked[0])
    writes = [line for line in lines if "->>S: counter = x + 1" in line]
    assert writes[-1].endswith("counter: 1 -#gt; 1")
    assert lines[1:4] == ["    participant T0 as inc#35;0", "    participant S as shared state",
                          "    participant T1 as inc#35;1"]
    assert not any("checked" in line for line in lines)


def test_livelock_cycle_is_a_loop_and_initial_rows_are_marked(write_scenario):
    _, livelock = check_text(write_scenario, LIVELOCK)
    lines = mermaid.sequence_diagram(livelock[0])
    start = lines.index("    loop from here on, these steps can repeat forever")
    assert "    end" in lines[start:] and lines[-1].startswith("    Note over ")
    _, initial = check_text(write_scenario, INITIAL)
    lines = mermaid.sequence_diagram(initial[0])
    assert lines[4:6] == ["    rect rgb(240, 240, 240)",
                          "    Note over T0,T1: initially, before the first scheduled step:"]
    assert lines[6].startswith("    Note over T0: pick") and lines[8] == "    end"


def test_escaping_keeps_every_label_on_its_own_and_exact(write_scenario):
    _, checked = check_text(write_scenario, HOSTILE)
    lines = mermaid.sequence_diagram(checked[0])
    for line in lines[1:]:
        plain = ENTITY.sub("", line).replace("<br/>", "").replace("->>", "")
        assert not set(plain) & set('#;<>"%`\\&'), line
        assert "style" not in line and "classDef" not in line and ": wrap:" not in line
    text = ODD
    def shown(line):
        return decode(line).replace("<br/>", " ")
    assert shown(lines[1]) == f"    participant T0 as w wrap: {text}"
    assert shown(lines[3]) == f"    T0->>S: wrap: {text} s: '' -> 'x'"
    assert shown(lines[-2]) == "    Note over T0: assert fails: no; #1 <b>"


@pytest.mark.parametrize("raw, escaped", [
    ("a;b", "a#59;b"), ("#1", "#35;1"), ("<br>", "#lt;br#gt;"), ('"q"', "#quot;q#quot;"),
    ("100%", "100#37;"), ("`x`", "#96;x#96;"), ("a\\b", "a#92;b"), ("x & y", "x #amp; y"),
    ("restyle", "re#115;tyle"), ("classDef", "#99;lassDef"), ("wrap: x", "#119;rap: x"),
    ("nowrap: x", "#110;owrap: x"), ("line\nbreak", "line break"), ("plain_text(x)", "plain_text(x)"),
])
def test_escape(raw, escaped):
    assert mermaid.escape(raw) == escaped
    assert decode(escaped) == raw.replace("\n", " ")


def test_long_labels_are_broken_into_lines():
    text = "write_cache_pages(): folio_lock(B); folio_start_writeback(B); folio_unlock(B); submit_bio()"
    lines = mermaid.label(text).split("<br/>")
    assert len(lines) == 3 and all(len(decode(line)) <= mermaid.LINE for line in lines)
    assert decode(" ".join(lines)) == text


def test_no_counterexample_no_diagram():
    with pytest.raises(ValueError):
        mermaid.sequence_diagram(shipped(SEED)[2])
