"""Messages for the interoperability tests: each stresses part of the
canonicalisation (whitespace, folding, repeated fields, empty bodies...)."""

HEADERS = ["from", "to", "subject", "date", "message-id", "x-list", "x-list", "x-list"]

CORPUS = {
    "plain": (
        b"Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        b"From: Joe <joe@example.com>\r\n"
        b"To: Suzie <suzie@example.net>\r\n"
        b"Subject: Is dinner ready?\r\n"
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        b"Message-ID: <1@example.com>\r\n"
        b"\r\n"
        b"Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n"),
    "whitespace": (
        b"From:   Joe   <joe@example.com>  \r\n"
        b"To:\tSuzie <suzie@example.net>,\r\n"
        b"\t  Bob <bob@example.net>\t\r\n"
        b"Subject:  a  \t subject   \r\n"
        b"  folded twice  \r\n"
        b"\r\n"
        b"  leading space\r\n"
        b"trailing space   \r\n"
        b"tabs\t\tin\t the   middle\t\r\n"
        b" \t \r\n"
        b"\r\n\r\n"),
    "empty-body": (
        b"From: joe@example.com\r\n"
        b"Subject: nothing\r\n"
        b"\r\n"),
    "blank-body": (
        b"From: joe@example.com\r\n"
        b"Subject: blank lines only\r\n"
        b"\r\n"
        b"\r\n\r\n\r\n"),
    "repeated": (
        b"Received: from one\r\n"
        b"Received: from two\r\n"
        b"X-List: first\r\n"
        b"From: joe@example.com\r\n"
        b"X-List: second\r\n"
        b"Received: from three\r\n"
        b"Subject: repeated fields\r\n"
        b"\r\n"
        b"body\r\n"),
    "eight-bit": (
        b"From: =?utf-8?q?J=C3=B6?= <jo@example.com>\r\n"
        b"Subject: caf\xc3\xa9\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e\r\n"
        + b"x" * 998 + b"\r\n"),
    "lf-only": (
        b"From: joe@example.com\n"
        b"To: suzie@example.net\n"
        b"Subject: a file with LF line ends\n"
        b"\n"
        b"line one  \n\n"
        b"line two\n\n\n"),
    "big": (
        b"From: joe@example.com\r\n"
        b"Subject: big\r\n"
        b"\r\n"
        + b"".join(b"line %d with  some   text \t\r\n" % i for i in range(5000))),
}

# RFC 5322 requires Date (and OpenDKIM's test tool insists on it)
CORPUS = {name: (msg if b"Date:" in msg else
                 (b"Date: Mon, 1 Jan 2024 00:00:00 +0000" + (b"\n" if name == "lf-only" else b"\r\n")
                  + msg))
          for name, msg in CORPUS.items()}
