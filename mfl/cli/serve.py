"""Serving a filter to the MTA: the daemon options of ``mfld`` and ``mfl serve``.

Settings come from three places, later ones winning: built-in defaults,
the configuration file (mailfromd's statements, ``--config-file``, or the
default file unless ``--no-config``), ``--set STATEMENT=VALUE``, and the
command-line options.
"""
from __future__ import annotations

import logging
import os
import sys

from .common import EX_CONFIG, EX_NOINPUT, EX_OK, EX_USAGE, MAILFROMD_WARNINGS

STATE_DIR = "/var/lib/mfld"
DEFAULT_SCRIPT = "/etc/mailfromd/mailfromd.mfl"
FACILITIES = ("mail", "daemon", "user", "local0", "local1", "local2", "local3",
              "local4", "local5", "local6", "local7")


def add_daemon_options(p) -> None:
    g = p.add_argument_group("server")
    g.add_argument("-p", "--milter-socket", "--port", dest="socket", metavar="URL",
                   help="serve on this socket: unix:/path, local:/path, inet:PORT@HOST, "
                        "inet6:PORT@HOST (default unix:/var/lib/mfld/mfld.sock)")
    g.add_argument("--foreground", action="store_true", help="stay in the foreground")
    g.add_argument("--daemon", action="store_true", help="run in daemon mode (default)")
    g.add_argument("--single-process", action="store_true", default=None,
                   help="serve in one process (no worker processes)")
    g.add_argument("--workers", type=int, metavar="N",
                   help="worker processes sharing the socket (mfl; default: one per CPU)")
    g.add_argument("--max-connections", type=int, metavar="N",
                   help="MTA connections served at once, in all (mfl; default 512)")
    g.add_argument("--drain-timeout", type=int, metavar="SECONDS",
                   help="on stop or reload, how long open connections may take (default 60)")
    g.add_argument("-u", "--user", metavar="NAME",
                   help="switch to this user after startup (as root; default mail)")
    g.add_argument("-g", "--group", action="append", default=None, metavar="NAME",
                   help="retain the supplementary group NAME when switching user")
    g.add_argument("--pidfile", metavar="FILE", help="write the master's pid here")
    g.add_argument("--state-directory", metavar="DIR",
                   help=f"the program state directory (default {STATE_DIR})")
    g.add_argument("--milter-timeout", metavar="TIME",
                   help="MTA connection timeout (seconds, or with s/m/h; default 600)")
    g.add_argument("--resolv-conf-file", metavar="FILE",
                   help="ask the nameservers listed in FILE (DKIM key lookups)")
    lg = p.add_argument_group("logging")
    lg.add_argument("--stderr", action="store_true", default=None, help="log to standard error")
    lg.add_argument("--syslog", action="store_true", default=None,
                    help="log to syslog (the default unless --foreground)")
    lg.add_argument("--logger", choices=("stderr", "syslog"), help="select the log stream")
    lg.add_argument("--log-facility", metavar="FACILITY", help="syslog facility (default mail)")
    lg.add_argument("--log-tag", metavar="STRING", help="syslog identifier (default mfld)")
    lg.add_argument("--trace", action="store_true", default=None,
                    help="log every action the filter takes")
    lg.add_argument("--no-trace", dest="trace", action="store_false")
    cf = p.add_argument_group("configuration")
    cf.add_argument("--config-file", metavar="FILE",
                    help="read this configuration file (mailfromd's statements)")
    cf.add_argument("--no-config", "--no-site-config", action="store_true",
                    help="do not read the default configuration file")
    cf.add_argument("--set", action="append", default=[], metavar="STATEMENT=VALUE",
                    help="a configuration statement, e.g. --set user=mail")
    cf.add_argument("--config-lint", action="store_true",
                    help="check the configuration file and exit")
    cf.add_argument("--show-defaults", action="store_true",
                    help="show the settings in effect and exit")


def parse_time(text) -> int:
    """'600', '10m', '1h', '30s' -> seconds."""
    t = str(text).strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(t[-1:], None)
    if mult:
        t = t[:-1]
    return int(t) * (mult or 1)


def _config(ns, prog: str):
    """The configuration file's settings (dict) and its problems (text or None)."""
    from ..milter import config as cfgmod
    settings: dict = {}
    path = ns.config_file
    if path is None and not ns.no_config and os.path.exists(cfgmod.DEFAULT_CONFIG_FILE):
        path = cfgmod.DEFAULT_CONFIG_FILE
    try:
        if path:
            res = cfgmod.load_config(path)
            for w in res.diagnostics or res.warnings:
                print(f"{prog}: {w}", file=sys.stderr)
            settings.update(res.settings)
        for item in ns.set:
            if "=" not in item:
                return None, f"--set {item}: expected STATEMENT=VALUE"
            k, v = item.split("=", 1)
            res = cfgmod.parse_config_text(f"{k} {_quote(v)};\n", "<--set>")
            settings.update(res.settings)
    except cfgmod.ConfigError as e:
        return None, "\n".join(f"{prog}: {d}" if i else d
                               for i, d in enumerate(e.diagnostics))
    except OSError as e:
        return None, f"errors parsing file {path}: {e.strerror or e}"
    return settings, None


