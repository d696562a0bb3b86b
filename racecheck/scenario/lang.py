"""The code language: a small, safe subset of Python, checked by allow-list.

Scenario code (``do`` blocks, conditions, ``await``, invariants, final
checks) is parsed with Python's ``ast`` and every node is checked against the
allow-list below. Nothing here executes code: ``model.compile`` later turns a
checked tree into Python functions that touch only the state tuple and a few
helpers, so code is never handed to ``eval``/``exec`` as written.

Expressions: int/bool/str/None literals, names, ``a.b``, ``a[i]``,
``+ - * // %``, unary ``-``/``+``/``not``, ``and``/``or``, comparisons
(``is``/``is not`` only against ``None``), ``x if c else y``, tuple and list
literals, list comprehensions and generator expressions, and calls of
``len min max abs any all sum range``.
Statements: assignment (single target: name, field or element), augmented
assignment ``+= -= |= &=``, ``if/elif/else``, ``pass``, ``return``,
``assert EXPR, MESSAGE`` and ``x = choose(e1, e2, ...)``.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from dataclasses import dataclass

from racecheck.errors import Pos, ScenarioError, did_you_mean
from racecheck.scenario import lkmm_vocab, mistakes
from racecheck.scenario.values import MAX_LITERAL_DIGITS, literal_too_long, unprintable

FUNCTIONS = ("len", "min", "max", "abs", "any", "all", "sum", "range")
MAX_CODE_CHARS = 20_000
MAX_DEPTH = 60
LONG_LITERAL = f"integer literal is too long (more than {MAX_LITERAL_DIGITS} decimal digits)"

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%"}
_AUGOPS = {ast.Add: "+=", ast.Sub: "-=", ast.BitOr: "|=", ast.BitAnd: "&="}
_REFUSED_OPS = {ast.Pow: "'**'", ast.Div: "'/' (use '//')", ast.MatMult: "'@'",
                ast.LShift: "'<<'", ast.RShift: "'>>'", ast.BitOr: "'|'",
                ast.BitAnd: "'&'", ast.BitXor: "'^'", ast.Mult: "'*='",
                ast.FloorDiv: "'//='", ast.Mod: "'%='", ast.Invert: "'~'"}
_NODE_WORDS = {
    "Import": "import", "ImportFrom": "import", "Lambda": "lambda",
    "FunctionDef": "def", "AsyncFunctionDef": "def", "ClassDef": "class",
    "For": "'for' loops (use a while step or a comprehension)",
    "While": "'while' statements (use a while step)", "With": "with",
    "Try": "try", "Raise": "raise", "Global": "global", "Nonlocal": "nonlocal",
    "Delete": "del", "Dict": "dict literals (records come from the state)",
    "Set": "set literals", "SetComp": "set comprehensions",
    "DictComp": "dict comprehensions", "JoinedStr": "f-strings",
    "Starred": "'*' unpacking", "NamedExpr": "':='", "Await": "await",
    "Yield": "yield", "YieldFrom": "yield", "Slice": "slices",
    "Expr": "expression statements (assign the result, or use assert)",
    "AnnAssign": "annotated assignment", "Match": "match",
    "Break": "break", "Continue": "continue",
}


@dataclass(frozen=True)
class Origin:
    """Where a piece of code sits in its file: code line k is file line
    ``line + k - 1`` and its columns are shifted by ``col``. For a scalar
    whose text is not a plain copy of the file (folded over several lines,
    or quoted with escapes), ``columns`` maps line 1's characters instead:
    ``((file line, (file column of each character, ...)), ...)``."""

    file: str
    line: int
    col: int
    columns: tuple | None = None

    def pos(self, lineno: int | None, col: int | None) -> Pos:
        """The position of code line ``lineno``, character column ``col`` (from 0)."""
        lineno = lineno or 1
        col = col or 0
        if self.columns and lineno == 1:
            for line, cols in self.columns:
                if col < len(cols):
                    return Pos(self.file, line, cols[col] + 1)
                col -= len(cols) + 1
            line, cols = self.columns[-1]
            return Pos(self.file, line, (cols[-1] + 2) if cols else 1)
        return Pos(self.file, self.line + lineno - 1, col + self.col + 1)


@dataclass(frozen=True, eq=False)
class Code:
    """A checked piece of scenario code.

    ``names`` are the variables it mentions (shared, locals, params, tid);
    ``assigned`` the ones it assigns; ``fields`` the record fields it names.
    """

    text: str
    tree: ast.AST
    is_expr: bool
    origin: Origin
    names: frozenset
    assigned: frozenset
    has_choose: bool
    has_return: bool

    @property
    def pos(self) -> Pos:
        return self.origin.pos(1, 0)

    def one_line(self) -> str:
        return " ".join(self.text.split())


@dataclass
class Scope:
    """The names a piece of code may use, and what it is (for messages)."""

    where: str
    shared: frozenset
    locals: frozenset = frozenset()
    params: frozenset = frozenset()
    tid: bool = False
    fields: frozenset = frozenset()
    private: tuple = ()          # ((thread, its locals), ...) of every thread, for hints
    thread_locals: bool = False  # memory: lkmm final checks: THREAD.LOCAL reads a thread's local

    def owner(self, name: str) -> str | None:
        """The thread ``name`` is a local of, when it is not readable here."""
        return next((t for t, names in self.private if name in names), None)

    def readable(self) -> set:
        names = set(self.shared) | set(self.locals) | set(self.params)
        if self.tid:
            names.add("tid")
        return names


def parse_code(text: str, origin: Origin, scope: Scope, *, expr: bool,
               source_line=lambda n: "") -> Code:
    """Parse and check ``text``; raise ``ScenarioError`` with a position."""
    if origin.columns is None and "\n" not in text.strip("\n") and text[:1] in (" ", "\t"):
        lead = len(text) - len(text.lstrip(" \t"))      # leading blanks of one-line code
        origin = Origin(origin.file, origin.line, origin.col + lead)
        text = text[lead:]
    elif origin.columns is not None and text[:1] == " ":
        lead = len(text) - len(text.lstrip(" "))
        origin = Origin(origin.file, origin.line, origin.col,
                        tuple((line, cols[lead:] if i == 0 else cols) for i, (line, cols) in enumerate(origin.columns)))
        text = text[lead:]
    if len(text) > MAX_CODE_CHARS:
        raise ScenarioError(origin.pos(1, 0), f"code in {scope.where} is longer than {MAX_CODE_CHARS} characters")
    try:
        with warnings.catch_warnings():
            # Python only warns about some text (``1if x else 2``: "invalid
            # decimal literal"), on stderr with no file or line; here it is
            # a load error at its place, like any other syntax error
            warnings.simplefilter("error", SyntaxWarning)
            tree = ast.parse(_dedent(text), mode="eval" if expr else "exec")
    except SyntaxError as exc:
        pos = origin.pos(exc.lineno, _syntax_column(exc, _dedent(text)))
        what = "expression" if expr else "code"
        message = exc.msg
        found = mistakes.assignment_in_condition(_dedent(text)) if expr else None
        if found is not None:
            lineno, col, hint = found
            pos = origin.pos(lineno, col)
            raise ScenarioError(pos, f"'=' assigns, but this is a condition ({scope.where})", hint,
                                source_line(pos.line)) from None
        if "integer string conversion" in message:          # Python places it at the line's start
            message = LONG_LITERAL
            pos = _long_literal_pos(_dedent(text), origin) or pos
        raise ScenarioError(pos, f"syntax error in {what} of {scope.where}: {message}", "", source_line(pos.line)) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ScenarioError(origin.pos(1, 0), f"code in {scope.where} cannot be parsed: {type(exc).__name__}") from None
    checker = _Checker(origin, scope, source_line, _dedent(text).splitlines())
    try:
        if expr:
            checker.expr(tree.body, 0)
        else:
            if not tree.body:
                raise checker.error(None, f"empty code in {scope.where}")
            checker.block(tree.body, 0)
    except RecursionError:
        raise ScenarioError(origin.pos(1, 0), f"code in {scope.where} is nested too deeply") from None
    return Code(text=text, tree=tree, is_expr=expr, origin=origin,
                names=frozenset(checker.names), assigned=frozenset(checker.assigned),
                has_choose=checker.has_choose, has_return=checker.has_return)


def _long_literal_pos(text: str, origin: Origin) -> Pos | None:
    """Where the first decimal literal too long for Python to read starts."""
    match = re.search(r"(?<![\w.'\"])[0-9][0-9_]{%d,}" % MAX_LITERAL_DIGITS, text)
    if match is None:
        return None
    before = text[:match.start()]
    return origin.pos(before.count("\n") + 1, match.start() - (before.rfind("\n") + 1))


def _syntax_column(exc: SyntaxError, text: str) -> int:
    """The column (from 0) of a syntax error. Inside an f-string, Python 3.11
    reports offsets into the f-string's expression, not the line: then the
    error is placed at the f-string."""
    lines = text.splitlines()
    line = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else ""
    if exc.text is not None and exc.text.rstrip("\n") != line:
        match = re.search(r"""(?:[rRbB]?[fF]|[fF][rRbB])['"]""", line)
        return match.start() if match else 0
    return max((exc.offset or 1) - 1, 0)


def _dedent(text: str) -> str:
    return textwrap.dedent(text)


class _Checker:
    """Walks a tree and refuses, by name, anything outside the language."""

    def __init__(self, origin: Origin, scope: Scope, source_line, code_lines):
        self.origin = origin
        self.code_lines = code_lines
        self.scope = scope
        self.source_line = source_line
        self.names: set = set()
        self.assigned: set = set()
        self.has_choose = False
        self.has_return = False

    # -- errors ---------------------------------------------------------
    def error(self, node, message: str, hint: str = "") -> ScenarioError:
        lineno = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        if 0 < lineno <= len(self.code_lines):        # ast counts UTF-8 bytes; we count characters
            col = len(self.code_lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", "replace"))
        pos = self.origin.pos(lineno, col)
        return ScenarioError(pos, message, hint, self.source_line(pos.line))

    def refuse(self, node, what: str | None = None) -> ScenarioError:
        word = what or _NODE_WORDS.get(type(node).__name__, type(node).__name__)
        return self.error(node, f"{word} is not in the code language ({self.scope.where})")

    def _depth(self, node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise self.error(node, f"code in {self.scope.where} is nested more than {MAX_DEPTH} levels deep")
        return depth + 1

    # -- statements -----------------------------------------------------
    def block(self, stmts, depth: int) -> None:
        for stmt in stmts:
            self.stmt(stmt, depth)

    def stmt(self, node, depth: int) -> None:
        depth = self._depth(node, depth)
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or isinstance(node.targets[0], (ast.Tuple, ast.List)):
                raise self.error(node, f"assign one target at a time ({self.scope.where})")
            self.target(node.targets[0], depth)
            if lkmm_vocab.primitive_of(node.value)[1] is not None:
                self.kernel_call(node.value, depth, frozenset(), target=node.targets[0])
            elif _is_call_to(node.value, "choose"):
                self.choose(node.value, depth)
            else:
                self.expr(node.value, depth)
        elif isinstance(node, ast.AugAssign):
            if type(node.op) not in _AUGOPS:
                raise self.refuse(node, _REFUSED_OPS.get(type(node.op), "this operator"))
            self.target(node.target, depth, reads=True)
            self.expr(node.value, depth)
        elif isinstance(node, ast.If):
            self.expr(node.test, depth)
            self.block(node.body, depth)
            self.block(node.orelse, depth)
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.Return):
            if node.value is not None:
                raise self.error(node, f"'return' takes no value in scenario code ({self.scope.where})")
            self.has_return = True
        elif isinstance(node, ast.Assert):
            self.expr(node.test, depth)
            if node.msg is not None:
                self.expr(node.msg, depth)
        elif isinstance(node, ast.Expr) and lkmm_vocab.primitive_of(node.value)[1] is not None:
            self.kernel_call(node.value, depth, frozenset(), statement=True)
        else:
            if isinstance(node, ast.Expr) and _is_call_to(node.value, "choose"):
                raise self.error(node, f"choose() must be assigned: x = choose(a, b) ({self.scope.where})")
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                self.call(node.value, depth, frozenset())   # names a call that is not allowed
            assignment = mistakes.equality_as_assignment(node, "\n".join(self.code_lines))
            if assignment is not None:
                raise self.error(node, f"'==' compares, and its result is not used ({self.scope.where})",
                                 f"to assign, write '{assignment}'")
            raise self.refuse(node)

    def choose(self, node, depth: int) -> None:
        if node.keywords or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(node, f"choose() takes one or more alternatives, no keywords ({self.scope.where})")
        self.has_choose = True
        for arg in node.args:
            self.expr(arg, depth)

    def target(self, node, depth: int, reads: bool = False) -> None:
        base = node
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            if isinstance(base, ast.Attribute):
                self.other_thread(base)
                self.attribute_name(base)
            else:
                self.subscript_index(base, depth)
            base = base.value
        if not isinstance(base, ast.Name):
            raise self.error(node, f"cannot assign to this expression ({self.scope.where}); assign a name, a field or an element")
        name = base.id
        if name in self.scope.params:
            raise self.error(base, f"cannot assign to param '{name}' ({self.scope.where}); params are constants")
        if name == "tid":
            raise self.error(base, f"cannot assign to 'tid' ({self.scope.where}); it is the read-only instance number")
        if name not in self.scope.shared and name not in self.scope.locals:
            declared = set(self.scope.shared) | set(self.scope.locals)
            owner = self.scope.owner(name)
            raise self.error(base, f"assignment to undeclared name '{name}' ({self.scope.where}); declare it in state or in the thread's locals",
                             mistakes.SHARE_HINT.format(name=name, thread=owner) if owner else did_you_mean(name, declared))
        self.names.add(name)
        self.assigned.add(name)

    # -- expressions ----------------------------------------------------
    def expr(self, node, depth: int, bound: frozenset = frozenset()) -> None:
        depth = self._depth(node, depth)
        kind = type(node)
        if kind is ast.Constant:
            self.constant(node)
        elif kind is ast.Name:
            self.name(node, bound)
        elif kind is ast.Attribute and self.thread_local(node, depth, bound):
            return
        elif kind is ast.Attribute:
            self.other_thread(node, bound)
            self.attribute_name(node)
            self.expr(node.value, depth, bound)
        elif kind is ast.Subscript:
            self.subscript_index(node, depth, bound)
            self.expr(node.value, depth, bound)
        elif kind is ast.BinOp:
            if type(node.op) not in _BINOPS:
                raise self.refuse(node, _REFUSED_OPS.get(type(node.op), "this operator"))
            self.expr(node.left, depth, bound)
            self.expr(node.right, depth, bound)
        elif kind is ast.UnaryOp:
            if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
                raise self.refuse(node, _REFUSED_OPS.get(type(node.op), "this operator"))
            self.expr(node.operand, depth, bound)
        elif kind is ast.BoolOp:
            for value in node.values:
                self.expr(value, depth, bound)
        elif kind is ast.Compare:
            self.compare(node, depth, bound)
        elif kind is ast.IfExp:
            for part in (node.test, node.body, node.orelse):
                self.expr(part, depth, bound)
        elif kind in (ast.Tuple, ast.List):
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    raise self.refuse(elt)
                self.expr(elt, depth, bound)
        elif kind in (ast.ListComp, ast.GeneratorExp):
            self.comprehension(node, depth, bound)
        elif kind is ast.Call:
            self.call(node, depth, bound)
        else:
            raise self.refuse(node)

    def constant(self, node) -> None:
        value = node.value
        if type(value) is int and literal_too_long(value):
            raise self.error(node, f"{LONG_LITERAL} in {self.scope.where}",
                             "compute a large value at run time (a product of smaller ones)")
        if type(value) is str and unprintable(value):
            raise self.error(node, f"{unprintable(value)} in a string ({self.scope.where}); "
                             "strings must be printable (tabs and line breaks are fine)")
        if value is None or isinstance(value, (bool, int, str)):
            return
        if isinstance(value, float):
            raise self.error(node, f"floats are not values in racecheck ({self.scope.where}); use integers")
        raise self.refuse(node, f"the literal {value!r}")

    def name(self, node, bound: frozenset) -> None:
        name = node.id
        if name in bound:
            return
        if name in FUNCTIONS or name == "choose":
            raise self.error(node, f"'{name}' is a function; call it ({self.scope.where})")
        if name == "tid" and self.scope.tid:
            self.names.add(name)
            return
        if name in self.scope.readable():
            self.names.add(name)
            return
        if name == "tid":
            raise self.error(node, f"'tid' is not available in {self.scope.where}")
        message = f"unknown variable '{name}' in {self.scope.where}"
        owner = self.scope.owner(name)
        if owner is not None:
            raise self.error(node, f"{message}: it is a local of thread '{owner}', and a thread's locals are private",
                             mistakes.SHARE_HINT.format(name=name, thread=owner))
        hint = mistakes.LITERAL_HINTS.get(name.lower()) or (mistakes.THREAD_HINT if name in dict(self.scope.private) else
                                                    did_you_mean(name, self.scope.readable() | set(bound)))
        raise self.error(node, message, hint)

    def other_thread(self, node, bound: frozenset = frozenset()) -> None:
        """Refuse ``inc.x`` where ``inc`` is a thread: locals are private."""
        base = node.value
        if not isinstance(base, ast.Name) or base.id in bound or base.id in self.scope.readable():
            return
        names = dict(self.scope.private).get(base.id)
        if names is None:
            return
        if node.attr in names:
            raise self.error(node, f"'{base.id}.{node.attr}' names local '{node.attr}' of thread '{base.id}' "
                             f"({self.scope.where}); a thread's locals are private",
                             mistakes.SHARE_HINT.format(name=node.attr, thread=base.id))
        raise self.error(node, f"'{base.id}' is a thread, not a variable ({self.scope.where})", mistakes.THREAD_HINT)

    def attribute_name(self, node) -> None:
        attr = node.attr
        if attr.startswith("__"):
            raise self.error(node, f"dunder attribute '{attr}' is not in the code language ({self.scope.where})")
        if attr not in self.scope.fields:
            raise self.error(node, f"no record in this scenario has a field '{attr}' ({self.scope.where})",
                             did_you_mean(attr, self.scope.fields))

    def subscript_index(self, node, depth: int, bound: frozenset = frozenset()) -> None:
        if isinstance(node.slice, ast.Slice):
            raise self.refuse(node.slice)
        self.expr(node.slice, depth, bound)

    def compare(self, node, depth: int, bound: frozenset) -> None:
        operands = [node.left] + list(node.comparators)
        for i, op in enumerate(node.ops):
            if isinstance(op, (ast.Is, ast.IsNot)):
                left, right = operands[i], operands[i + 1]
                if not (_is_none(left) or _is_none(right)):
                    raise self.error(node, f"'is' and 'is not' compare only with None ({self.scope.where}); use '==' or '!='")
        for operand in operands:
            self.expr(operand, depth, bound)

    def comprehension(self, node, depth: int, bound: frozenset) -> None:
        inner = set(bound)
        for gen in node.generators:
            if gen.is_async:
                raise self.refuse(gen, "async comprehensions")
            self.expr(gen.iter, depth, frozenset(inner))
            for name in self.comprehension_target(gen.target):
                inner.add(name)
            for cond in gen.ifs:
                self.expr(cond, depth, frozenset(inner))
        self.expr(node.elt, depth, frozenset(inner))

    def comprehension_target(self, target) -> list:
        names = [target] if isinstance(target, ast.Name) else (
            list(target.elts) if isinstance(target, ast.Tuple) else None)
        if names is None or not all(isinstance(n, ast.Name) for n in names):
            raise self.error(target, f"a comprehension variable must be a name or a tuple of names ({self.scope.where})")
        for n in names:
            if n.id in FUNCTIONS or n.id == "tid" or n.id in self.scope.readable():
                raise self.error(n, f"comprehension variable '{n.id}' hides a variable or function of the same name ({self.scope.where})")
        return [n.id for n in names]

    def call(self, node, depth: int, bound: frozenset) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.error(node, f"only the functions {', '.join(FUNCTIONS)} can be called ({self.scope.where})")
        if func.id == "choose":
            raise self.error(node, f"choose() may only be the whole right side of an assignment ({self.scope.where})")
        if func.id in lkmm_vocab.PRIMITIVES:
            self.kernel_call(node, depth, bound)
            return
        if func.id not in FUNCTIONS:
            raise self.error(node, f"call to '{func.id}' is not allowed ({self.scope.where}); the functions are {', '.join(FUNCTIONS)}",
                             did_you_mean(func.id, FUNCTIONS))
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(node, f"{func.id}() takes positional arguments only ({self.scope.where})")
        if not node.args:
            raise self.error(node, f"{func.id}() needs an argument ({self.scope.where})")
        for arg in node.args:
            self.expr(arg, depth, bound)

    # -- the kernel's vocabulary (scenario.lkmm_vocab) -------------------
    def kernel_call(self, node, depth: int, bound: frozenset, statement: bool = False, target=None) -> None:
        name = node.func.id
        prim = lkmm_vocab.PRIMITIVES[name]
        if not statement and target is None and prim.kind != "read":
            raise self.error(node, f"{name}() {_PLACES[prim.kind]} ({self.scope.where})")
        if target is not None and prim.kind in lkmm_vocab.STATEMENT_ONLY:
            raise self.error(node, f"{name}() returns no value; write it as a statement of its own "
                             f"({self.scope.where})")
        if node.keywords or len(node.args) != prim.arity or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(node, f"{name}() takes {prim.arity} argument{'s' if prim.arity != 1 else ''}"
                             f" ({self.scope.where})", f"as in {_example(name, prim)}")
        for i, arg in enumerate(node.args):
            if i == prim.loc:
                self.kernel_location(name, prim, arg)
            else:
                self.expr(arg, depth, bound)
        if target is not None and prim.kind == "rmw":
            base = target
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if any(isinstance(n, ast.Name) and n.id == base.id for a in node.args for n in ast.walk(a)):
                raise self.error(target, f"'{base.id}' is assigned the result of {name}() and is also one "
                                 f"of its arguments ({self.scope.where}); use another local")

    def kernel_location(self, name: str, prim, arg) -> None:
        root = lkmm_vocab.root_of(arg)
        if root is None or root.id not in self.scope.shared or lkmm_vocab.path_of(arg) is None:
            raise self.error(arg, f"{name}() takes a shared variable as its location, or a field or "
                             f"constant element of one ({self.scope.where})",
                             f"as in {_example(name, prim)}, where the variable is declared in state")
        self.expr(arg, 0)                       # fields named must exist
        if prim.kind != "read":
            self.assigned.add(root.id)

    def thread_local(self, node, depth: int, bound: frozenset) -> bool:
        """``THREAD.LOCAL`` or ``THREAD[i].LOCAL`` in a memory: lkmm final
        check: True when ``node`` is one (and it is recorded)."""
        if not self.scope.thread_locals:
            return False
        base = node.value
        index = None
        if isinstance(base, ast.Subscript):
            base, index = base.value, base.slice
        if not isinstance(base, ast.Name) or base.id in bound or base.id in self.scope.readable():
            return False
        names = dict(self.scope.private).get(base.id)
        if names is None:
            return False
        if node.attr not in names:
            raise self.error(node, f"thread '{base.id}' has no local '{node.attr}' ({self.scope.where})",
                             did_you_mean(node.attr, names))
        if index is not None:
            self.expr(index, depth, bound)
        self.names.add(f"{base.id}.{node.attr}")
        return True


_PLACES = {"write": "writes; it must be a statement of its own",
           "fence": "is a barrier; it must be a statement of its own",
           "update": "returns no value; it must be a statement of its own",
           "lock": "must be the first statement of a step's do (it waits for the lock)",
           "unlock": "must be a statement of its own",
           "rmw": "is an atomic read-modify-write: write it as a statement, or as the whole right side of "
                  "an assignment (t = ...)"}


def _example(name: str, prim) -> str:
    args = ["x", "v", "new"][:prim.arity]
    if prim.op == "cmpxchg":
        args = ["x", "old", "new"]
    elif prim.loc == 1:
        args = ["v", "x"]
    return f"{name}({', '.join(args)})"


def _is_call_to(node, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _is_none(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
