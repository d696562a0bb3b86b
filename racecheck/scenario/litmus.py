"""Parse C litmus tests, the format of the kernel's
tools/memory-model/litmus-tests, into a ``LitmusTest``.

    C MP+pooncerelease+poacquireonce          header: C and the test name
    (* Result: Never *)                        comments; Result: is kept
    { x=0; y=z; 0:r1=2; }                      initial values (optional)
    P0(int *x, int *y) { WRITE_ONCE(*x, 1); smp_store_release(y, 1); }
    P1(int *x, int *y) { int r0; int r1; r0 = smp_load_acquire(y); ... }
    exists (1:r0=1 /\\ 1:r1=0)                 or ~exists, forall

Thread bodies are a small C: declarations (``int r0;``, ``int *r1 = x;``),
assignments, expression statements, ``if``/``else`` and blocks, with the
kernel primitives named in ``CALLS``. What the format allows but racecheck
does not model yet (loops, arrays, other architectures, ...)
raises ``LitmusUnsupported`` naming the feature; what is not a litmus test
at all raises ``ScenarioError`` with the file and line. Nothing here gives
the code a meaning: ``model.lkmm_litmus`` runs it.
"""

from __future__ import annotations

import difflib
import re

from racecheck.errors import Pos, ScenarioError
# the tree is part of this module's interface: model.lkmm_litmus reads L.Call, L.If, ...
from racecheck.scenario.litmus_syntax import (  # noqa: F401
    AddrOf, Assign, Atom, Binary, Call, Decl, Deref, ExprStmt, If, Lexer, LitmusTest, Name, Num, Prop,
    ThreadDef, Tok, Unary)


class LitmusUnsupported(ScenarioError):
    """A valid litmus feature racecheck does not model yet."""

    def __init__(self, pos: Pos | None, feature: str, source_line: str = ""):
        super().__init__(pos, f"unsupported: {feature}", source_line=source_line)
        self.feature = feature


# name -> number of arguments, for every primitive the interpreter knows
_FENCES = ("smp_mb", "smp_rmb", "smp_wmb", "smp_mb__before_atomic", "smp_mb__after_atomic",
           "smp_mb__after_spinlock", "smp_mb__after_unlock_lock", "barrier", "rcu_read_lock",
           "rcu_read_unlock", "synchronize_rcu", "synchronize_rcu_expedited")
CALLS = {name: 0 for name in _FENCES}
CALLS.update({"READ_ONCE": 1, "WRITE_ONCE": 2, "smp_load_acquire": 1, "smp_store_release": 2,
              "rcu_dereference": 1, "rcu_assign_pointer": 2, "smp_store_mb": 2,
              "atomic_read": 1, "atomic_set": 2, "atomic_read_acquire": 1, "atomic_set_release": 2,
              "spin_lock": 1, "spin_unlock": 1, "spin_trylock": 1, "spin_is_locked": 1,
              "atomic_add": 2, "atomic_sub": 2, "atomic_inc": 1, "atomic_dec": 1,
              "atomic_sub_and_test": 2, "atomic_dec_and_test": 1, "atomic_inc_and_test": 1,
              "atomic_add_negative": 2, "atomic_add_unless": 3,
              "srcu_read_lock": 1, "srcu_read_unlock": 2, "srcu_down_read": 1, "srcu_up_read": 2,
              "synchronize_srcu": 1, "synchronize_srcu_expedited": 1, "smp_mb__after_srcu_read_unlock": 0})
for _order in ("", "_relaxed", "_acquire", "_release"):
    for _base in ("xchg", "atomic_xchg"):
        CALLS[_base + _order] = 2
    for _base in ("cmpxchg", "atomic_cmpxchg"):
        CALLS[_base + _order] = 3
    for _op in ("add", "sub"):
        CALLS[f"atomic_{_op}_return{_order}"] = 2
        CALLS[f"atomic_fetch_{_op}{_order}"] = 2
    for _op in ("inc", "dec"):
        CALLS[f"atomic_{_op}_return{_order}"] = 1
        CALLS[f"atomic_fetch_{_op}{_order}"] = 1

# valid in the kernel's litmus tests, not modelled: name prefix -> feature
_UNSUPPORTED_CALLS = {"srcu_": "SRCU primitive", "call_rcu": "call_rcu()", "spin_": "spinlock primitive",
                      "atomic_": "atomic primitive"}
