"""End to end over a real milter socket: mtasim (mailfromd's MTA simulator) against ``mfld``.

For each session of tests/diff/mmq (recorded from the real mailfromd 8.15 by
tools/record_mtasim.py), ``mfld`` serves the same script on a UNIX socket in a
temporary directory, the recorder's decoding proxy sits between mtasim and
it, and the SMTP replies mtasim prints and the modification requests the
milter sends must be the ones mailfromd gave.  Skipped when mtasim is not
installed.  Servers are started here and always stopped (bounded waits).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("record_mtasim", REPO / "tools" / "record_mtasim.py")
rec = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rec)

pytestmark = pytest.mark.skipif(shutil.which("mtasim") is None, reason="mtasim not installed")
SESSIONS = rec.session_scripts(REPO)
TERMINAL = ("accept", "reject", "tempfail", "discard", "replycode")


def _run_ours(script: Path) -> dict:
    spec = rec.read_spec(REPO / script)
    message = (REPO / spec["message"]).read_bytes()
    tmp = tempfile.mkdtemp(prefix="mflmilter.")
    sock, proxy_path = os.path.join(tmp, "milter"), os.path.join(tmp, "proxy")
    env = dict(os.environ, LC_ALL="C", TZ="UTC")
    srv = subprocess.Popen([sys.executable, "-m", "mfl.cli.mfld_main", "--foreground", "--stderr",
                            "-p", f"unix:{sock}", str(REPO / script)],
                           cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert rec._wait_for(sock, srv), "mfld did not start"
        proxy = rec.MilterProxy(proxy_path, sock)
        try:
            res = subprocess.run(["mtasim", "--stdio", "--no-interactive", "-X",
                                  f"unix://{proxy_path}"], cwd=REPO, env=env,
                                 input=rec.smtp_session(spec, message), capture_output=True,
                                 timeout=60)
            proxy.thread.join(timeout=10)
        finally:
            proxy.close()
    finally:
        srv.terminate()
        try:
            srv.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.communicate()
        shutil.rmtree(tmp, ignore_errors=True)
    smtp = res.stdout.decode("utf-8", "surrogateescape").replace("\r\n", "\n").splitlines()
    smtp = [re.sub(r"unix://\S+", "unix://@SOCKET@", s) for s in smtp]
    return {"smtp": smtp, "milter": proxy.events}


def _mods_and_verdict(events):
    # The proxy labels a reply with the stage the MTA was in when it read it; the two
    # directions are pumped by separate threads, so a late modification can be labelled
    # with the next command (quit).  Modifications only ever answer eom: compare them
    # without the label.
    mods = [e[1:] for e in events if e[1] not in ("continue", "progress", "skip") + TERMINAL]
    verdict = next((e[1:] for e in events if e[1] in TERMINAL), ["continue"])
    return mods, verdict


@pytest.mark.parametrize("script", SESSIONS, ids=lambda p: p.stem)
def test_mfld_over_mtasim_agrees_with_mailfromd(script):
    expected = json.loads((REPO / script).with_suffix(".expected").read_text())
    got = _run_ours(script)
    assert got["smtp"] == expected["smtp"], (got["smtp"], expected["smtp"])
    assert _mods_and_verdict(got["milter"]) == _mods_and_verdict(expected["milter"])
