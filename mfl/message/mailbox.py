"""Mailboxes as mailfromd 8.15 opens them through Mailutils 3.15: mbox and maildir.

``open_mailbox(url, mode)`` accepts ``mbox:PATH``, ``mbox://PATH``,
``maildir:PATH``, ``maildir://PATH`` and absolute paths (a directory with a
``cur`` or ``new`` subdirectory is a maildir, anything else an mbox); a
relative path without a scheme is refused as Mailutils refuses it.  MODE is
made of ``r``, ``w``, ``a`` and ``+``; only ``+`` creates a missing mailbox.

mbox (Mailutils' "mboxrd" reader): a message starts at a ``From `` line that
carries a date, at the start of the file or after an empty line; its header
ends at the first empty line; its body runs up to (not including) the empty
line before the next ``From `` line, or to the end of the file for the last
message; body lines ``>From ``, ``>>From ``... lose one ``>``.  Appended
messages are written on close as ``From SENDER DATE``, the header, an
``X-UID`` field (and ``X-IMAPbase`` in a new mailbox's first message), the
body with ``From `` lines escaped and an empty line.

maildir: the files of ``cur/`` and ``new/`` (dot files ignored) in the order
of their names; appended messages go to ``new/``.
"""
from __future__ import annotations

import os
import re
import socket
import time

from .blob import Blob
from .mu import MuError, MuMessage, header_bytes, parse_header

_FROM_RE = re.compile(rb"^From \S.*\b\d{1,2}:\d\d(?::\d\d)?\b.*\d{4}")
_ESC_RE = re.compile(rb"^>+From ", re.M)


class MailboxError(Exception):
    """KIND: 'create' (bad URL) or 'open'; TEXT: the Mailutils error text."""

    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind, self.text = kind, text


def parse_mode(mode: str) -> set:
    """The set of mode letters; ValueError(char) on a bad one."""
    out = set()
    for c in mode:
        if c not in "rwa+":
            raise ValueError(c)
        out.add(c)
    if not out:
        out.add("r")
    return out


def _resolve(url: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z][\w+.-]*):(.*)$", url)
    if m and m.group(1) not in ("",):
        scheme, rest = m.group(1).lower(), m.group(2)
        if scheme not in ("mbox", "maildir", "file"):
            raise MailboxError("create", "Requested item not found")
        if rest.startswith("//"):
            rest = rest[2:]
        if not rest:
            raise MailboxError("create", "URL missing required parts")
        if scheme == "file":
            scheme = ""
        return scheme, rest
    if not url.startswith("/"):
        raise MailboxError("create", "URL missing required parts")
    return "", url


