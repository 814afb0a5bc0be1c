"""Parse preprocessed MFL text into an AST.

``parse(text, lines=...)`` returns a ``Program`` or raises ``ParseError``
(``line``/``col`` already mapped back to the original file).  Lark's own
exceptions never leave this module.  The LALR tables are cached on disk
(``cache=True`` keyed by the grammar's hash) and the Lark object is built once
per process.
"""
from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import (LarkError, UnexpectedCharacters, UnexpectedEOF,
                             UnexpectedInput, UnexpectedToken, VisitError)

from . import ast as A
from lark.lexer import Lexer as _LarkLexer

from .lexer import HereDoc, LexError, Tok, Tokenizer, decode_string, prescan

GRAMMAR = Path(__file__).with_name("mfl.lark")

# Reserved words: never identifiers (mailfromd's lexer never returns them as names).
RESERVED = frozenset("""
accept add and alias break bye case catch const continue default delete discard
do done echo elif else fi fnmatches for from func if import loop matches module next
not number on or pass precious prog public reject replace return returns require set
static string switch tempfail throw try vaptr when while dclex
""".split())


class ParseError(Exception):
    def __init__(self, file: str, line: int, col: int, message: str,
                 end_line: int | None = None, end_col: int | None = None):
        super().__init__(f"{file}:{line}.{col}: {message}")
        self.file, self.line, self.col, self.message = file, line, col, message
        self.end_line = end_line if end_line is not None else line
        self.end_col = end_col if end_col is not None else col
        self.stack = None            # parser value stack at the error (for partial_program)

    def partial_program(self):
        """The definitions and statements completed before the error, as a Program
        (mailfromd reports their semantic errors before the syntax error)."""
        if not self.stack:
            return None
        try:
            return _partial_program(self.stack, self.file)
        except Exception:            # best effort only
            return None


_TOKEN_WORDS = {
    "NAME": "identifier", "NUMBER": "number", "CODE": "number", "XCODE": "extended reply code",
    "STRING": "string", "SQSTRING": "string", "HEREDOC": "here-document",
    "MACRO": "macro reference", "ARGREF": "argument reference", "$END": "end of file",
    "BACKREF": "back reference", "ORDINAL": "'@' reference", "PRAGMA": "#pragma",
}


def _describe(tok: Token) -> str:
    if tok.type in _TOKEN_WORDS:
        return _TOKEN_WORDS[tok.type]
    return f"'{tok.value}'" if tok.value else tok.type


class Mapper:
    """Maps positions in the preprocessed text back to the original files."""

    def __init__(self, file: str, lines=None):
        self.file = file
        self.lines = lines      # lines[i] = (file, line) of text line i+1, or None

    def at(self, line: int) -> tuple[str, int]:
        ls = self.lines
        if ls and 0 < line <= len(ls):
            return ls[line - 1]
        return self.file, line

    def pos(self, line, col, end_line, end_col) -> tuple:
        f, l1 = self.at(line)
        if end_line == line:
            l2 = l1
        else:
            f2, l2 = self.at(end_line)
            if f2 != f:
                l2 = l1
        return (f, l1, col, l2, max(end_col, 1))


