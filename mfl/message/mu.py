"""Messages as mailfromd 8.15's message built-ins see them (GNU Mailutils 3.15 rules).

The message built-ins (``message_size``, ``message_read_line``,
``message_get_part``...) do not look at the raw bytes: mailfromd hands the
message to Mailutils, which keeps the header as a list of (name, value)
entries and writes it back as ``NAME: VALUE`` lines.  This module reproduces
what was measured on mailfromd 8.15:

* a header entry's name loses the blanks before the colon, its value the
  blanks after it; the folding (line breaks and continuation whitespace) and
  any CR stay in the value;
* the header reads as ``NAME: VALUE\\n`` per entry followed by an empty
  line: the header size is the sum of those plus one, its line count one per
  entry line plus one;
* the body is the bytes after the empty line, unchanged;
* ``message_from_stream`` accepts only LF-terminated lines: every line up to
  the empty line (or a line of dashes, the MH delimiter) must contain a colon
  or continue the previous field; a first line ``From ...`` is an mbox
  envelope and is dropped; anything else fails with "Malformed email
  address" (so CR LF files, whose empty line is ``\\r\\n``, are refused);
* MIME parts are found the Mailutils way: a boundary line is exactly
  ``--BOUNDARY`` or ``--BOUNDARY--`` before its LF (so CR LF boundaries do
  not count); the LF before a boundary belongs to the boundary; a part
  without Content-Type gets ``Content-Type: text/plain``; a last part cut off
  before its closing boundary keeps the length of the part before it (a
  Mailutils quirk, reproduced).

Everything here works on ``Blob``s, so large bodies stay on disk.
"""
from __future__ import annotations

from .blob import Blob

_LWSP = b" \t"


