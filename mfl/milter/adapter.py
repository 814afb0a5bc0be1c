"""The pymilter adapter: the only module of mfl that imports pymilter.

libmilter runs one thread per MTA connection and calls back into a
``_MflMilter`` object, which forwards each callback to a ``host.Connection``;
replies and the modifications queued by the script go back to the MTA as
milter actions.

The daemon (``daemon.py``) uses four entry points:

* ``configure(program, ...)`` -- what to serve, how many connections at most;
* ``open_socket(url)`` -- bind the listening socket (before dropping
  privileges and before forking workers, which share it);
* ``run()`` -- libmilter's accept loop (it never returns while serving);
* ``request_stop()`` -- stop accepting; ``wait_idle(timeout)`` -- wait until
  the connections in progress end (the process then exits).

Protocol negotiation: the stages the script has no use for are skipped
(``SMFIP_NO*``), headers and body chunks nobody looks at on the fly are not
answered (``SMFIP_NR_HDR``), header values keep their leading
blanks (``SMFIP_HDR_LEADSPC``) so DKIM sees the bytes the MTA has, and the
MTA is asked for the macros the script reads (``setsymlist``).
"""
from __future__ import annotations

import logging
import os
import socket as _socket
import threading

import Milter
import milter as _milter

from .host import Connection, Reply

log = logging.getLogger("mfld")

_FAMILY = {_socket.AF_UNIX: 1, _socket.AF_INET: 2, _socket.AF_INET6: 3}
_ENC = ("utf-8", "surrogateescape")

# Milter protocol stages for setsymlist, and the macros mfld itself wants there.
_MACRO_STAGES = (Milter.M_CONNECT, Milter.M_HELO, Milter.M_ENVFROM, Milter.M_ENVRCPT,
                 Milter.M_DATA, Milter.M_EOH, Milter.M_EOM)
_OWN_MACROS = ("i",)


def _result(m: "_MflMilter", reply: Reply) -> int:
    k = reply.kind
    if k == "continue":
        return Milter.CONTINUE
    if k == "accept":
        return Milter.ACCEPT
    if k == "discard":
        return Milter.DISCARD
    if reply.code or reply.text:
        code = reply.code or ("550" if k == "reject" else "451")
        xcode = reply.xcode or None             # none given: none sent, as mailfromd
        text = (reply.text or "").replace("%", "%%") or (
            "Command rejected" if k == "reject" else "Try again later")
        try:
            lines = text.split("\n")
            m.setreply(code, xcode, *lines[:32])
        except Exception as e:                  # a malformed reply must not lose the verdict
            log.error("%sbad reply %s %s %r: %s", m.prefix(), code, xcode, reply.text, e)
    return Milter.REJECT if k == "reject" else Milter.TEMPFAIL


class _Gate:
    """At most N connections at once in this process; counts them for draining."""

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0
        self.cond = threading.Condition()

    def enter(self, wait: float) -> bool:
        with self.cond:
            if self.limit > 0 and self.active >= self.limit:
                self.cond.wait_for(lambda: self.active < self.limit, timeout=wait)
                if self.active >= self.limit:
                    return False
            self.active += 1
            return True

    def leave(self) -> None:
        with self.cond:
            self.active -= 1
            self.cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.active == 0, timeout=timeout)