class _Builder:
    """Builds AST nodes as the parser reduces.  Positions come from tokens and child nodes.

    Every public method is a grammar rule's callback, called with the rule's
    children as arguments (``_callbacks`` adapts them to Lark's list call)."""

    def __init__(self, mapper: Mapper, heredocs: list[HereDoc]):
        self.m = mapper
        self.heredocs = heredocs

    # --- positions
    def tp(self, t: Token) -> tuple:
        return self.m.pos(t.line, t.column, t.end_line, t.end_column - 1)

    def join(self, a, b) -> tuple:
        pa, pb = _pos_of(self, a), _pos_of(self, b)
        if pa is None:
            return pb
        if pb is None:
            return pa
        if pb[0] != pa[0]:
            return pa
        return (pa[0], pa[1], pa[2], pb[3], pb[4])

    # --- top level
    def toplist(self, lst, item=None):
        if item is None:
            return [lst]
        lst.append(item)
        return lst

    def start(self, items):
        items = tuple(i for i in items if i is not None)
        pos = self.join(items[0], items[-1]) if items else (self.m.file, 1, 1, 1, 1)
        return A.Program(pos, items, self.m.file)

    def pragma(self, t):
        words = tuple(t.value.lstrip("#").split()[1:])
        return A.Pragma(self.tp(t), words)

    def qualifier(self, t):
        return t

    def type(self, t):
        return t

    def var_decl_g(self, *ch):
        *quals, typ, name, init = ch
        return A.VarDecl(self.join(quals[0] if quals else typ, init or name), typ.value,
                         name.value, init, tuple(q.value for q in quals), self.tp(name))

    def var_decl_l(self, typ, name, init):
        return A.VarDecl(self.join(typ, init or name), typ.value, name.value, init, (),
                         self.tp(name))

    def const_decl(self, qual, kw, name, value):
        return A.ConstDecl(self.join(qual or kw, value), name.value, value,
                           qual.value if qual else None)

    def const_enum(self, qual, kw, *items):
        q = qual.value if qual else None
        items = tuple(A.ConstDecl(i.pos, i.name, i.value, q, True) for i in items)
        return A.ConstEnum(self.join(qual or kw, items[-1] if items else kw), items, q)

    def enum_item(self, name, value):
        return A.ConstDecl(self.join(name, value or name), name.value, value, None, True)

    def neg_num(self, minus, num):
        n = self.num(num)
        return A.Num(self.join(minus, num), -n.value)

    def dclex(self, kw, name):
        return A.Dclex(self.join(kw, name), name.value)

    def func_def(self, qual, kw, name, params, *rest):
        *opts, body = rest
        plist, variadic = params if params else ((), None)
        aliases = tuple(o[1] for o in opts if o[0] == "alias")
        alias_pos = tuple(o[2] for o in opts if o[0] == "alias")
        rets = [o[1] for o in opts if o[0] == "returns"]
        pos = self.join(qual or kw, name)
        pos = pos[:3] + _end_of(self, body, pos)
        return A.FuncDef(pos, name.value, plist, variadic, rets[-1] if rets else None,
                         aliases, body, qual.value if qual else None, self.tp(name), alias_pos)

    def params(self, *items):
        plist = []
        optional = False
        variadic = None
        for it in items:
            if it is None:
                continue
            if isinstance(it, Tok):
                if it.type == "SEMI":
                    optional = True
                continue
            if it[0] == "vararg":
                variadic = it[1]
                continue
            typ, name = it[1], it[2]
            if name is None:
                plist.append(A.Param(self.tp(typ), typ.value, "", optional))
            else:
                plist.append(A.Param(self.join(typ, name), typ.value, name.value, optional))
        return tuple(plist), variadic

    def param(self, typ, name):
        return ("param", typ, name)

    def unnamed_param(self, typ):
        return ("param", typ, None)

    def vararg(self, typ, ell):
        return ("vararg", typ.value if typ else "string")

    def alias(self, name):
        return ("alias", name.value, self.tp(name))

    def returns(self, typ):
        return ("returns", typ.value)

    def handler_name(self, t):
        return t

    def prog_def(self, kw, name, body):
        pos = self.join(kw, name)
        return A.Handler(pos[:3] + _end_of(self, body, pos), name.value, body, False, self.tp(name))

    def legacy_handler(self, kw, body):
        pos = self.tp(kw)
        return A.Handler(pos[:3] + _end_of(self, body, pos), kw.value, body, True, pos)

    def modname(self, t):
        v = t.value
        if t.type in ("STRING", "SQSTRING"):
            v = v[1:-1]
        return (v, t)

    def require(self, mod):
        return A.Require(self.tp(mod[1]), mod[0])

    def import_stmt(self, mod):
        return A.Require(self.tp(mod[1]), mod[0], "import")

    def import_item(self, t):
        v = t.value
        return v[1:-1] if t.type in ("STRING", "SQSTRING") else v

    def from_import(self, mod, *names):
        return A.FromImport(self.tp(mod[1]), mod[0], tuple(names))

    def module_decl(self, mod, iface):
        return A.ModuleDecl(self.tp(mod[1]), mod[0], iface.value if iface else None)

    # --- statements
    def stmts(self, a, b=None):
        """Statement lists grow left-recursively: one reduction per statement."""
        if b is None:
            lst = _StmtList()
            lst.append(a)
            return lst
        a.append(b)
        return a

    def set_stmt(self, kw, name, value):
        return A.Set(self.join(kw, value), name.value, value, self.tp(name))

    def if_stmt(self, kw, cond, body, *rest):
        *elifs, orelse = rest
        branches = ((cond, body),) + tuple(elifs)
        return A.If(self.join(kw, cond), branches, orelse)

    def elif_part(self, cond, body):
        return (cond, body)

    def switch_stmt(self, kw, expr, *parts):
        cases = tuple(p for p in parts if isinstance(p, A.Case))
        defaults = [p for p in parts if not isinstance(p, A.Case)]
        if len(defaults) > 1:
            f, l, c, el, ec = self.tp(defaults[1][0])
            raise ParseError(f, l, c, "duplicate default statement", el, ec)
        return A.Switch(self.join(kw, expr), expr, cases, defaults[0][1] if defaults else None)

    def case_part(self, kw, values, body):
        return A.Case(self.tp(kw), values, body)

    def default_part(self, kw, body):
        return (kw, body)

    def case_values(self, *vals):
        return tuple(vals)

    def loop_stmt(self, kw, label, head, body, post):
        init, cond, step = (), None, ()
        if head:
            init, cond, step = head
        pos = self.join(kw, label or kw)
        return A.Loop(pos, label.value if label else None, init, cond, step, body, post)

    def loop_for(self, init, tail=None):
        _, cond, step = tail if tail else ((), None, ())
        return (init, cond, step)

    def loop_while(self, cond, step=None):
        return ((), cond, step or ())

    def loop_tail_only(self, tail):
        return tail

    def loop_step(self, step):
        return ((), None, step)

    def loop_post(self, expr):
        return expr

    def break_stmt(self, kw, label):
        return A.Break(self.join(kw, label or kw), label.value if label else None)

    def next_stmt(self, kw, label):
        return A.Next(self.join(kw, label or kw), label.value if label else None)

    def return_stmt(self, kw, value):
        return A.Return(self.join(kw, value or kw), value)

    def try_stmt(self, kw, body, catch):
        c = A.Catch(catch.pos, catch.exceptions, catch.body, False)
        return A.Try(self.tp(kw), body, c)

    def catch_stmt(self, kw, excs, body):
        return A.Catch(self.tp(kw), excs[1], body, True)

    def catch_all(self, star):
        return (self.tp(star), None)

    def catch_list(self, *vals):
        return (vals[0].pos, tuple(vals))

    def throw_stmt(self, kw, code, message):
        return A.Throw(self.join(kw, message or code), code, message)

    def pass_stmt(self, kw):
        return A.Pass(self.tp(kw))

    def echo_stmt(self, kw, value):
        return A.Echo(self.join(kw, value), value)

    def on_stmt(self, kw, cond, *branches):
        return A.On(self.tp(kw), cond, tuple(branches))

    def when_part(self, kw, values, body):
        return A.Case(self.tp(kw), values, body)

    def poll(self, kw, *parts):
        d = {"email": None, "host": None, "from": None, "as": None}
        for k, v in parts:
            d[k] = v
        return A.Poll(self.tp(kw), d["email"], d["host"], d["from"], d["as"])

    def poll_email(self, e):
        return ("email", e)

    def poll_host(self, e):
        return ("host", e)

    def poll_from(self, e):
        return ("from", e)

    def poll_as(self, e):
        return ("as", e)

    def simple_action(self, kw, lit=None):
        if lit is not None:
            return A.Action(self.tp(kw), kw.value, *lit, False)
        return A.Action(self.tp(kw), kw.value)

    def reply_action(self, kw, lit):
        code = xcode = msg = None
        if lit:
            code, xcode, msg = lit
        return A.Action(self.tp(kw), kw.value, code, xcode, msg, False)

    def reply_lit(self, *ch):
        code = xcode = msg = None
        for c in ch:
            if c is None:
                continue
            if isinstance(c, Tok):
                if c.type == "CODE":
                    code = A.Str(self.tp(c), c.value)
                else:
                    xcode = A.Str(self.tp(c), c.value)
            else:
                msg = c
        return (code, xcode, msg)

    def reply_func(self, kw, *args):
        if len(args) != 3:
            f, l, c, el, ec = self.tp(kw)
            raise ParseError(f, l, c, "syntax error, unexpected ')', expecting ','", el, ec)
        args = list(args)
        return A.Action(self.tp(kw), kw.value, args[0], args[1], args[2], True)

    def xcode(self, t):
        return A.Str(self.tp(t), t.value)

    def header_action(self, kw, name, value=None):
        return A.HeaderAction(self.tp(kw), kw.value.lower(), name.value[1:-1], value)

    def call_stmt(self, call):
        return A.ExprStmt(call.pos, call)

    # --- expressions
    def num(self, t):
        v = t.value
        if v[:2] in ("0x", "0X"):
            n = int(v, 16)
        elif len(v) > 1 and v[0] == "0":
            try:
                n = int(v, 8)
            except ValueError:
                raise ParseError(*self.tp(t)[:3], f"invalid octal number `{v}'")
        else:
            n = int(v)
        return A.Num(self.tp(t), n)

    def var(self, t):
        return A.Var(self.tp(t), t.value)

    def macro(self, t):
        v = t.value[1:]
        if v.startswith("{"):
            v = v[1:-1]
        return A.Macro(self.tp(t), v)

    def argref(self, t):
        p = self.tp(t)
        return A.Arg(p, A.Num(p, int(t.value[1:])))

    def argexpr(self, t, e):
        return A.Arg(self.join(t, e), e, True)

    def nargs(self, t):
        return A.ArgCount(self.tp(t))

    def ordinal(self, t):
        return A.Ordinal(self.tp(t), t.value[1:])

    def backref(self, t):
        return A.BackRef(self.tp(t), int(t.value[1:]))

    def cast(self, typ, e):
        return A.Cast(self.join(typ, e), typ.value, e)

    def vaptr(self, e):
        return A.VaPtr(e.pos, e)

    def call(self, name, args):
        args = args or ()
        if len(args) == 1 and isinstance(args[0], A.VarArgs):
            f, l, c, el, ec = args[0].pos           # mailfromd 8.15 rejects f($@)
            raise ParseError(f, l, c, "syntax error, unexpected $@", el, ec)
        pos = self.tp(name)
        return A.Call(pos, name.value, tuple(args), pos)

    def args(self, *a):
        return a

    def varargs(self, t, shift=None):
        return A.VarArgs(self.tp(t), shift)

    def prefixed(self, *items):
        return _Prefixed(items)

    def mxop(self, mx, op):
        return (mx, op)

    def expr(self, *items):
        """Group a flat operand/operator list by precedence (measured on mailfromd 8.15)."""
        return _Climber(self, items).run()

    def string(self, *toks):
        pos = self.join(toks[0], toks[-1])
        parts: list = []
        for t in toks:
            if t.type == "SQSTRING":
                parts.append(t.value[1:-1])
            elif t.type == "STRING":
                body = t.value[1:-1]
                self._locate_refs(parts, decode_string(body), body, t.line, t.column + 1)
            else:
                doc = self.heredocs[int(t.value.strip("\x01"))]
                if doc.quoted:
                    parts.append(doc.body)
                else:
                    self._locate_refs(parts, decode_string(doc.body), doc.body, doc.line + 1, 1)
        return _make_string(pos, parts)

    def _locate_refs(self, out, parts, body, line, col):
        """Give each reference in a string its own position (strings span lines)."""
        for p in parts:
            if isinstance(p, str):
                out.append(p)
                continue
            kind, value, off = p
            nl = body.count("\n", 0, off)
            if nl:
                rline, rcol = line + nl, off - body.rfind("\n", 0, off)
            else:
                rline, rcol = line, col + off
            f, ln = self.m.at(rline)
            out.append((kind, value, (f, ln, rcol, ln, rcol + len(str(value or "")))))


