"""--trace (each action the filter takes, "FILE:LINE: kind code xcode text"):
mfld --test against the real mailfromd --test on the same scripts."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path("tests/data/trace")
CASES = [("actions.mfl", "envfrom", "f=x"), ("actions.mfl", "envfrom", "f=y"),
         ("actions.mfl", "envfrom", "f=z"), ("actions.mfl", "envrcpt", ""),
         ("functional.mfl", "envfrom", "")]


def _run(cmd):
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.skipif(shutil.which("mailfromd") is None, reason="mailfromd not installed")
@pytest.mark.parametrize("script,handler,arg", CASES)
def test_trace_matches_mailfromd(script, handler, arg):
    args = [f"--test={handler}", "--trace", str(DATA / script)] + ([arg] if arg else [])
    theirs = _run(["mailfromd", "--no-config"] + args)
    ours = _run([sys.executable, "-m", "mfl.cli.mfld_main"] + args)
    assert ours == theirs
