"""Run-time support: values and conversions, exceptions, per-connection state.

Built-in implementations use only this package (never the interpreter):
``impl(rt, *args)`` receives arguments already converted to their declared
types (``str`` for string, ``int`` for number) and returns ``str``, ``int`` or
``None``; it signals an MFL exception with ``raise MFLException("e_range", text)``.
"""
from .errors import MFLException, RuntimeFault  # noqa: F401
from .values import to_num, to_str, wrap  # noqa: F401