class MuError(Exception):
    """A Mailutils error: TEXT is mu_strerror's message."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


MALFORMED = "Malformed email address"
NOT_FOUND = "Requested item not found"
EINVAL = "Invalid argument"
EIO = "Input/output error"


# ------------------------------------------------------------------ header

def parse_header(blurb: bytes) -> list[list[bytes]]:
    """Mailutils' header parser: [[name, value], ...] from the header lines.

    Parsing stops at an empty line, at a line starting with a blank where a
    field should start, and at a line without a colon."""
    entries: list[list[bytes]] = []
    pos = 0
    n = len(blurb)
    while pos < n:
        c = blurb[pos:pos + 1]
        if c in (b" ", b"\t", b"\n"):
            break
        # the field: this line and the continuation lines after it
        end = pos
        while True:
            j = blurb.find(b"\n", end)
            if j < 0:
                end = n
                nxt = n
                break
            if j + 1 >= n or blurb[j + 1:j + 2] not in (b" ", b"\t"):
                end = j
                nxt = j + 1
                break
            end = j + 1
        line = blurb[pos:end]
        if len(line) >= 5 and line.startswith(b"From "):
            entries.append([b"From ", line[5:]])
        else:
            colon = line.find(b":")
            if colon < 0:
                break
            name = line[:colon].rstrip(_LWSP)
            value = line[colon + 1:].lstrip(_LWSP)
            entries.append([name, value])
        pos = nxt
    return entries


def header_bytes(entries) -> bytes:
    return b"".join(n + b": " + v + b"\n" for n, v in entries) + b"\n"


def header_lines(entries) -> int:
    return sum(1 + v.count(b"\n") for _n, v in entries) + 1


def cstr(b: bytes) -> bytes:
    """As a C string: up to the first NUL."""
    i = b.find(b"\0")
    return b if i < 0 else b[:i]


# ------------------------------------------------------------------ message

class MuMessage:
    """A message as Mailutils holds it: header entries and a body stream.

    ``body`` is the body stream's content.  ``body_size``/``body_lines`` may
    differ from it (a truncated MIME part keeps a stale length).
    ``envelope`` is (sender, date) when known (mbox messages)."""

    def __init__(self, entries, body: Blob, *, body_size: int | None = None,
                 body_lines: int | None = None, envelope=None, parent_ct: str = ""):
        self.entries: list[list[bytes]] = [list(e) for e in entries]
        self.body = body
        self._bsize = body_size
        self._blines = body_lines
        self.envelope = envelope
        self._parts: list[MuMessage] | None = None
        self.burst_parts: list[MuMessage] | None = None

    # -- header
    def header_bytes(self) -> bytes:
        return header_bytes(self.entries)

    @property
    def header_size(self) -> int:
        return sum(len(n) + len(v) + 3 for n, v in self.entries) + 1

    @property
    def header_lines(self) -> int:
        return header_lines(self.entries)

    def find(self, name: bytes, index: int = 1) -> bytes | None:
        """Value of the INDEXth entry NAME (ASCII case-insensitive), or None."""
        key = name.lower()
        k = 0
        for n, v in self.entries:
            if n.lower() == key:
                k += 1
                if k == index:
                    return v
        return None

    def count(self, name: bytes | None = None) -> int:
        if name is None:
            return len(self.entries)
        key = name.lower()
        return sum(1 for n, _v in self.entries if n.lower() == key)

    # -- body
    @property
    def body_size(self) -> int:
        return len(self.body) if self._bsize is None else self._bsize

    @property
    def body_lines(self) -> int:
        return self.body.count(b"\n") if self._blines is None else self._blines

    @property
    def size(self) -> int:
        return self.header_size + self.body_size

    @property
    def lines(self) -> int:
        return self.header_lines + self.body_lines

    def stream_chunks(self, start: int = 0):
        """The message stream (header then body) from offset START."""
        head = self.header_bytes()
        if start < len(head):
            yield head[start:]
            start = len(head)
        yield from self.body.chunks(start=start - len(head))

    def stream_size(self) -> int:
        return len(self.header_bytes()) + len(self.body)

    def read_stream_line(self, pos: int) -> tuple[bytes | None, int]:
        """The line of the message stream at POS: (line or None at the end, new pos)."""
        head = self.header_bytes()
        if pos < len(head):
            j = head.find(b"\n", pos)
            return head[pos:j + 1], j + 1
        return read_blob_line(self.body, pos - len(head), len(head))

    # -- MIME
    def content_type_value(self) -> bytes | None:
        return self.find(b"content-type")

    def content_type(self) -> str:
        """type/subtype as written in Content-Type (text/plain without one)."""
        v = self.content_type_value()
        if v is None:
            return "text/plain"
        t = v.split(b";", 1)[0]
        t = b"".join(t.split())
        return (t or b"text/plain").decode("utf-8", "surrogateescape")

    def is_multipart(self) -> bool:
        if self.burst_parts is not None:
            return True
        v = self.content_type_value()
        if v is None:
            return False
        t = v.split(b";", 1)[0].strip().lower()
        return t.startswith(b"multipart/")

    def parts(self) -> list["MuMessage"]:
        if self.burst_parts is not None:
            return self.burst_parts
        if self._parts is None:
            self._parts = mime_parts(self) if self.is_multipart() else []
        return self._parts

    def count_parts(self) -> int:
        return len(self.parts()) if self.is_multipart() else 1

    def get_part(self, n: int) -> "MuMessage":
        if not self.is_multipart():
            if n == 1:
                return self
            raise MuError(NOT_FOUND)
        parts = self.parts()
        if n < 1 or n > len(parts):
            raise MuError(NOT_FOUND)
        return parts[n - 1]

    def to_bytes(self) -> bytes:
        return self.header_bytes() + self.body.read()


def read_blob_line(blob: Blob, pos: int, base: int = 0) -> tuple[bytes | None, int]:
    """The line of BLOB at POS (with its LF): (line or None at the end, base + new pos)."""
    if pos >= len(blob):
        return None, base + pos
    if blob.in_memory:
        data = blob.read()
        j = data.find(b"\n", pos)
        end = len(data) if j < 0 else j + 1
        return data[pos:end], base + end
    j = blob.find(b"\n", pos)
    end = len(blob) if j < 0 else j + 1
    return blob.read(pos, end - pos), base + end


# ------------------------------------------------------------------ parsing

def _is_mh_delim(line: bytes) -> bool:
    i = 0
    if line[:1] == b"-":
        while line[i:i + 1] == b"-":
            i += 1
        while line[i:i + 1] in (b" ", b"\t"):
            i += 1
    return line[i:i + 1] == b"\n"


def _is_header_start(line: bytes) -> bool:
    return b":" in cstr(line)


def from_stream(data: Blob) -> MuMessage:
    """A message from the bytes of a stream (mailfromd's message_from_stream)."""
    envelope_len = 0
    header_end = None        # offset where the header lines end
    body_start = len(data)
    has_headers = False
    first = True
    for off, line in data.lines():
        if first and line.startswith(b"From "):
            envelope_len = len(line)
            first = False
            continue
        first = False
        if _is_mh_delim(line):
            header_end = off
            body_start = off + len(line)
            break
        if not _is_header_start(line):
            if has_headers and line[:1] in (b" ", b"\t"):
                continue
            raise MuError(MALFORMED)
        has_headers = True
    if header_end is None:
        header_end = len(data)
    blurb = data.read(envelope_len, header_end - envelope_len)
    env = None
    if envelope_len:
        env = _parse_from_line(data.read(0, envelope_len))
    m = MuMessage(parse_header(blurb), data.slice(body_start), envelope=env)
    m.source = data.slice(envelope_len)    # the bytes as read (dkim_verify)
    return m


def from_bytes(data: bytes) -> MuMessage:
    return from_stream(Blob(data))


def from_parts(entries, body: Blob, **kw) -> MuMessage:
    return MuMessage(entries, body, **kw)


def _parse_from_line(line: bytes):
    words = line.rstrip(b"\r\n").split(None, 2)
    if len(words) >= 2:
        return words[1], (words[2] if len(words) > 2 else b"")
    return None


# ------------------------------------------------------------------ MIME

def _boundary_of(msg: MuMessage) -> bytes | None:
    v = msg.content_type_value()
    if v is None:
        return None
    for param in v.split(b";")[1:]:
        k, eq, val = param.partition(b"=")
        if not eq or k.strip().lower() != b"boundary":
            continue
        val = val.strip()
        if val.startswith(b'"'):
            end = val.find(b'"', 1)
            val = val[1:end if end > 0 else len(val)]
        else:
            val = val.split()[0] if val.split() else b""
        return val
    return None


def _match_boundary(line: bytes, boundary: bytes) -> int:
    """0: not a boundary; 1: a boundary; 2: the closing boundary."""
    if line.endswith(b"\n"):
        line = line[:-1]
    b = len(boundary)
    if len(line) >= b + 2 and line.startswith(b"--") and line[2:2 + b] == boundary:
        if len(line) == b + 2:
            return 1
        if len(line) == b + 4 and line[b + 2:] == b"--":
            return 2
    return 0


def mime_parts(msg: MuMessage) -> list[MuMessage]:
    """The parts of a multipart message, as Mailutils' MIME parser finds them."""
    boundary = _boundary_of(msg)
    if boundary is None:
        raise MuError(NOT_FOUND)
    digest = msg.content_type().lower().endswith("/digest")
    body = msg.body
    parts: list[MuMessage] = []
    state = "scan"
    header_buf = bytearray()
    in_part = False
    mb_offset = 0
    mb_length = 0
    mb_lines = 0

    def append():
        entries = parse_header(bytes(header_buf))
        ct = [e for e in entries if e[0].lower() == b"content-type"]
        if not ct or ct[0][1] == b"":
            entries.append([b"Content-Type", b"message/rfc822" if digest else b"text/plain"])
        avail = body.slice(mb_offset, mb_offset + mb_length)
        parts.append(MuMessage(entries, avail, body_size=mb_length, body_lines=mb_lines))

    for off, line in body.lines():
        if state == "end":
            break
        if state == "scan":
            match = _match_boundary(line, boundary)
            if match:
                state = "headers"
                mb_length = 0 if off == mb_offset else off - mb_offset - 1
                if in_part:
                    if mb_lines:
                        mb_lines -= 1
                    append()
                    header_buf = bytearray()
                    in_part = False
                if match == 2:
                    state = "end"
            else:
                mb_lines += 1
        else:                                   # headers
            header_buf += line
            in_part = True
            if len(line) == 1 and line == b"\n":
                state = "scan"
                mb_offset = off + 1
                mb_lines = 0
    if in_part and state != "end":
        append()
    return parts


# ------------------------------------------------------------------ burst (RFC 934)

def burst(msg: MuMessage, flags: int = 0, eb_min: int = 2) -> MuMessage:
    """mailfromd's message_burst: the digest's messages as parts of a new message."""
    action = flags & 0x0F
    decode = bool(flags & 0x10)
    chunks: list[list[bytes]] = []
    cur: list[bytes] = []
    seen_eb = False
    skip_blank = True
    for _off, line in msg.body.lines():
        if line.startswith(b"-" * max(1, eb_min)):
            chunks.append(cur)
            cur = []
            seen_eb = True
            skip_blank = True
            continue
        if skip_blank and line in (b"\n", b"\r\n"):
            continue
        skip_blank = False
        cur.append(line)
    chunks.append(cur)
    if not seen_eb:
        raise MuError("not a digest")
    parts: list[MuMessage] = []
    for lines in chunks:
        if not lines:
            continue
        data = b"".join(lines)
        try:
            part = from_stream(Blob(data))
        except MuError:
            if action == 1:                     # BURST_ERR_IGNORE
                continue
            if action == 2:                     # BURST_ERR_BODY
                while len(lines) > 1 and lines[-1] in (b"\n", b"\r\n"):
                    lines = lines[:-1]
                part = MuMessage([], Blob(b"".join(lines)))
            else:
                raise
        if decode:
            part = _decoded(part)
        parts.append(part)
    out = MuMessage([[b"Content-Type", b"multipart/mixed"]], Blob(b""))
    out.burst_parts = parts
    return out


def _decoded(part: MuMessage) -> MuMessage:
    from .codec import decode_body
    cte = part.find(b"content-transfer-encoding")
    if cte is None:
        return part
    try:
        body = decode_body(part.body.read(), cte)
    except ValueError:
        return part
    return MuMessage(part.entries, Blob(body))
