"""TXTResolver against a DNS server on loopback: answers, TTL cache,
NXDOMAIN/NODATA (permanent), SERVFAIL/timeout (temporary), no search list."""
import time

import pytest

from mfl.dkim import (DNSPermError, DNSTempError, TXTResolver, default_resolver,
                      public_key_record, sign, verify)

from dkim_support import MESSAGE, LoopbackDNS

LONG = "v=DKIM1; p=" + "A" * 600


def resolver_for(server, timeout=1.0):
    return TXTResolver(nameservers=["127.0.0.1"], port=server.port, timeout=timeout)


def test_answers_and_cache():
    zone = {"a._domainkey.example.com": ["v=DKIM1; p=abc"],
            "long._domainkey.example.com": [LONG],
            "two._domainkey.example.com": ["one", "two"]}
    with LoopbackDNS(zone, ttl=300) as srv:
        r = resolver_for(srv)
        assert r("a._domainkey.example.com") == ["v=DKIM1; p=abc"]
        assert r("A._domainkey.Example.com.") == ["v=DKIM1; p=abc"]     # cached
        assert srv.queries == ["a._domainkey.example.com"]
        assert r("long._domainkey.example.com") == [LONG]               # >255 joined
        assert sorted(r("two._domainkey.example.com")) == ["one", "two"]


def test_ttl_is_honoured():
    with LoopbackDNS({"t._domainkey.example.com": ["x"]}, ttl=1) as srv:
        r = resolver_for(srv)
        r("t._domainkey.example.com")
        r("t._domainkey.example.com")
        assert len(srv.queries) == 1
        time.sleep(1.2)
        r("t._domainkey.example.com")
        assert len(srv.queries) == 2


def test_ttl_zero_is_not_cached():
    with LoopbackDNS({"t._domainkey.example.com": ["x"]}, ttl=0) as srv:
        r = resolver_for(srv)
        r("t._domainkey.example.com")
        r("t._domainkey.example.com")
        assert len(srv.queries) == 2


@pytest.mark.parametrize("answer", ["NXDOMAIN", "NODATA"])
def test_permanent_failures_are_cached(answer):
    with LoopbackDNS({"n._domainkey.example.com": answer}) as srv:
        r = resolver_for(srv)
        for _ in range(2):
            with pytest.raises(DNSPermError):
                r("n._domainkey.example.com")
        assert len(srv.queries) == 1


def test_servfail_is_temporary_and_not_cached():
    with LoopbackDNS({"f._domainkey.example.com": "SERVFAIL"}) as srv:
        r = resolver_for(srv)
        for _ in range(2):
            with pytest.raises(DNSTempError):
                r("f._domainkey.example.com")
        assert len(srv.queries) == 2


def test_timeout_is_temporary():
    with LoopbackDNS({"d._domainkey.example.com": "DROP"}) as srv:
        r = resolver_for(srv, timeout=0.5)
        t0 = time.monotonic()
        with pytest.raises(DNSTempError):
            r("d._domainkey.example.com")
        assert time.monotonic() - t0 < 3


def test_no_search_domains():
    with LoopbackDNS({}) as srv:
        r = resolver_for(srv)
        r._get_resolver().search = [__import__("dns.name").name.from_text("corp.example.")]
        with pytest.raises(DNSPermError):
            r("sel._domainkey.short")
        assert srv.queries == ["sel._domainkey.short"]


def test_bad_names_are_permanent():
    r = TXTResolver(nameservers=["127.0.0.1"], port=9)
    with pytest.raises(DNSPermError):
        r("a" * 64 + "._domainkey.example.com")


def test_verify_through_the_real_resolver(rsa_key):
    h = sign(MESSAGE, "example.com", "ok", rsa_key)
    zone = {"ok._domainkey.example.com": [public_key_record(rsa_key)],
            "fail._domainkey.example.com": "SERVFAIL",
            "gone._domainkey.example.com": "NXDOMAIN",
            "slow._domainkey.example.com": "DROP"}
    with LoopbackDNS(zone) as srv:
        r = resolver_for(srv, timeout=0.5)
        assert verify(h + MESSAGE, resolver=r).verdict == "pass"
        for sel, status, expl in (("fail", "temperror", "DNS_UNAVAIL"),
                                  ("gone", "permerror", "DNS_NOTFOUND"),
                                  ("slow", "temperror", "DNS_UNAVAIL")):
            msg = h.replace(b"s=ok;", b"s=" + sel.encode() + b";") + MESSAGE
            res = r and verify(msg, resolver=r)
            assert (res[0].status, res[0].expl) == (status, expl)


def test_default_resolver_is_shared():
    assert default_resolver() is default_resolver()
