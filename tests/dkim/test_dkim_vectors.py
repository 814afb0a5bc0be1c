"""Published test vectors: RFC 6376 appendix A (signed example and the
section 3.4.5 canonicalisation example) and RFC 8463 appendix A (ed25519
and rsa-sha256 signatures of the same message)."""
import base64
import hashlib

from mfl.dkim import canon_body, canon_header, parse_message, verify
from mfl.dkim.canon import RELAXED, SIMPLE

from dkim_support import FakeDNS

RFC6376_KEY = ("v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQ"
               "KBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt"
               "IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v"
               "/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi"
               "tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB")
RFC8463_RSA_KEY = ("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6"
                   "Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6"
                   "lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB")
RFC8463_ED_KEY = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

RFC6376_SIGNED = b"""DKIM-Signature: v=1; a=rsa-sha256; s=brisbane; d=example.com;
      c=simple/simple; q=dns/txt; i=joe@football.example.com;
      h=Received : From : To : Subject : Date : Message-ID;
      bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
      b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB
      4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut
      KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV
      4bmp/YzhwvcubU4=;
Received: from client1.football.example.com  [192.0.2.1]
      by submitserver.example.com with SUBMISSION;
      Fri, 11 Jul 2003 21:01:54 -0700 (PDT)
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game. Are you hungry yet?

Joe.
"""

RFC8463_SIGNED = b"""DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=brisbane; t=1528637909; h=from : to :
 subject : date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
 Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=test; t=1528637909; h=from : to : subject :
 date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
 DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
 dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game.  Are you hungry yet?

Joe.
"""


def crlf(b):
    return b.replace(b"\n", b"\r\n")


def test_rfc6376_appendix_a():
    dns = FakeDNS({"brisbane._domainkey.example.com": RFC6376_KEY})
    for msg in (crlf(RFC6376_SIGNED), RFC6376_SIGNED):      # CRLF and LF files
        res = verify(msg, resolver=dns)
        assert res.verdict == "pass", [(r.reason, r.text) for r in res]
        r = res[0]
        assert (r.d, r.s, r.i, r.a, r.c) == ("example.com", "brisbane",
                                             "joe@football.example.com",
                                             "rsa-sha256", "simple/simple")
        assert r.key_bits == 1024
        assert r.signature.startswith("v=1;a=rsa-sha256;s=brisbane;d=example.com;")
        assert " " not in r.signature and "\n" not in r.signature


def test_rfc6376_body_hash_is_the_published_one():
    _, body = parse_message(crlf(RFC6376_SIGNED))
    bh = base64.b64encode(hashlib.sha256(canon_body(body, SIMPLE)).digest())
    assert bh == b"2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="


def test_rfc8463_appendix_a_both_signatures_pass():
    dns = FakeDNS({"brisbane._domainkey.football.example.com": RFC8463_ED_KEY,
                   "test._domainkey.football.example.com": RFC8463_RSA_KEY})
    res = verify(crlf(RFC8463_SIGNED), resolver=dns)
    assert [(r.status, r.a) for r in res] == [("pass", "ed25519-sha256"),
                                              ("pass", "rsa-sha256")]
    assert res[0].i == "@football.example.com"
    # tampering the body breaks both
    bad = crlf(RFC8463_SIGNED).replace(b"hungry", b"thirsty")
    res = verify(bad, resolver=dns)
    assert [r.reason for r in res] == ["body-hash-mismatch"] * 2
    assert res.verdict == "permfail"


def test_rfc8463_without_final_newline():
    # the example body as some copies give it, without the last line end:
    # relaxed body canonicalisation adds the CRLF, so it still passes
    dns = FakeDNS({"brisbane._domainkey.football.example.com": RFC8463_ED_KEY,
                   "test._domainkey.football.example.com": RFC8463_RSA_KEY})
    msg = crlf(RFC8463_SIGNED).rstrip(b"\r\n")
    assert verify(msg, resolver=dns).verdict == "pass"


def test_rfc6376_key_in_pkcs1_form():
    # the same key as a bare PKCS#1 RSAPublicKey (accepted by most verifiers)
    raw = ("v=DKIM1; p=MIGJAoGBAPAhE/9QLdIGwSYapn1klbf8OQygZ4udCDV9afv/Ni0jE3ZKcUKP"
           "E4Iob2/dviNh9xM2HmKNKyrrfW4Ei0truh36/9G10LZTMnWVZP3jupH5FxpzaBu2j80yonR/"
           "N9WMfg64qGK11j21/qZzAaNo0FxZOggyY9I8N1A81RhyRxDZAgMBAAE=")
    dns = FakeDNS({"brisbane._domainkey.example.com": raw})
    assert verify(crlf(RFC6376_SIGNED), resolver=dns).verdict == "pass"


# RFC 6376 section 3.4.6, example 1 (relaxed/relaxed) and 2 (simple/simple)
EX_HEADER = b"A: X\r\nB : Y\t\r\n\tZ  \r\n"
EX_BODY = b" C \r\nD \t E\r\n\r\n\r\n"


def test_rfc6376_3_4_6_relaxed():
    fields, _ = parse_message(EX_HEADER + b"\r\n")
    assert b"".join(canon_header(raw, RELAXED) for _, raw in fields) == \
        b"a:X\r\nb:Y Z\r\n"
    assert canon_body(EX_BODY, RELAXED) == b" C\r\nD E\r\n"


def test_rfc6376_3_4_6_simple():
    fields, _ = parse_message(EX_HEADER + b"\r\n")
    assert b"".join(canon_header(raw, SIMPLE) for _, raw in fields) == EX_HEADER
    assert canon_body(EX_BODY, SIMPLE) == b" C \r\nD \t E\r\n"
