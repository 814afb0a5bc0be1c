"""The pymilter adapter: the only module of mfl that imports pymilter.

``serve(program, socket)`` runs libmilter (one thread per SMTP connection)
and forwards each callback to a ``host.Connection``; replies and the
modifications queued by the script go back to the MTA as milter actions.
"""
from __future__ import annotations

import logging
import socket as _socket

import Milter

from .host import Connection

log = logging.getLogger("mfld")

_FAMILY = {_socket.AF_UNIX: 1, _socket.AF_INET: 2, _socket.AF_INET6: 3}
_ENC = ("utf-8", "surrogateescape")


def _result(m: "_MflMilter", reply) -> int:
    k = reply.kind
    if k == "continue":
        return Milter.CONTINUE
    if k == "accept":
        return Milter.ACCEPT
    if k == "discard":
        return Milter.DISCARD
    if reply.code or reply.text:
        code = reply.code or ("550" if k == "reject" else "451")
        xcode = reply.xcode or ("5.7.1" if k == "reject" else "4.7.1")
        try:
            m.setreply(code, xcode, (reply.text or "").replace("%", "%%") or
                       ("Command rejected" if k == "reject" else "Try again later"))
        except Exception as e:                  # a malformed reply must not lose the verdict
            log.error("bad reply %s %s %r: %s", code, xcode, reply.text, e)
    return Milter.REJECT if k == "reject" else Milter.TEMPFAIL


class _MflMilter(Milter.Base):
    program = None                              # set by serve()
    macro_names: tuple = ()

    def __init__(self):
        self.conn = Connection(self.program)

    def _macros(self):
        got = {}
        for name in self.macro_names:
            v = self.getsymval(name if len(name) == 1 else "{" + name + "}")
            if v is not None:
                got[name] = v
        self.conn.set_macros(got)

    def connect(self, hostname, family, hostaddr):
        self._macros()
        fam = _FAMILY.get(family, 0)
        if isinstance(hostaddr, tuple):
            addr, port = hostaddr[0], hostaddr[1] if len(hostaddr) > 1 else 0
        else:
            addr, port = (hostaddr or ""), 0
        return _result(self, self.conn.connect(hostname, fam, port, addr))

    def hello(self, name):
        self._macros()
        return _result(self, self.conn.helo(name))

    def envfrom(self, sender, *args):
        self._macros()
        return _result(self, self.conn.envfrom(sender, args))

    def envrcpt(self, rcpt, *args):
        self._macros()
        return _result(self, self.conn.envrcpt(rcpt, args))

    def data(self):
        self._macros()
        return _result(self, self.conn.data())

    def header(self, name, value):
        return _result(self, self.conn.header(name, value))

    def eoh(self):
        self._macros()
        return _result(self, self.conn.eoh())

    def body(self, chunk):
        return _result(self, self.conn.body_chunk(chunk))

    def eom(self):
        self._macros()
        reply, mods = self.conn.eom()
        for m in mods:
            try:
                self._apply(m)
            except Exception as e:              # never lose mail over one modification
                log.error("%scannot apply %s: %s", self.conn.log_prefix(), m.kind, e)
                return _result(self, type(reply)("tempfail", "451", "4.3.0",
                                                 "Local error; please try again later"))
        return _result(self, reply)

    def _apply(self, m) -> None:
        k = m.kind
        if k == "add_header":
            self.addheader(m.name, m.value)
        elif k == "insert_header":
            self.addheader(m.name, m.value, m.index)
        elif k == "replace_header":
            self.chgheader(m.name, m.index, m.value)
        elif k == "delete_header":
            self.chgheader(m.name, m.index, "")
        elif k == "add_rcpt":
            self.addrcpt(m.name)
        elif k == "delete_rcpt":
            self.delrcpt(m.name)
        elif k == "set_from":
            self.chgfrom(m.name, m.value or None)
        elif k in ("replace_body", "replace_body_fd"):
            v = m.value
            data = v.read() if hasattr(v, "read") else (v or "").encode(*_ENC)
            if isinstance(data, str):
                data = data.encode(*_ENC)
            # the MTA gets SMTP line ends, as mailfromd sends them
            self.replacebody(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        elif k == "quarantine":
            self.quarantine(m.name)

    def abort(self):
        self.conn.abort()
        return Milter.CONTINUE

    def close(self):
        self.conn.close()
        return Milter.CONTINUE


def serve(program, socket: str, timeout: int = 600) -> None:
    """Serve PROGRAM on SOCKET (unix:/path, inet:PORT@HOST, inet6:PORT@HOST) until stopped."""
    names = set()
    for used in program.macros_used.values():
        names |= used
    names |= {"i"}
    _MflMilter.program = program
    _MflMilter.macro_names = tuple(sorted(names))
    Milter.factory = _MflMilter
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.ADDRCPT | Milter.DELRCPT
                     | Milter.CHGBODY | Milter.CHGFROM | Milter.QUARANTINE)
    if socket.startswith("local:"):
        socket = "unix:" + socket[6:]
    log.info("mfld serving %s on %s", program.file, socket)
    Milter.runmilter("mfld", socket, timeout)
