#!/usr/bin/env python3
"""Write the test messages of tests/data/messages/ (run from anywhere).

The messages are written from this script so that their exact bytes (CR, NUL,
8-bit characters, missing final newlines) are visible in review.  Re-running
it must not change any file (``git diff`` stays empty).
"""
from __future__ import annotations

import base64
from pathlib import Path

HERE = Path(__file__).resolve().parent


def lf(text: str) -> bytes:
    return text.encode("utf-8")


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


SIMPLE = """\
Return-Path: <alice@example.org>
Received: from mx.example.org (mx.example.org [192.0.2.1])
\tby relay.example.net with ESMTP id 4A1B2C3D
\tfor <bob@example.net>; Mon, 1 Jan 2024 10:00:00 +0000
Received: from localhost by mx.example.org; Mon, 1 Jan 2024 09:59:59 +0000
From: Alice Example <alice@example.org>
To: Bob <bob@example.net>, carol@example.net
Subject: A folded
  subject line
Date: Mon, 1 Jan 2024 09:59:58 +0000
Message-ID: <simple.1@example.org>
X-Empty:
X-NoSpace:value
X-Spaces:    lead and trail   
x-dup: first
X-Dup: second
X-DUP: third

Hello Bob,

This is a plain message.
-- 
Alice
"""

# A non-ASCII mix: RFC 2047 words, raw UTF-8 and raw Latin-1 header values.
INTL = (b"From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@example.dk>\n"
        b"To: =?UTF-8?B?w4lsw6lvbm9yZQ==?= <eleonore@example.fr>\n"
        b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?= and\n"
        b" =?UTF-8?B?0J/RgNC40LLQtdGC?= world\n"
        b"X-Raw-UTF8: Gr\xc3\xbc\xc3\x9fe\n"
        b"X-Raw-Latin1: caf\xe9 cr\xe8me\n"
        b"X-Bad-Word: =?UTF-8?Q?unterminated\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: quoted-printable\n"
        b"\n"
        b"Gr=C3=BC=C3=9Fe!\n"
        b"Caf=C3=A9 =\n"
        b"soft break.\n")

_PNG = base64.encodebytes(bytes(range(0, 256, 3))).decode("ascii")

MULTIPART = f"""\
From: sender@example.org
To: rcpt@example.net
Subject: multipart test
MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary="==outer=="

This is the preamble.

--==outer==
Content-Type: text/plain; charset=us-ascii

First part, plain text.

--==outer==
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Second part</p>=0A<p>html</p>
--==outer==
Content-Type: application/octet-stream; name="data.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="data.bin"

{_PNG}
--==outer==--
This is the epilogue.
"""

INNER = """\
From: inner@example.com
To: outer@example.net
Subject: the attached message
Content-Type: text/plain

Attached body.
"""

NESTED = f"""\
From: sender@example.org
To: rcpt@example.net
Subject: nested MIME
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=AAA

--AAA
Content-Type: multipart/alternative; boundary="BBB"

--BBB
Content-Type: text/plain

plain alternative
--BBB
Content-Type: text/html

<b>html alternative</b>
--BBB--

--AAA
Content-Type: message/rfc822

{INNER}
--AAA
Content-Type: TEXT/X-Custom; Charset="latin1"

custom type
--AAA--
"""

# The last part is cut off: no closing boundary, the part ends mid-line.
TRUNCATED = """\
From: sender@example.org
Subject: truncated
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="cut"

--cut
Content-Type: text/plain

complete part
--cut

no headers in this part
--cut
Content-Type: text/plain
Content-Transfer-Encoding: base64

SGVsbG8gd29y"""

# RFC 934 digest: encapsulation boundaries, one byte-stuffed line.
DIGEST = """\
From: list@example.org
To: reader@example.net
Subject: Digest of the day

Preface of the digest.

------- Forwarded messages

From: one@example.org
Subject: first

first message
- --- a stuffed line

------------------------------

From: two@example.org
Subject: second

second message

------- End of Forwarded messages
"""

# The same digest without a preface: what mailfromd's message_burst accepts.
DIGEST_CLEAN = """\
From: list@example.org
To: reader@example.net
Subject: Clean digest

------- Forwarded messages

From: one@example.org
Subject: first

first message
- --- a stuffed line

------------------------------
From: two@example.org
Subject: second
Content-Type: text/html

<p>second message</p>

------- End of Forwarded messages
"""

NUL = (b"From: nul@example.org\n"
       b"Subject: nul\x00byte\n"
       b"X-After: visible\n"
       b"\n"
       b"before\x00after\n"
       b"second line\n")

# Bare CR inside a header value and the body; missing final newline.
BARECR = b"From: cr@example.org\nSubject: bare\rcarriage\n\nline\rone\nno final newline"

# Eight-bit bytes in a header name and value.
EIGHTBIT = b"From: x@example.org\nX-\xe9t\xe9: \xff\xfe\n\nbody\n"

MALFORMED = """\
From: bad@example.org
This line is not a header
Subject: after the bad line

body
"""

HEADERS_ONLY = "From: h@example.org\nSubject: no body"

# A body of 300 000 bytes: several body chunks.
BIG = ("From: big@example.org\nSubject: big body\n\n"
       + "".join(f"line {i:06d} " + "x" * 88 + "\n" for i in range(3000)))

MBOX = """\
From alice@example.org Mon Jan  1 10:00:00 2024
From: alice@example.org
Subject: first in mbox

first body

From bob@example.net Tue Jan  2 11:00:00 2024
From: bob@example.net
Subject: second in mbox
X-Seq: 2

second body
>From the escaped line
last line

From carol@example.net Wed Jan  3 12:00:00 2024
From: carol@example.net
Subject: third in mbox
Content-Type: multipart/mixed; boundary=m

--m
Content-Type: text/plain

only part
--m--
"""

MAILDIR = {
    "cur/1704103200.M1P1.host:2,S": "From: md1@example.org\nSubject: maildir one\n\nmd body one\n",
    "new/1704189600.M2P2.host": "From: md2@example.org\nSubject: maildir two\n\nmd body two\n",
}

FILES = {
    "simple.eml": lf(SIMPLE),
    "simple-crlf.eml": crlf(SIMPLE),
    "intl.eml": INTL,
    "multipart.eml": lf(MULTIPART),
    "multipart-crlf.eml": crlf(MULTIPART),
    "nested.eml": lf(NESTED),
    "truncated.eml": lf(TRUNCATED),
    "digest.eml": lf(DIGEST),
    "digest-clean.eml": lf(DIGEST_CLEAN),
    "nul.eml": NUL,
    "barecr.eml": BARECR,
    "eightbit.eml": EIGHTBIT,
    "malformed.eml": lf(MALFORMED),
    "headers-only.eml": lf(HEADERS_ONLY),
    "sample.mbox": lf(MBOX),
    "big.eml": lf(BIG),
}


def main() -> None:
    for name, data in FILES.items():
        (HERE / name).write_bytes(data)
    md = HERE / "sample.maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True, exist_ok=True)
    (md / "tmp" / ".keep").write_bytes(b"")
    for name, text in MAILDIR.items():
        (md / name).write_bytes(lf(text))


if __name__ == "__main__":
    main()
