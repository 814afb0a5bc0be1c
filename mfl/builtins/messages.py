"""Message objects: the current message, parts, headers and body lines, bursting.

Message descriptors are numbers 0..1023 indexing a per-connection table
(``rt.extra["messages"]``, the lowest free slot is used), as in mailfromd
8.15: a number outside that range raises ``e_range`` "invalid message
descriptor", a free slot ``e_failure`` "message not open".  Each descriptor
has its own read positions: one in the message stream (header, empty line,
body: ``message_read_line``, ``message_rewind``, ``message_to_stream`` --
which copies from that position and leaves it at the end) and one in the
body (``message_read_body_line``, ``message_body_rewind``;
``message_body_to_stream`` always copies the whole body and moves nothing).

The messages follow Mailutils' view (``mfl.message.mu``): header entries
written back as ``NAME: VALUE`` lines, so sizes and lines are counted on that
form.  Strings returned stop at a NUL byte, as C strings do.

The current message (``current_message``) is the one the host filters:
``rt.message`` (an ``mfl.message.Message``, set by the session driver or the
milter host once the header is complete).  mailfromd builds it from what the
MTA passed, with CR LF turned into LF; so does mfl.
"""
from __future__ import annotations

from ..message import Blob
from ..message import mu
from ..runtime.errors import MFLException
from .registry import builtin, variable

D = "messages"
MAX_MESSAGES = 1024
_ENC = ("utf-8", "surrogateescape")


def _b(s: str) -> bytes:
    return s.encode(*_ENC)


def _s(b: bytes) -> str:
    return mu.cstr(b).decode(*_ENC)


class MsgDesc:
    __slots__ = ("msg", "pos", "body_pos", "mailbox")

    def __init__(self, msg: mu.MuMessage, mailbox=None):
        self.msg = msg
        self.pos = 0
        self.body_pos = 0
        self.mailbox = mailbox


def _table(rt) -> list:
    t = rt.extra.get("messages")
    if t is None:
        t = rt.extra["messages"] = []
    return t


def new_descriptor(rt, who: str, msg: mu.MuMessage, mailbox=None) -> int:
    t = _table(rt)
    for i, d in enumerate(t):
        if d is None:
            t[i] = MsgDesc(msg, mailbox)
            return i
    if len(t) >= MAX_MESSAGES:
        raise MFLException("e_failure", f"{who}: no more message slots available")
    t.append(MsgDesc(msg, mailbox))
    return len(t) - 1


def get_desc(rt, who: str, n: int) -> MsgDesc:
    if n < 0 or n >= MAX_MESSAGES:
        raise MFLException("e_range", f"{who}: invalid message descriptor")
    t = _table(rt)
    if n >= len(t) or t[n] is None:
        raise MFLException("e_failure", f"{who}: message not open")
    return t[n]


def close_descriptor(rt, n: int) -> None:
    t = _table(rt)
    if 0 <= n < len(t):
        t[n] = None


def _msg(rt, who: str, n: int) -> mu.MuMessage:
    return get_desc(rt, who, n).msg


# ------------------------------------------------------------------ the current message

def current_mu_message(rt) -> mu.MuMessage | None:
    """The host's current message (``rt.message``) in Mailutils form, cached."""
    raw = getattr(rt, "message", None)
    if raw is None:
        return None
    cache = rt.extra.get("current_message")
    if cache is not None and cache[0] is raw:
        return cache[1]
    entries = [[f.name.rstrip(b" \t"), f.value.lstrip(b" \t").replace(b"\r\n", b"\n")]
               for f in raw.fields]
    body = Blob.from_chunks(_crlf_to_lf(raw.body))
    m = mu.MuMessage(entries, body)
    rt.extra["current_message"] = (raw, m, None)
    return m


def _crlf_to_lf(blob: Blob):
    carry = b""
    for c in blob.chunks():
        c = carry + c
        carry = b""
        if c.endswith(b"\r"):
            c, carry = c[:-1], b"\r"
        yield c.replace(b"\r\n", b"\n")
    if carry:
        yield carry


