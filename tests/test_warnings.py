"""Lint warnings: the annotated corpus in tests/data/warnings and the JSON CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mfltest import Expect, check_chunk, chunks, failures, parse_expectations, split_chunks

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("chunk", chunks("warnings"), ids=str)
def test_warning_corpus(chunk, tmp_path):
    check_chunk(chunk, tmp_path)


def test_every_warning_has_a_test():
    from mfl.check.warnings import _RULES
    text = "".join(p.read_text() for p in (ROOT / "tests/data/warnings").glob("*.mfl"))
    for name, _ in _RULES:
        assert f"{name}:" in text, f"no test names warning {name}"


def test_checker_warnings_are_known():
    """Every warning name the checker gives can be turned off with -W no-NAME."""
    import re
    from mfl.check.warnings import WARNINGS
    src = (ROOT / "mfl/check/checker.py").read_text()
    for code in re.findall(r'warn\([^,]+,\s*"([a-z-]+)"', src):
        assert code in WARNINGS, f"checker warning {code} missing from WARNINGS"


def test_warnings_are_documented():
    from mfl.check.warnings import WARNINGS
    doc = (ROOT / "docs/lint.md").read_text()
    for name in WARNINGS:
        assert f"`{name}`" in doc, f"docs/lint.md does not list {name}"


# ------------------------------------------------------------------ collector
def test_collector_parses_expectations(tmp_path):
    assert parse_expectations('  reject ### "a b"', 7) == [Expect(7, "a b")]
    assert parse_expectations('x ### unreachable: "r1" error: "r\\"2"', 3) == [
        Expect(3, "r1", "unreachable"), Expect(3, 'r"2', "error")]
    assert parse_expectations("echo 1 # plain comment", 1) == []
    with pytest.raises(ValueError):
        parse_expectations("x ### oops", 1)
    f = tmp_path / "t.mfl"
    f.write_text("a\n---\n\nb ### \"x\"\n---\n")
    cs = split_chunks(f)
    assert [(c.start, c.text) for c in cs] == [(1, "a\n"), (3, "\nb ### \"x\"\n")]
    assert cs[1].expects == [Expect(4, "x")]


def test_collector_reports_mismatches(tmp_path):
    f = tmp_path / "t.mfl"
    f.write_text('prog envfrom\ndo\n  reject\n  echo "x"\ndone\n---\n'
                 'prog envfrom\ndo\n  echo "y" ### "nothing like this"\ndone\n')
    missing, wrong = split_chunks(f)
    from mfltest import run_chunk
    assert any("unexpected warning at line 4" in p
               for p in failures(missing, run_chunk(missing, tmp_path)))
    assert any("expected line 9" in p for p in failures(wrong, run_chunk(wrong, tmp_path)))


# ------------------------------------------------------------------ CLI
SAMPLE = """\
number unused 1

prog envfrom
do
  reject
  echo "never"
done
"""


def _lint(tmp_path, *args):
    f = tmp_path / "sample.mfl"
    f.write_text(SAMPLE)
    r = subprocess.run([sys.executable, "-m", "mfl.cli.mfl_main", "lint", "--format=json",
                        *args, str(f)], capture_output=True, text=True, cwd=ROOT)
    return r, json.loads(r.stdout)


def test_lint_json(tmp_path):
    r, out = _lint(tmp_path)
    assert r.returncode == 0, r.stderr
    assert isinstance(out, list) and out
    for rec in out:
        assert {"file", "line", "column", "severity", "code", "message"} <= set(rec)
        assert rec["file"].endswith("sample.mfl")
        assert rec["severity"] == "warning"
    got = {(rec["code"], rec["line"], rec["column"]) for rec in out}
    assert ("unreachable", 6, 3) in got
    assert ("unused-variable", 1, 8) in got


def test_lint_json_disable(tmp_path):
    r, out = _lint(tmp_path, "-W", "no-unreachable")
    assert r.returncode == 0, r.stderr
    codes = {rec["code"] for rec in out}
    assert "unreachable" not in codes
    assert "unused-variable" in codes
    r, out = _lint(tmp_path, "-W", "no-all")
    assert out == []