def _quote(v: str) -> str:
    if v and all(c.isalnum() or c in "/:._-@+" for c in v):
        return v
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def effective(ns, prog: str):
    """Merge defaults, the configuration and the options; returns (dict, error)."""
    conf, err = _config(ns, prog)
    if err:
        return None, err
    statedir = ns.state_directory or conf.get("state_directory") or STATE_DIR
    e = {
        "script": getattr(ns, "script", None) or conf.get("script") or DEFAULT_SCRIPT,
        "socket": ns.socket or conf.get("socket") or f"unix:{statedir}/mfld.sock",
        "statedir": statedir,
        "user": ns.user or conf.get("user"),
        "group": ns.group if ns.group is not None else (conf.get("group") or []),
        "pidfile": ns.pidfile or conf.get("pidfile"),
        "milter_timeout": parse_time(ns.milter_timeout) if ns.milter_timeout
        else int(conf.get("milter_timeout") or 600),
        "single_process": bool(ns.single_process if ns.single_process is not None
                               else conf.get("single_process", False)),
        "workers": ns.workers or 0,
        "max_connections": ns.max_connections if ns.max_connections is not None
        else int(conf.get("max_connections") or 512),
        "drain_timeout": ns.drain_timeout if ns.drain_timeout is not None else 60,
        "resolv_conf_file": ns.resolv_conf_file or conf.get("resolv_conf_file"),
        "facility": ns.log_facility or conf.get("syslog_facility") or "mail",
        "tag": ns.log_tag or conf.get("log_tag") or "mfld",
        "trace": bool(ns.trace if ns.trace is not None else conf.get("trace", False)),
        "no_preprocessor": bool(conf.get("no_preprocessor", False)),
        "stack_trace": bool(conf.get("stack_trace", False)),
        "include_path": list(conf.get("include_path") or []),
        "module_path": list(conf.get("module_path") or []),
        "variables": list(conf.get("variables") or []),
    }
    if isinstance(e["group"], str):
        e["group"] = [e["group"]]
    logger = ns.logger or ("stderr" if ns.stderr else "syslog" if ns.syslog else None) \
        or conf.get("logger")
    e["logger"] = logger or ("stderr" if ns.foreground else "syslog")
    if e["pidfile"] is None and not ns.foreground:
        e["pidfile"] = os.path.join(statedir, "mfld.pid")
    elif e["pidfile"] and not os.path.isabs(e["pidfile"]):
        e["pidfile"] = os.path.join(statedir, e["pidfile"])
    bad = socket_problem(e["socket"])
    if bad:
        return None, bad
    if e["facility"].lower().removeprefix("log_") not in FACILITIES:
        return None, f"unknown syslog facility: {e['facility']}"
    return e, None


def socket_problem(url: str) -> str | None:
    """What is wrong with a milter socket URL, in words; None if nothing."""
    kind, sep, rest = url.partition(":")
    if url.startswith("/"):
        return None
    if not sep or kind not in ("unix", "local", "inet", "inet6"):
        return (f"bad milter socket {url!r}: expected unix:/path, local:/path, "
                f"inet:PORT@HOST or inet6:PORT@HOST")
    if kind in ("unix", "local"):
        return None if rest else f"bad milter socket {url!r}: no path"
    port, _, _host = rest.partition("@")
    if port.isdigit():
        if not 0 < int(port) < 65536:
            return f"bad milter socket {url!r}: port {port} out of range (1-65535)"
        return None
    import socket
    try:
        socket.getservbyname(port, "tcp")
    except OSError:
        return f"bad milter socket {url!r}: unknown port {port!r}"
    return None


def setup_logging(e: dict, prog: str) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    if e["logger"] == "syslog" and os.path.exists("/dev/log"):
        from logging.handlers import SysLogHandler
        fac = e["facility"].lower().removeprefix("log_")
        h = SysLogHandler(address="/dev/log", facility=SysLogHandler.facility_names[fac])
        h.setFormatter(logging.Formatter(f"{e['tag']}[%(process)d]: %(message)s"))
    elif e["logger"] == "syslog":
        # no syslog daemon (a container): a file, reopened when logrotate moves it
        from logging.handlers import WatchedFileHandler
        path = os.path.join(e["statedir"], f"{e['tag']}.log")
        os.makedirs(e["statedir"], exist_ok=True)
        print(f"{prog}: no syslog socket (/dev/log): logging to {path}", file=sys.stderr)
        h = WatchedFileHandler(path)
        h.setFormatter(logging.Formatter(
            f"%(asctime)s {e['tag']}[%(process)d]: %(message)s", "%b %d %H:%M:%S"))
    else:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter(f"{e['tag']}: %(message)s"))
    root.addHandler(h)
    root.setLevel(logging.INFO)