@builtin("number current_message()", domain=D, handlers=("eom",))
def current_message(rt):
    """Descriptor of the message being filtered."""
    m = current_mu_message(rt)
    if m is None:
        raise MFLException("e_failure", "current_message: no current message")
    raw, mm, desc = rt.extra["current_message"]
    t = _table(rt)
    if desc is not None and desc < len(t) and t[desc] is not None and t[desc].msg is mm:
        return desc
    desc = new_descriptor(rt, "current_message", mm)
    rt.extra["current_message"] = (raw, mm, desc)
    return desc


# ------------------------------------------------------------------ sizes

@builtin("number message_size(number nmsg)", domain=D)
def message_size(rt, nmsg):
    """Size of the message in bytes."""
    return _msg(rt, "message_size", nmsg).size


@builtin("number message_lines(number nmsg)", domain=D)
def message_lines(rt, nmsg):
    """Number of lines in the message."""
    return _msg(rt, "message_lines", nmsg).lines


@builtin("boolean message_body_is_empty(number nmsg)", domain=D)
def message_body_is_empty(rt, nmsg):
    """True if the message body is empty or whitespace only."""
    m = _msg(rt, "message_body_is_empty", nmsg)
    if len(m.body) == 0:
        return 1
    data = m.body
    cte = m.find(b"content-transfer-encoding")
    if cte is not None:
        from ..message.codec import decode_body
        enc = mu.cstr(cte).strip()
        try:
            content = decode_body(m.body.read(), enc)
            data = Blob(content)
        except ValueError:
            rt.err.write(f"{rt.program.progname}: can't create filter for encoding "
                         f"{enc.decode(*_ENC)}: Requested item not found\n")
    for c in data.chunks():
        if c.strip(b" \t\n\r\f\v"):
            return 0
    return 1


@builtin("void message_close(number nmsg)", domain=D)
def message_close(rt, nmsg):
    """Release the message descriptor."""
    get_desc(rt, "message_close", nmsg)
    close_descriptor(rt, nmsg)


@builtin("number message_header_size(number nmsg)", domain=D)
def message_header_size(rt, nmsg):
    """Size of the header in bytes."""
    return _msg(rt, "message_header_size", nmsg).header_size


@builtin("number message_header_lines(number nmsg)", domain=D)
def message_header_lines(rt, nmsg):
    """Number of lines in the header."""
    return _msg(rt, "message_header_lines", nmsg).header_lines


@builtin("number message_header_count(number nmsg; string name)", domain=D)
def message_header_count(rt, nmsg, name=None):
    """Number of headers (named NAME, if given)."""
    m = _msg(rt, "message_header_count", nmsg)
    return m.count(None if name is None else _b(name))


@builtin("number message_body_size(number nmsg)", domain=D)
def message_body_size(rt, nmsg):
    """Size of the body in bytes."""
    return _msg(rt, "message_body_size", nmsg).body_size


@builtin("number message_body_lines(number nmsg)", domain=D)
def message_body_lines(rt, nmsg):
    """Number of body lines."""
    return _msg(rt, "message_body_lines", nmsg).body_lines


# ------------------------------------------------------------------ headers

@builtin("string message_find_header(number nmsg, string name; number idx)", domain=D)
def message_find_header(rt, nmsg, name, idx=1):
    """Value of the (IDXth) header NAME (e_not_found if absent)."""
    m = _msg(rt, "message_find_header", nmsg)
    v = m.find(_b(name), idx) if idx >= 1 else None
    if v is None:
        raise MFLException("e_not_found", "message_find_header: header not found")
    return _s(v)


def _nth(rt, who, nmsg, n):
    m = _msg(rt, who, nmsg)
    if n < 1 or n > len(m.entries):
        raise MFLException("e_range", f"{who}: header index out of range")
    return m.entries[n - 1]


@builtin("string message_nth_header_name(number nmsg, number n)", domain=D)
def message_nth_header_name(rt, nmsg, n):
    """Name of the Nth header."""
    return _s(_nth(rt, "message_nth_header_name", nmsg, n)[0])


@builtin("string message_nth_header_value(number nmsg, number n)", domain=D)
def message_nth_header_value(rt, nmsg, n):
    """Value of the Nth header."""
    return _s(_nth(rt, "message_nth_header_value", nmsg, n)[1])


@builtin("boolean message_has_header(number nmsg, string name; number idx)", domain=D)
def message_has_header(rt, nmsg, name, idx=1):
    """True if the message has the (IDXth) header NAME."""
    m = _msg(rt, "message_has_header", nmsg)
    return 1 if idx >= 1 and m.find(_b(name), idx) is not None else 0


