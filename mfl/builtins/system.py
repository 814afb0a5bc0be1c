"""System interface: files, environment, host names, processes, users, syslog, getopt.

Behaviour measured on mailfromd 8.15: ``access`` takes exactly one of F_OK,
R_OK, W_OK or X_OK (anything else: e_failure "access: bad access mode");
``system`` returns the raw wait status (exit code 3 gives 768); ``umask``
sets MASK & 0777; ``getpwuid`` prints the uid as an unsigned long in its
e_not_found message.

``getopt`` is GNU getopt_long over a copy of the arguments (the script's
``$N`` are never permuted), with the ``optind``/``optarg``/``optopt``
variables updated after each call; argv[0] in its messages is the script
file.  State between calls lives in ``rt.extra["getopt"]``.  Its ARGV
argument must reach the implementation as the list of strings ``vaptr($N)``
denotes ($N, $N+1, ...); a first call with a non-zero ARGC reads ``optind``
(0: start afresh, as GNU getopt does).
"""
from __future__ import annotations

import os
import pwd
import socket
import time as _time

from ..runtime.errors import MFLException, RuntimeFault
from .registry import builtin, variable

D = "system"

_ENC = ("utf-8", "surrogateescape")


def _strerror(e: OSError) -> str:
    return os.strerror(e.errno) if e.errno else str(e)


def _ulong(n: int) -> int:
    return n & 0xFFFFFFFFFFFFFFFF


@builtin("boolean access(string pathname, number mode)", domain=D)
def access(rt, pathname, mode):
    """access(2): can PATHNAME be accessed with MODE (R_OK, W_OK, X_OK, F_OK)?"""
    if mode not in (os.F_OK, os.R_OK, os.W_OK, os.X_OK):
        raise MFLException("e_failure", "access: bad access mode")
    try:
        return 1 if os.access(pathname, mode) else 0
    except (ValueError, OSError):
        return 0


@builtin("string getenv(string name)", domain=D)
def getenv(rt, name):
    """Value of environment variable NAME (e_not_found if unset)."""
    v = os.environ.get(name) if name and "=" not in name and "\0" not in name else None
    if v is None:
        raise MFLException("e_not_found", f"getenv: {name}: environment variable not defined")
    return v


@builtin("string gethostname(; boolean fqn)", domain=D)
def gethostname(rt, fqn=None):
    """Host name of this machine (fully qualified, through DNS, if FQN)."""
    name = socket.gethostname()
    if fqn:
        try:
            infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM, 0,
                                       socket.AI_CANONNAME)
            if infos and infos[0][3]:
                name = infos[0][3]
        except OSError:
            pass
    return name


def _domainname() -> str:
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(256)
        if libc.getdomainname(buf, ctypes.c_size_t(len(buf))) == 0:
            return buf.value.decode(*_ENC)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/sys/kernel/domainname", encoding="utf-8") as f:
            return f.read().rstrip("\n")
    except OSError:
        return ""


@builtin("string getdomainname()", domain=D)
def getdomainname(rt):
    """Domain name of this machine (often "(none)")."""
    return _domainname()


