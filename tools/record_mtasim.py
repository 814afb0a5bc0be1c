#!/usr/bin/env python3
"""Record what mailfromd 8.15 does with a whole SMTP transaction, as mtasim sees it.

For every session script ``tests/diff/mmq/NAME.mfl`` this

1. starts the real ``mailfromd`` on a UNIX socket in a fresh temporary
   directory (``--foreground --stderr --no-config --user=nobody``, the options
   mtasim's ``-Xauto`` uses: ``--mtasim --state-directory DIR``);
2. starts a milter proxy on a second socket of that directory: it forwards
   the bytes both ways unchanged and decodes each milter packet;
3. runs ``mtasim --stdio -X unix:PROXY`` with an SMTP session built from the
   script's header lines (EHLO, the macros, MAIL FROM, one RCPT TO per
   recipient, DATA with the message -- lines sent with CRLF, dot-stuffed --,
   QUIT);

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

Header lines of a session script (first 12 lines):

    # mmq-message: tests/data/messages/simple.eml   (required)
    # mmq-from: alice@example.org                    (default sender@example.org)
    # mmq-rcpt: bob@example.net carol@example.net    (default rcpt@example.net)
    # mmq-macro: i=ABC client_addr=192.0.2.1         (mtasim \\D before EHLO)
    # mmq-helo: mx.example.org                       (default localhost)

The milter replies are decoded as: ``continue``, ``accept``, ``reject``,
``tempfail``, ``discard``, ``replycode TEXT``, ``addheader NAME VALUE``,
``insheader INDEX NAME VALUE``, ``chgheader INDEX NAME VALUE``, ``addrcpt
ADDR``, ``addrcpt_par ADDR ARGS``, ``delrcpt ADDR``, ``replbody BYTES`` (one
entry per packet, text decoded as UTF-8 with surrogateescape and written
with JSON escapes), ``chgfrom ADDR ARGS``, ``quarantine REASON``,
``progress``, ``skip``.

Needs root (mailfromd refuses to run as root and switches to ``nobody``).

Usage:  python3 tools/record_mtasim.py [NAME...] [--check]
tests/test_mmq_sessions.py replays the same sessions through mfl's session
driver (mfl/interp/session.py) and compares the milter replies.
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
HEADER_LINES = 12
_HDR_RE = re.compile(r"^\s*#\s*mmq-(message|from|rcpt|macro|helo):\s*(.*?)\s*$")
_ENC = ("utf-8", "surrogateescape")

# MTA -> filter commands: the stage each one opens
STAGES = {b"C": "connect", b"H": "helo", b"M": "envfrom", b"R": "envrcpt", b"T": "data",
          b"L": "header", b"N": "eoh", b"B": "body", b"E": "eom", b"A": "abort",
          b"Q": "quit", b"U": "unknown", b"O": "optneg"}


def read_spec(script: Path) -> dict:
    spec = {"message": None, "from": "sender@example.org", "rcpt": ["rcpt@example.net"],
            "macros": {}, "helo": "localhost"}
    with open(script, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if i >= HEADER_LINES:
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
    return spec


def smtp_session(spec: dict, message: bytes) -> bytes:
    """The SMTP dialogue mtasim reads on its standard input."""
    out = []
    if spec["macros"]:
        out.append(b"\\D" + " ".join(f"{k}={v}" for k, v in spec["macros"].items()).encode(*_ENC))
    out.append(b"EHLO " + spec["helo"].encode(*_ENC))
    out.append(b"MAIL FROM: <" + spec["from"].encode(*_ENC) + b">")
    for r in spec["rcpt"]:
        out.append(b"RCPT TO: <" + r.encode(*_ENC) + b">")
    out.append(b"DATA")
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
    out.append(b"QUIT")
    return b"".join(x + b"\r\n" for x in out)


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
    """Forward one mtasim connection to mailfromd, decoding the replies."""

    def __init__(self, listen_path: str, target_path: str):
        self.listen_path, self.target_path = listen_path, target_path
        self.events: list = []
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

    def _pump(self, src, dst, from_mta: bool):
        dec = _Decoder()
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                for cmd, payload in dec.feed(data):
                    with self.lock:
                        if from_mta:
                            if cmd in STAGES:
                                self.stage = STAGES[cmd]
                        elif cmd != b"O":
                            self.events.append([self.stage, *decode_reply(cmd, payload)])
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
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


def record(script: Path, mailfromd: str = "mailfromd", mtasim: str = "mtasim") -> dict:
    spec = read_spec(REPO_ROOT / script)
    if not spec["message"]:
        raise SystemExit(f"{script}: no '# mmq-message:' line")
    message = (REPO_ROOT / spec["message"]).read_bytes()
    nobody = pwd.getpwnam("nobody")
    tmp = tempfile.mkdtemp(prefix="mflmmq.")
    os.chmod(tmp, 0o755)
    os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
    milter = os.path.join(tmp, "milter")
    proxy_path = os.path.join(tmp, "proxy")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC",
           "HOME": "/nonexistent/mfl-home"}
    mfd = subprocess.Popen(
        [mailfromd, "--foreground", "--stderr", "--no-config", "--user=nobody", "--mtasim",
         "--port", f"unix://{milter}", "--callout-socket", f"unix://{tmp}/callout",
         "--state-directory", tmp, str(REPO_ROOT / script)],
        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        if not _wait_for(milter, mfd):
            err = mfd.communicate(timeout=5)[1].decode(*_ENC) if mfd.poll() is not None else ""
            raise RuntimeError(f"{script}: mailfromd did not start: {err}")
        proxy = MilterProxy(proxy_path, milter)
        try:
            res = subprocess.run(
                [mtasim, "--stdio", "--no-interactive", "-X", f"unix://{proxy_path}"],
                cwd=REPO_ROOT, env=env, input=smtp_session(spec, message),
                capture_output=True, timeout=60)
            proxy.thread.join(timeout=10)
        finally:
            proxy.close()
    finally:
        mfd.terminate()
        try:
            _, err = mfd.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            mfd.kill()
            _, err = mfd.communicate()
        shutil.rmtree(tmp, ignore_errors=True)
    smtp = res.stdout.decode(*_ENC).replace("\r\n", "\n").splitlines()
    smtp = [re.sub(r"unix://\S+", "unix://@SOCKET@", s) for s in smtp]
    return {"message": spec["message"], "from": spec["from"], "rcpt": spec["rcpt"],
            "macros": spec["macros"], "helo": spec["helo"], "smtp": smtp,
            "milter": proxy.events, "log": _log_lines(err.decode(*_ENC))}


def session_scripts(root: Path = REPO_ROOT) -> list[Path]:
    return sorted(p.relative_to(root) for p in (root / SESSIONS).glob("*.mfl"))


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="session names (default: all)")
    ap.add_argument("--check", action="store_true", help="report changed sessions, write nothing")
    ap.add_argument("--mailfromd", default=shutil.which("mailfromd") or "mailfromd")
    ap.add_argument("--mtasim", default=shutil.which("mtasim") or "mtasim")
    args = ap.parse_args(argv)
    os.chdir(REPO_ROOT)
    scripts = session_scripts()
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
