"""A small synchronous milter (protocol v6) client for tests: the MTA's side.

One ``MilterClient`` is one milter connection, as an MTA opens one per SMTP
session.  It speaks the commands an MTA sends -- negotiate ``O``, macros
``D``, connect ``C``, helo ``H``, mail ``M``, rcpt ``R``, data ``T``, header
``L``, end of headers ``N``, body ``B``, end of message ``E``, abort ``A``,
quit ``Q`` -- and decodes what the milter answers: the final replies
(continue ``c``, accept ``a``, reject ``r``, tempfail ``t``, discard ``d``,
reply code ``y``, skip ``s``; progress ``p`` is waited through) and, at end
of message, the modification actions (``h i m b + - 2 e q``).

It honours the negotiated protocol: a stage the milter asked not to get
(SMFIP_NO*) is not sent, a stage it will not answer (SMFIP_NR_*) is not
waited for (the method then returns ``None``), and header values keep their
leading blank only under SMFIP_HDR_LEADSPC.  Every read is bounded by the
client's timeout (``socket.timeout`` past it).

    with MilterClient("unix:/tmp/x/sock") as c:
        c.negotiate()
        r = c.transaction("<a@example.org>", ["<b@example.net>"],
                          [("From", "a@example.org"), ("Subject", "hi")], b"body\\r\\n")
        assert r.kind == "accept"
        r.mods          # [Mod(op="addheader", name=..., value=...), ...]

Threads: a client is used by one thread at a time; open one per thread.
"""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

SMFI_VERSION = 6
# the actions the MTA allows (ADDHDRS CHGBODY ADDRCPT DELRCPT CHGHDRS QUARANTINE
# CHGFROM ADDRCPT_PAR SETSYMLIST)
SMFIF_ALL = 0x1FF

P_NOCONNECT, P_NOHELO, P_NOMAIL, P_NORCPT = 0x1, 0x2, 0x4, 0x8
P_NOBODY, P_NOHDRS, P_NOEOH, P_NR_HDR = 0x10, 0x20, 0x40, 0x80
P_NOUNKNOWN, P_NODATA, P_SKIP, P_RCPT_REJ = 0x100, 0x200, 0x400, 0x800
P_NR_CONN, P_NR_HELO, P_NR_MAIL, P_NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
P_NR_DATA, P_NR_UNKN, P_NR_EOH, P_NR_BODY = 0x10000, 0x20000, 0x40000, 0x80000
P_HDR_LEADSPC = 0x100000
P_OFFER = 0x1FFFFF              # everything an MTA of protocol 6 can do

CHUNK = 65535                   # Sendmail's and Postfix's MILTER_CHUNK_SIZE
MAX_PACKET = 64 * 1024 * 1024

REPLIES = {b"c": "continue", b"a": "accept", b"r": "reject", b"t": "tempfail",
           b"d": "discard", b"y": "replycode", b"s": "skip"}
MODS = {b"h": "addheader", b"i": "insheader", b"m": "chgheader", b"b": "replbody",
        b"+": "addrcpt", b"-": "delrcpt", b"2": "addrcpt_par", b"e": "chgfrom",
        b"q": "quarantine"}
FAMILY = {"inet": b"4", "inet6": b"6", "unix": b"L", "unknown": b"U"}


class MilterProtocolError(Exception):
    """The milter sent something a milter must not send."""


@dataclass
class Mod:
    op: str                         # addheader, insheader, chgheader, replbody, addrcpt...
    name: str = ""                  # header name; recipient or sender for the envelope ones
    value: str = ""                 # header value as in "Name: value"; ESMTP args (addrcpt_par,
                                    # chgfrom)
    index: int | None = None        # insheader/chgheader
    data: bytes = b""               # replbody: the body part
    raw: str = ""                   # the header value exactly as sent
    leadspc: bool = False           # sent under SMFIP_HDR_LEADSPC

    @property
    def field(self) -> str:
        """The header line as the MTA writes it: under SMFIP_HDR_LEADSPC the value
        verbatim after the colon (Postfix, Sendmail), else after ": "."""
        return f"{self.name}:{self.raw}" if self.leadspc else f"{self.name}: {self.raw}"


