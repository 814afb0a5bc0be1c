"""Interoperability with OpenDKIM (Debian opendkim-tools).

opendkim-testmsg signs with fixed settings (rsa-sha1, relaxed/simple, its
own header list): those signatures are verified by us.  Ours (rsa-sha256,
rsa-sha1, ed25519-sha256, every canonicalisation) are verified by
opendkim-testmsg against a DNS server on 127.0.0.1:53 inside private
network and mount namespaces (``unshare -mn``, root only).  Skipped when
the tools, or the namespaces, are not available."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from mfl.dkim import private_key_pem, public_key_record, sign, verify

from dkim_support import FakeDNS, log_interop
from interop_corpus import CORPUS, HEADERS

TESTMSG = shutil.which("opendkim-testmsg") or (
    "/usr/sbin/opendkim-testmsg" if os.path.exists("/usr/sbin/opendkim-testmsg") else None)
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opendkim_ns.py")

pytestmark = pytest.mark.skipif(TESTMSG is None,
                                reason="opendkim-testmsg not installed (opendkim-tools)")

CANONS = ["simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"]
ALGS = ["rsa-sha256", "rsa-sha1", "ed25519-sha256"]


def _namespaces_work():
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    r = subprocess.run(["unshare", "-mn", "sh", "-c", "ip link set lo up"],
                       capture_output=True)
    return r.returncode == 0


@pytest.fixture(scope="module")
def keys(rsa_key, ed_key, tmp_path_factory):
    d = tmp_path_factory.mktemp("opendkim")
    keyfile = d / "rsa.pem"
    keyfile.write_bytes(private_key_pem(rsa_key, pkcs8=False))
    zone = {"rsa._domainkey.example.com": [public_key_record(rsa_key)],
            "ed._domainkey.example.com": [public_key_record(ed_key)]}
    return d, keyfile, zone


def repair(signed: bytes) -> bytes:
    """opendkim-testmsg 2.11.0~beta2 prints stray bytes after the b= value
    (its tail again: "...Ak7ELg1w==7ELg1w=="); a 2048-bit RSA signature
    always ends in "==", so cut there."""
    head, sep, rest = signed.partition(b"\n\n")
    head = re.sub(rb"(\sb=[A-Za-z0-9+/\s]*?==)[A-Za-z0-9+/=]+", rb"\1", head, count=1)
    return head + sep + rest


def lf(msg):
    return msg.replace(b"\r\n", b"\n")


def test_opendkim_signs_we_verify(keys):
    d, keyfile, zone = keys
    failures = []
    for name, msg in CORPUS.items():
        r = subprocess.run([TESTMSG, "-d", "example.com", "-s", "rsa", "-k", str(keyfile)],
                           input=lf(msg), capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert b"c=relaxed/simple" in r.stdout.replace(b"\n\t", b" ")
        res = verify(repair(r.stdout), resolver=FakeDNS({k: v for k, v in zone.items()}))
        if res.verdict != "pass":
            failures.append((name, [(x.reason, x.text) for x in res]))
    log_interop("OpenDKIM", "mfl", "rsa-sha1", "relaxed/simple",
                f"{len(CORPUS) - len(failures)}/{len(CORPUS)}")
    assert not failures


@pytest.mark.skipif(not _namespaces_work(), reason="needs root and unshare -mn")
@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("alg", ALGS)
def test_we_sign_opendkim_verifies(keys, rsa_key, ed_key, alg, canon):
    d, _, zone = keys
    zfile = d / "zone.json"
    zfile.write_text(json.dumps(zone))
    key, sel = (ed_key, "ed") if alg.startswith("ed") else (rsa_key, "rsa")
    failures = []
    for name, msg in CORPUS.items():
        h = sign(lf(msg), "example.com", sel, key, canon=tuple(canon.split("/")),
                 algorithm=alg, headers=HEADERS, linesep=b"\n")
        mfile = d / f"{name}.eml"
        mfile.write_bytes(h + lf(msg))
        r = subprocess.run(["unshare", "-mn", sys.executable, RUNNER, str(zfile), str(mfile)],
                           capture_output=True, timeout=120)
        out = r.stdout.decode(errors="replace")
        if r.returncode != 0 or not out.startswith("0\n"):
            failures.append((name, out.strip(), r.stderr.decode(errors="replace")[-300:]))
    log_interop("mfl", "OpenDKIM", alg, canon, f"{len(CORPUS) - len(failures)}/{len(CORPUS)}")
    assert not failures


@pytest.mark.skipif(not _namespaces_work(), reason="needs root and unshare -mn")
def test_opendkim_sees_our_failures(keys, rsa_key):
    d, _, zone = keys
    zfile = d / "zone.json"
    zfile.write_text(json.dumps(zone))
    msg = lf(CORPUS["plain"])
    h = sign(msg, "example.com", "rsa", rsa_key, linesep=b"\n")
    mfile = d / "bad.eml"
    mfile.write_bytes(h + msg.replace(b"Joe.", b"Jim."))
    r = subprocess.run(["unshare", "-mn", sys.executable, RUNNER, str(zfile), str(mfile)],
                       capture_output=True, timeout=120)
    assert not r.stdout.startswith(b"0\n"), r.stdout
