"""Signature and key-record parsing: every RFC check, and fuzzing."""
import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings, strategies as st

from mfl.dkim import DKIMError, generate_key, parse_key_record, parse_signature, public_key_record
from mfl.dkim.sigparse import parse_tag_list
from mfl.dkim.status import REASONS

B = base64.b64encode(b"x" * 256).decode()
BH = base64.b64encode(b"y" * 32).decode()
GOOD = {"v": "1", "a": "rsa-sha256", "d": "example.com", "s": "sel",
        "h": "from:to", "bh": BH, "b": B}


def sig(**over):
    tags = dict(GOOD)
    for k, v in over.items():
        if v is None:
            tags.pop(k, None)
        else:
            tags[k] = v
    return ("DKIM-Signature: " + "; ".join(f"{k}={v}" for k, v in tags.items())
            + "\r\n").encode()


def reason(raw, **kw):
    try:
        parse_signature(raw, **kw)
    except DKIMError as e:
        return e.reason
    return "ok"


def test_good_signature():
    s = parse_signature(sig(c="relaxed", i="joe@sub.example.com", l="10",
                            t="100", x="200", q="dns/txt"), now=150)
    assert s.canon == ("relaxed", "simple")
    assert s.identity == "joe@sub.example.com" and s.length == 10
    assert (s.timestamp, s.expiration) == (100, 200)
    assert s.headers == ["from", "to"]
    assert parse_signature(sig()).identity == "@example.com"


@pytest.mark.parametrize("over,expected", [
    ({"b": None}, "sig-missing-tag"),
    ({"bh": None}, "sig-missing-tag"),
    ({"v": None}, "sig-missing-tag"),
    ({"d": None}, "sig-missing-tag"),
    ({"h": None}, "sig-missing-tag"),
    ({"s": None}, "sig-missing-tag"),
    ({"a": None}, "sig-missing-tag"),
    ({"v": "2"}, "sig-version"),
    ({"a": "rsa-md5"}, "sig-algorithm"),
    ({"b": "!!notbase64!!"}, "sig-bad-base64"),
    ({"b": "QUJD="}, "sig-bad-base64"),
    ({"bh": "abc"}, "sig-bad-bh-base64"),
    ({"c": "fancy/simple"}, "sig-canon"),
    ({"c": "relaxed/relaxed/relaxed"}, "sig-canon"),
    ({"d": "exa mple.com"}, "sig-domain"),
    ({"d": "-bad.com"}, "sig-domain"),
    ({"s": "a..b"}, "sig-selector"),
    ({"i": "joe@example.org"}, "domain-mismatch"),
    ({"i": "joe@notexample.com"}, "domain-mismatch"),
    ({"i": "no-at-sign"}, "sig-identity"),
    ({"h": "to:subject"}, "from-not-signed"),
    ({"h": "from::to"}, "sig-syntax"),
    ({"l": "-1"}, "sig-length"),
    ({"l": "1e3"}, "sig-length"),
    ({"q": "http/well-known"}, "sig-query"),
    ({"t": "soon"}, "sig-timestamp"),
    ({"t": "200", "x": "100"}, "sig-expiry-before-timestamp"),
    ({"t": "200", "x": "200"}, "sig-expiry-before-timestamp"),
    ({"x": "100"}, "sig-expired"),
])
def test_signature_checks(over, expected):
    assert reason(sig(**over), now=150) == expected
    assert expected in REASONS


def test_sha1_can_be_refused():
    assert reason(sig(a="rsa-sha1")) == "ok"
    assert reason(sig(a="rsa-sha1"), allow_sha1=False) == "sig-sha1-refused"


def test_tag_list_syntax():
    assert parse_tag_list(" a = 1 ;b=2 3;; c=\r\n\t4 ;") == {"a": "1", "b": "2 3", "c": "4"}
    for bad in ("a", "1a=2", "a=1;a=2", "a=\x01", "a=\xe9"):
        with pytest.raises(DKIMError):
            parse_tag_list(bad)
    assert reason(sig() + b"") == "ok"
    assert reason(b"DKIM-Signature: v=1; v=1; " + sig()[16:]) == "sig-duplicate-tag"


def test_folded_values():
    raw = sig(b=B[:50] + "\r\n\t " + B[50:], h="From : To\r\n :Subject")
    s = parse_signature(raw)
    assert s.b == base64.b64decode(B)
    assert s.headers == ["From", "To", "Subject"]


# ---------------------------------------------------------------- key records