class _MflMilter(Milter.Base):
    program = None                              # set by configure()
    macro_names: tuple = ()
    want_headers = True                         # keep header/body (message needed at eoh/eom)
    live_headers = True                         # a header handler: answer each header
    live_body = True
    trace = False
    echo = None                                 # --echo: a stream for `echo', else the log
    gate = _Gate(0)
    gate_wait = 20.0

    def __init__(self):
        self.conn = None
        self.admitted = self.gate.enter(self.gate_wait)
        if self.admitted:
            self.conn = Connection(self.program, macro_source=self._lookup, echo=self.echo,
                                   trace=self.trace)

    def prefix(self) -> str:
        return self.conn.log_prefix() if self.conn else ""

    def _lookup(self, name):
        """A macro the script asks for by a computed name: straight from the MTA."""
        try:
            return self.getsymval(name if len(name) == 1 else "{" + name + "}")
        except Exception:
            return None

    def _macros(self):
        got = {}
        for name in self.macro_names:
            v = self.getsymval(name if len(name) == 1 else "{" + name + "}")
            if v is not None:
                got[name] = v
        self.conn.set_macros(got)

    def _reply(self, stage: str, reply: Reply) -> int:
        return _result(self, reply)

    # the callbacks ---------------------------------------------------------
    def negotiate(self, opts):
        try:
            actions, offered, _f1, _f2 = opts
            self._actions = actions
            want = self.protocol_mask()
            if actions & Milter.SETSYMLIST and self.macro_names:
                names = " ".join(n if len(n) == 1 else "{" + n + "}" for n in self.macro_names)
                for stage in _MACRO_STAGES:
                    self._ctx.setsymlist(stage, names)
            opts[1] = self._protocol = offered & ~want
            opts[2] = opts[3] = 0
        except Exception as e:                  # keep the MTA's defaults
            log.error("protocol negotiation failed: %s", e)
            return Milter.ALL_OPTS
        return Milter.CONTINUE

    @classmethod
    def protocol_mask(cls):
        """The protocol bits libmilter offers that mfld does NOT want (pymilter's sense:
        what is offered and not in this mask is requested)."""
        bits = Milter.P_RCPT_REJ | Milter.P_NOCONNECT | Milter.P_NOMAIL \
            | Milter.P_NR_CONN | Milter.P_NR_HELO | Milter.P_NR_MAIL | Milter.P_NR_RCPT \
            | Milter.P_NR_DATA | Milter.P_NR_UNKN | Milter.P_NR_EOH
        if cls.live_headers or not cls.want_headers:
            bits |= Milter.P_NR_HDR
        # body chunks are always answered: mtasim (mailfromd 8.15) offers
        # SMFIP_NR_BODY but then waits for the reply that never comes
        bits |= Milter.P_NR_BODY
        if cls.want_headers:
            bits |= Milter.P_NOHDRS | Milter.P_NOBODY
        # a stage without a handler is skipped, unless the script reads macros
        # (the MTA sends each stage's macros with that stage)
        plain = cls.macro_names == _OWN_MACROS
        for stage, bit in (("helo", Milter.P_NOHELO), ("envrcpt", Milter.P_NORCPT),
                           ("data", Milter.P_NODATA), ("eoh", Milter.P_NOEOH)):
            if cls.program.handler(stage) or not plain:
                bits |= bit
        return bits

    def connect(self, hostname, family, hostaddr):
        if not self.admitted:
            log.warning("too many connections (%d): tempfail", self.gate.limit)
            self.setreply("421", "4.3.2", "Service temporarily overloaded, try again later")
            return Milter.TEMPFAIL
        self._macros()
        fam = _FAMILY.get(family, 0)
        if isinstance(hostaddr, tuple):
            addr, port = hostaddr[0], hostaddr[1] if len(hostaddr) > 1 else 0
        else:
            addr, port = (hostaddr or ""), 0
        return self._reply("connect", self.conn.connect(hostname, fam, port, addr))

    def hello(self, name):
        self._macros()
        return self._reply("helo", self.conn.helo(name))

    def envfrom(self, sender, *args):
        self._macros()
        return self._reply("envfrom", self.conn.envfrom(sender, args))

    def envrcpt(self, rcpt, *args):
        self._macros()
        return self._reply("envrcpt", self.conn.envrcpt(rcpt, args))

    def data(self):
        self._macros()
        return self._reply("data", self.conn.data())

    def header(self, name, value):
        r = self.conn.header(name, value, raw=bool(self._protocol & Milter.P_HDR_LEADSPC))
        if self._protocol & Milter.P_NR_HDR:
            return Milter.NOREPLY
        return self._reply("header", r)

    def eoh(self):
        self._macros()
        return self._reply("eoh", self.conn.eoh())

    def body(self, chunk):
        return self._reply("body", self.conn.body_chunk(chunk))

    def unknown(self, cmd):
        return Milter.CONTINUE

    def eom(self):
        self._macros()
        reply, mods = self.conn.eom()
        for m in mods:
            try:
                self._apply(m)
            except _milter.error as e:          # libmilter could not write: the MTA left
                log.warning("%scannot send %s to the MTA (connection closed?): %s",
                            self.prefix(), m.kind, e)
                return Milter.TEMPFAIL
            except Exception as e:              # never lose mail over one modification
                log.error("%scannot apply %s: %s", self.prefix(), m.kind, e)
                return _result(self, Reply("tempfail", "451", "4.3.0",
                                           "Local error; please try again later"))
        return self._reply("eom", reply)

    def _value(self, v: str) -> str:
        """Under SMFIP_HDR_LEADSPC the MTA writes a value exactly as sent
        (Postfix: no blank after the colon): give it the blank it would add."""
        if self._protocol & Milter.P_HDR_LEADSPC and v[:1] not in (" ", "\t"):
            return " " + v
        return v

    def _apply(self, m) -> None:
        k = m.kind
        if k == "add_header":
            self.addheader(m.name, self._value(m.value))
        elif k == "insert_header":
            self.addheader(m.name, self._value(m.value), m.index)
        elif k == "replace_header":
            self.chgheader(m.name, m.index, self._value(m.value))
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
        if self.conn:
            self.conn.abort()
        return Milter.CONTINUE

    def close(self):
        try:
            if self.conn:
                self.conn.close()
        finally:
            if self.admitted:
                self.admitted = False
                self.gate.leave()
        return Milter.CONTINUE


