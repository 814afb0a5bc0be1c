"""The message as an MTA receives it: raw bytes, nothing normalized.

A ``Message`` is

* ``prefix``: an mbox ``From `` line at the very start of a saved message
  (kept verbatim, never shown to handlers as a header);
* ``fields``: the header fields, each a ``Field(name, value, eol)`` holding the
  exact bytes -- NAME is everything before the first colon, VALUE everything
  after it up to the field's final line end (folded lines, their CR LF or LF
  and the continuation whitespace included), EOL that final line end;
* ``separator``: the empty line ending the header (``b"\\r\\n"``, ``b"\\n"``),
  or ``b""`` when the header ended at the end of the input or at a line
  that is not a header field (that line then starts the body);
* ``body``: the body bytes as a ``Blob`` (spilled to a temporary file when
  large).

``Message.to_bytes()`` / ``write_to()`` give back the input byte for byte.
Both CR LF and LF input are accepted (per line: a file may even mix them);
a bare CR is an ordinary byte.  MIME views are computed on demand
(``content_type``, ``is_multipart``, ``parts``) and cached; parts are
``Message`` objects over slices of the parent's body, so nested parts cost
no copies.  This module never uses the ``email`` package.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO, Iterable

from .blob import Blob

_NAME_RE = re.compile(rb"^[^\x00-\x20\x7f:]+[ \t]*:")


@dataclass(frozen=True, slots=True)
class Field:
    """One header field, byte-exact: ``name + b":" + value + eol``."""
    name: bytes
    value: bytes
    eol: bytes = b"\n"

    @property
    def raw(self) -> bytes:
        return self.name + b":" + self.value + self.eol

    @property
    def key(self) -> str:
        """The name for comparisons: trailing blanks dropped, lower case."""
        return self.name.rstrip(b" \t").decode("latin-1").lower()

    def name_str(self) -> str:
        return self.name.rstrip(b" \t").decode("utf-8", "surrogateescape")

    def value_str(self, *, lf: bool = True) -> str:
        """The value as a handler sees it: leading blanks dropped; with LF
        true, CR LF inside the folded value becomes LF (as Sendmail passes it)."""
        v = self.value.lstrip(b" \t")
        if lf:
            v = v.replace(b"\r\n", b"\n")
        return v.decode("utf-8", "surrogateescape")

    def unfolded(self) -> bytes:
        return re.sub(rb"\r?\n(?=[ \t])", b"", self.value).strip(b" \t")


def _split_line(line: bytes) -> tuple[bytes, bytes]:
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""


class Message:
    """A parsed message (see the module documentation)."""

    __slots__ = ("prefix", "fields", "separator", "body", "_ct", "_parts", "preamble",
                 "epilogue", "_closed")

    def __init__(self, fields: Iterable[Field] = (), body: Blob | bytes = b"", *,
                 separator: bytes = b"\n", prefix: bytes = b""):
        self.prefix = prefix
        self.fields: list[Field] = list(fields)
        self.separator = separator
        self.body = body if isinstance(body, Blob) else Blob(body)
        self._ct = None
        self._parts = None
        self.preamble = None
        self.epilogue = None
        self._closed = True

    # ---------------------------------------------------------------- parsing
    @classmethod
    def parse(cls, data: bytes | bytearray | Blob, *, mbox_prefix: bool = True) -> "Message":
        """Parse DATA leniently, as an MTA reads a message (see the module doc)."""
        blob = data if isinstance(data, Blob) else Blob(bytes(data))
        fields: list[Field] = []
        prefix = b""
        separator = b""
        body_start = len(blob)
        first = True
        cur_name = cur_val = None
        cur_eol = b""
        for off, line in blob.lines():
            if first and mbox_prefix and line.startswith(b"From ") and not _NAME_RE.match(line):
                prefix = line
                first = False
                continue
            first = False
            text, eol = _split_line(line)
            if text == b"" and eol:
                separator = eol
                body_start = off + len(line)
                break
            if cur_name is not None and text[:1] in (b" ", b"\t"):
                cur_val += cur_eol + text
                cur_eol = eol
                continue
            m = _NAME_RE.match(text)
            if m is None:
                body_start = off           # not a header: the body starts here
                break
            if cur_name is not None:
                fields.append(Field(cur_name, cur_val, cur_eol))
            colon = text.index(b":")
            cur_name, cur_val, cur_eol = text[:colon], text[colon + 1:], eol
        if cur_name is not None:
            fields.append(Field(cur_name, cur_val, cur_eol))
        msg = cls(fields, blob.slice(body_start), separator=separator, prefix=prefix)
        return msg

    @classmethod
    def from_file(cls, fp: BinaryIO, **kw) -> "Message":
        return cls.parse(Blob.from_file(fp), **kw)

    @classmethod
    def load(cls, path: str, **kw) -> "Message":
        with open(path, "rb") as fp:
            return cls.from_file(fp, **kw)

    # ---------------------------------------------------------------- bytes
    @property
    def eol(self) -> bytes:
        """The line end new lines get: the separator's, else the first field's."""
        if self.separator:
            return self.separator
        for f in self.fields:
            if f.eol:
                return f.eol
        return b"\n"

    def header_bytes(self) -> bytes:
        return b"".join(f.raw for f in self.fields) + self.separator

    def write_to(self, fp: BinaryIO) -> int:
        head = self.prefix + self.header_bytes()
        fp.write(head)
        return len(head) + self.body.write_to(fp)

    def to_bytes(self) -> bytes:
        return self.prefix + self.header_bytes() + self.body.read()

    def chunks(self, size: int = 1 << 16):
        yield self.prefix + self.header_bytes()
        yield from self.body.chunks(size)

    @property
    def size(self) -> int:
        return len(self.prefix) + len(self.header_bytes()) + len(self.body)

    # ---------------------------------------------------------------- headers
    def find(self, name: str, index: int = 1) -> Field | None:
        """The INDEXth (1-based) field named NAME (case-insensitive), or None."""
        key = name.lower()
        n = 0
        for f in self.fields:
            if f.key == key:
                n += 1
                if n == index:
                    return f
        return None

    def get(self, name: str, index: int = 1, default=None):
        f = self.find(name, index)
        return default if f is None else f.value_str()

    def count(self, name: str | None = None) -> int:
        if name is None:
            return len(self.fields)
        key = name.lower()
        return sum(1 for f in self.fields if f.key == key)

    # ---------------------------------------------------------------- MIME
    def content_type(self) -> tuple[str, dict]:
        """(type/subtype in lower case, parameters); text/plain when absent or bad."""
        if self._ct is None:
            f = self.find("content-type")
            self._ct = parse_content_type(f.unfolded() if f is not None else b"")
        return self._ct

    def is_multipart(self) -> bool:
        ctype, params = self.content_type()
        return ctype.startswith("multipart/") and bool(params.get("boundary"))

    def parts(self) -> list["Message"]:
        """The MIME parts of a multipart message ([] otherwise)."""
        if self._parts is None:
            self._parts = self._split_parts() if self.is_multipart() else []
        return self._parts

    def _split_parts(self) -> list["Message"]:
        boundary = self.content_type()[1]["boundary"].encode("utf-8", "surrogateescape")
        delim = b"--" + boundary
        starts: list[tuple[int, int, bool]] = []   # (line start, line end, closing)
        for off, line in self.body.lines():
            if not line.startswith(delim):
                continue
            rest, _eol = _split_line(line[len(delim):])
            closing = rest.startswith(b"--")
            if closing:
                rest = rest[2:]
            if rest.strip(b" \t"):
                continue
            starts.append((off, off + len(line), closing))
            if closing:
                break
        parts: list[Message] = []
        if not starts:
            self.preamble, self.epilogue = self.body, Blob()
            self._closed = False
            return parts
        self.preamble = self.body.slice(0, _strip_eol_before(self.body, starts[0][0]))
        for (_s, end, closing), nxt in zip(starts, starts[1:] + [None]):
            if closing:
                break
            stop = len(self.body) if nxt is None else _strip_eol_before(self.body, nxt[0])
            parts.append(Message.parse(self.body.slice(end, max(end, stop)), mbox_prefix=False))
        last = starts[-1]
        self._closed = last[2]
        self.epilogue = self.body.slice(last[1]) if last[2] else Blob()
        return parts

    @property
    def truncated(self) -> bool:
        """True for a multipart message whose closing boundary is missing."""
        self.parts()
        return self.is_multipart() and not self._closed

    def walk(self):
        """This message and every part below it, depth first."""
        yield self
        for p in self.parts():
            yield from p.walk()

    def __repr__(self) -> str:
        return f"<Message {len(self.fields)} fields, body {len(self.body)} bytes>"


def _strip_eol_before(blob: Blob, pos: int) -> int:
    """POS moved back over the line end that precedes it (it belongs to the boundary)."""
    if pos >= 2 and blob.read(pos - 2, 2) == b"\r\n":
        return pos - 2
    if pos >= 1 and blob.read(pos - 1, 1) == b"\n":
        return pos - 1
    return pos


_TOKEN = rb"[^\x00-\x20\x7f()<>@,;:\\\"/\[\]?=]+"
_CT_RE = re.compile(rb"^\s*(" + _TOKEN + rb")\s*/\s*(" + _TOKEN + rb")\s*")
_PARAM_RE = re.compile(rb";\s*(" + _TOKEN + rb")\s*=\s*(\"(?:[^\"\\]|\\.)*\"|" + _TOKEN + rb")")


def parse_content_type(value: bytes) -> tuple[str, dict]:
    """Parse a Content-Type value (RFC 2045): ('type/subtype', {param: value})."""
    value = re.sub(rb"\([^()]*\)", b"", value)            # comments (one level)
    m = _CT_RE.match(value)
    if m is None:
        return "text/plain", {}
    ctype = (m.group(1) + b"/" + m.group(2)).decode("latin-1").lower()
    params: dict = {}
    for pm in _PARAM_RE.finditer(value, m.end()):
        k = pm.group(1).decode("latin-1").lower()
        v = pm.group(2)
        if v.startswith(b'"'):
            v = re.sub(rb"\\(.)", rb"\1", v[1:-1])
        params.setdefault(k, v.decode("utf-8", "surrogateescape"))
    return ctype, params
