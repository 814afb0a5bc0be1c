"""``mfl``: the friendly command line (subcommands: lint; later test, run, serve, dkim)."""
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
    return p


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
    ns = build_parser().parse_args(argv)
    if ns.cmd == "lint":
        return cmd_lint(ns)
    build_parser().print_help()
    return EX_USAGE


def entry() -> None:
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    entry()
