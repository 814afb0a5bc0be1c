"""Body built-ins: body chunks in prog body, body replacement.

The body handler's ``$1`` (MFL type ``pointer``) is the chunk as Python
``bytes`` (the session driver and the milter host pass the bytes the MTA
sent: CR LF line ends); ``body_string($1, $2)`` makes an MFL string of it
(stopping at a NUL byte, as mailfromd's C strings do).
"""
from ..message import Blob
from ..runtime.errors import MFLException
from ..runtime.state import Mod
from .registry import builtin

D = "body"
_ENC = ("utf-8", "surrogateescape")


def _bytes(p) -> bytes:
    raw = getattr(p, "raw", None)          # mfl.interp.session.BodyChunk
    if raw is not None:
        return raw
    if isinstance(p, (bytes, bytearray, memoryview)):
        return bytes(p)
    if p is None:
        return b""
    return str(p).encode(*_ENC)


@builtin("string body_string(pointer text, number count)", domain=D, handlers=("body",))
def body_string(rt, text, count):
    """The first COUNT bytes of the body chunk TEXT as a string."""
    data = _bytes(text)[:max(0, count)]
    i = data.find(b"\0")
    if i >= 0:
        data = data[:i]
    return data.decode(*_ENC)


@builtin("boolean body_has_nulls(pointer text, number count)", domain=D, handlers=("body",))
def body_has_nulls(rt, text, count):
    """True if the first COUNT bytes of the body chunk TEXT contain a NUL byte."""
    return 1 if b"\0" in _bytes(text)[:max(0, count)] else 0


@builtin("void replbody(string text)", domain=D)
def replbody(rt, text):
    """Replace the message body with TEXT."""
    rt.queue(Mod("replace_body", "BODY", text, 0))


@builtin("void replbody_fd(number fd)", domain=D)
def replbody_fd(rt, fd):
    """Replace the message body with the contents read from FD (from its current position)."""
    from . import io as _io
    st = _io._table(rt).get(fd)

    def chunks():
        while True:
            try:
                c = st.read_chunk()
            except OSError as e:
                raise MFLException("e_io", f"read error on {st.name}: {e.strerror}") from None
            if not c:
                return
            yield c
    rt.queue(Mod("replace_body_fd", "BODYFD", Blob.from_chunks(chunks()), fd))