_TYPES = {"int", "long", "unsigned", "short", "char", "bool", "u8", "u16", "u32", "u64", "s32", "s64",
          "intptr_t", "uintptr_t", "spinlock_t", "atomic_t", "atomic_long_t", "void", "const",
          "volatile", "struct", "size_t"}
_UNSUPPORTED_WORDS = {"while": "loops", "for": "loops", "do": "loops", "goto": "goto",
                      "switch": "switch", "return": "return", "break": "break", "continue": "continue"}


# -- the parser -------------------------------------------------------------------

def parse_litmus_file(path: str) -> LitmusTest:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise ScenarioError(Pos(path, 1, 1), f"not a text file ({exc.reason})") from None
    except OSError as exc:
        raise ScenarioError(None, f"{path}: cannot read: {exc.strerror}") from None
    return parse_litmus(text, path)


def parse_litmus(text: str, path: str = "<litmus>") -> LitmusTest:
    """The test in ``text``; ScenarioError or LitmusUnsupported if it
    cannot be taken."""
    lines = tuple(text.splitlines())
    expected, race = _result(text)
    cleaned = _strip_comments(text, path, lines)
    header_line, name = _header(cleaned, path, lines)
    body = "\n".join(cleaned.splitlines()[header_line:])
    parser = _Parser(Lexer(path, body, header_line + 1, lines), path)
    init, init_regs, threads, shown, filter_, quantifier, condition = parser.test()
    return LitmusTest(name, path, init, init_regs, threads, quantifier, condition, expected, race, lines,
                      shown, filter_)


def _result(text: str):
    match = re.search(r"Result:\s*(Always|Sometimes|Never)\b([^\n]*)", text)
    if not match:
        return None, None
    return match.group(1), ("DATARACE" in match.group(2).upper()) or None


