"""Signing and verification through the API: round trips, streaming,
header selection, l=, key policy, several signatures, DNS outcomes."""
import base64
import hashlib

import pytest
from hypothesis import given, settings, strategies as st

from mfl.dkim import (DNSTempError, Signer, Verifier, generate_key, load_private_key,
                      private_key_pem, public_key_record, sign, verify)
from mfl.dkim.keys import KeyLoadError

from dkim_support import MESSAGE, FakeDNS

CANONS = [("simple", "simple"), ("simple", "relaxed"),
          ("relaxed", "simple"), ("relaxed", "relaxed")]
ALGS = [("rsa", "rsa-sha256"), ("rsa", "rsa-sha1"), ("ed", "ed25519-sha256")]


def keyof(kind, rsa_key, ed_key):
    return (rsa_key, "rsa") if kind == "rsa" else (ed_key, "ed")


@pytest.mark.parametrize("canon", CANONS, ids="/".join)
@pytest.mark.parametrize("kind,alg", ALGS)
def test_round_trip(kind, alg, canon, rsa_key, ed_key, resolver):
    key, sel = keyof(kind, rsa_key, ed_key)
    h = sign(MESSAGE, "example.com", sel, key, canon=canon, algorithm=alg)
    assert h.startswith(b"DKIM-Signature: v=1; a=" + alg.encode())
    assert h.endswith(b"\r\n") and all(len(line) <= 78 for line in h.split(b"\r\n"))
    res = verify(h + MESSAGE, resolver=resolver)
    assert res.verdict == "pass", [(r.reason, r.text) for r in res]
    r = res[0]
    assert (r.status, r.reason, r.expl, r.expl_code, r.a, r.c) == \
        ("pass", "ok", "OK", 0, alg, "/".join(canon))
    assert r.d == "example.com" and r.s == sel and r.i == "@example.com"
    assert r.b and " " not in r.b
    # body and signed header changes are caught
    tampered = (h + MESSAGE).replace(b"hungry", b"Hungry")
    assert verify(tampered, resolver=resolver)[0].reason == "body-hash-mismatch"
    tampered = (h + MESSAGE).replace(b"Suzie Q", b"Suzie R")
    assert verify(tampered, resolver=resolver)[0].reason == "bad-signature"


def test_relaxed_survives_whitespace_changes(rsa_key, resolver):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key, canon=("relaxed", "relaxed"))
    changed = MESSAGE.replace(b"Subject:   Is", b"subject: Is").replace(b"lost  the", b"lost the")
    assert verify(h + changed, resolver=resolver).verdict == "pass"
    h = sign(MESSAGE, "example.com", "rsa", rsa_key, canon=("simple", "simple"))
    assert verify(h + changed, resolver=resolver).verdict == "permfail"


def test_lf_message_and_lf_signature(rsa_key, resolver):
    lf = MESSAGE.replace(b"\r\n", b"\n")
    h = sign(lf, "example.com", "rsa", rsa_key, canon=("simple", "simple"), linesep=b"\n")
    assert b"\r" not in h
    assert verify(h + lf, resolver=resolver).verdict == "pass"
    # the same signature on the CRLF form of the message
    assert verify(h.replace(b"\n", b"\r\n") + MESSAGE, resolver=resolver).verdict == "pass"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(MESSAGE)), max_size=8),
       st.sampled_from(CANONS))
def test_streaming_any_chunking(cuts, canon):
    key = _KEY
    dns = FakeDNS({"s._domainkey.example.com": public_key_record(key)})
    fields_end = MESSAGE.index(b"\r\n\r\n") + 2
    head, body = MESSAGE[:fields_end], MESSAGE[fields_end + 2:]
    s = Signer("example.com", "s", key, canon=canon, timestamp=1)
    s.feed_headers(head)
    points = sorted(c % (len(body) + 1) for c in cuts)
    pieces = [body[a:b] for a, b in zip([0] + points, points + [len(body)])]
    for p in pieces:
        s.feed_body(p)
    h = s.finish()
    assert h == sign(MESSAGE, "example.com", "s", key, canon=canon, timestamp=1)
    v = Verifier(resolver=dns)
    v.feed_field(h)
    v.feed_headers(head)
    for p in pieces:
        v.feed_body(p)
    assert v.finish().verdict == "pass"


_KEY = generate_key("ed25519")


def test_milter_style_feed_header(rsa_key, resolver):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key, canon=("relaxed", "relaxed"))
    v = Verifier(resolver=resolver)
    v.feed_header("DKIM-Signature", h.split(b":", 1)[1])
    from mfl.dkim import parse_message
    fields, body = parse_message(MESSAGE)
    for name, raw in fields:
        v.feed_header(name, raw.split(b":", 1)[1])
    v.feed_body(body)
    assert v.finish().verdict == "pass"


