"""The daemon around the milter: processes, signals, privileges, pid file.

Pre-fork model (the default): the master binds the socket, drops privileges,
runs ``startup`` once and forks N workers that share the listening socket;
each worker runs libmilter's accept loop (one thread per MTA connection) on
the compiled program it inherited.  The master only supervises:

* SIGHUP -- compile and check the script again; if it has errors, log them
  and keep serving the old one; otherwise start workers on the new program,
  then tell the old ones to stop accepting and finish their connections;
* SIGTERM / SIGINT -- every worker stops accepting and drains; ``shutdown``
  runs; the pid file and the UNIX socket are removed;
* a worker that dies is replaced.

``--single-process``: no workers; the same process serves, and SIGHUP swaps
the program in place (each connection keeps the program it started with).
"""
from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

from . import adapter

log = logging.getLogger("mfld")


@dataclass
class Settings:
    socket: str
    workers: int = 0                      # 0: one per CPU
    single_process: bool = False
    foreground: bool = False
    user: str | None = None
    groups: list = field(default_factory=list)
    pidfile: str | None = None
    milter_timeout: int = 600
    max_connections: int = 0              # in all; 0: no limit
    drain_timeout: float = 60.0
    trace: bool = False
    echo: object = None                   # --echo: the stream `echo' writes to


