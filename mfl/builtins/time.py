"""Time: current time, formatting, interval parsing.

``strftime`` formats with the C library's localtime_r/gmtime_r and
strftime(3) (through ctypes), so every conversion, the time zone of the
environment (TZ) and the "GMT" zone name of gmtime are those of
mailfromd.  Timestamps the C library cannot convert raise e_range (mailfromd
8.15 crashes on them).

``interval`` follows mailfromd 8.15's parser (measured): pairs of an
optional number (strtoul: sign, decimal, overflow saturates; it must be
followed by white space or the end) and an optional unit (case-insensitive:
either a full plural unit name at the start of the text -- then anything may
follow, e.g. "1 hourss" is an hour and a second -- or a word, up to white
space, that is a prefix of one: "m" is minutes).  A number without a unit
counts seconds, a unit without a number counts one.  Units: seconds,
minutes, hours, days, weeks, months (31 weeks in 8.15); there are no years.
Arithmetic wraps at 64 bits.  Errors: e_invtime "interval: unrecognized time
format (near `REST')".  ``parse_interval`` is the same parser for the
checker (it raises ValueError with the REST text).
"""
from __future__ import annotations

import ctypes
import time as _time

from ..runtime.errors import MFLException
from ..runtime.values import wrap
from .registry import builtin

D = "time"


@builtin("number time()", domain=D)
def time_(rt):
    """Seconds since the Epoch."""
    return int(_time.time())


# ---------------------------------------------------------------- strftime

class _TM(ctypes.Structure):
    _fields_ = [("tm_sec", ctypes.c_int), ("tm_min", ctypes.c_int), ("tm_hour", ctypes.c_int),
                ("tm_mday", ctypes.c_int), ("tm_mon", ctypes.c_int), ("tm_year", ctypes.c_int),
                ("tm_wday", ctypes.c_int), ("tm_yday", ctypes.c_int), ("tm_isdst", ctypes.c_int),
                ("tm_gmtoff", ctypes.c_long), ("tm_zone", ctypes.c_char_p)]


_libc = None


def _clib():
    global _libc
    if _libc is None:
        lib = ctypes.CDLL(None)
        for fn in (lib.localtime_r, lib.gmtime_r):
            fn.restype = ctypes.POINTER(_TM)
            fn.argtypes = [ctypes.POINTER(ctypes.c_long), ctypes.POINTER(_TM)]
        lib.strftime.restype = ctypes.c_size_t
        lib.strftime.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                 ctypes.POINTER(_TM)]
        lib.tzset.restype = None
        _libc = lib
    return _libc


_ENC = ("utf-8", "surrogateescape")


@builtin("string strftime(string fmt, number timestamp; boolean gmt)", domain=D)
def strftime(rt, fmt, timestamp, gmt=None):
    """Format TIMESTAMP with strftime(3) (UTC if GMT, else local time in TZ)."""
    lib = _clib()
    lib.tzset()
    t = ctypes.c_long(timestamp)
    tm = _TM()
    res = (lib.gmtime_r if gmt else lib.localtime_r)(ctypes.byref(t), ctypes.byref(tm))
    if not res:
        raise MFLException("e_range", f"strftime: cannot convert timestamp {timestamp}")
    f = fmt.encode(*_ENC)
    if not f:
        return ""
    size = 256
    while size <= (1 << 24):
        buf = ctypes.create_string_buffer(size)
        n = lib.strftime(buf, size, f, ctypes.byref(tm))
        if n:
            return buf.raw[:n].decode(*_ENC)
        size *= 4
    return ""


# ---------------------------------------------------------------- interval

_UNITS = (("seconds", 1), ("minutes", 60), ("hours", 3600), ("days", 86400),
          ("weeks", 604800), ("months", 31 * 604800))


def _space(c: str) -> bool:
    return c in " \t\n\v\f\r"


def _strtoul(s: str, i: int):
    """(value, end) as strtoul(s+i, &end, 10); end == i when there is no number."""
    j = i
    while j < len(s) and _space(s[j]):
        j += 1
    neg = False
    if j < len(s) and s[j] in "+-":
        neg = s[j] == "-"
        j += 1
    k = j
    while k < len(s) and "0" <= s[k] <= "9":
        k += 1
    if k == j:
        return 0, i
    v = int(s[j:k])
    if v > 0xFFFFFFFFFFFFFFFF:
        v = 0xFFFFFFFFFFFFFFFF
        neg = False
    if neg:
        v = -v & 0xFFFFFFFFFFFFFFFF
    return wrap(v), k


def _unit(s: str, i: int):
    """(seconds, end) of the unit at s[i:], or None."""
    low = s[i:].lower()
    for name, mult in _UNITS:
        if low.startswith(name):
            return mult, i + len(name)
    j = i
    while j < len(s) and not _space(s[j]):
        j += 1
    word = low[:j - i]
    if word:
        for name, mult in _UNITS:
            if name.startswith(word):
                return mult, j
    return None


def parse_interval(text: str) -> int:
    """Seconds in TEXT; ValueError(rest) if it is not an interval."""
    s = text
    i = 0
    total = 0
    n = len(s)
    while True:
        while i < n and _space(s[i]):
            i += 1
        if i >= n:
            return total
        count, end = _strtoul(s, i)
        if end != i:
            if end < n and not _space(s[end]):
                raise ValueError(s[end:])
            i = end
            while i < n and _space(s[i]):
                i += 1
            if i >= n:
                return wrap(total + count)
            u = _unit(s, i)
            if u is None:
                raise ValueError(s[i:])
            total = wrap(total + wrap(count * u[0]))
            i = u[1]
        else:
            u = _unit(s, i)
            if u is None:
                raise ValueError(s[i:])
            total = wrap(total + u[0])
            i = u[1]


@builtin("number interval(string str)", domain=D)
def interval(rt, s):
    """Seconds in a time interval such as '1 hour 30 minutes' (e_invtime if bad)."""
    try:
        return parse_interval(s)
    except ValueError as e:
        raise MFLException("e_invtime",
                           f"interval: unrecognized time format (near `{e.args[0]}')") from None
