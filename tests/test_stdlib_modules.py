"""Checks on mfl's standard library modules (stdlib/*.mfl).

* our parser accepts every module and every script in tests/data/stdlib/;
* every module has a script there that uses its whole public interface;
* if mailfromd is installed, it accepts our modules in place of its own:
  each script lints cleanly with ``mailfromd -P stdlib --lint``;
* if mailfromd's own modules are installed too, the interfaces agree with
  them: function signatures (as shown by --dump-tree), which calls are
  rejected for a wrong number of arguments (and with what message), the
  values of constants and exceptions, and the types and initial values of
  variables.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import pytest

from mfl.syntax import ast as A
from mfl.syntax.parser import parse

ROOT = Path(__file__).resolve().parents[1]
STDLIB = ROOT / "stdlib"
SCRIPTS = ROOT / "tests" / "data" / "stdlib"
MODULES = sorted(p.stem for p in STDLIB.glob("*.mfl"))
SCRIPT_FILES = sorted(p.name for p in SCRIPTS.glob("*.mfl"))

MAILFROMD = shutil.which("mailfromd")
needs_mailfromd = pytest.mark.skipif(MAILFROMD is None, reason="mailfromd is not installed")


# ------------------------------------------------------------------ our side
@lru_cache(maxsize=None)
def module_ast(name: str) -> A.Program:
    path = STDLIB / f"{name}.mfl"
    return parse(path.read_text(), str(path))


def public_interface(name: str):
    """(functions, constants, variables) declared public in module NAME.

    functions: {name: (required, total, variadic)}, aliases included;
    constants: names of constants and exceptions; variables: {name: type}."""
    funcs, consts, variables = {}, [], {}
    for item in module_ast(name).items:
        if isinstance(item, A.FuncDef) and item.qualifier != "static":
            required = sum(1 for p in item.params if not p.optional)
            arity = (required, len(item.params), item.variadic is not None)
            for fname in (item.name, *item.aliases):
                funcs[fname] = arity
        elif isinstance(item, A.ConstDecl) and item.qualifier != "static":
            consts.append(item.name)
        elif isinstance(item, A.ConstEnum) and item.qualifier != "static":
            consts.extend(c.name for c in item.items)
        elif isinstance(item, A.Dclex):
            consts.append(item.name)
        elif isinstance(item, A.VarDecl) and "static" not in item.qualifiers:
            variables[item.name] = item.type
    return funcs, consts, variables


@pytest.mark.parametrize("module", MODULES)
def test_parser_accepts_module(module):
    path = STDLIB / f"{module}.mfl"
    parse(path.read_text(), str(path))


@pytest.mark.parametrize("script", SCRIPT_FILES)
def test_parser_accepts_script(script):
    path = SCRIPTS / script
    parse(path.read_text(), str(path))


@pytest.mark.parametrize("module", MODULES)
def test_module_declaration(module):
    decls = [i for i in module_ast(module).items if isinstance(i, A.ModuleDecl)]
    assert [(d.name, d.interface) for d in decls] == [(module, "public")]


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_a_script(module):
    script = SCRIPTS / f"{module}.mfl"
    assert script.exists()
    assert re.search(rf"^require {re.escape(module)}\s*$", script.read_text(), re.M)


@pytest.mark.parametrize("module", MODULES)
def test_script_uses_whole_interface(module):
    text = (SCRIPTS / f"{module}.mfl").read_text()
    funcs, consts, variables = public_interface(module)
    for name in [*funcs, *consts, *variables]:
        assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text), \
            f"{module}: {name} is not used by the test script"


# -------------------------------------------------------------- mailfromd
def mailfromd(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([MAILFROMD, "--no-site-config", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@needs_mailfromd
@pytest.mark.parametrize("script", SCRIPT_FILES)
def test_mailfromd_lints_script(script):
    r = mailfromd("-P", "stdlib", "--lint", f"tests/data/stdlib/{script}")
    assert r.returncode == 0, r.stderr
    # No complaints about our own modules, not even warnings.
    assert "stdlib/" not in r.stderr, r.stderr


@needs_mailfromd
def test_module_path_takes_precedence(tmp_path):
    """-P puts our directory before mailfromd's own module directories."""
    (tmp_path / "revip.mfl").write_text(
        "module 'revip' public.\nfunc revip(string ip, number extra)\n"
        "  returns string\ndo\n  return ip\ndone\n")
    script = tmp_path / "t.mfl"
    script.write_text("require revip\nprog envfrom\ndo\n  echo revip(\"1.2.3.4\")\ndone\n")
    assert mailfromd("--lint", str(script)).returncode == 0
    r = mailfromd("-P", str(tmp_path), "--lint", str(script))
    assert r.returncode != 0 and "too few arguments" in r.stderr


# ------------------------------------- comparison with mailfromd's own modules
@lru_cache(maxsize=None)
def system_module_dirs() -> tuple:
    if MAILFROMD is None:
        return ()
    out = mailfromd("--show-defaults").stdout
    m = re.search(r"^module path:(.*)$", out, re.M)
    return tuple(Path(d) for d in m.group(1).split(":")) if m else ()


def system_module(module: str):
    for d in system_module_dirs():
        if (d / f"{module}.mfl").exists():
            return d / f"{module}.mfl"
    return None