class _Prefixed:
    """Prefix operators and their operand, flattened into the climber's list."""
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items


class _StmtList(list):
    """A statement list under construction (becomes a tuple in the AST)."""


# binary operator -> (precedence, associative?); higher binds tighter
_BINOPS = {
    "or": (1, True), "and": (2, True),
    "=": (4, False), "==": (4, False), "!=": (4, False), "matches": (4, False),
    "fnmatches": (4, False),
    "<": (5, False), "<=": (5, False), ">": (5, False), ">=": (5, False),
    ".": (6, True), "|": (7, True), "^": (8, True), "&": (9, True),
    "<<": (10, True), ">>": (10, True), "+": (11, True), "-": (11, True),
    "*": (12, True), "/": (12, True), "%": (12, True),
}
_NOT_PREC = 3


class _Climber:
    __slots__ = ("b", "items", "i", "n")

    def __init__(self, builder, items):
        flat = []
        for it in items:
            if isinstance(it, _Prefixed):
                flat.extend(it.items)
            elif isinstance(it, tuple):
                flat.extend(it)
            else:
                flat.append(it)
        self.b, self.items, self.i, self.n = builder, flat, 0, len(flat)

    def run(self):
        e = self.binary(0)
        if self.i < self.n:                      # pragma: no cover - grammar guarantees
            self.fail(self.items[self.i])
        return e

    def fail(self, tok):
        f, l, c, el, ec = self.b.tp(tok)
        raise ParseError(f, l, c, f"syntax error, unexpected {_describe(tok)}", el, ec)

    def peek_op(self):
        if self.i >= self.n:
            return None
        t = self.items[self.i]
        if not isinstance(t, Tok):             # pragma: no cover
            return None
        if t.type == "MX":
            return ("mx " + self.items[self.i + 1].value, 2, t)
        return (t.value, 1, t)

    def binary(self, min_prec):
        left = self.unary()
        last_prec = None
        while True:
            op = self.peek_op()
            if op is None:
                return left
            word, width, tok = op
            base = word[3:] if word.startswith("mx ") else word
            prec, assoc = _BINOPS[base]
            if prec < min_prec:
                return left
            if not assoc and last_prec == prec:
                self.fail(tok)
            self.i += width
            right = self.binary(prec + 1)
            pos = self.b.join(left, right)
            if base in ("matches", "fnmatches"):
                left = A.Match(pos, base, width == 2, left, right)
            elif base in ("and", "or"):
                left = A.Binary(pos, base, left, right)
            else:
                left = A.Binary(pos, "=" if base == "==" else base, left, right)
            last_prec = prec

    def unary(self):
        t = self.items[self.i]
        self.i += 1
        if isinstance(t, Tok):
            if t.type == "NOT":
                e = self.binary(_NOT_PREC + 1)
                return A.Unary(self.b.join(t, e), "not", e)
            if t.type in ("MINUS", "PLUS", "TILDE"):
                e = self.unary()
                return A.Unary(self.b.join(t, e), t.value, e)
            self.fail(t)
        return t


