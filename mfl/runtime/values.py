"""MFL values: Python ``str`` for strings, ``int`` (wrapped to C ``long``) for numbers.

Conversions follow mailfromd 8.15 (measured): a string becomes a number by
``strtol(s, &end, 0)`` -- leading blanks, a sign, ``0x`` hex and ``0`` octal
prefixes -- and anything left over raises ``e_ston_conv``; the empty string
is 0.  Arithmetic wraps at 64 bits, shift counts are taken modulo 64, and
division truncates toward zero, as on x86-64.
"""
from __future__ import annotations

import re

from .errors import MFLException

_BITS = 64
_MASK = (1 << _BITS) - 1
_SIGN = 1 << (_BITS - 1)
LONG_MAX = _SIGN - 1
LONG_MIN = -_SIGN

_STRTOL = re.compile(r"[ \t\n\v\f\r]*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def wrap(n: int) -> int:
    """Reduce to a signed 64-bit value."""
    if LONG_MIN <= n <= LONG_MAX:
        return n
    n &= _MASK
    return n - (1 << _BITS) if n & _SIGN else n


def to_num(v) -> int:
    if type(v) is int:
        return v
    if v == "":
        return 0
    m = _STRTOL.match(v)
    if m is None or m.end() != len(v):
        stop = v[m.end():] if m else v
        raise MFLException("e_ston_conv",
                           f"Cannot convert stack value to number (stopped at {stop})")
    sign, digits = m.groups()
    if digits[:2] in ("0x", "0X"):
        n = int(digits, 16)
    elif len(digits) > 1 and digits[0] == "0":
        n = int(digits, 8)
    else:
        n = int(digits)
    if sign == "-":
        n = -n
    # strtol saturates on overflow
    return LONG_MAX if n > LONG_MAX else LONG_MIN if n < LONG_MIN else n


def to_str(v) -> str:
    return v if type(v) is str else str(v)


def truth(v) -> bool:
    """A number is true when non-zero; a string when non-empty."""
    if type(v) is int:
        return v != 0
    return v != ""


def div(a: int, b: int) -> int:
    if b == 0:
        raise MFLException("e_divzero", "Division by zero at 00000000")
    q = abs(a) // abs(b)
    return wrap(q if (a >= 0) == (b >= 0) else -q)


def mod(a: int, b: int) -> int:
    if b == 0:
        raise MFLException("e_divzero", "Division by zero at 00000000")
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def shl(a: int, b: int) -> int:
    return wrap(a << (b & 63))


def shr(a: int, b: int) -> int:
    return a >> (b & 63)
