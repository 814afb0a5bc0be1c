"""``mfl milter-check SOCKET``: play one message to a running milter, as an MTA.

For a mail administrator who just started ``mfld`` (or any milter): is it
answering, and what does it do with a message?  Prints the verdict and the
modifications.  A plain protocol-6 client: negotiate, connect, helo, mail,
rcpt, data, headers, body, end of message, quit.
"""
from __future__ import annotations

import socket
import struct

_REPLIES = {b"c": "continue", b"a": "accept", b"r": "reject", b"t": "tempfail",
            b"d": "discard", b"y": "reply", b"s": "skip"}
_MODS = {b"h": "add header", b"i": "insert header", b"m": "change header",
         b"b": "replace body", b"+": "add recipient", b"-": "delete recipient",
         b"2": "add recipient", b"e": "change sender", b"q": "quarantine"}
_NOHELO, _NORCPT, _NOBODY, _NOHDRS, _NOEOH, _NR_HDR, _NODATA = 2, 8, 0x10, 0x20, 0x40, 0x80, 0x200
_LEADSPC = 0x100000


def _z(*parts: str) -> bytes:
    return b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in parts)


def _connect(spec: str, timeout: float) -> socket.socket:
    if spec.startswith(("unix:", "local:")):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr = spec.split(":", 1)[1]
    elif spec.startswith(("inet:", "inet6:")):
        port, _, host = spec.split(":", 1)[1].partition("@")
        fam = socket.AF_INET6 if spec.startswith("inet6:") else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        addr = (host or "127.0.0.1", int(port))
    else:
        raise ValueError(f"unknown socket {spec!r} (unix:/path or inet:PORT@HOST)")
    s.settimeout(timeout)
    s.connect(addr)
    return s


class _Session:
    def __init__(self, sock):
        self.sock, self.proto = sock, 0

    def send(self, cmd: bytes, data: bytes = b"") -> None:
        self.sock.sendall(struct.pack("!I", len(data) + 1) + cmd + data)

    def read(self) -> tuple[bytes, bytes]:
        head = self._exact(4)
        n = struct.unpack("!I", head)[0]
        body = self._exact(n)
        return body[:1], body[1:]

    def _exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            got = self.sock.recv(n - len(buf))
            if not got:
                raise ConnectionError("the milter closed the connection")
            buf += got
        return buf

    def step(self, cmd, data, skip_bit=0, noreply_bit=0, macros=None, mods=None):
        if skip_bit and self.proto & skip_bit:
            return None
        if macros:
            self.send(b"D", cmd + b"".join(_z(k, v) for k, v in macros.items()))
        self.send(cmd, data)
        if noreply_bit and self.proto & noreply_bit:
            return None
        while True:
            c, d = self.read()
            if c == b"p":
                continue
            if c in _MODS and mods is not None:
                mods.append((_MODS[c], _describe(c, d)))
                continue
            return _REPLIES.get(c, c.decode("ascii", "replace")), d.rstrip(b"\0").decode(
                "utf-8", "replace")


def check(spec: str, *, client_addr="127.0.0.1", sender="postmaster@example.org",
          rcpt="postmaster@example.org", message: bytes | None = None,
          timeout: float = 30.0) -> tuple[str, list]:
    """Send one message; returns (verdict text, modifications)."""
    if message is None:
        message = (b"From: Postmaster <postmaster@example.org>\r\nTo: postmaster@example.org\r\n"
                   b"Subject: mfl milter-check\r\nMessage-ID: <milter-check@example.org>\r\n"
                   b"Date: Mon, 23 Nov 2026 07:00:00 +0000\r\n\r\nA test message.\r\n")
    message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, _, body = message.partition(b"\r\n\r\n")
    with _connect(spec, timeout) as sock:
        s = _Session(sock)
        s.send(b"O", struct.pack("!III", 6, 0x1FF, 0x1FFFFF))
        c, d = s.read()
        if c != b"O":
            raise ConnectionError("the milter did not negotiate")
        s.proto = struct.unpack("!III", d[:12])[2]
        stages = [
            (b"C", _z("localhost" if client_addr.startswith("127.") else "client.example.net")
             + b"4" + struct.pack("!H", 25) + _z(client_addr), 1, 0x1000,
             {"j": "mx.example.org", "{client_addr}": client_addr}),
            (b"H", _z("client.example.net"), _NOHELO, 0x2000, None),
            (b"M", _z(f"<{sender}>"), 4, 0x4000, {"i": "CHECK0001", "{mail_addr}": sender}),
            (b"R", _z(f"<{rcpt}>"), _NORCPT, 0x8000, {"{rcpt_addr}": rcpt}),
            (b"T", b"", _NODATA, 0x10000, None),
        ]
        for cmd, data, skip, nr, macros in stages:
            got = s.step(cmd, data, skip, nr, macros)
            if got and got[0] != "continue":
                return _verdict(got), []
        for line in _unfold(head):
            name, _, value = line.partition(b":")
            if not s.proto & _LEADSPC:
                value = value.lstrip(b" \t")
            got = s.step(b"L", name + b"\0" + value + b"\0", _NOHDRS, _NR_HDR)
            if got and got[0] != "continue":
                return _verdict(got), []
        got = s.step(b"N", b"", _NOEOH, 0x40000)
        if got and got[0] != "continue":
            return _verdict(got), []
        for i in range(0, len(body), 65535):
            got = s.step(b"B", body[i:i + 65535], _NOBODY, 0x80000)
            if got and got[0] not in ("continue", "skip"):
                return _verdict(got), []
        mods: list = []
        got = s.step(b"E", b"", macros={"i": "CHECK0001"}, mods=mods)
        try:
            s.send(b"Q")
        except OSError:
            pass
        return _verdict(got), mods


def _describe(cmd: bytes, d: bytes) -> str:
    prefix = ""
    if cmd in (b"i", b"m") and len(d) >= 4:
        prefix, d = f"#{struct.unpack('!I', d[:4])[0]} ", d[4:]
    parts = d.rstrip(b"\0").split(b"\0")
    if cmd in (b"h", b"i", b"m") and len(parts) >= 2:
        text = parts[0] + b":" + (b"" if parts[1][:1] in (b" ", b"\t") else b" ") + parts[1]
    else:
        text = b" ".join(parts)
    return prefix + text.decode("utf-8", "replace")


def _unfold(head: bytes) -> list:
    out: list = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += b"\r\n" + line
        elif line:
            out.append(line)
    return out


def _verdict(got) -> str:
    kind, text = got
    return f"{kind} {text}".strip() if kind == "reply" else kind
