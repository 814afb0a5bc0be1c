"""Whole SMTP transactions: mfl's session driver against mailfromd 8.15 under mtasim.

Each ``tests/diff/mmq/NAME.mfl`` was run by ``tools/record_mtasim.py``: the
real mailfromd as a milter, mtasim as the MTA, a proxy decoding the milter
replies.  ``NAME.expected`` holds those replies and mailfromd's echo output.
Here the same script, message, envelope and macros go through
``mfl.interp.session.run_session`` and must give

* the same modification requests, in the same order, with the same
  arguments (``milter_actions``: what mfl's milter host will send);
* the same verdict (the first non-continue reply; mtasim goes on calling
  the filter after a discard in the body, which mailfromd answers with
  ``continue``: only the first verdict counts);
* the same echo output (warnings compared without program name and path).

The milter stages at which mailfromd answers ``continue`` depend on its
protocol negotiation (it asks for the header callbacks when the script uses
the current message) and are not compared.
"""
from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

_spec = importlib.util.spec_from_file_location("record_mtasim", REPO / "tools" / "record_mtasim.py")
rec = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rec)

SESSIONS = rec.session_scripts(REPO)
TERMINAL = ("accept", "reject", "tempfail", "discard", "replycode")


def _split(events):
    mods, verdict = [], ["continue"]
    for e in events:
        kind = e[1]
        if kind in TERMINAL:
            verdict = e[1:]
            break
        if kind in ("continue", "progress", "skip"):
            continue
        mods.append(e[1:])
    return mods, verdict


def _norm_log(lines):
    out = []
    for line in lines:
        line = re.sub(r"^(?:warning: |mfl: |mfld: |mailfromd: )", "", line)
        line = line.replace(str(REPO) + "/", "")
        out.append(line)
    return out


def run_ours(script: Path, spec: dict):
    from mfl.frontend import Options, compile_file
    from mfl.interp.compiler import compile_unit
    from mfl.interp.session import milter_actions, run_session
    from mfl.message import Message
    unit = compile_file(str(script), Options(warnings=False))
    assert not unit.diags.errors, [d.format_gnu() for d in unit.diags.items]
    prog = compile_unit(unit, "mfl")
    msg = Message.load(str(REPO / spec["message"]))
    buf = io.StringIO()
    res = run_session(prog, msg, sender=spec["from"], recipients=spec["rcpt"],
                      macros=spec["macros"], helo=spec["helo"], out=buf, err=buf)
    return res, milter_actions(res), buf.getvalue().splitlines()


def test_sessions_present():
    assert len(SESSIONS) >= 10
    missing = [str(s) for s in SESSIONS if not (REPO / s).with_suffix(".expected").exists()]
    assert not missing, f"sessions without .expected (run tools/record_mtasim.py): {missing}"


@pytest.mark.parametrize("script", SESSIONS, ids=lambda p: p.stem)
def test_session_agrees_with_mailfromd(script, monkeypatch):
    monkeypatch.chdir(REPO)
    expected = json.loads((REPO / script).with_suffix(".expected").read_text(encoding="utf-8"))
    spec = rec.read_spec(REPO / script)
    res, actions, log = run_ours(script, spec)
    exp_mods, exp_verdict = _split(expected["milter"])
    our_mods, our_verdict = _split(actions)
    info = f"\nmailfromd: {expected['milter']}\nours: {actions}"
    assert our_mods == exp_mods, "modification requests differ" + info
    assert our_verdict == exp_verdict, "verdict differs" + info
    assert _norm_log(log) == _norm_log(expected["log"]), "echo output differs"
