"""Character class tests: true if every byte of the string is in the class.

As in mailfromd 8.15, the classes are those of the "C" locale and the test is
made on the bytes of the string (a UTF-8 "é" is two bytes, neither of which is
alphabetic, printable or ASCII).  The empty string passes every test.  On a
failure the built-in variable ``ctype_mismatch`` is set to the byte offset of
the first byte outside the class; a success leaves it unchanged.
"""
from __future__ import annotations

from .registry import builtin, variable

D = "ctype"


def _cls(pred) -> frozenset:
    return frozenset(c for c in range(256) if pred(c))


def _alpha(c):
    return 65 <= c <= 90 or 97 <= c <= 122


def _digit(c):
    return 48 <= c <= 57


_CLASSES = {
    "alnum": _cls(lambda c: _alpha(c) or _digit(c)),
    "alpha": _cls(_alpha),
    "ascii": _cls(lambda c: c < 128),
    "blank": _cls(lambda c: c in (32, 9)),
    "cntrl": _cls(lambda c: c < 32 or c == 127),
    "digit": _cls(_digit),
    "graph": _cls(lambda c: 33 <= c <= 126),
    "lower": _cls(lambda c: 97 <= c <= 122),
    "print": _cls(lambda c: 32 <= c <= 126),
    "punct": _cls(lambda c: 33 <= c <= 126 and not (_alpha(c) or _digit(c))),
    "space": _cls(lambda c: c in (32, 9, 10, 11, 12, 13)),
    "upper": _cls(lambda c: 65 <= c <= 90),
    "xdigit": _cls(lambda c: _digit(c) or 65 <= c <= 70 or 97 <= c <= 102),
}

_MISMATCH_KEY = ":builtin:ctype_mismatch"


def _set_mismatch(rt, off: int) -> None:
    slot = rt.program.global_names.get(_MISMATCH_KEY)
    if slot is not None:
        rt.globals[slot] = off


def _encode(s: str) -> bytes:
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


def _make(name: str, what: str):
    members = _CLASSES[name]

    def test(rt, s):
        for i, c in enumerate(_encode(s)):
            if c not in members:
                _set_mismatch(rt, i)
                return 0
        return 1
    test.__name__ = f"is{name}"
    test.__doc__ = f"True if every byte of STR is {what}; else set ctype_mismatch."
    return builtin(f"boolean is{name}(string str)", domain=D)(test)


for _cls_name, _what in (("alnum", "alphanumeric"), ("alpha", "alphabetic"),
                         ("ascii", "7-bit ASCII"), ("blank", "a space or tab"),
                         ("cntrl", "a control character"), ("digit", "a decimal digit"),
                         ("graph", "printable, not a space"), ("lower", "lower case"),
                         ("print", "printable"), ("punct", "punctuation"),
                         ("space", "whitespace"), ("upper", "upper case"),
                         ("xdigit", "a hexadecimal digit")):
    globals()[f"is{_cls_name}"] = _make(_cls_name, _what)

variable("number ctype_mismatch", domain=D, default=0,
         doc="Offset of the first byte that failed the last failing is* test.")
