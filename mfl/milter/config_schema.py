"""The statements of mailfromd 8.15 and the checks of their values.

Used by :mod:`mfl.milter.config`.  Names, value types and messages follow
``mailfromd --config-help`` and what mailfromd says about bad values (recorded
with ``tools/record_config.py``).  A param is ``(kind, settings key)``; key
None means mfl accepts the statement and ignores it.  ``check_KIND(node)``
returns the value or raises BadValue(message).
"""
from __future__ import annotations

import grp
import os
import re
import stat
from dataclasses import dataclass, field

from .config_syntax import CfgArray, CfgList

# -- value checks ------------------------------------------------------------

_TRUE, _FALSE = {"yes", "on", "t", "true", "1"}, {"no", "off", "nil", "false", "0"}
_FACILITIES = {"user", "daemon", "auth", "authpriv", "mail", "cron"} | {
    f"local{i}" for i in range(8)}
_SEVERITIES = {"debug", "info", "notice", "warning", "error", "crit", "alert", "emerg"}
_UNITS = [("seconds", 1), ("minutes", 60), ("hours", 3600), ("days", 86400),
          ("weeks", 604800), ("months", 31 * 604800)]   # sic: mailfromd's month


_NUMBER, _WORD = re.compile(r"\+?\d+"), re.compile(r"\S+")


class BadValue(Exception):
    pass


def first_leaf(v) -> str:
    while not isinstance(v, str):
        if not v:
            return ""
        v = v[0]
    return v


def parse_interval(s: str) -> int:
    """mailfromd's time interval ("1 hour 30 minutes", "90"); ValueError(rest)."""
    total, i, n = 0, 0, len(s)
    while True:
        while i < n and s[i].isspace():
            i += 1
        if i == n:
            return total
        m = _NUMBER.match(s, i)
        count = 1
        if m:
            count, i = int(m.group()), m.end()
            if i == n:
                return total + count
            if not s[i].isspace():
                raise ValueError(s[i:])
            while i < n and s[i].isspace():
                i += 1
            if i == n:
                return total + count
        word = _WORD.match(s, i).group()
        for name, mult in _UNITS:          # a full unit name may run on
            if word.lower().startswith(name):
                i += len(name)
                break
        else:
            for name, mult in _UNITS:      # an abbreviation must end there
                if name.startswith(word.lower()):
                    i += len(word)
                    break
            else:
                raise ValueError(s[i:])
        total += count * mult


def normalize_socket_url(url: str) -> str:
    """mailfromd's URL forms -> libmilter's (unix:/path, inet:PORT@HOST)."""
    for scheme in ("unix://", "local://"):
        if url.startswith(scheme) and url[len(scheme):].startswith("/"):
            return "unix:" + url[len(scheme):]
    if url.startswith("local:"):
        return "unix:" + url[6:]
    if url.startswith("/"):
        return "unix:" + url
    m = re.fullmatch(r"(inet6?)://\[?([^\]]*?)\]?:([^:\]]+)", url)
    if m:
        return f"{m.group(1)}:{m.group(3)}@{m.group(2)}"
    return url


# -- the statements of mailfromd 8.15 ----------------------------------------
# A param is (kind, settings key or None); a section is a Section.  Kinds are
# checked by check_<kind> below.

@dataclass
class Section:
    params: dict
    sections: dict = field(default_factory=dict)
    ignored: bool = True        # wholly ignored: one warning for the block
    label: str | None = None    # "server", "database" or "timeout"


def _ign(**kinds) -> dict:
    return {k.replace("_", "-"): (v, None) for k, v in kinds.items()}