class Daemon:
    def __init__(self, settings: Settings, program, reload_program):
        """RELOAD_PROGRAM() compiles the script again: a Program, or None
        (the errors already logged)."""
        self.s = settings
        self.program = program
        self.reload_program = reload_program
        self.workers: dict[int, int] = {}      # pid -> generation
        self.pipes: dict[int, int] = {}        # pid -> read end: "stopped accepting"
        self.generation = 0
        self.pending: list = []                # signals received, in order
        self.deaths: list = []
        self.nworkers = settings.workers or max(1, os.cpu_count() or 1)
        self.ident = None                      # whom the workers run as

    def _startup(self, program) -> None:
        from .privs import acting_as
        with acting_as(self.ident):
            run_startup(program)

    # -- start --------------------------------------------------------------
    def start(self) -> int:
        from . import privs
        s = self.s
        per = 0
        if s.max_connections:
            per = s.max_connections if s.single_process else \
                max(1, -(-s.max_connections // self.nworkers))
        adapter.configure(self.program, max_connections=per, trace=s.trace, echo=s.echo)
        busy = _in_use(adapter.normalize_socket(s.socket), s.pidfile)
        if busy:
            log.error("%s", busy)
            return 69                                   # EX_UNAVAILABLE
        try:
            adapter.open_socket(s.socket, timeout=s.milter_timeout,
                                backlog=max(4096, s.max_connections))
        except Exception as e:
            log.error("cannot open milter socket %s: %s", s.socket, e)
            return 71                                   # EX_OSERR
        if not s.foreground:
            _daemonize()
        if s.pidfile:
            _write_pidfile(s.pidfile)
        try:
            self.ident = privs.resolve(s.user, s.groups)
            privs.give_socket(self.ident, adapter.normalize_socket(s.socket))
            if s.single_process:
                privs.switch(self.ident)
                self.ident = None
        except privs.PrivilegeError as e:
            log.error("%s", e)
            self._cleanup()
            return 67 if "no such user" in str(e) else 77    # EX_NOUSER / EX_NOPERM
        if self.ident:
            preload()
            log.info("workers run as user %s", self.ident.name)
        self._startup(self.program)
        log.info("serving %s on %s (%s)", self.program.file, s.socket,
                 "single process" if s.single_process else f"{self.nworkers} workers")
        try:
            if s.single_process:
                return self._serve_here()
            return self._supervise()
        finally:
            from .privs import acting_as
            with acting_as(self.ident):
                run_shutdown(self.program)
            self._cleanup()
            log.info("stopped")

    def _cleanup(self) -> None:
        if self.s.pidfile:
            try:
                os.unlink(self.s.pidfile)
            except OSError:
                pass
        url = adapter.normalize_socket(self.s.socket)
        if url.startswith("unix:"):
            try:
                os.unlink(url[5:])
            except OSError:
                pass

    # -- single process -------------------------------------------------------
    def _serve_here(self) -> int:
        stop = threading.Event()
        hup = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGHUP, lambda *_: hup.set())
        baseline = frozenset(_sockets())
        t = threading.Thread(target=_run_milter, name="milter", daemon=True)
        t.start()
        while not stop.is_set() and t.is_alive():
            stop.wait(0.5)
            if hup.is_set():
                hup.clear()
                new = self._load_new()
                if new is not None:
                    self._startup(new)
                    adapter.configure(new, max_connections=adapter._MflMilter.gate.limit,
                                      trace=self.s.trace)
                    self.program = new
                    log.info("reloaded %s", new.file)
        return _drain(t, self.s.drain_timeout, baseline)

    # -- pre-fork -----------------------------------------------------------------
    def _supervise(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, self._note)
        self._spawn_all()
        while True:
            self._reap()
            while self.pending:
                sig = self.pending.pop(0)
                if sig in (signal.SIGTERM, signal.SIGINT):
                    return self._stop_all()
                if sig == signal.SIGHUP:
                    self._reload()
            self._respawn()
            if not self.pending:
                time.sleep(0.2)

    def _note(self, signum, _frame):
        if signum != signal.SIGCHLD:
            self.pending.append(signum)

    def _spawn_all(self) -> None:
        for _ in range(self.nworkers):
            self._spawn()

    def _spawn(self) -> None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                os.close(r)
                for fd in self.pipes.values():
                    os.close(fd)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
                    signal.signal(sig, signal.SIG_DFL)
                from .privs import switch
                switch(self.ident)
                code = worker_main(self.s, w)
            except BaseException as e:              # never back into the master's loop
                log.error("worker failed: %s", e)
            finally:
                logging.shutdown()
                os._exit(code)
        os.close(w)
        self.workers[pid] = self.generation
        self.pipes[pid] = r

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            gen = self.workers.pop(pid, None)
            fd = self.pipes.pop(pid, None)
            if fd is not None:
                os.close(fd)
            if gen == self.generation and (os.WIFSIGNALED(status) or os.WEXITSTATUS(status)):
                log.error("worker %d exited unexpectedly (%s)", pid, _status(status))
                self.deaths.append(time.monotonic())

    def _respawn(self) -> None:
        current = sum(1 for g in self.workers.values() if g == self.generation)
        if current >= self.nworkers:
            return
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < 10]
        if len(self.deaths) > 2 * self.nworkers:
            return                                   # crashing in a loop: slow down
        for _ in range(self.nworkers - current):
            self._spawn()

    def _reload(self) -> None:
        new = self._load_new()
        if new is None:
            return
        self._startup(new)
        old = [pid for pid, g in self.workers.items() if g == self.generation]
        self.program = new
        self.generation += 1
        adapter.configure(new, max_connections=adapter._MflMilter.gate.limit,
                          trace=self.s.trace)
        self._spawn_all()
        for pid in old:
            _kill(pid, signal.SIGTERM)
        _wait_not_accepting([self.pipes.get(pid) for pid in old], timeout=5)
        log.info("reloaded %s", new.file)

    def _load_new(self):
        log.info("SIGHUP: reloading %s", self.program.file)
        try:
            new = self.reload_program()
        except Exception as e:                      # never let a reload stop the service
            log.error("reload failed: %s", e)
            new = None
        if new is None:
            log.error("the new script has errors; still serving the old one")
        return new

    def _stop_all(self) -> int:
        log.info("stopping: draining %d workers", len(self.workers))
        for pid in list(self.workers):
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.s.drain_timeout + 10
        while self.workers and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        for pid in list(self.workers):
            log.error("worker %d did not stop in time: killed", pid)
            _kill(pid, signal.SIGKILL)
        self._reap()
        return 0


