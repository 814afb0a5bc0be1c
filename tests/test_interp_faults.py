"""Run-time faults end in tempfail with a located message, never a Python traceback."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ENV = dict(os.environ, MFL_STEP_LIMIT="20000", LC_ALL="C")


def run(tmp_path, src, *args, tool=("mfl.cli.mfld_main",)):
    f = tmp_path / "s.mfl"
    f.write_text(src)
    p = subprocess.run([sys.executable, "-m", *tool, *args, str(f)], capture_output=True,
                       text=True, env=ENV, timeout=60)
    assert "Traceback" not in p.stderr, p.stderr
    return p


@pytest.mark.parametrize("body,msg", [
    ("loop\n  do\n    pass\n  done", "instruction budget exhausted"),
    ("echo f(1)", "stack overflow"),
    ("number z 0\n  echo 1 / z", "uncaught exception #5: Division by zero"),
    ('echo "x" matches "\\\\("', ""),
    ("echo \\1", "no previous regular expression"),
])
def test_faults_tempfail(tmp_path, body, msg):
    src = ("func f(number n) returns number\ndo\n  return f(n + 1)\ndone\n"
           f"prog envfrom\ndo\n  {body}\ndone\n")
    p = run(tmp_path, src, "--test")
    if msg:
        assert "State envfrom: tempfail" in p.stdout, p.stdout + p.stderr
        assert msg in p.stderr and "s.mfl:" in p.stderr
    else:
        assert p.returncode == 78          # a bad literal regex is a compile error


def test_mfl_test_and_run(tmp_path):
    src = ('prog envrcpt\ndo\n  if $1 = "bad@x"\n    reject 550 5.7.1 "no"\n  fi\n  echo $rcpt_addr\ndone\n'
           'func main(...) returns number\ndo\n  echo "argc=" . $#\n  return 7\ndone\n')
    f = tmp_path / "t.mfl"
    f.write_text(src)
    p = subprocess.run([sys.executable, "-m", "mfl.cli.mfl_main", "test", str(f), "--handler",
                        "envrcpt", "-m", "rcpt_addr=r@y", "bad@x"], capture_output=True, text=True)
    assert "SET REPLY 550 5.7.1 no" in p.stdout and "State envrcpt: reject" in p.stdout
    p = subprocess.run([sys.executable, "-m", "mfl.cli.mfl_main", "run", str(f), "a", "b"],
                       capture_output=True, text=True)
    assert p.returncode == 7 and "argc=2" in p.stderr
