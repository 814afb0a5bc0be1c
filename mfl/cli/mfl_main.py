"""``mfl``: the friendly command line (subcommands: lint, test, run, serve, dkim)."""
from __future__ import annotations

import argparse
import sys

from .. import __version__
from .common import EX_OK, EX_USAGE, lint_files, parse_define


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"mfl: {message}", file=sys.stderr)
        sys.exit(EX_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mfl", description="Check, run and serve MFL mail filters.")
    p.add_argument("--version", action="version", version=f"mfl {__version__}")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    lint = sub.add_parser("lint", help="check MFL scripts: errors and warnings")
    lint.add_argument("files", nargs="+", metavar="FILE")
    lint.add_argument("--format", choices=("gnu", "json"), default="gnu",
                      help="gnu: FILE:LINE.COL: severity: message (default); json: a list")
    lint.add_argument("-W", dest="warnings", action="append", default=[], metavar="[no-]NAME",
                      help="-W no-NAME disables warning NAME; -W error makes warnings fatal")
    lint.add_argument("-I", "--include-path", action="append", default=[], metavar="DIR")
    lint.add_argument("-P", "--module-path", action="append", default=[], metavar="DIR")
    lint.add_argument("-D", "--define", action="append", default=[], metavar="NAME[=VALUE]")
    lint.add_argument("-U", "--undefine", action="append", default=[], metavar="NAME")
    lint.add_argument("--no-preprocessor", action="store_true")
    test = sub.add_parser("test", help="run one handler of a script (like mailfromd --test)")
    test.add_argument("script", metavar="SCRIPT")
    test.add_argument("--handler", default="envfrom", help="the handler to run (default envfrom)")
    test.add_argument("--macro", "-m", action="append", default=[], metavar="NAME=VALUE",
                      help="a Sendmail macro, e.g. -m f=sender@example.org (repeatable)")
    test.add_argument("args", nargs="*", metavar="ARG", help="the handler's arguments ($1, $2…)")
    msg = test.add_argument_group(
        "whole transaction", "with --message, run every handler (connect … eom) over a saved "
        "message as an MTA would, print the verdict and the queued modifications")
    msg.add_argument("--message", metavar="FILE.eml",
                     help="the message (CR LF or LF; a leading mbox From line is kept)")
    msg.add_argument("--output", metavar="OUT.eml",
                     help="write the message as the MTA would deliver it (after the MMQ)")
    msg.add_argument("--from", dest="sender", default=None, metavar="ADDRESS",
                     help="envelope sender (default: from the message, else sender@example.org)")
    msg.add_argument("--rcpt", action="append", default=[], metavar="ADDRESS",
                     help="envelope recipient (repeatable; default rcpt@example.net)")
    msg.add_argument("--helo", default="localhost", metavar="DOMAIN",
                     help="the HELO/EHLO argument (default localhost)")
    msg.add_argument("--body-chunk", type=int, default=65535, metavar="BYTES",
                     help="size of the body handler's chunks (default 65535, as Sendmail)")
    _front_opts(test)
    from . import dkim_cmd
    dkim_cmd.add_parser(sub)
    run = sub.add_parser("run", help="call a script's main function (like mailfromd --run)")
    run.add_argument("script", metavar="SCRIPT")
    run.add_argument("--function", default="main", help="the function to call (default main)")
    run.add_argument("args", nargs="*", metavar="ARG")
    _front_opts(run)
    serve = sub.add_parser("serve", help="serve a script to the MTA as a milter (like mfld)",
                           description="Serve SCRIPT to Postfix or Sendmail over the milter "
                           "protocol; the same daemon as mfld, with the same options.")
    serve.add_argument("script", metavar="SCRIPT", nargs="?")
    serve.add_argument("-v", "--variable", action="append", default=[], metavar="NAME=VALUE",
                       help="assign a global variable before serving")
    serve.add_argument("--step-limit", type=int, metavar="N",
                       help="loop iterations allowed per handler call (default 10000000)")
    from .serve import add_daemon_options
    add_daemon_options(serve)
    _front_opts(serve)
    chk = sub.add_parser("milter-check", help="send one message to a running milter, "
                         "print its verdict and changes")
    chk.add_argument("socket", metavar="SOCKET", help="unix:/path or inet:PORT@HOST")
    chk.add_argument("--message", metavar="FILE.eml", help="the message (default: a small one)")
    chk.add_argument("--client-addr", default="127.0.0.1",
                     help="the SMTP client's address (default 127.0.0.1: local mail)")
    chk.add_argument("--from", dest="sender", default="postmaster@example.org")
    chk.add_argument("--rcpt", default="postmaster@example.org")
    return p


def _front_opts(p) -> None:
    p.add_argument("-I", "--include-path", action="append", default=[], metavar="DIR")
    p.add_argument("-P", "--module-path", action="append", default=[], metavar="DIR")
    p.add_argument("-D", "--define", action="append", default=[], metavar="NAME[=VALUE]")
    p.add_argument("-U", "--undefine", action="append", default=[], metavar="NAME")
    p.add_argument("--no-preprocessor", action="store_true")


def cmd_run(ns, mode: str) -> int:
    """mfl test / mfl run: check the script (errors stop it), then run it."""
    import os
    from ..frontend import Options, compile_file
    from ..interp.modes import run_mode, test_mode
    if not os.path.exists(ns.script):
        print(f"mfl: {ns.script}: No such file or directory", file=sys.stderr)
        return 66
    opts = Options(include_path=ns.include_path, module_path=ns.module_path,
                   defines=dict(parse_define(d) for d in ns.define), undefines=ns.undefine,
                   use_m4=not ns.no_preprocessor, warnings=False)
    unit = compile_file(ns.script, opts)
    for d in unit.diags.items:
        print(d.format_gnu(), file=sys.stderr)
    if unit.diags.errors:
        return 78
    if mode == "run":
        return run_mode(unit, ns.function, ns.args, progname="mfl")
    if getattr(ns, "message", None):
        return cmd_message(unit, ns)
    argv = list(ns.macro) + list(ns.args)
    for a in ns.args:
        if "=" in a:
            print(f"mfl: handler argument {a!r} looks like a macro; use --macro", file=sys.stderr)
            return 64
    return test_mode(unit, ns.handler, argv, progname="mfl")


def cmd_message(unit, ns) -> int:
    """mfl test SCRIPT --message FILE.eml: one SMTP transaction over a saved message."""
    from ..interp.compiler import compile_unit
    from ..interp.session import run_session
    from ..message import Message
    try:
        message = Message.load(ns.message)
    except OSError as e:
        print(f"mfl: {ns.message}: {e.strerror}", file=sys.stderr)
        return 66
    macros = {}
    for m in ns.macro:
        if "=" not in m:
            print(f"mfl: --macro {m!r}: expected NAME=VALUE", file=sys.stderr)
            return EX_USAGE
        k, v = m.split("=", 1)
        macros[k.strip("{}")] = v
    sender = ns.sender
    if sender is None:
        sender = _sender_of(message) or "sender@example.org"
    rcpts = ns.rcpt or ["rcpt@example.net"]
    prog = compile_unit(unit, "mfl")
    res = run_session(prog, message, sender=sender, recipients=rcpts, macros=macros,
                      helo=ns.helo, body_chunk=ns.body_chunk)
    out = sys.stdout
    where = f" in {res.stage}" if res.stage != "eom" or res.verdict != "continue" else ""
    reply = ""
    if res.reply:
        reply = " (" + " ".join(x for x in res.reply if x) + ")"
    out.write(f"verdict: {res.verdict}{where}{reply}\n")
    for rcpt, kind, r in res.rejected_rcpts:
        extra = " (" + " ".join(x for x in r if x) + ")" if r else ""
        out.write(f"recipient {rcpt}: {kind}{extra}\n")
    if res.dropped_mods:
        out.write(f"dropped by accept: {len(res.dropped_mods)} modification(s)\n")
    if res.mods:
        out.write("queued modifications:\n")
        for m in res.mods:
            out.write("  " + m.describe().replace("\n", "\n  ") + "\n")
    if res.delivered:
        env = res.envelope
        out.write(f"envelope: from <{env.sender}> to "
                  + ", ".join(f"<{r}>" for r in env.recipients) + "\n")
        if env.quarantine is not None:
            out.write(f"quarantined: {env.quarantine}\n")
    if ns.output:
        if not res.delivered:
            out.write(f"not delivered: {ns.output} not written\n")
        else:
            try:
                with open(ns.output, "wb") as fp:
                    res.message.write_to(fp)
            except OSError as e:
                print(f"mfl: {ns.output}: {e.strerror}", file=sys.stderr)
                return 73
    return 0


def _sender_of(message) -> str | None:
    import re
    if message.prefix:
        words = message.prefix.split()
        if len(words) > 1:
            return words[1].decode("utf-8", "surrogateescape")
    rp = message.get("return-path")
    if rp:
        m = re.search(r"<([^>]*)>", rp)
        return m.group(1) if m else rp.strip()
    return None


def cmd_lint(ns) -> int:
    from ..check.warnings import WARNINGS
    from ..frontend import Options
    disabled = set()
    werror = False
    for w in ns.warnings:
        if w == "error":
            werror = True
        elif w.startswith("no-"):
            name = w[3:]
            if name not in WARNINGS and name != "all":
                print(f"mfl: unknown warning `{name}' (known: {', '.join(sorted(WARNINGS))})",
                      file=sys.stderr)
                return EX_USAGE
            disabled |= set(WARNINGS) if name == "all" else {name}
    opts = Options(include_path=ns.include_path, module_path=ns.module_path,
                   defines=dict(parse_define(d) for d in ns.define), undefines=ns.undefine,
                   use_m4=not ns.no_preprocessor, disabled_warnings=frozenset(disabled))
    status = lint_files(ns.files, opts, fmt=ns.format, prog="mfl")
    if werror and status == 0:
        from ..frontend import compile_file
        if any(compile_file(f, opts).diags.warnings for f in ns.files):
            return 78
    return status


def cmd_milter_check(ns) -> int:
    from ..milter.check import check
    msg = None
    if ns.message:
        try:
            with open(ns.message, "rb") as f:
                msg = f.read()
        except OSError as e:
            print(f"mfl: {ns.message}: {e.strerror}", file=sys.stderr)
            return 66
    try:
        verdict, mods = check(ns.socket, client_addr=ns.client_addr, sender=ns.sender,
                              rcpt=ns.rcpt, message=msg)
    except (OSError, ValueError) as e:
        print(f"mfl milter-check: {ns.socket}: {e}", file=sys.stderr)
        return 69                                    # EX_UNAVAILABLE
    print(f"verdict: {verdict}")
    for what, detail in mods:
        print(f"  {what}: {detail[:200]}")
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    ns, extra = parser.parse_known_args(argv)
    if extra:
        # handler/function arguments may follow the options
        if ns.cmd in ("test", "run") and not any(x.startswith("-") for x in extra):
            ns.args = list(ns.args) + extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if ns.cmd == "lint":
        return cmd_lint(ns)
    if ns.cmd in ("test", "run"):
        return cmd_run(ns, ns.cmd)
    if ns.cmd == "serve":
        from .. import __version__
        from .mfld_main import options_from
        from .serve import serve
        return serve(ns, options_from(ns), "mfl", __version__)
    if ns.cmd == "milter-check":
        return cmd_milter_check(ns)
    if ns.cmd == "dkim":
        from . import dkim_cmd
        return dkim_cmd.run(ns)
    build_parser().print_help()
    return EX_USAGE


def entry() -> None:
    from .common import run_entry
    run_entry(main, "mfl")


if __name__ == "__main__":
    entry()
