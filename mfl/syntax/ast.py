"""The MFL abstract syntax tree.

Frozen dataclasses, one per construct; every node carries its source span as
``(file, line, col, end_line, end_col)`` in ``pos`` (a plain tuple, so that this
module imports nothing of the project).  ``dump(node)`` prints a canonical
text form used by golden tests.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional, Union

Pos = tuple  # (file, line, col, end_line, end_col)


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Node:
    pos: Pos

    def __repr__(self) -> str:
        return dump(self)


# ---------------------------------------------------------------- expressions
@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Num(Node):
    value: int


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Str(Node):
    """A string literal with no interpolation left in it."""
    value: str


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Interp(Node):
    """A double-quoted string or here-document with %var, $macro, \\N references."""
    parts: tuple  # of Expr (Str for the literal pieces)


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Var(Node):
    """A bare name in an expression: a variable, parameter or constant.

    ``percent`` marks the ``%name`` form inside strings (where a variable
    shadows a constant of the same name)."""
    name: str
    percent: bool = False


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Macro(Node):
    name: str            # $f, ${client_addr}


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Arg(Node):
    """$N (index is a Num) or $(expr): a positional/variadic argument."""
    index: "Expr"
    paren: bool = False


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class ArgCount(Node):
    """$# : the number of actual arguments."""


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Ordinal(Node):
    """@name : the ordinal number of parameter ``name``."""
    name: str


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class BackRef(Node):
    number: int


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class VarArgs(Node):
    """$@ or $@(n) as the last argument of a call: pass on the variadic arguments."""
    shift: Optional["Expr"] = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class VaPtr(Node):
    expr: "Expr"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Call(Node):
    name: str
    args: tuple          # of Expr (the last may be VarArgs)
    name_pos: Pos = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Cast(Node):
    type: str            # "string" | "number" | "void"
    expr: "Expr"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Unary(Node):
    op: str              # "-" | "not" | "+" | "~"
    operand: "Expr"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Binary(Node):
    op: str              # + - * / % << >> & ^ | . = != < <= > >= and or
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Match(Node):
    op: str              # "matches" | "fnmatches"
    mx: bool
    left: "Expr"
    right: "Expr"


Expr = Union[Num, Str, Interp, Var, Macro, Arg, ArgCount, Ordinal, BackRef, VarArgs,
             VaPtr, Call, Cast, Unary, Binary, Match]


# ----------------------------------------------------------------- statements
@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Set(Node):
    name: str
    value: Expr
    name_pos: Pos = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class VarDecl(Node):
    type: str
    name: str
    init: Optional[Expr]
    qualifiers: tuple = ()   # "public" | "static" | "precious"
    name_pos: Pos = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class If(Node):
    branches: tuple          # of (cond Expr, body tuple)
    orelse: Optional[tuple]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Case(Node):
    values: tuple            # of Expr (literals or constant names)
    body: tuple


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Switch(Node):
    expr: Expr
    cases: tuple             # of Case
    default: Optional[tuple]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Loop(Node):
    label: Optional[str]
    init: tuple              # statements of "for"
    cond: Optional[Expr]     # "while" in the head
    step: tuple              # statements after the while
    body: tuple
    post: Optional[Expr]     # "done while expr"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Break(Node):
    label: Optional[str]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Next(Node):
    label: Optional[str]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Return(Node):
    value: Optional[Expr]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Catch(Node):
    exceptions: Optional[tuple]   # of Expr (names/numbers); None for "*"
    body: tuple
    standalone: bool = True


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Try(Node):
    body: tuple
    catch: Catch


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Throw(Node):
    code: Expr
    message: Optional[Expr]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Pass(Node):
    pass


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Echo(Node):
    value: Expr


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Poll(Node):
    email: Optional[Expr]
    host: Optional[Expr]
    ehlo: Optional[Expr]       # "from"
    mailfrom: Optional[Expr]   # "as"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class On(Node):
    cond: Union[Call, Poll]
    branches: tuple            # of Case (values from "when")


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Action(Node):
    """accept, continue, discard, reject, tempfail.

    ``code``/``xcode`` are literal strings in the traditional notation; with
    the functional notation ``functional`` is true and they are expressions."""
    kind: str
    code: Optional[Expr] = None
    xcode: Optional[Expr] = None
    message: Optional[Expr] = None
    functional: bool = False


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class HeaderAction(Node):
    kind: str                  # add | replace | delete
    name: str
    value: Optional[Expr]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class ExprStmt(Node):
    expr: Expr                 # a call or a cast used as a statement


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Pragma(Node):
    words: tuple               # ("regex", "push", "+extended")


