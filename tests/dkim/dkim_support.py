"""Shared helpers for the DKIM engine tests: keys, resolvers, a loopback
DNS server, and the interop log that docs/dkim.md's matrix comes from."""
from __future__ import annotations

import json
import os
import socket
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from mfl.dkim import DNSPermError, DNSTempError

MESSAGE = (
    b"Received: from client1.example.com [192.0.2.1]\r\n"
    b"\tby mx.example.org; Fri, 11 Jul 2003 21:01:54 -0700\r\n"
    b"From: Joe SixPack <joe@example.com>\r\n"
    b"To: Suzie Q <suzie@shopping.example.net>\r\n"
    b"Subject:   Is dinner   ready? \r\n"
    b"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    b"Message-ID: <20030712040037.46341.5F8J@example.com>\r\n"
    b"\r\n"
    b"Hi.\r\n"
    b"\r\n"
    b"We lost  the game.\t Are you hungry yet?   \r\n"
    b"\r\n"
    b"Joe.\r\n"
    b"\r\n"
    b"\r\n"
)


class FakeDNS:
    """An injectable resolver: a dict name -> list of TXT strings, or an
    exception instance to raise.  Counts the queries."""

    def __init__(self, records=None):
        self.records = dict(records or {})
        self.queries: list[str] = []

    def add(self, name, value):
        self.records[name] = value

    def __call__(self, name):
        self.queries.append(name)
        value = self.records.get(name)
        if value is None:
            raise DNSPermError(name)
        if isinstance(value, BaseException):
            raise value
        return list(value) if isinstance(value, (list, tuple)) else [value]


def dkimpy_dnsfunc(records):
    """A dnsfunc for dkimpy from name -> TXT string."""
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        v = records.get(name.rstrip("."))
        if v is None:
            return None
        return v.encode() if isinstance(v, str) else v
    return dnsfunc


class LoopbackDNS:
    """A small UDP DNS server on 127.0.0.1 answering from a dict.

    zone: name (no trailing dot) -> list of TXT strings, or "NXDOMAIN",
    "SERVFAIL", "NODATA", "DROP" (no reply: the client times out).
    Answers carry ``ttl``.  ``queries`` lists the names asked."""

    def __init__(self, zone=None, ttl=300, port=0):
        self.zone = dict(zone or {})
        self.ttl = ttl
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
            except Exception:
                continue
            qname = q.question[0].name.to_text().rstrip(".") if q.question else ""
            self.queries.append(qname)
            value = self.zone.get(qname.lower(), "NXDOMAIN")
            if value == "DROP":
                continue
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA | dns.flags.RA
            if value == "NXDOMAIN":
                r.set_rcode(dns.rcode.NXDOMAIN)
            elif value == "SERVFAIL":
                r.set_rcode(dns.rcode.SERVFAIL)
            elif value == "NODATA":
                pass
            elif q.question[0].rdtype == dns.rdatatype.TXT:
                rrs = dns.rrset.RRset(q.question[0].name, dns.rdataclass.IN,
                                      dns.rdatatype.TXT)
                for txt in value:
                    rrs.add(_txt_rdata(txt), self.ttl)
                r.answer.append(rrs)
            self.sock.sendto(r.to_wire(), addr)


def _txt_rdata(txt: str):
    import dns.rdata
    chunks = [txt[i:i + 255] for i in range(0, len(txt), 255)] or [""]
    text = " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text)


# -- interop log: MFL_DKIM_INTEROP_LOG=path makes the interop tests append
#    one JSON line per (signer, verifier, algorithm, canonicalisation).
def log_interop(signer, verifier, algorithm, canon, outcome):
    path = os.environ.get("MFL_DKIM_INTEROP_LOG")
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"signer": signer, "verifier": verifier,
                            "algorithm": algorithm, "canon": canon,
                            "outcome": outcome}) + "\n")
