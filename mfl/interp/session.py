"""A whole SMTP transaction over a saved message, without an MTA (``mfl test --message``).

``run_session`` calls a compiled program's handlers the way an MTA calling a
milter does, for one message:

    startup, begin,
    connect (host, family, port, address), helo (domain),
    envfrom (sender, ESMTP args), envrcpt (recipient, args) per recipient,
    data, header (name, value) per header field, eoh,
    body (chunk, size) per chunk of at most ``body_chunk`` bytes, eom,
    end, shutdown

and stops where an MTA would: ``reject``, ``tempfail`` or ``discard`` end the
transaction (in ``envrcpt``, ``reject`` and ``tempfail`` refuse only that
recipient; the message goes on while one recipient is left); ``accept``
accepts the message as it is -- no further handler runs and the queued
modifications are dropped (mailfromd warns about that), except in ``eom``,
whose modifications are sent before the accept.  A run-time error ends in
``tempfail``, as in mailfromd.

What the handlers see, as from Sendmail:

* ``envfrom``/``envrcpt`` addresses in angle brackets (``<a@example.org>``);
* header values without the blanks after the colon, folded lines joined by
  LF (Sendmail's form; mtasim passes CR LF instead);
* body chunks as sent over SMTP: lines end in CR LF whatever the file used
  (``$1`` is a ``BodyChunk``: a string whose ``raw`` attribute holds the
  bytes; ``body_string`` and ``write_body`` use them);
* macros: the ones given, plus ``f``/``mail_addr`` (sender), ``rcpt_addr``
  (current recipient), ``i`` (queue id) when not given; the built-in
  variable ``rcpt_count`` counts the RCPT commands so far;
* the current message (``rt.message``, read by ``current_message`` and
  ``current_header*``) is the message as received, set before ``eoh``.

Visibility rule (mailfromd's): queued modifications (``header_add``,
``replbody``, ``rcpt_add``...) are only requests to the MTA, performed after
``eom``; no handler, not even ``eom``, sees their effect -- ``current_header``
and ``current_message`` always show the message as received, and a
header added in ``eoh`` is not counted by ``current_header_count`` in
``eom``.  ``mmq_purge`` drops the requests queued so far.

The result carries the verdict, the stage that gave it, the queued
modifications, the envelope after them, and the message as the MTA would
deliver it (``mfl.message.edit.apply``), byte-exact where unmodified.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ..message import Envelope, Message, apply
from ..message.blob import Blob
from ..runtime.state import ActionSignal, Mod, Runtime
from .run import safe_call_handler

_ENC = ("utf-8", "surrogateescape")
BODY_CHUNK = 65535          # Sendmail's MILTER_CHUNK_SIZE


class BodyChunk(str):
    """A body handler's $1: the chunk as an MFL string, with the bytes in ``raw``."""
    __slots__ = ("raw",)

    def __new__(cls, raw: bytes):
        s = super().__new__(cls, raw.decode(*_ENC))
        s.raw = raw
        return s


@dataclass
class SessionResult:
    verdict: str = "continue"        # continue (delivered), accept, reject, tempfail, discard
    stage: str = "eom"               # the handler that decided
    reply: tuple | None = None       # (code, xcode, text) given with the action
    mods: list = field(default_factory=list)          # the queue applied at eom
    envelope: Envelope = field(default_factory=Envelope)
    message: Message | None = None   # as delivered (None: not delivered)
    rejected_rcpts: list = field(default_factory=list)   # (rcpt, verdict, reply)
    events: list = field(default_factory=list)       # (stage, action) of every handler call
    dropped_mods: list = field(default_factory=list)  # mods lost to an early accept

    @property
    def delivered(self) -> bool:
        return self.message is not None


