"""Differential run test: does ``mfld --test/--run`` behave like mailfromd?

Each ``tests/diff/run/TOPIC/NAME.mfl`` has a ``NAME.expected`` recorded from
the real mailfromd 8.15 by ``tools/record_run.py`` (JSON with the exit status
and the normalized stdout and stderr).  This test does not need mailfromd: it
runs our CLI exactly the way the recorder ran mailfromd,

    python -m mfl.cli.mfld_main [options] tests/diff/run/TOPIC/NAME.mfl [args]

with the options from the script's ``# mfl-options:`` line and the arguments
from its ``# mfl-args:`` line (``@TMPDIR@`` replaced by a fresh empty temporary
directory), from the repository root, with the recorder's fixed environment
(LC_ALL=C, TZ=UTC, HOME=/nonexistent/mfl-home, MFL_TEST_* variables) and
stdin from /dev/null, and compares exit status, stdout and stderr byte for
byte after the recorder's normalization (``record_run.normalize``):

* the temporary directory becomes ``@TMPDIR@``;
* ``.mf``/``.mfl`` file names with directories are reduced to the basename;
* the program name at the start of a line (``mailfromd: ``, ``mfld: ``)
  becomes ``PROG: ``;
* for scripts that do not compile (exit 78), only the line of the first
  error is compared, as in the lint test: the wording of mfl's messages for
  undefined names differs from bison's on purpose (docs/differences.md);
* program-counter values -- `` at 0000000b`` in runtime error texts and the
  address at the start of stack-trace lines -- become ``<PC>``: they are
  addresses in mailfromd's compiled code and mean nothing to another
  implementation, so any 8-hex-digit `` at XXXXXXXX`` token (and any
  ``PROG: XXXX: `` stack-trace prefix) produced by ours is accepted as well.

One subprocess per script.  To re-record after changing the corpus run
``python3 tools/record_run.py`` (needs mailfromd), then
``python3 tools/record_run.py --check`` to confirm the output is stable.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_recorder():
    path = REPO_ROOT / "tools" / "record_run.py"
    spec = importlib.util.spec_from_file_location("record_run", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("record_run", mod)
    spec.loader.exec_module(mod)
    return mod


rec = _load_recorder()

SCRIPTS = rec.corpus_scripts(REPO_ROOT)
OURS = [sys.executable, "-m", "mfl.cli.mfld_main"]


def _describe(rel, expected, got) -> str:
    return (
        f"\n--- script: {rel}  options: {expected.get('options')}  "
        f"args: {expected.get('args')}\n"
        f"--- mailfromd: exit {expected['exit']}\n"
        f"[stdout]\n{expected['stdout']}[stderr]\n{expected['stderr']}"
        f"--- ours: exit {got['exit']}\n"
        f"[stdout]\n{got['stdout']}[stderr]\n{got['stderr']}"
    )


def test_corpus_present():
    assert len(SCRIPTS) >= 300, "differential run corpus is missing or too small"
    missing = [str(s) for s in SCRIPTS
               if not (REPO_ROOT / s).with_suffix(".expected").exists()]
    assert not missing, f"scripts without .expected (run tools/record_run.py): {missing}"


# Known differences, each explained in docs/differences.md; strict, so a fix is noticed.
KNOWN = {
    "functions/variadic_forward_shift_error":
        "after a run-time error --run exits with whatever number is on mailfromd's VM stack",
    "functions/variadic_mixed":
        "mailfromd 8.15 converts untyped variadic arguments after an optional parameter "
        "to numbers; mfl keeps them strings, as the manual says",
    "strings/stack_expansion_warning":
        "mailfromd's 'stack segment expanded' notes describe its VM stack; mfl has none",
}


def _params():
    for s in SCRIPTS:
        key = f"{s.parent.name}/{s.stem}"
        marks = [pytest.mark.xfail(reason=KNOWN[key], strict=True)] if key in KNOWN else []
        yield pytest.param(s, marks=marks, id=key)


@pytest.mark.parametrize("script", list(_params()))
def test_run_agrees_with_mailfromd(script: Path):
    path = REPO_ROOT / script
    expected = json.loads(path.with_suffix(".expected").read_text(encoding="utf-8"))
    options, args = rec.read_options(path), rec.read_args(path)
    assert options == expected["options"] and args == expected["args"], (
        f"{script}: '# mfl-options:'/'# mfl-args:' changed since recording; "
        "re-run tools/record_run.py")

    got = rec.run_program(OURS, script, options, args)
    info = _describe(script, expected, got)
    assert got["exit"] == expected["exit"], "exit status differs" + info
    assert got["stdout"] == expected["stdout"], "stdout differs" + info
    if expected["exit"] == 78 and not expected["stdout"]:
        # The script does not compile.  Compile diagnostics are held to the lint
        # rule (tests/test_diff_lint.py, docs/differences.md): the first error is
        # on the same line; mfl words undefined names better than bison does.
        assert _first_error_line(got["stderr"]) == _first_error_line(expected["stderr"]), \
            "first error line differs" + info
        return
    assert got["stderr"] == expected["stderr"], "stderr differs" + info


def _first_error_line(stderr: str):
    import re
    for line in stderr.splitlines():
        if "warning:" in line:
            continue
        m = re.search(r"[\w.-]+\.mfl?:(\d+)", line)
        if m:
            return int(m.group(1))
    return None
