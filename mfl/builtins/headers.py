"""Header built-ins: header modification (queued), RFC 2047 coding, current headers."""
from ..message import codec
from ..runtime.errors import MFLException
from ..runtime.state import Mod
from .registry import builtin

D = "headers"
_HDR = ("eoh", "body", "eom")

@builtin("void header_add(string name, string value; number idx)", domain=D)
def header_add(rt, name, value, idx=None):
    """Add header NAME: VALUE (inserted at position IDX when given)."""
    if idx is None:
        rt.queue(Mod("add_header", name, value, 1))
    else:
        rt.queue(Mod("insert_header", name, value, idx))


@builtin("void header_insert(string name, string value, number idx)", domain=D)
def header_insert(rt, name, value, idx):
    """Insert header NAME: VALUE at position IDX."""
    rt.queue(Mod("insert_header", name, value, idx))


@builtin("void header_delete(string name; number index)", domain=D)
def header_delete(rt, name, index=1):
    """Delete the INDEXth header NAME (the first by default)."""
    rt.queue(Mod("delete_header", name, None, index))


@builtin("void header_replace(string name, string value; number index)", domain=D)
def header_replace(rt, name, value, index=1):
    """Replace the value of the INDEXth header NAME (the first by default)."""
    rt.queue(Mod("replace_header", name, value, index))


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _s(b: bytes) -> str:
    i = b.find(b"\0")
    return (b if i < 0 else b[:i]).decode("utf-8", "surrogateescape")


@builtin("string message_header_encode(string text; string enc, string charset)", domain=D)
def message_header_encode(rt, text, enc=None, charset=None):
    """Encode TEXT as RFC 2047 encoded words (encoding Q or B, charset utf-8 by default)."""
    try:
        return _s(codec.rfc2047_encode(_b(text), enc or "Q", charset or "utf-8"))
    except codec.CodecError as e:
        raise MFLException("e_failure",
                           f"message_header_encode: error encoding string: {e.text}") from None


@builtin("string message_header_decode(string text; string charset)", domain=D)
def message_header_decode(rt, text, charset=None):
    """Decode RFC 2047 encoded words in TEXT, converting them to CHARSET (UTF-8)."""
    try:
        return _s(codec.rfc2047_decode(_b(text), charset or "UTF-8"))
    except codec.CodecError as e:
        raise MFLException("e_failure",
                           f"message_header_decode: error decoding string: {e.text}") from None


@builtin("string unfold(string text)", domain=D)
def unfold(rt, text):
    """Unfold a folded header value."""
    return _s(codec.unfold(_b(text)))


def _current(rt, who):
    from .messages import current_mu_message
    m = current_mu_message(rt)
    if m is None:
        raise MFLException("e_failure", f"{who}: no current message")
    return m


@builtin("number current_header_count(; string name)", domain=D, handlers=_HDR)
def current_header_count(rt, name=None):
    """Number of headers of the current message (named NAME, if given)."""
    m = _current(rt, "current_header_count")
    return m.count(None if name is None else _b(name))


def _nth(rt, who, n):
    m = _current(rt, who)
    if n < 1 or n > len(m.entries):
        raise MFLException("e_not_found", f"{who}: requested item (#{n}) not found")
    return m.entries[n - 1]


@builtin("string current_header_nth_name(number n)", domain=D, handlers=_HDR)
def current_header_nth_name(rt, n):
    """Name of the Nth header of the current message."""
    return _s(_nth(rt, "current_header_nth_name", n)[0])


@builtin("string current_header_nth_value(number n)", domain=D, handlers=_HDR)
def current_header_nth_value(rt, n):
    """Value of the Nth header of the current message."""
    return _s(_nth(rt, "current_header_nth_value", n)[1])


@builtin("string current_header(string name; number n)", domain=D, handlers=_HDR)
def current_header(rt, name, n=1):
    """Value of the (Nth) header NAME of the current message."""
    m = _current(rt, "current_header")
    v = m.find(_b(name), n) if n >= 1 else None
    if v is None:
        raise MFLException("e_not_found", f"current_header: requested item ({name},{n}) not found")
    return _s(v)
