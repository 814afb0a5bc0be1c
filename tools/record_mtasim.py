#!/usr/bin/env python3
"""Record what mailfromd 8.15 does with a whole SMTP transaction, as mtasim sees it.

For every session script ``tests/diff/mmq/NAME.mfl`` and
``tests/diff/sessions/NAME.mfl`` this

1. starts the real ``mailfromd`` on a UNIX socket in a fresh temporary
   directory (``--foreground --stderr --no-config --user=nobody``, the options
   mtasim's ``-Xauto`` uses: ``--mtasim --state-directory DIR``);
2. starts a milter proxy on a second socket of that directory: it forwards
   the bytes both ways unchanged and decodes each milter packet;
3. runs ``mtasim --stdio -X unix:PROXY`` with an SMTP session built from the
   script's header lines (EHLO, the macros, MAIL FROM, one RCPT TO per
   recipient, DATA with the message -- lines sent with CRLF, dot-stuffed --,
   QUIT), or given literally by ``# mmq-smtp:`` lines;

and writes ``NAME.expected`` (JSON) next to the script:

    {
      "message": "tests/data/messages/simple.eml",
      "from": "alice@example.org", "rcpt": ["bob@example.net"],
      "macros": {"i": "ABC"},
      "smtp": ["220-...", "250 ...", ...],         # mtasim's replies
      "milter": [["envfrom", "continue"],          # each filter reply: the
                 ["eom", "addheader", "X-A", "1"], # stage it answered and the
                 ["eom", "continue"]],             # decoded reply
      "log": ["text", ...]                          # mailfromd's echo output
    }

Header lines of a session script (the first 12 lines, and after them the
comment lines up to the first line of code):

    # mmq-message: tests/data/messages/simple.eml   (required, unless mmq-smtp
                                                     has no @DATA line)
    # mmq-from: alice@example.org                    (default sender@example.org;
                                                     words after the address are
                                                     ESMTP parameters: SIZE=10)
    # mmq-rcpt: bob@example.net carol@example.net    (default rcpt@example.net)
    # mmq-macro: i=ABC client_addr=192.0.2.1         (mtasim \\D before EHLO)
    # mmq-helo: mx.example.org                       (default localhost)
    # mmq-smtp: LINE                                 (repeatable: the SMTP input,
                                                     verbatim, instead of the one
                                                     built from the lines above;
                                                     "@DATA [FILE]" sends the
                                                     message, or FILE, dot-stuffed,
                                                     and the final ".")
    # mmq-mtasim: --body-chunk=7 --sender-sockaddr=inet,relay,192.0.2.7,4567
                                                    (more mtasim options)
    # mmq-dns: tests/diff/sessions/dkim.zone.json   (a zone: {"NAME": "TXT" or
                                                     ["TXT", ...]}; see below)

``# mmq-dns:`` starts a DNS server for the session (UDP and TCP, port 53 of a
loopback address picked at random in 127.53.0.0/16: a resolv.conf cannot name
a port) answering TXT queries from the zone, NXDOMAIN for other names.  mfld
gets ``--resolv-conf-file`` naming it.  mailfromd 8.15 cannot use that option
as a daemon (see _NETNS_MARK): when a session has a zone, the recorder runs
itself in private mount and network namespaces (``unshare -mn``, loopback up)
and mounts the session's resolv.conf over /etc/resolv.conf.  Binding port 53
needs root; without it (the mfld test as an ordinary user) the zone is handed
to mfld as ``MFL_DKIM_TXT_FILE`` instead.

mailfromd runs as ``nobody`` in its state directory: the recorder links the
repository's ``tests`` there, so scripts can name test files (keys) relative
to the repository root, as mfld (run from the root) sees them.

What varies from run to run, and how it is made not to: the socket name in
mtasim's greeting (written ``unix://@SOCKET@``); the way the filter's packets
are split between reads, which decides whether mtasim's milter client takes a
change-sender request (the proxy forwards an eom's modification requests
together with its final reply; a run in which mtasim still logs "unhandled
response" is played again); the stage label of a reply (the two directions
are pumped by two threads: the test compares modification requests without
it).  Nothing in a recording is normalised otherwise: mailfromd's
``dkim_sign`` writes no ``t=`` (its signatures are the same every run), and
the signed test messages were signed once, with a fixed clock
(tests/data/dkim/make_signed.py).

mtasim is told not to offer SMFIP_HDR_LEADSPC (see MTASIM_PROTOCOL): it offers
it by default but does not implement it.

The milter replies are decoded as: ``continue``, ``accept``, ``reject``,
``tempfail``, ``discard``, ``replycode TEXT``, ``addheader NAME VALUE``,
``insheader INDEX NAME VALUE``, ``chgheader INDEX NAME VALUE``, ``addrcpt
ADDR``, ``addrcpt_par ADDR ARGS``, ``delrcpt ADDR``, ``replbody BYTES`` (one
entry per packet, text decoded as UTF-8 with surrogateescape and written
with JSON escapes), ``chgfrom ADDR ARGS``, ``quarantine REASON``,
``progress``, ``skip``.

The log is mailfromd's standard error without the program name and the
``info:`` level word, without the start/stop lines, with the repository path
removed.

Needs root (mailfromd refuses to run as root and switches to ``nobody``;
the namespaces).

Usage:  python3 tools/record_mtasim.py [NAME...] [--check]
tests/test_mmq_sessions.py replays the tests/diff/mmq sessions through mfl's
session driver (mfl/interp/session.py) and compares the milter replies;
tests/test_milter_mtasim.py plays all sessions against ``mfld`` under mtasim.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SESSIONS = Path("tests") / "diff" / "mmq"
SESSION_DIRS = (SESSIONS, Path("tests") / "diff" / "sessions")
HEADER_LINES = 12
_HDR_RE = re.compile(r"^\s*#\s*mmq-(message|from|rcpt|macro|helo|smtp|mtasim|dns):\s*(.*?)\s*$")
_ENC = ("utf-8", "surrogateescape")

# MTA -> filter commands: the stage each one opens
STAGES = {b"C": "connect", b"H": "helo", b"M": "envfrom", b"R": "envrcpt", b"T": "data",
          b"L": "header", b"N": "eoh", b"B": "body", b"E": "eom", b"A": "abort",
          b"Q": "quit", b"U": "unknown", b"O": "optneg"}


def read_spec(script: Path) -> dict:
    spec = {"message": None, "from": "sender@example.org", "rcpt": ["rcpt@example.net"],
            "macros": {}, "helo": "localhost", "smtp": [], "mtasim": [], "dns": None}
    with open(script, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if i >= HEADER_LINES and line.strip() and not line.lstrip().startswith("#"):
                break
            m = _HDR_RE.match(line)
            if not m:
                continue
            key, val = m.groups()
            if key == "message":
                spec["message"] = val
            elif key == "from":
                spec["from"] = val
            elif key == "rcpt":
                spec["rcpt"] = shlex.split(val)
            elif key == "helo":
                spec["helo"] = val
            elif key == "macro":
                for w in shlex.split(val):
                    k, _, v = w.partition("=")
                    spec["macros"][k] = v
            elif key == "smtp":
                spec["smtp"].append(val)
            elif key == "mtasim":
                spec["mtasim"] += shlex.split(val)
            elif key == "dns":
                spec["dns"] = val
    return spec


def needs_message(spec: dict) -> bool:
    return not spec["smtp"] or any(ln.split()[:1] == ["@DATA"] and len(ln.split()) == 1
                                   for ln in spec["smtp"])


def _data_lines(message: bytes) -> list[bytes]:
    out = []
    lines = message.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for ln in lines:
        if ln.endswith(b"\r"):
            ln = ln[:-1]
        if ln.startswith(b"."):
            ln = b"." + ln
        out.append(ln)
    out.append(b".")
    return out


def smtp_session(spec: dict, message: bytes | None) -> bytes:
    """The SMTP dialogue mtasim reads on its standard input."""
    out = []
    if spec.get("smtp"):
        for ln in spec["smtp"]:
            words = ln.split()
            if words[:1] == ["@DATA"]:
                data = message if len(words) == 1 else (REPO_ROOT / words[1]).read_bytes()
                out += _data_lines(data)
            else:
                out.append(ln.encode(*_ENC))
        return b"".join(x + b"\r\n" for x in out)
    if spec["macros"]:
        out.append(b"\\D" + " ".join(f"{k}={v}" for k, v in spec["macros"].items()).encode(*_ENC))
    out.append(b"EHLO " + spec["helo"].encode(*_ENC))
    sender, _, params = spec["from"].partition(" ")
    out.append(b"MAIL FROM: <" + sender.encode(*_ENC) + b">"
               + (b" " + params.strip().encode(*_ENC) if params.strip() else b""))
    for r in spec["rcpt"]:
        out.append(b"RCPT TO: <" + r.encode(*_ENC) + b">")
    out.append(b"DATA")
    out += _data_lines(message)
    out.append(b"QUIT")
    return b"".join(x + b"\r\n" for x in out)


# ------------------------------------------------------------------ DNS

def load_zone(path: str) -> dict:
    """{name: [TXT, ...]} from a zone JSON (values: a string or a list of strings)."""
    with open(REPO_ROOT / path, encoding="utf-8") as f:
        raw = json.load(f)
    return {k.rstrip(".").lower(): ([v] if isinstance(v, str) else list(v))
            for k, v in raw.items()}


def txt_file(zone: dict, path: str) -> None:
    """The zone as an MFL_DKIM_TXT_FILE (NAME TEXT per line)."""
    with open(path, "w", encoding="utf-8") as f:
        for name, values in zone.items():
            for v in values:
                f.write(f"{name} {v}\n")


class LoopbackDNS:
    """TXT answers from a zone, on UDP and TCP port 53 of a 127.53.x.y address."""

    def __init__(self, zone: dict):
        import random
        self.zone = zone
        self.queries: list[str] = []
        self._stop = threading.Event()
        last = None
        for _ in range(20):
            addr = f"127.53.{random.randrange(256)}.{random.randrange(1, 255)}"
            try:
                udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                udp.bind((addr, 53))
                tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((addr, 53))
                tcp.listen(8)
            except OSError as e:
                last = e
                continue
            break
        else:
            raise last
        self.addr, self.udp, self.tcp = addr, udp, tcp
        udp.settimeout(0.2)
        tcp.settimeout(0.2)
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def resolv_conf(self, path: str) -> None:
        with open(path, "w") as f:
            f.write(f"nameserver {self.addr}\noptions attempts:1 timeout:2\n")
        os.chmod(path, 0o644)

    def _answer(self, wire: bytes, udp: bool) -> bytes | None:
        import dns.exception
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset
        try:
            q = dns.message.from_wire(wire)
        except Exception:
            return None
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        if not q.question:
            r.set_rcode(dns.rcode.FORMERR)
            return r.to_wire()
        qq = q.question[0]
        name = qq.name.to_text(omit_final_dot=True).lower()
        self.queries.append(name)
        if name not in self.zone:
            r.set_rcode(dns.rcode.NXDOMAIN)
        elif qq.rdtype in (dns.rdatatype.TXT, dns.rdatatype.ANY):
            texts = []
            for v in self.zone[name]:
                b = v.encode()
                parts = [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]
                texts.append(" ".join('"' + p.decode().replace("\\", "\\\\")
                                      .replace('"', '\\"') + '"' for p in parts))
            r.answer.append(dns.rrset.from_text_list(qq.name, 300, dns.rdataclass.IN,
                                                     dns.rdatatype.TXT, texts))
        limit = max(512, q.payload if q.edns >= 0 else 512) if udp else 65535
        try:
            return r.to_wire(max_size=limit)
        except dns.exception.TooBig:
            r.answer = []
            r.flags |= dns.flags.TC
            return r.to_wire()

    def _serve_udp(self):
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            out = self._answer(data, True)
            if out:
                self.udp.sendto(out, peer)

    def _serve_tcp(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                conn.settimeout(5)
                buf = b""
                while True:
                    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                        chunk = conn.recv(4096)
                        if not chunk:
                            raise EOFError
                        buf += chunk
                    n = struct.unpack("!H", buf[:2])[0]
                    out = self._answer(buf[2:2 + n], False)
                    buf = buf[2 + n:]
                    if out:
                        conn.sendall(struct.pack("!H", len(out)) + out)
            except (OSError, EOFError):
                pass
            finally:
                conn.close()

    def close(self):
        self._stop.set()
        for t in self.threads:
            t.join(5)
        self.udp.close()
        self.tcp.close()


# ------------------------------------------------------------------ milter decoding

def _cstrings(data: bytes) -> list[str]:
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode(*_ENC) for p in parts]


def decode_reply(cmd: bytes, data: bytes) -> list:
    """A filter reply as a JSON-friendly list."""
    c = cmd.decode("latin-1")
    simple = {"c": "continue", "a": "accept", "r": "reject", "t": "tempfail",
              "d": "discard", "p": "progress", "s": "skip"}
    if c in simple:
        return [simple[c]]
    if c == "y":
        return ["replycode", *_cstrings(data)]
    if c == "h":
        return ["addheader", *_cstrings(data)]
    if c in ("i", "m"):
        idx = struct.unpack("!I", data[:4])[0]
        return ["insheader" if c == "i" else "chgheader", idx, *_cstrings(data[4:])]
    if c == "+":
        return ["addrcpt", *_cstrings(data)]
    if c == "2":
        return ["addrcpt_par", *_cstrings(data)]
    if c == "-":
        return ["delrcpt", *_cstrings(data)]
    if c == "b":
        return ["replbody", data.decode(*_ENC)]
    if c == "e":
        return ["chgfrom", *_cstrings(data)]
    if c == "q":
        return ["quarantine", *_cstrings(data)]
    if c == "O":
        return ["optneg"]
    return [f"?{c}", data.decode(*_ENC)]


# filter -> MTA packets that do not end the command they answer
_MODIFICATIONS = frozenset(b"hims+2-bebq"[i:i + 1] for i in range(11))


class _Decoder:
    def __init__(self):
        self.buf = b""

    def feed(self, data: bytes):
        self.buf += data
        while len(self.buf) >= 5:
            n = struct.unpack("!I", self.buf[:4])[0]
            if len(self.buf) < 4 + n:
                break
            cmd, payload = self.buf[4:5], self.buf[5:4 + n]
            self.buf = self.buf[4 + n:]
            yield cmd, payload


class MilterProxy:
    """Forward one mtasim connection to mailfromd, decoding the replies.

    The modification requests of an eom reply are held back and forwarded with
    the final reply in one write: mtasim's milter client fails on a change-sender
    request ('e') that it reads on its own (it logs "unhandled response=e" and
    answers 451 4.3.2), which makes the outcome depend on how the filter's
    packets happen to be split.  Held together, they are always read together."""

    def __init__(self, listen_path: str, target_path: str):
        self.listen_path, self.target_path = listen_path, target_path
        self.events: list = []
        self.commands: list = []                # the MTA's command letters (debugging)
        self.protocol = 0                       # the protocol flags the filter asked for
        self.stage = "optneg"
        self.lock = threading.Lock()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(listen_path)
        self.srv.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            client, _ = self.srv.accept()
        except OSError:
            return
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(self.target_path)
        t1 = threading.Thread(target=self._pump, args=(client, up, True), daemon=True)
        t2 = threading.Thread(target=self._pump, args=(up, client, False), daemon=True)
        t1.start()
        t2.start()
        t1.join()
        t2.join()
        client.close()
        up.close()

    def _pump(self, src, dst, from_mta: bool):
        dec = _Decoder()
        held = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not from_mta:
                    held += data
                for cmd, payload in dec.feed(data):
                    with self.lock:
                        if from_mta:
                            self.commands.append(cmd.decode("latin-1"))
                            if cmd in STAGES:
                                self.stage = STAGES[cmd]
                        elif cmd != b"O":
                            self.events.append([self.stage, *decode_reply(cmd, payload)])
                        elif len(payload) >= 12:
                            self.protocol = struct.unpack("!I", payload[8:12])[0]
                    if not from_mta and cmd not in _MODIFICATIONS:
                        # a reply that ends the command: forward it with the
                        # modification requests before it, in one write
                        n = len(held) - len(dec.buf)
                        dst.sendall(held[:n])
                        held = held[n:]
                if from_mta:
                    dst.sendall(data)
            if held:
                dst.sendall(held)
            # the end of one direction is passed on; the other one goes on until
            # its sender closes: after mtasim's QUIT, the filter still runs its
            # close (end) handler before it closes the connection
            how = socket.SHUT_WR
        except OSError:
            how = socket.SHUT_RDWR
        for s in ((dst,) if how == socket.SHUT_WR else (src, dst)):
            try:
                s.shutdown(how)
            except OSError:
                pass

    def close(self):
        self.srv.close()


def _wait_for(path: str, proc, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _log_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        m = re.match(r"^mailfromd(?:#\d+)?: (?:info: )?(.*)$", line)
        body = m.group(1) if m else line
        if body.startswith(("warning: program started", "warning: restart (SIGHUP)",
                            "mailfromd started", "mailfromd terminating")):
            continue
        body = body.replace(str(REPO_ROOT) + "/", "")
        out.append(body)
    return out


BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC",
            "HOME": "/nonexistent/mfl-home"}


def load_message(spec: dict, script: Path) -> bytes | None:
    if spec["message"]:
        return (REPO_ROOT / spec["message"]).read_bytes()
    if needs_message(spec):
        raise SystemExit(f"{script}: no '# mmq-message:' line")
    return None


# mtasim's milter client now and then fails to take a modification request of a
# valid eom reply (it prints this and answers the DATA with 451 4.3.2), whatever the
# filter: such a run says nothing about the filter and is played again.
_MTASIM_GLITCH = "Gacopyz ERR: action=default, unhandled response="


# mtasim offers SMFIP_HDR_LEADSPC (protocol 0x1fffff) but does not implement it: it
# sends header values without their leading blanks all the same.  A filter that
# asks for it (mfld does; mailfromd does not) would rebuild "From:Alice" for
# "From: Alice" and see its added headers' blank doubled.  It is not offered here.
MTASIM_PROTOCOL = f"--milter-proto={0x1fffff & ~0x100000}"     # decimal only


def play(script: Path, command, attempts: int = 4, **kw) -> dict:
    """Play one session script through mtasim against a filter (see _play_once);
    again when mtasim's milter client failed on its own."""
    for _ in range(attempts):
        got = _play_once(script, command, **kw)
        if _MTASIM_GLITCH not in got["mtasim_stderr"]:
            break
    return got


