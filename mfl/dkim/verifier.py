"""Verification of every DKIM-Signature of a message (RFC 6376 section 6)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from .bodyhash import BodyHash, BodyHashers
from .canon import crlf, parse_message, split_fields
from .crypto import digest, header_data, verify_digest
from .dns import default_resolver, fetch_txt
from .keyrecord import MAX_RSA_BITS, MIN_RSA_BITS, select_record
from .sigparse import Signature, parse_signature, unfolded_compact
from .status import EXPL_CODE, EXPL_TEXT, PASS, REASONS, TEMPERROR, DKIMError

SIG_NAME = b"dkim-signature"
MAX_SIGNATURES = 8


@dataclass
class Result:
    """The outcome for one DKIM-Signature field."""
    status: str                 # pass / fail / neutral / permerror / temperror
    reason: str                 # machine-readable, a key of status.REASONS
    text: str                   # human-readable detail
    index: int                  # position among the message's signatures (0 = top)
    header: bytes               # the raw field as received
    signature: str = ""         # the value unfolded, all whitespace removed
    d: str = ""
    i: str = ""
    s: str = ""
    a: str = ""
    b: str = ""                 # b= without whitespace
    c: str = ""                 # effective "header/body"
    length: int | None = None   # l=, if any
    body_length: int | None = None   # canonical body length seen
    key_bits: int | None = None
    testing: bool = False       # the key has t=y

    @property
    def expl(self) -> str:
        """mailfromd's explanation name, e.g. "BAD_SIG" (DKIM_EXPL_BAD_SIG)."""
        return REASONS[self.reason][1]

    @property
    def expl_code(self) -> int:
        return EXPL_CODE[self.expl]

    @property
    def expl_text(self) -> str:
        return EXPL_TEXT[self.expl]

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def unsigned_body_bytes(self) -> int:
        """Canonical body bytes after the l= limit (not covered)."""
        if self.length is None or self.body_length is None:
            return 0
        return max(0, self.body_length - self.length)


class Verification(list):
    """The per-signature results (a list, topmost signature first), with
    the message-level verdict: "pass" if any signature passes, else
    "tempfail" if any had a temporary error, else "permfail"; "none" for
    a message with no DKIM-Signature."""

    skipped: int = 0            # signatures beyond the cap, not evaluated

    @property
    def passing(self) -> Result | None:
        return next((r for r in self if r.status == PASS), None)

    @property
    def verdict(self) -> str:
        if not self:
            return "none"
        if self.passing:
            return "pass"
        if any(r.status == TEMPERROR for r in self):
            return "tempfail"
        return "permfail"

    @property
    def primary(self) -> Result | None:
        """The result that explains the verdict (None when unsigned)."""
        if not self:
            return None
        return (self.passing or next((r for r in self if r.status == TEMPERROR), None)
                or self[0])


class _Pending:
    __slots__ = ("index", "raw", "sig", "error", "bodyhash")

    def __init__(self, index, raw):
        self.index, self.raw = index, raw
        self.sig: Signature | None = None
        self.error: DKIMError | None = None
        self.bodyhash: BodyHash | None = None


