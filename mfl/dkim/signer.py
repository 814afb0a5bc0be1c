"""Signing (RFC 6376 section 5; ed25519-sha256 per RFC 8463)."""
from __future__ import annotations

import base64
import time

from .bodyhash import BodyHashers
from .canon import CANONS, crlf, parse_message, split_fields
from .crypto import digest, header_data, sign_digest
from .keys import as_private_key, key_type
from .sigparse import ALGORITHMS, valid_domain

# Signed when present; the OVERSIGN names once more (an absent instance),
# so that no further instance can be added without breaking the signature.
DEFAULT_HEADERS = (
    "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
    "In-Reply-To", "References", "MIME-Version", "Content-Type",
    "Content-Transfer-Encoding", "Resent-Date", "Resent-From", "Resent-To",
    "Resent-Cc", "List-Id", "List-Help", "List-Unsubscribe",
    "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
)
OVERSIGN = ("from", "reply-to", "subject", "date")
WIDTH = 76


def parse_header_list(headers) -> list[str]:
    """An h= list from a colon-separated string or a sequence of names."""
    if isinstance(headers, (bytes, bytearray)):
        headers = bytes(headers).decode("ascii")
    if isinstance(headers, str):
        headers = headers.split(":")
    names = [h.strip() for h in headers]
    names = [h for h in names if h]
    for h in names:
        if not h.isascii() or any(c in h for c in ": \t;\r\n") or \
                any(ord(c) < 33 or ord(c) > 126 for c in h):
            raise ValueError(f"bad header name {h!r}")
    if not any(h.lower() == "from" for h in names):
        raise ValueError("the signed header list must include From")
    return names


def default_header_list(fields) -> list[str]:
    counts: dict[str, int] = {}
    for name, _ in fields:
        k = name.decode("latin-1").lower()
        counts[k] = counts.get(k, 0) + 1
    names = []
    for h in DEFAULT_HEADERS:
        n = counts.get(h.lower(), 0)
        if h.lower() in OVERSIGN:
            n += 1
        names.extend([h.lower()] * n)
    return names