class Mailbox:
    def __init__(self, url: str, mode: str = "r"):
        self.url = url
        self.mode = parse_mode(mode)
        scheme, path = _resolve(url)
        create = "+" in self.mode
        if not scheme:
            if os.path.isdir(path):
                scheme = "maildir"
            else:
                scheme = "mbox"
        self.kind = scheme
        self.path = path
        self.pending: list[MuMessage] = []
        self._messages: list[MuMessage] | None = None
        if scheme == "maildir":
            if not os.path.isdir(path):
                if not create:
                    raise MailboxError("open", os.strerror(2))
                for sub in ("", "cur", "new", "tmp"):
                    os.makedirs(os.path.join(path, sub), exist_ok=True)
        else:
            if not os.path.exists(path):
                if not create:
                    raise MailboxError("open", os.strerror(2))
                try:
                    open(path, "ab").close()
                except OSError as e:
                    raise MailboxError("open", os.strerror(e.errno or 5)) from None
            elif os.path.isdir(path):
                raise MailboxError("open", os.strerror(21))
            else:
                try:
                    open(path, "rb").close()
                except OSError as e:
                    raise MailboxError("open", os.strerror(e.errno or 5)) from None

    # ---------------------------------------------------------------- reading
    def messages(self) -> list[MuMessage]:
        if self._messages is None:
            self._messages = (self._scan_maildir() if self.kind == "maildir"
                              else self._scan_mbox())
        return self._messages

    def count(self) -> int:
        return len(self.messages())

    def get(self, n: int) -> MuMessage:
        if n == 0:
            raise MuError("Invalid argument")
        msgs = self.messages()
        if n < 0 or n > len(msgs):
            raise MuError("Requested item not found")
        return msgs[n - 1]

    def _scan_mbox(self) -> list[MuMessage]:
        with open(self.path, "rb") as fp:
            blob = Blob.from_file(fp)
        out: list[MuMessage] = []
        # (from_start, from_end, body_start)
        marks: list[list[int]] = []
        state = "init"
        for off, line in blob.lines():
            if state == "init":
                if not _FROM_RE.match(line):
                    break
                marks.append([off, off + len(line), None])
                state = "header"
            elif state == "header":
                if line == b"\n":
                    marks[-1][2] = off + len(line)
                    state = "body"
            elif state == "body":
                if line == b"\n":
                    state = "empty"
            else:                                   # after an empty line
                if _FROM_RE.match(line):
                    marks.append([off, off + len(line), None])
                    state = "header"
                elif line == b"\n":
                    state = "empty"
                else:
                    state = "body"
        for i, (start, from_end, body_start) in enumerate(marks):
            if i + 1 < len(marks):
                end = marks[i + 1][0] - 1
            else:
                # the last message: to the end, less an empty line closing it
                end = len(blob)
                if end - 2 >= (body_start or 0) and blob.read(end - 2, 2) == b"\n\n":
                    end -= 1
            if body_start is None:
                body_start = end
            head = blob.read(from_end, max(0, body_start - from_end))
            body = blob.slice(body_start, max(body_start, end))
            if body.find(b"From ") >= 0:
                body = Blob.from_chunks(_unescape_lines(body))
            words = blob.read(start, from_end - start).rstrip(b"\n").split(None, 2)
            env = (words[1] if len(words) > 1 else b"", words[2] if len(words) > 2 else b"")
            out.append(MuMessage(parse_header(head), body, envelope=env))
        return out

    def _scan_maildir(self) -> list[MuMessage]:
        names = []
        for sub in ("cur", "new"):
            d = os.path.join(self.path, sub)
            try:
                for n in os.listdir(d):
                    if not n.startswith("."):
                        names.append((n.split(":", 1)[0], os.path.join(d, n)))
            except OSError:
                pass
        names.sort()
        out = []
        for _key, p in names:
            with open(p, "rb") as fp:
                blob = Blob.from_file(fp)
            out.append(_split_stored(blob))
        return out

    # ---------------------------------------------------------------- writing
    def append(self, msg: MuMessage) -> None:
        self.pending.append(msg)

    def close(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        if self.kind == "maildir":
            self._write_maildir(pending)
        else:
            self._write_mbox(pending)
        self._messages = None

    def _write_maildir(self, msgs) -> None:
        host = socket.gethostname() or "localhost"
        for i, m in enumerate(msgs):
            t = time.time()
            name = f"{int(t)}.M{int((t % 1) * 1e6)}P{os.getpid()}Q{i}.{host}"
            tmp = os.path.join(self.path, "tmp", name)
            with open(tmp, "wb") as fp:
                fp.write(header_bytes(m.entries))
                m.body.write_to(fp)
            os.rename(tmp, os.path.join(self.path, "new", name))

    def _write_mbox(self, msgs) -> None:
        existing = 0
        try:
            if os.path.getsize(self.path) > 0:
                existing = len(self._scan_mbox())
        except OSError:
            pass
        with open(self.path, "ab") as fp:
            for i, m in enumerate(msgs):
                uid = existing + i + 1
                entries = [e for e in m.entries
                           if e[0].lower() not in (b"x-uid", b"x-imapbase")]
                if uid == 1:
                    base = b"%20d %20d" % (int(time.time()), existing + len(msgs) + 1)
                    entries.append([b"X-IMAPbase", base.lstrip()])
                entries.append([b"X-UID", str(uid).encode()])
                sender, date = _envelope_of(m)
                fp.write(b"From " + sender + b" " + date + b"\n")
                fp.write(header_bytes(entries))
                last = b"\n"
                for line in _escape_lines(m.body):
                    fp.write(line)
                    last = line[-1:]
                if last != b"\n":
                    fp.write(b"\n")
                fp.write(b"\n")


def _split_stored(blob: Blob) -> MuMessage:
    """A message file: the header up to the first empty line, then the body."""
    if blob.read(0, 1) == b"\n":
        return MuMessage([], blob.slice(1))
    i = blob.find(b"\n\n")
    if i < 0:
        return MuMessage(parse_header(blob.read()), Blob(b""))
    return MuMessage(parse_header(blob.read(0, i + 2)), blob.slice(i + 2))


def _unescape_lines(body: Blob):
    for _off, line in body.lines():
        if line.startswith(b">") and _ESC_RE.match(line):
            line = line[1:]
        yield line


def _escape_lines(body: Blob):
    for _off, line in body.lines():
        if line.startswith(b"From ") or (line.startswith(b">") and _ESC_RE.match(line)):
            line = b">" + line
        yield line


def _envelope_of(m: MuMessage) -> tuple[bytes, bytes]:
    if m.envelope and m.envelope[0]:
        sender, date = m.envelope
        return sender, (date or _ctime())
    rp = m.find(b"return-path") or m.find(b"from") or b""
    addr = re.search(rb"<([^>]*)>", rp)
    sender = (addr.group(1) if addr else rp.strip().split(b" ")[0]) or b"MAILER-DAEMON"
    return sender, _ctime()


def _ctime() -> bytes:
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime()).encode()
