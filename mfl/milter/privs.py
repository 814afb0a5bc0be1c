"""Dropping root privileges (mailfromd's -u/-g).

In the pre-fork model the master keeps root -- it only binds, supervises
and reloads (reading the script) -- and every worker, which talks to the
MTA and runs the filter, switches to the user before serving.  The
``startup`` and ``shutdown`` handlers run in the master with the user's
effective ids.
"""
from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
from dataclasses import dataclass

log = logging.getLogger("mfld")

DEFAULT_USER = "mail"          # the user a root-started daemon switches to


class PrivilegeError(Exception):
    pass


@dataclass(frozen=True)
class Identity:
    name: str
    uid: int
    gid: int
    groups: tuple


def resolve(user: str | None, groups=()) -> Identity | None:
    """The identity to switch to, or None when there is nothing to switch
    (not root, or root asked to stay root)."""
    if os.geteuid() != 0:
        if user and user != pwd.getpwuid(os.geteuid()).pw_name:
            log.warning("not running as root: cannot switch to user %s", user)
        return None
    user = user or DEFAULT_USER
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise PrivilegeError(f"no such user: {user}") from None
    if pw.pw_uid == 0:
        return None
    gids = [pw.pw_gid]
    for g in groups or ():
        try:
            gids.append(int(g) if str(g).isdigit() else grp.getgrnam(g).gr_gid)
        except KeyError:
            raise PrivilegeError(f"no such group: {g}") from None
    return Identity(user, pw.pw_uid, pw.pw_gid, tuple(sorted(set(gids))))


def give_socket(ident: Identity | None, socket_url: str) -> None:
    """Hand the UNIX socket to the user's group so workers and the MTA reach it."""
    if ident and socket_url.startswith(("unix:", "local:")):
        try:
            os.chown(socket_url.split(":", 1)[1], ident.uid, ident.gid)
        except OSError:
            pass


def switch(ident: Identity | None) -> None:
    """Become IDENT for good."""
    if ident is None:
        return
    try:
        os.setgroups(list(ident.groups))
        os.setgid(ident.gid)
        os.setuid(ident.uid)
    except OSError as e:
        raise PrivilegeError(f"cannot switch to user {ident.name}: {e.strerror}") from None
    if os.getuid() == 0 or os.geteuid() == 0:
        raise PrivilegeError(f"cannot switch to user {ident.name}")


@contextlib.contextmanager
def acting_as(ident: Identity | None):
    """Run a block with IDENT's effective ids, then get root back."""
    if ident is None:
        yield
        return
    saved = os.getgroups()
    os.setgroups(list(ident.groups))
    os.setegid(ident.gid)
    os.seteuid(ident.uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(saved)