def _make_string(pos, parts):
    merged: list = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    if not merged:
        return A.Str(pos, "")
    if len(merged) == 1 and isinstance(merged[0], str):
        return A.Str(pos, merged[0])
    nodes = []
    for p in merged:
        if isinstance(p, str):
            nodes.append(A.Str(pos, p))
            continue
        kind, value, ppos = p
        if kind == "macro":
            nodes.append(A.Macro(ppos, value))
        elif kind == "var":
            nodes.append(A.Var(ppos, value, True))
        elif kind == "arg":
            nodes.append(A.Arg(ppos, A.Num(ppos, value)))
        elif kind == "backref":
            nodes.append(A.BackRef(ppos, value))
        elif kind == "nargs":
            nodes.append(A.ArgCount(ppos))
    return A.Interp(pos, tuple(nodes))


def _pos_of(b: _Builder, x):
    if x is None:
        return None
    if isinstance(x, Tok):
        return b.tp(x)
    if isinstance(x, A.Node):
        return x.pos
    if isinstance(x, tuple):
        for y in x:
            p = _pos_of(b, y)
            if p is not None:
                return p
    return None


def _first_pos(b, *xs):
    for x in xs:
        p = _pos_of(b, x)
        if p:
            return p
    return None


def _end_of(b, body, default):
    """(end_line, end_col) of the last statement of body, or of default."""
    last = body[-1] if body else None
    p = _pos_of(b, last) if last is not None else None
    p = p or default
    return (p[3], p[4])