def configure(program, *, max_connections: int = 0, trace: bool = False, echo=None) -> None:
    """What the next connections are served with (a reload calls it again)."""
    if echo is not None:
        _MflMilter.echo = echo
    names = set(_OWN_MACROS)
    for used in program.macros_used.values():
        names |= used
    cls = _MflMilter
    cls.macro_names = () if getattr(program, "dynamic_macros", False) else tuple(sorted(names))
    has = program.handler
    cls.live_headers = bool(has("header"))
    cls.live_body = bool(has("body"))
    cls.want_headers = bool(has("header") or has("body") or has("eoh") or has("eom"))
    cls.trace = trace
    if max_connections != cls.gate.limit or not isinstance(cls.gate, _Gate):
        cls.gate = _Gate(max_connections)
    cls.program = program                       # last: new connections see it all at once


def _register(timeout: int) -> None:
    Milter.factory = _MflMilter
    _milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.ADDRCPT | Milter.DELRCPT
                      | Milter.CHGBODY | Milter.CHGFROM | Milter.QUARANTINE | Milter.SETSYMLIST)
    _milter.set_connect_callback(Milter.connect_callback)
    _milter.set_helo_callback(lambda ctx, host: ctx.getpriv().hello(host))
    _milter.set_envfrom_callback(lambda ctx, *b: ctx.getpriv().envfrom_bytes(*b))
    _milter.set_envrcpt_callback(lambda ctx, *b: ctx.getpriv().envrcpt_bytes(*b))
    _milter.set_header_callback(lambda ctx, f, v: ctx.getpriv().header_bytes(f, v))
    _milter.set_eoh_callback(lambda ctx: ctx.getpriv().eoh())
    _milter.set_body_callback(lambda ctx, chunk: ctx.getpriv().body(chunk))
    _milter.set_eom_callback(lambda ctx: ctx.getpriv().eom())
    _milter.set_abort_callback(lambda ctx: ctx.getpriv().abort())
    _milter.set_close_callback(Milter.close_callback)
    if timeout > 0:
        _milter.settimeout(timeout)
    _milter.register("mfld", data=lambda ctx: ctx.getpriv().data(),
                     unknown=lambda ctx, cmd: ctx.getpriv().unknown(cmd),
                     negotiate=Milter.negotiate_callback)


def normalize_socket(url: str) -> str:
    if url.startswith("local:"):
        return "unix:" + url[6:]
    if url.startswith("/"):
        return "unix:" + url
    return url


_listen_fd = None


def open_socket(url: str, *, timeout: int = 600, backlog: int = 4096,
                mode: int | None = 0o660) -> int:
    """Register the callbacks and bind URL; returns the listening descriptor."""
    global _listen_fd
    url = normalize_socket(url)
    _register(timeout)
    _milter.setconn(url)
    _milter.setbacklog(backlog)
    before = socket_fds()
    _milter.opensocket(True)
    fd = _find_listen_fd(before)
    if fd is None:
        log.error("cannot find the listening socket: reload and stop will not drain")
    if fd is not None:
        os.set_blocking(fd, False)              # workers race for accept(); losers get EAGAIN
    if url.startswith("unix:") and mode is not None:
        try:
            os.chmod(url[5:], mode)
        except OSError:
            pass
    _listen_fd = fd
    return fd


def socket_fds() -> dict:
    """fd -> 'socket:[inode]' for the sockets this process has open."""
    out = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:"):
            out[int(name)] = target
    return out


def _find_listen_fd(before: dict) -> int | None:
    """The socket libmilter has just opened (by inode: descriptor numbers
    are reused)."""
    old = set(before.values())
    for fd, target in sorted(socket_fds().items()):
        if target not in old:
            return fd
    return None


def run() -> None:
    """Serve until stopped (libmilter's accept loop in this process)."""
    _milter.main()


def request_stop() -> None:
    """Stop accepting connections (from any thread), keep serving the open ones.

    The listening descriptor is replaced by a listening socket nobody knows
    of: libmilter's accept loop goes on waiting there, so the other workers
    get the new connections, the UNIX socket is not removed, and pymilter's
    interpreter stays valid for a connection accepted just before (which
    ``smfi_stop`` would break: pymilter forgets its interpreter when
    ``main`` returns)."""
    if _listen_fd is None:
        return
    try:
        dummy = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        dummy.bind("")                          # an unnamed (abstract) address
        dummy.listen(1)
        os.dup2(dummy.fileno(), _listen_fd)
        _keep.append(dummy)
    except OSError as e:
        log.error("cannot stop accepting: %s", e)


_keep: list = []


def own_sockets() -> frozenset:
    """The 'socket:[inode]' names of the sockets request_stop() made."""
    out = set()
    for d in _keep:
        try:
            out.add(os.readlink(f"/proc/self/fd/{d.fileno()}"))
        except OSError:
            pass
    return frozenset(out)


def listen_fd() -> int | None:
    return _listen_fd


def wait_idle(timeout: float) -> bool:
    return _MflMilter.gate.wait_idle(timeout)


def active_connections() -> int:
    return _MflMilter.gate.active
