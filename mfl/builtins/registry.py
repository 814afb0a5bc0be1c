"""The one registry of MFL built-ins.

Each built-in function is declared once, with its MFL signature written the way
MFL declares functions, and (once implemented) its Python code:

    @builtin("string substr(string str, number start; number length)", domain="strings")
    def substr(rt, s, start, length=None): ...

    planned("number dkim_verify(number msg)", domain="dkim")

Signature syntax: ``RET NAME(TYPE name, ...; TYPE optname, ...)``; parameters
after ``;`` are optional; a trailing ``...`` (or ``TYPE ...``) makes the
function variadic.  RET is ``string``, ``number``, ``boolean`` (a number) or
``void``; a parameter type may also be ``any`` (string or number, no
conversion) or ``pointer`` (mailfromd's opaque pointer type: ``$1`` of
``prog body``, ``vaptr(...)``).  ``handlers=`` restricts the handlers (``prog NAME``) a call may
appear in, as mailfromd does (``dkim_sign`` only in ``eom``).

The checker reads signatures and handler sets; the evaluator calls ``impl(rt,
*args)`` with arguments already converted to the declared types.  Built-in
variables (``dkim_explanation``…), constants and exceptions (``e_divzero``…)
are declared here too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

STRING, NUMBER, ANY, VOID = "string", "number", "any", "void"
POINTER = "pointer"      # mailfromd's opaque pointer: the body handler's $1, vaptr($1)
_TYPES = {"string": STRING, "number": NUMBER, "boolean": NUMBER, "bool": NUMBER,
          "any": ANY, "void": VOID, "pointer": POINTER}

IMPLEMENTED, PARTIAL, PLANNED = "implemented", "partial", "planned"

ALL_HANDLERS = ("startup", "shutdown", "begin", "end", "connect", "helo", "envfrom",
                "envrcpt", "data", "header", "eoh", "body", "eom", "action")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Signature:
    ret: str
    name: str
    params: tuple[Param, ...]
    variadic: str | None = None          # type of the extra arguments, or None

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional)

    @property
    def max_args(self) -> int | None:
        return None if self.variadic else len(self.params)

    def __str__(self) -> str:
        req = [f"{p.type} {p.name}" for p in self.params if not p.optional]
        opt = [f"{p.type} {p.name}" for p in self.params if p.optional]
        s = ", ".join(req)
        if opt:
            s += ("; " if req else "; ") + ", ".join(opt)
        if self.variadic:
            s += (", " if self.params else "") + ("..." if self.variadic == ANY
                                                  else f"{self.variadic} ...")
        return f"{self.ret} {self.name}({s})"


_SIG_RE = re.compile(r"^\s*(\w+)\s+(\w+)\s*\((.*)\)\s*$", re.S)


def parse_signature(text: str) -> Signature:
    m = _SIG_RE.match(text)
    if not m:
        raise ValueError(f"bad built-in signature: {text!r}")
    ret, name, plist = m.groups()
    if ret not in _TYPES:
        raise ValueError(f"bad return type in {text!r}")
    params: list[Param] = []
    variadic = None
    optional = False
    plist = plist.strip()
    if plist:
        for chunk in re.split(r"([;,])", plist):
            chunk = chunk.strip()
            if chunk == ";":
                optional = True
                continue
            if chunk in (",", ""):
                continue
            if chunk.endswith("..."):
                t = chunk[:-3].strip() or "any"
                variadic = _TYPES[t]
                continue
            words = chunk.split()
            if len(words) != 2 or words[0] not in _TYPES or _TYPES[words[0]] == VOID:
                raise ValueError(f"bad parameter {chunk!r} in {text!r}")
            params.append(Param(words[1], _TYPES[words[0]], optional))
    return Signature(_TYPES[ret], name, tuple(params), variadic)


@dataclass(frozen=True, slots=True)
class Builtin:
    sig: Signature
    impl: Callable | None
    status: str
    domain: str
    handlers: frozenset[str] | None = None      # None: allowed everywhere
    doc: str = ""

    @property
    def name(self) -> str:
        return self.sig.name


@dataclass(frozen=True, slots=True)
class BuiltinVariable:
    name: str
    type: str
    domain: str
    status: str = IMPLEMENTED
    doc: str = ""
    default: object = None


@dataclass(frozen=True, slots=True)
class BuiltinConstant:
    name: str
    type: str
    value: object
    domain: str = "core"
    doc: str = ""


FUNCTIONS: dict[str, Builtin] = {}
VARIABLES: dict[str, BuiltinVariable] = {}
CONSTANTS: dict[str, BuiltinConstant] = {}
EXCEPTIONS: dict[str, int] = {}          # e_divzero -> numeric code


def _register(b: Builtin) -> None:
    old = FUNCTIONS.get(b.name)
    if old is not None and old.impl is not None and b.impl is None:
        return                              # an implementation wins over a plan
    FUNCTIONS[b.name] = b


def builtin(sig: str, *, domain: str, handlers=None, status: str = IMPLEMENTED,
            doc: str = "") -> Callable:
    """Decorator: register ``fn(rt, *args)`` as the code of the built-in ``sig``."""
    s = parse_signature(sig)

    def deco(fn: Callable) -> Callable:
        _register(Builtin(s, fn, status, domain,
                          frozenset(handlers) if handlers else None,
                          doc or (fn.__doc__ or "").strip()))
        return fn
    return deco


def planned(sig: str, *, domain: str, handlers=None, doc: str = "") -> None:
    """Declare a built-in that mfl knows (the checker accepts it) but cannot run yet."""
    _register(Builtin(parse_signature(sig), None, PLANNED, domain,
                      frozenset(handlers) if handlers else None, doc))


def variable(decl: str, *, domain: str, status: str = IMPLEMENTED, doc: str = "",
             default: object = None) -> None:
    """Declare a built-in variable: ``variable("string dkim_explanation", domain="dkim")``."""
    t, name = decl.split()
    VARIABLES[name] = BuiltinVariable(name, _TYPES[t], domain, status, doc, default)


def constant(name: str, value: object, *, domain: str = "core", doc: str = "") -> None:
    CONSTANTS[name] = BuiltinConstant(name, NUMBER if isinstance(value, int) else STRING,
                                      value, domain, doc)


def exception(name: str, code: int, doc: str = "") -> None:
    EXCEPTIONS[name] = code
    constant(name, code, domain="exceptions", doc=doc)