_LARK: Lark | None = None
_BUILDER: "_Builder | None" = None
_LOCK = threading.Lock()


def _lark() -> Lark:
    """The LALR parser, built once; the builder runs inline as the parser reduces."""
    global _LARK, _BUILDER
    if _LARK is None:
        cache_dir = Path(os.environ.get("MFL_CACHE_DIR", Path.home() / ".cache" / "mfl"))
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            cache: object = str(cache_dir / "grammar.lark.cache")
        except OSError:
            cache = False
        builder = _Builder(Mapper("<input>"), [])
        kwargs = dict(parser="lalr", lexer=_MFLLexer, maybe_placeholders=True,
                      transformer=_callbacks(builder))
        try:
            lk = Lark(GRAMMAR.read_text(), cache=cache, **kwargs)
        except (OSError, EOFError, ValueError):
            lk = Lark(GRAMMAR.read_text(), **kwargs)
        _LARK, _BUILDER = lk, builder
    return _LARK


def _driver() -> _Driver:
    global _DRIVER
    if _DRIVER is None:
        lk = _lark()
        _DRIVER = _Driver(lk, lk.parser.lexer.lexer.tokenizer)
    return _DRIVER


class _MFLLexer(_LarkLexer):
    """Lark's hook for our tokenizer (mfl.syntax.lexer.Tokenizer)."""

    def __init__(self, lexer_conf):
        kinds = {}
        for t in lexer_conf.terminals:
            if t.pattern.type == "str":
                kinds[t.pattern.value] = t.name
        self.tokenizer = Tokenizer(kinds, RESERVED, Tok)

    def lex(self, data, *_):
        text = getattr(data, "text", data)       # Lark passes the text (or a state)
        text = getattr(text, "text", text)
        return self.tokenizer.tokens(text)