@dataclass
class Reply:
    cmd: str                        # the reply letter: c a r t d y s
    kind: str                       # continue accept reject tempfail discard replycode skip
    text: str = ""                  # 'y': the whole reply, e.g. "451 4.3.0 Local ..."
    mods: list = field(default_factory=list)   # modifications received before it (eom)

    @property
    def code(self) -> str | None:
        """The SMTP code of a 'y' reply ("451"), else None."""
        return self.text.split(" ", 1)[0] if self.cmd == "y" and self.text else None

    @property
    def xcode(self) -> str | None:
        """The extended code of a 'y' reply ("4.3.0"), else None."""
        parts = self.text.split(" ", 2)
        if self.cmd == "y" and len(parts) > 1 and parts[1][:1].isdigit() and "." in parts[1]:
            return parts[1]
        return None

    @property
    def verdict(self) -> str:
        """What the MTA does with the message: continue, accept, reject, tempfail,
        discard, skip (a 'y' reply counts by its code's first digit)."""
        if self.cmd == "y":
            return {"4": "tempfail", "5": "reject"}.get(self.text[:1], "replycode?")
        return self.kind

    def headers_added(self) -> dict:
        return {m.name: m.value for m in self.mods if m.op in ("addheader", "insheader")}

    def __str__(self):
        return self.kind + (f" {self.text!r}" if self.text else "") + \
            (f" +{len(self.mods)} mods" if self.mods else "")


def parse_socket(spec: str):
    """unix:/path, local:/path, /path, inet:PORT@HOST, inet6:PORT@HOST -> (family, address)."""
    if spec.startswith(("unix:", "local:")):
        return socket.AF_UNIX, spec.split(":", 1)[1]
    if spec.startswith("/"):
        return socket.AF_UNIX, spec
    if spec.startswith(("inet:", "inet6:")):
        kind, rest = spec.split(":", 1)
        port, _, host = rest.partition("@")
        fam = socket.AF_INET6 if kind == "inet6" else socket.AF_INET
        return fam, (host or ("::1" if kind == "inet6" else "127.0.0.1"), int(port))
    raise ValueError(f"bad milter socket {spec!r}")


def _z(*parts) -> bytes:
    return b"".join((p.encode("utf-8", "surrogateescape") if isinstance(p, str) else p) + b"\0"
                    for p in parts)


def decode_mod(cmd: bytes, data: bytes, leadspc: bool = False) -> Mod:
    """A modification packet; LEADSPC: SMFIP_HDR_LEADSPC was negotiated (header
    values then carry their leading blank)."""
    op = MODS[cmd]
    if cmd in (b"i", b"m"):
        if len(data) < 4:
            raise MilterProtocolError(f"short {op} packet")
        (index,) = struct.unpack("!I", data[:4])
        data = data[4:]
    else:
        index = None
    if cmd == b"b":
        return Mod(op, data=data)
    parts = data.split(b"\0")
    name = parts[0].decode("utf-8", "surrogateescape")
    value = parts[1].decode("utf-8", "surrogateescape") if len(parts) > 2 else ""
    if cmd not in (b"h", b"i", b"m"):
        return Mod(op, name, value, index)
    shown = value[1:] if leadspc and value[:1] == " " else value
    return Mod(op, name, shown, index, raw=value, leadspc=leadspc)