# -------------------------------------------------------------- definitions
@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Param(Node):
    type: str
    name: str
    optional: bool = False


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class FuncDef(Node):
    name: str
    params: tuple              # of Param
    variadic: Optional[str]    # type of "..." arguments, or None
    returns: Optional[str]
    aliases: tuple
    body: tuple
    qualifier: Optional[str] = None
    name_pos: Pos = None
    alias_pos: tuple = ()


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Handler(Node):
    name: str
    body: tuple
    legacy: bool = False       # "begin do ... done" without "prog"
    name_pos: Pos = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class ConstDecl(Node):
    name: str
    value: Optional[Expr]
    qualifier: Optional[str] = None
    enum: bool = False         # one item of a "const do ... done" block


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class ConstEnum(Node):
    items: tuple               # of ConstDecl
    qualifier: Optional[str] = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Dclex(Node):
    name: str


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class ModuleDecl(Node):
    name: str
    interface: Optional[str]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Require(Node):
    module: str
    keyword: str = "require"   # "require" | "import"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class FromImport(Node):
    module: str
    names: tuple               # of str (names or '/regex/s-expr' patterns)


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Program(Node):
    items: tuple
    file: str = ""
    # next_token(pos) -> pos of the first token after ``pos`` (for diagnostics that
    # mailfromd reports at its parser's lookahead token); set by the parser
    next_token: object = None


# ----------------------------------------------------------------- helpers
_CHILD_FIELDS: dict = {}


def _child_fields(cls) -> tuple:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls)
                      if f.name != "pos" and not f.name.endswith("_pos") and f.name != "next_token")
        _CHILD_FIELDS[cls] = names
    return names


def children(node: Node):
    """Yield the direct child nodes of ``node`` (through tuples)."""
    for name in _child_fields(type(node)):
        v = getattr(node, name)
        if isinstance(v, Node):
            yield v
        elif type(v) is tuple and v:
            yield from _nodes_in(v)


def _nodes_in(v):
    for x in v:
        if isinstance(x, Node):
            yield x
        elif type(x) is tuple:
            yield from _nodes_in(x)


def walk(node: Node):
    """Pre-order traversal of the subtree."""
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        n = pop()
        yield n
        kids = list(children(n))
        if kids:
            kids.reverse()
            extend(kids)


def dump(node, indent: int = 0) -> str:
    """Canonical multi-line dump: ``Kind@line:col field=value`` with nested children."""
    out: list[str] = []
    _dump(node, indent, out, "")
    return "\n".join(out)


def _dump(v, ind, out, label):
    pad = "  " * ind + (f"{label}: " if label else "")
    if isinstance(v, Node):
        scalars = []
        subs = []
        for f in fields(v):
            if f.name == "pos" or f.name.endswith("_pos") or f.name == "next_token":
                continue
            x = getattr(v, f.name)
            if isinstance(x, Node) or (isinstance(x, tuple) and any(
                    isinstance(y, (Node, tuple)) for y in x)):
                subs.append((f.name, x))
            elif not (x is None or x is False or x == ()):
                scalars.append(f"{f.name}={x!r}")
        p = v.pos
        where = f"@{p[1]}:{p[2]}" if p else ""
        out.append(f"{pad}{type(v).__name__}{where}" + (" " + " ".join(scalars) if scalars else ""))
        for name, x in subs:
            _dump(x, ind + 1, out, name)
    elif isinstance(v, tuple):
        out.append(f"{pad}[")
        for y in v:
            _dump(y, ind + 1, out, "")
        out.append("  " * ind + "]")
    else:
        out.append(f"{pad}{v!r}")
