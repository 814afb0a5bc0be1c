"""Raw message handling and DKIM canonicalisation (RFC 6376 section 3.4).

Messages are handled as bytes, never through the ``email`` package.  A header
field is kept exactly as received: ``(name, raw)`` where ``raw`` holds the
whole field, folding and line terminator included.  Line ends may be CRLF or
bare LF; canonical forms always use CRLF (a bare LF counts as CRLF, a bare CR
is ordinary data).

The body canonicalisers are streaming: feed them chunks of any size, split
anywhere (even between CR and LF), and the output is the same as for the whole
body at once.
"""
from __future__ import annotations

import re

SIMPLE = "simple"
RELAXED = "relaxed"
CANONS = (SIMPLE, RELAXED)

_HEADER_END = re.compile(rb"\n\r?\n")
_WSP_RUN = re.compile(rb"[ \t]+")
_SP_RUN = re.compile(rb"  +")
_TAB_TO_SP = bytes.maketrans(b"\t", b" ")


def crlf(data: bytes) -> bytes:
    """Return DATA with every bare LF made CRLF (existing CRLFs kept)."""
    if data.count(b"\n") == data.count(b"\r\n"):
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def split_message(data: bytes) -> tuple[bytes, bytes]:
    """Split a message into its header block and its body.

    The header block keeps the line end of its last field; the empty line
    between header and body belongs to neither.  A message with no empty
    line is all header and has no body (b"").
    """
    if data.startswith(b"\r\n"):
        return b"", data[2:]
    if data.startswith(b"\n"):
        return b"", data[1:]
    m = _HEADER_END.search(data)
    if m is None:
        return data, b""
    return data[:m.start() + 1], data[m.end():]


def split_fields(block: bytes) -> list[tuple[bytes, bytes]]:
    """Split a header block into ``(name, raw_field)`` pairs.

    A line starting with SP or HTAB continues the previous field.  The name is
    what comes before the first colon, with trailing whitespace removed (a
    line without a colon gets the whole line as its name: it can never match
    a signed name).  Continuation lines before any field are dropped.
    """
    fields: list[tuple[bytes, bytes]] = []
    if not block:
        return fields
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
        ends = True
    else:
        ends = False
    cur: list[bytes] = []
    n = len(lines)
    for k, line in enumerate(lines):
        full = line + b"\n" if (k < n - 1 or ends) else line
        if line[:1] in (b" ", b"\t"):
            if cur:
                cur.append(full)
            continue
        if cur:
            fields.append(_field(cur))
        cur = [full]
    if cur:
        fields.append(_field(cur))
    return fields


def _field(parts: list[bytes]) -> tuple[bytes, bytes]:
    raw = b"".join(parts)
    colon = raw.find(b":")
    if colon < 0:
        name = raw.rstrip(b"\r\n")
    else:
        name = raw[:colon].rstrip(b" \t")
    return name, raw


