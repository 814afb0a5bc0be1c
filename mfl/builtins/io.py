"""I/O built-ins: files, pipes, sockets, spawned programs and filter chains.

Behaviour measured on mailfromd 8.15:

* Descriptors are slots 0..1023 of a per-connection table (the lowest free
  slot is used); a bad one raises ``e_range`` "invalid file descriptor".
* ``open``: ``>file`` (read-write, truncate), ``>>file`` (read-write,
  append), ``|cmd`` (write to CMD's stdin; its stdout is ours), ``|<cmd``
  (read its stdout; its stdin closed), ``|&cmd`` (both: the write side is a
  second slot named "stdin of NAME", which ``get_output`` returns), an
  optional ``2>null:``, ``2>file:F``, ``2>>file:F`` or ``2>syslog:FAC[.PRI]``
  after the ``|`` prefixes (the command's stderr is closed otherwise),
  ``@url`` (socket: ``inet://host:port``, ``inet:port@host``,
  ``inet6://...``, ``unix:path``, ``local:path`` or a bare path) and a plain
  name (read-only).  Commands run as ``$SHELL -c CMD`` when SHELL is set,
  else split into words (quotes and backslashes as in the shell) and
  executed through PATH.  Closing a pipe waits for the command.
* Streams are named by the argument of ``open`` (``spawn``: its command,
  ``tempfile``: the file's path); messages: "EOF on NAME" (``getline``,
  ``getdelim``), "read: EOF on NAME" (``read``), "read error on NAME: ERR",
  "write error on NAME: ERR" (``e_io``), "rewind: seek failed: ERR".
* Writes go out at once whatever the buffering; buffering (``setbuf``,
  ``io_buffering``, ``io_buffer_size``) only changes how reads are done:
  unbuffered reads fetch what is asked (``getline``: a byte at a time),
  buffered ones fill the whole buffer (blocking on a pipe until it is full
  or at EOF).  ``read(fd, n)`` reads until N bytes or EOF.  Strings stop at
  the first NUL byte, as C strings do.
* ``filter_fd`` closes the underlying descriptor of its source (a
  mailfromd 8.15 quirk): later use of the source fails with "Bad file
  descriptor".  ``filter_string`` returns the correct filtered text, where
  mailfromd 8.15 overwrites the beginning of a result longer than its
  input with the result's last chunk (a bug not reproduced here).

Per-connection state: ``rt.extra["io"]`` (an ``IOTable``).  The host calls
``close_all(rt)`` when the connection ends (closing every descriptor and
waiting for the commands); tables still open when the interpreter exits are
closed by an ``atexit`` hook, as mailfromd closes them at exit.
"""
from __future__ import annotations

import atexit
import errno
import os
import random
import shlex
import socket
import stat
import string as _string
import subprocess
import weakref

from ..runtime.errors import MFLException, RuntimeFault
from .registry import builtin, variable

D = "io"

MAX_STREAMS = 1024
BUFFER_NONE, BUFFER_FULL, BUFFER_LINE = 0, 1, 2
_DEFAULT_BUFSIZE = 4096
_MAX_BUFSIZE = 1 << 36           # malloc fails beyond this on the reference machine
_MAX_READ = 1 << 34              # read(): mailfromd's heap cannot grow that much
_ENC = ("utf-8", "surrogateescape")


def _b(s: str) -> bytes:
    return s.encode(*_ENC)


def _s(b: bytes) -> str:
    i = b.find(b"\0")
    if i >= 0:
        b = b[:i]
    return b.decode(*_ENC)


def _strerror(e: OSError) -> str:
    return os.strerror(e.errno) if e.errno else str(e)


def _badf() -> OSError:
    return OSError(errno.EBADF, os.strerror(errno.EBADF))


# ---------------------------------------------------------------- streams

class Stream:
    """One open resource: an OS descriptor (or none), a child process, a socket."""

    def __init__(self, name: str, fd: int | None, *, proc=None, sock=None,
                 extra_fds=()):
        self.name = name
        self.fd = fd                    # OS descriptor; None: neither readable nor writable
        self.proc = proc                # subprocess.Popen to wait for on close
        self.sock = sock                # socket.socket (kept alive)
        self.extra_fds = list(extra_fds)   # more OS descriptors to close with this stream
        self.delim = b"\n"
        self.buftype = BUFFER_NONE
        self.bufsize = 0
        self.rbuf = b""
        self.out: Stream | None = None  # |& : the write side ("stdin of NAME")
        self.out_slot = -1
        self.twoway = False             # a |& pipe: writes go to self.out
        self.dangling = False           # its write side was closed by descriptor
        self.parent: Stream | None = None
        self.dead = False               # OS descriptor closed behind our back (filter_fd)
        self.rd_shut = False

    # -- raw OS level
    def _rfd(self) -> int:
        if self.fd is None or self.dead or self.rd_shut:
            raise _badf()
        return self.fd

    def _wfd(self) -> int:
        if self.twoway:
            out = self.out
            if out is None or out.fd is None or out.dead:
                raise _badf()
            return out.fd
        if self.fd is None or self.dead:
            raise _badf()
        return self.fd

    def raw_read(self, n: int) -> bytes:
        fd = self._rfd()
        return os.read(fd, n)

    @property
    def buffered(self) -> bool:
        return self.buftype != BUFFER_NONE and self.bufsize > 0

    def _fill(self) -> bool:
        """Fill the read buffer (until full or EOF); False at EOF with nothing read."""
        want = self.bufsize - len(self.rbuf)
        got = False
        while want > 0:
            chunk = self.raw_read(min(want, 1 << 20))
            if not chunk:
                break
            self.rbuf += chunk
            want -= len(chunk)
            got = True
        return got

    def read_bytes(self, n: int) -> bytes:
        """Up to N bytes, fewer only at EOF."""
        out = bytearray()
        if self.buffered:
            while len(out) < n:
                if not self.rbuf and not self._fill():
                    break
                take = self.rbuf[:n - len(out)]
                self.rbuf = self.rbuf[len(take):]
                out += take
        else:
            while len(out) < n:
                chunk = self.raw_read(min(n - len(out), 1 << 20))
                if not chunk:
                    break
                out += chunk
        return bytes(out)

    def read_byte(self) -> bytes:
        if self.buffered:
            if not self.rbuf and not self._fill():
                return b""
            c, self.rbuf = self.rbuf[:1], self.rbuf[1:]
            return c
        return self.raw_read(1)

    def read_chunk(self) -> bytes:
        """Some bytes (b"" at EOF): for copy and filter_fd."""
        if self.rbuf:
            c, self.rbuf = self.rbuf, b""
            return c
        return self.raw_read(max(self.bufsize, 8192))

    def getdelim(self, delim: bytes) -> bytes | None:
        """Bytes up to DELIM (removed); None at EOF with nothing read."""
        data = bytearray()
        while True:
            c = self.read_byte()
            if not c:
                return bytes(data) if data else None
            data += c
            if data.endswith(delim):
                return bytes(data[:len(data) - len(delim)])

    def write_bytes(self, data: bytes) -> None:
        fd = self._wfd()
        # as in Mailutils, a write goes to the OS offset, past any read-ahead,
        # and the read buffer stays
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            if n == 0:
                raise MFLException("e_eof", f"write error on {self.name}: wrote 0 bytes")
            view = view[n:]

    def rewind(self) -> None:
        if self.fd is None or self.dead:
            raise _badf()
        self.rbuf = b""
        os.lseek(self.fd, 0, os.SEEK_SET)

    def close(self) -> None:
        fds = []
        if self.fd is not None and not self.dead:
            fds.append(self.fd)
        fds.extend(self.extra_fds)
        self.fd = None
        self.extra_fds = []
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
            fds = []
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait()
            except Exception:        # noqa: BLE001 - never fail a close
                pass
            self.proc = None


