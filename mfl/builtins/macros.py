"""Sendmail macro access.

Macros live in ``rt.macros`` under their plain names (``i``,
``client_addr``).  As mailfromd 8.15 does, a name asked for in braces
(``{client_addr}``) is looked up without them; a key that itself contains
braces is never found.
"""
from __future__ import annotations

from ..runtime.errors import MFLException
from .registry import builtin

D = "macros"


def _key(name: str) -> str:
    if len(name) >= 2 and name[0] == "{" and name[-1] == "}":
        return name[1:-1]
    return name


@builtin("string getmacro(string macro)", domain=D)
def getmacro(rt, name):
    """Value of the Sendmail macro MACRO (e_macroundef if it is not defined)."""
    v = rt.macros.get(_key(name))
    if v is None:
        raise MFLException("e_macroundef", f"getmacro: macro not defined: {name}")
    return v


@builtin("boolean macro_defined(string name)", domain=D)
def macro_defined(rt, name):
    """True if the Sendmail macro NAME is defined."""
    return 1 if _key(name) in rt.macros else 0
