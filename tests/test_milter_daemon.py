"""The daemon around the milter: worker processes, reload, drain, pid file,
privileges, protocol negotiation.  Each test starts its own ``mfld`` on a
UNIX socket in a temporary directory and stops it (bounded waits)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import milterclient as mc  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

VERSION = 'prog eom\ndo\n  header_add("X-Version", "%s")\ndone\n'


class Daemon:
    def __init__(self, tmp: Path, script: Path, *args: str):
        self.tmp, self.sock = tmp, tmp / "sock"
        self.pidfile = tmp / "mfld.pid"
        self.log = open(tmp / "log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mfl.cli.mfld_main", "--no-config", "--foreground",
             "--stderr", "-p", f"unix:{self.sock}", "--pidfile", str(self.pidfile), *args,
             str(script)], cwd=REPO, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not self.sock.exists():
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, "mfld did not start\n" + self.text()
            time.sleep(0.05)
        time.sleep(0.3)

    @property
    def spec(self) -> str:
        return f"unix:{self.sock}"

    def text(self) -> str:
        self.log.flush()
        return (self.tmp / "log").read_text()

    def wait_log(self, needle: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert time.monotonic() < deadline, f"no {needle!r} in log:\n{self.text()}"
            time.sleep(0.05)

    def children(self) -> list[int]:
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    stat = Path(f"/proc/{d}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    out.append(int(d))
        return out

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


@pytest.fixture
def tmp_path():
    """A directory the workers (user `mail' when run as root) can read."""
    import shutil
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="mfld-test."))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def daemon(tmp_path):
    started = []

    def start(text: str, *args: str) -> Daemon:
        script = tmp_path / "filter.mfl"
        script.write_text(text)
        script.chmod(0o644)
        d = Daemon(tmp_path, script, *args)
        started.append(d)
        return d
    yield start
    for d in started:
        d.stop()


def version_of(spec: str) -> str | None:
    r = mc.one_message(spec, timeout=20)
    v = dict((m.name, m.value) for m in r.mods if m.op == "addheader").get("X-Version")
    return v.strip() if v else v


def test_workers_share_the_socket_and_a_dead_worker_is_replaced(daemon):
    d = daemon(VERSION % "one", "--workers", "2")
    assert len(d.children()) == 2
    assert [version_of(d.spec) for _ in range(6)] == ["one"] * 6
    victim = d.children()[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while victim in d.children() or len(d.children()) < 2:
        assert time.monotonic() < deadline, d.text()
        time.sleep(0.1)
    assert [version_of(d.spec) for _ in range(4)] == ["one"] * 4
    assert "exited unexpectedly" in d.text()


@pytest.mark.parametrize("mode", [["--workers", "2"], ["--single-process"]])
def test_sighup_reloads_and_keeps_the_old_script_on_errors(daemon, tmp_path, mode):
    d = daemon(VERSION % "one", *mode)
    assert version_of(d.spec) == "one"
    (tmp_path / "filter.mfl").write_text('prog eom\ndo\n  header_add("X-Version", \ndone\n')
    os.kill(d.proc.pid, signal.SIGHUP)
    d.wait_log("still serving the old one")
    assert "filter.mfl:4" in d.text()                  # the error, located
    assert [version_of(d.spec) for _ in range(4)] == ["one"] * 4
    (tmp_path / "filter.mfl").write_text(VERSION % "two")
    os.kill(d.proc.pid, signal.SIGHUP)
    d.wait_log("reloaded")
    # no connection refused or dropped while the workers change
    got = [version_of(d.spec) for _ in range(10)]
    assert got == ["two"] * 10, d.text()


def test_reload_under_traffic_loses_no_connection(daemon, tmp_path):
    d = daemon(VERSION % "one", "--workers", "2")
    results, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            try:
                results.append(version_of(d.spec))
            except Exception as e:                 # any failure is a lost connection
                results.append(repr(e))
    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for n in range(3):
            time.sleep(0.7)
            (tmp_path / "filter.mfl").write_text(VERSION % f"v{n}")
            os.kill(d.proc.pid, signal.SIGHUP)
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    bad = [r for r in results if r not in ("one", "v0", "v1", "v2")]
    assert not bad, (bad, d.text())
    assert results[-1] == "v2"


def test_sigterm_drains_a_connection_in_progress(daemon):
    d = daemon('prog eom\ndo\n  sleep(2)\n  header_add("X-Slow", "done")\ndone\n',
               "--workers", "1")
    out = {}

    def slow():
        r = mc.one_message(d.spec, timeout=30)
        out["mods"] = [(m.name, m.value) for m in r.mods]
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.8)                                  # the worker is inside eom now
    os.kill(d.proc.pid, signal.SIGTERM)
    t.join(timeout=30)
    assert [(n, v.strip()) for n, v in out.get("mods", [])] == [("X-Slow", "done")], d.text()
    assert d.proc.wait(timeout=30) == 0
    assert not d.pidfile.exists() and not d.sock.exists()
    with pytest.raises(OSError):
        mc.MilterClient(d.spec, timeout=2)


def test_pidfile_and_privileges(daemon):
    d = daemon(VERSION % "one", "--workers", "1")
    assert int(d.pidfile.read_text()) == d.proc.pid
    if os.geteuid() == 0:                           # root: the workers run as `mail'
        import pwd
        uid = pwd.getpwnam("mail").pw_uid
        for pid in d.children():
            status = Path(f"/proc/{pid}/status").read_text()
            uids = next(l for l in status.splitlines() if l.startswith("Uid:")).split()[1:]
            assert set(map(int, uids)) == {uid}
        assert version_of(d.spec) == "one"


def test_negotiation_skips_unused_stages_and_keeps_header_blanks(daemon):
    d = daemon('prog header\ndo\n  echo "hdr $1=[$2]"\ndone\n', "--workers", "1")
    with mc.MilterClient(d.spec, timeout=20) as c:
        _v, _a, proto = c.negotiate()
        assert proto & mc.P_NOHELO and proto & mc.P_NORCPT and proto & mc.P_NODATA
        assert proto & mc.P_HDR_LEADSPC and not proto & mc.P_NOHDRS
        assert not proto & mc.P_NR_HDR                # a header handler answers each one
        c.session_start()
        r = c.transaction("<a@example.org>", ["<b@example.net>"],
                          [("Subject", "  two blanks"), ("X-Tight", "x")], b"hi\r\n")
        assert r.kind in ("continue", "accept")
    d.wait_log("hdr X-Tight=[x]")
    assert "hdr Subject=[two blanks]" in d.text()


def test_eom_only_script_does_not_wait_for_header_replies(daemon):
    d = daemon(VERSION % "one", "--workers", "1")
    with mc.MilterClient(d.spec, timeout=20) as c:
        _v, _a, proto = c.negotiate()
        assert proto & mc.P_NR_HDR and not proto & mc.P_NOHDRS


def test_too_many_connections_are_tempfailed_not_dropped(daemon):
    d = daemon(VERSION % "one", "--single-process", "--max-connections", "1")
    first = mc.MilterClient(d.spec, timeout=40)
    try:
        first.negotiate()
        first.session_start()
        r = mc.one_message(d.spec, timeout=60)       # waits ~20 s for a slot, then 421
        assert r.kind == "replycode" and r.text.startswith("421"), r
    finally:
        first.close()
    assert version_of(d.spec) == "one"


def test_a_second_daemon_does_not_steal_the_socket(daemon, tmp_path):
    d = daemon(VERSION % "one", "--workers", "1")
    r = subprocess.run([sys.executable, "-m", "mfl.cli.mfld_main", "--no-config",
                        "--foreground", "--stderr", "-p", d.spec, str(tmp_path / "filter.mfl")],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 69 and "already listening" in r.stderr
    assert version_of(d.spec) == "one"


def test_mfl_milter_check_reports_verdict_and_changes(daemon):
    d = daemon('prog envfrom\ndo\n  if $client_addr = "192.0.2.7"\n'
               '    reject 550 5.7.1 "not from there"\n  fi\ndone\n' + VERSION % "one",
               "--workers", "1")
    cmd = [sys.executable, "-m", "mfl.cli.mfl_main", "milter-check", d.spec]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["verdict: continue", "  add header: X-Version: one"]
    r = subprocess.run(cmd + ["--client-addr", "192.0.2.7"], cwd=REPO, capture_output=True,
                       text=True, timeout=60)
    assert r.stdout.splitlines() == ["verdict: reply 550 5.7.1 not from there"]
    r = subprocess.run([sys.executable, "-m", "mfl.cli.mfl_main", "milter-check",
                        f"unix:{d.tmp}/nothing"], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 69 and "mfl milter-check" in r.stderr


@pytest.mark.parametrize("url,ok", [("unix:/run/x.sock", True), ("local:/x", True),
                                    ("/var/run/x", True), ("inet:8899@127.0.0.1", True),
                                    ("inet6:8899@::1", True), ("inet:smtp@localhost", True),
                                    ("foo:bar", False), ("inet:99999@127.0.0.1", False),
                                    ("inet:nosuchservice@h", False), ("unix:", False)])
def test_socket_urls_are_checked_before_starting(url, ok):
    from mfl.cli.serve import socket_problem
    assert (socket_problem(url) is None) == ok
