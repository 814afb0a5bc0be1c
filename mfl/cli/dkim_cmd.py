"""``mfl dkim``: key generation, signing and verification from the command line.

    mfl dkim keygen --domain example.org --selector s2026 [--type rsa|ed25519] [--bits 2048] [--out DIR]
    mfl dkim sign FILE.eml --domain D --selector S --key KEY [--canon relaxed/relaxed] [--headers a:b]
    mfl dkim verify FILE.eml [--dns-txt NAME=RECORD...]

``sign`` prints the message with the DKIM-Signature field in front (or writes
it with --output); ``verify`` prints one line per signature in the style of
Authentication-Results and exits 0 if a signature passed, 1 if none did, 75
(EX_TEMPFAIL) on a temporary failure only.
"""
from __future__ import annotations

import os
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("dkim", help="DKIM keys, signing and verification")
    dsub = p.add_subparsers(dest="dkim_cmd", metavar="ACTION")
    k = dsub.add_parser("keygen", help="make a key pair and print the DNS record to publish")
    k.add_argument("--domain", required=True)
    k.add_argument("--selector", required=True)
    k.add_argument("--type", choices=("rsa", "ed25519"), default="rsa")
    k.add_argument("--bits", type=int, default=2048)
    k.add_argument("--out", default=".", metavar="DIR", help="where to write the private key")
    s = dsub.add_parser("sign", help="sign a message file")
    s.add_argument("file", metavar="FILE.eml")
    s.add_argument("--domain", required=True)
    s.add_argument("--selector", required=True)
    s.add_argument("--key", required=True, metavar="KEYFILE")
    s.add_argument("--canon", default="relaxed/relaxed", metavar="HEADER/BODY")
    s.add_argument("--headers", metavar="NAME:NAME…", help="the h= list (default: mfl's)")
    s.add_argument("--output", "-o", metavar="OUT.eml")
    v = dsub.add_parser("verify", help="verify every signature of a message file")
    v.add_argument("file", metavar="FILE.eml")
    v.add_argument("--dns-txt", action="append", default=[], metavar="NAME=RECORD",
                   help="answer this TXT lookup locally instead of asking DNS (repeatable)")


def run(ns) -> int:
    from .. import dkim
    if ns.dkim_cmd == "keygen":
        return _keygen(ns, dkim)
    if ns.dkim_cmd == "sign":
        return _sign(ns, dkim)
    if ns.dkim_cmd == "verify":
        return _verify(ns, dkim)
    print("mfl dkim: say keygen, sign or verify (see mfl dkim --help)", file=sys.stderr)
    return 64


def _keygen(ns, dkim) -> int:
    try:
        key = dkim.generate_key(ns.type, ns.bits)
    except dkim.KeyLoadError as e:
        print(f"mfl dkim keygen: {e}", file=sys.stderr)
        return 64
    os.makedirs(ns.out, exist_ok=True)
    path = os.path.join(ns.out, f"{ns.domain}.{ns.selector}.key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(dkim.private_key_pem(key))
    record = dkim.public_key_record(key)
    print(f"private key: {path} (mode 0600)")
    print("publish this TXT record:")
    print(f'{ns.selector}._domainkey.{ns.domain}. IN TXT ( {_chunks(record)} )')
    return 0


def _chunks(record: str, width: int = 250) -> str:
    """A long TXT record as several quoted strings (255-byte limit per string)."""
    return " ".join(f'"{record[i:i + width]}"' for i in range(0, len(record), width))


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        print(f"mfl dkim: {path}: {e.strerror}", file=sys.stderr)
        return None


def _sign(ns, dkim) -> int:
    msg = _read(ns.file)
    if msg is None:
        return 66
    try:
        key = dkim.load_private_key_file(ns.key)
    except dkim.KeyLoadError as e:
        print(f"mfl dkim sign: {e}", file=sys.stderr)
        return 78
    hc, _, bc = ns.canon.partition("/")
    headers = ns.headers.split(":") if ns.headers else None
    try:
        field = dkim.sign(msg, ns.domain, ns.selector, key, headers=headers,
                          canon=(hc or "relaxed", bc or "simple"),
                          linesep=b"\r\n" if b"\r\n" in msg[:4096] else b"\n")
    except dkim.DKIMError as e:
        print(f"mfl dkim sign: {e}", file=sys.stderr)
        return 65
    out = field + msg
    if ns.output:
        with open(ns.output, "wb") as f:
            f.write(out)
    else:
        sys.stdout.buffer.write(out)
    return 0


def _verify(ns, dkim) -> int:
    msg = _read(ns.file)
    if msg is None:
        return 66
    resolver = None
    if ns.dns_txt:
        table = {}
        for item in ns.dns_txt:
            name, _, rec = item.partition("=")
            table.setdefault(name.rstrip(".").lower(), []).append(rec)

        def resolver(name):
            got = table.get(name.rstrip(".").lower())
            if got is None:
                raise dkim.DNSPermError(f"{name}: no TXT record")
            return got
    res = dkim.verify(msg, resolver=resolver)
    if not len(res):
        print("dkim=none (no signatures)")
        return 1
    for r in res:
        extra = f" ({r.text})" if r.text else ""
        print(f"dkim={r.status}{extra} header.d={r.d} header.i={r.i} header.s={r.s} "
              f"header.a={r.a} header.b={(r.b or '')[:8]}")
    if res.verdict == "pass":
        return 0
    return 75 if res.verdict == "tempfail" else 1