def test_key_record_good(rsa_key, ed_key):
    k = parse_key_record(public_key_record(rsa_key))
    assert (k.key_type, k.bits, k.hashes, k.services, k.testing) == \
        ("rsa", 2048, None, ("*",), False)
    k = parse_key_record(public_key_record(ed_key, testing=True) + "; s=email:*; h=sha256")
    assert (k.key_type, k.bits, k.testing, k.hashes) == ("ed25519", 256, True, ("sha256",))
    assert parse_key_record("p=" + public_key_record(rsa_key).split("p=")[1]).key_type == "rsa"
    assert parse_key_record(public_key_record(rsa_key) + "; t=s:y").strict


def key_reason(txt, **kw):
    try:
        parse_key_record(txt, **kw)
    except DKIMError as e:
        return e.reason
    return "ok"


def small_rsa_record(bits):
    # a public key only needs a modulus: no slow key generation
    n = (1 << (bits - 1)) | 0xF1
    pub = rsa.RSAPublicNumbers(65537, n).public_key()
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; p=" + base64.b64encode(der).decode()


def test_key_record_checks(rsa_key, ed_key):
    good = public_key_record(rsa_key)
    p = good.split("p=")[1]
    edp = public_key_record(ed_key).split("p=")[1]
    assert key_reason("v=DKIM2; p=" + p) == "key-version"
    assert key_reason("k=rsa; v=DKIM1; p=" + p) == "key-version"
    assert key_reason("v=DKIM1; k=rsa") == "key-missing-p"
    assert key_reason("v=DKIM1; p=") == "key-revoked"
    assert key_reason("v=DKIM1; p= ") == "key-revoked"
    assert key_reason("v=DKIM1; k=dsa; p=" + p) == "key-type"
    assert key_reason("v=DKIM1; s=web; p=" + p) == "key-service-type"
    assert key_reason("v=DKIM1; p=" + p[:-10]) in ("key-bad-base64", "key-bad-data")
    assert key_reason("v=DKIM1; p=" + p[:100]) == "key-bad-data"       # truncated
    assert key_reason("v=DKIM1; p=%%%") == "key-bad-base64"
    assert key_reason("v=DKIM1; k=ed25519; p=" + p) == "key-bad-data"
    assert key_reason("v=DKIM1; k=rsa; p=" + edp) == "key-bad-data"
    assert key_reason("v=DKIM1; k=ed25519; p=" + edp) == "ok"
    assert key_reason("v=DKIM1; p=" + p + "; p=" + p) == "key-syntax"
    assert key_reason("v=DKIM1; p") == "key-syntax"
    assert key_reason(small_rsa_record(512)) == "key-too-small"
    assert key_reason(small_rsa_record(1024)) == "ok"
    assert key_reason(small_rsa_record(16384)) == "ok"
    assert key_reason(small_rsa_record(16392)) == "key-too-large"
    assert key_reason(small_rsa_record(1024), min_rsa_bits=2048) == "key-too-small"


# ---------------------------------------------------------------- fuzzing

TAG_NAMES = st.sampled_from(["v", "a", "b", "bh", "c", "d", "h", "i", "l", "q",
                             "s", "t", "x", "z", "k", "p", "n", "xx"])
TAG_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=300), max_size=30),
    st.sampled_from(["1", "rsa-sha256", "ed25519-sha256", "relaxed/relaxed", "simple",
                     "example.com", "@example.com", "from:to", B, BH, "DKIM1",
                     "rsa", "ed25519", "y", "s", "*", "email", "dns/txt", "0",
                     "99999999999999999999999999", ""]))
TAG_LISTS = st.lists(st.tuples(TAG_NAMES, TAG_VALUES), max_size=12).map(
    lambda tags: "; ".join(f"{k}={v}" for k, v in tags))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(TAG_LISTS, st.text(max_size=200)))
def test_fuzz_signature_parser(text):
    raw = b"DKIM-Signature: " + text.encode("utf-8", "surrogatepass") + b"\r\n"
    try:
        parse_signature(raw, now=0)
    except DKIMError as e:
        assert e.reason in REASONS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_signature_parser_bytes(data):
    try:
        parse_signature(data)
    except DKIMError:
        pass


@settings(max_examples=1500, deadline=None)
@given(st.one_of(TAG_LISTS, st.text(max_size=200), st.binary(max_size=200)))
def test_fuzz_key_record_parser(text):
    try:
        parse_key_record(text)
    except DKIMError as e:
        assert e.reason in REASONS


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=3))
def test_fuzz_truncated_key_records(cut, kind):
    rec = _RECORDS[kind]
    try:
        parse_key_record(rec[:cut])
    except DKIMError as e:
        assert e.reason in REASONS


_RECORDS = [public_key_record(generate_key("rsa", 1024)),
            public_key_record(generate_key("ed25519")),
            "v=DKIM1; k=rsa; h=sha256; s=email; t=y:s; p=" + BH,
            "v=DKIM1; k=ed25519; p=" + BH]