_BODY_RULES = frozenset({"func_def", "prog_def", "legacy_handler", "if_stmt", "elif_part",
                         "case_part", "default_part", "loop_stmt", "loop_for", "loop_while",
                         "loop_step", "try_stmt", "catch_stmt", "when_part"})


def _callbacks(builder):
    """An object whose attributes are Lark callbacks: ``cb(children) -> builder.rule(*children)``.

    Rules that receive statement lists get them as tuples."""
    class NS:
        pass
    ns = NS()
    for name in dir(builder):
        if name.startswith("_") or name in ("m", "heredocs", "tp", "join"):
            continue
        meth = getattr(builder, name)
        if not callable(meth):
            continue
        if name in _BODY_RULES:
            def cb(ch, _m=meth):
                return _m(*[tuple(c) if type(c) is _StmtList else c for c in ch])
        else:
            def cb(ch, _m=meth):
                return _m(*ch)
        setattr(ns, name, cb)
    return ns


class _Driver:
    """A lean LALR loop over Lark's own parse table and rule callbacks.

    Same tables, same callbacks as ``Lark.parse``; it only avoids per-token
    overhead (rule hashing, generic state objects), which is most of the
    parse time on large scripts."""

    def __init__(self, lk: Lark, tokenizer: Tokenizer):
        from lark.parsers.lalr_analysis import Shift
        inner = lk.parser.parser.parser             # frontend -> LALR_Parser -> _Parser
        table = inner.parse_table
        callbacks = inner.callbacks
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        states = {}
        for st, acts in table.states.items():
            d = {}
            for tok, (action, arg) in acts.items():
                if action is Shift:
                    d[tok] = (True, arg)
                else:
                    d[tok] = (False, (len(arg.expansion), callbacks[arg], arg.origin.name))
            states[st] = d
        self.states = states
        self.tokenizer = tokenizer

    def parse(self, text: str):
        stack: list = []
        try:
            return self._parse(text, stack)
        except (_Unexpected, ParseError, LexError) as e:
            e.mfl_stack = stack          # what was reduced before the error
            raise

    def _parse(self, text: str, value_stack: list):
        states = self.states
        end_state = self.end
        state_stack = [self.start]
        tok = None
        for tok in self.tokenizer.tokens(text):
            ttype = tok.type
            while True:
                try:
                    is_shift, arg = states[state_stack[-1]][ttype]
                except KeyError:
                    raise _Unexpected(tok) from None
                if is_shift:
                    state_stack.append(arg)
                    value_stack.append(tok)
                    break
                size, cb, origin = arg
                if size:
                    s = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    s = []
                value_stack.append(cb(s))
                state_stack.append(states[state_stack[-1]][origin][1])
        body = text.rstrip()
        eline = body.count("\n") + 1
        ecol = len(body) - (body.rfind("\n") + 1)
        end = Tok("$END", "", len(body), eline, max(ecol, 1), eline, max(ecol, 1) + 1, len(body))
        while True:
            try:
                is_shift, arg = states[state_stack[-1]]["$END"]
            except KeyError:
                raise _Unexpected(end) from None
            size, cb, origin = arg
            if size:
                s = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                s = []
            value_stack.append(cb(s))
            state_stack.append(states[state_stack[-1]][origin][1])
            if state_stack[-1] == end_state:
                return value_stack[-1]


