#!/usr/bin/env python3
"""DKIM sign and verify throughput: mfl.dkim against dkimpy, same run.

A corpus of 400 generated messages of 2-200 KB (fixed seed) is signed and
verified in-process on one core (the process is pinned to one CPU when the
OS allows), keys from an in-memory table (no DNS).  Prints messages per
second for both and the ratio.

    python3 bench/dkim_bench.py [--messages 400] [--canon relaxed/relaxed]
                                [--algorithm rsa-sha256|ed25519-sha256] [--bits 2048]
                                [--repeat 3] [--no-dkimpy]
"""
from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cryptography.hazmat.primitives import serialization  # noqa: E402

from mfl.dkim import (generate_key, private_key_pem, public_key_record,  # noqa: E402
                      sign, verify)

WORDS = ("the of and to in is that for it as with was on be by at this from "
         "dinner ready game hungry message domain signature key body header "
         "canonical relaxed simple whitespace folded line text mail filter").split()
HEADERS = ["from", "to", "subject", "date", "message-id"]


def make_corpus(n: int, seed: int = 1) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        size = rnd.randint(2 * 1024, 200 * 1024)
        head = (
            f"Received: from host{k}.example.net (host{k}.example.net [192.0.2.{k % 250}])\r\n"
            f"\tby mx.example.org with ESMTP id {k:08x}; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
            f"From: Sender {k} <sender{k}@example.com>\r\n"
            f"To: Recipient <rcpt@example.org>\r\n"
            f"Subject: Message number {k}  with   some  spacing\r\n"
            f"Date: Mon, 1 Jan 2024 00:00:{k % 60:02d} +0000\r\n"
            f"Message-ID: <{k}.{rnd.randrange(10**9)}@example.com>\r\n"
            f"MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
        lines = []
        total = 0
        while total < size:
            words = rnd.choices(WORDS, k=rnd.randint(0, 14))
            line = " ".join(words)
            r = rnd.random()
            if r < 0.1:
                line += "   "
            elif r < 0.15:
                line = "\t" + line.replace(" ", "  ", 1)
            b = line.encode() + b"\r\n"
            lines.append(b)
            total += len(b)
        out.append(head + b"".join(lines))
    return out


REPEAT = 1


def rate(fn, items) -> float:
    """Messages per second, the best of REPEAT runs (the machine may be shared)."""
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        for it in items:
            fn(it)
        best = min(best, time.perf_counter() - t0)
    return len(items) / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--canon", default="relaxed/relaxed")
    ap.add_argument("--algorithm", default="rsa-sha256")
    ap.add_argument("--bits", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    ap.add_argument("--no-dkimpy", action="store_true")
    args = ap.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass

    ed = args.algorithm.startswith("ed25519")
    key = generate_key("ed25519") if ed else generate_key("rsa", args.bits)
    if ed:
        seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
        theirs_key = base64.b64encode(seed)
    else:
        theirs_key = private_key_pem(key, pkcs8=False)
    record = public_key_record(key)
    table = {"bench._domainkey.example.com": [record]}
    canon = tuple(args.canon.split("/"))

    corpus = make_corpus(args.messages)
    mb = sum(map(len, corpus)) / 1e6
    print(f"corpus: {len(corpus)} messages, {mb:.1f} MB "
          f"({min(map(len, corpus)) // 1024}-{max(map(len, corpus)) // 1024} KB); "
          f"{args.algorithm} {'' if ed else f'{args.bits}-bit '}{args.canon}")
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{_cpu_model()}, Python {platform.python_version()}, one core")

    resolver = table.__getitem__
    signed = [sign(m, "example.com", "bench", key, canon=canon, algorithm=args.algorithm,
                   headers=HEADERS) + m for m in corpus]
    for m in signed[:3]:
        assert verify(m, resolver=resolver).verdict == "pass"

    ours_sign = rate(lambda m: sign(m, "example.com", "bench", key, canon=canon,
                                    algorithm=args.algorithm, headers=HEADERS), corpus)
    ours_verify = rate(lambda m: verify(m, resolver=resolver), signed)
    rows = [("mfl.dkim", ours_sign, ours_verify)]

    if not args.no_dkimpy:
        try:
            import dkim
        except ImportError:
            print("dkimpy not installed: mfl.dkim only")
        else:
            bcanon = tuple(c.encode() for c in canon)
            hdrs = [h.encode() for h in HEADERS]

            def dnsfunc(name, timeout=5):
                name = name.decode() if isinstance(name, bytes) else name
                return table[name.rstrip(".")][0].encode()
            assert dkim.verify(signed[0], dnsfunc=dnsfunc)
            theirs_sign = rate(lambda m: dkim.sign(m, b"bench", b"example.com", theirs_key,
                                                   canonicalize=bcanon, include_headers=hdrs,
                                                   signature_algorithm=args.algorithm.encode()),
                               corpus)
            theirs_verify = rate(lambda m: dkim.verify(m, dnsfunc=dnsfunc), signed)
            rows.append(("dkimpy", theirs_sign, theirs_verify))

    print(f"{'':10} {'sign msg/s':>12} {'verify msg/s':>13}")
    for name, s, v in rows:
        print(f"{name:10} {s:12.0f} {v:13.0f}")
    if len(rows) == 2:
        print(f"{'ratio':10} {rows[0][1] / rows[1][1]:11.1f}x {rows[0][2] / rows[1][2]:12.1f}x")
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
