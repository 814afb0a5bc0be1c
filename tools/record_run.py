#!/usr/bin/env python3
"""Record the reference behaviour of GNU mailfromd's --test and --run modes.

For every script ``tests/diff/run/TOPIC/NAME.mfl`` (the directory
``tests/diff/run/modules`` holds module files used with ``-P`` and is not a
script directory) this runs the real mailfromd as

    mailfromd [options] tests/diff/run/TOPIC/NAME.mfl [args]

from the repository root and writes the result next to the script as
``NAME.expected`` (JSON):

    {
      "exit": 0,                   # exit status of mailfromd
      "stdout": "...",             # normalized standard output
      "stderr": "...",             # normalized standard error
      "options": ["--test=helo"],  # options, as written in the script
      "args": ["1=foo"]            # arguments after the script name
    }

Header lines (within the first OPTIONS_SCAN_LINES lines of the script):

    # mfl-options: --test=envrcpt -v dir=@TMPDIR@
    # mfl-args: 1=a@b.c client_addr=127.0.0.1

Both are split like a shell command line (shlex).  ``@TMPDIR@`` is replaced by
a fresh, empty temporary directory created for this run only (removed
afterwards).

Environment (fixed; nothing is inherited except PATH and PYTHONPATH):
LC_ALL=C, LANG=C, TZ=UTC, HOME=/nonexistent/mfl-home and the variables in
FIXED_ENV below (scripts read them with getenv); stdin is /dev/null; every run
has a timeout of TIMEOUT seconds.

Normalization (``normalize``), applied to stdout and stderr alike, both when
recording and in tests/test_diff_run.py before comparing:

1. the temporary directory (as given and as its real path) -> ``@TMPDIR@``;
2. the absolute repository root followed by "/" is removed, then every
   file name ending in ``.mf`` or ``.mfl`` that has directory components is
   reduced to its basename (``tests/diff/run/x/a.mfl:3`` -> ``a.mfl:3``,
   ``/usr/share/mailfromd/8.15/status.mfl`` -> ``status.mfl``);
3. the program name at the start of a line, ``mailfromd: `` or ``mfld: ``
   (or ``mfl: ``), becomes ``PROG: ``;
4. program-counter values, which depend on mailfromd's code generator and
   have no meaning for another implementation: the token `` at XXXXXXXX``
   (exactly 8 hex digits, as in "Division by zero at 0000000b") becomes
   `` at <PC>``, and the address that starts a stack-trace line
   (``PROG: 0011: a.mfl:4: f``) becomes ``PROG: <PC>: a.mfl:4: f``.

Usage (from anywhere; it changes to the repository root itself):

    python3 tools/record_run.py                 # record the whole corpus
    python3 tools/record_run.py NAME|TOPIC/NAME # only these scripts
    python3 tools/record_run.py --check         # compare, do not write

``--check`` re-runs every script and reports the ones whose output differs
from the recorded .expected (use it to confirm the corpus is deterministic).
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
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path("tests") / "diff" / "run"
MODULES_DIR = CORPUS_DIR / "modules"
OPTIONS_SCAN_LINES = 10
OPTIONS_RE = re.compile(r"^\s*#\s*mfl-options:\s*(.*?)\s*$")
ARGS_RE = re.compile(r"^\s*#\s*mfl-args:\s*(.*?)\s*$")
TMPDIR_TOKEN = "@TMPDIR@"
TIMEOUT = 30
HOME = "/nonexistent/mfl-home"
# Extra environment variables visible to the scripts (getenv tests).
FIXED_ENV = {
    "MFL_TEST_STR": "hello, world",
    "MFL_TEST_NUM": "42",
    "MFL_TEST_EMPTY": "",
}

_PROG_PREFIX_RE = re.compile(r"^(?:mailfromd|mfld|mfl): ", re.M)
_MFL_PATH_RE = re.compile(r"(?<![\w/.@+-])/?(?:[\w.+-]+/)+([\w.+-]+\.mfl?)\b")
_PC_AT_RE = re.compile(r" at [0-9a-f]{8}\b")
_PC_TRACE_RE = re.compile(r"^PROG: [0-9a-f]{4,8}: ", re.M)


def _scan_header(script: Path) -> tuple[list[str], list[str]]:
    options: list[str] = []
    args: list[str] = []
    try:
        with open(script, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if i >= OPTIONS_SCAN_LINES:
                    break
                m = OPTIONS_RE.match(line)
                if m:
                    options = shlex.split(m.group(1))
                    continue
                m = ARGS_RE.match(line)
                if m:
                    args = shlex.split(m.group(1))
    except OSError:
        pass
    return options, args


def read_options(script: Path) -> list[str]:
    """Options from '# mfl-options:' (with the @TMPDIR@ token unexpanded)."""
    return _scan_header(script)[0]


def read_args(script: Path) -> list[str]:
    """Arguments after the script from '# mfl-args:' (unexpanded)."""
    return _scan_header(script)[1]


def corpus_scripts(root: Path = REPO_ROOT) -> list[Path]:
    """All corpus scripts, relative to the repository root, sorted."""
    base = root / CORPUS_DIR
    out = []
    for p in sorted(base.rglob("*.mfl")):
        rel = p.relative_to(root)
        if rel.parts[: len(MODULES_DIR.parts)] == MODULES_DIR.parts:
            continue
        out.append(rel)
    return out


def make_env(extra: dict | None = None) -> dict:
    """The fixed environment for both mailfromd and our implementation."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LC_ALL": "C",
        "LANG": "C",
        "TZ": "UTC",
        "HOME": HOME,
    }
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(FIXED_ENV)
    if extra:
        env.update(extra)
    return env