def _play_once(script: Path, command, *, env: dict | None = None, owner: str | None = None,
               graceful: bool = True, txt_fallback: bool = False, mtasim: str = "mtasim",
               link_tests: bool = False, system_resolver: bool = False) -> dict:
    """Play one session script through mtasim against a filter.

    COMMAND(tmpdir, socket_path) is the filter's argv without its DNS options
    and the script (both appended here).  The filter is started in its own
    process group; at the end it gets SIGTERM and is waited for when GRACEFUL
    (its shutdown handler runs), else the group is killed at once (fast; the
    session is over when the proxy has seen both sides close).  A session
    with a DNS zone gets its nameserver through ``--resolv-conf-file``, or,
    with SYSTEM_RESOLVER (in a private mount namespace), through a
    resolv.conf mounted over /etc/resolv.conf.  Returns the
    mtasim replies (socket name replaced by @SOCKET@), the decoded milter
    replies and the filter's standard error (raw text)."""
    spec = read_spec(REPO_ROOT / script)
    message = load_message(spec, script)
    tmp = tempfile.mkdtemp(prefix="mflmmq.")
    os.chmod(tmp, 0o755)
    if owner:
        pw = pwd.getpwnam(owner)
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    if link_tests:
        os.symlink(REPO_ROOT / "tests", os.path.join(tmp, "tests"))
    milter = os.path.join(tmp, "milter")
    proxy_path = os.path.join(tmp, "proxy")
    env = dict(BASE_ENV if env is None else env)
    extra, dns, mounted = [], None, False
    try:
        if spec["dns"]:
            zone = load_zone(spec["dns"])
            try:
                dns = LoopbackDNS(zone)
            except OSError:
                if not txt_fallback:
                    raise
                txt_file(zone, os.path.join(tmp, "dkim.txt"))
                env["MFL_DKIM_TXT_FILE"] = os.path.join(tmp, "dkim.txt")
            else:
                dns.resolv_conf(os.path.join(tmp, "resolv.conf"))
                if system_resolver:
                    subprocess.run(["mount", "--bind", os.path.join(tmp, "resolv.conf"),
                                    "/etc/resolv.conf"], check=True)
                    mounted = True
                else:
                    extra += ["--resolv-conf-file", os.path.join(tmp, "resolv.conf")]
        srv = subprocess.Popen(command(tmp, milter) + extra + [str(REPO_ROOT / script)],
                               cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
        res = None
        try:
            if not _wait_for(milter, srv):
                err = srv.communicate(timeout=5)[1].decode(*_ENC) if srv.poll() is not None else ""
                raise RuntimeError(f"{script}: the filter did not start: {err}")
            proxy = MilterProxy(proxy_path, milter)
            try:
                try:
                    res = subprocess.run(
                        [mtasim, "--stdio", "--no-interactive", MTASIM_PROTOCOL, *spec["mtasim"],
                         "-X", f"unix://{proxy_path}"],
                        cwd=REPO_ROOT, env=env, input=smtp_session(spec, message),
                        capture_output=True, timeout=15)
                except subprocess.TimeoutExpired as e:
                    raise RuntimeError(
                        f"{script}: mtasim did not finish; it printed:\n"
                        + (e.stdout or b"").decode(*_ENC) + f"\nmilter: {proxy.events}") from None
                proxy.thread.join(timeout=10)
            finally:
                proxy.close()
        finally:
            if graceful:
                srv.terminate()
            else:
                _killpg(srv.pid)
            try:
                _, err = srv.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                _killpg(srv.pid)
                _, err = srv.communicate()
            _killpg(srv.pid)                 # whatever it forked
    finally:
        if mounted:
            subprocess.run(["umount", "/etc/resolv.conf"], check=False)
        if dns is not None:
            dns.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not res.stdout and res.returncode:
        raise RuntimeError(f"{script}: mtasim failed: {res.stderr.decode(*_ENC)}")
    smtp = res.stdout.decode(*_ENC).replace("\r\n", "\n").splitlines()
    smtp = [re.sub(r"unix://\S+", "unix://@SOCKET@", s) for s in smtp]
    return {"spec": spec, "smtp": smtp, "milter": proxy.events, "commands": proxy.commands,
            "protocol": proxy.protocol,
            "stderr": err.decode(*_ENC),
            "mtasim_stderr": res.stderr.decode(*_ENC)}


def _killpg(pgid: int) -> None:
    import signal
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def record(script: Path, mailfromd: str = "mailfromd", mtasim: str = "mtasim") -> dict:
    def command(tmp, milter):
        return [mailfromd, "--foreground", "--stderr", "--no-config", "--user=nobody",
                "--mtasim", "--port", f"unix://{milter}", "--callout-socket",
                f"unix://{tmp}/callout", "--state-directory", tmp]
    got = play(script, command, owner="nobody", graceful=True, mtasim=mtasim, link_tests=True,
               system_resolver=bool(os.environ.get(_NETNS_MARK)))
    spec = got["spec"]
    return {"message": spec["message"], "from": spec["from"], "rcpt": spec["rcpt"],
            "macros": spec["macros"], "helo": spec["helo"], "smtp": got["smtp"],
            "milter": got["milter"], "log": _log_lines(got["stderr"])}


def session_scripts(root: Path = REPO_ROOT, dirs=(SESSIONS,)) -> list[Path]:
    """The session scripts of DIRS (default: the tests/diff/mmq corpus only)."""
    out = []
    for d in dirs:
        out += sorted(p.relative_to(root) for p in (root / d).glob("*.mfl"))
    return out


def all_session_scripts(root: Path = REPO_ROOT) -> list[Path]:
    return session_scripts(root, SESSION_DIRS)


def dump(data: dict) -> str:
    """JSON, one line per list item (diffs stay readable)."""
    out = ["{"]
    items = list(data.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(v, list) and v:
            out.append(f"  {json.dumps(k)}: [")
            for j, x in enumerate(v):
                out.append("    " + json.dumps(x, ensure_ascii=False)
                           + ("," if j < len(v) - 1 else ""))
            out.append("  ]" + comma)
        else:
            out.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{comma}")
    out.append("}")
    return "\n".join(out) + "\n"


# mailfromd 8.15 as a daemon cannot use --resolv-conf-file: the resolver opens its
# socket while the options are read, and the daemon closes every descriptor
# before it serves ("adns warning: sendto failed: Bad file descriptor").  The
# recorder therefore runs in private mount and network namespaces, where the
# session's nameserver is given to mailfromd as /etc/resolv.conf.
_NETNS_MARK = "MFL_RECORD_NETNS"


def _enter_namespaces(argv) -> None:
    """Run this program again under ``unshare -mn`` (root only), loopback up."""
    if os.environ.get(_NETNS_MARK):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    env = dict(os.environ, **{_NETNS_MARK: "1"})
    os.execvpe("unshare", ["unshare", "-mn", sys.executable, os.path.abspath(__file__),
                           *argv], env)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(read_spec(REPO_ROOT / s)["dns"] for s in all_session_scripts()):
        _enter_namespaces(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="session names (default: all)")
    ap.add_argument("--check", action="store_true", help="report changed sessions, write nothing")
    ap.add_argument("--mailfromd", default=shutil.which("mailfromd") or "mailfromd")
    ap.add_argument("--mtasim", default=shutil.which("mtasim") or "mtasim")
    args = ap.parse_args(argv)
    os.chdir(REPO_ROOT)
    scripts = all_session_scripts()
    if args.names:
        scripts = [s for s in scripts if s.stem in args.names or str(s) in args.names]
    changed = 0
    for s in scripts:
        text = dump(record(s, args.mailfromd, args.mtasim))
        exp = s.with_suffix(".expected")
        old = exp.read_text(encoding="utf-8") if exp.exists() else None
        if old != text:
            changed += 1
            if args.check:
                print(f"CHANGED {s}")
            else:
                exp.write_text(text, encoding="utf-8")
    print(f"{len(scripts)} sessions, {changed} {'differ' if args.check else 'updated'}",
          file=sys.stderr)
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
