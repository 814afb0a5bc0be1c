"""DKIM signing and verification (RFC 6376, RFC 8463 ed25519), a plain
Python API independent of the MFL interpreter.

    header = sign(message, "example.org", "sel", key)          # bytes
    results = verify(header + message)                        # Verification
    results.verdict          # "pass" / "permfail" / "tempfail" / "none"
    for r in results: r.status, r.reason, r.expl, r.text, r.d, r.i, r.s, r.a, r.b

Streaming: ``Signer`` and ``Verifier`` take header fields, then body
chunks of any size, then ``finish()``.  Key lookups go through a resolver
callable ``name -> [TXT strings]``; the default is a shared, caching
``TXTResolver`` over dnspython.
"""
from .canon import BodyCanon, canon_body, canon_header, parse_message
from .dns import DNSPermError, DNSTempError, TXTResolver, default_resolver
from .keyrecord import KeyRecord, parse_key_record
from .keys import (KeyLoadError, generate_key, load_private_key,
                   load_private_key_file, private_key_pem, public_key_record)
from .signer import DEFAULT_HEADERS, Signer, sign
from .sigparse import Signature, parse_signature
from .status import (EXPL_CODE, EXPL_NAMES, EXPL_TEXT, FAIL, NEUTRAL, PASS,
                     PERMERROR, REASONS, TEMPERROR, DKIMError)
from .verifier import MAX_SIGNATURES, Result, Verification, Verifier, verify

__all__ = [
    "sign", "verify", "Signer", "Verifier", "Result", "Verification",
    "TXTResolver", "DNSTempError", "DNSPermError", "default_resolver",
    "parse_signature", "Signature", "parse_key_record", "KeyRecord",
    "load_private_key", "load_private_key_file", "generate_key",
    "public_key_record", "private_key_pem", "KeyLoadError",
    "BodyCanon", "canon_body", "canon_header", "parse_message",
    "DKIMError", "REASONS", "EXPL_NAMES", "EXPL_CODE", "EXPL_TEXT",
    "PASS", "FAIL", "NEUTRAL", "PERMERROR", "TEMPERROR",
    "DEFAULT_HEADERS", "MAX_SIGNATURES",
]
