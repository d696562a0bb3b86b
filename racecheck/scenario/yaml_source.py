"""Reading YAML text into positioned nodes, safely and as YAML 1.2.

PyYAML composes the text into nodes (no object construction, so no tags can
run code); this module turns the nodes into ``YNode`` values that remember
their file position. Scalars are resolved by the YAML 1.2 core schema: only
``true``/``false`` are booleans, ``yes``/``no``/``on``/``off`` stay strings.
Duplicate keys, floats, explicit non-standard tags, aliases that expand
without bound ("billion laughs") and oversized files are refused.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field

import yaml

from racecheck.errors import Pos, ScenarioError
from racecheck.scenario.yaml_errors import explain
from racecheck.scenario.values import MAX_LITERAL_DIGITS, literal_too_long, unprintable

MAX_FILE_BYTES = 1 << 18          # 256 KiB: scenario files are hand-written (the largest shipped is 11 KB);
                                  # PyYAML reads about 150 KB a second
MAX_NODES = 200_000               # nodes after alias expansion
MAX_NESTING = 100                 # mappings and lists inside each other

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$"
)
_STD = "tag:yaml.org,2002:"


class _Resolver12(yaml.resolver.Resolver):
    """Resolver that leaves every plain scalar as a string; we resolve them."""

    yaml_implicit_resolvers: dict = {}


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
              yaml.composer.Composer, _Resolver12):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver12.__init__(self)

    def compose_scalar_node(self, anchor):
        event = self.peek_event()
        node = super().compose_scalar_node(anchor)
        if event.tag is not None and event.tag != "!":
            node.explicit_tag = event.tag
        return node


@dataclass
class YNode:
    """A YAML value with the position it was written at.

    ``value`` is a scalar (str, int, bool, None), a ``list`` of YNodes or a
    ``dict`` from str keys to YNodes; ``key_pos`` gives each key's position.
    ``style`` is the scalar style (None for plain, '|' or '>' for block).
    """

    value: object
    pos: Pos
    style: str | None = None
    key_pos: dict = field(default_factory=dict)

    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    def is_list(self) -> bool:
        return isinstance(self.value, list)


_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")      # YAML's line breaks


class Source:
    """The text of one scenario file, for positions and caret lines."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self.lines = _BREAK.split(text)

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def error(self, pos: Pos | None, message: str, hint: str = "") -> ScenarioError:
        line = self.line(pos.line) if pos else ""
        return ScenarioError(pos, message, hint, line)

    def pos(self, mark) -> Pos:
        return Pos(self.path, mark.line + 1, mark.column + 1)