class Signer:
    """Streaming signer: feed the header fields and the body chunks, then
    ``finish()`` returns the DKIM-Signature field (bytes, ending in
    ``linesep``), to be put above the message's header."""

    def __init__(self, domain: str, selector: str, key, headers=None,
                 canon=("relaxed", "relaxed"), algorithm: str | None = None,
                 identity: str | None = None, length: bool = False,
                 timestamp: int | bool | None = True, expire: int | None = None,
                 linesep: bytes = b"\r\n"):
        self.key = as_private_key(key)
        self.key_type = key_type(self.key)
        if algorithm is None:
            algorithm = "ed25519-sha256" if self.key_type == "ed25519" else "rsa-sha256"
        algorithm = algorithm.lower()
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unsupported algorithm {algorithm!r}")
        if ALGORITHMS[algorithm][0] != self.key_type:
            raise ValueError(f"{algorithm} needs a {ALGORITHMS[algorithm][0]} key")
        self.algorithm = algorithm
        self.hash_name = ALGORITHMS[algorithm][1]
        if isinstance(canon, str):
            canon = tuple(canon.split("/")) if "/" in canon else (canon, "simple")
        canon = tuple(c.lower() for c in canon)
        if len(canon) != 2 or any(c not in CANONS for c in canon):
            raise ValueError(f"bad canonicalization {canon!r}")
        self.canon = canon
        if not valid_domain(domain):
            raise ValueError(f"bad domain {domain!r}")
        if not valid_domain(selector):
            raise ValueError(f"bad selector {selector!r}")
        self.domain, self.selector = domain, selector
        if identity is not None:
            dom = identity.rpartition("@")[2].lower().rstrip(".")
            d = domain.lower().rstrip(".")
            if "@" not in identity or (dom != d and not dom.endswith("." + d)):
                raise ValueError("i= must be in d= or one of its subdomains")
        self.identity = identity
        self.headers = None if headers is None else parse_header_list(headers)
        self.length = length
        self.timestamp = timestamp
        self.expire = expire
        self.linesep = linesep
        self.fields: list[tuple[bytes, bytes]] = []
        self._body = BodyHashers()
        self._bh = self._body.add(canon[1], self.hash_name)

    def feed_field(self, raw: bytes) -> None:
        self.fields.extend(split_fields(raw))

    feed_headers = feed_field

    def feed_header(self, name, value) -> None:
        if isinstance(name, str):
            name = name.encode("latin-1", "replace")
        if isinstance(value, str):
            value = value.encode("latin-1", "replace")
        self.fields.append((name.rstrip(b" \t"),
                            crlf(name + b":" + value.rstrip(b"\r\n") + b"\r\n")))

    def feed_body(self, chunk: bytes) -> None:
        self._body.update(chunk)

    def finish(self) -> bytes:
        self._body.finish()
        names = self.headers if self.headers is not None else default_header_list(self.fields)
        tags = [("v", "1"), ("a", self.algorithm), ("c", "/".join(self.canon)),
                ("d", self.domain), ("s", self.selector)]
        if self.identity is not None:
            tags.append(("i", self.identity))
        if self.timestamp:
            t = int(time.time()) if self.timestamp is True else int(self.timestamp)
            tags.append(("t", str(t)))
            if self.expire is not None:
                tags.append(("x", str(t + int(self.expire))))
        elif self.expire is not None:
            tags.append(("x", str(int(time.time()) + int(self.expire))))
        if self.length:
            tags.append(("l", str(self._bh.total)))
        tags.append(("h", names))
        tags.append(("bh", base64.b64encode(self._bh.digest()).decode("ascii")))
        head = _fold(tags, self.linesep)
        raw = head + self.linesep
        data = header_data(self.fields, names, raw, self.canon[0])
        sig = sign_digest(self.key, self.key_type, self.hash_name,
                          digest(self.hash_name, data))
        return head + _fold_b(base64.b64encode(sig), head, self.linesep) + self.linesep


def _fold(tags, linesep: bytes) -> bytes:
    """``DKIM-Signature: tag=value; ...; b=`` folded at WIDTH columns
    (h= may break after any colon)."""
    tokens: list[tuple[bytes, bytes]] = []      # (separator, text)
    for name, value in tags:
        if isinstance(value, list):
            for k, h in enumerate(value):
                end = ":" if k < len(value) - 1 else ";"
                text = (f"{name}={h}{end}" if k == 0 else h + end).encode("ascii")
                tokens.append((b" " if k == 0 else b"", text))
        else:
            tokens.append((b" ", f"{name}={value};".encode("ascii")))
    tokens.append((b" ", b"b="))
    out = [b"DKIM-Signature:"]
    col = len(out[0])
    brk = linesep + b"\t"
    for sep, text in tokens:
        if col + len(sep) + len(text) > WIDTH and col > 1:
            out.append(brk + text)
            col = 1 + len(text)
        else:
            out.append(sep + text)
            col += len(sep) + len(text)
    return b"".join(out)


def _fold_b(value: bytes, head: bytes, linesep: bytes) -> bytes:
    col = len(head.rsplit(b"\n", 1)[-1])
    room = max(8, WIDTH - col)
    pieces = [value[:room]]
    rest = value[room:]
    while rest:
        pieces.append(rest[:WIDTH - 1])
        rest = rest[WIDTH - 1:]
    return (linesep + b"\t").join(pieces)


def sign(message: bytes, domain: str, selector: str, key, **options) -> bytes:
    """Sign the raw MESSAGE; return the DKIM-Signature field (bytes ending
    in CRLF, or in ``linesep``) to prepend to it."""
    s = Signer(domain, selector, key, **options)
    fields, body = parse_message(bytes(message))
    s.fields = fields
    s.feed_body(body)
    return s.finish()
