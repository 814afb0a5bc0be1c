"""End to end over a real milter socket: mtasim (mailfromd's MTA simulator) against ``mfld``.

For each session of tests/diff/mmq and tests/diff/sessions (recorded from the
real mailfromd 8.15 by tools/record_mtasim.py), ``mfld`` serves the same
script on a UNIX socket in a temporary directory, the recorder's decoding
proxy sits between mtasim and it, and these must be the ones mailfromd gave:

* the SMTP replies mtasim prints (every command of the session);
* the modification requests the milter sends (in order, arguments and all);
* the sequence of decisions (every reply other than ``continue``: accept,
  reject, tempfail, discard, replycode -- one per refused recipient, per
  transaction...);
* the log: the echo output, run-time error reports and compile-time
  warnings, without the program name, the daemon's own start/stop lines
  and, in mfld's, the queue id it puts before each line (mailfromd does not
  write it to standard error); addresses in mailfromd's compiled code
  ("Division by zero at 00000017") are mfl's 00000000 (docs/differences.md).

Which milter stages are answered with ``continue`` depends on the protocol
negotiation (mailfromd skips the stages it has no handler for) and is not
compared.  Sessions with a ``DNS`` zone get a loopback nameserver when the
test may bind port 53 (root), else the zone is handed to mfld as
``MFL_DKIM_TXT_FILE``.  The filter is killed as soon as the session is over
(libmilter would take five seconds to notice a SIGTERM), except for scripts
with a ``shutdown`` handler, whose output is part of the log.

Skipped when mtasim is not installed.  Servers are started here and always
stopped (bounded waits).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("record_mtasim", REPO / "tools" / "record_mtasim.py")
rec = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rec)

pytestmark = pytest.mark.skipif(shutil.which("mtasim") is None, reason="mtasim not installed")
SESSIONS = rec.all_session_scripts(REPO)
TERMINAL = ("accept", "reject", "tempfail", "discard", "replycode")

# Known differences -- mailfromd 8.15 behaviour mfl deliberately does not reproduce,
# and open issues of mfld's pymilter adapter (mfl/milter/adapter.py): session ->
# (reason, {mailfromd's text: mfl's text}, parts that may differ beyond that).  Such a
# session must agree with the recording once the texts are substituted, the parts
# named aside (a real failure otherwise); it then fails on the raw comparison with
# KnownDifference, which is the expected (strict) failure.  When the difference goes
# away, the test XPASSes, which fails: take the entry out.
_ERR410 = "410 Local configuration error; please try again later"
_ERR451 = "451 4.3.0 Local configuration error; please try again later"
_RUNTIME_ERROR_REPLY = (
    "a run-time error: mailfromd 8.15 answers '410 Local configuration error; please try "
    "again later' (gacopyz_setreply(ctx, \"410\", NULL, ...) in its engine.c, no enhanced "
    "code); mfld answers 451 4.3.0 with the same text, RFC 5321's code for a local error "
    "in processing (docs/deploy.md, docs/differences.md)", {_ERR410: _ERR451}, ())
KNOWN = {
    "sessions/runtime_error_envfrom": _RUNTIME_ERROR_REPLY,
    "sessions/runtime_error_rcpt": _RUNTIME_ERROR_REPLY,
    "sessions/runtime_error_eom": _RUNTIME_ERROR_REPLY,
    "sessions/macros_late": (
        "mailfromd asks the MTA to skip the stages it has no handler for, and mtasim then "
        "hands over those stages' macros late ($f undefined in the first message's header "
        "handler...); mfld asks for every stage whose macros the script reads",
        {}, ("log",)),
}


class KnownDifference(AssertionError):
    """The recorded mailfromd behaviour that mfl does not reproduce on purpose."""


def _key(script: Path) -> str:
    return f"{script.parent.name}/{script.stem}"


def _run_ours(script: Path) -> dict:
    def command(tmp, sock):
        return [sys.executable, "-m", "mfl.cli.mfld_main", "--foreground", "--stderr",
                "--no-config", "--state-directory", tmp, "-p", f"unix:{sock}"]
    text = (REPO / script).read_text(encoding="utf-8", errors="replace")
    graceful = re.search(r"^\s*prog\s+shutdown\b", text, re.M) is not None
    env = dict(os.environ, LC_ALL="C", TZ="UTC")
    env.pop("MFL_DKIM_TXT_FILE", None)
    return rec.play(script, command, env=env, graceful=graceful, txt_fallback=True)


# the daemon's own lines (mfl/milter/daemon.py; mailfromd's counterparts are left out by
# the recorder)
_DAEMON_LINE = re.compile(r"mfld |(?:workers )?run(?:ning)? as user |not running as root: |"
                          r"serving .* on |stopped$|stopping: |waiting for \d+ connection|"
                          r"SIGHUP: |reloaded |worker \d+[ :]|cannot preload ")


def _queue_ids(spec: dict) -> set[str]:
    """The values the session gives the i macro (mmq-macro, \\D lines, mtasim -D)."""
    ids = {spec["macros"]["i"]} if spec["macros"].get("i") else set()
    for line in spec["smtp"] + [" ".join(spec["mtasim"])]:
        ids |= set(re.findall(r"(?:^\\D|\s|^)i=(\S+)", line))
    return ids


def _our_log(stderr: str, spec: dict) -> list[str]:
    qids = _queue_ids(spec)
    out = []
    for line in stderr.splitlines():
        line = re.sub(r"^mfld(?:\[\d+\]|#\d+)?: (?:info: )?", "", line)
        if _DAEMON_LINE.match(line):
            continue
        qid = line.split(": ", 1)[0]
        if qid in qids:
            line = line[len(qid) + 2:]
        out.append(line.replace(str(REPO) + "/", ""))
    return out


def _mods(events):
    # The proxy labels a reply with the stage the MTA was in when it read it; the two
    # directions are pumped by separate threads, so a late modification can be labelled
    # with the next command (quit).  Modifications only ever answer eom: compare them
    # without the label.
    return [e[1:] for e in events if e[1] not in ("continue", "progress", "skip") + TERMINAL]


def _decisions(events):
    # mtasim goes on sending the commands of a message after the filter discarded or
    # accepted it (a real MTA does not): mailfromd answers them with continue,
    # libmilter (under mfld) with the same decision again.  Not visible in SMTP: such
    # repeats count once.
    out = []
    for e in events:
        if e[1] in TERMINAL and not (e[1] in ("discard", "accept") and out and out[-1] == e[1:]):
            out.append(e[1:])
    return out


def _compare(expected: dict, got: dict, spec: dict, aside=()) -> None:
    info = (f"\nmailfromd: {json.dumps(expected['milter'])}"
            f"\nmfld:      {json.dumps(got['milter'])}")
    assert got["smtp"] == expected["smtp"], "SMTP replies differ" + info
    assert _mods(got["milter"]) == _mods(expected["milter"]), "modifications differ" + info
    assert _decisions(got["milter"]) == _decisions(expected["milter"]), "decisions differ" + info
    if "log" not in aside:
        assert _code_addresses(_our_log(got["stderr"], spec)) == \
            _code_addresses(expected["log"]), "log differs"


def _code_addresses(lines):
    # "Division by zero at 00000017": an address in mailfromd's compiled code, which
    # mfl writes as 00000000 (docs/differences.md)
    return [re.sub(r"\b(by zero at )[0-9a-f]{8}\b", r"\g<1>00000000", x) for x in lines]


def _substitute(value, table):
    if isinstance(value, str):
        for a, b in table.items():
            value = value.replace(a, b)
        return value
    if isinstance(value, list):
        return [_substitute(v, table) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, table) for k, v in value.items()}
    return value


def _params():
    for s in SESSIONS:
        known = KNOWN.get(_key(s))
        marks = [pytest.mark.xfail(reason=known[0], strict=True, raises=KnownDifference)] \
            if known else []
        yield pytest.param(s, marks=marks, id=_key(s))


def test_sessions_recorded():
    missing = [str(s) for s in SESSIONS if not (REPO / s).with_suffix(".expected").exists()]
    assert not missing, f"sessions without .expected (run tools/record_mtasim.py): {missing}"
    stale = [k for k in KNOWN if k not in {_key(s) for s in SESSIONS}]
    assert not stale, f"KNOWN names sessions that do not exist: {stale}"


@pytest.mark.parametrize("script", list(_params()))
def test_mfld_over_mtasim_agrees_with_mailfromd(script):
    expected = json.loads((REPO / script).with_suffix(".expected").read_text(encoding="utf-8"))
    spec = rec.read_spec(REPO / script)
    got = _run_ours(script)
    known = KNOWN.get(_key(script))
    if known is None:
        _compare(expected, got, spec)
        return
    _compare(_substitute(expected, known[1]), got, spec, known[2])
    try:
        _compare(expected, got, spec)
    except AssertionError as e:
        raise KnownDifference(f"{known[0]}: {e}") from None