class _Unexpected(Exception):
    def __init__(self, tok):
        self.token = tok


_DRIVER: _Driver | None = None


def parse(text: str, file: str = "<input>", lines=None) -> A.Program:
    """Parse preprocessed text; ``lines[i]`` gives the original (file, line) of line i+1."""
    mapper = Mapper(file, lines)
    try:
        scanned, docs = prescan(text)
    except LexError as e:
        f, ln = mapper.at(e.line)
        raise ParseError(f, ln, e.col, e.message) from None
    drv = _driver()
    with _LOCK:
        _BUILDER.m = mapper
        _BUILDER.heredocs = docs
        try:
            prog = drv.parse(scanned)
        except _Unexpected as e:
            tok = e.token
            msg = ("syntax error, unexpected end of file" if tok.type == "$END"
                   else f"syntax error, unexpected {_describe(tok)}")
            f, ln = mapper.at(tok.line)
            _, eln = mapper.at(tok.end_line or tok.line)
            err = ParseError(f, ln, tok.column, msg, eln,
                             max((tok.end_column or tok.column + 1) - 1, tok.column))
            err.stack = getattr(e, "mfl_stack", None)
            raise err from None
        except ParseError as e:
            e.stack = getattr(e, "mfl_stack", None)
            raise
        except LexError as e:
            f, ln = mapper.at(e.line)
            err = ParseError(f, ln, e.col, e.message)
            err.stack = getattr(e, "mfl_stack", None)
            raise err from None
        except UnexpectedInput as e:
            raise _convert(e, mapper) from None
        except VisitError as e:                  # pragma: no cover - defensive
            if isinstance(e.orig_exc, ParseError):
                raise e.orig_exc from None
            raise
        except LarkError as e:                   # pragma: no cover - defensive
            raise ParseError(file, 1, 1, f"syntax error ({e.__class__.__name__})") from None
        except RecursionError:                   # e.g. `not not ... not 1', hundreds deep
            f, ln = mapper.at(1)
            raise ParseError(f, ln, 1, "expressions nested too deeply") from None
    return dataclasses.replace(prog, next_token=_NextToken(drv.tokenizer, scanned, mapper))


def _partial_program(stack: list, file: str) -> A.Program:
    """Rebuild what the parser had completed when it stopped: finished top-level
    items, and the statements of an unfinished handler or function (inside an
    unfinished loop, the statements after ``loop`` are kept inside a loop)."""
    items: list = []
    i, n = 0, len(stack)
    while i < n:
        v = stack[i]
        if isinstance(v, list) and not isinstance(v, _StmtList):
            items.extend(x for x in v if isinstance(x, A.Node))
        elif isinstance(v, Tok) and v.type in ("PROG", "FUNC"):
            head, body = _partial_body(stack[i + 1:])
            if v.type == "PROG" and head:
                name = head[0]
                items.append(A.Handler(_tokpos(v, file), getattr(name, "value", "?"), body))
            elif v.type == "FUNC" and head and isinstance(head[0], Tok):
                params, variadic, returns = (), None, None
                for h in head[1:]:
                    if isinstance(h, tuple) and len(h) == 2 and isinstance(h[0], tuple):
                        params, variadic = h
                    elif isinstance(h, tuple) and h and h[0] == "returns":
                        returns = h[1]
                items.append(A.FuncDef(_tokpos(v, file), head[0].value, params, variadic,
                                       returns, (), body))
            break
        i += 1
    return A.Program((file, 1, 1, 1, 1), tuple(items), file)