@builtin("string uname(string format)", domain=D)
def uname(rt, fmt):
    """uname(2) data formatted by FORMAT (%s, %n, %r, %v, %m, %%)."""
    u = os.uname()
    table = {"s": u.sysname, "n": u.nodename, "r": u.release, "v": u.version,
             "m": u.machine, "%": "%"}
    out = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            v = table.get(fmt[i + 1])
            if v is not None:
                out.append(v)
            else:
                out.append(fmt[i:i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


@builtin("void unlink(string name)", domain=D)
def unlink(rt, name):
    """Remove the file NAME (e_failure on error)."""
    try:
        os.unlink(name)
    except OSError as e:
        raise MFLException("e_failure", f"unlink: cannot unlink {name}: {_strerror(e)}") from None
    except ValueError:
        raise MFLException("e_failure", f"unlink: cannot unlink {name}: Invalid argument") from None


@builtin("number system(string str)", domain=D)
def system(rt, s):
    """Run STR with /bin/sh -c; the raw wait status (-1 on error)."""
    for f in (getattr(rt, "out", None), getattr(rt, "err", None)):
        try:
            f.flush()
        except (AttributeError, OSError, ValueError):
            pass
    try:
        return os.system(s)
    except (OSError, ValueError):
        return -1


@builtin("void sleep(number secs; number usec)", domain=D)
def sleep(rt, secs, usec=None):
    """Sleep SECS seconds and USEC microseconds."""
    t = secs + (usec or 0) / 1e6
    if t > 0:
        _time.sleep(t)


@builtin("number umask(number mask)", domain=D)
def umask(rt, mask):
    """Set the umask to MASK & 0777; returns the old one."""
    return os.umask(mask & 0o777)


def _pwline(p) -> str:
    return ":".join((p.pw_name, p.pw_passwd, str(p.pw_uid), str(p.pw_gid), p.pw_gecos,
                     p.pw_dir, p.pw_shell))


def _getpwuid(uid: int):
    try:
        return pwd.getpwuid(uid & 0xFFFFFFFF) if uid & 0xFFFFFFFF != 0xFFFFFFFF else None
    except (KeyError, OverflowError):
        return None


def _getpwnam(name: str):
    try:
        return pwd.getpwnam(name) if name and "\0" not in name else None
    except (KeyError, UnicodeError):
        return None


@builtin("string getpwnam(string name)", domain=D)
def getpwnam(rt, name):
    """passwd entry of user NAME, as a colon-separated line (e_not_found if none)."""
    p = _getpwnam(name)
    if p is None:
        raise MFLException("e_not_found", f"getpwnam: {name}: user not found")
    return _pwline(p)


@builtin("string getpwuid(number uid)", domain=D)
def getpwuid(rt, uid):
    """passwd entry of user UID, as a colon-separated line (e_not_found if none)."""
    p = _getpwuid(uid)
    if p is None:
        raise MFLException("e_not_found", f"getpwuid: {_ulong(uid)}: uid not found")
    return _pwline(p)


@builtin("boolean mappwnam(string name)", domain=D)
def mappwnam(rt, name):
    """True if user NAME exists."""
    return 0 if _getpwnam(name) is None else 1


@builtin("boolean mappwuid(number uid)", domain=D)
def mappwuid(rt, uid):
    """True if user UID exists."""
    return 0 if _getpwuid(uid) is None else 1


@builtin("boolean validuser(string name)", domain=D)
def validuser(rt, name):
    """True if NAME is a valid local account."""
    return 0 if _getpwnam(name) is None else 1


_LOG_MAIL = 2 << 3


@builtin("void syslog(number priority, string text)", domain=D)
def syslog(rt, priority, text):
    """Log TEXT with syslog PRIORITY (facility|level; the mail facility by default)."""
    import syslog as _sl
    pri = priority & 0x3FF
    if not pri & ~7:
        pri |= _LOG_MAIL
    try:
        _sl.syslog(pri, text)
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------- getopt

_PERMUTE, _REQUIRE_ORDER, _RETURN_IN_ORDER = 0, 1, 2
_LONG_ONLY_BASE = 256


class _Opt:
    __slots__ = ("name", "has_arg", "val", "ret")

    def __init__(self, name, has_arg, val, ret):
        self.name, self.has_arg, self.val, self.ret = name, has_arg, val, ret


class _GetoptState:
    def __init__(self):
        self.argv: list[str] = []
        self.shortopts = ""
        self.longopts: list[_Opt] = []
        self.short_ret: dict[str, str] = {}
        self.optind = 1
        self.nextchar = ""
        self.first_nonopt = 1
        self.last_nonopt = 1
        self.ordering = _PERMUTE
        self.print_errors = True
        self.colon = False
        self.initialized = False


def _parse_optdefs(defs: list[str]):
    """mailfromd option descriptions -> (control, optstring, longopts)."""
    control = ""
    if defs and defs[0] in (":", "+", "-"):
        control = defs[0]
        defs = defs[1:]
    short = []
    longs: list[_Opt] = []
    nlong_only = 0
    for d in defs:
        spec, bar, lname = d.partition("|")
        ch = spec[:1]
        has_arg = 0
        if spec[1:3] == "::":
            has_arg = 2
        elif spec[1:2] == ":":
            has_arg = 1
        if ch and ch != "-":
            short.append(ch + (":" * has_arg))
            if lname:
                longs.append(_Opt(lname, has_arg, ord(ch), ch))
        elif lname:
            longs.append(_Opt(lname, has_arg, _LONG_ONLY_BASE + nlong_only, lname))
            nlong_only += 1
    return control, "".join(short), longs


def _exchange(s: _GetoptState) -> None:
    """Move the skipped non-options [first_nonopt, last_nonopt) after the
    options just processed [last_nonopt, optind)."""
    a = s.argv
    nonopts = a[s.first_nonopt:s.last_nonopt]
    opts = a[s.last_nonopt:s.optind]
    a[s.first_nonopt:s.optind] = opts + nonopts
    s.first_nonopt += s.optind - s.last_nonopt
    s.last_nonopt = s.optind


def _nonoption(arg: str) -> bool:
    return not arg.startswith("-") or arg == "-"


class _Result:
    __slots__ = ("ret", "optarg", "optopt")

    def __init__(self):
        self.ret = None         # str, "" at the end
        self.optarg = None
        self.optopt = None      # int code, None: unchanged


def _getopt_step(s: _GetoptState, err) -> _Result:
    r = _Result()
    argv = s.argv
    argc = len(argv)
    prog = argv[0]
    if not s.nextchar:
        if s.last_nonopt > s.optind:
            s.last_nonopt = s.optind
        if s.first_nonopt > s.optind:
            s.first_nonopt = s.optind
        if s.ordering == _PERMUTE:
            if s.first_nonopt != s.last_nonopt and s.last_nonopt != s.optind:
                _exchange(s)
            elif s.last_nonopt != s.optind:
                s.first_nonopt = s.optind
            while s.optind < argc and _nonoption(argv[s.optind]):
                s.optind += 1
            s.last_nonopt = s.optind
        if s.optind != argc and argv[s.optind] == "--":
            s.optind += 1
            if s.first_nonopt != s.last_nonopt and s.last_nonopt != s.optind:
                _exchange(s)
            elif s.first_nonopt == s.last_nonopt:
                s.first_nonopt = s.optind
            s.last_nonopt = argc
            s.optind = argc
        if s.optind == argc:
            if s.first_nonopt != s.last_nonopt:
                s.optind = s.first_nonopt
            r.ret = ""
            return r
        if _nonoption(argv[s.optind]):
            if s.ordering == _REQUIRE_ORDER:
                r.ret = ""
                return r
            r.optarg = argv[s.optind]
            s.optind += 1
            r.ret = "\x01"
            return r
        if argv[s.optind].startswith("--"):
            s.nextchar = argv[s.optind][2:]
            return _long_option(s, r, err, prog)
        s.nextchar = argv[s.optind][1:]
    c = s.nextchar[0]
    s.nextchar = s.nextchar[1:]
    pos = s.shortopts.find(c)
    if not s.nextchar:
        s.optind += 1
    if pos < 0 or c in ":;":
        if s.print_errors:
            err(f"{prog}: invalid option -- '{c}'\n")
        r.optopt = ord(c)
        r.ret = "?"
        return r
    colons = s.shortopts[pos + 1:pos + 3]
    if colons.startswith(":"):
        if colons == "::":
            if s.nextchar:
                r.optarg = s.nextchar
                s.optind += 1
            s.nextchar = ""
        else:
            if s.nextchar:
                r.optarg = s.nextchar
                s.optind += 1
            elif s.optind == argc:
                if s.print_errors:
                    err(f"{prog}: option requires an argument -- '{c}'\n")
                r.optopt = ord(c)
                s.nextchar = ""
                r.ret = ":" if s.colon else "?"
                return r
            else:
                r.optarg = argv[s.optind]
                s.optind += 1
            s.nextchar = ""
    r.ret = s.short_ret.get(c, c)
    return r


def _long_option(s: _GetoptState, r: _Result, err, prog: str) -> _Result:
    argv = s.argv
    text = s.nextchar
    name, eq, value = text.partition("=")
    found = None
    for o in s.longopts:
        if o.name == name:
            found = o
            break
    if found is None:
        matches = [o for o in s.longopts if o.name.startswith(name)]
        if matches:
            first = matches[0]
            ambig = [first] + [o for o in matches[1:]
                               if (o.has_arg, o.val) != (first.has_arg, first.val)]
            if len(ambig) > 1:
                if s.print_errors:
                    err(f"{prog}: option '--{text}' is ambiguous; possibilities:"
                        + "".join(f" '--{o.name}'" for o in ambig) + "\n")
                s.nextchar = ""
                s.optind += 1
                r.optopt = 0
                r.ret = "?"
                return r
            found = first
    if found is None:
        if s.print_errors:
            err(f"{prog}: unrecognized option '--{text}'\n")
        s.nextchar = ""
        s.optind += 1
        r.optopt = 0
        r.ret = "?"
        return r
    s.optind += 1
    s.nextchar = ""
    if eq:
        if found.has_arg:
            r.optarg = value
        else:
            if s.print_errors:
                err(f"{prog}: option '--{found.name}' doesn't allow an argument\n")
            r.optopt = found.val
            r.ret = "?"
            return r
    elif found.has_arg == 1:
        if s.optind < len(argv):
            r.optarg = argv[s.optind]
            s.optind += 1
        else:
            if s.print_errors:
                err(f"{prog}: option '--{found.name}' requires an argument\n")
            r.optopt = found.val
            r.ret = ":" if s.colon else "?"
            return r
    r.ret = found.ret
    return r


def _var_slot(rt, name):
    return rt.program.global_names.get(f":builtin:{name}")


def _set_var(rt, name, value):
    slot = _var_slot(rt, name)
    if slot is not None:
        rt.globals[slot] = value


def _get_var(rt, name, default):
    slot = _var_slot(rt, name)
    return rt.globals[slot] if slot is not None else default


@builtin("string getopt(number argc, number argv, string ...)", domain=D)
def getopt(rt, argc, argv, *defs):
    """Parse options of func main(...): getopt($#, vaptr($1), "f:|file", ...), then
    getopt(0, 0) for the next option; "" when there are no more."""
    s: _GetoptState | None = rt.extra.get("getopt")
    if argc:
        if isinstance(argv, (list, tuple)):
            args = [a if isinstance(a, str) else str(a) for a in argv]
        else:
            raise RuntimeFault("getopt: the argv argument must be vaptr($N) "
                               "(not supported by this interpreter yet)")
        if s is None:
            s = rt.extra["getopt"] = _GetoptState()
        prog = getattr(rt.program, "file", "") or "mfld"
        s.argv = [prog] + list(args[:max(0, argc)])
        control, short, longs = _parse_optdefs(list(defs))
        s.longopts = longs
        s.short_ret = {}
        optind = _get_var(rt, "optind", 0)
        if optind <= 0 or not s.initialized:
            s.optind = 1 if optind <= 0 else optind
            s.first_nonopt = s.last_nonopt = s.optind
            s.nextchar = ""
            if control == "-":
                s.ordering = _RETURN_IN_ORDER
            elif control == "+" or "POSIXLY_CORRECT" in os.environ:
                s.ordering = _REQUIRE_ORDER
            else:
                s.ordering = _PERMUTE
            s.initialized = True
        else:
            s.optind = optind
        s.colon = control == ":"
        s.shortopts = short
        opterr = _get_var(rt, "opterr", 1) if _var_slot(rt, "opterr") is not None else 1
        s.print_errors = bool(opterr) and not s.colon
    elif s is None or not s.initialized:
        return ""
    def err(text):
        try:
            rt.err.write(text)
        except (AttributeError, OSError, ValueError):
            pass
    r = _getopt_step(s, err)
    _set_var(rt, "optind", s.optind)
    _set_var(rt, "optarg", r.optarg if r.optarg is not None else "")
    if r.optopt is not None:
        _set_var(rt, "optopt", chr(r.optopt & 0xFF) if r.optopt & 0xFF else "")
    return r.ret


variable("string optarg", domain=D, default="",
         doc="getopt: argument of the last option.")
variable("number optind", domain=D, default=0,
         doc="getopt: index of the next argument to scan.")
variable("number opterr", domain=D,
         doc="getopt: print error messages when non-zero (uninitialized in mailfromd 8.15, "
             "where it is in practice non-zero: mfl prints them unless the script uses "
             "opterr).")
variable("string optopt", domain=D, default="",
         doc="getopt: the unknown option character.")