def compare(module: str):
    if MAILFROMD is None:
        pytest.skip("mailfromd is not installed")
    if system_module(module) is None:
        pytest.skip(f"mailfromd's own {module}.mfl is not installed")


def both(tmp_path, tag: str, text: str, *args):
    """Run mailfromd ARGS on TEXT with our modules and with its own ones;
    return the two results with file names made comparable."""
    script = tmp_path / f"{tag}.mfl"
    script.write_text(text)

    def run(extra):
        r = mailfromd(*extra, *args, str(script), cwd=tmp_path)
        out = (r.stdout + r.stderr).replace(str(script), "SCRIPT")
        return r.returncode, out

    with ThreadPoolExecutor(2) as pool:
        ours = pool.submit(run, ["-P", str(STDLIB)])
        theirs = pool.submit(run, [])
        return ours.result(), theirs.result()


SIGNATURE = re.compile(r"^function (\S+) \(([^)]*)\)(?: returns (\w+))?:$", re.M)


def signatures(dump: str) -> dict:
    return {m.group(1): (m.group(2), m.group(3)) for m in SIGNATURE.finditer(dump)}


@pytest.mark.parametrize("module", MODULES)
def test_signatures_match_mailfromd(module, tmp_path):
    compare(module)
    (rc1, ours), (rc2, theirs) = both(tmp_path, "sig", f"require {module}\n",
                                      "--lint", "--dump-tree")
    assert rc1 == rc2 == 0, ours + theirs
    ours, theirs = signatures(ours), signatures(theirs)
    funcs, _, _ = public_interface(module)
    for name in funcs:
        assert ours.get(name) == theirs.get(name), name
    # Functions of theirs that we lack must be static there.
    missing = [(n, types) for n, (types, _) in theirs.items() if n not in funcs]
    for name, types in missing:
        args = ", ".join("1" for _ in types.split(",") if types)
        script = tmp_path / "static.mfl"
        script.write_text(f"require {module}\nfunc main(...) returns number\ndo\n"
                          f"  {name}({args})\n  return 0\ndone\n")
        assert mailfromd("--lint", str(script)).returncode != 0, \
            f"{module}: public function {name} is missing"


def call_script(module: str, func: str, nargs: int) -> str:
    args = ", ".join(str(i + 1) for i in range(nargs))
    return (f"require {module}\nfunc main(...) returns number\ndo\n"
            f"  {func}({args})\n  return 0\ndone\n")


@pytest.mark.parametrize("module", MODULES)
def test_arity_matches_mailfromd(module, tmp_path):
    compare(module)
    funcs, _, _ = public_interface(module)
    if not funcs:
        pytest.skip("no functions")
    cases = []
    for name, (required, total, variadic) in sorted(funcs.items()):
        counts = {required, total, total + 1 + variadic}
        if required:
            counts.add(required - 1)
        cases += [(name, n) for n in sorted(counts)]

    def check(case):
        name, n = case
        return case, both(tmp_path, f"{name}_{n}", call_script(module, name, n), "--lint")

    with ThreadPoolExecutor(4) as pool:
        for (name, n), (ours, theirs) in pool.map(check, cases):
            assert ours == theirs, f"{name} with {n} argument(s)"


def values_script(module: str) -> str:
    _, consts, variables = public_interface(module)
    lines = [f'  echo "{n}=" . {n}' for n in [*consts, *variables]]
    return (f"require {module}\nfunc main(...) returns number\ndo\n"
            + "\n".join(lines) + "\n  return 0\ndone\n")


@pytest.mark.parametrize("module", MODULES)
def test_values_match_mailfromd(module, tmp_path):
    compare(module)
    _, consts, variables = public_interface(module)
    if not consts and not variables:
        pytest.skip("no constants or variables")
    ours, theirs = both(tmp_path, "values", values_script(module), "--run")
    assert ours == theirs
    assert ours[0] == 0, ours[1]


XREF = re.compile(r"^(\w+)\s+(string|number)\s", re.M)


@pytest.mark.parametrize("module", MODULES)
def test_variables_match_mailfromd(module, tmp_path):
    compare(module)
    _, _, variables = public_interface(module)
    (rc1, ours), (rc2, theirs) = both(tmp_path, "xref", f"require {module}\n",
                                      "--lint", "--xref")
    assert rc1 == rc2 == 0
    ours, theirs = dict(XREF.findall(ours)), dict(XREF.findall(theirs))
    assert ours == theirs
    for name, vtype in variables.items():
        assert theirs.get(name) == vtype, name


CONST_LINE = re.compile(r"^\s*(?:public\s+)?(?:const|dclex)\s+(\w+)", re.M)
CONST_BLOCK = re.compile(r"^\s*(?:public\s+)?const\s*\n\s*do\b(.*?)\bdone", re.M | re.S)


@pytest.mark.parametrize("module", MODULES)
def test_no_constant_missing(module):
    """Every constant or exception mailfromd's module declares, we declare."""
    compare(module)
    text = system_module(module).read_text()
    theirs = set(CONST_LINE.findall(text)) - {"do"}
    for block in CONST_BLOCK.findall(text):
        theirs.update(re.findall(r"^\s*([A-Za-z_]\w*)", block, re.M))
    _, consts, _ = public_interface(module)
    assert theirs <= set(consts)