class IOTable:
    """The descriptor table of one connection."""

    def __init__(self):
        self.slots: list[Stream | None] = []
        _TABLES.add(self)

    def alloc(self, st: Stream) -> int:
        for i, s in enumerate(self.slots):
            if s is None:
                self.slots[i] = st
                return i
        if len(self.slots) < MAX_STREAMS:
            self.slots.append(st)
            return len(self.slots) - 1
        return -1

    def free_slot(self) -> bool:
        return len(self.slots) < MAX_STREAMS or any(s is None for s in self.slots)

    def get(self, fd: int) -> Stream:
        if 0 <= fd < len(self.slots):
            st = self.slots[fd]
            if st is not None:
                return st
        raise MFLException("e_range", "invalid file descriptor")

    def close(self, fd: int) -> None:
        st = self.get(fd)
        self._close_stream(fd, st)

    def _close_stream(self, fd: int, st: Stream) -> None:
        self.slots[fd] = None
        if st.parent is not None:               # the write side of a |& pipe
            # closed through its own descriptor: the pipe keeps a dangling
            # reference (get_output still returns the slot), as in mailfromd
            # 8.15 (whose later shutdown(fd, SHUT_WR) then depends on what
            # reused the freed memory: a no-op here)
            st.parent.out = None
            st.parent.dangling = True
            st.close()
            return
        if st.out is not None:
            out = st.out
            st.out = None
            if 0 <= st.out_slot < len(self.slots) and self.slots[st.out_slot] is out:
                self.slots[st.out_slot] = None
            out.close()
        st.close()

    def close_all(self) -> None:
        for i, st in enumerate(self.slots):
            if st is not None:
                self._close_stream(i, st)
        self.slots = []


_TABLES: "weakref.WeakSet[IOTable]" = weakref.WeakSet()


def _table(rt) -> IOTable:
    t = rt.extra.get("io")
    if t is None:
        t = rt.extra["io"] = IOTable()
    return t


def close_all(rt) -> None:
    """Close every descriptor of the connection RT (and wait for its commands)."""
    t = rt.extra.pop("io", None)
    if t is not None:
        t.close_all()


@atexit.register
def _close_tables_at_exit() -> None:
    for t in list(_TABLES):
        t.close_all()


def _bvar(rt, name: str, default: int) -> int:
    slot = rt.program.global_names.get(f":builtin:{name}")
    return rt.globals[slot] if slot is not None else default


def _apply_buffering(st: Stream, btype: int, size: int) -> None:
    if btype not in (BUFFER_NONE, BUFFER_FULL, BUFFER_LINE):
        raise MFLException("e_range", f"bad buffering type: {btype}")
    if btype == BUFFER_NONE:
        st.bufsize = 0                 # 8.15 keeps reporting the previous type
        return
    if size <= 0:
        raise MFLException("e_range", "buffer size out of allowed range")
    if size > _MAX_BUFSIZE:
        raise MFLException("e_failure", "can't allocate stream buffer")
    st.buftype = btype
    st.bufsize = size


def _install(rt, st: Stream, who: str) -> int:
    """Put ST in the table with the default buffering; returns its descriptor."""
    t = _table(rt)
    try:
        _apply_buffering(st, _bvar(rt, "io_buffering", BUFFER_NONE),
                         _bvar(rt, "io_buffer_size", _DEFAULT_BUFSIZE))
    except MFLException:
        st.close()
        raise
    fd = t.alloc(st)
    if fd < 0:
        st.close()
        raise MFLException("e_failure", f"{who}: no more files available")
    if st.out is not None:
        st.out_slot = t.alloc(st.out)
    return fd


# ---------------------------------------------------------------- programs

_SYSLOG_FAC = {"user", "daemon", "auth", "authpriv", "mail", *(f"local{i}" for i in range(8))}
_SYSLOG_PRI = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}


def _parse_stderr_spec(cmd: str):
    """Split an optional '2>SPEC' (SPEC up to white space) off CMD: (spec, rest).
    spec: None (no redirection: stderr closed), ("fail", None) (SPEC not
    understood: the command is not run), ("null",), ("file", name, append) or
    ("syslog", text)."""
    if not cmd.startswith("2>"):
        return None, cmd
    i = 2
    while i < len(cmd) and not cmd[i].isspace():
        i += 1
    tok, rest = cmd[2:i], cmd[i:]
    append = tok.startswith(">")
    if append:
        tok = tok[1:]
    if tok.startswith("null:"):
        return ("null",), rest
    if tok.startswith("file:"):
        return ("file", tok[5:], append), rest
    if tok.startswith("syslog:"):
        return ("syslog", tok[7:]), rest
    return ("fail", None), rest


def _argv(cmd: str) -> list[str] | None:
    sh = os.environ.get("SHELL")
    if sh:
        return [sh, "-c", cmd]
    try:
        words = shlex.split(cmd)
    except ValueError:
        return None
    return words or None


def _stderr_target(spec, warn):
    """The child's stderr for SPEC: an OS descriptor (caller closes it),
    ("syslog", facility, priority) or None (closed)."""
    kind = spec[0]
    if kind == "null":
        return os.open(os.devnull, os.O_WRONLY | os.O_APPEND)
    if kind == "file":
        name, append = spec[1], spec[2]
        if not name:
            return None
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        try:
            return os.open(name, flags, 0o644)
        except OSError as e:
            warn(f"cannot open file {name} for appending: {_strerror(e)}")
            return None
    fac, dot, pri = spec[1].partition(".")
    if fac.lower() not in _SYSLOG_FAC:
        warn(f"unknown syslog facility ({fac}), redirecting stderr to MAIL")
        fac = "mail"
    if dot and pri.lower() not in _SYSLOG_PRI:
        warn(f"unknown syslog priority ({fac}), redirecting stderr to ERR")
        pri = "err"
    return ("syslog", fac.lower(), (pri or "err").lower())


