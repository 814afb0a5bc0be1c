"""Dropping root privileges after the socket is bound (mailfromd's -u/-g)."""
from __future__ import annotations

import grp
import logging
import os
import pwd

log = logging.getLogger("mfld")

DEFAULT_USER = "mail"          # the user a root-started daemon switches to


class PrivilegeError(Exception):
    pass


def drop_privileges(user: str | None, groups=(), socket_url: str = "") -> None:
    """Switch to USER (default: mail) keeping the supplementary GROUPS, if root.

    The UNIX socket is given to the user and its group first, so that
    workers and the MTA (a member of that group) can still reach it.
    """
    if os.geteuid() != 0:
        if user and user != pwd.getpwuid(os.geteuid()).pw_name:
            log.warning("not running as root: cannot switch to user %s", user)
        return
    user = user or DEFAULT_USER
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise PrivilegeError(f"no such user: {user}") from None
    if pw.pw_uid == 0:
        return
    gids = [pw.pw_gid]
    for g in groups or ():
        try:
            gids.append(grp.getgrnam(g).gr_gid if not str(g).isdigit() else int(g))
        except KeyError:
            raise PrivilegeError(f"no such group: {g}") from None
    if socket_url.startswith(("unix:", "local:")):
        path = socket_url.split(":", 1)[1]
        try:
            os.chown(path, pw.pw_uid, pw.pw_gid)
        except OSError:
            pass
    try:
        os.setgroups(sorted(set(gids)))
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    except OSError as e:
        raise PrivilegeError(f"cannot switch to user {user}: {e.strerror}") from None
    if os.getuid() == 0 or os.geteuid() == 0:
        raise PrivilegeError(f"cannot switch to user {user}")
    log.info("running as user %s", user)