class Verifier:
    """Streaming verifier: feed the header fields, then the body in chunks
    of any size, then ``finish()`` for the Verification.

    ``resolver`` is a callable ``name -> list of TXT strings`` (see dns.py);
    by default the shared, caching ``TXTResolver``."""

    def __init__(self, resolver=None, max_signatures: int = MAX_SIGNATURES,
                 now: float | None = None, min_rsa_bits: int = MIN_RSA_BITS,
                 max_rsa_bits: int = MAX_RSA_BITS, allow_sha1: bool = True):
        self.resolver = resolver
        self.max_signatures = max_signatures
        self.now = now
        self.min_rsa_bits = min_rsa_bits
        self.max_rsa_bits = max_rsa_bits
        self.allow_sha1 = allow_sha1
        self.fields: list[tuple[bytes, bytes]] = []
        self._pending: list[_Pending] = []
        self._skipped = 0
        self._body = BodyHashers()
        self._eoh = False

    # -- header
    def feed_field(self, raw: bytes) -> None:
        """One raw header field, folding and line end included."""
        self.fields.extend(split_fields(raw))

    def feed_header(self, name, value) -> None:
        """A field given milter-style as name and the text after the colon."""
        if isinstance(name, str):
            name = name.encode("latin-1", "replace")
        if isinstance(value, str):
            value = value.encode("latin-1", "replace")
        value = value.rstrip(b"\r\n")
        self.fields.append((name.rstrip(b" \t"), crlf(name + b":" + value + b"\r\n")))

    def feed_headers(self, block: bytes) -> None:
        """A block of raw header fields."""
        self.fields.extend(split_fields(block))

    def end_headers(self) -> None:
        if self._eoh:
            return
        self._eoh = True
        now = time.time() if self.now is None else self.now
        count = 0
        for name, raw in self.fields:
            if name.lower() != SIG_NAME:
                continue
            if count >= self.max_signatures:
                self._skipped += 1
                continue
            p = _Pending(count, raw)
            count += 1
            try:
                p.sig = parse_signature(raw, now=now, allow_sha1=self.allow_sha1)
                p.bodyhash = self._body.add(p.sig.canon[1], p.sig.hash_name, p.sig.length)
            except DKIMError as e:
                p.error = e
            except Exception as e:   # hostile input must not escape
                p.error = DKIMError("internal-error", f"{e.__class__.__name__}: {e}")
            self._pending.append(p)

    # -- body
    def feed_body(self, chunk: bytes) -> None:
        if not self._eoh:
            self.end_headers()
        self._body.update(chunk)

    def finish(self) -> Verification:
        if not self._eoh:
            self.end_headers()
        self._body.finish()
        out = Verification()
        out.skipped = self._skipped
        resolver = self.resolver or default_resolver()
        for p in self._pending:
            try:
                out.append(self._check(p, resolver))
            except Exception as e:   # never raise on hostile input
                out.append(self._result(p, DKIMError(
                    "internal-error", f"{e.__class__.__name__}: {e}")))
        return out

    # -- one signature
    def _result(self, p: _Pending, err: DKIMError | None, key=None) -> Result:
        sig = p.sig
        if err is None:
            status, reason, text = PASS, "ok", "signature verified"
        else:
            status, reason, text = err.status, err.reason, err.text
        r = Result(status, reason, text, p.index, p.raw,
                   signature=unfolded_compact(p.raw))
        if sig is not None:
            r.d, r.i, r.s, r.a = sig.domain, sig.identity, sig.selector, sig.algorithm
            r.b = sig.b_text
            r.c = "/".join(sig.canon)
            r.length = sig.length
            if p.bodyhash is not None:
                r.body_length = p.bodyhash.total
        else:
            _fill_from_tags(r, p.raw)
        if key is not None:
            r.key_bits = key.bits
            r.testing = key.testing
        return r

    def _check(self, p: _Pending, resolver) -> Result:
        if p.error is not None:
            return self._result(p, p.error)
        sig = p.sig
        try:
            records = fetch_txt(resolver, sig.selector, sig.domain)
            key = select_record(records, min_rsa_bits=self.min_rsa_bits,
                                max_rsa_bits=self.max_rsa_bits)
        except DKIMError as e:
            return self._result(p, e)
        err = _key_policy(sig, key)
        if err is None:
            err = self._crypto(p, key)
        return self._result(p, err, key)

    def _crypto(self, p: _Pending, key) -> DKIMError | None:
        sig, bh = p.sig, p.bodyhash
        if sig.length is not None and sig.length > bh.total:
            return DKIMError("length-exceeds-body",
                             f"l={sig.length} exceeds the body length {bh.total}")
        if bh.digest() != sig.bh:
            return DKIMError("body-hash-mismatch", "body hash did not verify")
        data = header_data(self.fields, sig.headers, p.raw, sig.canon[0])
        if not verify_digest(key.public_key, sig.key_type, sig.hash_name,
                             digest(sig.hash_name, data), sig.b):
            return DKIMError("bad-signature", "signature did not verify")
        return None


def _key_policy(sig: Signature, key) -> DKIMError | None:
    if key.key_type != sig.key_type:
        return DKIMError("key-type-mismatch",
                         f"a={sig.algorithm} but the key is k={key.key_type}")
    if key.hashes is not None and sig.hash_name not in key.hashes:
        return DKIMError("key-hash-not-allowed",
                         f"the key's h= does not allow {sig.hash_name}")
    if key.strict:
        if sig.identity_domain.lower().rstrip(".") != sig.domain.lower().rstrip("."):
            return DKIMError("key-strict-identity",
                             "key has t=s but the i= domain is not d=")
    return None


def _fill_from_tags(r: Result, raw: bytes) -> None:
    """Best-effort d, s, a, i of a signature that did not parse."""
    value = unfolded_compact(raw)
    for spec in value.split(";")[:64]:
        name, eq, v = spec.partition("=")
        if eq and name in ("d", "s", "a", "i", "b") and len(v) < 4096:
            if not getattr(r, name):
                setattr(r, name, v)


def verify(message: bytes, resolver=None, **options) -> Verification:
    """Verify every DKIM-Signature of the raw MESSAGE (CRLF or LF)."""
    v = Verifier(resolver=resolver, **options)
    fields, body = parse_message(bytes(message))
    v.fields = fields
    v.end_headers()
    v.feed_body(body)
    return v.finish()