class MilterClient:
    """One milter connection.  TIMEOUT bounds every read and write, CONNECT_TIMEOUT
    (default: TIMEOUT) the connect.

    A UNIX socket whose listen queue is full refuses a non-blocking connect at
    once (EAGAIN) -- what Postfix's timed connect then reports as a milter
    failure -- while a blocking one waits for room, as Sendmail's does.
    WAIT_FOR_BACKLOG=True (the default) waits, bounded by CONNECT_TIMEOUT;
    False tries once, as Postfix does."""

    def __init__(self, spec: str, timeout: float = 30.0, connect_timeout: float | None = None,
                 wait_for_backlog: bool = True):
        fam, addr = parse_socket(spec)
        ctimeout = connect_timeout if connect_timeout is not None else timeout
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        try:
            if fam == socket.AF_UNIX and wait_for_backlog:
                # blocking connect; the kernel bounds its wait for queue room by SO_SNDTIMEO
                self.sock.settimeout(None)
                self._sndtimeo(ctimeout)
                self.sock.connect(addr)
                self._sndtimeo(0)
            else:
                self.sock.settimeout(ctimeout)
                self.sock.connect(addr)
        except BaseException:
            self.sock.close()
            raise
        self.sock.settimeout(timeout)
        self.version = self.actions = self.protocol = 0
        self.replies: list[tuple[str, Reply]] = []      # (stage, reply) in order

    def _sndtimeo(self, seconds: float) -> None:
        sec = int(seconds)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                             struct.pack("ll", sec, int((seconds - sec) * 1e6)))

    # -- context manager --------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- the wire ---------------------------------------------------------
    def send(self, cmd: bytes, data: bytes = b"") -> None:
        self.sock.sendall(struct.pack("!I", len(data) + 1) + cmd + data)

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            got = self.sock.recv(n - len(buf))
            if not got:
                raise ConnectionResetError(f"milter closed the connection ({len(buf)}/{n} bytes)")
            buf += got
        return bytes(buf)

    def read_packet(self) -> tuple[bytes, bytes]:
        (n,) = struct.unpack("!I", self._recv_exact(4))
        if n < 1 or n > MAX_PACKET:
            raise MilterProtocolError(f"bad packet length {n}")
        data = self._recv_exact(n)
        return data[:1], data[1:]

    def read_reply(self, stage: str, mods_allowed: bool = False) -> Reply:
        """Read up to a final reply, through progress packets; modifications only at eom."""
        mods = []
        while True:
            cmd, data = self.read_packet()
            if cmd == b"p":
                continue
            if cmd in MODS:
                if not mods_allowed:
                    raise MilterProtocolError(f"modification {cmd!r} answering {stage}")
                mods.append(decode_mod(cmd, data, bool(self.protocol & P_HDR_LEADSPC)))
                continue
            if cmd not in REPLIES:
                raise MilterProtocolError(f"unknown reply {cmd!r} answering {stage}")
            text = data.rstrip(b"\0").decode("utf-8", "surrogateescape") if cmd == b"y" else ""
            r = Reply(cmd.decode(), REPLIES[cmd], text, mods)
            self.replies.append((stage, r))
            return r

    def macros(self, stage: bytes, values: dict | None) -> None:
        """A 'D' packet: the macros for the next command (no reply)."""
        if values:
            self.send(b"D", stage + _z(*[x for k, v in values.items() for x in (k, v)]))

    def _step(self, cmd: bytes, data: bytes, no: int, nr: int, stage: str,
              macros: dict | None = None, mods_allowed=False) -> Reply | None:
        if self.protocol & no:
            return None
        self.macros(cmd, macros)
        self.send(cmd, data)
        if self.protocol & nr:
            return None
        return self.read_reply(stage, mods_allowed)

    # -- the commands -----------------------------------------------------
    def negotiate(self, version=SMFI_VERSION, actions=SMFIF_ALL, protocol=P_OFFER):
        self.send(b"O", struct.pack("!III", version, actions, protocol))
        cmd, data = self.read_packet()
        if cmd != b"O" or len(data) < 12:
            raise MilterProtocolError(f"bad negotiation reply {cmd!r} {data!r}")
        self.version, self.actions, self.protocol = struct.unpack("!III", data[:12])
        return self.version, self.actions, self.protocol

    def connect(self, hostname="client.example.org", addr="192.0.2.1", port=40000,
                family="inet", macros=None) -> Reply | None:
        fam = FAMILY[family]
        data = _z(hostname) + fam
        if fam != b"U":
            data += struct.pack("!H", port) + _z(addr)
        return self._step(b"C", data, P_NOCONNECT, P_NR_CONN, "connect", macros)

    def helo(self, name="client.example.org", macros=None) -> Reply | None:
        return self._step(b"H", _z(name), P_NOHELO, P_NR_HELO, "helo", macros)

    def mail(self, sender, *args, macros=None) -> Reply | None:
        return self._step(b"M", _z(sender, *args), P_NOMAIL, P_NR_MAIL, "mail", macros)

    def rcpt(self, rcpt, *args, macros=None) -> Reply | None:
        return self._step(b"R", _z(rcpt, *args), P_NORCPT, P_NR_RCPT, "rcpt", macros)

    def data(self, macros=None) -> Reply | None:
        return self._step(b"T", b"", P_NODATA, P_NR_DATA, "data", macros)

    def header(self, name, value, raw: bool = False) -> Reply | None:
        """VALUE as in ``Name: value`` (the usual single blank after the colon not
        included); RAW=True: VALUE is exactly what follows the colon.  As an MTA
        does, the leading blanks go to the milter only under SMFIP_HDR_LEADSPC."""
        sp = " " if isinstance(value, str) else b" "
        if self.protocol & P_HDR_LEADSPC:
            if not raw:
                value = sp + value
        else:
            value = value.lstrip(sp + ("\t" if isinstance(value, str) else b"\t"))
        return self._step(b"L", _z(name, value), P_NOHDRS, P_NR_HDR, "header")

    def eoh(self, macros=None) -> Reply | None:
        return self._step(b"N", b"", P_NOEOH, P_NR_EOH, "eoh", macros)

    def body(self, chunk: bytes) -> Reply | None:
        if len(chunk) > CHUNK:
            raise ValueError("a body chunk is at most 65535 bytes; use body_all")
        return self._step(b"B", chunk, P_NOBODY, P_NR_BODY, "body")

    def body_all(self, body: bytes, chunk=CHUNK) -> Reply | None:
        """The body in chunks as an MTA sends it; stops at the first reply that is
        not continue (returned; skip included), else None."""
        view = memoryview(body)
        for off in range(0, len(body), chunk):
            r = self.body(bytes(view[off:off + chunk]))
            if r is not None and r.kind != "continue":
                return r
        return None

    def eom(self, macros=None) -> Reply:
        self.macros(b"E", macros)
        self.send(b"E")
        return self.read_reply("eom", mods_allowed=True)

    def abort(self) -> None:
        self.send(b"A")

    def quit(self) -> None:
        try:
            self.send(b"Q")
        except OSError:
            pass

    # -- a whole exchange -------------------------------------------------
    def session_start(self, hostname="client.example.org", addr="192.0.2.1",
                      helo="client.example.org", macros=None) -> Reply | None:
        """connect and helo; returns the first reply that is not continue, else None."""
        m = {"j": "mx.example.net", "{daemon_name}": "test-mta",
             "{client_addr}": addr, "{client_name}": hostname}
        m.update(macros or {})
        r = self.connect(hostname, addr, macros=m)
        if r is not None and r.kind != "continue":
            return r
        r = self.helo(helo)
        if r is not None and r.kind != "continue":
            return r
        return None

    def transaction(self, sender, rcpts, headers, body: bytes, qid="TEST0001",
                    chunk=CHUNK) -> Reply:
        """One message, MAIL to end of message, as an MTA plays it: stops at the
        first reply that ends it (a recipient's reject/tempfail refuses only that
        recipient; all refused ends it) and returns that reply; else the eom reply."""
        r = self.mail(sender, macros={"i": qid, "{mail_addr}": sender.strip("<>")})
        if r is not None and r.kind != "continue":
            return r
        accepted, last = 0, None
        for rc in rcpts:
            r = self.rcpt(rc, macros={"{rcpt_addr}": rc.strip("<>")})
            if r is None or r.kind == "continue":
                accepted += 1
            elif r.verdict in ("reject", "tempfail"):
                last = r
            else:
                return r                     # accept / discard end the transaction
        if not accepted:
            return last
        r = self.data(macros={"i": qid})
        if r is not None and r.kind != "continue":
            return r
        for name, value in headers:
            r = self.header(name, value)
            if r is not None and r.kind != "continue":
                return r
        r = self.eoh(macros={"i": qid})
        if r is not None and r.kind != "continue":
            return r
        r = self.body_all(body, chunk)
        if r is not None and r.kind != "skip":
            return r
        return self.eom(macros={"i": qid})


def one_message(spec, sender="<alice@example.org>", rcpts=("<bob@example.net>",),
                headers=(("From", "alice@example.org"), ("To", "bob@example.net"),
                         ("Subject", "test")),
                body=b"Hello.\r\n", timeout=30.0, qid="TEST0001", addr="192.0.2.1") -> Reply:
    """A whole connection with one message; returns the reply that decided it."""
    with MilterClient(spec, timeout) as c:
        c.negotiate()
        r = c.session_start(addr=addr)
        if r is None:
            r = c.transaction(sender, list(rcpts), list(headers), body, qid=qid)
        c.quit()
        return r
