"""Interoperability with dkimpy: its signatures verified by us, ours by it,
for rsa-sha256, rsa-sha1, ed25519-sha256 and the four canonicalisations."""
import base64

import pytest
from cryptography.hazmat.primitives import serialization

from mfl.dkim import private_key_pem, public_key_record, sign, verify

from dkim_support import FakeDNS, dkimpy_dnsfunc, log_interop
from interop_corpus import CORPUS, HEADERS

dkim = pytest.importorskip("dkim")
if not hasattr(dkim, "verify"):     # tests/dkim seen as a namespace package
    pytest.skip("dkimpy not installed", allow_module_level=True)
pytest.importorskip("nacl")          # dkimpy's ed25519 needs PyNaCl

CANONS = ["simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"]
ALGS = ["rsa-sha256", "rsa-sha1", "ed25519-sha256"]


@pytest.fixture(scope="module")
def keys(rsa_key, ed_key):
    seed = ed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    records = {"rsa._domainkey.example.com": public_key_record(rsa_key),
               "ed._domainkey.example.com": public_key_record(ed_key)}
    return {"rsa": (rsa_key, private_key_pem(rsa_key, pkcs8=False)),
            "ed": (ed_key, base64.b64encode(seed))}, records


def selector(alg):
    return "ed" if alg.startswith("ed") else "rsa"


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("alg", ALGS)
def test_dkimpy_signs_we_verify(keys, alg, canon):
    (k, records) = keys
    sel = selector(alg)
    failures = []
    for name, msg in CORPUS.items():
        h = dkim.sign(msg, sel.encode(), b"example.com", k[sel][1],
                      canonicalize=tuple(c.encode() for c in canon.split("/")),
                      signature_algorithm=alg.encode(),
                      include_headers=[h.encode() for h in HEADERS])
        res = verify(h + msg, resolver=FakeDNS(records))
        if res.verdict != "pass":
            failures.append((name, [(r.reason, r.text) for r in res]))
    log_interop("dkimpy", "mfl", alg, canon,
                f"{len(CORPUS) - len(failures)}/{len(CORPUS)}")
    assert not failures


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("alg", ALGS)
def test_we_sign_dkimpy_verifies(keys, alg, canon):
    (k, records) = keys
    sel = selector(alg)
    failures = []
    for name, msg in CORPUS.items():
        linesep = b"\n" if name == "lf-only" else b"\r\n"
        h = sign(msg, "example.com", sel, k[sel][0], canon=tuple(canon.split("/")),
                 algorithm=alg, headers=HEADERS, linesep=linesep)
        if not dkim.verify(h + msg, dnsfunc=dkimpy_dnsfunc(records)):
            failures.append(name)
    log_interop("mfl", "dkimpy", alg, canon,
                f"{len(CORPUS) - len(failures)}/{len(CORPUS)}")
    assert not failures


def test_dkimpy_default_signing(keys):
    (k, records) = keys
    for name, msg in CORPUS.items():
        h = dkim.sign(msg, b"rsa", b"example.com", k["rsa"][1])
        assert verify(h + msg, resolver=FakeDNS(records)).verdict == "pass", name


def test_our_default_signing(keys):
    (k, records) = keys
    for name, msg in CORPUS.items():
        h = sign(msg, "example.com", "rsa", k["rsa"][0])
        assert dkim.verify(h + msg, dnsfunc=dkimpy_dnsfunc(records)), name


def test_length_tag_both_ways(keys):
    (k, records) = keys
    msg = CORPUS["plain"]
    h = dkim.sign(msg, b"rsa", b"example.com", k["rsa"][1], length=True)
    r = verify(h + msg + b"extra\r\n", resolver=FakeDNS(records))[0]
    assert r.status == "pass" and r.unsigned_body_bytes == 7
    h = sign(msg, "example.com", "rsa", k["rsa"][0], length=True)
    assert dkim.verify(h + msg + b"extra\r\n", dnsfunc=dkimpy_dnsfunc(records))


def test_failures_seen_both_ways(keys):
    (k, records) = keys
    msg = CORPUS["plain"]
    h = sign(msg, "example.com", "ed", k["ed"][0])
    assert not dkim.verify(h + msg.replace(b"Joe.", b"Jim."), dnsfunc=dkimpy_dnsfunc(records))
    h = dkim.sign(msg, b"ed", b"example.com", k["ed"][1], signature_algorithm=b"ed25519-sha256")
    r = verify(h + msg.replace(b"Joe.", b"Jim."), resolver=FakeDNS(records))[0]
    assert r.reason == "body-hash-mismatch"
