"""Tag lists (RFC 6376 section 3.2) and DKIM-Signature fields (section 3.5)."""
from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass, field

from .canon import parse_canon
from .status import DKIMError

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_WS = re.compile(r"[ \t\r\n]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\Z")
_BAD_VALUE_CHAR = re.compile(r"[^\x21-\x3a\x3c-\x7e \t\r\n]")
_DIGITS = re.compile(r"[0-9]{1,76}\Z")

ALGORITHMS = {
    # a= value: (key type, hash name)
    "rsa-sha256": ("rsa", "sha256"),
    "rsa-sha1": ("rsa", "sha1"),
    "ed25519-sha256": ("ed25519", "sha256"),
}
REQUIRED = ("v", "a", "b", "bh", "d", "h", "s")


def parse_tag_list(text: str, error: str = "sig-syntax",
                   dup_error: str = "sig-duplicate-tag") -> dict[str, str]:
    """Parse a tag=value list into a dict (values stripped of outer FWS).

    Raises DKIMError(ERROR) on a malformed list and DKIMError(DUP_ERROR)
    on a repeated tag.  Empty tag-specs (";;" or a trailing ";") are
    tolerated.  Values must be printable ASCII and whitespace.
    """
    tags: dict[str, str] = {}
    for spec in text.split(";"):
        if not spec.strip(" \t\r\n"):
            continue
        name, eq, value = spec.partition("=")
        if not eq:
            raise DKIMError(error, f"tag without '=': {_short(spec)!r}")
        name = name.strip(" \t\r\n")
        if not _TAG_NAME.match(name):
            raise DKIMError(error, f"bad tag name {_short(name)!r}")
        value = value.strip(" \t\r\n")
        if _BAD_VALUE_CHAR.search(value):
            raise DKIMError(error, f"bad character in the value of {name}=")
        if name in tags:
            raise DKIMError(dup_error, f"tag {name}= appears twice")
        tags[name] = value
    return tags


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[:n] + "..."


def _nows(s: str) -> str:
    """S without SP, TAB, CR, LF."""
    try:
        return s.encode("latin-1").translate(None, b" \t\r\n").decode("latin-1")
    except UnicodeEncodeError:
        return _WS.sub("", s)


def decode_base64(value: str) -> bytes:
    """Decode base64 with folding whitespace; ValueError if malformed."""
    v = _nows(value)
    if len(v) % 4 or not _BASE64.match(v):
        raise ValueError("bad base64")
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("bad base64") from e


def valid_domain(name: str) -> bool:
    if not name or len(name) > 253 or not name.isascii():
        return False
    return all(_LABEL.match(lab) for lab in name.rstrip(".").split("."))


@dataclass
class Signature:
    """A parsed DKIM-Signature field."""
    raw: bytes                       # the field as received
    tags: dict[str, str]
    algorithm: str                   # a=
    key_type: str                    # "rsa" / "ed25519"
    hash_name: str                   # "sha256" / "sha1"
    b: bytes
    bh: bytes
    canon: tuple[str, str]           # (header, body)
    domain: str                      # d=
    selector: str                    # s=
    identity: str                    # i= (default "@" + d)
    headers: list[str]               # h=, as written
    length: int | None = None        # l=
    timestamp: int | None = None     # t=
    expiration: int | None = None    # x=
    query: str = "dns/txt"
    value: str = field(default="")   # unfolded, all whitespace removed

    @property
    def b_text(self) -> str:
        return _nows(self.tags.get("b", ""))

    @property
    def identity_domain(self) -> str:
        return self.identity.rpartition("@")[2]


def field_value(raw: bytes) -> str:
    """The text after the colon of a raw header field (latin-1, exact)."""
    colon = raw.find(b":")
    return raw[colon + 1:].decode("latin-1") if colon >= 0 else ""


def unfolded_compact(raw: bytes) -> str:
    """The field's value unfolded with every whitespace character removed."""
    colon = raw.find(b":")
    value = raw[colon + 1:] if colon >= 0 else b""
    return value.translate(None, b" \t\r\n").decode("latin-1")


