"""What both command lines share: exit codes, option parsing helpers, lint runs."""
from __future__ import annotations

import json
import os
import sys

from ..diagnostics import ERROR, NOTE, WARNING, Diagnostic

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, EX_TEMPFAIL, EX_CONFIG = 0, 64, 65, 66, 70, 75, 78

# Warnings mailfromd itself gives (printed by ``mfld --lint`` too); all others are mfl's own.
MAILFROMD_WARNINGS = frozenset({"redefined-handler", "redeclared", "shadow", "deprecated",
                                "redefined", "ignored-args", "unnamed-parameter",
                                "missing-module", "uninitialized"})


def parse_define(s: str) -> tuple[str, str | None]:
    if "=" in s:
        k, v = s.split("=", 1)
        return k, v
    return s, None


def lint_files(files, opts, *, fmt: str = "gnu", mailfromd_style: bool = False,
               prog: str = "mfl", out=None) -> int:
    """Lint each file, print diagnostics, return the exit status (0, 66 or 78)."""
    from ..frontend import compile_file
    out = out or sys.stderr
    status = EX_OK
    records = []
    for f in files:
        if not os.path.exists(f):
            msg = f"{prog}: {f}: No such file or directory"
            if fmt == "json":
                records.append({"file": f, "line": 0, "column": 0, "end_line": 0,
                                "end_column": 0, "severity": "error", "code": "no-input",
                                "message": "No such file or directory"})
            else:
                print(msg, file=out)
            status = max(status, EX_NOINPUT) if status != EX_CONFIG else status
            continue
        try:
            if mailfromd_style:
                opts.warnings = False       # mfl's own warnings: only `mfl lint' prints them
            unit = compile_file(f, opts)
        except RecursionError:
            print(f"{prog}: {f}: program nesting too deep", file=out)
            status = EX_CONFIG
            continue
        diags = unit.diags.items
        if mailfromd_style:
            diags = [d for d in diags if d.severity in (ERROR, NOTE) or d.code in MAILFROMD_WARNINGS]
        if unit.diags.errors:
            status = EX_CONFIG
        if fmt == "json":
            records.extend(d.as_json() for d in diags)
        else:
            for d in diags:
                if mailfromd_style:
                    print(f"{prog}: {d.format_mailfromd()}", file=out)
                else:
                    print(d.format_gnu(), file=out)
    if fmt == "json":
        print(json.dumps(records, indent=1), file=sys.stdout)
    return status


def raw_byte_output() -> None:
    """MFL strings are bytes decoded as UTF-8 with surrogateescape: write them
    back as the same bytes (8-bit headers, Latin-1 text), not as escapes."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="surrogateescape")
        except (AttributeError, ValueError):
            pass


def run_entry(main, prog: str) -> None:
    """The console-script entry of both CLIs: exit codes, byte-faithful output, and
    no Python traceback for the user (MFL_DEBUG=1 shows it)."""
    raw_byte_output()
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(141)
    except Exception as e:                      # a bug in mfl: say so, without a traceback
        if os.environ.get("MFL_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {e} "
              f"(set MFL_DEBUG=1 for details)", file=sys.stderr)
        sys.exit(70)