def expand(words: list[str], tmpdir: str) -> list[str]:
    return [w.replace(TMPDIR_TOKEN, tmpdir) for w in words]


def normalize(text: str, tmpdir: str | None = None) -> str:
    """Make output comparable between runs and implementations (see above)."""
    if tmpdir:
        real = os.path.realpath(tmpdir)
        for d in sorted({tmpdir, real}, key=len, reverse=True):
            text = text.replace(d, TMPDIR_TOKEN)
    text = text.replace(str(REPO_ROOT) + "/", "")
    text = _MFL_PATH_RE.sub(r"\1", text)
    text = _PROG_PREFIX_RE.sub("PROG: ", text)
    text = _PC_AT_RE.sub(" at <PC>", text)
    text = _PC_TRACE_RE.sub("PROG: <PC>: ", text)
    return text


def run_program(cmd_prefix: list[str], script: Path, options: list[str],
                args: list[str]) -> dict:
    """Run CMD_PREFIX + options + script + args the corpus way.

    Returns {"exit", "stdout", "stderr"} normalized.  Used by the recorder
    (with [mailfromd]) and by the test (with [python, -m, mfl.cli.mfld_main]).
    """
    tmpdir = tempfile.mkdtemp(prefix="mflrun.")
    try:
        cmd = [*cmd_prefix, *expand(options, tmpdir), str(script),
               *expand(args, tmpdir)]
        try:
            proc = subprocess.run(cmd, cwd=REPO_ROOT, env=make_env(),
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=TIMEOUT)
            code = proc.returncode
            out = proc.stdout.decode("utf-8", errors="replace")
            err = proc.stderr.decode("utf-8", errors="replace")
        except subprocess.TimeoutExpired as e:
            code = "timeout"
            out = (e.stdout or b"").decode("utf-8", errors="replace")
            err = (e.stderr or b"").decode("utf-8", errors="replace")
        return {"exit": code, "stdout": normalize(out, tmpdir),
                "stderr": normalize(err, tmpdir)}
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def record(script: Path, mailfromd: str) -> dict:
    options, args = _scan_header(REPO_ROOT / script)
    res = run_program([mailfromd], script, options, args)
    res["options"] = options
    res["args"] = args
    return res


def dump(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _select(names: list[str]) -> list[Path]:
    all_scripts = corpus_scripts()
    out = []
    for n in names:
        n = n.rstrip("/")
        n = n[:-4] if n.endswith(".mfl") else n
        hits = [s for s in all_scripts
                if str(s.with_suffix("")).endswith("/" + n) or s.stem == n
                or s.parent.name == n]
        if not hits:
            print(f"no such script: {n}", file=sys.stderr)
        out.extend(h for h in hits if h not in out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="scripts (NAME, TOPIC/NAME) or topics (TOPIC)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; report scripts whose output changed")
    ap.add_argument("--mailfromd", default=shutil.which("mailfromd") or "mailfromd",
                    help="mailfromd binary to run")
    args = ap.parse_args(argv)

    os.chdir(REPO_ROOT)
    scripts = _select(args.names) if args.names else corpus_scripts()
    if not scripts:
        print("no scripts found", file=sys.stderr)
        return 1

    changed = 0
    for script in scripts:
        text = dump(record(script, args.mailfromd))
        exp = script.with_suffix(".expected")
        old = exp.read_text(encoding="utf-8") if exp.exists() else None
        if old != text:
            changed += 1
            if args.check:
                print(f"CHANGED {script}")
            else:
                exp.write_text(text, encoding="utf-8")
    print(f"{len(scripts)} scripts, {changed} "
          f"{'differ' if args.check else 'updated'}", file=sys.stderr)
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