def _strip_comments(text: str, path: str, lines) -> str:
    """(* *) and /* */ comments and // lines become spaces; newlines stay,
    so lines keep their numbers. As in herd7's own files, an OCaml comment
    opens with '(*' and a blank, so that '(*x' stays a dereference."""
    out, i, n = [], 0, len(text)
    while i < n:
        two = text[i:i + 2]
        # '(*' opens a comment only before a blank: WRITE_ONCE(*x, 1) is code
        if two == "/*" or two == "(*" and (i + 2 == n or text[i + 2] in " \t\r\n"):
            close = "*)" if two == "(*" else "*/"
            end = text.find(close, i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise ScenarioError(Pos(path, line, 1), f"comment {two} is never closed",
                                    source_line=lines[line - 1] if line <= len(lines) else "")
            out.append(re.sub(r"[^\n]", " ", text[i:end + 2]))
            i = end + 2
        elif two == "//":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _header(text: str, path: str, lines):
    """The line index after the header and the test's name; a quoted
    doc string on the following lines is skipped."""
    all_lines = text.splitlines()
    for index, line in enumerate(all_lines):
        if not line.strip():
            continue
        words = line.split()
        if words[0] != "C":
            if len(words) >= 2 and words[0].isupper() or words[0] in ("LISA", "Bell"):
                raise LitmusUnsupported(Pos(path, index + 1, 1), f"architecture {words[0]} (only C litmus tests)",
                                        lines[index])
            raise ScenarioError(Pos(path, index + 1, 1), "a C litmus test starts with 'C NAME'",
                                "the first line names the test, as in: C MP+poonceonces", lines[index])
        if len(words) < 2:
            raise ScenarioError(Pos(path, index + 1, 1), "the test has no name after 'C'", "", lines[index])
        rest = index + 1
        while rest < len(all_lines) and not all_lines[rest].strip():
            rest += 1
        if rest < len(all_lines) and all_lines[rest].lstrip().startswith('"'):
            while rest < len(all_lines) and not all_lines[rest].rstrip().endswith('"'):
                rest += 1
            rest += 1
        return rest, " ".join(words[1:])
    raise ScenarioError(Pos(path, 1, 1), "empty file: a C litmus test starts with 'C NAME'")


class _Parser:
    def __init__(self, lexer: Lexer, path: str):
        self.lx, self.path = lexer, path
        self.toks, self.i = lexer.toks, 0

    # -- token helpers -------------------------------------------------------

    def peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def at(self, text: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and tok.text == text

    def next(self, what: str) -> Tok:
        tok = self.peek()
        if tok is None:
            last = self.toks[-1] if self.toks else Tok("", "", len(self.lx.lines), 1)
            raise self.lx.error(last.line, last.col, f"unexpected end of file: expected {what}")
        self.i += 1
        return tok

    def expect(self, text: str, what: str = "") -> Tok:
        tok = self.next(f"'{text}'")
        if tok.text != text:
            raise self.fail(tok, f"expected '{text}'{what}, found '{tok.text}'")
        return tok

    def fail(self, tok: Tok, message: str, hint: str = "") -> ScenarioError:
        return self.lx.error(tok.line, tok.col, message, hint)

    def unsupported(self, tok: Tok, feature: str) -> LitmusUnsupported:
        return LitmusUnsupported(Pos(self.path, tok.line, tok.col), feature, self.lx.source(tok.line))

    # -- the test ------------------------------------------------------------

    def test(self):
        init, init_regs = self.init() if self.at("{") else ({}, {})
        threads = []
        while self.peek() is not None and re.fullmatch(r"P\d+", self.peek().text):
            threads.append(self.thread(len(threads)))
        if not threads:
            tok = self.peek()
            if tok is None:
                raise self.lx.error(len(self.lx.lines), 1, "the test has no threads (P0, P1, ...)")
            raise self.fail(tok, f"expected a thread P{len(threads)}(...), found '{tok.text}'")
        shown, filter_ = [], None
        while self.at("locations"):
            shown += self.locations()
        if self.at("filter"):
            self.next("filter")
            filter_ = self.disjunction()
        quantifier, condition = self.condition()
        if self.peek() is not None:
            raise self.fail(self.peek(), f"unexpected '{self.peek().text}' after the final condition")
        return init, init_regs, tuple(threads), tuple(shown), filter_, quantifier, condition

    def init(self):
        self.expect("{")
        init, regs = {}, {}
        while not self.at("}"):
            if self.at(";"):
                self.next("';'")
                continue
            tok = self.peek()
            thread = None
            if tok.kind == "num" and self.at(":", 1):
                thread = int(self.next("a thread number").text)
                self.next("':'")
            while self.peek() and self.peek().text in _TYPES:
                self.next("a type")
            while self.at("*"):
                self.next("'*'")
            name = self.next("a variable name")
            if name.kind != "id":
                raise self.fail(name, f"expected a variable name in the initial state, found '{name.text}'")
            if self.at("["):
                raise self.unsupported(self.peek(), "arrays")
            value = 0
            if self.at("="):
                self.next("'='")
                value = self.init_value()
            if thread is None:
                init[name.text] = value
            else:
                regs[(thread, name.text)] = value
            if not self.at("}"):
                self.expect(";", " between initial values")
        self.expect("}")
        return init, regs

    def init_value(self):
        tok = self.next("a value")
        if tok.text == "-" and self.peek() and self.peek().kind == "num":
            return -int(self.next("a number").text, 0)
        if tok.kind == "num":
            return int(tok.text, 0)
        if tok.text == "&":
            tok = self.next("a variable name")
        if tok.kind == "id":
            if tok.text == "ATOMIC_INIT":
                self.expect("(")
                value = self.init_value()
                self.expect(")")
                return value
            return tok.text
        raise self.fail(tok, f"expected a number or a variable name, found '{tok.text}'")

    def thread(self, index: int) -> ThreadDef:
        tok = self.next("a thread")
        if tok.text != f"P{index}":
            raise self.fail(tok, f"threads are numbered in order: expected P{index}, found {tok.text}")
        self.expect("(")
        params = []
        while not self.at(")"):
            words = []
            while self.peek() and (self.peek().kind == "id" or self.at("*")):
                words.append(self.next("a parameter"))
            names = [w for w in words if w.kind == "id" and w.text not in _TYPES]
            if not names:
                raise self.fail(self.peek() or tok, "expected a parameter such as 'int *x'")
            params.append(names[-1].text)
            if not self.at(")"):
                self.expect(",", " between parameters")
        self.expect(")")
        body = self.block()
        return ThreadDef(index, tuple(params), body, tok.line)

    def locations(self) -> list:
        """``locations [x; 0:r1;]``: more terms for the final states."""
        self.next("locations")
        self.expect("[")
        shown = []
        while not self.at("]"):
            if self.at(";"):
                self.next("';'")
                continue
            tok = self.next("a location")
            thread = None
            if tok.kind == "num" and self.at(":"):
                thread = int(tok.text)
                self.next("':'")
                tok = self.next("a register name")
            if tok.kind != "id":
                raise self.fail(tok, f"expected a location or register, found '{tok.text}'")
            shown.append(Atom(thread, tok.text, None, tok.line))
        self.expect("]")
        return shown

    # -- statements ----------------------------------------------------------

    def block(self) -> tuple:
        self.expect("{", " to open a block")
        stmts = []
        while not self.at("}"):
            if self.peek() is None:
                self.next("'}'")
            stmts.extend(self.statement())
        self.expect("}")
        return tuple(stmts)

    def statement(self) -> list:
        tok = self.peek()
        if tok.text in _UNSUPPORTED_WORDS:
            raise self.unsupported(tok, _UNSUPPORTED_WORDS[tok.text])
        if tok.text == "{":
            return list(self.block())
        if tok.text == ";":
            self.next("';'")
            return []
        if tok.text == "if":
            return [self.if_statement()]
        if tok.text == "else":
            raise self.fail(tok, "'else' without 'if'")
        if tok.kind == "id" and tok.text in _TYPES:
            return self.declaration()
        start = self.i
        expr = self.expression()
        self.expect(";", " after the statement")
        if isinstance(expr, Assign):
            return [Assign(expr.target, expr.expr, expr.line, self.text_between(start))]
        return [ExprStmt(expr, tok.line)]

    def text_between(self, start: int) -> str:
        return _join(self.toks[start:self.i - 1])

    def if_statement(self) -> If:
        tok = self.next("'if'")
        self.expect("(", " after 'if'")
        cond = self.expression()
        self.expect(")", " to close the condition")
        then = tuple(self.statement())
        orelse = ()
        if self.at("else"):
            self.next("'else'")
            orelse = tuple(self.statement())
        return If(cond, then, orelse, tok.line)

    def declaration(self) -> list:
        while self.peek() and self.peek().text in _TYPES:
            self.next("a type")
        out = []
        while True:
            while self.at("*"):
                self.next("'*'")
            name = self.next("a variable name")
            if name.kind != "id":
                raise self.fail(name, f"expected a variable name, found '{name.text}'")
            if self.at("["):
                raise self.unsupported(self.peek(), "arrays")
            init = None
            if self.at("="):
                self.next("'='")
                init = self.expression(assign=False)
            out.append(Decl(name.text, init, name.line))
            if self.at(","):
                self.next("','")
                continue
            self.expect(";", " after the declaration")
            return out

    # -- expressions (C precedence) ------------------------------------------

    _LEVELS = (("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
               ("<<", ">>"), ("+", "-"), ("*", "/", "%"))

    def expression(self, assign: bool = True):
        tok = self.peek()
        left = self.binary(0)
        if assign and self.at("="):
            eq = self.next("'='")
            if not isinstance(left, (Name, Deref)):
                raise self.fail(eq, "only a register or *pointer can be assigned to")
            right = self.expression()
            return Assign(left, right, tok.line, "")
        if self.at("?"):
            raise self.unsupported(self.peek(), "the ?: operator")
        return left

    def binary(self, level: int):
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() and self.peek().text in self._LEVELS[level]:
            op = self.next("an operator")
            right = self.binary(level + 1)
            left = Binary(op.text, left, right, op.line)
        return left

    def unary(self):
        tok = self.next("an expression")
        if tok.text == "*":
            return Deref(self.unary(), tok.line)
        if tok.text == "&":
            name = self.next("a variable name")
            if name.kind != "id":
                raise self.fail(name, "'&' applies to a variable name")
            return AddrOf(name.text, tok.line)
        if tok.text in ("!", "-", "~"):
            return Unary(tok.text, self.unary(), tok.line)
        if tok.text == "(":
            if self.peek() and self.peek().text in _TYPES:      # a cast: values have no C types here
                while self.peek() and (self.peek().text in _TYPES or self.at("*")):
                    self.next("a type")
                self.expect(")", " to close the cast")
                return self.unary()
            expr = self.expression(assign=False)
            self.expect(")")
            return self.postfix(expr)
        if tok.kind == "num":
            return Num(int(tok.text, 0), tok.line)
        if tok.kind == "id":
            if self.at("("):
                return self.call(tok)
            return self.postfix(Name(tok.text, tok.line, tok.col))
        raise self.fail(tok, f"expected an expression, found '{tok.text}'")

    def postfix(self, expr):
        if self.at("[") or self.at("->"):
            raise self.unsupported(self.peek(), "arrays and structures")
        return expr

    def call(self, name: Tok) -> Call:
        start = self.i - 1
        self.expect("(")
        args = []
        while not self.at(")"):
            args.append(self.expression(assign=False))
            if not self.at(")"):
                self.expect(",", " between arguments")
        self.expect(")")
        if name.text not in CALLS:
            raise self.unknown_call(name)
        if len(args) != CALLS[name.text]:
            raise self.fail(name, f"{name.text}() takes {CALLS[name.text]} argument"
                                  f"{'s' if CALLS[name.text] != 1 else ''}, not {len(args)}")
        return Call(name.text, tuple(args), name.line, _join(self.toks[start:self.i]))

    def unknown_call(self, name: Tok) -> ScenarioError:
        for prefix, feature in _UNSUPPORTED_CALLS.items():
            if name.text.startswith(prefix):
                return self.unsupported(name, f"{feature} ({name.text})")
        close = difflib.get_close_matches(name.text, sorted(CALLS), n=1, cutoff=0.75)
        if close:
            return self.fail(name, f"unknown function {name.text}()", f"did you mean {close[0]}()?")
        return self.unsupported(name, f"function {name.text}()")

    # -- the final condition -------------------------------------------------

    def condition(self):
        tok = self.peek()
        if tok is None:
            raise self.lx.error(len(self.lx.lines), 1, "the test has no final condition (exists ...)")
        quantifier = tok.text
        self.next("exists")
        if quantifier == "~" and self.at("exists"):
            self.next("exists")
            quantifier = "~exists"
        if quantifier not in ("exists", "~exists", "forall"):
            raise self.fail(tok, f"expected the final condition (exists, ~exists or forall), found '{tok.text}'")
        prop = self.disjunction()
        if self.at(";"):
            self.next("';'")
        return quantifier, prop

    def disjunction(self) -> Prop:
        left = self.conjunction()
        while self.at("\\/"):
            self.next("'\\/'")
            left = Prop("or", (left, self.conjunction()))
        return left

    def conjunction(self) -> Prop:
        left = self.negation()
        while self.at("/\\"):
            self.next("'/\\'")
            left = Prop("and", (left, self.negation()))
        return left

    def negation(self) -> Prop:
        if self.at("~") or self.at("not"):
            self.next("'~'")
            return Prop("not", (self.negation(),))
        if self.at("("):
            self.next("'('")
            prop = self.disjunction()
            self.expect(")", " to close the condition")
            return prop
        if self.at("true") or self.at("false"):
            return Prop(self.next("true").text)
        return Prop("atom", (self.atom(),))

    def atom(self) -> Atom:
        tok = self.next("a condition such as 0:r0=1")
        thread = None
        if tok.kind == "num" and self.at(":"):
            thread = int(tok.text)
            self.next("':'")
            tok = self.next("a register name")
        if tok.kind != "id":
            raise self.fail(tok, f"expected a register or location name, found '{tok.text}'",
                            "conditions look like 0:r0=1 or x=1")
        if self.at("["):
            raise self.unsupported(self.peek(), "arrays")
        op = self.next("'='")
        if op.text not in ("=", "=="):
            raise self.fail(op, f"expected '=' in the condition, found '{op.text}'")
        return Atom(thread, tok.text, self.init_value(), tok.line)


def _join(toks) -> str:
    out = ""
    for tok in toks:
        if out and (tok.kind in ("id", "num") and out[-1].isalnum() or tok.text in ("=", "==", "/\\", "\\/")
                    or out.endswith(",") or out.endswith("=")):
            out += " "
        out += tok.text
    return out