# ------------------------------------------------------------------ reading

def _eof(who: str):
    return MFLException("e_eof", f"{who}: mu_stream_getline: end of input")


@builtin("string message_read_line(number nmsg)", domain=D)
def message_read_line(rt, nmsg):
    """Next line of the whole message (e_eof at the end)."""
    d = get_desc(rt, "message_read_line", nmsg)
    line, d.pos = d.msg.read_stream_line(d.pos)
    if line is None:
        raise _eof("message_read_line")
    return _s(line)


@builtin("void message_rewind(number nmsg)", domain=D)
def message_rewind(rt, nmsg):
    """Restart message_read_line from the beginning."""
    get_desc(rt, "message_rewind", nmsg).pos = 0


@builtin("void message_body_rewind(number nmsg)", domain=D)
def message_body_rewind(rt, nmsg):
    """Restart message_read_body_line from the beginning."""
    get_desc(rt, "message_body_rewind", nmsg).body_pos = 0


@builtin("string message_read_body_line(number nmsg)", domain=D)
def message_read_body_line(rt, nmsg):
    """Next line of the body (e_eof at the end)."""
    d = get_desc(rt, "message_read_body_line", nmsg)
    line, d.body_pos = mu.read_blob_line(d.msg.body, d.body_pos)
    if line is None:
        raise _eof("message_read_body_line")
    return _s(line)


# ------------------------------------------------------------------ streams

def _io():
    from . import io as _iomod
    return _iomod


def read_fd(rt, fd: int) -> Blob:
    """Everything left on descriptor FD (of the io built-ins), spilled when large."""
    st = _io()._table(rt).get(fd)

    def chunks():
        while True:
            try:
                c = st.read_chunk()
            except OSError as e:
                raise MFLException("e_io", f"read error on {st.name}: {e.strerror}") from None
            if not c:
                return
            yield c
    return Blob.from_chunks(chunks())


def write_fd(rt, fd: int, chunks, who: str) -> None:
    st = _io()._table(rt).get(fd)
    for c in chunks:
        if not c:
            continue
        try:
            st.write_bytes(c)
        except OSError as e:
            raise MFLException("e_io", f"{who}: write error: {e.strerror}") from None


def _chain_stages(who: str, chain: str):
    """Helper B's filter-chain parser (mfl.builtins.io)."""
    io = _io()
    return io._chain(who, chain)


def _run_chain(stages, data: bytes) -> bytes:
    io = _io()
    try:
        return io._run_chain(stages, data)
    except io._FilterRunError as e:
        raise MFLException("e_failure", str(e)) from None


@builtin("number message_from_stream(number fd; string filter_chain)", domain=D)
def message_from_stream(rt, fd, filter_chain=None):
    """Create a message from the contents of FD (optionally filtered)."""
    who = "message_from_stream"
    if filter_chain:
        io = _io()
        try:
            io._parse_chain(filter_chain)
        except io._ChainSyntax:
            raise MFLException("e_failure", f'{who}: mu_filter_chain_create("{filter_chain}"): '
                                            "Requested item not found") from None
        # mailfromd 8.15 opens the filter for writing and then cannot read it
        _io()._table(rt).get(fd)
        raise MFLException("e_failure", f"{who}: cannot obtain stream reference: "
                                        "Permission denied")
    data = read_fd(rt, fd)
    try:
        m = mu.from_stream(data)
    except mu.MuError as e:
        raise MFLException("e_failure", f"{who}: cannot obtain stream reference: {e.text}") \
            from None
    return new_descriptor(rt, who, m)


@builtin("void message_to_stream(number fd, number nmsg; string filter_chain)", domain=D)
def message_to_stream(rt, fd, nmsg, filter_chain=None):
    """Write the message (from its read position on) to FD (optionally filtered)."""
    who = "message_to_stream"
    d = get_desc(rt, who, nmsg)
    chunks = d.msg.stream_chunks(d.pos)
    if filter_chain:
        stages = _chain_stages(who, filter_chain)
        chunks = [_run_chain(stages, b"".join(chunks))]
    write_fd(rt, fd, chunks, who)
    d.pos = d.msg.stream_size()


