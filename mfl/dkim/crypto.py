"""Header hash input (RFC 6376 sections 3.7 and 5.4.2) and the signature
primitives: RSA PKCS#1 v1.5 and ed25519 (RFC 8463) over a SHA digest."""
from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .canon import canon_header, strip_b_value

_HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}


def select_fields(fields: list[tuple[bytes, bytes]], names) -> list[bytes]:
    """The raw fields named by NAMES (an h= list), each name taking the
    bottom-most instance not yet used (RFC 6376 section 5.4.2).  A name with
    no instance left (over-signing) selects nothing: it hashes as empty."""
    by_name: dict[bytes, list[bytes]] = {}
    for name, raw in fields:
        by_name.setdefault(name.lower(), []).append(raw)
    out = []
    for n in names:
        key = n.encode("latin-1").lower() if isinstance(n, str) else n.lower()
        stack = by_name.get(key)
        if stack:
            out.append(stack.pop())
    return out


def header_data(fields, names, sig_raw: bytes, method: str) -> bytes:
    """The bytes fed to the header hash: the selected fields canonicalised,
    then the signature field itself with b= emptied and no final CRLF."""
    parts = [canon_header(raw, method) for raw in select_fields(fields, names)]
    sig = canon_header(strip_b_value(sig_raw), method)
    parts.append(sig[:-2])
    return b"".join(parts)


def digest(hash_name: str, data: bytes) -> bytes:
    return hashlib.new(hash_name, data).digest()


def sign_digest(key, key_type: str, hash_name: str, dig: bytes) -> bytes:
    if key_type == "ed25519":
        return key.sign(dig)
    return key.sign(dig, padding.PKCS1v15(), Prehashed(_HASHES[hash_name]()))


def verify_digest(pub, key_type: str, hash_name: str, dig: bytes, sig: bytes) -> bool:
    try:
        if key_type == "ed25519":
            if not isinstance(pub, ed25519.Ed25519PublicKey) or len(sig) != 64:
                return False
            pub.verify(sig, dig)
        else:
            if not isinstance(pub, rsa.RSAPublicKey) or len(sig) != (pub.key_size + 7) // 8:
                return False
            pub.verify(sig, dig, padding.PKCS1v15(), Prehashed(_HASHES[hash_name]()))
    except InvalidSignature:
        return False
    return True
