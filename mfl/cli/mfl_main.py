"""``mfl``: the friendly command line (subcommands: lint; later test, run, serve, dkim)."""
from __future__ import annotations

import argparse
import sys

from .. import __version__
from .common import EX_OK, EX_USAGE, lint_files, parse_define, raw_byte_output


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
    _front_opts(test)
    run = sub.add_parser("run", help="call a script's main function (like mailfromd --run)")
    run.add_argument("script", metavar="SCRIPT")
    run.add_argument("--function", default="main", help="the function to call (default main)")
    run.add_argument("args", nargs="*", metavar="ARG")
    _front_opts(run)
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
    argv = list(ns.macro) + list(ns.args)
    for a in ns.args:
        if "=" in a:
            print(f"mfl: handler argument {a!r} looks like a macro; use --macro", file=sys.stderr)
            return 64
    return test_mode(unit, ns.handler, argv, progname="mfl")


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


def main(argv=None) -> int:
    raw_byte_output()
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
    build_parser().print_help()
    return EX_USAGE


def entry() -> None:
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(141)
    except Exception as e:                      # a bug in mfl: say so, without a traceback
        import os
        if os.environ.get("MFL_DEBUG"):
            raise
        print(f"mfl: internal error: {type(e).__name__}: {e} "
              f"(set MFL_DEBUG=1 for details)", file=sys.stderr)
        sys.exit(70)


if __name__ == "__main__":
    entry()
