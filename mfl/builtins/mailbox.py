"""Mailboxes (mbox and maildir, through Mailutils-style URLs).

Mailbox descriptors are numbers 0..63 indexing a per-connection table
(``rt.extra["mailboxes"]``): outside that range ``e_range`` "invalid mailbox
descriptor", a free slot ``e_failure`` "mailbox not open" (but closing a
free slot is silently accepted, as in mailfromd 8.15).  Closing a mailbox
closes the message descriptors obtained from it and writes the messages
appended to it.  See ``mfl.message.mailbox`` for the formats.
"""
from __future__ import annotations

import atexit
import weakref

from ..message import mailbox as mbx
from ..message import mu
from ..runtime.errors import MFLException
from .messages import _msg, close_descriptor, new_descriptor, _table as _msg_table
from .registry import builtin

D = "mailbox"
MAX_MAILBOXES = 64
_OPEN: "weakref.WeakSet" = weakref.WeakSet()      # runtimes with mailboxes (closed at exit)


def _table(rt) -> list:
    t = rt.extra.get("mailboxes")
    if t is None:
        t = rt.extra["mailboxes"] = [None] * MAX_MAILBOXES
        _OPEN.add(rt)
    return t


def _get(rt, who: str, n: int) -> mbx.Mailbox:
    if n < 0 or n >= MAX_MAILBOXES:
        raise MFLException("e_range", f"{who}: invalid mailbox descriptor")
    box = _table(rt)[n]
    if box is None:
        raise MFLException("e_failure", f"{who}: mailbox not open")
    return box


@builtin("number mailbox_open(string url; string mode, string perms)", domain=D)
def mailbox_open(rt, url, mode=None, perms=None):
    """Open the mailbox URL (MODE: r, w, rw, a, a+...; PERMS for creation)."""
    who = "mailbox_open"
    try:
        mbx.parse_mode(mode or "r")
    except ValueError as e:
        raise MFLException("e_range", f"{who}: incorrect mode near `{e.args[0]}'") from None
    t = _table(rt)
    try:
        slot = t.index(None)
    except ValueError:
        raise MFLException("e_failure", f"{who}: no more mailbox slots available") from None
    try:
        box = mbx.Mailbox(url, mode or "r")
    except mbx.MailboxError as e:
        what = "create" if e.kind == "create" else "open"
        raise MFLException("e_failure", f"{who}: cannot {what} mailbox `{url}': {e.text}") \
            from None
    if perms:
        box.perms = perms
    t[slot] = box
    return slot


@builtin("number mailbox_messages_count(number nmbx)", domain=D)
def mailbox_messages_count(rt, nmbx):
    """Number of messages in the mailbox."""
    box = _get(rt, "mailbox_messages_count", nmbx)
    try:
        return box.count()
    except OSError as e:
        raise MFLException("e_failure", f"mailbox_messages_count: {e.strerror}") from None


@builtin("number mailbox_get_message(number nmbx, number n)", domain=D)
def mailbox_get_message(rt, nmbx, n):
    """Descriptor of the Nth message (1-based)."""
    who = "mailbox_get_message"
    box = _get(rt, who, nmbx)
    try:
        m = box.get(n)
    except mu.MuError as e:
        raise MFLException("e_failure", f"{who}: {e.text}") from None
    except OSError as e:
        raise MFLException("e_failure", f"{who}: {e.strerror}") from None
    return new_descriptor(rt, who, m, mailbox=nmbx)


def _close(rt, n: int) -> None:
    t = _table(rt)
    box = t[n]
    if box is None:
        return
    t[n] = None
    for i, d in enumerate(_msg_table(rt)):
        if d is not None and d.mailbox == n:
            close_descriptor(rt, i)
    box.close()


@builtin("void mailbox_close(number nmbx)", domain=D)
def mailbox_close(rt, nmbx):
    """Close the mailbox."""
    if nmbx < 0 or nmbx >= MAX_MAILBOXES:
        raise MFLException("e_range", "mailbox_close: invalid mailbox descriptor")
    try:
        _close(rt, nmbx)
    except OSError as e:
        raise MFLException("e_failure", f"mailbox_close: {e.strerror}") from None


@builtin("void mailbox_append_message(number nmbx, number nmsg)", domain=D)
def mailbox_append_message(rt, nmbx, nmsg):
    """Append message NMSG to the mailbox."""
    who = "mailbox_append_message"
    box = _get(rt, who, nmbx)
    box.append(_msg(rt, who, nmsg))


def close_all(rt) -> None:
    """Close every mailbox of the connection RT (the host calls this at its end)."""
    t = rt.extra.get("mailboxes")
    if not t:
        return
    for i, box in enumerate(t):
        if box is not None:
            try:
                _close(rt, i)
            except OSError:
                pass


@atexit.register
def _close_at_exit() -> None:
    for rt in list(_OPEN):
        close_all(rt)
