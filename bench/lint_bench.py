#!/usr/bin/env python3
"""Lint benchmark: generate a 10,000-line MFL script and time ``mfld --lint`` on it.

Runs ``mailfromd --lint`` on the same file in the same run when mailfromd is
installed, and prints the best of N wall-clock times for each.

    python3 bench/lint_bench.py [--lines 10000] [--runs 5] [--keep FILE]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def generate(lines: int) -> str:
    out = ["#pragma regex +extended", "const LIMIT 100", "number counter 0",
           "string last \"\"", ""]
    i = 0
    while len(out) < lines - 40:
        out += [
            f"func helper{i}(string s, number n; string opt) returns string",
            "do",
            "  string acc \"\"",
            "  number k 0",
            "  loop for set k 0, while k < n, set k k + 1",
            "  do",
            "    if s matches '^([a-z]+)@(.*)$'",
            f"      set acc acc . \\2 . \"-%k-{i}\"",
            "    elif s fnmatches \"*.example\" or k % 3 = 0",
            "      set acc acc . tolower(s)",
            "    else",
            "      set acc substr(acc, 0, length(acc) - 1)",
            "    fi",
            "  done",
            "  switch n",
            "  do",
            "  case 1 or 2:",
            "    return acc",
            "  default:",
            f"    return acc . \"{i}\"",
            "  done",
            "done",
            "",
        ]
        i += 1
    nfunc = i
    out += ["prog envfrom", "do"]
    for j in range(min(nfunc, 20)):
        out.append(f"  set last helper{j}($f, {j % 7})")
    out += ["  if last = \"\"", "    reject 550 5.7.1 \"no sender\"", "  fi", "done", ""]
    out += ["prog envrcpt", "do", "  set counter counter + 1",
            "  if counter > LIMIT", "    tempfail 451 4.7.1 \"too many\"", "  fi", "done"]
    return "\n".join(out) + "\n"


def best_time(cmd: list[str], runs: int) -> tuple[float, int, str]:
    best = float("inf")
    rc, err = 0, ""
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        best = min(best, time.perf_counter() - t)
        rc, err = p.returncode, p.stderr
    return best, rc, err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", metavar="FILE", help="also write the generated script here")
    a = ap.parse_args()
    text = generate(a.lines)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "big.mfl")
        with open(path, "w") as f:
            f.write(text)
        if a.keep:
            shutil.copy(path, a.keep)
        n = text.count("\n")
        mfld = [sys.executable, "-m", "mfl.cli.mfld_main", "--lint", path]
        t, rc, err = best_time(mfld, a.runs)
        print(f"script: {n} lines")
        print(f"mfld --lint:      {t:.3f} s (exit {rc})")
        if rc:
            print(err[:2000], file=sys.stderr)
        if shutil.which("mailfromd"):
            t2, rc2, err2 = best_time(["mailfromd", "--lint", path], a.runs)
            print(f"mailfromd --lint: {t2:.3f} s (exit {rc2})")
            print(f"ratio mfld/mailfromd: {t / t2:.2f}")
        print(f"machine: {os.cpu_count()} cores, {os.uname().machine}, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
