"""Hostile input gives a verdict and a reason, never an exception."""
import base64
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings, strategies as st

from mfl.dkim import public_key_record, sign, verify
from mfl.dkim.status import REASONS

from dkim_support import MESSAGE, FakeDNS

BH = base64.b64encode(b"y" * 32).decode()


def base_sig(extra="", b="QUJD"):
    return (f"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa; "
            f"h=from; bh={BH};{extra} b={b}\r\n").encode()


def check(message, resolver, **kw):
    t0 = time.monotonic()
    res = verify(message, resolver=resolver, **kw)
    assert time.monotonic() - t0 < 10
    for r in res:
        assert r.reason in REASONS and r.text
    return res


def test_thousands_of_tags(resolver):
    extra = "".join(f" x{i}=v{i};" for i in range(5000))
    res = check(base_sig(extra) + MESSAGE, resolver)
    assert res[0].reason == "body-hash-mismatch"


def test_thousands_of_duplicate_tags(resolver):
    extra = " v=1;" * 5000
    assert check(base_sig(extra) + MESSAGE, resolver)[0].reason == "sig-duplicate-tag"


def test_huge_b(resolver, rsa_key):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    huge = base64.b64encode(b"\x01" * 3_000_000).decode()
    raw = h.split(b"b=")[0] + b"b=" + b"\r\n\t".join(
        huge[i:i + 70].encode() for i in range(0, len(huge), 70)) + b"\r\n"
    # keep bh= (which precedes b=) so that only b= is wrong
    res = check(raw + MESSAGE, resolver)
    assert (res[0].status, res[0].reason) == ("fail", "bad-signature")


@pytest.mark.parametrize("b", ["!!!!", "QUJD=", "QU JD\r\n\t==x", "A" * 5, "Zm9v\x7f"])
def test_bad_base64(resolver, b):
    res = check(base_sig(b=b) + MESSAGE, resolver)
    assert res[0].reason in ("sig-bad-base64", "sig-syntax") and res.verdict == "permfail"


def test_many_signatures(resolver, ed_key):
    good = sign(MESSAGE, "example.com", "ed", ed_key)
    junk = base_sig()
    res = check(junk * 20000 + good + MESSAGE, resolver)
    assert len(res) == 8 and res.skipped == 20000 - 8 + 1
    assert len(resolver.queries) <= 8


def random_rsa_record(bits):
    n = (1 << (bits - 1)) | 0x1234567 | 1
    pub = rsa.RSAPublicNumbers(65537, n).public_key()
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


@pytest.mark.parametrize("bits,reason", [(16384, "bad-signature"),
                                         (16400, "key-too-large"),
                                         (32768, "key-too-large"),
                                         (768, "key-too-small")])
def test_big_and_small_keys(rsa_key, bits, reason):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    dns = FakeDNS({"rsa._domainkey.example.com": random_rsa_record(bits)})
    assert check(h + MESSAGE, dns)[0].reason == reason


def test_16k_bit_signature_length(rsa_key):
    # a b= as long as a 16k-bit key wants, against that key
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    b = base64.b64encode(b"\x05" * 2048)
    h = h.split(b"b=")[0] + b"b=" + b + b"\r\n"
    dns = FakeDNS({"rsa._domainkey.example.com": random_rsa_record(16384)})
    assert check(h + MESSAGE, dns)[0].reason == "bad-signature"


def test_truncated_key_records(rsa_key, ed_key):
    h = sign(MESSAGE, "example.com", "rsa", rsa_key)
    rec = public_key_record(rsa_key)
    seen = set()
    for cut in range(0, len(rec)):
        dns = FakeDNS({"rsa._domainkey.example.com": rec[:cut]})
        r = check(h + MESSAGE, dns)[0]
        assert r.status == "permerror"
        seen.add(r.reason)
    assert {"key-missing-p", "key-revoked", "key-bad-data"} <= seen


def test_length_larger_than_body(resolver, rsa_key):
    for l in ("100000", "9" * 76):
        res = check(base_sig(f" l={l};") + MESSAGE, resolver)
        assert res[0].reason in ("length-exceeds-body", "bad-signature")
        assert res[0].status == "fail"
    assert check(base_sig(" l=" + "9" * 77 + ";") + MESSAGE, resolver)[0].reason == "sig-length"


def test_odd_messages(resolver):
    for msg in (b"", b"\r\n", b"no header at all", b"\x00\xff\r\n\r\n",
                b" continuation first\r\nDKIM-Signature: x\r\n\r\n",
                b"DKIM-Signature\r\n\r\n", b"DKIM-Signature:\r\n\r\n",
                b"DKIM-Signature: ;;;;\r\n", b"DKIM-Signature: \xe9=\xff\r\n\r\n"):
        res = check(msg, resolver)
        assert res.verdict in ("none", "permfail")


def test_many_headers_and_huge_h(resolver, rsa_key):
    msg = b"".join(b"X-A: %d\r\n" % i for i in range(50000)) + MESSAGE
    h = sign(msg, "example.com", "rsa", rsa_key, headers=["from"] + ["x-a"] * 50010)
    assert check(h + msg, resolver).verdict == "pass"


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.sampled_from([b"DKIM-Signature: ", b"dkim-signature:", b"v=1;", b"a=rsa-sha256;",
                     b"a=ed25519-sha256;", b"d=example.com;", b"s=rsa;", b"s=ed;",
                     b"h=from;", b"bh=" + BH.encode() + b";", b"b=QUJD;", b"l=5;",
                     b"c=relaxed;", b"\r\n", b"\n", b"\r\n\t", b" ", b"From: x\r\n",
                     b"\r\n\r\n"]),
    st.binary(max_size=8)), max_size=40).map(b"".join))
def test_fuzz_whole_messages(resolver, data):
    check(data, resolver)
