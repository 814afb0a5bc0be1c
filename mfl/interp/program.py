"""A compiled MFL program: shared, read-only after compilation, run by many connections."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Func:
    """A user function: parameter types, locals count and its compiled body."""
    name: str
    params: tuple                     # types of the declared parameters
    nreq: int                         # mandatory parameters
    variadic: str | None              # type of the "..." arguments
    returns: str | None
    pos: tuple
    nlocals: int = 0
    body: object = None               # closure(frame) -> signal
    local_defaults: tuple = ()        # the initial value of each local slot


@dataclass
class Handler:
    name: str
    pos: tuple
    nlocals: int
    body: object                      # closure(frame) -> signal
    local_defaults: tuple = ()


@dataclass
class Program:
    """What the compiler produces from a checked Unit."""
    file: str
    progname: str = "mfld"
    global_names: dict = field(default_factory=dict)      # "module:name" -> slot
    global_defaults: list = field(default_factory=list)
    nonprecious: list = field(default_factory=list)
    funcs: dict = field(default_factory=dict)             # public names -> Func
    handlers: dict = field(default_factory=dict)          # name -> [Handler] (begin/end merged)
    exceptions: dict = field(default_factory=dict)        # dclex name -> code
    macros_used: dict = field(default_factory=dict)       # handler -> set of macro names
    dynamic_macros: bool = False                          # getmacro(NAME) with a computed NAME
    initialized: dict = field(default_factory=dict)       # "module:name" -> where it got a value
    end_pos: tuple | None = None                          # the last token of the main file

    def handler(self, name: str) -> list:
        return self.handlers.get(name, [])
