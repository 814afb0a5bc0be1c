"""One milter connection: the handlers of a compiled program, stage by stage.

The MTA-facing adapter calls ``connect``, ``helo``, ``envfrom``, ``envrcpt``,
``data``, ``header``, ``eoh``, ``body``, ``eom``, ``abort`` and ``close``;
each returns a ``Reply``.  ``eom`` also returns the queued modifications as
milter actions.  A run-time error in the filter answers tempfail (451
4.3.0; mailfromd 8.15 answers "410" without an extended code, see
docs/differences.md) and is logged with the script location; nothing is
accepted that the filter did not accept.

What the handlers see follows mailfromd 8.15 under mtasim (the sessions of
tests/diff/sessions): a reply is set only for an action with a code and a
text; global variables keep their values from one message to the next and
are reset when a message ends before its eom (a decision in envfrom, data,
header, eoh or body, or an abort).
"""
from __future__ import annotations

import io
import logging
import tempfile
from dataclasses import dataclass

from ..message.blob import SPILL_THRESHOLD, Blob, _FileStore
from ..runtime.state import Runtime
from ..interp.run import safe_call_handler

log = logging.getLogger("mfld")

_ENC = ("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Reply:
    kind: str                   # continue, accept, reject, tempfail, discard
    code: str | None = None
    xcode: str | None = None
    text: str | None = None


CONTINUE = Reply("continue")
# where a decision other than continue ends the message (in envrcpt, reject and
# tempfail refuse one recipient only)
_MESSAGE_STAGES = ("envfrom", "data", "header", "eoh", "body")
TEMPFAIL_ERROR = Reply("tempfail", "451", "4.3.0", "Local configuration error; please try again later")


_PROG_PREFIXES = ("mfld: ", "mfl: ")


class _LogStream(io.TextIOBase):
    """Where `echo' and run-time errors go in the daemon: the log, with the queue id.
    Run-time warnings get mailfromd's ``warning:`` word."""

    def __init__(self, conn, level):
        self.conn, self.level, self.buf = conn, level, ""

    def write(self, s):
        self.buf += s
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            level = self.level
            if line.startswith(_PROG_PREFIXES):           # the log adds its own tag
                line = line.split(": ", 1)[1]
                if line.startswith("RUNTIME WARNING"):
                    level, line = logging.WARNING, "warning: " + line
            log.log(level, "%s%s", self.conn.log_prefix(), line)
        return len(s)


class _LiveMacros(dict):
    """The macros the MTA sent; a name not among them is asked of the MTA."""
    __slots__ = ("source",)

    def get(self, name, default=None):
        v = dict.get(self, name)
        if v is None and self.source is not None:
            v = self.source(name)
        return default if v is None else v

    def __contains__(self, name):
        return self.get(name) is not None


class Connection:
    def __init__(self, program, macro_source=None, echo=None, trace: bool = False):
        """ECHO: where `echo' writes (mailfromd's --echo=FILE); the log by default.
        TRACE: log each action the filter takes (--trace)."""
        self.program = program
        self.rt = Runtime(program, out=echo or _LogStream(self, logging.INFO),
                          err=_LogStream(self, logging.ERROR))
        if trace:
            self.rt.trace_actions = _LogStream(self, logging.INFO)
        if macro_source is not None:
            live = _LiveMacros(self.rt.macros)
            live.source = macro_source
            self.rt.macros = live
        self.headers: list = []
        self.body = _Spool(self._head)
        self.rcpt_count = 0
        self.failed = False
        safe_call_handler(self.rt, "begin")

    def log_prefix(self) -> str:
        qid = self.rt.macros.get("i")
        return f"{qid}: " if qid else ""

    def set_macros(self, macros: dict) -> None:
        for k, v in macros.items():
            if v is not None:
                self.rt.macros[k.strip("{}")] = v

    def _run(self, stage, args=()) -> Reply:
        reply = self._decide(stage, args)
        if reply.kind != "continue" and (
                stage in _MESSAGE_STAGES
                or (stage == "envrcpt" and reply.kind in ("accept", "discard"))):
            # the message ends before its eom: as after an abort, mailfromd
            # starts the next one with its global variables reset
            self.rt.reset_message()
        return reply

    def _decide(self, stage, args) -> Reply:
        if not self.program.handlers.get(stage):
            return CONTINUE
        act, ok = safe_call_handler(self.rt, stage, args)
        if not ok:
            return TEMPFAIL_ERROR
        if act is None:
            return CONTINUE
        if act.kind == "accept" and stage != "eom" and self.rt.mmq:
            # the MTA hears no more about this message: what was queued is lost,
            # and mailfromd says so
            pos = getattr(act, "pos", None)
            self.rt.warning(f"{pos[0]}:{pos[1]}" if pos else self.program.file,
                            "`accept' causes previous message modification commands to be "
                            "ignored; call mmq_purge() prior to `accept', to suppress this "
                            "warning")
            self.rt.mmq.clear()
        if act.kind in ("reject", "tempfail") and act.code and act.text:
            # mailfromd sets a reply only when the action has both a code and a
            # text; otherwise the MTA answers with its own default reply
            return Reply(act.kind, act.code, act.xcode or None, act.text)
        return Reply(act.kind)

    # the stages -----------------------------------------------------------
    def connect(self, hostname, family, port, address) -> Reply:
        return self._run("connect", [hostname, family, port, address])

    def helo(self, name) -> Reply:
        return self._run("helo", [name])

    def envfrom(self, sender, args=()) -> Reply:
        # a new message: its queue, headers and body start empty; the global
        # variables keep their values (mailfromd resets them when a message is
        # aborted: RSET, or a decision before eom, see _run)
        self.rt.new_message()
        self.headers, self.body = [], _Spool(self._head)
        self.rcpt_count = 0
        self.rt.set_builtin_var("rcpt_count", 0)
        return self._run("envfrom", [sender, " ".join(args)])

    def envrcpt(self, rcpt, args=()) -> Reply:
        self.rcpt_count += 1                    # RCPT commands of this message, as mailfromd
        self.rt.set_builtin_var("rcpt_count", self.rcpt_count)
        return self._run("envrcpt", [rcpt, " ".join(args)])

    def data(self) -> Reply:
        return self._run("data")

    def header(self, name, value, raw: bool = False) -> Reply:
        """RAW: the MTA sent the value as it is in the message, leading blanks
        included (SMFIP_HDR_LEADSPC); the handler gets it without them, as
        from an MTA that strips them."""
        if raw:
            self.headers.append((name, value))
            return self._run("header", [name, value.lstrip(" \t")])
        self.headers.append((name, " " + value if value[:1] not in (" ", "\t") else value))
        return self._run("header", [name, value])

    def eoh(self) -> Reply:
        if not self.program.handler("eoh"):
            return CONTINUE                  # the message is built once, at eom
        self.rt.message = self._message()
        return self._run("eoh")

    def body_chunk(self, chunk: bytes) -> Reply:
        self.body.add(chunk)
        if not self.program.handler("body"):
            return CONTINUE
        from ..interp.session import BodyChunk
        return self._run("body", [BodyChunk(bytes(chunk)), len(chunk)])

    def eom(self) -> tuple[Reply, list]:
        self.rt.message = self._message()
        reply = self._run("eom")
        mods = list(self.rt.mmq) if reply.kind in ("continue", "accept") else []
        return reply, mods

    def abort(self) -> None:
        self.rt.reset_message()
        self.headers, self.body = [], _Spool(self._head)   # do not hold an aborted message

    def close(self) -> None:
        safe_call_handler(self.rt, "end")
        try:
            from ..builtins import io as _io
            _io.close_all(self.rt)
        except Exception:            # closing must never fail the connection
            pass

    def _head(self) -> bytes:
        return b"".join(f"{n}:{v}\r\n".encode(*_ENC) for n, v in self.headers) + b"\r\n"

    def _message(self):
        from ..message import Message
        return Message.parse(self.body.blob(), mbox_prefix=False)


class _Spool:
    """The message as it arrives: the header, then the body chunks; in memory up
    to the spill threshold, then in a temporary file (a 50 MB body costs no
    50 MB of memory, nor copies of it)."""

    __slots__ = ("head", "parts", "size", "fp")

    def __init__(self, head):
        self.head = head                     # () -> the header bytes (known before the body)
        self.parts: list = []
        self.size = 0
        self.fp = None

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.fp is not None:
            self.fp.write(chunk)
            return
        self.parts.append(chunk)
        if self.size > SPILL_THRESHOLD:
            self.fp = tempfile.TemporaryFile(prefix="mflmsg.")
            self.fp.write(self.head())
            for p in self.parts:
                self.fp.write(p)
            self.parts = []

    def blob(self):
        if self.fp is None:
            return Blob(self.head() + b"".join(self.parts))
        self.fp.flush()
        size = self.fp.seek(0, 2)
        return Blob(_store=_FileStore(self.fp), _start=0, _len=size)


class _NoConnection:
    @staticmethod
    def log_prefix() -> str:
        return ""


def log_stream_runtime(program) -> Runtime:
    """A runtime outside any connection (startup, shutdown): output goes to the log."""
    return Runtime(program, out=_LogStream(_NoConnection, logging.INFO),
                   err=_LogStream(_NoConnection, logging.ERROR))
