"""The report files of one scenario file: Markdown, plain text, JSON, HTML.

``render_all`` gives every report as text, keyed by file suffix; it is pure,
so a test can compare it with committed reports without writing anything.
``write_reports`` writes them as ``<stem>.md``, ``<stem>.txt`` (the mail
form), ``<stem>.json`` and ``<stem>.html``, where ``<stem>`` is the scenario
file's name without ``.yaml``. The JSON is indented by 2 with sorted keys
and ends with a newline, so that its diffs are line diffs.
"""

from __future__ import annotations

import json
import os

from racecheck.report.html import render_html
from racecheck.report.jsonreport import to_json
from racecheck.report.mail import render_mail
from racecheck.report.markdown import render_markdown

SUFFIXES = (".md", ".txt", ".json", ".html")


def render_all(checked: list, path: str) -> dict:
    """``{".md": ..., ".txt": ..., ".json": ..., ".html": ...}`` for one scenario file."""
    return {".md": render_markdown(checked, path),
            ".txt": render_mail(checked, path),
            ".json": json_text(to_json(checked, path)),
            ".html": render_html(checked, path)}


def json_text(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def report_stem(path: str) -> str:
    """``scenarios/dirty_unlocked.yaml`` -> ``dirty_unlocked``."""
    name = os.path.basename(path)
    for ending in (".yaml", ".yml"):
        if name.endswith(ending):
            return name[:-len(ending)]
    return name


def write_reports(checked: list, path: str, out_dir: str) -> list:
    """Write the reports of one scenario file into ``out_dir`` (created if
    missing); return the paths written, in ``SUFFIXES`` order."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for suffix, text in render_all(checked, path).items():
        target = os.path.join(out_dir, report_stem(path) + suffix)
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        written.append(target)
    return written
