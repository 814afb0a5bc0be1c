"""POSIX regular expressions and fnmatch(3), by way of the C library itself.

mailfromd implements the ``matches`` operator with regcomp(3)/regexec(3)
(basic syntax unless ``#pragma regex +extended``; flags ``icase`` and
``newline``) and ``fnmatches`` with fnmatch(3) (flags 0).  To behave exactly
the same -- same syntax, same leftmost-longest POSIX semantics, same
back-references, same error messages -- this module calls glibc through
ctypes instead of translating patterns to Python's :mod:`re`.

API::

    compile(pattern, flags=0) -> Regex     # cached (LRU) by (pattern, flags)
    Regex.nsub                             # number of \\( \\) or ( ) groups
    Regex.search(s) -> [whole, g1, ...] | None   (None for unmatched groups)
    Regex.span(s)   -> [(start, end), ...] | None (character offsets in s)
    Regex.matches(s) -> bool               # cheapest: no group extraction
    fnmatch(pattern, s, flags=0) -> bool
    parse_pragma_flags(words, current) -> int     # "#pragma regex" flag words
    RegexError(message)                    # message is regerror()'s text

Strings
    MFL strings are byte strings that cannot contain NUL.  Python ``str``
    values are encoded as UTF-8 with ``surrogateescape`` (so bytes that are not
    UTF-8 survive as lone surrogates U+DC80..U+DCFF), and both patterns and
    subjects end at their first NUL, as they would in C.  span() converts
    glibc's byte offsets back to offsets in characters of the given string.

Locale
    glibc's regex and fnmatch interpret bytes according to the process's
    LC_CTYPE; this module never changes the locale.  mailfromd calls
    ``setlocale(LC_ALL, "")``, and the Python interpreter sets LC_CTYPE from the
    environment at start-up, so both follow LANG/LC_ALL/LC_CTYPE alike:

    * In the "C" (POSIX) locale every byte is one character: ``.`` and ``?``
      match a single byte, so a non-ASCII UTF-8 character counts as several
      characters and a match may begin or end inside one; ``icase`` folds only
      ASCII letters; ``[[:alpha:]]`` and friends only classify ASCII.  A
      span() offset that falls inside a multibyte character is rounded
      outwards (start down, end up), and search() then returns the matched
      bytes decoded with surrogateescape (e.g. ``"a\\udcc3"`` for the first
      byte of "é").
    * In a UTF-8 locale (e.g. C.UTF-8) ``.`` matches a whole character and
      ``icase`` folds non-ASCII letters too.

    Caveat: with an *empty* environment mailfromd runs in "C", whereas
    Python (PEP 538 locale coercion) switches itself to C.UTF-8; run with
    ``LC_ALL=C`` or ``PYTHONCOERCECLOCALE=0`` to get byte semantics then.
    Likewise regerror() messages follow LC_MESSAGES, which Python leaves at
    "C" (English), while mailfromd would use the environment's language if
    glibc's translations are installed.

Threads
    regcomp runs under a module lock.  regexec on a compiled pattern is
    thread-safe in glibc; each Regex reuses one regmatch_t array, guarded by
    its own lock.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
import threading
from bisect import bisect_left, bisect_right

__all__ = ["RegexError", "Regex", "compile", "fnmatch", "parse_pragma_flags",
           "EXTENDED", "ICASE", "NEWLINE", "FLAG_NAMES",
           "FNM_PATHNAME", "FNM_NOESCAPE", "FNM_PERIOD", "FNM_LEADING_DIR",
           "FNM_CASEFOLD", "FNM_EXTMATCH"]

# mfl flag bits (as stored in the #pragma regex state)
EXTENDED, ICASE, NEWLINE = 1, 2, 4
FLAG_NAMES = {"extended": EXTENDED, "icase": ICASE, "newline": NEWLINE}

# <regex.h> (glibc)
_REG_EXTENDED, _REG_ICASE, _REG_NEWLINE = 1, 2, 4
_REG_NOMATCH = 1

# <fnmatch.h> (glibc, _GNU_SOURCE)
FNM_PATHNAME, FNM_NOESCAPE, FNM_PERIOD = 1, 2, 4
FNM_LEADING_DIR, FNM_CASEFOLD, FNM_EXTMATCH = 8, 16, 32

_REGEX_T_SIZE = 256           # sizeof(regex_t) is 64 on 64-bit glibc; be generous

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")

_regcomp = _libc.regcomp
_regcomp.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int)
_regcomp.restype = ctypes.c_int

_regexec = _libc.regexec
_regexec.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                     ctypes.c_void_p, ctypes.c_int)
_regexec.restype = ctypes.c_int

_regerror = _libc.regerror
_regerror.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                      ctypes.c_size_t)
_regerror.restype = ctypes.c_size_t

_regfree = _libc.regfree
_regfree.argtypes = (ctypes.c_void_p,)
_regfree.restype = None

_fnmatch = _libc.fnmatch
_fnmatch.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int)
_fnmatch.restype = ctypes.c_int

_regoff_t = ctypes.c_int      # glibc: regoff_t is int (regmatch_t is 8 bytes)

_compile_lock = threading.Lock()


class RegexError(Exception):
    """A pattern regcomp() rejects; ``message`` is regerror()'s text."""

    def __init__(self, message: str, code: int = 0, pattern: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.pattern = pattern


def _error_text(code: int, preg) -> str:
    size = _regerror(code, preg, None, 0)
    buf = ctypes.create_string_buffer(max(size, 1))
    _regerror(code, preg, buf, size)
    return buf.value.decode("utf-8", "surrogateescape")


def _find_nsub_offset() -> int:
    """Offset of re_nsub in regex_t.

    glibc's regex_t starts with buffer, allocated, used, syntax, fastmap,
    translate (six words), then re_nsub (size_t): offset 48 on 64-bit
    targets, 24 on 32-bit ones.  Verify this by compiling patterns with a
    known number of groups; search for the field if the layout ever differs.
    """
    word = ctypes.sizeof(ctypes.c_size_t)
    probes = [(b"\\(a\\)\\(b\\)\\(c\\)", 3), (b"\\(\\(a\\)b\\)\\(c\\)\\(d\\)\\(e\\)", 5),
              (b"abc", 0), (b"\\(x\\)", 1)]
    values = []
    for pat, _ in probes:
        buf = ctypes.create_string_buffer(_REGEX_T_SIZE)
        if _regcomp(ctypes.addressof(buf), pat, 0) != 0:
            raise ImportError("regcomp failed on a probe pattern")
        values.append(bytes(buf.raw))
        _regfree(ctypes.addressof(buf))
    wanted = [n for _, n in probes]
    candidates = [6 * word] + [o for o in range(0, _REGEX_T_SIZE - word + 1, word)
                               if o != 6 * word]
    for off in candidates:
        got = [int.from_bytes(v[off:off + word], sys.byteorder) for v in values]
        if got == wanted:
            return off
    raise ImportError("cannot locate re_nsub in glibc's regex_t")


_NSUB_OFFSET = _find_nsub_offset()


def _cstr(s: str) -> str:
    """The string as C sees it: up to the first NUL."""
    if "\0" in s:
        return s[:s.index("\0")]
    return s


def _encode(s: str) -> tuple[bytes, str]:
    """Encode s for the C library; return (bytes, errors-handler used)."""
    try:
        return s.encode("utf-8", "surrogateescape"), "surrogateescape"
    except UnicodeEncodeError:
        # lone surrogates outside U+DC80..U+DCFF: cannot come from decoding
        # bytes, but do not fail on them
        return s.encode("utf-8", "surrogatepass"), "surrogatepass"


class _Offsets:
    """Maps byte offsets into the encoding of s back to character offsets."""

    __slots__ = ("s", "b", "errors", "_cum")

    def __init__(self, s: str, b: bytes, errors: str):
        self.s, self.b, self.errors = s, b, errors
        self._cum = None

    def _table(self) -> list[int]:
        if self._cum is None:
            cum = [0]
            n = 0
            enc, errors = str.encode, self.errors
            for c in self.s:
                n += 1 if c < "\x80" else len(enc(c, "utf-8", errors))
                cum.append(n)
            self._cum = cum
        return self._cum

    def char(self, off: int, up: bool) -> int:
        if self.errors == "surrogateescape":
            p = self.b[:off].decode("utf-8", "surrogateescape")
            if self.s.startswith(p):
                return len(p)
        cum = self._table()
        i = bisect_left(cum, off)
        if i < len(cum) and cum[i] == off:
            return i
        # inside a multibyte character
        return i if up else bisect_right(cum, off) - 1


class Regex:
    """A compiled POSIX regular expression (see the module docstring)."""

    __slots__ = ("pattern", "flags", "nsub", "_preg", "_preg_addr", "_nmatch",
                 "_pm", "_pm_addr", "_lock", "_compiled", "__weakref__")

    def __init__(self, pattern: str, flags: int = 0):
        self._compiled = False
        self.pattern = pattern
        self.flags = flags
        cflags = ((_REG_EXTENDED if flags & EXTENDED else 0)
                  | (_REG_ICASE if flags & ICASE else 0)
                  | (_REG_NEWLINE if flags & NEWLINE else 0))
        pat, _ = _encode(_cstr(pattern))
        self._preg = ctypes.create_string_buffer(_REGEX_T_SIZE)
        self._preg_addr = ctypes.addressof(self._preg)
        with _compile_lock:
            rc = _regcomp(self._preg_addr, pat, cflags)
            if rc != 0:
                raise RegexError(_error_text(rc, self._preg_addr), rc, pattern)
        self._compiled = True
        self.nsub = ctypes.c_size_t.from_buffer(self._preg, _NSUB_OFFSET).value
        self._nmatch = self.nsub + 1
        self._pm = (_regoff_t * (2 * self._nmatch))()
        self._pm_addr = ctypes.addressof(self._pm)
        self._lock = threading.Lock()

    def __del__(self):
        if self._compiled:
            self._compiled = False
            try:
                _regfree(self._preg_addr)
            except Exception:       # interpreter shutdown
                pass

    def __repr__(self) -> str:
        return f"<mfl.regex.Regex {self.pattern!r} flags={self.flags}>"

    def _exec(self, b: bytes) -> list[int] | None:
        with self._lock:
            rc = _regexec(self._preg_addr, b, self._nmatch, self._pm_addr, 0)
            if rc == 0:
                return self._pm[:]
        if rc == _REG_NOMATCH:
            return None
        raise RegexError(_error_text(rc, self._preg_addr), rc, self.pattern)

    def matches(self, s: str) -> bool:
        """True if the pattern matches somewhere in s."""
        b, _ = _encode(_cstr(s))
        rc = _regexec(self._preg_addr, b, 0, None, 0)
        if rc == 0:
            return True
        if rc == _REG_NOMATCH:
            return False
        raise RegexError(_error_text(rc, self._preg_addr), rc, self.pattern)

    def search(self, s: str) -> list[str | None] | None:
        """[whole match, group 1, ..., group nsub], None for unmatched groups;
        None if the pattern does not match."""
        s = _cstr(s)
        b, errors = _encode(s)
        pm = self._exec(b)
        if pm is None:
            return None
        it = iter(pm)
        if len(b) == len(s):        # one byte per character
            return [None if so < 0 else s[so:eo] for so, eo in zip(it, it)]
        return [None if so < 0 else b[so:eo].decode("utf-8", errors)
                for so, eo in zip(it, it)]

    def span(self, s: str) -> list[tuple[int, int] | None] | None:
        """Like search(), as (start, end) character offsets into s
        (None for unmatched groups)."""
        s = _cstr(s)
        b, errors = _encode(s)
        pm = self._exec(b)
        if pm is None:
            return None
        it = iter(pm)
        if len(b) == len(s):
            return [None if so < 0 else (so, eo) for so, eo in zip(it, it)]
        offs = _Offsets(s, b, errors)
        return [None if so < 0 else (offs.char(so, False), offs.char(eo, True))
                for so, eo in zip(it, it)]


@functools.lru_cache(maxsize=512)
def _compile(pattern: str, flags: int) -> Regex:
    return Regex(pattern, flags)


def compile(pattern: str, flags: int = 0) -> Regex:
    """Compile pattern (cached by (pattern, flags)); raise RegexError."""
    return _compile(pattern, flags & (EXTENDED | ICASE | NEWLINE))


def fnmatch(pattern: str, s: str, flags: int = 0) -> bool:
    """glibc fnmatch(3): True on a match.  With flags 0 (mailfromd's choice)
    ``*`` and ``?`` match ``/`` and leading dots too, and ``\\`` escapes.
    An invalid pattern (fnmatch returning neither 0 nor FNM_NOMATCH) does not
    match."""
    p, _ = _encode(_cstr(pattern))
    b, _ = _encode(_cstr(s))
    return _fnmatch(p, b, flags) == 0


def parse_pragma_flags(words: list[str], current: int) -> int:
    """Apply the flag words of ``#pragma regex`` (without push/pop) to current.

    As mailfromd 8.15 does: a word is a flag name (extended, icase, newline)
    optionally prefixed with ``+`` (enable), ``-`` (disable) or ``=`` (set
    the flags to exactly this one).  A prefix stays in force for the
    following unprefixed words, and before any prefix the mode is ``=``:
    ``#pragma regex icase newline`` leaves only newline set, and
    ``#pragma regex -icase newline`` clears both.  Only one prefix character
    is stripped.  An unknown flag raises ValueError(name-without-prefix),
    for "unknown regexp flag: NAME".
    """
    mode = "="
    flags = current
    for w in words:
        if w[:1] in ("+", "-", "="):
            mode, w = w[0], w[1:]
        bit = FLAG_NAMES.get(w)
        if bit is None:
            raise ValueError(w)
        if mode == "+":
            flags |= bit
        elif mode == "-":
            flags &= ~bit
        else:
            flags = bit
    return flags


class PragmaState:
    """The regex flags in force while a file is read: ``#pragma regex [push|pop] flags``.

    ``apply(words)`` takes the words after ``regex`` and returns an error
    message (mailfromd's wording) or None; ``flags`` is the current value."""

    def __init__(self, flags: int = 0):
        self.flags = flags
        self.stack: list[int] = []

    def apply(self, words) -> str | None:
        words = list(words)
        if words and words[0] == "push":
            self.stack.append(self.flags)
            words = words[1:]
        elif words and words[0] == "pop":
            if not self.stack:
                return "nothing to pop"
            self.flags = self.stack.pop()
            words = words[1:]
        if words:
            try:
                self.flags = parse_pragma_flags(words, self.flags)
            except ValueError as e:
                return f"unknown regexp flag: {e.args[0]}"
        return None
