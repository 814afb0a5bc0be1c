"""TXT lookups for DKIM keys, with a TTL-honouring cache.

A *resolver* here is any callable ``name -> list of TXT strings`` (each TXT
record's character-strings joined).  It raises ``DNSTempError`` for a
failure worth retrying (SERVFAIL, timeout, no server) and ``DNSPermError``
for a name with no TXT data (NXDOMAIN, no TXT records).  ``TXTResolver`` is
the real one, over dnspython; tests inject their own callable.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

import dns.exception
import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from .status import DKIMError


class DNSTempError(Exception):
    """Temporary DNS failure: SERVFAIL, timeout, no answer from any server."""


class DNSPermError(LookupError):
    """The name has no TXT record (NXDOMAIN or an empty answer)."""


class TXTResolver:
    """TXT lookups through dnspython: absolute names (no search list), a
    timeout, and a cache shared by every call, honouring the answer's TTL
    (negative answers cached for ``negative_ttl``; failures never)."""

    def __init__(self, timeout: float = 5.0, nameservers: list[str] | None = None,
                 port: int = 53, max_entries: int = 10000,
                 negative_ttl: int = 300, max_ttl: int = 86400):
        self.timeout = timeout
        self.max_entries = max_entries
        self.negative_ttl = negative_ttl
        self.max_ttl = max_ttl
        self._nameservers = nameservers
        self._port = port
        self._resolver: dns.resolver.Resolver | None = None
        self._cache: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def _get_resolver(self) -> dns.resolver.Resolver:
        if self._resolver is None:
            if self._nameservers is not None:
                r = dns.resolver.Resolver(configure=False)
                r.nameservers = list(self._nameservers)
            else:
                try:
                    r = dns.resolver.Resolver(configure=True)
                except dns.resolver.NoResolverConfiguration:
                    raise DNSTempError("no DNS resolver configured") from None
            r.port = self._port
            r.search = []
            r.use_search_by_default = False
            r.timeout = self.timeout
            r.lifetime = self.timeout
            r.cache = None
            self._resolver = r
        return self._resolver

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __call__(self, name: str) -> list[str]:
        key = name.lower().rstrip(".")
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                if hit[0] > now:
                    self._cache.move_to_end(key)
                    value = hit[1]
                    if isinstance(value, DNSPermError):
                        raise DNSPermError(str(value))
                    return list(value)  # type: ignore[arg-type]
                del self._cache[key]
        try:
            value, ttl = self._query(key)
        except DNSPermError as e:
            self._store(key, e, self.negative_ttl)
            raise
        self._store(key, value, ttl)
        return list(value)

    def _store(self, key: str, value: object, ttl: float) -> None:
        ttl = max(0, min(ttl, self.max_ttl))
        if ttl <= 0:
            return
        with self._lock:
            self._cache[key] = (time.monotonic() + ttl, value)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)

    def _query(self, key: str) -> tuple[list[str], int]:
        try:
            qname = dns.name.from_text(key + ".")
        except Exception:
            raise DNSPermError(f"{key}: not a valid domain name") from None
        r = self._get_resolver()
        try:
            ans = r.resolve(qname, dns.rdatatype.TXT, search=False,
                            raise_on_no_answer=True, lifetime=self.timeout)
        except dns.resolver.NXDOMAIN:
            raise DNSPermError(f"{key}: no such domain") from None
        except dns.resolver.NoAnswer:
            raise DNSPermError(f"{key}: no TXT record") from None
        except dns.resolver.YXDOMAIN:
            raise DNSPermError(f"{key}: name too long") from None
        except (dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout,
                dns.exception.Timeout) as e:
            raise DNSTempError(f"{key}: {e.__class__.__name__}") from None
        except dns.exception.DNSException as e:
            raise DNSTempError(f"{key}: {e.__class__.__name__}") from None
        except OSError as e:
            raise DNSTempError(f"{key}: {e}") from None
        txts = [b"".join(rd.strings).decode("latin-1") for rd in ans]
        return txts, ans.rrset.ttl if ans.rrset is not None else 0


_default: TXTResolver | None = None
_default_lock = threading.Lock()


def set_default_resolver(resolver: "TXTResolver | None") -> None:
    """Replace the process-wide resolver (e.g. one built from --resolv-conf-file)."""
    global _default
    with _default_lock:
        _default = resolver


def resolver_from_resolv_conf(path: str, timeout: float = 5.0) -> "TXTResolver":
    """A TXTResolver asking the nameservers listed in a resolv.conf-style file."""
    servers = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            words = line.split()
            if len(words) >= 2 and words[0] == "nameserver":
                servers.append(words[1])
    if not servers:
        raise OSError(f"{path}: no nameserver line")
    return TXTResolver(timeout=timeout, nameservers=servers)


def default_resolver() -> TXTResolver:
    """The process-wide resolver (one cache shared by every verification)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = TXTResolver()
        return _default


def key_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain.rstrip('.')}"


def fetch_txt(resolver, selector: str, domain: str) -> list[str]:
    """Look up the key record's TXT strings; DKIMError on any failure.

    Whatever the resolver raises or returns, the outcome is a list of
    strings or a DKIMError: temporary for DNSTempError, timeouts and any
    unexpected exception; permanent (not found) for DNSPermError,
    LookupError, None or an empty list.
    """
    name = key_name(selector, domain)
    try:
        answer = resolver(name)
    except DNSTempError as e:
        raise DKIMError("dns-temporary", f"key lookup for {name} failed: {e}") from None
    except (DNSPermError, LookupError) as e:
        raise DKIMError("dns-not-found", f"no key at {name}: {e}") from None
    except Exception as e:   # an injected resolver's failure: retry later
        raise DKIMError("dns-temporary",
                        f"key lookup for {name} failed: {e.__class__.__name__}") from None
    if answer is None:
        raise DKIMError("dns-not-found", f"no key at {name}")
    if isinstance(answer, (str, bytes, bytearray)):
        answer = [answer]
    out = []
    for rec in answer:
        if isinstance(rec, (bytes, bytearray)):
            rec = bytes(rec).decode("latin-1")
        elif isinstance(rec, (list, tuple)):   # character-strings unjoined
            rec = "".join(x.decode("latin-1") if isinstance(x, (bytes, bytearray))
                          else str(x) for x in rec)
        out.append(str(rec))
    if not out:
        raise DKIMError("dns-not-found", f"no key at {name}")
    return out
