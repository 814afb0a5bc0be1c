"""mfl dkim keygen / sign / verify, end to end with a locally answered key lookup."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

MFL = [sys.executable, "-m", "mfl.cli.mfl_main", "dkim"]


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_keygen_sign_verify(tmp_path, kind):
    p = subprocess.run(MFL + ["keygen", "--domain", "example.org", "--selector", "s1",
                              "--type", kind, "--out", str(tmp_path / "keys")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    key = tmp_path / "keys" / "example.org.s1.key"
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    record = "".join(re.findall(r'"([^"]*)"', p.stdout))
    assert record.startswith("v=DKIM1; k=" + kind)
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nHello\r\n")
    signed = tmp_path / "s.eml"
    p = subprocess.run(MFL + ["sign", str(msg), "--domain", "example.org", "--selector", "s1",
                              "--key", str(key), "-o", str(signed)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert signed.read_bytes().startswith(b"DKIM-Signature: v=1;")
    answer = f"s1._domainkey.example.org={record}"
    p = subprocess.run(MFL + ["verify", str(signed), "--dns-txt", answer],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("dkim=pass"), p.stdout + p.stderr
    tampered = tmp_path / "t.eml"
    tampered.write_bytes(signed.read_bytes().replace(b"Hello", b"Hullo"))
    p = subprocess.run(MFL + ["verify", str(tampered), "--dns-txt", answer],
                       capture_output=True, text=True)
    assert p.returncode == 1 and p.stdout.startswith("dkim=fail"), p.stdout


def test_verify_unsigned_and_missing(tmp_path):
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"From: a@b\n\nx\n")
    p = subprocess.run(MFL + ["verify", str(msg)], capture_output=True, text=True)
    assert p.returncode == 1 and "dkim=none" in p.stdout
    p = subprocess.run(MFL + ["verify", str(tmp_path / "nope.eml")], capture_output=True, text=True)
    assert p.returncode == 66 and "Traceback" not in p.stderr