def worker_main(s: Settings, tell_fd: int | None = None) -> int:
    """A worker: serve on the shared socket until SIGTERM or the master is gone."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _die_with_parent()
    master = os.getppid()
    log.info("worker %d started", os.getpid())
    baseline = frozenset(_sockets())
    t = threading.Thread(target=_run_milter, name="milter", daemon=True)
    t.start()
    while not stop.is_set() and t.is_alive():
        stop.wait(1.0)
        if os.getppid() != master:
            break
    return _drain(t, s.drain_timeout, baseline, tell_fd)


def _run_milter() -> None:
    try:
        adapter.run()
    except Exception as e:
        log.error("milter loop ended: %s", e)


def _drain(_t: threading.Thread, timeout: float, baseline=frozenset(),
           tell_fd: int | None = None) -> int:
    """Stop accepting, then wait until every connection this process took is
    over.  A connection libmilter has accepted but not yet handed to us is
    seen as an open socket descriptor that was not there at start."""
    adapter.request_stop()
    baseline = frozenset(baseline) | adapter.own_sockets()
    if tell_fd is not None:
        try:
            os.write(tell_fd, b"s")
        except OSError:
            pass
    log.info("worker %d: no new connections", os.getpid())
    busy = adapter.active_connections()
    if busy:
        log.info("waiting for %d connection(s) to finish", busy)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if adapter.active_connections() == 0 and not (_sockets() - baseline):
            time.sleep(0.05)
            if adapter.active_connections() == 0 and not (_sockets() - baseline):
                return 0
        time.sleep(0.05)
    log.error("%d connection(s) still open after %g s: closing",
              adapter.active_connections(), timeout)
    return 0


def _sockets() -> set:
    """The socket inodes this process has open."""
    try:
        return set(adapter.socket_fds().values())
    except OSError:
        return set()


def preload() -> None:
    """Import now what would otherwise be imported at the first message: after
    the switch to an unprivileged user the installation may not be readable
    (a Python under /root).  dnspython loads each record type's module on
    first use."""
    import importlib
    import pkgutil
    from .. import builtins, dkim, message
    for pkg in (builtins, dkim, message):
        for mod in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            try:
                importlib.import_module(mod.name)
            except Exception as e:                   # pragma: no cover
                log.warning("cannot preload %s: %s", mod.name, e)
    for name in ("mfl.interp.session", "mfl.regex", "encodings.idna", "encodings.latin_1",
                 "email.parser", "email.policy", "email.utils", "email.header"):
        try:
            importlib.import_module(name)
        except Exception:                            # pragma: no cover
            pass
    try:
        import dns.rdata
        import dns.rdataclass
        import dns.rdatatype
        import dns.resolver  # noqa: F401
        for t in ("TXT", "A", "AAAA", "MX", "PTR", "CNAME", "NS", "SOA", "SPF"):
            dns.rdata.get_rdata_class(dns.rdataclass.IN, dns.rdatatype.from_text(t))
    except Exception as e:                           # pragma: no cover
        log.warning("cannot preload dnspython: %s", e)
    try:
        from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401
        from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa  # noqa
    except Exception:                                # pragma: no cover
        pass


def run_startup(program) -> None:
    """``prog startup`` once; the globals it sets are what connections start with."""
    if not program.handler("startup"):
        return
    from ..interp.run import safe_call_handler
    from .host import log_stream_runtime
    rt = log_stream_runtime(program)
    _act, ok = safe_call_handler(rt, "startup")
    if ok:
        program.global_defaults[:] = rt.globals
    else:
        log.error("startup handler failed")


def run_shutdown(program) -> None:
    if not program.handler("shutdown"):
        return
    from ..interp.run import safe_call_handler
    from .host import log_stream_runtime
    safe_call_handler(log_stream_runtime(program), "shutdown")


def _in_use(url: str, pidfile: str | None) -> str | None:
    """Another daemon serving there?  (libmilter would take the UNIX socket's
    name away from it without a word.)"""
    if pidfile:
        pid = pidfile_running(pidfile)
        if pid is not None and pid != os.getpid():
            return f"already running as pid {pid} (pid file {pidfile})"
    if url.startswith("unix:"):
        import socket
        path = url[5:]
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect(path)
                return f"{path}: a milter is already listening there"
            except OSError:
                pass                                    # a stale socket: libmilter replaces it
            finally:
                s.close()
    return None


def _wait_not_accepting(pipes, timeout: float) -> None:
    """Until the old workers have let go of the listening socket (each says so
    on its pipe, or dies), so that every connection from now on gets the new
    program."""
    import select
    waiting = [fd for fd in pipes if fd is not None]
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        try:
            ready, _, _ = select.select(waiting, [], [], max(0.0, deadline - time.monotonic()))
        except InterruptedError:
            continue
        for fd in ready:
            waiting.remove(fd)


def _die_with_parent() -> None:
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)           # PR_SET_PDEATHSIG
    except Exception:
        pass


def _kill(pid: int, sig) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _daemonize() -> None:
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def _write_pidfile(path: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(f"{os.getpid()}\n")
    except OSError as e:
        log.error("cannot write pid file %s: %s", path, e.strerror or e)


def pidfile_running(path: str) -> int | None:
    """The pid in PATH if that process is alive."""
    try:
        pid = int(open(path).read().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError) as e:
        if isinstance(e, PermissionError) or getattr(e, "errno", None) == errno.EPERM:
            return pid
        return None
