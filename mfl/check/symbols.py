"""Symbols the checker resolves names to, and the handler table."""
from __future__ import annotations

from dataclasses import dataclass, field

STRING, NUMBER, VOID = "string", "number", "void"

# handler -> types of $1..$N (mailfromd 8.15); "pointer" is the body chunk
HANDLER_ARGS: dict[str, tuple[str, ...]] = {
    "connect": (STRING, NUMBER, NUMBER, STRING),
    "helo": (STRING,),
    "envfrom": (STRING, STRING),
    "envrcpt": (STRING, STRING),
    "data": (),
    "header": (STRING, STRING),
    "eoh": (),
    "body": (STRING, NUMBER),
    "eom": (),
    "begin": (),
    "end": (),
    "startup": (),
    "shutdown": (),
    "action": (STRING, STRING, STRING, STRING),
}
MILTER_STAGES = ("connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh", "body", "eom")
SPECIAL_HANDLERS = ("begin", "end", "startup", "shutdown")


@dataclass
class VarSym:
    name: str
    type: str
    pos: tuple
    kind: str = "global"          # global | local | param | builtin
    module: str = ""
    public: bool = True
    precious: bool = False
    used: bool = False
    index: int = 0                # parameter ordinal (for @name)
    optional: bool = False


@dataclass
class ConstSym:
    name: str
    type: str
    value: object
    pos: tuple
    module: str = ""
    public: bool = True
    used: bool = False
    exception: bool = False


@dataclass
class FuncSym:
    name: str
    params: tuple                 # of (type, name, optional)
    variadic: str | None
    returns: str | None
    pos: tuple
    module: str = ""
    public: bool = True
    builtin: object = None        # registry.Builtin for built-ins
    handlers: frozenset | None = None
    used: bool = False

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p[2])

    @property
    def max_args(self) -> int | None:
        return None if self.variadic else len(self.params)


@dataclass
class ModuleInfo:
    name: str
    file: str
    funcs: dict = field(default_factory=dict)
    vars: dict = field(default_factory=dict)
    consts: dict = field(default_factory=dict)
    ok: bool = True