def _partial_body(rest: list):
    """Split the stack after PROG/FUNC into (header values, statements)."""
    head: list = []
    k = 0
    while k < len(rest) and not (isinstance(rest[k], Tok) and rest[k].type == "DO"):
        v = rest[k]
        if hasattr(v, "data") and hasattr(v, "children"):     # a Lark helper-rule tree
            head.extend(v.children)
        else:
            head.append(v)
        k += 1
    return head, _flatten(rest[k + 1:])


def _flatten(vals: list) -> tuple:
    out: list = []
    for j, v in enumerate(vals):
        if isinstance(v, _StmtList):
            out.extend(v)
        elif isinstance(v, A.Node) and not isinstance(v, (A.Expr.__args__)):
            out.append(v)
        elif isinstance(v, Tok) and v.type == "LOOP":
            inner = _flatten(vals[j + 1:])
            out.append(A.Loop(v and (None, v.line, v.column, v.line, v.column), None, (), None,
                              (), inner, None))
            break
    return tuple(out)


def _tokpos(t: Token, file: str) -> tuple:
    return (file, t.line, t.column, t.end_line or t.line, (t.end_column or t.column + 1) - 1)


class _NextToken:
    """Finds the token after a position, on demand (only when a diagnostic needs it)."""

    def __init__(self, tokenizer, text, mapper):
        self.tokenizer, self.text, self.mapper = tokenizer, text, mapper
        self.toks = None

    def __call__(self, pos):
        if self.toks is None:
            try:
                self.toks = [(t.line, t.column, t.end_line, t.end_column)
                             for t in self.tokenizer.tokens(self.text)]
            except LexError:
                self.toks = []
        f, _, _, eline, ecol = pos
        at = self.mapper.at
        for line, col, el, ec in self.toks:
            tf, tl = at(line)
            if tf == f and (tl, col) > (eline, ecol):
                return (tf, tl, col, at(el)[1], max(ec - 1, col))
        return pos

    def before(self, pos):
        """Where bison starts a rule with an empty first part: the end of the
        token before ``pos`` (or the start of the file)."""
        self(pos)                                  # fills self.toks
        f, line, col = pos[0], pos[1], pos[2]
        at = self.mapper.at
        prev = (f, 1, 1)
        for tl0, tc, el, ec in self.toks:
            tf, tl = at(tl0)
            if tf != f:
                continue
            if (tl, tc) >= (line, col):
                break
            prev = (tf, at(el)[1], ec)
        return (prev[0], prev[1], prev[2], pos[3], pos[4])


def _convert(e: UnexpectedInput, mapper: Mapper) -> ParseError:
    line, col = getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            msg = "syntax error, unexpected end of file"
        else:
            msg = f"syntax error, unexpected {_describe(tok)}"
        end_line = getattr(tok, "end_line", None) or line
        end_col = (getattr(tok, "end_column", None) or col + 1) - 1
    elif isinstance(e, UnexpectedCharacters):
        ch = e.char
        msg = f"syntax error, unexpected '{ch}'" if ch not in "\"'" else \
            "syntax error, unterminated string"
        end_line, end_col = line, col
    elif isinstance(e, UnexpectedEOF):
        msg = "syntax error, unexpected end of file"
        end_line, end_col = line, col
    else:
        msg = "syntax error"
        end_line, end_col = line, col
    if line < 0 or col < 0:
        line, col, end_line, end_col = 1, 1, 1, 1
    f, ln = mapper.at(line)
    _, eln = mapper.at(end_line)
    return ParseError(f, ln, col, msg, eln, end_col)