def show_defaults(e: dict, opts, version: str) -> str:
    from ..milter.config import show_defaults_text
    from ..frontend import STDLIB as STDLIB_DIR
    return show_defaults_text({
        "script": e["script"], "user": e["user"] or "mail (when started as root)",
        "state_directory": e["statedir"], "socket": e["socket"],
        "pidfile": e["pidfile"] or os.path.join(e["statedir"], "mfld.pid"),
        "include_path": list(opts.include_path) + e["include_path"],
        "module_path": list(opts.module_path) + e["module_path"] + [str(STDLIB_DIR)],
        "preprocessor": "none" if not opts.use_m4 else "m4 (built-in setup)",
        "optional_features": ["DKIM", "ed25519", "Authentication-Results"],
    }, version)


def compile_program(script: str, opts, prog: str, variables=()):
    """Compile and check SCRIPT; the Program, or None after printing/logging errors."""
    from ..frontend import compile_file
    from ..interp.compiler import compile_unit
    opts.warnings = False
    try:
        unit = compile_file(script, opts)
    except RecursionError:
        logging.getLogger("mfld").error("%s: program nesting too deep", script)
        return None
    for d in unit.diags.items:
        if d.severity == "error" or d.code in MAILFROMD_WARNINGS:
            logging.getLogger("mfld").log(logging.ERROR if d.severity == "error"
                                          else logging.WARNING, "%s", d.format_mailfromd())
    if unit.diags.errors:
        return None
    program = compile_unit(unit, prog)
    if variables:
        from ..interp.modes import set_variables
        from ..milter.host import log_stream_runtime
        rt = log_stream_runtime(program)
        set_variables(rt, variables)
        program.global_defaults[:] = rt.globals
    return program


def serve(ns, opts, prog: str, version: str) -> int:
    """Everything after option parsing: settings, checks, then the daemon."""
    e, err = effective(ns, prog)
    if err:
        print(f"{prog}: {err}", file=sys.stderr)
        return EX_CONFIG
    if ns.config_lint:
        return EX_OK
    if ns.show_defaults:
        sys.stdout.write(show_defaults(e, opts, version))
        return EX_OK
    if e["no_preprocessor"]:
        opts.use_m4 = False
    opts.include_path = list(opts.include_path) + e["include_path"]
    opts.module_path = list(opts.module_path) + e["module_path"]
    script = e["script"]
    if not os.path.exists(script):
        print(f"{prog}: {script}: No such file or directory", file=sys.stderr)
        return EX_NOINPUT
    if e["workers"] < 0 or e["max_connections"] < 0:
        print(f"{prog}: --workers and --max-connections must not be negative", file=sys.stderr)
        return EX_USAGE
    # errors in the script go to stderr before the daemon detaches
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=f"{prog}: %(message)s")
    variables = [tuple(v.split("=", 1)) if "=" in v else (v, "")
                 for v in getattr(ns, "variable", [])] + e["variables"]
    program = compile_program(script, opts, prog, variables)
    if program is None:
        return EX_CONFIG
    if e["resolv_conf_file"]:
        from ..dkim.dns import resolver_from_resolv_conf, set_default_resolver
        try:
            set_default_resolver(resolver_from_resolv_conf(e["resolv_conf_file"]))
        except OSError as x:
            print(f"{prog}: {e['resolv_conf_file']}: {x.strerror or x}", file=sys.stderr)
            return EX_CONFIG
    url = e["socket"]
    if url.startswith(("unix:", "local:", "/")):
        d = os.path.dirname(url.split(":", 1)[-1])
        if d and not os.path.isdir(d):
            try:
                os.makedirs(d, mode=0o755, exist_ok=True)
            except OSError as x:
                print(f"{prog}: cannot create {d}: {x.strerror}", file=sys.stderr)
                return EX_CONFIG
    setup_logging(e, prog)
    if getattr(ns, "step_limit", None):
        os.environ["MFL_STEP_LIMIT"] = str(ns.step_limit)

    def reload_program():
        return compile_program(script, opts, prog, variables)

    echo = None
    if getattr(ns, "echo", None) is not None:           # mailfromd's --echo[=FILE]
        try:
            echo = sys.stdout if ns.echo == "" else open(ns.echo, "a", buffering=1,
                                                         encoding="utf-8",
                                                         errors="surrogateescape")
        except OSError as x:
            print(f"{prog}: {ns.echo}: {x.strerror}", file=sys.stderr)
            return EX_CONFIG
    from ..milter.daemon import Daemon, Settings
    s = Settings(socket=url, workers=e["workers"], single_process=e["single_process"],
                 foreground=ns.foreground, user=e["user"], groups=e["group"],
                 pidfile=e["pidfile"], milter_timeout=e["milter_timeout"],
                 max_connections=e["max_connections"], drain_timeout=e["drain_timeout"],
                 trace=e["trace"], echo=echo)
    rc = Daemon(s, program, reload_program).start()
    logging.shutdown()
    sys.stdout.flush()
    os._exit(rc)            # libmilter's threads are not Python's to join
