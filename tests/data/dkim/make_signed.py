#!/usr/bin/env python3
"""Write the DKIM-signed test messages of tests/data/dkim/ (run from anywhere).

Signed by dkimpy (an implementation independent of mfl's) with the key
mmq-rsa.pem, whose public half is published as ``sel._domainkey.example.org``
(and ``revoked._domainkey.example.org`` with an empty ``p=``) in
tests/diff/sessions/dkim.zone.json, written here too.  The clock is fixed
(t=1704103200), so re-running the script changes no file.

    signed.eml          relaxed/relaxed, rsa-sha256, s=sel
    signed-simple.eml   simple/simple, rsa-sha1, s=sel
    signed-tampered.eml signed.eml with one body line changed
    signed-nokey.eml    s=gone (no such key record)
    signed-revoked.eml  s=revoked (revoked key)
"""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from unittest import mock

import dkim
from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
KEY = (HERE / "mmq-rsa.pem").read_bytes()
BASE = (REPO / "tests" / "data" / "messages" / "simple.eml").read_bytes().replace(b"\n", b"\r\n")
HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


def sign(selector: bytes, canon, algo=b"rsa-sha256") -> bytes:
    with mock.patch.object(time, "time", return_value=1704103200):
        sig = dkim.sign(BASE, selector, b"example.org", KEY, canonicalize=canon,
                        signature_algorithm=algo, include_headers=HEADERS)
    return sig + BASE


def lf(msg: bytes) -> bytes:
    return msg.replace(b"\r\n", b"\n")


def main() -> None:
    signed = sign(b"sel", (b"relaxed", b"relaxed"))
    (HERE / "signed.eml").write_bytes(lf(signed))
    (HERE / "signed-simple.eml").write_bytes(lf(sign(b"sel", (b"simple", b"simple"), b"rsa-sha1")))
    tampered = signed.replace(b"This is a plain message.", b"This is a changed message.")
    assert tampered != signed
    (HERE / "signed-tampered.eml").write_bytes(lf(tampered))
    (HERE / "signed-nokey.eml").write_bytes(lf(sign(b"gone", (b"relaxed", b"relaxed"))))
    (HERE / "signed-revoked.eml").write_bytes(lf(sign(b"revoked", (b"relaxed", b"simple"))))
    pub = serialization.load_pem_private_key(KEY, None).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    zone = {"sel._domainkey.example.org": "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode(),
            "revoked._domainkey.example.org": "v=DKIM1; k=rsa; p="}
    (REPO / "tests" / "diff" / "sessions" / "dkim.zone.json").write_text(
        json.dumps(zone, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
