"""String built-ins: searching, slicing, case, quoting, formatting, sed/qr.

Everything here reproduces mailfromd 8.15 as measured by running it (the
differential corpora tests/diff/run/lib_string/ and impl_strings/ hold the
evidence), including its quirks.

Bytes, not characters
    mailfromd strings are C strings: every offset, length, width and
    precision counts *bytes*.  mfl keeps strings as Python ``str`` decoded
    from UTF-8 with ``surrogateescape``; the functions below work on the
    UTF-8 encoding of their arguments (``_b``) whenever the result could
    differ, and decode results back with ``surrogateescape`` (``_s``).  So
    ``length("été")`` is 5, ``index("héllo", "l")`` is 3, ``revstr`` reverses
    bytes, and ``substr`` may cut a multibyte character in two (the halves
    come back as lone surrogates and re-join into the original bytes when
    concatenated and written out).  Pure-ASCII strings take a fast path on
    ``str`` directly.  Case conversion (tolower, toupper, sed's \\U...) and
    character classes are those of the "C" locale: ASCII only.

Quirks reproduced on purpose
    * ``substr``: a negative start raises e_range ``start=N``; a negative (or,
      without LENGTH, a start past the end) raises ``start=N, len=STRLEN``;
      a LENGTH past the end is clamped.  A START past the end with an
      explicit LENGTH reads beyond the string in mailfromd (garbage); mfl
      returns "".
    * ``substring``: a negative END counts from the end; START and END are
      swapped when START > END; either being >= the length raises e_range.
      A start that is still negative reads before the string in mailfromd
      (garbage); mfl returns "".
    * ``index``/``rindex`` with START: START must be within 0..length.
      rindex(s, t, START) finds the last T lying entirely before offset START.
    * ``ltrim``/``rtrim`` strip " \\t\\n\\r\\f" by default (not \\v).
    * ``vercmp(a, b)`` is the sign of a - b (the manual has it backwards);
      components are read with strtoul (leading blanks, a sign, saturation).
    * ``qr`` escapes ``*+?[\\]`` (plus ``(){}`` with ``#pragma regex
      +extended``) and the first two bytes of DELIM; ``. ^ $ |`` are left alone.
    * ``sprintf``: see _sprintf below (hexadecimal is 32-bit, octal loses its
      leading digit, precision 0 means "none", a negative ``*`` width sets the
      space flag, unknown conversions are copied and use up an argument...).
    * ``sed``: the GNU tar "transform" engine (see _Xform).

Not reproducible
    * sprintf with an argument of the wrong type: mailfromd prints the heap
      address of a string for %d and reads memory at the number's offset for
      %s; mfl converts (a non-numeric string counts as 0).  ``%0$`` reads
      garbage in mailfromd; mfl raises "Argument 0 is not supplied".
    * sed with the ``g`` flag whose regex matches the empty string at the
      current position loops forever in mailfromd (growing its output until
      "not enough memory"); mfl raises the run-time error "not enough memory"
      at once.
    * Results larger than mailfromd's heap ("memory chunk too big to fit into
      heap") are approximated by a fixed limit (_HEAP_LIMIT bytes).

Regex flavour
    ``sed`` and ``qr`` depend on the ``#pragma regex`` flags in force where
    they are *called*.  Their implementations take a keyword-only
    ``regex_flags`` argument (attribute ``wants_regex_flags`` on the
    function); when the interpreter does not pass it they fall back to
    ``rt.regex_flags`` and then to 0 (basic regex).

Compile-time sed
    mailfromd checks a literal sed expression when it compiles the script
    ("invalid transform string: ..."); ``sed_check(expr, flags)`` returns that
    diagnostic's text (or None) for the checker.
"""
from __future__ import annotations

import functools

from .. import regex as rx
from ..runtime.errors import MFLException, RuntimeFault
from ..runtime.values import LONG_MIN, to_num, to_str
from .registry import builtin

D = "strings"

_MASK64 = (1 << 64) - 1
_ULONG_MAX = _MASK64
_HEAP_LIMIT = 1 << 32          # bytes; beyond this mailfromd's heap gives up


