"""Verdicts, reasons and mailfromd's explanation codes.

Each per-signature result has a *status* (RFC 8601 words), a machine-readable
*reason* (a short kebab-case string, stable), and the mailfromd explanation
name it maps to (``DKIM_EXPL_<expl>``; the numeric code is the position in
``EXPL_NAMES``, the order of ``status.mfl``).
"""
from __future__ import annotations

PASS = "pass"
FAIL = "fail"            # the cryptography says no (body hash or signature)
NEUTRAL = "neutral"      # the signature could not be evaluated (syntax, policy)
PERMERROR = "permerror"  # the key is missing, broken, revoked or unusable
TEMPERROR = "temperror"  # try again later (DNS failure, timeout)

# (name, mailfromd's explanation text), in status.mfl order
EXPLANATIONS = (
    ("OK", "DKIM verification passed"),
    ("NO_SIG", "No DKIM signature"),
    ("INTERNAL_ERROR", "internal error"),
    ("SIG_SYNTAX", "signature syntax error"),
    ("SIG_MISS", "signature is missing required tag"),
    ("DOMAIN_MISMATCH", "domain mismatch"),
    ("BAD_VERSION", "incompatible version"),
    ("BAD_ALGORITHM", "unsupported signing algorithm"),
    ("BAD_QUERY", "unsupported query method"),
    ("FROM", "From field not signed"),
    ("EXPIRED", "signature expired"),
    ("DNS_UNAVAIL", "public key unavailable"),
    ("DNS_NOTFOUND", "public key not found"),
    ("KEY_SYNTAX", "key syntax error"),
    ("KEY_REVOKED", "key revoked"),
    ("BAD_BODY", "body hash did not verify"),
    ("BAD_BASE64", "can't decode b= tag"),
    ("BAD_SIG", "signature did not verify"),
    ("BAD_KEY_TYPE", "unsupported public key type"),
)
EXPL_NAMES = tuple(n for n, _ in EXPLANATIONS)
EXPL_CODE = {n: k for k, n in enumerate(EXPL_NAMES)}
EXPL_TEXT = dict(EXPLANATIONS)

# reason -> (status, explanation name)
REASONS = {
    "ok": (PASS, "OK"),
    "no-signature": (NEUTRAL, "NO_SIG"),
    "internal-error": (TEMPERROR, "INTERNAL_ERROR"),
    # signature field
    "sig-syntax": (NEUTRAL, "SIG_SYNTAX"),
    "sig-duplicate-tag": (NEUTRAL, "SIG_SYNTAX"),
    "sig-missing-tag": (NEUTRAL, "SIG_MISS"),
    "sig-version": (NEUTRAL, "BAD_VERSION"),
    "sig-algorithm": (NEUTRAL, "BAD_ALGORITHM"),
    "sig-sha1-refused": (NEUTRAL, "BAD_ALGORITHM"),
    "sig-canon": (NEUTRAL, "SIG_SYNTAX"),
    "sig-domain": (NEUTRAL, "SIG_SYNTAX"),
    "sig-selector": (NEUTRAL, "SIG_SYNTAX"),
    "sig-identity": (NEUTRAL, "SIG_SYNTAX"),
    "domain-mismatch": (NEUTRAL, "DOMAIN_MISMATCH"),
    "from-not-signed": (NEUTRAL, "FROM"),
    "sig-length": (NEUTRAL, "SIG_SYNTAX"),
    "sig-query": (NEUTRAL, "BAD_QUERY"),
    "sig-timestamp": (NEUTRAL, "SIG_SYNTAX"),
    "sig-expiry-before-timestamp": (NEUTRAL, "SIG_SYNTAX"),
    "sig-expired": (NEUTRAL, "EXPIRED"),
    "sig-bad-base64": (NEUTRAL, "BAD_BASE64"),
    "sig-bad-bh-base64": (NEUTRAL, "SIG_SYNTAX"),
    "too-many-signatures": (NEUTRAL, "INTERNAL_ERROR"),
    # key record and DNS
    "dns-temporary": (TEMPERROR, "DNS_UNAVAIL"),
    "dns-not-found": (PERMERROR, "DNS_NOTFOUND"),
    "key-syntax": (PERMERROR, "KEY_SYNTAX"),
    "key-version": (PERMERROR, "KEY_SYNTAX"),
    "key-missing-p": (PERMERROR, "KEY_SYNTAX"),
    "key-bad-base64": (PERMERROR, "KEY_SYNTAX"),
    "key-bad-data": (PERMERROR, "KEY_SYNTAX"),
    "key-revoked": (PERMERROR, "KEY_REVOKED"),
    "key-type": (PERMERROR, "BAD_KEY_TYPE"),
    "key-type-mismatch": (PERMERROR, "BAD_KEY_TYPE"),
    "key-hash-not-allowed": (PERMERROR, "BAD_ALGORITHM"),
    "key-service-type": (PERMERROR, "KEY_SYNTAX"),
    "key-strict-identity": (PERMERROR, "DOMAIN_MISMATCH"),
    "key-too-small": (PERMERROR, "KEY_SYNTAX"),
    "key-too-large": (PERMERROR, "KEY_SYNTAX"),
    # cryptography
    "body-hash-mismatch": (FAIL, "BAD_BODY"),
    "length-exceeds-body": (FAIL, "BAD_BODY"),
    "bad-signature": (FAIL, "BAD_SIG"),
}


class DKIMError(Exception):
    """A check failed; ``reason`` is a key of REASONS, ``text`` says why."""

    def __init__(self, reason: str, text: str = ""):
        if reason not in REASONS:
            reason = "internal-error"
        super().__init__(text or reason)
        self.reason = reason
        self.text = text or reason

    @property
    def status(self) -> str:
        return REASONS[self.reason][0]

    @property
    def expl(self) -> str:
        return REASONS[self.reason][1]
