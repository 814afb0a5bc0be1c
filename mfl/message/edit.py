"""Applying a message modification queue: what the MTA delivers after the filter.

The queue is a list of records with ``kind``, ``name``, ``value`` and
``index`` attributes (``mfl.runtime.state.Mod`` is one; ``Edit`` below is
the same shape for callers that do not use the run time).  ``apply`` performs
them in order, the way Sendmail performs the milter requests mailfromd sends:

``add_header``      append ``NAME: VALUE`` after the last header field;
``insert_header``   put it at position INDEX of the header list (0: first;
                    past the end: last);
``replace_header``  set the INDEXth (1-based) field named NAME (any case);
                    with no such field the header is added (appended);
``delete_header``   remove the INDEXth field named NAME (nothing if absent);
                    an empty replacement value deletes too (``replace "X" ""``);
``replace_body``    the body becomes VALUE; consecutive replacements in one
                    queue are concatenated (the MTA appends every body
                    replacement packet after the first);
``add_rcpt``, ``delete_rcpt``, ``set_from``, ``quarantine``
                    change the envelope (``Envelope``), not the bytes.

Field values given by the filter are written ``NAME: VALUE`` (one space after
the colon, as Sendmail does for milter headers), and their line breaks (a
folded value) as well as those of a new body take the message's own line
end (CR LF or LF).  Everything not touched keeps its bytes: applying an empty
queue returns the message unchanged.  Index values below 1 count as 1 for
changes and deletions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .blob import Blob
from .model import Field, Message

_ENC = ("utf-8", "surrogateescape")

HEADER_KINDS = ("add_header", "insert_header", "replace_header", "delete_header")


@dataclass(frozen=True, slots=True)
class Edit:
    kind: str
    name: str = ""
    value: object = ""
    index: int = 1


@dataclass
class Envelope:
    sender: str = ""
    sender_args: str | None = None
    recipients: list = field(default_factory=list)
    added: list = field(default_factory=list)        # (address, args)
    deleted: list = field(default_factory=list)
    quarantine: str | None = None


def _b(v) -> bytes:
    if v is None:
        return b""
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    return str(v).encode(*_ENC)


def _lines_to(data: bytes, eol: bytes) -> bytes:
    data = data.replace(b"\r\n", b"\n")
    return data if eol == b"\n" else data.replace(b"\n", eol)


def _addr_key(a: str) -> str:
    a = a.strip()
    if a.startswith("<") and a.endswith(">"):
        a = a[1:-1]
    return a.lower()


def make_field(name: str, value, eol: bytes) -> Field:
    v = _lines_to(_b(value), eol)
    return Field(_b(name), b" " + v if v[:1] not in (b" ", b"\t") else v, eol)


def apply(msg: Message, queue, envelope: Envelope | None = None) -> Message:
    """A new Message: MSG with the header and body changes of QUEUE made.

    Envelope changes are recorded in ENVELOPE (when given)."""
    eol = msg.eol
    fields = list(msg.fields)
    separator = msg.separator
    body = msg.body
    new_body: list | None = None
    last_was_body = False
    for m in queue:
        kind = m.kind
        if kind == "replace_body_fd":
            kind = "replace_body"
        if kind != "replace_body":
            last_was_body = False
        if kind == "add_header":
            fields.append(make_field(m.name, m.value, eol))
        elif kind == "insert_header":
            idx = max(0, int(m.index))
            fields.insert(min(idx, len(fields)), make_field(m.name, m.value, eol))
        elif kind in ("replace_header", "delete_header"):
            key = m.name.lower()
            want = max(1, int(m.index))
            pos = None
            n = 0
            for i, f in enumerate(fields):
                if f.key == key:
                    n += 1
                    if n == want:
                        pos = i
                        break
            value = None if kind == "delete_header" else m.value
            if value is None or value == "" or value == b"":
                if pos is not None:
                    del fields[pos]
            elif pos is not None:
                old = fields[pos]
                fields[pos] = make_field(old.name.decode(*_ENC), value, old.eol or eol)
            else:
                fields.append(make_field(m.name, value, eol))
        elif kind == "replace_body":
            data = m.value
            if isinstance(data, Blob):
                chunk = Blob.from_chunks(_lines_to(c, eol) for c in _crlf_safe_chunks(data))
            else:
                chunk = Blob(_lines_to(_b(data), eol))
            if new_body is None or not last_was_body:
                new_body = [chunk]
            else:
                new_body.append(chunk)
            last_was_body = True
        elif envelope is not None:
            if kind == "add_rcpt":
                envelope.added.append((m.name, None if m.value in (None, "") else m.value))
                envelope.recipients.append(m.name)
            elif kind == "delete_rcpt":
                envelope.deleted.append(m.name)
                k = _addr_key(m.name)
                envelope.recipients = [r for r in envelope.recipients if _addr_key(r) != k]
            elif kind == "set_from":
                envelope.sender = m.name
                envelope.sender_args = None if m.value in (None, "") else m.value
            elif kind == "quarantine":
                envelope.quarantine = m.name
    if new_body is not None:
        body = new_body[0] if len(new_body) == 1 else Blob.concat(new_body)
        if not separator:
            separator = eol
    # a field without line end (the input ended with it) gets one when
    # something follows it now
    for i, f in enumerate(fields):
        if not f.eol and (i < len(fields) - 1 or separator or len(body)):
            fields[i] = Field(f.name, f.value, eol)
    out = Message(fields, body, separator=separator, prefix=msg.prefix)
    return out


def _crlf_safe_chunks(blob: Blob):
    """Chunks of BLOB that never split a CR LF pair."""
    carry = b""
    for c in blob.chunks():
        c = carry + c
        carry = b""
        if c.endswith(b"\r"):
            c, carry = c[:-1], b"\r"
        yield c
    if carry:
        yield carry
