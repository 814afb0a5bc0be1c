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

from ..runtime.errors import MFLException
from .registry import builtin, planned, variable

D = "io"

MAX_STREAMS = 1024
BUFFER_NONE, BUFFER_FULL, BUFFER_LINE = 0, 1, 2
_DEFAULT_BUFSIZE = 4096
_MAX_BUFSIZE = 1 << 36           # malloc fails beyond this on the reference machine
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
            chunk = self.raw_read(want)
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
                chunk = self.raw_read(n - len(out))
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
        if self.rbuf and not self.twoway:
            # give back read-ahead so that the write lands at the logical offset
            try:
                os.lseek(fd, -len(self.rbuf), os.SEEK_CUR)
            except OSError:
                pass
            self.rbuf = b""
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
            st.parent.out = None
            st.parent.out_slot = -1
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
    """Split an optional '2>...' redirection off CMD: (spec, rest)."""
    if not cmd.startswith("2>"):
        return None, cmd
    rest = cmd[2:]
    if rest.startswith("null:"):
        return ("append", "/dev/null"), rest[5:]
    append = False
    if rest.startswith(">"):
        append = True
        rest = rest[1:]
    if rest.startswith("file:"):
        rest = rest[5:]
        i = 0
        while i < len(rest) and not rest[i].isspace():
            i += 1
        return ("append" if append else "trunc", rest[:i]), rest[i:]
    if rest.startswith("syslog:"):
        rest = rest[7:]
        i = 0
        while i < len(rest) and not rest[i].isspace():
            i += 1
        return ("syslog", rest[:i]), rest[i:]
    return None, cmd


def _argv(cmd: str) -> list[str] | None:
    sh = os.environ.get("SHELL")
    if sh:
        return [sh, "-c", cmd]
    try:
        words = shlex.split(cmd)
    except ValueError:
        return None
    return words or None


def _stderr_target(spec):
    """An OS descriptor for the child's stderr (caller closes it), or None (closed)."""
    if spec is None:
        return None
    kind, arg = spec
    if kind == "syslog":
        return ("syslog", arg)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if kind == "append" else os.O_TRUNC)
    try:
        return os.open(arg, flags, 0o644)
    except OSError:
        return None


def _start(cmd: str, mode: str, stdin_fd=None, stdout_fd=None, stderr_fd=None,
           err_spec=None):
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
    if err_target is None and err_spec is not None:
        t = _stderr_target(err_spec)
        if isinstance(t, tuple):
            syslog_spec = t[1]
        elif t is not None:
            err_target, close_err = t, True
    argv = _argv(cmd)
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


def _syslog_pump(pipe, spec: str) -> None:
    import syslog as _sl
    import threading
    fac, _, pri = spec.partition(".")
    facility = getattr(_sl, "LOG_" + fac.upper(), _sl.LOG_USER)
    priority = getattr(_sl, "LOG_" + (pri or "err").upper(), _sl.LOG_ERR)

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
    proc, wr, rd = _start(cmd, mode, stdin_fd, stdout_fd, stderr_fd, spec)
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
            if st.out is not None:
                if 0 <= st.out_slot < len(t.slots) and t.slots[st.out_slot] is st.out:
                    t.close(st.out_slot)
                else:
                    st.out.close()
                    st.out = None
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
    return st.out_slot if st.out is not None and st.out_slot >= 0 else -1


planned("string filter_string(string input, string filter_pipe)", domain=D,
        doc="Pass INPUT through the Mailutils filter chain FILTER_PIPE.")
planned("void filter_fd(number src_fd, number dst_fd, string filter_pipe)", domain=D,
        doc="Copy SRC_FD to DST_FD through the filter chain FILTER_PIPE.")

variable("number io_buffering", domain=D, default=0,
         doc="Default buffering type for new descriptors (0: none, 1: full, 2: line).")
variable("number io_buffer_size", domain=D, default=_DEFAULT_BUFSIZE,
         doc="Default buffer size for new descriptors (the page size).")
