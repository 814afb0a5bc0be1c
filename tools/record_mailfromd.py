#!/usr/bin/env python3
"""Record the reference behaviour of GNU mailfromd's linter.

For every ``tests/diff/lint/*.mfl`` this runs the real ``mailfromd --lint``
(plus the options named in a ``# mfl-options: ...`` comment within the first
lines of the script) from the repository root, and writes the result next to
the script as ``NAME.expected`` (JSON):

    {
      "exit": 78,                      # exit status of mailfromd
      "stderr": "...",                 # normalized diagnostics
      "first_error_line": 3,           # line of the first error, or null
      "first_error_file": "x.mfl",     # basename of the file it is in, or null
      "first_error": "message text",   # text of the first error ("" if none)
      "options": ["-P", "..."]         # extra options used for the run
    }

Normalization, so the output is reproducible: the leading ``mailfromd: ``
is stripped from every line and file names are reduced to their basename.

Usage (from anywhere; it changes to the repository root itself):

    python3 tools/record_mailfromd.py            # record the whole corpus
    python3 tools/record_mailfromd.py NAME ...   # only these scripts
    python3 tools/record_mailfromd.py --check    # compare, do not write

The test ``tests/test_diff_lint.py`` uses the same option parsing and the
same diagnostic parsing (it imports them from this module).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path("tests") / "diff" / "lint"
# How many leading lines of a script are searched for "# mfl-options:".
OPTIONS_SCAN_LINES = 5
OPTIONS_RE = re.compile(r"^\s*#\s*mfl-options:\s*(.*?)\s*$")
TIMEOUT = 60

# "prog: " prefix of a diagnostic line (mailfromd:, mfld:, mfl:).
_PROG_PREFIX_RE = re.compile(r"^(?:mailfromd|mfld|mfl): ")
# m4 diagnostics look like "/usr/bin/m4:FILE:LINE: message"; once the path is
# reduced to its basename the "m4:" prefix is dropped for parsing.
_M4_PREFIX_RE = re.compile(r"^m4:(?=[^:\s]+:\d+:)")
# Anything that looks like a file name with directories: keep the basename.
_PATH_RE = re.compile(r"(?<![\w/.+-])/?(?:[\w.+-]+/)+([\w.+-]+)")
# FILE:LINE[.COL][-[LINE.]COL]: MESSAGE (after the program prefix is gone).
LOCATION_RE = re.compile(
    r"^(?P<file>[^:\s][^:]*?):(?P<line>\d+)(?:\.(?P<col>\d+))?"
    r"(?:-(?:\d+\.)?\d+)?:\s?(?P<msg>.*)$"
)


def read_options(script: Path) -> list[str]:
    """Extra command line options from a '# mfl-options: ...' comment."""
    try:
        with open(script, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if i >= OPTIONS_SCAN_LINES:
                    break
                m = OPTIONS_RE.match(line)
                if m:
                    return shlex.split(m.group(1))
    except OSError:
        pass
    return []


def normalize_stderr(text: str) -> str:
    out = []
    for line in text.splitlines():
        line = _PROG_PREFIX_RE.sub("", line, count=1)
        line = _PATH_RE.sub(r"\1", line)
        out.append(line.rstrip())
    return "\n".join(out) + ("\n" if out else "")


def is_warning(msg: str) -> bool:
    return msg.lower().startswith("warning")


def parse_diagnostics(stderr: str) -> list[dict]:
    """Split (normalized or raw) stderr into diagnostics.

    Each diagnostic is a dict with file, line, col (None when the line has
    no location), msg and warning (bool).  Accepts any program-name prefix.
    """
    diags = []
    for raw in stderr.splitlines():
        line = _PATH_RE.sub(r"\1", _PROG_PREFIX_RE.sub("", raw, count=1))
        line = _M4_PREFIX_RE.sub("", line, count=1)
        if not line.strip():
            continue
        m = LOCATION_RE.match(line)
        if m:
            msg = m.group("msg")
            diags.append({
                "file": os.path.basename(m.group("file")),
                "line": int(m.group("line")),
                "col": int(m.group("col")) if m.group("col") else None,
                "msg": msg,
                "warning": is_warning(msg),
            })
        else:
            diags.append({"file": None, "line": None, "col": None,
                          "msg": line.strip(), "warning": is_warning(line.strip())})
    return diags


def first_error(stderr: str) -> dict | None:
    """The first diagnostic that is not a warning, or None."""
    for d in parse_diagnostics(stderr):
        if not d["warning"]:
            return d
    return None


def run_mailfromd(script: Path, options: list[str], mailfromd: str) -> tuple[int, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    env.pop("LANGUAGE", None)
    cmd = [mailfromd, "--lint", *options, str(script)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace",
                          timeout=TIMEOUT)
    # --lint prints nothing on stdout normally; keep it if it ever does.
    err = proc.stderr
    if proc.stdout.strip():
        err = proc.stdout + err
    return proc.returncode, err


def record(script: Path, mailfromd: str) -> dict:
    options = read_options(REPO_ROOT / script)
    code, err = run_mailfromd(script, options, mailfromd)
    stderr = normalize_stderr(err)
    fe = first_error(stderr) if code != 0 else None
    return {
        "exit": code,
        "stderr": stderr,
        "first_error_line": fe["line"] if fe else None,
        "first_error_file": fe["file"] if fe else None,
        "first_error": fe["msg"] if fe else "",
        "options": options,
    }


def dump(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="script names (with or without .mfl)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; report scripts whose output changed")
    ap.add_argument("--mailfromd", default=shutil.which("mailfromd") or "mailfromd",
                    help="mailfromd binary to run")
    args = ap.parse_args(argv)

    os.chdir(REPO_ROOT)
    if args.names:
        scripts = [CORPUS_DIR / (n if n.endswith(".mfl") else n + ".mfl")
                   for n in (os.path.basename(x) for x in args.names)]
    else:
        scripts = sorted(CORPUS_DIR.glob("*.mfl"))
    if not scripts:
        print("no scripts found", file=sys.stderr)
        return 1

    changed = 0
    errors = 0
    for script in scripts:
        data = record(script, args.mailfromd)
        if data["exit"] != 0:
            errors += 1
        text = dump(data)
        exp = script.with_suffix(".expected")
        old = exp.read_text(encoding="utf-8") if exp.exists() else None
        if old != text:
            changed += 1
            if args.check:
                print(f"CHANGED {script.name}")
            else:
                exp.write_text(text, encoding="utf-8")
    print(f"{len(scripts)} scripts, {errors} with errors, "
          f"{changed} {'differ' if args.check else 'updated'}", file=sys.stderr)
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
