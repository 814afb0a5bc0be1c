"""Native language support (the library layer, gettext..., lives in module gettext).

mailfromd calls the C library's bindtextdomain/dgettext/dngettext after
``setlocale(LC_ALL, "")``.  mfl looks the catalogs up with Python's
:mod:`gettext` instead, in the same places: DIRNAME/LANG/LC_MESSAGES/DOMAIN.mo,
DIRNAME as set by bindtextdomain (process-wide, like the C library's
bindings; default /usr/share/locale).  The language comes from LC_ALL,
LC_MESSAGES or LANG (the first one set), with LANGUAGE as a list of
preferences; as in glibc there is no translation at all when that locale is
"C"/"POSIX" (or C.UTF-8) or is not installed (setlocale fails and the
program stays in "C").  Without a translation dgettext returns MSGID and
dngettext returns MSGID when N is 1 and MSGID_PLURAL otherwise.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gettext
import os

from ..runtime.errors import MFLException
from .registry import builtin

D = "nls"

_DEFAULT_DIR = "/usr/share/locale"
_BINDINGS: dict[str, str] = {}
_MASK64 = (1 << 64) - 1


@functools.lru_cache(maxsize=32)
def _locale_exists(name: str) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        newlocale = libc.newlocale
        newlocale.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
        newlocale.restype = ctypes.c_void_p
        freelocale = libc.freelocale
        freelocale.argtypes = (ctypes.c_void_p,)
        lc_messages_mask = 1 << 5               # glibc: LC_MESSAGES is category 5
        loc = newlocale(lc_messages_mask, name.encode(), None)
        if not loc:
            return False
        freelocale(loc)
        return True
    except (OSError, AttributeError):
        return False


def _languages() -> tuple[str, ...] | None:
    env = os.environ
    name = ""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            name = env[var]
            break
    if not name or name in ("C", "POSIX") or name.startswith(("C.", "POSIX.")):
        return None
    if not _locale_exists(name):
        return None
    pref = env.get("LANGUAGE")
    langs = [x for x in pref.split(":") if x] if pref else []
    return tuple(langs or [name])


@functools.lru_cache(maxsize=64)
def _catalog(domain: str, dirname: str, langs: tuple[str, ...] | None):
    if langs is None or not domain:
        return gettext.NullTranslations()
    return gettext.translation(domain, dirname, languages=list(langs), fallback=True)


def _translations(domain: str):
    return _catalog(domain, _BINDINGS.get(domain, _DEFAULT_DIR), _languages())


@builtin("string bindtextdomain(string domain, string dirname)", domain=D)
def bindtextdomain(rt, domain, dirname):
    """Set the message catalog directory of DOMAIN; returns it."""
    if domain == "":
        raise MFLException("e_failure", "bindtextdomain: bindtextdomain failed: Success")
    _BINDINGS[domain] = dirname
    return dirname


@builtin("string dgettext(string domain, string msgid)", domain=D)
def dgettext(rt, domain, msgid):
    """Translation of MSGID in DOMAIN."""
    if msgid == "":
        return ""
    return _translations(domain).gettext(msgid)


@builtin("string dngettext(string domain, string msgid, string msgid_plural, number n)",
         domain=D)
def dngettext(rt, domain, msgid, msgid_plural, n):
    """Plural-aware translation in DOMAIN."""
    return _translations(domain).ngettext(msgid, msgid_plural, n & _MASK64)
