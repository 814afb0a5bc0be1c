"""Interoperability with Perl's Mail::DKIM (Debian libmail-dkim-perl):
its signatures verified by us, ours by it (keys served by a loopback DNS
server).  Mail::DKIM 1.20230212 has no ed25519: RSA only.  Skipped when
Mail::DKIM is not installed."""
import os
import shutil
import subprocess

import pytest

from mfl.dkim import private_key_pem, public_key_record, sign, verify

from dkim_support import FakeDNS, LoopbackDNS, log_interop
from interop_corpus import CORPUS, HEADERS

SCRIPT = os.path.join(os.path.dirname(__file__), "mail_dkim.pl")


def _have_mail_dkim():
    if not shutil.which("perl"):
        return False
    r = subprocess.run(["perl", "-MMail::DKIM::Verifier", "-MNet::DNS::Resolver", "-e1"],
                       capture_output=True)
    return r.returncode == 0


pytestmark = pytest.mark.skipif(not _have_mail_dkim(),
                                reason="Perl Mail::DKIM not installed (libmail-dkim-perl)")

CANONS = ["simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"]
ALGS = ["rsa-sha256", "rsa-sha1"]


@pytest.fixture(scope="module")
def setup(rsa_key, tmp_path_factory):
    d = tmp_path_factory.mktemp("perl")
    keyfile = d / "rsa.pem"
    keyfile.write_bytes(private_key_pem(rsa_key, pkcs8=False))
    records = {"rsa._domainkey.example.com": public_key_record(rsa_key)}
    return keyfile, records


def perl(*args, data):
    r = subprocess.run(["perl", SCRIPT, *map(str, args)], input=data,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("alg", ALGS)
def test_mail_dkim_signs_we_verify(setup, alg, canon):
    keyfile, records = setup
    failures = []
    for name, msg in CORPUS.items():
        h = perl("sign", keyfile, "rsa", "example.com", alg, canon, ":".join(HEADERS), data=msg)
        assert h.startswith(b"DKIM-Signature:")
        res = verify(h + msg, resolver=FakeDNS(records))
        if res.verdict != "pass":
            failures.append((name, [(r.reason, r.text) for r in res]))
    log_interop("Mail::DKIM", "mfl", alg, canon, f"{len(CORPUS) - len(failures)}/{len(CORPUS)}")
    assert not failures


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("alg", ALGS)
def test_we_sign_mail_dkim_verifies(setup, rsa_key, alg, canon):
    _, records = setup
    failures = []
    with LoopbackDNS({k: [v] for k, v in records.items()}) as srv:
        for name, msg in CORPUS.items():
            h = sign(msg, "example.com", "rsa", rsa_key, canon=tuple(canon.split("/")),
                     algorithm=alg, headers=HEADERS)
            out = perl("verify", srv.port, data=h + msg).decode()
            if not out.startswith("pass"):
                failures.append((name, out.strip()))
    log_interop("mfl", "Mail::DKIM", alg, canon, f"{len(CORPUS) - len(failures)}/{len(CORPUS)}")
    assert not failures


def test_mail_dkim_sees_our_failures(rsa_key, setup):
    _, records = setup
    msg = CORPUS["plain"]
    h = sign(msg, "example.com", "rsa", rsa_key)
    with LoopbackDNS({k: [v] for k, v in records.items()}) as srv:
        assert perl("verify", srv.port, data=h + msg.replace(b"Joe.", b"Jim.")).startswith(b"fail")


def test_last_line_without_line_end(rsa_key, setup):
    # relaxed body, whitespace at the end of a last line with no CRLF:
    # Mail::DKIM and we drop it (RFC 6376 3.4.4); dkimpy keeps it
    keyfile, records = setup
    msg = b"From: joe@example.com\r\nSubject: x\r\n\r\nlast line   "
    h = perl("sign", keyfile, "rsa", "example.com", "rsa-sha256", "relaxed/relaxed",
             "from:subject", data=msg)
    assert verify(h + msg, resolver=FakeDNS(records)).verdict == "pass"