def _start(cmd: str, mode: str, stdin_fd=None, stdout_fd=None, stderr_fd=None,
           err_spec=None, warn=None):
    """Run CMD.  MODE: 'w' (pipe to its stdin), 'r' (pipe from its stdout), 'rw'.
    STDIN_FD/STDOUT_FD/STDERR_FD: descriptors to give it instead.
    Returns (proc, our_write_end, our_read_end)."""
    wr = rd = None
    child_in = child_out = None
    close_in = close_out = False
    if stdin_fd is not None:
        child_in = stdin_fd
    elif "w" in mode:
        r, w = os.pipe()
        child_in, wr = r, w
        close_in = True
    if stdout_fd is not None:
        child_out = stdout_fd
    elif "r" in mode:
        r, w = os.pipe()
        rd, child_out = r, w
        close_out = True
    err_target = stderr_fd
    close_err = False
    syslog_spec = None
    run = True
    if err_target is None and err_spec is not None:
        if err_spec[0] == "fail":
            run = False
        else:
            t = _stderr_target(err_spec, warn or (lambda text: None))
            if isinstance(t, tuple):
                syslog_spec = t[1:]
            elif t is not None:
                err_target, close_err = t, True
    argv = _argv(cmd) if run else None
    proc = None
    try:
        if argv is not None:
            closing = []
            if child_in is None:
                closing.append(0)
            if err_target is None and syslog_spec is None:
                closing.append(2)

            def pre(closing=tuple(closing)):
                for fd in closing:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            try:
                proc = subprocess.Popen(
                    argv, stdin=child_in, stdout=child_out,
                    stderr=(subprocess.PIPE if syslog_spec is not None else err_target),
                    preexec_fn=pre if closing else None, close_fds=True)
            except OSError:
                proc = None
            if proc is not None and syslog_spec is not None:
                _syslog_pump(proc.stderr, syslog_spec)
    finally:
        if close_in:
            os.close(child_in)
        if close_out:
            os.close(child_out)
        if close_err:
            os.close(err_target)
    if proc is None and wr is not None:
        # the command could not start: writes vanish as into a dead pipe
        os.close(wr)
        wr = os.open(os.devnull, os.O_WRONLY)
    return proc, wr, rd


def _syslog_pump(pipe, spec) -> None:
    import syslog as _sl
    import threading
    fac, pri = spec
    facility = getattr(_sl, "LOG_" + fac.upper(), _sl.LOG_MAIL)
    priority = getattr(_sl, "LOG_" + pri.upper(), _sl.LOG_ERR)

    def run():
        with pipe:
            for line in pipe:
                _sl.syslog(facility | priority, line.decode(*_ENC).rstrip("\n"))
    threading.Thread(target=run, daemon=True).start()


def _open_pipe(rt, name: str, body: str, who: str, in_st=None, out_st=None,
               err_given=False) -> int:
    """BODY: the text after '|' ('<cmd', '&cmd', 'cmd', with a 2> spec)."""
    if body.startswith("<"):
        mode, body = "r", body[1:]
    elif body.startswith("&"):
        mode, body = "rw", body[1:]
    else:
        mode = "w"
    spec, cmd = _parse_stderr_spec(body)
    stdin_fd = None
    stdout_fd = None
    stderr_fd = None
    if in_st is not None:
        stdin_fd = in_st._rfd() if in_st.fd is not None and not in_st.dead else None
    if out_st is not None:
        stdout_fd = out_st.fd if out_st.fd is not None and not out_st.dead else None
        if err_given:
            stderr_fd = stdout_fd       # 8.15 gives the command OUT as its stderr too
    t = _table(rt)
    if not t.free_slot():
        raise MFLException("e_failure", f"{who}: no more files available")

    def warn(text):
        try:
            rt.err.write(f"{rt.program.progname}: {text}\n")
        except (AttributeError, OSError, ValueError):
            pass
    proc, wr, rd = _start(cmd, mode, stdin_fd, stdout_fd, stderr_fd, spec, warn)
    if mode == "w":
        st = Stream(name, wr, proc=proc)
    elif mode == "r":
        st = Stream(name, rd, proc=proc)
    else:
        st = Stream(name, rd, proc=proc)
        st.twoway = True
        if wr is not None:
            out = Stream(f"stdin of {name}", wr)
            out.parent = st
            st.out = out
    return _install(rt, st, who)


# ---------------------------------------------------------------- sockets

