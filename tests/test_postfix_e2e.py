"""End to end with a real Postfix: SMTP client -> Postfix smtpd -> mfld (milter) -> delivery.

A private Postfix instance -- its own config_directory, queue_directory and data_directory
in a temporary directory, nothing chrooted, no DNS -- has one smtpd listener on 127.0.0.1
per filter, each with its own ``mfld`` (``-o smtpd_milters=inet:127.0.0.1:PORT`` in
master.cf; main.cf has ``milter_protocol = 6``, ``milter_default_action = tempfail`` and
Postfix's default ``milter_*_macros``).  What Postfix accepts, virtual(8) delivers into a
Maildir the test reads.  Templates and filters: tests/data/postfix/.

- sign.mfl: ``dkim_sign`` three ways (RSA simple/simple, RSA relaxed/relaxed, ed25519);
  every signature on the delivered message must verify with dkimpy (an independent
  implementation; the public keys served by a dnsfunc);
- verify.mfl: messages signed here with dkimpy go through ``dkim_verify`` (keys from
  ``MFL_DKIM_TXT_FILE``); the header the filter adds says pass, fail for a tampered message,
  temperror for an unsigned one; it also records the queue id (macro ``i``);
- reject.mfl: ``reject 550 5.7.1 "..."`` at MAIL FROM reaches the SMTP client and nothing is
  delivered;
- macros.mfl: macros Postfix only sends when the milter asks for them (setsymlist);
- headers sent as ``Subject:x`` / ``To:  x`` under simple canonicalization
  (SMFIP_HDR_LEADSPC), and the layout of the headers mfld adds (a blank after the colon).

Postfix is started with ``postfix -c DIR start`` as root: the rule that a non-default
configuration directory must be listed in the default main.cf (alternate_config_directories)
applies only to unprivileged callers, so the system configuration is neither read for that
nor changed (it may not even exist: bootstrap.sh installs the package with "No
configuration").  Everything is stopped at the end (``postfix -c DIR stop``, then any process
left in the master's session is killed; each mfld is stopped with SIGTERM, its process group
killed after 10 s).  On a failure the test prints Postfix's log (maillog_file) and mfld's
output.  Skipped without Postfix or root, except on CI (CI=true), where bootstrap.sh installs
Postfix and a skip would hide a failure.
"""
from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "postfix"
POSTFIX = "/usr/sbin/postfix"
ON_CI = os.environ.get("CI") == "true"
DELIVERY_TIMEOUT = 60


