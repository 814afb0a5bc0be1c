"""Differential lint test: does ``mfld --lint`` agree with ``mailfromd --lint``?

Each ``tests/diff/lint/NAME.mfl`` has a ``NAME.expected`` recorded from the
real mailfromd 8.15 by ``tools/record_mailfromd.py`` (JSON with the exit
status, the normalized stderr and the location of the first error).  This
test does not need mailfromd: it runs our CLI with the same options

    python -m mfl.cli.mfld_main --lint [options from "# mfl-options:"] FILE

from the repository root and checks that

* the exit status is the same (if mailfromd crashed on a signal after
  reporting errors -- recorded as a negative exit -- any failure status is
  accepted), and
* when mailfromd reported an error with a location, our first error (the
  first diagnostic that is not a warning) is on the same line of the same
  file (compared by basename).

Diagnostics are parsed tolerantly: ``PROG: FILE:LINE[.COL[-COL]]: message``,
whatever PROG is.  To re-record after changing the corpus, run
``python3 tools/record_mailfromd.py`` (needs mailfromd).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "tests" / "diff" / "lint"
TIMEOUT = 60


def _load_recorder():
    path = REPO_ROOT / "tools" / "record_mailfromd.py"
    spec = importlib.util.spec_from_file_location("record_mailfromd", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("record_mailfromd", mod)
    spec.loader.exec_module(mod)
    return mod


rec = _load_recorder()

SCRIPTS = sorted(CORPUS.glob("*.mfl"))


def _run_ours(rel: Path, options: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    env.pop("LANGUAGE", None)
    cmd = [sys.executable, "-m", "mfl.cli.mfld_main", "--lint", *options, str(rel)]
    return subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace",
                          timeout=TIMEOUT)


def _describe(rel, options, expected, proc) -> str:
    return (
        f"\n--- script: {rel}  options: {options}\n"
        f"--- mailfromd: exit {expected['exit']}, first error at "
        f"{expected['first_error_file']}:{expected['first_error_line']}\n"
        f"{expected['stderr']}"
        f"--- ours: exit {proc.returncode}\n"
        f"{proc.stderr}"
    )


def test_corpus_present():
    assert len(SCRIPTS) >= 150, "differential lint corpus is missing or too small"
    missing = [s.name for s in SCRIPTS if not s.with_suffix(".expected").exists()]
    assert not missing, f"scripts without .expected (run tools/record_mailfromd.py): {missing}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_lint_agrees_with_mailfromd(script: Path):
    rel = script.relative_to(REPO_ROOT)
    expected = json.loads(script.with_suffix(".expected").read_text(encoding="utf-8"))
    options = rec.read_options(script)
    assert options == expected.get("options", options), (
        f"{rel}: '# mfl-options:' changed since recording; re-run tools/record_mailfromd.py")

    proc = _run_ours(rel, options)
    info = _describe(rel, options, expected, proc)

    if expected["exit"] < 0:
        # mailfromd died on a signal after printing its diagnostics: we only
        # require that the script is rejected.
        assert proc.returncode != 0, "exit status: expected failure" + info
    else:
        assert proc.returncode == expected["exit"], "exit status differs" + info

    if expected["first_error_line"] is not None:
        ours = rec.first_error(proc.stderr)
        assert ours is not None and ours["line"] is not None, (
            "mailfromd reports an error with a location, we report none" + info)
        assert ours["line"] == expected["first_error_line"], "first error line differs" + info
        if expected.get("first_error_file"):
            assert ours["file"] == expected["first_error_file"], (
                "first error is in a different file" + info)
