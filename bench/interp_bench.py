#!/usr/bin/env python3
"""Interpreter benchmark: CPU-bound MFL run by ``mfld --run`` and ``mailfromd --run``.

Each script in bench/interp/ runs in both in the same session (best of N
wall-clock times, process start-up included); the output must be identical.
Prints one line per script with the ratio mfld/mailfromd, and a Markdown
table with --markdown.

    python3 bench/interp_bench.py [--runs 3] [--markdown]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def best(cmd, runs):
    t_best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        t_best = min(t_best, time.perf_counter() - t)
        err = "".join(l for l in p.stderr.splitlines(True)
                      if "stack segment expanded" not in l)   # mailfromd's own memory notes
        out = (p.returncode, p.stdout, err.replace("mailfromd: ", "").replace("mfld: ", ""))
    return t_best, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    have_mfd = shutil.which("mailfromd") is not None
    rows = []
    for script in sorted((HERE / "interp").glob("*.mfl")):
        ours, o1 = best([sys.executable, "-m", "mfl.cli.mfld_main", "--run", str(script)], a.runs)
        if have_mfd:
            theirs, o2 = best(["mailfromd", "--run", str(script)], a.runs)
            same = o1 == o2
        else:
            theirs, same = float("nan"), None
        rows.append((script.stem, ours, theirs, ours / theirs if have_mfd else float("nan"), same))
    if a.markdown:
        print("| script | mfld --run (s) | mailfromd --run (s) | ratio | same output |")
        print("|---|---|---|---|---|")
        for name, o, t, r, s in rows:
            print(f"| {name} | {o:.3f} | {t:.3f} | {r:.1f}x | {'yes' if s else 'NO'} |")
    else:
        for name, o, t, r, s in rows:
            print(f"{name:10s} mfld {o:7.3f}s  mailfromd {t:7.3f}s  ratio {r:5.1f}x  same output: {s}")
    print(f"machine: {os.cpu_count()} cores, {os.uname().machine}, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
