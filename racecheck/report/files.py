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

from racecheck.errors import UsageError

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
    try:
        os.makedirs(out_dir, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"cannot create the report directory {out_dir}: a file of that name exists") from None
    except OSError as exc:
        raise UsageError(f"cannot create the report directory {out_dir}: {exc.strerror or exc}") from None
    written = []
    for suffix, text in render_all(checked, path).items():
        target = os.path.join(out_dir, report_stem(path) + suffix)
        write_text(target, text)
        written.append(target)
    return written


def write_text(target: str, text: str, parents: bool = False) -> None:
    """Write ``text`` to the file ``target`` (with ``parents``, creating its
    directory first); a path that cannot be written (a directory, a missing
    directory, no permission) is a usage error."""
    try:
        if parents and os.path.dirname(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