def parse_signature(raw: bytes, now: float | None = None,
                    allow_sha1: bool = True) -> Signature:
    """Parse and check a raw DKIM-Signature field; DKIMError if unusable."""
    value = field_value(raw)
    tags = parse_tag_list(value)
    missing = [t for t in REQUIRED if t not in tags]
    if missing:
        raise DKIMError("sig-missing-tag",
                        "missing required tag(s): " + ", ".join(f"{t}=" for t in missing))
    if tags["v"] != "1":
        raise DKIMError("sig-version", f"unsupported version v={_short(tags['v'])}")
    a = tags["a"].lower()
    if a not in ALGORITHMS:
        raise DKIMError("sig-algorithm", f"unsupported algorithm a={_short(a)}")
    if a == "rsa-sha1" and not allow_sha1:
        raise DKIMError("sig-sha1-refused", "rsa-sha1 signatures are refused")
    key_type, hash_name = ALGORITHMS[a]
    try:
        b = decode_base64(tags["b"])
    except ValueError:
        raise DKIMError("sig-bad-base64", "b= is not valid base64") from None
    try:
        bh = decode_base64(tags["bh"])
    except ValueError:
        raise DKIMError("sig-bad-bh-base64", "bh= is not valid base64") from None
    try:
        canon = parse_canon(tags.get("c"))
    except ValueError:
        raise DKIMError("sig-canon", f"bad canonicalization c={_short(tags['c'])}") from None
    d = tags["d"]
    if not valid_domain(d):
        raise DKIMError("sig-domain", f"bad domain d={_short(d)}")
    s = tags["s"]
    if not valid_domain(s):
        raise DKIMError("sig-selector", f"bad selector s={_short(s)}")
    if "i" in tags:
        i = tags["i"]
        at = i.rfind("@")
        idom = i[at + 1:]
        if at < 0 or not valid_domain(idom):
            raise DKIMError("sig-identity", f"bad identity i={_short(i)}")
        dl, il = d.lower().rstrip("."), idom.lower().rstrip(".")
        if il != dl and not il.endswith("." + dl):
            raise DKIMError("domain-mismatch",
                            f"i= domain {_short(idom)} is not d={d} or its subdomain")
    else:
        i = "@" + d
    names = [n.strip(" \t\r\n") for n in tags["h"].split(":")]
    if any(not n for n in names):
        raise DKIMError("sig-syntax", "empty header name in h=")
    if not any(n.lower() == "from" for n in names):
        raise DKIMError("from-not-signed", "h= does not include From")
    length = None
    if "l" in tags:
        if not _DIGITS.match(tags["l"]):
            raise DKIMError("sig-length", f"bad body length l={_short(tags['l'])}")
        length = int(tags["l"])
    query = tags.get("q", "dns/txt")
    methods = [m.strip(" \t\r\n").lower() for m in query.split(":")]
    if not any(m == "dns/txt" or m.startswith("dns/txt/")
               for m in methods):
        raise DKIMError("sig-query", f"unsupported query method q={_short(query)}")
    t = x = None
    for tag in ("t", "x"):
        if tag in tags:
            if not _DIGITS.match(tags[tag]):
                raise DKIMError("sig-timestamp", f"bad {tag}={_short(tags[tag])}")
    if "t" in tags:
        t = int(tags["t"])
    if "x" in tags:
        x = int(tags["x"])
        if t is not None and x <= t:
            raise DKIMError("sig-expiry-before-timestamp",
                            f"x={x} is not later than t={t}")
        if x < (time.time() if now is None else now):
            raise DKIMError("sig-expired", f"signature expired at x={x}")
    return Signature(raw=raw, tags=tags, algorithm=a, key_type=key_type,
                     hash_name=hash_name, b=b, bh=bh, canon=canon, domain=d,
                     selector=s, identity=i, headers=names, length=length,
                     timestamp=t, expiration=x, query=query,
                     value=_nows(value))
