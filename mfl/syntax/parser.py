"""Parse preprocessed MFL text into an AST.

``parse(text, lines=...)`` returns a ``Program`` or raises ``ParseError``
(``line``/``col`` already mapped back to the original file).  Lark's own
exceptions never leave this module.  The LALR tables are cached on disk
(``cache=True`` keyed by the grammar's hash) and the Lark object is built once
per process.
"""
from __future__ import annotations

import os
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (LarkError, UnexpectedCharacters, UnexpectedEOF,
                             UnexpectedInput, UnexpectedToken, VisitError)

from . import ast as A
from .lexer import HereDoc, LexError, decode_string, prescan

GRAMMAR = Path(__file__).with_name("mfl.lark")

# Reserved words: never identifiers (mailfromd's lexer never returns them as names).
RESERVED = frozenset("""
accept add and alias begin break bye case catch const continue default delete discard
do done echo end elif else fi fnmatches for from func if import loop matches module next
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


@v_args(inline=True)
class _Builder(Transformer):
    """Builds AST nodes.  Positions come from tokens and child nodes."""

    def __init__(self, mapper: Mapper, heredocs: list[HereDoc]):
        super().__init__()
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
    def start(self, *items):
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
        rets = [o[1] for o in opts if o[0] == "returns"]
        pos = self.join(qual or kw, name)
        pos = pos[:3] + _end_of(self, body, pos)
        return A.FuncDef(pos, name.value, plist, variadic, rets[-1] if rets else None,
                         aliases, body, qual.value if qual else None, self.tp(name))

    def params(self, *items):
        plist = []
        optional = False
        variadic = None
        for it in items:
            if it is None:
                continue
            if isinstance(it, Token):
                if it.type == "SEMI":
                    optional = True
                continue
            if it[0] == "vararg":
                variadic = it[1]
                continue
            typ, name = it[1], it[2]
            plist.append(A.Param(self.join(typ, name), typ.value, name.value, optional))
        return tuple(plist), variadic

    def param(self, typ, name):
        return ("param", typ, name)

    def vararg(self, typ, ell):
        return ("vararg", typ.value if typ else "string")

    def alias(self, name):
        return ("alias", name.value)

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
    def stmts(self, *items):
        return tuple(items)

    stmts1 = stmts

    def set_stmt(self, kw, name, value):
        return A.Set(self.join(kw, value), name.value, value, self.tp(name))

    def if_stmt(self, kw, cond, body, *rest):
        *elifs, orelse = rest
        branches = ((cond, body),) + tuple(elifs)
        return A.If(self.join(kw, cond), branches, orelse)

    def elif_part(self, cond, body):
        return (cond, body)

    def switch_stmt(self, kw, expr, *rest):
        *cases, default = rest
        return A.Switch(self.join(kw, expr), expr, tuple(cases), default)

    def case_part(self, kw, values, body):
        return A.Case(self.tp(kw), values, body)

    def default_part(self, body):
        return body

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

    def simple_action(self, kw):
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
            if isinstance(c, Token):
                if c.type == "CODE":
                    code = A.Str(self.tp(c), c.value)
                else:
                    xcode = A.Str(self.tp(c), c.value)
            else:
                msg = c
        return (code, xcode, msg)

    def reply_func(self, kw, *args):
        args = list(args) + [None] * 3
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

    def vaptr(self, name):
        return A.VaPtr(self.tp(name), name.value)

    def call(self, name, args):
        args = args or ()
        pos = self.tp(name)
        return A.Call(pos, name.value, tuple(args), pos)

    def args(self, *a):
        return a

    def varargs(self, t, shift=None):
        return A.VarArgs(self.tp(t), shift)

    def unary(self, op, e):
        return A.Unary(self.join(op, e), op.value, e)

    def not_(self, e):
        return A.Unary(_pos_of(self, e), "not", e)

    def binary(self, l, op, r):
        o = "=" if op.value == "==" else op.value
        return A.Binary(self.join(l, r), o, l, r)

    def and_(self, l, r):
        return A.Binary(self.join(l, r), "and", l, r)

    def or_(self, l, r):
        return A.Binary(self.join(l, r), "or", l, r)

    def match(self, l, op, r):
        return A.Match(self.join(l, r), op.value, False, l, r)

    def mxmatch(self, l, mx, op, r):
        return A.Match(self.join(l, r), op.value, True, l, r)

    def string(self, *toks):
        pos = self.join(toks[0], toks[-1])
        parts: list = []
        for t in toks:
            tp = self.tp(t)
            if t.type == "SQSTRING":
                parts.append(t.value[1:-1])
            elif t.type == "STRING":
                parts.extend(decode_string(t.value[1:-1]))
            else:
                doc = self.heredocs[int(t.value.strip("\x01"))]
                if doc.quoted:
                    parts.append(doc.body)
                else:
                    parts.extend(decode_string(doc.body))
        return _make_string(pos, parts)


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
        elif p[0] == "macro":
            nodes.append(A.Macro(pos, p[1]))
        elif p[0] == "var":
            nodes.append(A.Var(pos, p[1], True))
        elif p[0] == "arg":
            nodes.append(A.Arg(pos, A.Num(pos, p[1])))
        elif p[0] == "backref":
            nodes.append(A.BackRef(pos, p[1]))
        elif p[0] == "nargs":
            nodes.append(A.ArgCount(pos))
    return A.Interp(pos, tuple(nodes))


def _pos_of(b: _Builder, x):
    if x is None:
        return None
    if isinstance(x, Token):
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
_KEYWORD_TYPES: dict[str, str] = {}


def _lark() -> Lark:
    global _LARK
    if _LARK is None:
        cache_dir = Path(os.environ.get("MFL_CACHE_DIR", Path.home() / ".cache" / "mfl"))
        cache: object = True
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            cache = str(cache_dir / "grammar.lark.cache")
        except OSError:
            cache = False
        kw: dict[str, str] = {}
        lexer_callbacks = {"NAME": _retype_reserved}
        try:
            lk = Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual",
                      propagate_positions=True, maybe_placeholders=True,
                      cache=cache, lexer_callbacks=lexer_callbacks)
        except (OSError, EOFError, ValueError):
            lk = Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual",
                      propagate_positions=True, maybe_placeholders=True,
                      lexer_callbacks=lexer_callbacks)
        for t in lk.terminals:
            p = t.pattern
            if p.type == "str" and p.value.isidentifier():
                kw[p.value] = t.name
        _KEYWORD_TYPES.update(kw)
        _LARK = lk
    return _LARK


def _retype_reserved(tok: Token) -> Token:
    if tok.value in RESERVED:
        t = _KEYWORD_TYPES.get(tok.value)
        if t:
            return Token(t, tok.value, tok.start_pos, tok.line, tok.column,
                         tok.end_line, tok.end_column, tok.end_pos)
    return tok


def parse(text: str, file: str = "<input>", lines=None) -> A.Program:
    """Parse preprocessed text; ``lines[i]`` gives the original (file, line) of line i+1."""
    mapper = Mapper(file, lines)
    try:
        scanned, docs = prescan(text)
    except LexError as e:
        f, ln = mapper.at(e.line)
        raise ParseError(f, ln, e.col, e.message) from None
    lk = _lark()
    try:
        tree = lk.parse(scanned)
    except UnexpectedInput as e:
        raise _convert(e, mapper) from None
    except LarkError as e:                       # pragma: no cover - defensive
        raise ParseError(file, 1, 1, f"syntax error ({e.__class__.__name__})") from None
    builder = _Builder(mapper, docs)
    try:
        prog = builder.transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, ParseError):
            raise e.orig_exc from None
        raise
    return prog


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