def test_header_selection_bottom_up_and_oversigning(rsa_key, resolver):
    msg = (b"From: a@example.com\r\nX-Tag: first\r\nX-Tag: second\r\n"
           b"Subject: s\r\n\r\nbody\r\n")
    h = sign(msg, "example.com", "rsa", rsa_key, headers="from:x-tag:subject:subject")
    assert verify(h + msg, resolver=resolver).verdict == "pass"
    # the bottom X-Tag is the signed one: changing the top one is harmless
    assert verify(h + msg.replace(b"first", b"FIRST"), resolver=resolver).verdict == "pass"
    assert verify(h + msg.replace(b"second", b"SECOND"), resolver=resolver).verdict == "permfail"
    # over-signed Subject: adding a second Subject breaks the signature
    added = msg.replace(b"\r\n\r\n", b"\r\nSubject: extra\r\n\r\n")
    assert verify(h + added, resolver=resolver)[0].reason == "bad-signature"
    # adding a third X-Tag at the bottom changes the signed instance
    added = msg.replace(b"\r\n\r\n", b"\r\nX-Tag: third\r\n\r\n")
    assert verify(h + added, resolver=resolver).verdict == "permfail"
    # ...but adding one at the top does not
    assert verify(h + b"X-Tag: zeroth\r\n" + msg, resolver=resolver).verdict == "pass"


def test_default_header_list(rsa_key, resolver):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    hval = h.replace(b"\r\n\t", b"").split(b"h=")[1].split(b";")[0]
    names = hval.split(b":")
    assert names.count(b"from") == 2 and names.count(b"subject") == 2
    assert b"to" in names and b"message-id" in names and b"received" not in names


def test_sign_rejects_bad_arguments(rsa_key, ed_key):
    with pytest.raises(ValueError):
        sign(MESSAGE, "example.com", "s", rsa_key, headers="to:subject")
    with pytest.raises(ValueError):
        sign(MESSAGE, "example.com", "s", rsa_key, algorithm="ed25519-sha256")
    with pytest.raises(ValueError):
        sign(MESSAGE, "bad domain", "s", rsa_key)
    with pytest.raises(ValueError):
        sign(MESSAGE, "example.com", "s", rsa_key, identity="x@example.org")
    with pytest.raises(KeyLoadError):
        sign(MESSAGE, "example.com", "s", b"-----BEGIN PRIVATE KEY-----\nxx\n")


def test_key_formats(tmp_path, rsa_key, ed_key, resolver):
    pkcs1 = private_key_pem(rsa_key, pkcs8=False)
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    pkcs8 = private_key_pem(rsa_key)
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    path = tmp_path / "k.pem"
    path.write_bytes(pkcs1)
    for key in (pkcs1, pkcs8.decode(), str(path), path):
        h = sign(MESSAGE, "example.com", "rsa", key)
        assert verify(h + MESSAGE, resolver=resolver).verdict == "pass"
    from cryptography.hazmat.primitives import serialization
    seed = ed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    key = load_private_key(base64.b64encode(seed))          # dkimpy's format
    h = sign(MESSAGE, "example.com", "ed", key)
    assert verify(h + MESSAGE, resolver=resolver).verdict == "pass"


def test_length_tag(rsa_key, resolver):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key, length=True)
    assert b"l=" in h
    r = verify(h + MESSAGE + b"appended\r\n", resolver=resolver)[0]
    assert r.status == "pass" and r.length is not None
    # the two empty lines ending MESSAGE now count, before the new text
    assert r.unsigned_body_bytes == len(b"\r\n\r\nappended\r\n")
    assert r.body_length == r.length + r.unsigned_body_bytes
    # a body shorter than l=
    short = MESSAGE[:MESSAGE.rindex(b"Joe.")]
    r = verify(h + short, resolver=resolver)[0]
    assert (r.status, r.reason, r.expl) == ("fail", "length-exceeds-body", "BAD_BODY")


def test_expiry_and_timestamps(rsa_key, resolver):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key, timestamp=1000, expire=100)
    assert b"t=1000;" in h and b"x=1100;" in h
    r = verify(h + MESSAGE, resolver=resolver, now=1050)[0]
    assert r.status == "pass"
    r = verify(h + MESSAGE, resolver=resolver, now=2000)[0]
    assert (r.status, r.reason, r.expl) == ("neutral", "sig-expired", "EXPIRED")