def _unavailable(why: str):
    if ON_CI:
        pytest.fail(f"{why} (CI=true: bootstrap.sh should have provided it)", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module", autouse=True)
def _requirements():
    if not os.path.exists(POSTFIX):
        _unavailable(f"{POSTFIX} not installed")
    if os.geteuid() != 0:
        _unavailable("a private Postfix instance needs root")
    for mod in ("dkim", "cryptography"):
        try:
            __import__(mod)
        except ImportError:
            _unavailable(f"python module {mod} not installed")


# ------------------------------------------------------------------ helpers

def _free_ports(n: int) -> list[int]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _render(src: Path, dst: Path, **values) -> None:
    text = src.read_text()
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"{src}: unfilled {left}"
    dst.write_text(text)


def _wait(pred, timeout: float, step: float = 0.1):
    end = time.monotonic() + timeout
    while True:
        got = pred()
        if got or time.monotonic() > end:
            return got
        time.sleep(step)


def _tail(path: Path, limit: int = 20000) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        return f"({path}: {e.strerror})"
    return data[-limit:].decode("utf-8", "replace")


def _session_pids(sid: int) -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.getsid(int(d)) == sid:
                    pids.append(int(d))
            except OSError:
                pass
    return pids


def _keys(tmp: Path) -> dict:
    """An RSA and an ed25519 key (PEM files) and their DKIM TXT records."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    pem = dict(encoding=serialization.Encoding.PEM, format=serialization.PrivateFormat.PKCS8,
               encryption_algorithm=serialization.NoEncryption())
    (tmp / "rsa.pem").write_bytes(rsa_key.private_bytes(**pem))
    (tmp / "ed.pem").write_bytes(ed_key.private_bytes(**pem))
    rsa_pub = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    ed_pub = ed_key.public_key().public_bytes(serialization.Encoding.Raw,
                                              serialization.PublicFormat.Raw)
    rsa_txt = "v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_pub).decode()
    return {
        "rsa_path": tmp / "rsa.pem", "ed_path": tmp / "ed.pem",
        # the PKCS#1 PEM dkimpy signs with
        "rsa_pkcs1": rsa_key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()),
        "txt": {
            "rsa-simple._domainkey.example.org": rsa_txt,
            "rsa-relaxed._domainkey.example.org": rsa_txt,
            "sel._domainkey.example.org": rsa_txt,
            "ed._domainkey.example.org":
                "v=DKIM1; k=ed25519; p=" + base64.b64encode(ed_pub).decode(),
        },
    }


FILTERS = ("sign", "verify", "reject", "macros")


class Instance:
    """The private Postfix instance, one mfld per filter, and their logs."""

    def __init__(self, base: Path):
        self.base = base
        self.etc = base / "etc"
        self.spool = base / "spool"
        self.maildir = base / "mail" / "inbox"
        self.maillog = base / "maillog"
        self.ports: dict[str, int] = {}          # smtpd, by filter
        self.milter_ports: dict[str, int] = {}   # mfld, by filter
        self.mflds: dict[str, subprocess.Popen] = {}

    # -- Postfix

    def postfix(self, *args, timeout=60) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
        return subprocess.run([POSTFIX, "-c", str(self.etc), *args], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def master_pid(self) -> int | None:
        try:
            return int((self.spool / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    # -- mfld

    def mfld_log(self, name: str) -> Path:
        return self.base / f"mfld-{name}.log"

    def start_mfld(self, name: str, script: Path, env: dict | None = None) -> None:
        # TCP on loopback rather than a UNIX socket: Postfix's smtpd runs as user postfix,
        # and who may connect to a UNIX socket depends on mfld's user and socket mode
        with open(self.mfld_log(name), "wb") as log:
            self.mflds[name] = subprocess.Popen(
                [sys.executable, "-m", "mfl.cli.mfld_main", "--no-config", "--foreground",
                 "--stderr", "-p", f"inet:{self.milter_ports[name]}@127.0.0.1", str(script)],
                cwd=REPO, env=dict(os.environ, LC_ALL="C", TZ="UTC", **(env or {})),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)      # its workers too can be killed as a group

    def wait_mflds(self, timeout: float = 30) -> None:
        def accepts(name):
            try:
                socket.create_connection(("127.0.0.1", self.milter_ports[name]), 5).close()
                return True
            except OSError:
                return False
        for name, p in self.mflds.items():
            if not _wait(lambda: p.poll() is not None or accepts(name), timeout) \
                    or p.poll() is not None:
                raise RuntimeError(f"mfld for {name}.mfl did not start (exit {p.poll()})")

    def stop_mflds(self) -> None:
        procs = list(self.mflds.values())
        self.mflds.clear()
        for p in procs:                 # libmilter takes a few seconds to stop: in parallel
            if p.poll() is None:
                p.terminate()
        end = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in procs:                 # what is left of each mfld's process group
            with contextlib.suppress(OSError):
                os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)

    # -- SMTP and delivery

    def smtp(self, filter_name: str) -> smtplib.SMTP:
        s = smtplib.SMTP("127.0.0.1", self.ports[filter_name], timeout=60)
        s.ehlo("client.mfl.test")
        return s

    def send(self, filter_name: str, sender: str, rcpts: list[str], message: bytes) -> str:
        """One SMTP transaction; returns the queue id from Postfix's 250 reply."""
        with self.smtp(filter_name) as s:
            code, resp = s.mail(sender)
            assert code == 250, (code, resp)
            for r in rcpts:
                code, resp = s.rcpt(r)
                assert code == 250, (code, resp)
            code, resp = s.data(message)
            assert code == 250, (code, resp)
        m = re.search(rb"queued as (\w+)", resp)
        assert m, resp
        return m.group(1).decode()

    def delivered(self, token: bytes, timeout: float = DELIVERY_TIMEOUT) -> bytes:
        """The delivered message containing TOKEN (waits for it), with CRLF line ends."""
        def find():
            for data in self.all_delivered():
                if token in data:
                    return data
            return None
        data = _wait(find, timeout, 0.2)
        assert data is not None, f"no message with {token!r} delivered within {timeout} s"
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    def all_delivered(self) -> list[bytes]:
        out = []
        for sub in ("new", "cur"):
            d = self.maildir / sub
            if d.is_dir():
                for f in d.iterdir():
                    with contextlib.suppress(FileNotFoundError):
                        out.append(f.read_bytes())
        return out

    def dump(self) -> None:
        print(f"==== Postfix log ({self.maillog})\n{_tail(self.maillog)}")
        for name in FILTERS:
            print(f"==== mfld {name}.mfl ({self.mfld_log(name)})\n{_tail(self.mfld_log(name))}")


@pytest.fixture(scope="module")
def instance(_requirements):
    # in /tmp, whatever TMPDIR says: Postfix's daemons (user postfix) and the virtual agent
    # (uid nobody) must reach it
    base = Path(tempfile.mkdtemp(prefix="mfl-postfix.", dir="/tmp"))
    base.chmod(0o755)
    inst = Instance(base)
    pid = None
    try:
        nobody = pwd.getpwnam("nobody")
        pwd.getpwnam("postfix")
        inst.etc.mkdir()
        inst.spool.mkdir(mode=0o755)
        (base / "data").mkdir(mode=0o700)
        shutil.chown(base / "data", "postfix")
        (base / "mail").mkdir(mode=0o700)
        os.chown(base / "mail", nobody.pw_uid, nobody.pw_gid)
        ports = _free_ports(2 * len(FILTERS))
        inst.ports = dict(zip(FILTERS, ports))
        inst.milter_ports = dict(zip(FILTERS, ports[len(FILTERS):]))
        _render(DATA / "main.cf.in", inst.etc / "main.cf", DIR=base, UID=nobody.pw_uid,
                GID=nobody.pw_gid)
        _render(DATA / "master.cf.in", inst.etc / "master.cf",
                **{f"PORT_{n.upper()}": p for n, p in inst.ports.items()},
                **{f"MILTER_{n.upper()}": p for n, p in inst.milter_ports.items()})
        inst.keys = _keys(base)
        txt = base / "dkim.txt"
        txt.write_text("".join(f"{n} {t}\n" for n, t in inst.keys["txt"].items()))

        # the filters first, so that Postfix never finds a milter missing
        sign = base / "sign.mfl"
        _render(DATA / "sign.mfl.in", sign, RSA_KEY=inst.keys["rsa_path"],
                ED_KEY=inst.keys["ed_path"])
        # readable by mfld once it has switched from root to its own user
        for f in (sign, txt, inst.keys["rsa_path"], inst.keys["ed_path"]):
            f.chmod(0o644)
        inst.start_mfld("sign", sign)
        inst.start_mfld("verify", DATA / "verify.mfl", env={"MFL_DKIM_TXT_FILE": str(txt)})
        inst.start_mfld("reject", DATA / "reject.mfl")
        inst.start_mfld("macros", DATA / "macros.mfl")
        inst.wait_mflds()

        for what in ("check", "start"):
            r = inst.postfix(what)
            if r.returncode != 0:
                raise RuntimeError(f"postfix {what} failed: {r.stdout}{r.stderr}")
        pid = inst.master_pid()

        def banners():
            for port in inst.ports.values():
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                        if not s.recv(512).startswith(b"220 "):
                            return False
                        s.sendall(b"QUIT\r\n")
                except OSError:
                    return False
            return True
        if not _wait(banners, 30, 0.2):
            raise RuntimeError("Postfix's smtpd did not answer")
    except Exception as e:
        time.sleep(0.5)
        inst.dump()
        _teardown(inst, pid)
        pytest.fail(f"setting up Postfix and mfld: {e}", pytrace=False)
    try:
        yield inst
    finally:
        _teardown(inst, pid)


def _teardown(inst: Instance, pid: int | None) -> None:
    try:
        if pid is None:
            pid = inst.master_pid()
        if inst.master_pid() is not None:
            with contextlib.suppress(Exception):
                inst.postfix("stop", timeout=30)
        if pid:
            # whatever is left of the master's session (it calls setsid)
            if not _wait(lambda: not _session_pids(pid), 10):
                for p in _session_pids(pid):
                    with contextlib.suppress(OSError):
                        os.kill(p, signal.SIGKILL)
                _wait(lambda: not _session_pids(pid), 5)
    finally:
        inst.stop_mflds()
        shutil.rmtree(inst.base, ignore_errors=True)


@contextlib.contextmanager
def explained(inst: Instance):
    """On any failure inside, print Postfix's log and mfld's output (pytest shows them)."""
    try:
        yield
    except BaseException:
        time.sleep(0.5)          # let postlogd write the last lines
        inst.dump()
        raise


def _message(token: str, subject: str = "DKIM through Postfix", odd_spacing=False) -> bytes:
    """A test message; ODD_SPACING writes Subject without and To with two blanks after the
    colon (simple header canonicalization hashes them)."""
    sp1, sp2 = ("", "  ") if odd_spacing else (" ", " ")
    return (
        "From: Alice Example <alice@example.org>\r\n"
        f"To:{sp2}Bob <bob@example.net>\r\n"
        f"Subject:{sp1}{subject}\r\n"
        "\t(a folded line)\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
        f"Message-ID: <{token}@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        f"Hello Bob, token {token}.\r\n"
        ".a line that starts with a dot (SMTP dot-stuffing)\r\n"
        "trailing blanks   \r\n"
        "a\ttab and  two spaces\r\n"
        + "x" * 900 + "\r\n"
        "\r\n\r\n"
    ).encode()


def _dnsfunc(records: dict):
    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        txt = records.get(name.rstrip(".").lower())
        return txt.encode() if txt else None
    return lookup


def _header(msg: bytes, name: str) -> list[str]:
    parsed = email.message_from_bytes(msg, policy=email.policy.compat32)
    return [re.sub(r"\s+", " ", v).strip() for v in parsed.get_all(name, [])]


def _selector(sig: str) -> str:
    return re.search(r"(?:^|;)\s*s=([^;\s]+)", sig).group(1)


def _dkimpy_results(inst: Instance, msg: bytes) -> dict:
    """dkimpy's verdict on each DKIM-Signature of MSG, by selector."""
    import dkim
    d = dkim.DKIM(msg)
    dnsfunc = _dnsfunc(inst.keys["txt"])
    return {_selector(sig): d.verify(idx=i, dnsfunc=dnsfunc)
            for i, sig in enumerate(_header(msg, "DKIM-Signature"))}


def _dkimpy_sign(inst: Instance, message: bytes, canon: str) -> bytes:
    import dkim
    sig = dkim.sign(message, b"sel", b"example.org", inst.keys["rsa_pkcs1"],
                    canonicalize=(canon.encode(), canon.encode()),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return sig + message


ALL_PASS = {"ed": True, "rsa-relaxed": True, "rsa-simple": True}

# ------------------------------------------------------------------ tests

def _signed_through_postfix(inst: Instance, **kw) -> bytes:
    token = uuid.uuid4().hex
    inst.send("sign", "alice@example.org", ["bob@example.net"], _message(token, **kw))
    return inst.delivered(token.encode())


def test_dkim_sign_verifies_with_dkimpy(instance):
    inst = instance
    with explained(inst):
        msg = _signed_through_postfix(inst)
        results = _dkimpy_results(inst, msg)
        assert sorted(results) == sorted(ALL_PASS), msg.decode("utf-8", "replace")
        assert results["rsa-relaxed"] and results["ed"], msg.decode("utf-8", "replace")
        # otherwise the message is the one sent (Postfix's own headers aside)
        assert b"\r\n.a line that starts with a dot" in msg
        assert b"\r\ntrailing blanks   \r\n" in msg


def test_dkim_sign_simple_canonicalization(instance):
    inst = instance
    with explained(inst):
        msg = _signed_through_postfix(inst)
        # laid out as mailfromd has Postfix add it
        assert msg.count(b"\r\nDKIM-Signature: v=1;") == 3, msg.decode("utf-8", "replace")
        assert _dkimpy_results(inst, msg) == ALL_PASS, msg.decode("utf-8", "replace")


def _verified_through_postfix(inst: Instance, cases: dict) -> dict:
    """CASES: name -> (token, message); returns name -> (queue id, delivered message)."""
    qids = {name: inst.send("verify", "alice@example.org", ["bob@example.net"], data)
            for name, (token, data) in cases.items()}
    return {name: (qids[name], inst.delivered(token.encode()))
            for name, (token, _) in cases.items()}


def test_dkim_verify_pass_and_fail(instance):
    inst = instance
    with explained(inst):
        cases = {}
        for canon in ("simple", "relaxed"):
            token = uuid.uuid4().hex
            cases[canon] = (token, _dkimpy_sign(
                inst, _message(token, f"signed {canon}/{canon} by dkimpy"), canon))
        token = uuid.uuid4().hex
        signed = _dkimpy_sign(inst, _message(token, "tampered after signing"), "relaxed")
        cases["tampered"] = (token, signed.replace(b"Hello Bob", b"Hello Eve"))
        token = uuid.uuid4().hex
        cases["unsigned"] = (token, _message(token, "not signed"))

        for name, (qid, msg) in _verified_through_postfix(inst, cases).items():
            result = _header(msg, "X-DKIM-Result")
            assert len(result) == 1, (name, result)
            want = {"tampered": "fail (", "unsigned": "temperror ("}.get(name, "pass (example.org)")
            assert result[0].startswith(want), (name, result)
            # macro i, sent by Postfix with end of message
            assert _header(msg, "X-MFL-Queue-Id") == [qid]


def test_added_header_layout(instance):
    inst = instance
    with explained(inst):
        token = uuid.uuid4().hex
        signed = _dkimpy_sign(inst, _message(token), "relaxed")
        [(qid, msg)] = _verified_through_postfix(inst, {"m": (token, signed)}).values()
        # header_add("X-DKIM-Result", "pass ...") as mailfromd has Postfix write it
        assert b"\r\nX-DKIM-Result: pass (example.org)\r\n" in msg, msg[:1500]


def test_reject_at_mail_from(instance):
    inst = instance
    with explained(inst):
        spam, ham = uuid.uuid4().hex, uuid.uuid4().hex
        with inst.smtp("reject") as s:
            with pytest.raises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("spammer@bad.example", ["bob@example.net"], _message(spam))
            assert e.value.smtp_code == 550
            assert e.value.smtp_error == b"5.7.1 Sender refused by mfl"
            s.rset()
            # the session goes on: another sender is let through
            s.sendmail("alice@example.org", ["bob@example.net"], _message(ham))
        inst.delivered(ham.encode())
        assert not [m for m in inst.all_delivered() if spam.encode() in m]
        assert _wait(lambda: inst.maillog.exists() and b"milter-reject: MAIL from"
                     in inst.maillog.read_bytes(), 10), "no milter-reject in Postfix's log"


def test_macros_postfix_sends_on_request(instance):
    """client_addr, client_name and daemon_port are not in Postfix's default
    milter_*_macros: mailfromd asks for them (setsymlist) and so must mfld."""
    inst = instance
    with explained(inst):
        token = uuid.uuid4().hex
        qid = inst.send("macros", "alice@example.org", ["bob@example.net"], _message(token))
        msg = inst.delivered(token.encode())
        assert _header(msg, "X-MFL-Queue-Id") == [qid]
        assert _header(msg, "X-MFL-Sender") == ["alice@example.org"]
        assert _header(msg, "X-MFL-Client") == ["127.0.0.1 unknown"]
        assert _header(msg, "X-MFL-Daemon-Port") == [str(inst.ports["macros"])]


# A header sent as "Subject:x" or "To:  x" reaches a milter without its leading blanks unless
# the milter negotiates SMFIP_HDR_LEADSPC; simple header canonicalization hashes them.

def test_sign_simple_canonicalization_keeps_header_blanks(instance):
    inst = instance
    with explained(inst):
        msg = _signed_through_postfix(inst, subject="odd blanks", odd_spacing=True)
        assert b"\r\nSubject:odd blanks\r\n" in msg and b"\r\nTo:  Bob" in msg
        assert _dkimpy_results(inst, msg) == ALL_PASS, msg.decode("utf-8", "replace")


def test_verify_simple_canonicalization_keeps_header_blanks(instance):
    inst = instance
    with explained(inst):
        token = uuid.uuid4().hex
        inst.send("verify", "alice@example.org", ["bob@example.net"],
                  _dkimpy_sign(inst, _message(token, "odd blanks", odd_spacing=True), "simple"))
        msg = inst.delivered(token.encode())
        assert _header(msg, "X-DKIM-Result") == ["pass (example.org)"]