_ACL = Section(_ign(allow="any", deny="any", log="any", exec="any", ifexec="any"))
TOP = Section(ignored=False, params={
    "debug": ("cstr", "debug"), "user": ("str", "user"), "group": ("group", "group"),
    "pidfile": ("str", "pidfile"), "logger": ("logger", "logger"),
    "state-directory": ("statedir", "state_directory"),
    "stack-trace": ("bool", "stack_trace"), "milter-timeout": ("time", "milter_timeout"),
    "include-path": ("path", "include_path"), "module-path": ("path", "module_path"),
    "setvar": ("setvar", "variables"), "script-file": ("str", "script"),
    "trace-actions": ("bool", "trace"), "ehlo-domain": ("str", "ehlo_domain"),
    "mail-from-address": ("str", "mailfrom_address"),
    **_ign(transcript="bool", smtp_starttls="starttls", io_timeout="time",
           source_ip="cstr", database_type="str", database_mode="octal",
           enable_vrfy="bool", callout_url="str", trace_program="any",
           relayed_domain_file="any")},
    sections={
    "pam": Section(_ign(service="str")),
    "sql": Section(_ign(interface="cstr", getpwnam="str", getpwuid="str", getpass="str",
                     host="str", user="str", passwd="str", port="num", db="str",
                     password_encryption="cstr", field_map="any", param="str")),
    "virtdomain": Section(_ign(passwd_dir="str")),
    "ldap": Section(_ign(enable="bool", url="str", base="str", binddn="str", passwd="str",
                      tls="bool", debug="num", field_map="any", getpwnam="str",
                      getpwuid="str")),
    "gsasl": Section(_ign(enable="bool", cram_passwd="str", service="str", realm="str",
                       hostname="str", anonymous_user="str")),
    "tls-file-checks": Section(_ign(key_file="any", cert_file="any", ca_file="any")),
    "auth": Section(_ign(authentication="any", authorization="any")),
    "debug": Section(_ign(level="str", line_info="bool")),
    "logging": Section(ignored=False, params={
        "facility": ("facility", "syslog_facility"), "tag": ("str", "log_tag"),
        **_ign(syslog="bool", print_severity="bool", severity="severity",
               session_id="bool")}),
    "locking": Section(_ign(type="cstr", retry_count="num", retry_sleep="time",
                         retry_timeout="time", expire_timeout="time",
                         external_locker="str", pid_check="bool", flags="str")),
    "mailer": Section(_ign(url="str")),
    "smtp-timeout": Section(_ign(connection="time", initial_response="time", helo="time",
                              mail="time", rcpt="time", rset="time", quit="time"),
                         label="timeout"),
    "tls": Section(_ign(ssl_certificate_file="str", ssl_key_file="str", ssl_ca_file="str",
                     ssl_priorities="str", handshake_timeout="num")),
    "server": Section(ignored=False, label="server", sections={"acl": _ACL}, params={
        "listen": ("cstr", "socket"), "max-instances": ("num", "max_connections"),
        "single-process": ("bool", "single_process"),
        **_ign(id="str", reuseaddr="bool", option="any", default="bool", backlog="num")}),
    "acl": _ACL,
    "database": Section(_ign(file="str", enable="bool", expire_interval="time",
                          positive_expire_interval="time",
                          negative_expire_interval="time"), label="database"),
    "resolver": Section(ignored=False, params={
        "config": ("cstr", "resolv_conf_file"), **_ign(max_cname_chain="num")}),
    "preprocessor": Section(ignored=False, params={
        "enable": ("bool", "no_preprocessor"),
        **_ign(command="str", pass_includes="bool", pass_defines="bool",
               setup_file="str")}),
    "runtime": Section(_ign(max_streams="num", max_open_mailboxes="num", max_mfmods="num",
                         mfmod_path="str", max_open_messages="num")),
})
LIST_KEYS = {"group", "include_path", "module_path", "variables"}
VAR_KEYS = {"ehlo_domain": "ehlo_domain", "mailfrom_address": "mailfrom_address"}


# -- value kinds ----------------------------------------------------------------

def check_str(n):
    if isinstance(n.value, str):
        return n.value
    raise BadValue("expected string value")


def check_cstr(n):
    if isinstance(n.value, str):
        return n.value
    raise BadValue(f"unexpected value: {first_leaf(n.value)}")


def check_any(n):
    return n.value


def check_bool(n):
    s = check_str(n)
    if s in _TRUE or s in _FALSE:
        return s in _TRUE
    raise BadValue("Invalid argument")


def check_num(n):
    s = check_str(n)
    if re.fullmatch(r"\s*[-+]?\d+", s):
        return int(s)
    raise BadValue("Invalid argument")


def check_time(n):
    v = n.value
    if isinstance(v, CfgArray) and all(isinstance(x, str) for x in v):
        v = " ".join(v)         # milter-timeout 1 hour;
    if not isinstance(v, str):
        raise BadValue("unexpected list")
    try:
        return parse_interval(v)
    except ValueError as e:
        raise BadValue(f"unrecognized time format (near `{e}')") from None


def check_facility(n):
    v = check_cstr(n)
    if v.lower() not in _FACILITIES:
        raise BadValue(f"unknown syslog facility `{v}'")
    return v.lower()


def check_severity(n):
    v = check_cstr(n)
    if v.lower() not in _SEVERITIES:
        raise BadValue(f"unknown severity `{v}'")
    return v


def check_group(n):
    v = check_cstr(n)
    try:
        grp.getgrnam(v)
    except KeyError:
        raise BadValue(f"unknown group: {v}") from None
    return v


def check_statedir(n):
    v = check_cstr(n)
    try:
        st = os.stat(v)
    except OSError as e:
        raise BadValue(f"cannot stat file `{v}': {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise BadValue(f"`{v}' is not a directory")
    if not v.startswith("/"):
        raise BadValue(f"state directory `{v}' is not an absolute file name")
    return v


def check_starttls(n):
    v = check_cstr(n)
    if v not in ("never", "always", "ondemand"):
        raise BadValue(f"invalid smtp-starttls value `{v}' (never, always or ondemand)")
    return v


def check_logger(n):
    v = check_str(n)
    if v not in ("stderr", "syslog", "syslog:async"):
        raise BadValue(f"unsupported logger stream: {v}")
    return v


def check_octal(n):
    """A C number (0640 is octal, 640 decimal) up to 0777."""
    v = check_cstr(n).lstrip()
    m = re.fullmatch(r"0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*)", v)
    mode = m and int(m.group(1) or m.group(2) or m.group(3),
                     16 if m.group(1) else 8 if m.group(2) else 10)
    if mode is None or mode > 0o777:
        raise BadValue("invalid file mode")
    return mode


def check_path(n):
    v = n.value
    items = [v] if isinstance(v, str) else list(v)
    if not all(isinstance(x, str) for x in items):
        raise BadValue(f"unexpected value: {first_leaf(v)}")
    return [d for x in items for d in x.split(":") if d]


def check_setvar(n):
    v = n.value
    if isinstance(v, str):
        raise BadValue("not enough arguments")
    if isinstance(v, CfgList) or not isinstance(v[0], str):
        raise BadValue(f"unexpected value: {first_leaf(v)}")
    if len(v) > 2:
        raise BadValue("too many arguments")
    if not isinstance(v[1], str):
        raise BadValue("unexpected list")
    return (v[0], v[1])


CHECKS = {name[6:]: f for name, f in list(globals().items()) if name.startswith("check_")}