def test_key_policies(rsa_key, ed_key):
    rec = public_key_record(rsa_key)
    def check(record, **kw):
        h = sign(MESSAGE, "example.com", "k", rsa_key, **kw)
        return verify(h + MESSAGE, resolver=FakeDNS({"k._domainkey.example.com": record}))[0]
    assert check(rec + "; h=sha256").status == "pass"
    r = check(rec + "; h=sha256", algorithm="rsa-sha1")
    assert (r.reason, r.expl) == ("key-hash-not-allowed", "BAD_ALGORITHM")
    r = check(rec + "; t=s", identity="joe@sub.example.com")
    assert (r.reason, r.expl) == ("key-strict-identity", "DOMAIN_MISMATCH")
    assert check(rec + "; t=s", identity="joe@example.com").status == "pass"
    r = check(rec + "; t=y")
    assert r.status == "pass" and r.testing
    r = check(public_key_record(ed_key))
    assert (r.reason, r.expl) == ("key-type-mismatch", "BAD_KEY_TYPE")
    r = check("v=DKIM1; p=")
    assert (r.status, r.reason, r.expl) == ("permerror", "key-revoked", "KEY_REVOKED")
    r = check("v=DKIM1; k=rsa; s=web; p=" + rec.split("p=")[1])
    assert r.reason == "key-service-type"
    # several TXT records: the first usable one is taken
    r = verify(sign(MESSAGE, "example.com", "k", rsa_key) + MESSAGE,
               resolver=FakeDNS({"k._domainkey.example.com": ["garbage", rec]}))[0]
    assert r.status == "pass"


@pytest.mark.parametrize("error,status,reason,expl,verdict", [
    (DNSTempError("SERVFAIL"), "temperror", "dns-temporary", "DNS_UNAVAIL", "tempfail"),
    (TimeoutError("timed out"), "temperror", "dns-temporary", "DNS_UNAVAIL", "tempfail"),
    (RuntimeError("resolver crashed"), "temperror", "dns-temporary", "DNS_UNAVAIL", "tempfail"),
    (None, "permerror", "dns-not-found", "DNS_NOTFOUND", "permfail"),
])
def test_dns_outcomes(rsa_key, error, status, reason, expl, verdict):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    dns = FakeDNS({} if error is None else {"rsa._domainkey.example.com": error})
    res = verify(h + MESSAGE, resolver=dns)
    r = res[0]
    assert (r.status, r.reason, r.expl, res.verdict) == (status, reason, expl, verdict)
    assert res.primary is r


def test_resolver_return_shapes(rsa_key):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    rec = public_key_record(rsa_key)
    for answer in (rec, rec.encode(), [rec], [[rec[:100].encode(), rec[100:].encode()]]):
        assert verify(h + MESSAGE, resolver=lambda name: answer).verdict == "pass"
    for answer in (None, []):
        assert verify(h + MESSAGE, resolver=lambda name: answer)[0].reason == "dns-not-found"


def test_several_signatures_any_pass(rsa_key, ed_key, resolver):
    good = sign(MESSAGE, "example.com", "ed", ed_key)
    bad = sign(MESSAGE, "example.com", "ed", generate_key("ed25519"))   # wrong key
    missing = sign(MESSAGE, "example.com", "nokey", rsa_key)
    # the passing signature is the bottom one: every signature is evaluated
    res = verify(missing + bad + good + MESSAGE, resolver=resolver)
    assert [r.reason for r in res] == ["dns-not-found", "bad-signature", "ok"]
    assert [r.index for r in res] == [0, 1, 2]
    assert res.verdict == "pass" and res.passing is res[2]
    # a temporary failure beside a failure: tempfail
    dns = FakeDNS(resolver.records)
    dns.add("nokey._domainkey.example.com", DNSTempError("timeout"))
    res = verify(missing + bad + MESSAGE, resolver=dns)
    assert res.verdict == "tempfail" and res.primary is res[0]
    res = verify(bad + MESSAGE, resolver=dns)
    assert res.verdict == "permfail" and res.primary is res[0]


def test_unsigned_message():
    res = verify(MESSAGE, resolver=FakeDNS())
    assert res.verdict == "none" and res.primary is None and list(res) == []


def test_signature_cap(ed_key, resolver):
    good = sign(MESSAGE, "example.com", "ed", ed_key)
    junk = b"DKIM-Signature: v=1; a=rsa-sha256\r\n"
    res = verify(junk * 20 + good + MESSAGE, resolver=resolver)
    assert len(res) == 8 and res.skipped == 13 and res.verdict == "permfail"
    res = verify(junk * 20 + good + MESSAGE, resolver=resolver, max_signatures=21)
    assert res.verdict == "pass"


def test_dns_cache_is_used_by_the_resolver_only(rsa_key, resolver):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    verify(h + h + MESSAGE, resolver=resolver)
    assert resolver.queries == ["rsa._domainkey.example.com"] * 2


def test_result_fields(rsa_key, resolver):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key, identity="joe@example.com")
    r = verify(h + MESSAGE, resolver=resolver)[0]
    unfolded = h.decode().split(":", 1)[1]
    assert r.signature == "".join(unfolded.split())
    assert r.header == h
    assert r.i == "joe@example.com" and r.key_bits == 2048
    assert r.expl_text == "DKIM verification passed"
    assert r.b == r.signature.split("b=")[-1]
