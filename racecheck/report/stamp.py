"""What a report was made from, and whether it still is: the stamp.

Every report carries a *stamp*: the scenario file's path (as given on the
command line), the SHA-256 of that file's bytes as read when the report was
written, and the version of racecheck that wrote it. In the Markdown, mail
and HTML forms it is three preformatted lines near the top::

    scenario:  scenarios/dirty_unlocked.yaml
    sha256:    5c0f...e1 (64 hex digits)
    racecheck: 0.1.0

and in the JSON form the fields ``file``, ``scenario_sha256`` and
``racecheck_version``. ``check_reports(dir)`` reads the stamp back from each
report in a directory and says whether it still matches: the scenario file's
bytes (not its meaning: a changed comment makes a report stale too) and the
running racecheck's version. Scenario paths are resolved from the current
directory, as the replay commands in the reports are. It does not check that
the rest of a report is what racecheck would write today; regenerating and
comparing does that (tests/test_reports.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from html import unescape

import racecheck
from racecheck.errors import UsageError

REPORT_SUFFIXES = (".md", ".txt", ".json", ".html")
_KEYS = ("scenario:", "sha256:", "racecheck:")
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Stamp:
    file: str          # the scenario file, as given on the command line
    sha256: str        # of its bytes, 64 lowercase hex digits
    version: str       # of the racecheck that wrote the report

    def lines(self) -> tuple:
        """The stamp as the text forms print it (never wrapped)."""
        return (f"scenario:  {self.file}", f"sha256:    {self.sha256}", f"racecheck: {self.version}")


def version() -> str:
    """The running racecheck's version (read at each call, so that tests can change it)."""
    return racecheck.__version__


def file_sha256(path: str) -> str:
    """The SHA-256 of a file's bytes; a file that cannot be read is a usage error."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
    except OSError as exc:
        raise UsageError(f"cannot read {path} to compute its SHA-256: {exc.strerror or exc}") from None
    return digest.hexdigest()


def stamp_of(path: str) -> Stamp:
    """The stamp of a report written now from the scenario file ``path``."""
    return Stamp(path, file_sha256(path), version())


# -- reading a stamp back -------------------------------------------------------------


def read_stamp(report_path: str) -> Stamp | None:
    """The stamp a report file carries, or None if it carries none.
    A file that cannot be read is a usage error."""
    try:
        with open(report_path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {report_path}: {getattr(exc, 'strerror', None) or exc}") from None
    if report_path.endswith(".json"):
        return _json_stamp(text)
    if report_path.endswith(".html"):
        text = unescape(re.sub(r"<[^>]*>", "", text))
    return _text_stamp(text)


def _json_stamp(text: str) -> Stamp | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    fields = [data.get(key) for key in ("file", "scenario_sha256", "racecheck_version")]
    if not all(isinstance(f, str) for f in fields) or not _HEX.fullmatch(fields[1]):
        return None
    return Stamp(*fields)


def _text_stamp(text: str) -> Stamp | None:
    lines = [line.strip() for line in text.splitlines()]
    for n in range(len(lines) - 2):
        if all(lines[n + k].startswith(key) for k, key in enumerate(_KEYS)):
            values = [lines[n + k][len(key):].strip() for k, key in enumerate(_KEYS)]
            if _HEX.fullmatch(values[1]):
                return Stamp(*values)
    return None


# -- checking a directory of reports ----------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """One report's stamp compared with its scenario file and this racecheck."""

    report: str
    stamp: Stamp | None
    problems: tuple            # empty when the report is up to date

    def describe(self) -> str:
        if not self.problems:
            return f"{self.report}: up to date ({self.stamp.file}, racecheck {self.stamp.version})"
        return f"{self.report}: STALE: " + "; ".join(self.problems)


def freshness(report_path: str) -> Freshness:
    stamp = read_stamp(report_path)
    if stamp is None:
        return Freshness(report_path, None, ("it carries no racecheck stamp (written before reports "
                                             "carried one, or not a racecheck report)",))
    problems = []
    if not os.path.isfile(stamp.file):
        where = "" if os.path.isabs(stamp.file) else " (a relative path is looked up from the current directory)"
        problems.append(f"its scenario file {stamp.file} is missing{where}")
    else:
        now = file_sha256(stamp.file)
        if now != stamp.sha256:
            problems.append(f"{stamp.file} has changed since (SHA-256 {stamp.sha256[:12]}..., now {now[:12]}...)")
    if stamp.version != version():
        problems.append(f"written by racecheck {stamp.version}; this is racecheck {version()}")
    return Freshness(report_path, stamp, tuple(problems))


def report_files(directory: str) -> list:
    """The report files (by suffix) in ``directory``, sorted; a usage error if
    it is not a directory or holds none."""
    if not os.path.isdir(directory):
        raise UsageError(f"--check: {directory} is not a directory")
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise UsageError(f"cannot list {directory}: {exc.strerror or exc}") from None
    found = [os.path.join(directory, n) for n in names
             if n.endswith(REPORT_SUFFIXES) and os.path.isfile(os.path.join(directory, n))]
    if not found:
        raise UsageError(f"--check: no reports (*.md, *.txt, *.json, *.html) in {directory}")
    return found


def check_reports(directory: str) -> list:
    """A ``Freshness`` for every report in ``directory``."""
    return [freshness(path) for path in report_files(directory)]


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 report``, ``2 reports``, ``0 reports``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