def read_source(path: str) -> Source:
    """Read a scenario file, refusing what cannot be a scenario."""
    try:
        data = read_regular_file(path, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(Pos(path, 1, 1), cannot_read(path, exc)) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(Pos(path, 1, 1), f"file is larger than {MAX_FILE_BYTES} bytes; scenario files are hand-written and small")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = _text_pos(Source(path, ""), data[:exc.start].decode("utf-8", "replace"), len(data[:exc.start]
                                                                                          .decode("utf-8", "replace")))
        raise ScenarioError(pos, f"file is not UTF-8 text: byte 0x{data[exc.start]:02x} "
                            "cannot be decoded") from None
    return Source(path, text)


class NotRegularFile(OSError):
    """The path names a directory, a named pipe, a device or a socket."""

    def __init__(self, kind: str):
        super().__init__(f"it is {kind}, not a regular file")
        self.kind = kind


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def read_regular_file(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file at ``path``.

    The file is opened without blocking and checked before it is read: a
    named pipe with no writer would make a plain ``open()`` wait forever, and
    a device such as /dev/zero never ends. Raises ``OSError`` (``ELOOP`` for
    a symbolic link loop, ``NotRegularFile`` for anything but a file)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(next((kind for test, kind in _KINDS if test(mode)), "not a regular file"))
        return handle.read(limit)


def cannot_read(path: str, exc: OSError) -> str:
    """Why ``path`` cannot be read, in words (symbolic link loops named as such)."""
    if isinstance(exc, NotRegularFile):
        return f"cannot read {exc.kind}: a scenario is a regular YAML file"
    if exc.errno == errno.ELOOP:
        return "cannot read file: symbolic link loop (a link on this path leads back to itself)"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"cannot read file: it is a symbolic link to '{target}', which does not exist"
    return f"cannot read file: {exc.strerror or exc}"


def parse_yaml(source: Source) -> YNode:
    """Compose the YAML text and convert it to positioned nodes."""
    try:
        _scan(source)
        root = yaml.compose(source.text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark, message, hint = explain(exc, source.lines)
        pos = source.pos(mark) if mark else Pos(source.path, 1, 1)
        raise source.error(pos, f"YAML syntax error: {message}", hint) from None
    except yaml.reader.ReaderError as exc:
        pos = _text_pos(source, source.text, exc.position)
        raise source.error(pos, f"character {exc.character!r} is not allowed in a YAML file") from None
    except yaml.YAMLError as exc:
        raise source.error(Pos(source.path, 1, 1), f"YAML error: {exc}") from None
    if root is None:
        raise source.error(Pos(source.path, 1, 1), "the file is empty; a scenario starts with 'racecheck: 1'")
    return _convert(root, source, [MAX_NODES])


def _scan(source: Source) -> None:
    """Refuse, before composing, what would make composing blow up.

    Walks the parser's events (no recursion): nesting deeper than
    MAX_NESTING, an alias to a collection that contains it (recursive), and
    aliases that together expand to more than MAX_NODES values (a "billion
    laughs" bomb) are refused at the event's position.
    """
    sizes: dict = {}            # anchor -> values it expands to
    open_: list = []            # (values expanded before it, anchor) per open collection
    expanded = 0
    for event in yaml.parse(source.text, Loader=_Loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(open_) >= MAX_NESTING:
                raise source.error(source.pos(event.start_mark),
                                   f"YAML nesting is too deep: more than {MAX_NESTING} levels")
            open_.append((expanded, event.anchor))
            expanded += 1
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            before, anchor = open_.pop()
            if anchor is not None:
                sizes[anchor] = expanded - before
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                if any(anchor == event.anchor for _, anchor in open_):
                    raise source.error(source.pos(event.start_mark),
                                       f"recursive YAML alias '*{event.anchor}': it refers to a value that contains it")
                continue                  # undefined: the composer says so
            expanded += sizes[event.anchor]
            if expanded > MAX_NODES:
                raise source.error(source.pos(event.start_mark),
                                   f"YAML aliases expand the document to more than {MAX_NODES} values "
                                   "(an alias bomb?)")


def _text_pos(source: Source, text: str, index: int) -> Pos:
    """The position of ``text[index]``, counting lines as YAML does."""
    breaks = list(_BREAK.finditer(text, 0, index))
    start = breaks[-1].end() if breaks else 0
    return Pos(source.path, len(breaks) + 1, index - start + 1)


def _convert(node, source: Source, budget: list) -> YNode:
    budget[0] -= 1
    if budget[0] < 0:
        raise source.error(source.pos(node.start_mark),
                           f"the document expands to more than {MAX_NODES} values (an alias bomb?)")
    pos = source.pos(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        _check_tag(node, _STD + "map", source)
        result: dict = {}
        key_pos: dict = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, source, budget)
            if not isinstance(key.value, str):
                raise source.error(key.pos, f"mapping keys must be names, not {spell(key.value)}")
            if key.value in result:
                raise source.error(key.pos, f"duplicate key '{key.value}' (first at line {key_pos[key.value].line})")
            result[key.value] = _convert(value_node, source, budget)
            key_pos[key.value] = key.pos
        return YNode(result, pos, None, key_pos)
    if isinstance(node, yaml.SequenceNode):
        _check_tag(node, _STD + "seq", source)
        return YNode([_convert(item, source, budget) for item in node.value], pos)
    value = _scalar(node, source)
    if isinstance(value, str) and unprintable(value):
        raise source.error(pos, f"{unprintable(value)} in a string; "
                           "scenario text must be printable (tabs and line breaks are fine)")
    return YNode(value, pos, node.style)


def _check_tag(node, default: str, source: Source) -> None:
    if node.tag != default:
        raise source.error(source.pos(node.start_mark), f"YAML tag '{node.tag}' is not supported")


def _scalar(node, source: Source):
    text, pos = node.value, source.pos(node.start_mark)
    explicit = getattr(node, "explicit_tag", None)
    if explicit is None:
        if node.style is not None:
            return text                   # quoted or block scalar: a string
        return _resolve_plain(text, pos, source)
    if explicit == _STD + "str":
        return text
    if explicit in (_STD + "int", _STD + "bool", _STD + "null"):
        value = _resolve_plain(text, pos, source)
        expected = {_STD + "int": int, _STD + "bool": bool, _STD + "null": type(None)}[explicit]
        if type(value) is expected:
            return value
        raise source.error(pos, f"'{text}' is not a valid {explicit[len(_STD):]}")
    raise source.error(pos, f"YAML tag '{explicit}' is not supported")


def spell(value) -> str:
    """A value as YAML would write it, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _resolve_plain(text: str, pos: Pos, source: Source):
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT.match(text):
        short = len(text) <= MAX_LITERAL_DIGITS + 1          # a sign and the digits: int() can read it
        value = (int(text, 0) if text[:2] in ("0o", "0x") else int(text)) if short else None
        if value is None or literal_too_long(value):
            raise source.error(pos, f"integer literal is too long (more than {MAX_LITERAL_DIGITS} decimal digits)")
        return value
    if _FLOAT.match(text):
        raise source.error(pos, f"'{text}' is a float; racecheck values are booleans, integers, strings, null, lists and records")
    return text
