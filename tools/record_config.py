#!/usr/bin/env python3
"""Record what GNU mailfromd 8.15 makes of the configuration files in
``tests/data/conf/diff/`` (the expected outputs of tests/test_milter_config.py).

For every ``NAME.conf`` there, this copies the whole directory (with its
subdirectories) into a fresh temporary directory T, /tmp/mfl-conf-XXXXXXXX
(replacing ``@DIR@`` in every file by T, so includes can use absolute names;
columns in messages depend on the length of T's name), then runs, with T as
the working directory,

    mailfromd --config-file NAME.conf --show-defaults

and, when the file sets the variable ``sv`` (``setvar sv ...``), also

    mailfromd --config-file NAME.conf --run T/probe.mfl

whose ``main`` echoes ``<<<%sv>>>``: the exact string value mailfromd read.

Files named ``site-*.conf`` are read as mailfromd's site-wide configuration
(where ``program`` blocks and ``include DIRECTORY`` are honoured): T/site is
bind-mounted over /etc/mailfromd in a private mount namespace (``unshare -m``,
needs root) and mailfromd runs without --config-file.  Their file name in the
messages is then /etc/mailfromd/mailfromd.conf, recorded as ``@SITE@``.

The result goes to ``NAME.expected`` (JSON):

    {"exit": 78,                  # mailfromd's exit status (negative: a signal)
     "messages": ["NAME.conf:1.1-8: unknown keyword `bogus'"],
     "show": {"user": "...", "statedir": "...", "pidfile": "...",
              "include path": ["a", "b"], "module path": []},   # when exit is 0
     "sv": "value of sv"}                         # when the file sets sv

``messages`` is mailfromd's standard error, one line each, without the
leading ``mailfromd: `` and with T replaced by ``@DIR@``; the include and
module paths are the part before mailfromd's built-in directories.

It also writes ``tests/data/conf/mailfromd-defaults.json``: the default
configuration file mailfromd opens (from ``--config-verbose``) and the lines
of ``--show-defaults`` (labels and order for ``show_defaults_text``).

Usage: python3 tools/record_config.py [NAME...] [--check]
(``--check`` compares with the recorded files instead of writing them.)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "conf" / "diff"
SITE_FILE = "/etc/mailfromd/mailfromd.conf"
PROBE = ("string sv\n"
         "func main(...) returns number\n"
         "do\n"
         "  echo \"<<<%sv>>>\"\n"
         "  return 0\n"
         "done\n")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "LANG": "C",
       "HOME": "/nonexistent/mfl-home", "TZ": "UTC"}
SHOWN = ("user", "statedir", "pidfile", "include path", "module path", "greylist expiration")


def prepare(tmp: Path) -> None:
    """Copy the corpus into TMP, with @DIR@ replaced by TMP."""
    for f in CORPUS.rglob("*"):
        if f.is_file() and not f.name.endswith(".expected"):
            dest = tmp / f.relative_to(CORPUS)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(f.read_bytes().replace(b"@DIR@", str(tmp).encode()))
    (tmp / "probe.mfl").write_text(PROBE)


def run(tmp: Path, name: str, extra: list[str]) -> subprocess.CompletedProcess:
    if name.startswith("site-"):
        site = tmp / "site"
        shutil.rmtree(site, ignore_errors=True)
        site.mkdir()
        shutil.copy(tmp / name, site / "mailfromd.conf")
        cmd = ("mount --bind \"$1\" /etc/mailfromd && shift && exec mailfromd \"$@\"")
        argv = ["unshare", "-m", "sh", "-c", cmd, "sh", str(site)] + extra
    else:
        argv = ["mailfromd", "--config-file", name] + extra
    return subprocess.run(argv, cwd=tmp, env=ENV, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=30)


def builtin_paths() -> dict[str, str]:
    out = subprocess.run(["mailfromd", "--no-config", "--show-defaults"], env=ENV,
                         capture_output=True, text=True, check=True).stdout
    lines = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {k: lines[k] for k in ("include path", "module path")}


def record(tmp: Path, name: str, builtin: dict[str, str]) -> dict:
    def norm(text: str) -> str:
        return text.replace(SITE_FILE, "@SITE@").replace(str(tmp), "@DIR@")

    r = run(tmp, name, ["--show-defaults"])
    err = r.stderr.decode("utf-8", "surrogateescape")
    result = {"exit": r.returncode,
              "messages": [norm(line.removeprefix("mailfromd: "))
                           for line in err.splitlines()]}
    if r.returncode == 0:
        lines = dict(line.split(":", 1) for line in
                     r.stdout.decode("utf-8", "surrogateescape").splitlines() if ":" in line)
        show = {}
        for key in SHOWN:
            value = norm(lines[key])
            if key in builtin:
                value = value[:-len(builtin[key])].rstrip(":") if value.endswith(
                    builtin[key]) else value
                value = [d for d in value.split(":") if d]
            show[key] = value
        result["show"] = show
    text = (tmp / name).read_bytes()
    if r.returncode == 0 and b"setvar sv " in text:
        p = run(tmp, name, ["--run", str(tmp / "probe.mfl")])
        out = p.stderr.decode("utf-8", "surrogateescape")     # echo writes to stderr
        result["sv"] = out[out.index("<<<") + 3:out.rindex(">>>")]
    return result


def record_defaults() -> dict:
    """The default configuration file and the --show-defaults lines."""
    r = subprocess.run(["mailfromd", "--config-verbose", "--show-defaults"], env=ENV,
                       capture_output=True, text=True, check=True)
    opening = "info: opening configuration file "
    config = [line.split(opening, 1)[1] for line in r.stderr.splitlines() if opening in line]
    return {"config_file": config[0], "show_defaults": r.stdout.splitlines()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    names = [a if a.endswith(".conf") else a + ".conf" for a in argv if a != "--check"]
    names = names or sorted(f.name for f in CORPUS.glob("*.conf"))
    builtin = builtin_paths()
    status = 0
    # /tmp/mfl-conf-XXXXXXXX: always 22 characters, as locations depend on it
    with tempfile.TemporaryDirectory(prefix="mfl-conf-", dir="/tmp") as t:
        tmp = Path(os.path.realpath(t))
        prepare(tmp)
        for name in names:
            result = record(tmp, name, builtin)
            if result["exit"] not in (0, 78):       # e.g. -11: it crashed
                print(f"{name}: note: mailfromd exited with {result['exit']}",
                      file=sys.stderr)
            dest = CORPUS / (name[:-5] + ".expected")
            text = json.dumps(result, indent=1, ensure_ascii=True) + "\n"
            if check:
                if not dest.exists() or dest.read_text() != text:
                    print(f"{name}: differs from {dest.name}")
                    status = 1
            else:
                dest.write_text(text)
    if not argv or argv == ["--check"]:
        dest = CORPUS.parent / "mailfromd-defaults.json"
        text = json.dumps(record_defaults(), indent=1) + "\n"
        if check and (not dest.exists() or dest.read_text() != text):
            print(f"{dest.name} differs")
            status = 1
        elif not check:
            dest.write_text(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