def _wire_chunks(body: Blob, size: int):
    """BODY as sent over SMTP (bare LF -> CR LF, a last line without its line end
    completed, as the SMTP client must), in chunks of at most SIZE bytes."""
    pending = bytearray()
    prev_cr = False
    last = b""
    for c in body.chunks():
        out = bytearray()
        start = 0
        while True:
            j = c.find(b"\n", start)
            if j < 0:
                out += c[start:]
                break
            cr = c[j - 1:j] == b"\r" if j > 0 else prev_cr
            out += c[start:j]
            out += b"\n" if cr else b"\r\n"
            start = j + 1
        prev_cr = c.endswith(b"\r")
        last = c[-1:]
        pending += out
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if last and last != b"\n":
        pending += b"\r\n"
    while pending:
        yield bytes(pending[:size])
        del pending[:size]


def _set_builtin_var(rt: Runtime, name: str, value) -> None:
    slot = rt.program.global_names.get(f":builtin:{name}")
    if slot is not None:
        rt.globals[slot] = value


def run_session(prog, message: Message, *, sender: str = "sender@example.org",
                recipients=("rcpt@example.net",), macros=None, helo: str = "localhost",
                client=("localhost", 2, 25, "127.0.0.1"), body_chunk: int = BODY_CHUNK,
                out=None, err=None, stack_trace: bool = False, variables=(),
                rt: Runtime | None = None) -> SessionResult:
    """Run PROG's handlers over MESSAGE (see the module documentation)."""
    out = out or sys.stderr
    err = err or sys.stderr
    macros = dict(macros or {})
    macros.setdefault("i", "MFL00001")
    if rt is None:
        rt = Runtime(prog, macros=macros, out=out, err=err)
    rt.stack_trace_on_error = stack_trace
    if variables:
        from .modes import set_variables
        set_variables(rt, variables)
    res = SessionResult(envelope=Envelope(sender=sender, recipients=[]))

    def call(stage, args=()):
        act, _ok = safe_call_handler(rt, stage, args)
        kind = act.kind if act is not None else "continue"
        if rt.program.handler(stage):
            res.events.append((stage, kind))
        return act, kind

    def finish(kind, stage, act):
        res.verdict, res.stage = kind, stage
        if act is not None and (act.code or act.xcode or act.text):
            res.reply = (act.code or ("550" if kind == "reject" else "451"),
                         act.xcode, act.text or "")

    for stage in ("startup", "begin"):
        safe_call_handler(rt, stage)
    try:
        _transaction(rt, res, message, call, finish, sender=sender, recipients=recipients,
                     macros=macros, helo=helo, client=client, body_chunk=body_chunk)
    finally:
        for stage in ("end", "shutdown"):
            safe_call_handler(rt, stage)
        from ..builtins import mailbox as _mbx
        _mbx.close_all(rt)
    return res


def _angle(addr: str) -> str:
    """An address as the MTA passes it to envfrom/envrcpt: in angle brackets."""
    return addr if addr.startswith("<") and addr.endswith(">") else f"<{addr}>"


def _early_accept(rt, res, act):
    if rt.mmq:
        pos = getattr(act, "pos", None)
        rt.warning(f"{pos[0]}:{pos[1]}" if pos else rt.program.file,
                   "`accept' causes previous message modification commands to be ignored; "
                   "call mmq_purge() prior to `accept', to suppress this warning")
        res.dropped_mods = list(rt.mmq)
        rt.mmq.clear()