# ---------------------------------------------------------------- helpers
def _b(s: str) -> bytes:
    """The bytes mailfromd would hold for s."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _heap_check(size: int) -> None:
    if size > _HEAP_LIMIT:
        raise RuntimeFault("memory chunk too big to fit into heap")


def _range(fn: str, detail: str = "") -> MFLException:
    return MFLException("e_range", f"{fn}: argument out of range" + (f": {detail}" if detail else ""))


def _regex_flags(rt, regex_flags) -> int:
    if regex_flags is not None:
        return regex_flags
    return getattr(rt, "regex_flags", 0) or 0


_ASCII_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_UPPER_TBL = str.maketrans({chr(k): chr(v) for k, v in _ASCII_UPPER.items()})
_LOWER_TBL = str.maketrans({chr(k): chr(v) for k, v in _ASCII_LOWER.items()})
_BUPPER = bytes(_ASCII_UPPER.get(i, i) for i in range(256))
_BLOWER = bytes(_ASCII_LOWER.get(i, i) for i in range(256))


# ---------------------------------------------------------------- searching
@builtin("number index(string s, string t; number start)", domain=D)
def index(rt, s, t, start=None):
    """Offset of the first occurrence of T in S (at or after START), or -1."""
    if s.isascii() and t.isascii():
        bs, bt = s, t
    else:
        bs, bt = _b(s), _b(t)
    if start is None:
        return bs.find(bt)
    if start < 0 or start > len(bs):
        raise _range("index", f"start={start}")
    return bs.find(bt, start)


@builtin("number rindex(string s, string t; number start)", domain=D)
def rindex(rt, s, t, start=None):
    """Offset of the last occurrence of T in S (ending at or before START), or -1."""
    if s.isascii() and t.isascii():
        bs, bt = s, t
    else:
        bs, bt = _b(s), _b(t)
    if start is None:
        return bs.rfind(bt)
    if start < 0 or start > len(bs):
        raise _range("rindex", f"start={start}")
    return bs.rfind(bt, 0, start)


@builtin("number length(string str)", domain=D)
def length(rt, s):
    """Length of STR in bytes."""
    return len(s) if s.isascii() else len(_b(s))


# ---------------------------------------------------------------- slicing
@builtin("string dequote(string str)", domain=D)
def dequote(rt, s):
    """STR without a balanced pair of surrounding angle brackets."""
    if len(s) >= 2 and s[0] == "<" and s[-1] == ">":
        return s[1:-1]
    return s


@builtin("string replstr(string s, number n)", domain=D)
def replstr(rt, s, n):
    """S repeated N times."""
    if n < 0:
        raise _range("replstr", f"count={n}")
    if not s or n == 0:
        return ""
    _heap_check(len(_b(s)) * n)
    return s * n


@builtin("string revstr(string s)", domain=D)
def revstr(rt, s):
    """S reversed (byte by byte)."""
    if s.isascii():
        return s[::-1]
    return _s(_b(s)[::-1])


@builtin("string substr(string str, number start; number length)", domain=D)
def substr(rt, s, start, length=None):
    """LENGTH bytes of STR from offset START (to the end if omitted)."""
    b = s if s.isascii() else _b(s)
    n = len(b)
    if start < 0:
        raise _range("substr", f"start={start}")
    if length is None:
        length = n - start
    if length < 0:
        raise _range("substr", f"start={start}, len={n}")
    _heap_check(length)
    r = b[start:start + length]
    return r if type(r) is str else _s(r)


@builtin("string substring(string str, number start, number end)", domain=D)
def substring(rt, s, start, end):
    """Bytes START..END of STR (END may be negative, counting from the end)."""
    b = s if s.isascii() else _b(s)
    n = len(b)
    if end < 0:
        end = n + end
    if start > end:
        start, end = end, start
    if start >= n or end >= n:
        raise _range("substring")
    if start < 0:
        return ""               # mailfromd reads memory before the string here
    r = b[start:end + 1]
    return r if type(r) is str else _s(r)


# ---------------------------------------------------------------- case, trimming
@builtin("string tolower(string str)", domain=D)
def tolower(rt, s):
    """STR with ASCII upper-case letters in lower case."""
    return s.translate(_LOWER_TBL)


@builtin("string toupper(string str)", domain=D)
def toupper(rt, s):
    """STR with ASCII lower-case letters in upper case."""
    return s.translate(_UPPER_TBL)


_TRIM_DEFAULT = " \t\n\r\f"


def _trim(s: str, cset: str | None, left: bool) -> str:
    if cset is None:
        cset = _TRIM_DEFAULT
    if cset == "":
        return s
    if cset.isascii():
        return s.lstrip(cset) if left else s.rstrip(cset)
    b, c = _b(s), _b(cset)
    return _s(b.lstrip(c) if left else b.rstrip(c))


@builtin("string ltrim(string str; string cset)", domain=D)
def ltrim(rt, s, cset=None):
    """STR without leading whitespace (or bytes from CSET)."""
    return _trim(s, cset, True)


@builtin("string rtrim(string str; string cset)", domain=D)
def rtrim(rt, s, cset=None):
    """STR without trailing whitespace (or bytes from CSET)."""
    return _trim(s, cset, False)


# ---------------------------------------------------------------- escaping
@builtin("string escape(string str; string chars)", domain=D)
def escape(rt, s, chars=None):
    """Backslash-escape the bytes of CHARS (default: backslash and double quote) in STR."""
    if chars is None:
        chars = '\\"'
    if not chars:
        return s
    if chars.isascii():
        if not any(c in s for c in chars):
            return s
        return "".join("\\" + c if c in chars else c for c in s)
    cs = set(_b(chars))
    out = bytearray()
    for x in _b(s):
        if x in cs:
            out.append(0x5C)
        out.append(x)
    return _s(bytes(out))


@builtin("string unescape(string str)", domain=D)
def unescape(rt, s):
    """STR with every backslash removed (the character after it is kept)."""
    if "\\" not in s:
        return s
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            if i + 1 < n:
                out.append(s[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


_QR_BASIC = frozenset(b"*+?[\\]")
_QR_EXTENDED = frozenset(b"(){}*+?[\\]")


@builtin("string qr(string str; string delim)", domain=D)
def qr(rt, s, delim=None, *, regex_flags=None):
    """Quote the regex metacharacters of STR (and the first two bytes of DELIM)."""
    flags = _regex_flags(rt, regex_flags)
    special = set(_QR_EXTENDED if flags & rx.EXTENDED else _QR_BASIC)
    if delim:
        special.update(_b(delim)[:2])
    out = bytearray()
    for x in _b(s):
        if x in special:
            out.append(0x5C)
        out.append(x)
    return _s(bytes(out))


qr.wants_regex_flags = True


# ---------------------------------------------------------------- vercmp
_CSPACE = b" \t\n\v\f\r"


def _strtoul(b: bytes, p: int, base: int = 10) -> tuple[int, int]:
    """C strtoul(b + p, &end, base) for base 10 or 0: (value, end offset)."""
    n = len(b)
    i = p
    while i < n and b[i] in _CSPACE:
        i += 1
    neg = False
    if i < n and b[i] in b"+-":
        neg = b[i] == 0x2D
        i += 1
    if base == 0:
        if i + 1 < n and b[i] == 0x30 and b[i + 1] in b"xX" and i + 2 < n \
                and b[i + 2] in b"0123456789abcdefABCDEF":
            base, i = 16, i + 2
        elif i < n and b[i] == 0x30:
            base = 8
        else:
            base = 10
    digits = b"0123456789abcdefABCDEF"[:base] if base <= 10 else b"0123456789abcdefABCDEF"
    j = i
    while j < n and b[j] in digits:
        j += 1
    if j == i:
        return 0, p
    v = int(b[i:j], base)
    if v > _ULONG_MAX:
        return _ULONG_MAX, j
    if neg:
        v = (-v) & _MASK64
    return v, j


def _version(s: str, argn: int) -> list[int]:
    b = _b(s)
    bad = MFLException("e_range", f"vercmp: not a valid version number: {s} (argument {argn})")
    if not b:
        raise bad
    comps = []
    p = 0
    while True:
        v, end = _strtoul(b, p)
        comps.append(v)
        if end == len(b):
            return comps
        if b[end] != 0x2E:
            raise bad
        p = end + 1


@builtin("number vercmp(string a, string b)", domain=D)
def vercmp(rt, a, b):
    """Compare version strings: -1, 0 or 1 as A is older than, the same as or newer than B."""
    va, vb = _version(a, 1), _version(b, 2)
    for x, y in zip(va, vb):
        if x != y:
            return -1 if x < y else 1
    if len(va) != len(vb):
        return -1 if len(va) < len(vb) else 1
    return 0


# ---------------------------------------------------------------- sprintf
def _arg_num(v) -> int:
    if type(v) is int:
        return v
    try:
        return to_num(v)
    except MFLException:
        return 0


def _fmt_number(conv: int, v: int, left: bool, plus: bool, space: bool, alt: bool,
                zero: bool, width: int, prec: int | None) -> bytes:
    sign = ""
    if conv in b"di":
        if v < 0:
            sign = "-"
            # mailfromd negates LONG_MIN and prints it signed again
            digits = "-9223372036854775808" if v == LONG_MIN else str(-v)
        else:
            sign = "+" if plus else (" " if space else "")
            digits = str(v)
        if prec is not None:
            digits = digits.rjust(prec, "0")
    elif conv == 0x75:                          # u
        digits = str(v & _MASK64)
        if prec is not None:
            digits = digits.rjust(prec, "0")
    elif conv in b"xX":                         # 32-bit in mailfromd
        digits = format(v & 0xFFFFFFFF, "x" if conv == 0x78 else "X")
        if prec is not None:
            digits = digits.rjust(prec, "0")
        if alt:
            sign = "0x" if conv == 0x78 else "0X"
    else:                                       # o: the leading digit is lost
        t = format(v & _MASK64, "o")[1:]
        if prec is not None and prec > len(t):
            digits = ("0" * (prec - len(t)) + t)[:len(t)]
        else:
            digits = t
            if alt and not digits.startswith("0"):
                digits = "0" + digits
    _heap_check(width)
    if left:
        r = (sign + digits).ljust(width)
    elif zero and prec is None:
        r = sign + digits.rjust(width - len(sign), "0")
    else:
        r = (sign + digits).rjust(width)
    return r.encode("ascii")


def _digits_at(f: bytes, i: int) -> int:
    n = len(f)
    while i < n and 0x30 <= f[i] <= 0x39:
        i += 1
    return i


@builtin("string sprintf(string format, ...)", domain=D,
         doc="printf-style formatting of the remaining arguments (mailfromd's own dialect).")
def sprintf(rt, fmt, *args):
    """printf-style formatting of the remaining arguments (as mailfromd does it).

    Directives: ``%[m$][flags][width][.precision]conv`` with flags ``-+ #0``,
    width and precision as digits, ``*`` or ``*m$``, conversions
    ``d i u o x X s`` and ``%%``.  Arguments are numbered from 1 (after the
    format); a missing one raises e_range "sprintf: Argument N is not
    supplied".  Measured peculiarities: a precision of 0 (or a bare ``.``,
    or a negative ``*``) means no precision (``%.0d`` of 0 is "0", ``%.0s``
    prints the whole string); a negative ``*`` width is taken as its absolute
    value *with the space flag*; ``%x``/``%X`` print the low 32 bits; ``%o``
    drops the leading octal digit; ``%#x`` of 0 is "0x0"; LONG_MIN prints as
    "--9223372036854775808"; any other conversion character (``%c``, ``%5%``,
    ``%ld``...) is copied literally and consumes an argument position without
    checking it; an incomplete directive at the end of the format is dropped.
    """
    f = _b(fmt)
    n = len(f)
    nargs = len(args)
    out = bytearray()
    seq = 0

    def get(idx: int):
        if idx < 0 or idx >= nargs:
            raise MFLException("e_range", f"sprintf: Argument {idx + 1} is not supplied")
        return args[idx]

    def star(i: int) -> tuple[int, int]:
        nonlocal seq
        j = _digits_at(f, i)
        if j > i and j < n and f[j] == 0x24:
            return _arg_num(get(int(f[i:j]) - 1)), j + 1
        v = get(seq)
        seq += 1
        return _arg_num(v), i

    i = 0
    while i < n:
        pct = f.find(b"%", i)
        if pct < 0:
            out += f[i:]
            break
        out += f[i:pct]
        start = pct
        i = pct + 1
        if i >= n:
            break
        if f[i] == 0x25:
            out.append(0x25)
            i += 1
            continue
        pos = None
        j = _digits_at(f, i)
        if j > i and j < n and f[j] == 0x24:
            pos = int(f[i:j])
            i = j + 1
        left = plus = space = alt = zero = False
        while i < n and f[i] in b"-+ #0":
            c = f[i]
            if c == 0x2D:
                left = True
            elif c == 0x2B:
                plus = True
            elif c == 0x20:
                space = True
            elif c == 0x23:
                alt = True
            else:
                zero = True
            i += 1
        width = 0
        if i < n and f[i] == 0x2A:
            width, i = star(i + 1)
            if width < 0:
                space = True
                width = -width
        else:
            j = _digits_at(f, i)
            if j > i:
                width = int(f[i:j])
                i = j
        prec = None
        if i < n and f[i] == 0x2E:
            i += 1
            if i < n and f[i] == 0x2A:
                p, i = star(i + 1)
            else:
                j = _digits_at(f, i)
                p = int(f[i:j]) if j > i else 0
                i = j
            prec = p if p > 0 else None
        if i >= n:
            break
        conv = f[i]
        i += 1
        if conv in b"diuoxXs":
            if pos is not None:
                v = get(pos - 1)
            else:
                v = get(seq)
                seq += 1
            if conv == 0x73:
                sb = _b(to_str(v))
                if prec is not None:
                    sb = sb[:prec]
                _heap_check(width)
                out += sb.ljust(width) if left else sb.rjust(width)
            else:
                out += _fmt_number(conv, _arg_num(v), left, plus, space, alt, zero,
                                   width, prec)
        else:
            out += f[start:i]
            if pos is None:
                seq += 1
    return _s(bytes(out))


# ---------------------------------------------------------------- sed
_STOP, _UP, _LOW, _UP1, _LOW1 = range(5)
_CASE_ESC = {0x55: _UP, 0x4C: _LOW, 0x75: _UP1, 0x6C: _LOW1, 0x45: _STOP}   # U L u l E
_CHAR_ESC = {0x61: b"\a", 0x62: b"\b", 0x66: b"\f", 0x6E: b"\n", 0x72: b"\r",
             0x74: b"\t", 0x76: b"\v", 0x5C: b"\\", 0x26: b"&"}


class _SedError(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _err(what: str, text: bytes | str, pos: int) -> _SedError:
    if isinstance(text, bytes):
        text = _s(text)
    return _SedError(f'{what}, in "{text}" pos. {pos}')


class _Xform:
    """One compiled s-expression, applied the way GNU tar's transform does it
    (which mailfromd uses): regexec restarts at the end of each match (so
    ``^`` can match again when matches are skipped by a number flag), the
    ``g`` flag is ignored when the regex starts with ``^`` or ends with
    ``$``, an empty subject is returned unchanged, and \\u/\\l change one byte
    of the next replacement segment while \\U/\\L/\\E set a state that lasts
    for the whole subject."""

    __slots__ = ("regex", "segs", "glob", "number")

    def __init__(self, regex, segs, glob, number):
        self.regex, self.segs, self.glob, self.number = regex, segs, glob, number

    def apply(self, b: bytes) -> bytes:
        if not b:
            return b
        regex, segs, number = self.regex, self.segs, self.number
        out = bytearray()
        pos, n = 0, len(b)
        nmatch = 0
        case = save = _STOP
        while pos < n:
            pm = regex._exec(b[pos:] if pos else b)
            if pm is None:
                break
            so, eo = pm[0], pm[1]
            nmatch += 1
            if number and nmatch < number:
                out += b[pos:pos + eo]
                pos += eo
                continue
            out += b[pos:pos + so]
            for kind, val in segs:
                if kind == 0:                                   # literal
                    piece = val
                elif kind == 1:                                 # back-reference
                    s0, e0 = pm[2 * val], pm[2 * val + 1]
                    if s0 < 0 or e0 < 0:
                        continue
                    piece = b[pos + s0:pos + e0]
                else:                                           # case control
                    if val in (_UP1, _LOW1):
                        if save in (_STOP, _UP, _LOW):
                            save = case
                    case = val
                    continue
                if case != _STOP:
                    if case == _UP:
                        piece = piece.translate(_BUPPER)
                    elif case == _LOW:
                        piece = piece.translate(_BLOWER)
                    else:
                        if piece:
                            piece = piece[:1].translate(_BUPPER if case == _UP1 else _BLOWER) \
                                + piece[1:]
                        case, save = save, _STOP
                out += piece
            pos += eo
            if not self.glob:
                break
            if eo == 0:
                # mailfromd would repeat this empty match forever
                raise RuntimeFault("not enough memory")
        out += b[pos:]
        return bytes(out)


def _skip_bracket(e: bytes, i: int) -> int:
    """e[i] is '[': return the offset after the bracket expression."""
    n = len(e)
    j = i + 1
    if j < n and e[j] == 0x5D:
        j += 1
    while j < n:
        c = e[j]
        if c == 0x5C:
            j += 2
            continue
        if c == 0x5B and j + 1 < n and e[j + 1] == 0x3A:
            k = e.find(b":]", j + 2)
            if k < 0:
                return n
            j = k + 2
            continue
        if c == 0x5D:
            return j + 1
        j += 1
    return j


def _parse_repl(repl: bytes, delim: int, nsub: int) -> list:
    segs: list = []
    lit = bytearray()

    def flush():
        if lit:
            segs.append((0, bytes(lit)))
            lit.clear()

    i, n = 0, len(repl)
    while i < n:
        c = repl[i]
        if c == 0x5C:
            flush()
            i += 1
            if i >= n:
                break
            c = repl[i]
            if 0x30 <= c <= 0x39:
                j = _digits_at(repl, i)
                ref = int(repl[i:j])
                if ref > nsub:
                    raise _err("back reference out of range", repl, j)
                segs.append((1, ref))
                i = j
                continue
            if c in _CASE_ESC:
                segs.append((2, _CASE_ESC[c]))
            elif c in _CHAR_ESC:
                segs.append((0, _CHAR_ESC[c]))
            else:
                segs.append((0, bytes((c,))))
            i += 1
        elif c == 0x26:
            flush()
            segs.append((1, 0))
            i += 1
        else:
            lit.append(c)
            i += 1
    flush()
    return segs


def _compile_transform(expr: bytes, flags: int) -> list[_Xform]:
    if not expr:
        raise _SedError("(null)")
    xforms = []
    p = 0
    total = len(expr)
    while p < total:
        e = expr[p:]
        n = len(e)
        if e[0] != 0x73:                                        # 's'
            raise _err("invalid transform expression", e, 0)
        if n == 1:
            break                                               # a bare "s": no-op
        delim = e[1]
        i = 2
        while i < n:
            c = e[i]
            if c == 0x5C:
                i += 2
            elif c == delim:
                break
            elif c == 0x5B:
                i = _skip_bracket(e, i)
            else:
                i += 1
        if i >= n:
            raise _err("missing replacement expression", e, i)
        j = i + 1
        while j < n and e[j] != delim:
            if e[j] == 0x5C and j + 1 < n:
                j += 1
            j += 1
        if j >= n:
            raise _err("missing trailing delimiter", e, j)
        glob = False
        number = 0
        cflags = flags
        k = j + 1
        while k < n and e[k] != 0x3B:                           # ';'
            c = e[k]
            if c == 0x67:                                       # g
                glob = True
            elif c == 0x69:                                     # i
                cflags |= rx.ICASE
            elif c == 0x78:                                     # x
                cflags |= rx.EXTENDED
            elif 0x30 <= c <= 0x39:
                number, k = _strtoul(e, k, 0)
                continue
            else:
                raise _err("unknown flag", e, k)
            k += 1
        if k < n:
            k += 1                                              # the ';'
        pattern = e[2:i]
        try:
            creg = rx.compile(_s(pattern), cflags)
        except rx.RegexError as err:
            raise _err("invalid transform expression", err.message, 0)
        if pattern and (pattern[0] == 0x5E or pattern[-1] == 0x24):
            glob = False
        segs = _parse_repl(e[i + 1:j], delim, creg.nsub)
        xforms.append(_Xform(creg, tuple(segs), glob, number))
        p += k
    return xforms


@functools.lru_cache(maxsize=256)
def _transform(expr: str, flags: int) -> tuple:
    return tuple(_compile_transform(_b(expr), flags))


def sed_check(expr: str, flags: int = 0) -> str | None:
    """The compile-time diagnostic mailfromd gives for a literal sed
    expression (``invalid transform string: DETAIL``), or None if it is valid."""
    try:
        _transform(expr, flags)
    except _SedError as e:
        return f"invalid transform string: {e.detail}"
    return None


@builtin("string sed(string subject, string expr, ...)", domain=D)
def sed(rt, subject, *exprs, regex_flags=None):
    """Apply one or more s-expressions (s/re/repl/flags, ';'-separated) to SUBJECT."""
    flags = _regex_flags(rt, regex_flags)
    xfs = []
    for e in exprs:
        e = to_str(e)
        try:
            xfs.extend(_transform(e, flags))
        except _SedError as err:
            raise RuntimeFault(f'invalid transform string "{e}": {err.detail}')
    b = _b(subject)
    for x in xfs:
        b = x.apply(b)
    return _s(b)


sed.wants_regex_flags = True
