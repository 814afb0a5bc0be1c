"""DKIM key records: the TXT data at ``selector._domainkey.domain``
(RFC 6376 section 3.6.1, RFC 8463 for ed25519)."""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from .sigparse import decode_base64, parse_tag_list
from .status import DKIMError

KEY_TYPES = ("rsa", "ed25519")
MIN_RSA_BITS = 1024
MAX_RSA_BITS = 16384


@dataclass
class KeyRecord:
    tags: dict[str, str]
    key_type: str                  # k= (default rsa)
    public_key: object             # a cryptography public key
    hashes: tuple[str, ...] | None  # h= (None: any)
    services: tuple[str, ...]      # s= (default "*")
    flags: tuple[str, ...]         # t=
    bits: int                      # RSA modulus size; 256 for ed25519

    @property
    def testing(self) -> bool:
        return "y" in self.flags

    @property
    def strict(self) -> bool:
        return "s" in self.flags


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip(" \t\r\n").lower() for v in value.split(":")
                 if v.strip(" \t\r\n"))


def parse_key_record(txt: str | bytes, min_rsa_bits: int = MIN_RSA_BITS,
                     max_rsa_bits: int = MAX_RSA_BITS) -> KeyRecord:
    """Parse and check a key record; DKIMError (permanent) if unusable.
    Results are cached by record text (the same key verifies many
    messages)."""
    if isinstance(txt, (bytes, bytearray)):
        txt = bytes(txt).decode("latin-1")
    ck = (txt, min_rsa_bits, max_rsa_bits)
    hit = _cache.get(ck)
    if hit is None:
        try:
            hit = _parse(txt, min_rsa_bits, max_rsa_bits)
        except DKIMError as e:
            hit = e
        if len(txt) <= 4096:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[ck] = hit
    if isinstance(hit, DKIMError):
        raise DKIMError(hit.reason, hit.text)
    return hit


_cache: dict = {}
_CACHE_MAX = 1024


def _parse(txt: str, min_rsa_bits: int, max_rsa_bits: int) -> KeyRecord:
    tags = parse_tag_list(txt, error="key-syntax", dup_error="key-syntax")
    if "v" in tags:
        if tags["v"] != "DKIM1":
            raise DKIMError("key-version", f"key record v={tags['v'][:20]} is not DKIM1")
        if next(iter(tags)) != "v":
            raise DKIMError("key-version", "v= is not the first tag of the key record")
    if "p" not in tags:
        raise DKIMError("key-missing-p", "key record has no p= tag")
    k = tags.get("k", "rsa").strip(" \t\r\n").lower()
    if k not in KEY_TYPES:
        raise DKIMError("key-type", f"unsupported key type k={k[:20]}")
    hashes = _list(tags["h"]) if "h" in tags else None
    services = _list(tags.get("s", "*"))
    if "*" not in services and "email" not in services:
        raise DKIMError("key-service-type", "key is not for email (s= tag)")
    flags = _list(tags.get("t", ""))
    p = tags["p"]
    if not p.strip(" \t\r\n"):
        raise DKIMError("key-revoked", "key revoked (empty p=)")
    try:
        data = decode_base64(p)
    except ValueError:
        raise DKIMError("key-bad-base64", "p= is not valid base64") from None
    if k == "ed25519":
        if len(data) != 32:
            raise DKIMError("key-bad-data", f"ed25519 key of {len(data)} bytes, not 32")
        try:
            key = ed25519.Ed25519PublicKey.from_public_bytes(data)
        except Exception:
            raise DKIMError("key-bad-data", "unusable ed25519 key") from None
        return KeyRecord(tags, k, key, hashes, services, flags, 256)
    if len(data) > max_rsa_bits // 8 + 64:
        raise DKIMError("key-too-large", f"RSA key of {len(data)} bytes is too large")
    try:
        key = load_der_public_key(data)
    except Exception:
        raise DKIMError("key-bad-data", "p= is not a valid public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise DKIMError("key-type-mismatch", "k=rsa but p= is not an RSA key")
    bits = key.key_size
    if bits < min_rsa_bits:
        raise DKIMError("key-too-small", f"RSA key of {bits} bits (< {min_rsa_bits})")
    if bits > max_rsa_bits:
        raise DKIMError("key-too-large", f"RSA key of {bits} bits (> {max_rsa_bits})")
    e = key.public_numbers().e
    if e < 3 or e % 2 == 0 or e.bit_length() > 64:
        raise DKIMError("key-bad-data", "unusable RSA public exponent")
    return KeyRecord(tags, k, key, hashes, services, flags, bits)


def select_record(records: list[str], **kw) -> KeyRecord:
    """The first usable record of several TXT answers (RFC 6376 leaves the
    choice to the verifier); the error of the first one if none is usable."""
    first: DKIMError | None = None
    for rec in records:
        try:
            return parse_key_record(rec, **kw)
        except DKIMError as e:
            if first is None:
                first = e
    if first is None:
        raise DKIMError("dns-not-found", "no key record")
    raise first