@builtin("void message_body_to_stream(number fd, number nmsg; string filter_pipe)", domain=D)
def message_body_to_stream(rt, fd, nmsg, filter_pipe=None):
    """Write the body to FD (optionally filtered; mimedecode and charset filters)."""
    who = "message_body_to_stream"
    m = _msg(rt, who, nmsg)
    if not filter_pipe:
        write_fd(rt, fd, m.body.chunks(), who)
        return
    data = m.body.read()
    rest = []
    for stage in _split_pipe(filter_pipe):
        name = stage.split("(", 1)[0].strip().lower()
        if name == "mimedecode" and not rest:
            cte = m.find(b"content-transfer-encoding")
            if cte is not None:
                from ..message.codec import decode_body
                try:
                    data = decode_body(data, mu.cstr(cte))
                except ValueError:
                    pass
        elif name == "charset" and not rest:
            args = stage.split("(", 1)[1].rsplit(")", 1)[0] if "(" in stage else ""
            words = [a.strip() for a in args.split(",")] if args else []
            target = words[0] if words else ""
            fallback = words[1] if len(words) > 1 else "copy-octal"
            src = _charset_of(m)
            if target and src:
                from ..message.codec import ILSEQ, CodecError, convert
                try:
                    data = convert(data, src, target, fallback)
                except CodecError as e:
                    if e.text == ILSEQ:
                        raise MFLException("e_ilseq", f"{who}: {ILSEQ}") from None
        else:
            rest.append(stage)
    if rest:
        data = _run_chain(_chain_stages(who, "|".join(rest)), data)
    write_fd(rt, fd, [data], who)


def _split_pipe(chain: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for c in chain:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "|" and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def _charset_of(m: mu.MuMessage) -> str | None:
    v = m.content_type_value()
    if v is None:
        return None
    for p in v.split(b";")[1:]:
        k, eq, val = p.partition(b"=")
        if eq and k.strip().lower() == b"charset":
            return val.strip().strip(b'"').decode("latin-1")
    return None


# ------------------------------------------------------------------ MIME

@builtin("boolean message_is_multipart(number nmsg)", domain=D)
def message_is_multipart(rt, nmsg):
    """True if the message is a MIME multipart message."""
    return 1 if _msg(rt, "message_is_multipart", nmsg).is_multipart() else 0


def _parts_error(who, e: mu.MuError):
    return MFLException("e_failure", f"{who}: {e.text}")


@builtin("number message_count_parts(number nmsg)", domain=D)
def message_count_parts(rt, nmsg):
    """Number of MIME parts."""
    m = _msg(rt, "message_count_parts", nmsg)
    try:
        return m.count_parts()
    except mu.MuError as e:
        raise _parts_error("message_count_parts", e) from None


@builtin("number message_get_part(number nmsg, number n)", domain=D)
def message_get_part(rt, nmsg, n):
    """Descriptor of the Nth MIME part (1-based)."""
    who = "message_get_part"
    m = _msg(rt, who, nmsg)
    try:
        part = m.get_part(n)
    except mu.MuError as e:
        raise _parts_error(who, e) from None
    return new_descriptor(rt, who, part)


@builtin("string message_content_type(number nmsg)", domain=D)
def message_content_type(rt, nmsg):
    """Content type of the message (type/subtype)."""
    m = _msg(rt, "message_content_type", nmsg)
    if m.burst_parts is not None:
        return "multipart/mixed"
    return m.content_type()


@builtin("number message_burst(number nmsg; number flags)", domain=D)
def message_burst(rt, nmsg, flags=0):
    """Split an RFC 934 digest into a multipart message; returns its descriptor."""
    who = "message_burst"
    m = _msg(rt, who, nmsg)
    slot = rt.program.global_names.get(":builtin:burst_eb_min_length")
    eb_min = rt.globals[slot] if slot is not None else 2
    try:
        out = mu.burst(m, flags, eb_min)
    except mu.MuError as e:
        if e.text == "not a digest":
            raise MFLException("e_format", f"{who}: message is not a RFC-934 digest") from None
        raise MFLException("e_failure", f"mu_stream_to_message: {e.text}") from None
    return new_descriptor(rt, who, out)


variable("number burst_eb_min_length", domain=D, default=2,
         doc="Minimal number of dashes starting an RFC 934 encapsulation boundary.")
