"""``mfld``: a drop-in for the ``mailfromd`` command line.

Modes: the daemon (default), ``--lint``, ``-E``, ``--test[=HANDLER]``,
``--run[=FUNC]``, ``--show-defaults``, ``--config-lint``; the daemon's options
are in ``serve.py``.
"""
from __future__ import annotations

import argparse
import sys

from .. import __version__
from .common import EX_CONFIG, EX_OK, EX_USAGE, lint_files, parse_define

PROG = "mfld"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{PROG}: {message}", file=sys.stderr)
        print(f"Try '{PROG} --help' for more information.", file=sys.stderr)
        sys.exit(EX_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, add_help=False,
                description="mfl's mailfromd-compatible filter daemon")
    p.add_argument("--help", action="help", help="give this help list")
    p.add_argument("-V", "--version", action="store_true", help="print program version")
    p.add_argument("--lint", action="store_true", help="check syntax and exit")
    p.add_argument("-E", dest="preprocess_only", action="store_true",
                   help="preprocess source files and exit")
    p.add_argument("-I", "--include-path", "--include", action="append", default=[],
                   metavar="DIR", help="add DIR to the include search path")
    p.add_argument("-P", "--module-path", action="append", default=[], metavar="DIR",
                   help="add DIR to the module search path")
    p.add_argument("-D", "--define", action="append", default=[], metavar="NAME[=VALUE]")
    p.add_argument("-U", "--undefine", action="append", default=[], metavar="NAME")
    p.add_argument("--no-preprocessor", action="store_true",
                   help="do not run the m4 preprocessor")
    p.add_argument("--test", nargs="?", const="envfrom", metavar="HANDLER")
    p.add_argument("--run", nargs="?", const="main", metavar="FUNC")
    p.add_argument("--echo", nargs="?", const="", metavar="FILE")
    p.add_argument("-v", "--variable", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--stack-trace", action="store_true",
                   help="print a stack trace when a run-time error occurs")
    p.add_argument("--step-limit", type=int, metavar="N",
                   help="loop iterations allowed per handler call (mfl only; default 10000000)")
    from .serve import add_daemon_options
    add_daemon_options(p)
    p.add_argument("script", nargs="?")
    p.add_argument("args", nargs=argparse.REMAINDER)
    return p


def options_from(ns):
    from ..frontend import Options
    defines = dict(parse_define(d) for d in ns.define)
    return Options(include_path=list(ns.include_path), module_path=list(ns.module_path),
                   defines=defines, undefines=list(ns.undefine),
                   use_m4=not ns.no_preprocessor)


def _attach_optional(argv):
    """mailfromd's --test[=H], --run[=F], --echo[=F]: the value only with '='."""
    out = []
    for a in argv:
        if a in ("--test", "--run", "--echo"):
            a += "=" + {"--test": "envfrom", "--run": "main", "--echo": ""}[a]
        out.append(a)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ns = build_parser().parse_args(_attach_optional(argv))
    if ns.version:
        print(f"mfld (mfl) {__version__}\ncompatible with mailfromd 8.15")
        return EX_OK
    if ns.test is not None and ns.script and "=" in ns.script:
        words = [ns.script] + list(ns.args)
        first = next((w for w in words if "=" not in w), None)
        if first is not None:
            words.remove(first)
            ns.script, ns.args = first, words
    from .serve import DEFAULT_SCRIPT
    script = ns.script or DEFAULT_SCRIPT
    opts = options_from(ns)
    if ns.preprocess_only:
        from ..diagnostics import MFLError
        from ..preprocess import m4_output
        try:
            if opts.use_m4:
                sys.stdout.write(m4_output(script, defines=opts.defines,
                                           undefines=opts.undefines))
            else:
                with open(script, encoding="utf-8", errors="surrogateescape") as f:
                    sys.stdout.write(f.read())
        except MFLError as e:
            print(f"{PROG}: {e.diagnostic().format_mailfromd()}", file=sys.stderr)
            return EX_CONFIG
        except OSError as e:
            print(f"{PROG}: {script}: {e.strerror}", file=sys.stderr)
            return 66
        return EX_OK
    if ns.lint:
        return lint_files([script], opts, mailfromd_style=True, prog=PROG)
    if ns.test is not None or ns.run is not None:
        return run_script(script, ns, opts)
    return serve_script(ns.script, ns, opts)


def serve_script(script, ns, opts) -> int:
    """The milter daemon (see mfl/cli/serve.py and mfl/milter/daemon.py)."""
    from .serve import serve
    words = ([script] if script else []) + list(ns.args or [])
    ns.script = next((w for w in words if "=" not in w), None)
    ns.variable = list(ns.variable) + [w for w in words if "=" in w]   # [var=value...]
    return serve(ns, opts, PROG, __version__)


def run_script(script, ns, opts) -> int:
    """--test[=HANDLER] and --run[=FUNC]: compile, then run."""
    import os
    from ..frontend import compile_file
    from ..interp.modes import run_mode, test_mode
    from .common import MAILFROMD_WARNINGS
    if not os.path.exists(script):
        print(f"{PROG}: {script}: No such file or directory", file=sys.stderr)
        return 66
    if ns.step_limit:
        os.environ["MFL_STEP_LIMIT"] = str(ns.step_limit)
    opts.warnings = False
    unit = compile_file(script, opts)
    for d in unit.diags.items:
        if d.severity == "error" or d.code in MAILFROMD_WARNINGS:
            print(f"{PROG}: {d.format_mailfromd()}", file=sys.stderr)
    if unit.diags.errors:
        return EX_CONFIG
    variables = [tuple(v.split("=", 1)) if "=" in v else (v, "") for v in ns.variable]
    echo = None
    if ns.echo is not None:
        echo = sys.stdout if ns.echo == "" else open(ns.echo, "a", encoding="utf-8")
    if ns.run is not None:
        return run_mode(unit, ns.run or "main", ns.args, progname=PROG,
                        stack_trace=ns.stack_trace, variables=variables, echo=echo,
                        trace=bool(ns.trace))
    return test_mode(unit, ns.test or "envfrom", ns.args, progname=PROG,
                     stack_trace=ns.stack_trace, variables=variables, echo=echo,
                     trace=bool(ns.trace))


def entry() -> None:
    from .common import run_entry
    run_entry(main, "mfld")


if __name__ == "__main__":
    entry()