def _connect(url: str) -> socket.socket:
    scheme, sep, rest = url.partition(":")
    if not sep:
        return _connect_unix(url, url)
    if scheme in ("unix", "local"):
        path = rest[2:] if rest.startswith("//") else rest
        return _connect_unix(path, url)
    if scheme not in ("inet", "inet6"):
        raise MFLException("e_range", f"unsupported protocol: {scheme}")
    fam = socket.AF_INET if scheme == "inet" else socket.AF_INET6
    if rest.startswith("//"):
        hp = rest[2:]
        if hp.startswith("["):
            end = hp.find("]")
            host, port = hp[1:end], hp[end + 1:]
            port = port[1:] if port.startswith(":") else None
        else:
            host, s, port = hp.rpartition(":")
            if not s:
                host, port = hp, None
    else:
        port, s, host = rest.partition("@")
        if not s:
            port, host = rest, ""
        port = port or None
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
    if not port:
        raise MFLException("e_failure", f"invalid connection type: {url}; missing port number")
    if port.isdigit():
        pnum = int(port) & 0xFFFF
    else:
        try:
            pnum = socket.getservbyname(port, "tcp")
        except OSError:
            raise MFLException("e_failure",
                               f"invalid connection type: {url}; unknown port name") from None
    try:
        infos = socket.getaddrinfo(host or None, pnum, fam, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise MFLException("e_failure", f"unknown host name {host}") from None
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.connect(infos[0][4])
    except OSError as e:
        s.close()
        raise MFLException("e_failure", f"cannot connect to {url}: {_strerror(e)}") from None
    return s


def _connect_unix(path: str, url: str) -> socket.socket:
    try:
        st = os.stat(path)
    except OSError as e:
        raise MFLException("e_failure", f"{path}: cannot stat socket: {_strerror(e)}") from None
    if not stat.S_ISSOCK(st.st_mode):
        raise MFLException("e_failure", f"{path}: not a socket")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as e:
        s.close()
        raise MFLException("e_failure", f"cannot connect to {url}: {_strerror(e)}") from None
    return s


# ---------------------------------------------------------------- built-ins

@builtin("number open(string name)", domain=D)
def open_(rt, name):
    """Open a file, pipe ('|cmd', '|<cmd', '|&cmd') or socket ('@url'); returns a descriptor."""
    t = _table(rt)
    if name.startswith("|"):
        return _open_pipe(rt, name, name[1:], "open")
    if name.startswith("@"):
        if not t.free_slot():
            raise MFLException("e_failure", "open: no more files available")
        sock = _connect(name[1:])
        return _install(rt, Stream(name, sock.fileno(), sock=sock), "open")
    if name.startswith(">>"):
        path, flags = name[2:], os.O_RDWR | os.O_CREAT | os.O_APPEND
    elif name.startswith(">"):
        path, flags = name[1:], os.O_RDWR | os.O_CREAT | os.O_TRUNC
    else:
        path, flags = name, os.O_RDONLY
    if not t.free_slot():
        raise MFLException("e_failure", "open: no more files available")
    try:
        fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise MFLException("e_failure", f"can't open {path}: {_strerror(e)}") from None
    except ValueError:              # embedded NUL cannot happen in MFL strings
        raise MFLException("e_failure", f"can't open {path}: Invalid argument") from None
    return _install(rt, Stream(name, fd), "open")


@builtin("number spawn(string cmd; number in, number out, number err)", domain=D)
def spawn(rt, cmd, in_=None, out=None, err=None):
    """Run CMD (an open() pipe spec, the leading '|' optional) with the given descriptors."""
    t = _table(rt)
    in_st = t.get(in_) if in_ is not None else None
    out_st = t.get(out) if out is not None else None
    if err is not None:
        t.get(err)
    body = cmd[1:] if cmd.startswith("|") else cmd
    return _open_pipe(rt, cmd, body, "spawn", in_st, out_st, err is not None)


@builtin("void close(number rd)", domain=D)
def close(rt, rd):
    """Close descriptor RD (waiting for its command, if any)."""
    _table(rt).close(rd)


@builtin("void shutdown(number rd, number how)", domain=D)
def shutdown(rt, rd, how):
    """Shut down reading (0), writing (1) or both (2) on RD."""
    t = _table(rt)
    st = t.get(rd)
    if how not in (0, 1, 2):
        raise MFLException("e_range", "shutdown: invalid file descriptor")
    if st.sock is not None:
        try:
            st.sock.shutdown(how)
        except OSError:
            pass
        return
    if st.twoway:                                       # a |& pipe
        if how == 2:
            t.close(rd)
        elif how == 1:
            out = st.out
            if out is not None:
                if 0 <= st.out_slot < len(t.slots) and t.slots[st.out_slot] is out:
                    t.slots[st.out_slot] = None
                st.out = None
                st.out_slot = -1
                out.parent = None
                out.close()
        else:
            st.rd_shut = True
        return
    t.close(rd)


_TMPCHARS = _string.ascii_letters + _string.digits


@builtin("number tempfile(; string tmpdir)", domain=D)
def tempfile(rt, tmpdir=None):
    """Open a new anonymous temporary file (in TMPDIR, default /tmp) for reading and writing."""
    t = _table(rt)
    d = tmpdir if tmpdir else "/tmp"
    if not t.free_slot():
        raise MFLException("e_failure", "tempfile: no more files available")
    old = os.umask(0o077)
    try:
        for _ in range(100):
            path = f"{d}/mfd" + "".join(random.choice(_TMPCHARS) for _ in range(6))
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                break
            except FileExistsError:
                continue
            except OSError as e:
                raise MFLException("e_failure",
                                   f"tempfile: mkstemp failed: {_strerror(e)}") from None
        else:
            raise MFLException("e_failure", "tempfile: mkstemp failed: File exists")
    finally:
        os.umask(old)
    try:
        os.unlink(path)
    except OSError:
        pass
    return _install(rt, Stream(path, fd), "tempfile")


@builtin("void rewind(number rd)", domain=D)
def rewind(rt, rd):
    """Seek descriptor RD back to its start."""
    st = _table(rt).get(rd)
    try:
        st.rewind()
    except OSError as e:
        raise MFLException("e_io", f"rewind: seek failed: {_strerror(e)}") from None


@builtin("number copy(number dst, number src)", domain=D)
def copy(rt, dst, src):
    """Copy everything from SRC to DST; returns the byte count."""
    t = _table(rt)
    d = t.get(dst)
    s = t.get(src)
    total = 0
    while True:
        try:
            chunk = s.read_chunk()
        except OSError:
            break
        if not chunk:
            break
        total += len(chunk)
        try:
            d.write_bytes(chunk)
        except OSError as e:
            raise MFLException("e_io", f"copy: write error: {_strerror(e)}") from None
    return total


def _write(st: Stream, data: bytes) -> None:
    try:
        st.write_bytes(data)
    except OSError as e:
        raise MFLException("e_io", f"write error on {st.name}: {_strerror(e)}") from None


@builtin("void write(number rd, string str; number size)", domain=D)
def write(rt, rd, s, size=None):
    """Write STR (or its first SIZE bytes) to RD."""
    st = _table(rt).get(rd)
    data = _b(s)
    nul = data.find(b"\0")
    if nul >= 0:
        data = data[:nul]               # a C string ends at its NUL
    if size is not None:
        if size < 0 or size > len(data) + (1 << 20):
            raise MFLException("e_io", f"write error on {st.name}: Bad address")
        data = (data + b"\0" * max(0, size - len(data)))[:size]
    if data:
        _write(st, data)


@builtin("void write_body(number rd, pointer bp, number size)", domain=D, handlers=("body",))
def write_body(rt, rd, bp, size):
    """Write SIZE bytes of the body chunk BP to RD."""
    st = _table(rt).get(rd)
    data = bp if isinstance(bp, (bytes, bytearray)) else _b(str(bp))
    size = int(size)
    if size < 0:
        raise MFLException("e_io", f"write error on {st.name}: Bad address")
    data = bytes(data[:size])
    if data:
        _write(st, data)


def _read_error(st: Stream, e: OSError):
    return MFLException("e_io", f"read error on {st.name}: {_strerror(e)}")


@builtin("string read(number rd, number n)", domain=D)
def read(rt, rd, n):
    """Read N bytes (fewer at end of file) from RD; e_eof when nothing is left."""
    st = _table(rt).get(rd)
    if n < 0:
        raise MFLException("e_io", f"read error on {st.name}: Bad address")
    if n >= _MAX_READ:
        raise RuntimeFault("memory chunk too big to fit into heap")
    try:
        data = st.read_bytes(n) if n else b""
    except OSError as e:
        raise _read_error(st, e) from None
    if not data:
        raise MFLException("e_eof", f"read: EOF on {st.name}")
    return _s(data)


def _getdelim(rt, rd, delim: bytes) -> str:
    st = _table(rt).get(rd)
    try:
        data = st.getdelim(delim)
    except OSError as e:
        raise _read_error(st, e) from None
    if data is None:
        raise MFLException("e_eof", f"EOF on {st.name}")
    return _s(data)


@builtin("string getdelim(number rd, string delim)", domain=D)
def getdelim(rt, rd, delim):
    """Read from RD up to DELIM (removed from the result)."""
    return _getdelim(rt, rd, _b(delim))


@builtin("string getline(number rd)", domain=D)
def getline(rt, rd):
    """Read one line (up to the descriptor's delimiter, removed) from RD."""
    st = _table(rt).get(rd)
    return _getdelim(rt, rd, st.delim)


@builtin("void fd_set_delimiter(number fd, string delim)", domain=D)
def fd_set_delimiter(rt, fd, delim):
    """Set the line delimiter used by getline on FD."""
    _table(rt).get(fd).delim = _b(delim)


@builtin("string fd_delimiter(number fd, string delim)", domain=D)
def fd_delimiter(rt, fd, delim):
    """The line delimiter of FD (the second argument, required by 8.15, is unused)."""
    return _s(_table(rt).get(fd).delim)


@builtin("void setbuf(number fd; number type, number size)", domain=D)
def setbuf(rt, fd, btype=None, size=None):
    """Set buffering type and size of FD (defaults: io_buffering, io_buffer_size)."""
    st = _table(rt).get(fd)
    if btype is None:
        btype = _bvar(rt, "io_buffering", BUFFER_NONE)
    if size is None:
        size = _bvar(rt, "io_buffer_size", _DEFAULT_BUFSIZE)
    _apply_buffering(st, btype, size)


@builtin("number getbuftype(number fd)", domain=D)
def getbuftype(rt, fd):
    """Buffering type of FD."""
    return _table(rt).get(fd).buftype


@builtin("number getbufsize(number fd)", domain=D)
def getbufsize(rt, fd):
    """Buffer size of FD."""
    return _table(rt).get(fd).bufsize


@builtin("number get_output(number fd)", domain=D)
def get_output(rt, fd):
    """The descriptor of the write side of a '|&' pipe FD; -1 for other streams."""
    st = _table(rt).get(fd)
    return st.out_slot if (st.out is not None or st.dangling) and st.out_slot >= 0 else -1


# ---------------------------------------------------------------- filters
#
# Mailutils filter chains ("crlf | base64", "decode(base64)", "linelen(62)"),
# applied to whole buffers.  Each filter is (encoder, decoder), either None
# when the filter does not work in that mode ("Empty virtual function").
# Behaviour measured through mailfromd 8.15 (filter_fd): see the comments.

class _FilterInitError(Exception):
    """A filter cannot be created: the Mailutils error text."""


class _FilterRunError(Exception):
    """A filter failed while running: the Mailutils error text."""


_ENOENT_TEXT = "Requested item not found"
_ENOSYS_TEXT = "Empty virtual function"
_PARSE_TEXT = "Parse error"
_EINVAL_TEXT = "Invalid argument"
_FAILURE_TEXT = "Operation failed"


def _f_identity(data, args):
    return data


def _f_7bit(data, args):
    return bytes(c & 0x7F for c in data)


_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_INDEX = {c: i for i, c in enumerate(_B64)}


def _base64_enc(data, linelen):
    import base64
    enc = base64.b64encode(data)
    if not linelen:
        return enc
    out = bytearray()
    for i in range(0, len(enc), linelen):
        chunk = enc[i:i + linelen]
        out += chunk
        if len(chunk) == linelen:
            out += b"\n"            # a full line always ends in a newline
    return bytes(out)


def _f_base64_dec(data, args):
    # Mailutils' decoder, measured: groups of four alphabet characters, '='
    # counting as a zero; other characters are skipped; every group appends
    # three bytes but the length grows by 3 minus the padding seen so far
    # (never reset), so the result is a prefix of them; an incomplete final group
    # is dropped; more than three '=' in all: "invalid base64 input".
    buf = bytearray()
    nbytes = 0
    pad = 0
    quad = []
    for c in data:
        q = _B64_INDEX.get(c)
        if q is None:
            if c != 0x3D:
                continue
            q = 0
            pad += 1
        quad.append(q)
        if len(quad) == 4:
            v = (quad[0] << 18) | (quad[1] << 12) | (quad[2] << 6) | quad[3]
            buf += v.to_bytes(3, "big")
            quad = []
            if pad > 3:
                raise _FilterRunError("invalid base64 input")
            nbytes += 3 - pad
    return bytes(buf[:nbytes])


def _f_crlf_enc(data, args):
    norm = "-n" in args
    out = bytearray()
    prev = None
    for c in data:
        if c == 10 and not (norm and prev == 13):
            out += b"\r\n"
        else:
            out.append(c)
        prev = c
    return bytes(out)


def _f_crlf_dec(data, args):
    out = data.replace(b"\r\n", b"\n")
    if out.endswith(b"\r") and not data.endswith(b"\r\n"):
        out = out[:-1]                  # a CR at the very end waits for a LF forever
    return out


def _dot_enc(data, eol: bytes, norm: bool):
    out = bytearray()
    bol = True
    prev = None
    for c in data:
        if bol and c == 0x2E:
            out += b"."
        if c == 10:
            out += b"\n" if (eol == b"\n" or (norm and prev == 13)) else eol
            bol = True
        else:
            out.append(c)
            bol = False
        prev = c
    if out and not out.endswith(b"\n"):
        out += eol
    out += b"." + eol
    return bytes(out)


def _dot_dec(data, crlf: bool):
    """dot (crlf=False) and crlfdot decoders: a leading dot is removed, a line
    holding a single dot ends the data; state left pending at the end of the
    input (a CR, a dot) produces nothing."""
    if not crlf:
        out = bytearray()
        i = 0
        n = len(data)
        while i < n:
            if data[i] == 0x2E:
                if data[i + 1:i + 2] == b"\n" or i + 1 >= n:
                    break
                i += 1
            j = data.find(b"\n", i)
            out += data[i:] if j < 0 else data[i:j + 1]
            if j < 0:
                break
            i = j + 1
        return bytes(out)
    BOL, MID, CR, DOT, DOT_CR, DOT_NL = range(6)
    out = bytearray()
    state = BOL
    for c in data:
        if state == DOT_NL:
            out += b"\n"
            state = BOL
        if state == DOT_CR:
            if c == 10:
                return bytes(out)
            out += b".\r"
            state = MID
        elif state == DOT:
            if c == 0x2E:
                out.append(c)
                state = MID
                continue
            if c == 13:
                state = DOT_CR
                continue
            if c == 10:
                state = DOT_NL
                continue
            state = MID
        elif state == BOL:
            if c == 0x2E:
                state = DOT
                continue
            state = MID
        elif state == CR:
            if c == 10:
                out += b"\n"
                state = BOL
                continue
            out += b"\r"
            state = MID
        # MID
        if c == 13:
            state = CR
            continue
        out.append(c)
        state = BOL if c == 10 else MID
    return bytes(out)


def _split_nl(data):
    out = []
    i = 0
    while i < len(data):
        j = data.find(b"\n", i)
        if j < 0:
            out.append(data[i:])
            break
        out.append(data[i:j + 1])
        i = j + 1
    return out


def _f_from_enc(data, args):
    out = bytearray()
    for line in _split_nl(data):
        if not line.endswith(b"\n") and line and b"From "[:len(line)] == line \
                and len(line) < 5:
            raise _FilterRunError(_FAILURE_TEXT)
        if line.startswith(b"From "):
            out += b">"
        out += line
    return bytes(out)


def _gt_from(line: bytes) -> int:
    """Number of '>' before 'From ' at the start of LINE, or -1."""
    k = 0
    while k < len(line) and line[k] == 0x3E:
        k += 1
    return k if line[k:k + 5] == b"From " else -1


def _partial_gt_from(line: bytes) -> bool:
    """LINE (without newline) could still become '>*From '."""
    k = 0
    while k < len(line) and line[k] == 0x3E:
        k += 1
    rest = line[k:]
    return len(rest) < 5 and b"From "[:len(rest)] == rest


def _f_from_dec(data, args):
    out = bytearray()
    for line in _split_nl(data):
        if not line.endswith(b"\n") and line.startswith(b">") and _partial_gt_from(line):
            raise _FilterRunError(_FAILURE_TEXT)
        if _gt_from(line) > 0:
            line = line[1:]
        out += line
    return bytes(out)


def _f_fromrd_enc(data, args):
    out = bytearray()
    for line in _split_nl(data):
        if not line.endswith(b"\n") and _partial_gt_from(line):
            break                       # 8.15 drops such a last line
        if _gt_from(line) >= 0:
            out += b">"
        out += line
    return bytes(out)


def _f_fromrd_dec(data, args):
    out = bytearray()
    for line in _split_nl(data):
        if not line.endswith(b"\n") and _partial_gt_from(line) and line.startswith(b">"):
            break
        if _gt_from(line) > 0:
            line = line[1:]
        out += line
    return bytes(out)


def _f_header_dec(data, args):
    i = data.find(b"\n\n")
    return data if i < 0 else data[:i + 1]


_WS = b" \t\n\r\v\f"


def _inline_comment_args(args):
    comment = b";"
    rest = list(args)
    if rest and not rest[0].startswith("-"):
        comment = _b(rest.pop(0))
    opts = {"info": None, "r": False, "S": False}
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "-i" and i + 1 < len(rest):
            opts["info"] = _b(rest[i + 1])
            i += 2
            continue
        if a == "-r":
            opts["r"] = True
        elif a == "-S":
            opts["S"] = True
        i += 1
    return comment, opts


def _f_inline_enc(data, args):
    comment, opts = _inline_comment_args(args)
    prefix = comment + (b" " if opts["S"] else b"")
    return b"".join(prefix + line for line in _split_nl(data))


def _f_inline_dec(data, args):
    # a removed comment line leaves line information pending (-i): it is
    # written at the start of the next line, which is then copied as is
    # (even if -r would remove it)
    comment, opts = _inline_comment_args(args)
    out = bytearray()
    pending = False
    for lineno, line in enumerate(_split_nl(data), 1):
        if line.startswith(comment):
            after = line[len(comment):len(comment) + 1]
            if not opts["S"] or after == b"" or after in _WS:
                pending = True
                continue
        if pending and opts["info"] is not None:
            out += opts["info"] + b" " + str(lineno).encode() + b"\n"
            out += line
            pending = False
            continue
        pending = False
        if opts["r"] and line.strip(_WS) == b"":
            continue
        out += line
    return bytes(out)


def _f_linecon_dec(data, args):
    info = None
    if len(args) >= 2 and args[0] == "-i":
        info = _b(args[1])
    out = bytearray()
    lineno = 1
    joined = False
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x5C and i + 1 < n and data[i + 1] == 10:
            lineno += 1
            joined = True
            i += 2
            continue
        if c == 0x5C and i + 1 == n:
            break
        out.append(c)
        if c == 10:
            lineno += 1
            if joined and info is not None:
                out += info + b" " + str(lineno).encode() + b"\n"
            joined = False
        i += 1
    return bytes(out)


def _linelen_n(args):
    if not args:
        return 76
    import re
    m = re.fullmatch(r"\s*([+-]?)(\d+)", args[0])
    if not m:
        raise _FilterInitError(_PARSE_TEXT)
    v = int(m.group(2))
    if m.group(1) == "-" or v > 0xFFFFFFFFFFFFFFFF:
        return 0
    return v


def _f_linelen_enc(data, args):
    n = _linelen_n(args)
    if n <= 0:
        return data
    out = bytearray()
    col = 0
    for c in data:
        out.append(c)
        if c == 10:
            col = 0
            continue
        col += 1
        if col == n:
            out += b"\n"
            col = 0
    return bytes(out)


def _qp_enc(data, q: bool):
    out = bytearray()
    for c in data:
        if q and c == 0x20:
            out += b"_"
        elif q and c in (0x5F, 0x3F):
            out += b"=%02X" % c
        elif c == 0x3D or c == 13 or c >= 0x7F or (c < 0x20 and c not in (9, 10)):
            out += b"=%02X" % c
        else:
            out.append(c)
    return bytes(out)


_HEX = b"0123456789abcdefABCDEF"


def _qp_dec(data, q: bool):
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x3D:
            if data[i + 1:i + 2] == b"\n":
                i += 2
                continue
            if data[i + 1:i + 3] == b"\r\n":
                i += 3
                continue
            h = data[i + 1:i + 3]
            if len(h) == 2 and h[0] in _HEX and h[1] in _HEX:
                out.append(int(h, 16))
                i += 3
                continue
            break                       # a bad escape ends the data
        out.append(0x20 if q and c == 0x5F else c)
        i += 1
    return bytes(out)


def _xml_char_ok(cp: int) -> bool:
    # the ranges Mailutils lets through (its upper bounds are exclusive)
    return (cp in (9, 10, 13) or 0x20 <= cp < 0xD7FF or 0xE000 <= cp < 0xFFFD
            or 0x10000 <= cp < 0x10FFFF)


def _utf8_seq(data: bytes, i: int):
    """(code point or None, length) of the UTF-8 sequence at I; None with the
    length of the valid prefix when it is malformed; (-1, n) when the input
    ends inside the sequence."""
    c = data[i]
    if c < 0x80:
        return c, 1
    if 0xC0 <= c < 0xE0:
        need, cp, least = 1, c & 0x1F, 0x80
    elif 0xE0 <= c < 0xF0:
        need, cp, least = 2, c & 0x0F, 0x800
    elif 0xF0 <= c < 0xF8:
        need, cp, least = 3, c & 0x07, 0x10000
    else:
        return None, 1
    k = 1
    while k <= need:
        if i + k >= len(data):
            return -1, k
        d = data[i + k]
        if d & 0xC0 != 0x80:
            return None, k
        cp = (cp << 6) | (d & 0x3F)
        k += 1
    if cp < least:
        return None, k
    return cp, k


def _xml_enc(data, numeric: bool):
    out = bytearray()
    if not numeric:
        # htmlent: a last character that needs an entity is lost (8.15)
        if data and data[-1] in b"<>&":
            data = data[:-1]
        for c in data:
            out += {0x3C: b"&lt;", 0x3E: b"&gt;", 0x26: b"&amp;"}.get(c, bytes((c,)))
        return bytes(out)
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x3C:
            out += b"&lt;"
            i += 1
            continue
        if c == 0x3E:
            out += b"&gt;"
            i += 1
            continue
        if c == 0x26:
            out += b"&amp;"
            i += 1
            continue
        cp, k = _utf8_seq(data, i)
        if cp == -1:
            out += data[i:]             # incomplete at the end: copied as is
            break
        if cp is None:
            for b in data[i:i + k]:
                out += b"&#x%x;" % b
        elif _xml_char_ok(cp):
            out += data[i:i + k]
        else:
            out += b"&#x%x;" % cp
        i += k
    return bytes(out)


_ENTITY_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#")


def _xml_dec(data, numeric: bool):
    # '&' starts an entity of letters, digits and '#'; it ends at ';' (then
    # &lt; &gt; &amp; and, for xml, &#N; &#xH; are replaced, others kept),
    # at another character (kept as is) or at the end of the input (dropped);
    # an empty number (&#; &#x;) ends the data
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c != 0x26:
            out.append(c)
            i += 1
            continue
        j = i + 1
        while j < n and data[j] in _ENTITY_CHARS:
            j += 1
        if j >= n:
            break
        if data[j] != 0x3B:
            out += data[i:j]
            i = j
            continue
        name = data[i + 1:j]
        i = j + 1
        rep = {b"lt": b"<", b"gt": b">", b"amp": b"&"}.get(name)
        if rep is not None:
            out += rep
            continue
        if numeric and name.startswith(b"#"):
            body = name[1:]
            if body.startswith(b"x"):
                digits, base = body[1:], 16
            else:
                digits, base = body, 10
            if not digits:
                break
            try:
                v = int(digits, base)
            except ValueError:
                v = None
            if v is not None and v <= 0xFFFFFFFF and digits.isalnum():
                out.append(v & 0xFF)
                continue
        out += b"&" + name + b";"
    return bytes(out)


_C_ESC = {7: b"a", 8: b"b", 12: b"f", 10: b"n", 13: b"r", 9: b"t", 11: b"v"}
_C_UNESC = {ord(v): k for k, v in _C_ESC.items()}


def _f_cescape_enc(data, args):
    out = bytearray()
    for c in data:
        e = _C_ESC.get(c)
        if e is not None:
            out += b"\\" + e
        elif c < 0x20 or c == 0x7F:
            out += b"\\\0"              # 8.15 writes a NUL after the backslash
        else:
            out.append(c)
    return bytes(out)


def _f_cescape_dec(data, args):
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            break
        d = data[i + 1]
        if d in _C_UNESC:
            out.append(_C_UNESC[d])
        elif d in (0x5C, 0x22):
            out.append(d)
        else:
            break
        i += 2
    return bytes(out)


def _f_dq_enc(data, args):
    return data.replace(b"\\", b"\\\\").replace(b'"', b'\\"')


def _f_dq_dec(data, args):
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x5C:
            if i + 1 >= n:
                break
            out.append(data[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def _iconv_check(args):
    import codecs
    if len(args) < 2 or len(args) > 3:
        raise _FilterInitError(_EINVAL_TEXT)
    if len(args) == 3 and args[2] not in ("none", "copy-pass", "copy-octal"):
        raise _FilterInitError(_EINVAL_TEXT)
    try:
        codecs.lookup(args[0])
        codecs.lookup(args[1])
    except LookupError:
        raise _FilterInitError(_FAILURE_TEXT) from None


def _f_iconv(data, args):
    import codecs
    src, dst = args[0], args[1]
    fallback = args[2] if len(args) > 2 else "copy-octal"
    enc = codecs.getincrementalencoder(dst)()
    try:
        text = data.decode(src, "surrogateescape")
    except UnicodeError:
        text = data.decode("latin-1")
        src = "latin-1"
    out = bytearray()

    def bad(raw: bytes):
        if fallback == "none":
            raise _FilterRunError(os.strerror(errno.EILSEQ))
        if fallback == "copy-pass":
            out.extend(raw)
        else:
            for b in raw:
                out.extend(b"\\%03o" % b)
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            bad(bytes([o - 0xDC00]))
            continue
        try:
            out += enc.encode(ch)
        except UnicodeEncodeError:
            bad(ch.encode(src, "surrogateescape"))
    out += enc.encode("", final=True)
    return bytes(out)


# name (lower case) -> (encoder, decoder, argument check or None)
_FILTERS = {
    "7bit": (_f_7bit, _f_identity, None),
    "8bit": (_f_identity, _f_identity, None),
    "binary": (_f_identity, _f_identity, None),
    "base64": (lambda d, a: _base64_enc(d, 76), _f_base64_dec, None),
    "b": (lambda d, a: _base64_enc(d, 0), _f_base64_dec, None),
    "crlf": (_f_crlf_enc, _f_crlf_dec, None),
    "rfc822": (_f_crlf_enc, _f_crlf_dec, None),
    "crlfdot": (lambda d, a: _dot_enc(d, b"\r\n", "-n" in a),
                lambda d, a: _dot_dec(d, True), None),
    "dot": (lambda d, a: _dot_enc(d, b"\n", False), lambda d, a: _dot_dec(d, False), None),
    "from": (_f_from_enc, _f_from_dec, None),
    "fromrd": (_f_fromrd_enc, _f_fromrd_dec, None),
    "header": (None, _f_header_dec, None),
    "inline-comment": (_f_inline_enc, _f_inline_dec, None),
    "linecon": (None, _f_linecon_dec, None),
    "linelen": (_f_linelen_enc, None, _linelen_n),
    "quoted-printable": (lambda d, a: _qp_enc(d, False), lambda d, a: _qp_dec(d, False), None),
    "q": (lambda d, a: _qp_enc(d, True), lambda d, a: _qp_dec(d, True), None),
    "xml": (lambda d, a: _xml_enc(d, True), lambda d, a: _xml_dec(d, True), None),
    "htmlent": (lambda d, a: _xml_enc(d, False), lambda d, a: _xml_dec(d, False), None),
    "c-escape": (_f_cescape_enc, _f_cescape_dec, None),
    "dq": (_f_dq_enc, _f_dq_dec, None),
    "iconv": (_f_iconv, _f_iconv, _iconv_check),
}


class _ChainSyntax(Exception):
    def __init__(self, text, near):
        super().__init__(text)
        self.text, self.near = text, near


def _chain_tokens(text: str):
    """Tokens (kind, value, start, end): kind is 'word', '|', '(', ')', ',' or 'eof'."""
    toks = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in " \t\n\r\f\v":
            i += 1
        if i >= n:
            toks.append(("eof", "", n, n))
            return toks
        c = text[i]
        if c in "|(),":
            toks.append((c, c, i, i + 1))
            i += 1
            continue
        start = i
        buf = []
        while i < n and text[i] not in " \t\n\r\f\v|(),":
            c = text[i]
            if c in "'\"":
                j = text.find(c, i + 1)
                if j < 0:
                    j = n
                buf.append(text[i + 1:j])
                i = j + 1
                continue
            if c == "\\" and i + 1 < n:
                buf.append(text[i + 1])
                i += 2
                continue
            buf.append(c)
            i += 1
        toks.append(("word", "".join(buf), start, i))


def _parse_chain(text: str):
    """[(name, args, decode?, start)] of the chain; errors as (message, near)."""
    toks = _chain_tokens(text)
    pos = 0
    stages = []

    def peek():
        return toks[pos]

    def near(start, tok):
        return text[start:max(start, tok[3] - 1)]

    def pipeline(decode, group_start):
        nonlocal pos
        while True:
            tok = peek()
            if tok[0] != "word":
                if tok[0] == "eof" and group_start is not None:
                    raise _ChainSyntax("unexpected end of input in pipe group",
                                       near(group_start, tok))
                shown = tok[1]
                raise _ChainSyntax(f'expected filter name, but found "{shown}"',
                                   near(tok[2], tok))
            name, start = tok[1], tok[2]
            pos += 1
            if name in ("encode", "decode") and peek()[0] == "(":
                gstart = peek()[2]
                pos += 1
                pipeline(name == "decode", gstart)
                tok = peek()
                if tok[0] != ")":
                    if tok[0] == "eof":
                        raise _ChainSyntax("unexpected end of input in pipe group",
                                           near(gstart, tok))
                    raise _ChainSyntax(f'expected ")", but found "{tok[1]}"', near(tok[2], tok))
                pos += 1
            else:
                args = []
                if peek()[0] == "(":
                    pos += 1
                    if peek()[0] == ")":
                        pos += 1
                    else:
                        while True:
                            tok = peek()
                            if tok[0] == "eof":
                                raise _ChainSyntax("unexpected end of input in argument list",
                                                   near(tok[2], tok))
                            if tok[0] != "word":
                                raise _ChainSyntax(f'expected argument, but found "{tok[1]}"',
                                                   near(tok[2], tok))
                            args.append(tok[1])
                            pos += 1
                            tok = peek()
                            if tok[0] == ",":
                                pos += 1
                                continue
                            if tok[0] == ")":
                                pos += 1
                                break
                            if tok[0] == "eof":
                                raise _ChainSyntax("unexpected end of input in argument list",
                                                   near(tok[2], tok))
                            raise _ChainSyntax(f'expected "," or ")", but found "{tok[1]}"',
                                               near(tok[2], tok))
                stages.append(_make_filter(name, args, decode, near(start, peek())))
            tok = peek()
            if tok[0] == "|":
                pos += 1
                continue
            if tok[0] == "eof" or (tok[0] == ")" and group_start is not None):
                return
            raise _ChainSyntax(f'expected pipe or end of input, but found "{tok[1]}"',
                               near(tok[2], tok))

    pipeline(False, None)
    return stages


def _make_filter(name, args, decode, near):
    spec = _FILTERS.get(name.lower())
    if spec is None:
        raise _ChainSyntax(f"failed to create filter {name}: {_ENOENT_TEXT}", near)
    enc, dec, check = spec
    fn = dec if decode else enc
    try:
        if fn is None:
            raise _FilterInitError(_ENOSYS_TEXT)
        if check is not None:
            check(args)
    except _FilterInitError as e:
        raise _ChainSyntax(f"failed to create filter {name}: {e}", near) from None
    return fn, args


def _chain(who: str, text: str):
    try:
        return _parse_chain(text)
    except _ChainSyntax as e:
        raise MFLException("e_failure", f"{who}: {e.text}, near {e.near}") from None


def _run_chain(stages, data: bytes) -> bytes:
    for fn, args in stages:
        data = fn(data, args)
    return data


@builtin("string filter_string(string input, string filter_pipe)", domain=D)
def filter_string(rt, input_, filter_pipe):
    """Pass INPUT through the Mailutils filter chain FILTER_PIPE."""
    stages = _chain("filter_string", filter_pipe)
    try:
        return _s(_run_chain(stages, _b(input_)))
    except _FilterRunError as e:
        raise MFLException("e_failure", f"filter_string: mu_stream_read: {e}") from None


@builtin("void filter_fd(number src_fd, number dst_fd, string filter_pipe)", domain=D)
def filter_fd(rt, src_fd, dst_fd, filter_pipe):
    """Copy SRC_FD to DST_FD through the filter chain FILTER_PIPE (SRC's descriptor is
    closed afterwards, as in mailfromd 8.15)."""
    t = _table(rt)
    src = t.get(src_fd)
    dst = t.get(dst_fd)
    try:
        stages = _chain("filter_fd", filter_pipe)
        data = bytearray()
        while True:
            try:
                chunk = src.read_chunk()
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        try:
            out = _run_chain(stages, bytes(data))
        except _FilterRunError as e:
            raise MFLException("e_failure", f"filter_fd: mu_stream_copy: {e}") from None
        try:
            if out:
                dst.write_bytes(out)
        except OSError:
            pass
    finally:
        _kill_fd(src)


def _kill_fd(st: Stream) -> None:
    """Close ST's OS descriptor, leaving the slot (later use: EBADF)."""
    if st.fd is not None and not st.dead:
        if st.sock is not None:
            try:
                st.sock.close()
            except OSError:
                pass
        else:
            try:
                os.close(st.fd)
            except OSError:
                pass
        st.dead = True
    st.rbuf = b""


variable("number io_buffering", domain=D, default=0,
         doc="Default buffering type for new descriptors (0: none, 1: full, 2: line).")
variable("number io_buffer_size", domain=D, default=_DEFAULT_BUFSIZE,
         doc="Default buffer size for new descriptors (the page size).")
