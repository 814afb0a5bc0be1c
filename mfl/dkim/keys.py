"""Private keys for signing, public key records, key generation."""
from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


class KeyLoadError(ValueError):
    """A private key could not be loaded or is not usable for DKIM."""


PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def load_private_key(data: bytes | str, password: bytes | None = None) -> PrivateKey:
    """Load a private key from PEM text: PKCS#1 (``BEGIN RSA PRIVATE KEY``)
    or PKCS#8 (``BEGIN PRIVATE KEY``, RSA or ed25519).  The bare base64 of
    a 32-byte ed25519 seed (dkimpy's format) is accepted too."""
    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    text = data.strip()
    if b"-----BEGIN" in text:
        try:
            key = serialization.load_pem_private_key(text, password=password)
        except (ValueError, TypeError) as e:
            raise KeyLoadError(f"cannot load private key: {e}") from None
        except Exception as e:
            raise KeyLoadError(f"cannot load private key: {e.__class__.__name__}") from None
    else:
        try:
            seed = base64.b64decode(b"".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise KeyLoadError("not a PEM key nor a base64 ed25519 seed") from None
        if len(seed) != 32:
            raise KeyLoadError("not a PEM key nor a base64 ed25519 seed")
        key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise KeyLoadError(f"unsupported key type {type(key).__name__} (RSA or ed25519 only)")
    return key


_KEY_CACHE: dict = {}          # (path, mtime_ns, size, password) -> key
_KEY_CACHE_MAX = 64


def load_private_key_file(path: str | os.PathLike, password: bytes | None = None) -> PrivateKey:
    """Load a key file; parsed keys are cached by path, size and modification time
    (loading and validating an RSA key costs tens of milliseconds: a milter that
    signs every message must not pay it per message; a changed file is re-read)."""
    try:
        st = os.stat(path)
        ident = (os.fspath(path), st.st_mtime_ns, st.st_size, password)
        key = _KEY_CACHE.get(ident)
        if key is not None:
            return key
        data = Path(path).read_bytes()
    except OSError as e:
        raise KeyLoadError(f"{path}: {e.strerror or e}") from None
    key = load_private_key(data, password)
    if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
        _KEY_CACHE.clear()
    _KEY_CACHE[ident] = key
    return key


def as_private_key(key) -> PrivateKey:
    """KEY as a key object: a key object, PEM bytes/str, or a path."""
    if isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        return key
    if isinstance(key, os.PathLike):
        return load_private_key_file(key)
    if isinstance(key, str) and "-----BEGIN" not in key and "\n" not in key \
            and os.path.exists(key):
        return load_private_key_file(key)
    if isinstance(key, (bytes, bytearray, str)):
        return load_private_key(bytes(key) if not isinstance(key, str) else key)
    raise KeyLoadError(f"unsupported key object {type(key).__name__}")


def key_type(key) -> str:
    k = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(k, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(k, ed25519.Ed25519PublicKey):
        return "ed25519"
    raise KeyLoadError(f"unsupported key type {type(key).__name__}")


def public_key_data(key) -> bytes:
    """The bytes of a key record's p= (before base64)."""
    pub = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_record(key, testing: bool = False, hashes: str | None = None) -> str:
    """The TXT record to publish for KEY, e.g. ``v=DKIM1; k=rsa; p=MIIB...``."""
    parts = ["v=DKIM1", "k=" + key_type(key)]
    if hashes:
        parts.append("h=" + hashes)
    if testing:
        parts.append("t=y")
    parts.append("p=" + base64.b64encode(public_key_data(key)).decode("ascii"))
    return "; ".join(parts)


def private_key_pem(key, pkcs8: bool = True) -> bytes:
    fmt = serialization.PrivateFormat.PKCS8
    if not pkcs8 and isinstance(key, rsa.RSAPrivateKey):
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt,
                             serialization.NoEncryption())


def generate_key(kind: str = "rsa", bits: int = 2048):
    """A new private key: ``kind`` is "rsa" (``bits`` >= 1024) or "ed25519"."""
    if kind == "rsa":
        if bits < 1024 or bits > 16384:
            raise KeyLoadError("RSA key size must be between 1024 and 16384 bits")
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise KeyLoadError(f"unknown key type {kind!r} (rsa or ed25519)")