def _transaction(rt, res, message, call, finish, *, sender, recipients, macros, helo,
                 client, body_chunk):
    host, family, port, addr = client
    rt.macros.setdefault("client_addr", addr)
    rt.macros.setdefault("client_name", host)
    act, kind = call("connect", [host, family, port, addr])
    if kind != "continue":
        if kind == "accept":
            _early_accept(rt, res, act)
            res.message = message
        return finish(kind, "connect", act)
    rt.macros.setdefault("s", helo)
    act, kind = call("helo", [helo])
    if kind != "continue":
        if kind == "accept":
            _early_accept(rt, res, act)
            res.message = message
        return finish(kind, "helo", act)
    rt.new_message()                 # globals set by connect and helo stay (as in mailfromd)
    rt.macros["f"] = macros.get("f", sender)
    rt.macros["mail_addr"] = macros.get("mail_addr", sender)
    act, kind = call("envfrom", [_angle(sender), ""])
    if kind != "continue":
        if kind == "accept":
            _early_accept(rt, res, act)
            res.message = message
            res.envelope.recipients = list(recipients)
        return finish(kind, "envfrom", act)
    accepted = []
    for n, rcpt in enumerate(recipients, 1):
        _set_builtin_var(rt, "rcpt_count", n)
        rt.macros["rcpt_addr"] = macros.get("rcpt_addr", rcpt)
        act, kind = call("envrcpt", [_angle(rcpt), ""])
        if kind in ("reject", "tempfail"):
            reply = None
            if act is not None and (act.code or act.xcode or act.text):
                reply = (act.code, act.xcode, act.text or "")
            res.rejected_rcpts.append((rcpt, kind, reply))
            continue
        accepted.append(rcpt)
        if kind in ("accept", "discard"):
            res.envelope.recipients = accepted + list(recipients[n:])
            if kind == "accept":
                _early_accept(rt, res, act)
                res.message = message
            return finish(kind, "envrcpt", act)
    res.envelope.recipients = accepted
    if not accepted:
        last = res.rejected_rcpts[-1] if res.rejected_rcpts else None
        res.verdict, res.stage = (last[1] if last else "reject"), "envrcpt"
        res.reply = last[2] if last else None
        return None
    rt.message = message
    stages = [("data", [])]
    stages += [("header", [f.name_str(), f.value_str()]) for f in message.fields]
    for stage, args in stages:
        act, kind = call(stage, args)
        if kind != "continue":
            return _stop(rt, res, message, stage, kind, act, finish)
    act, kind = call("eoh")
    if kind != "continue":
        return _stop(rt, res, message, "eoh", kind, act, finish)
    if rt.program.handler("body"):
        for chunk in _wire_chunks(message.body, max(1, body_chunk)):
            act, kind = call("body", [BodyChunk(chunk), len(chunk)])
            if kind != "continue":
                return _stop(rt, res, message, "body", kind, act, finish)
    act, kind = call("eom")
    res.mods = list(rt.mmq)
    if kind in ("reject", "tempfail", "discard"):
        return finish(kind, "eom", act)
    res.message = apply(message, res.mods, res.envelope)
    return finish(kind, "eom", act)


def _stop(rt, res, message, stage, kind, act, finish):
    if kind == "accept":
        _early_accept(rt, res, act)
        res.message = message
    return finish(kind, stage, act)


# ------------------------------------------------------------------ milter view

def _crlf(text) -> str:
    if isinstance(text, Blob):
        text = text.read().decode(*_ENC)
    return str(text).replace("\r\n", "\n").replace("\n", "\r\n")


def milter_actions(res: SessionResult) -> list:
    """The session as the milter replies mailfromd would send (tools/record_mtasim.py's form):
    [stage, action, ...] for each modification, then the final verdict."""
    out = []
    for m in res.mods:
        k = m.kind
        if k == "add_header":
            out.append(["eom", "addheader", m.name, m.value])
        elif k == "insert_header":
            out.append(["eom", "insheader", m.index, m.name, m.value])
        elif k == "replace_header":
            out.append(["eom", "chgheader", m.index, m.name, m.value])
        elif k == "delete_header":
            out.append(["eom", "chgheader", m.index, m.name, ""])
        elif k == "add_rcpt":
            out.append(["eom", "addrcpt", m.name])
        elif k == "delete_rcpt":
            out.append(["eom", "delrcpt", m.name])
        elif k == "set_from":
            out.append(["eom", "chgfrom", m.name] + ([m.value] if m.value else []))
        elif k in ("replace_body", "replace_body_fd"):
            out.append(["eom", "replbody", _crlf(m.value)])
        elif k == "quarantine":
            out.append(["eom", "quarantine", m.name])
    if res.reply is not None and res.verdict in ("reject", "tempfail"):
        code, xcode, text = res.reply
        out.append([res.stage, "replycode", " ".join(x for x in (code, xcode, text) if x)])
    else:
        out.append([res.stage, res.verdict])
    return out


def describe_mod(m: Mod) -> str:
    return m.describe()