def parse_message(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """``(fields, body)`` of a raw message."""
    block, body = split_message(data)
    return split_fields(block), body


# ---------------------------------------------------------------- headers

def canon_header(raw: bytes, method: str) -> bytes:
    """Canonicalise one raw header field; the result ends in CRLF."""
    if method == SIMPLE:
        if not raw.endswith(b"\n"):
            raw += b"\r\n"
        return crlf(raw)
    colon = raw.find(b":")
    if colon < 0:
        name, value = raw.rstrip(b"\r\n"), b""
    else:
        name, value = raw[:colon], raw[colon + 1:]
    name = name.rstrip(b" \t").lower()
    value = value.rstrip(b"\r\n")
    if b"\n" in value:             # unfold: every line end inside precedes WSP
        value = value.replace(b"\r\n", b"").replace(b"\n", b"")
    if b"\t" in value or b"  " in value:
        value = _WSP_RUN.sub(b" ", value)
    # a bare CR inside the value is data
    return name + b":" + value.strip(b" ") + b"\r\n"


def strip_b_value(raw: bytes) -> bytes:
    """The DKIM-Signature field RAW with the value of its b= tag emptied.

    Everything between ``b=`` and the next ``;`` (or the end of the field,
    before its final line end) goes, surrounding whitespace included; the
    rest, folding included, is left exactly as it is.
    """
    colon = raw.find(b":")
    if colon < 0:
        return raw
    end = len(raw)
    if raw.endswith(b"\r\n"):
        end -= 2
    elif raw.endswith(b"\n"):
        end -= 1
    pos = colon + 1
    while pos <= end:
        semi = raw.find(b";", pos, end)
        stop = end if semi < 0 else semi
        eq = raw.find(b"=", pos, stop)
        if eq >= 0 and raw[pos:eq].strip(b" \t\r\n") == b"b":
            return raw[:eq + 1] + raw[stop:]
        if semi < 0:
            break
        pos = semi + 1
    return raw


# ---------------------------------------------------------------- body

class BodyCanon:
    """Streaming body canonicaliser.

    ``update(chunk)`` returns the canonical bytes that can be emitted so far;
    ``finish()`` returns the rest.  Trailing empty lines are held back (as a
    count) until non-empty data follows, so memory stays bounded.
    """

    __slots__ = ("relaxed", "_carry", "_pending", "_seen")

    def __init__(self, method: str = SIMPLE):
        if method not in CANONS:
            raise ValueError(f"unknown canonicalisation {method!r}")
        self.relaxed = method == RELAXED
        self._carry = b""     # held tail: '\r' and, when relaxed, a ' '
        self._pending = 0     # CRLFs held back (possible trailing empty lines)
        self._seen = False    # any non-empty content emitted

    def update(self, chunk: bytes) -> bytes:
        if not chunk:
            return b""
        data = self._carry + chunk if self._carry else chunk
        # hold a final CR: its LF may come with the next chunk
        if data.endswith(b"\r"):
            data = data[:-1]
            carry = b"\r"
        else:
            carry = b""
        data = crlf(data)
        if self.relaxed:
            # every run of WSP becomes one SP: tabs to spaces, then runs
            # of spaces to one (each step a single pass in C, when needed)
            if b"\t" in data:
                data = data.translate(_TAB_TO_SP)
            if b"  " in data:
                data = _SP_RUN.sub(b" ", data)
            if b" \r\n" in data:
                data = data.replace(b" \r\n", b"\r\n")
            if carry:
                # "x \r" + next: the space is before a CR that may end a line
                if data.endswith(b" "):
                    data = data[:-1]
                    carry = b" \r"
            elif data.endswith(b" "):
                data = data[:-1]
                carry = b" "
        self._carry = carry
        return self._emit(data)

    def _emit(self, data: bytes) -> bytes:
        if not data:
            return b""
        # split off the run of CRLFs at the end: possible trailing empty lines
        t = data.rstrip(b"\r\n")
        if len(t) == len(data):
            tail_crlf = 0
        else:
            tail = data[len(t):]
            k = tail.rfind(b"\r\r")
            if tail.endswith(b"\r"):       # a bare CR ends the data (finish)
                t, tail = data, b""
            elif k >= 0:
                t = data[:len(t) + k + 1]
                tail = tail[k + 1:]
            tail_crlf = len(tail) // 2
        if not t:
            self._pending += tail_crlf
            return b""
        out = b"\r\n" * self._pending + t if self._pending else t
        self._pending = tail_crlf
        self._seen = True
        return out

    def finish(self) -> bytes:
        carry, self._carry = self._carry, b""
        out = b""
        if carry:
            if self.relaxed and carry == b" ":
                # whitespace at the end of the body's last line: dropped.
                # Before a final bare CR it is data, like the CR.
                carry = b""
            if carry:
                out = self._emit(carry)
        if self._seen:
            return out + b"\r\n"
        if self.relaxed:
            return out              # RFC 6376 errata 1384: empty body is ""
        return out + b"\r\n"        # simple: an empty body is one CRLF


def canon_body(body: bytes, method: str) -> bytes:
    """Canonical form of a whole body (convenience; same as streaming)."""
    c = BodyCanon(method)
    return c.update(body) + c.finish()


def parse_canon(value: str | None) -> tuple[str, str]:
    """The ``(header, body)`` methods of a c= value; ValueError if bad.

    Absent c= means simple/simple; a single method names the header
    method and the body method is simple (RFC 6376 section 3.5).
    """
    if value is None:
        return SIMPLE, SIMPLE
    parts = value.split("/")
    if len(parts) == 1:
        parts.append(SIMPLE)
    if len(parts) != 2:
        raise ValueError(value)
    h, b = (p.strip().lower() for p in parts)
    if h not in CANONS or b not in CANONS:
        raise ValueError(value)
    return h, b
