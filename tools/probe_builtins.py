#!/usr/bin/env python3
"""Ask the real GNU mailfromd what its built-ins look like.

For every function, variable, constant and exception declared in the mfl
built-in registry (``mfl.builtins``), and for every library function listed
in ``mfl.builtins.library_index``, this writes tiny MFL scripts, runs
``mailfromd --lint`` / ``--dump-tree`` / ``--xref`` / ``--run`` on them and
records what the program says in ``tests/diff/builtins_probe.json``:

* which ``prog`` handler names mailfromd accepts;
* per function: whether the lexer knows the name, minimal and maximal
  argument count (``null`` = variadic), void or not, return type, parameter
  types (from the casts ``--dump-tree`` shows) and the handlers a call is
  allowed in;
* the built-in variables (``--xref`` lists them with their types), whether
  they can be assigned, and their initial values under ``--run``;
* the built-in constants (type, and value unless it depends on context);
* the exception codes (declared by ``require status`` in 8.15) and how many
  exception numbers exist;
* library functions/variables: unknown without ``require MODULE``, known with.

``--discover`` also scans every identifier-like string (and every suffix of
one: the linker merges string tails, so ``open`` hides in ``mailbox_open``)
found in the mailfromd binary, and records every name mailfromd's lexer knows
as a function, variable or constant.  That takes a few minutes; without
``--discover`` the previous ``discovered`` section of the JSON is kept.

The probe uses ``--no-preprocessor`` so that m4 macros (``printf``,
``defined``) do not pass for built-ins; library modules are probed with the
preprocessor, which some of them need.  The output is machine-generated:
never edit the JSON by hand, re-run this script.

Usage:  python3 tools/probe_builtins.py [--discover] [--jobs N] [-o FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mfl.builtins import registry  # noqa: E402
from mfl.builtins import library_index  # noqa: E402
import mfl.builtins  # noqa: E402,F401  (fills the registry)

MAILFROMD = os.environ.get("MAILFROMD", "mailfromd")
BASE_OPTS = ["--no-preprocessor"]
LIB_OPTS: list[str] = []         # library modules are compiled with the preprocessor
OUT = ROOT / "tests" / "diff" / "builtins_probe.json"
CANDIDATE_HANDLERS = tuple(dict.fromkeys(registry.ALL_HANDLERS + ("action",)))
MAX_PROBE_ARGS = 10          # more than any fixed-arity built-in takes
VARIADIC_PROBE = 24          # if this many are accepted, call it variadic

_tmp = Path(tempfile.mkdtemp(prefix="mflprobe."))
_counter = 0
_lock = threading.Lock()


def run(script: str, *opts: str, fname: str = "p.mfl", stdin: str = "",
        base: list[str] | None = None) -> tuple[int, str]:
    """Run mailfromd on SCRIPT with OPTS; return (exit code, stdout+stderr)."""
    global _counter
    with _lock:
        _counter += 1
        d = _tmp / str(_counter)
    d.mkdir()
    f = d / fname
    f.write_text(script)
    try:
        p = subprocess.run([MAILFROMD, *(BASE_OPTS if base is None else base), *opts, fname],
                           cwd=d, input=stdin,
                           capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        rc = p.returncode
    except subprocess.TimeoutExpired:
        rc, out = -1, "timeout"
    shutil.rmtree(d, ignore_errors=True)
    return rc, out


def lint(script: str, prelude: str = "", base: list[str] | None = None) -> tuple[int, str]:
    return run(prelude + script, "--lint", base=base)


# ---------------------------------------------------------------- helpers

def unknown_identifier(out: str, line: int) -> bool:
    """True if mailfromd's lexer did not know the identifier starting LINE.3."""
    return re.search(rf":{line}\.3(-\d+)?: syntax error, unexpected identifier", out) is not None


def handler_prog(handler: str, body: str) -> str:
    return f"prog {handler}\ndo\n{body}\ndone\n"


_LOCALS = '  string y "1"\n  number x 1\n'


def call(name: str, n: int, arg: str = "y") -> str:
    return f"{name}({', '.join([arg] * n)})"


# ---------------------------------------------------------------- handlers

def probe_handlers() -> dict:
    acc, rej = [], []
    for h in CANDIDATE_HANDLERS:
        rc, out = lint(handler_prog(h, "  echo 1"))
        (acc if rc == 0 else rej).append(h)
    return {"accepted": acc, "rejected": rej}


# ---------------------------------------------------------------- functions

def classify_call(out: str) -> str:
    # one call per script, so the message is about it (an alias is reported
    # under the name of the function it stands for)
    if "too few arguments in call to `" in out:
        return "few"
    if "too many arguments in call to `" in out:
        return "many"
    if "cannot be used in prog" in out:
        return "handler"
    if "syntax error" in out:
        return "error"
    return "ok"


def _is_call_node(line: str) -> bool:
    # built-ins are BUILTIN nodes, user (library) functions CALL nodes (an alias
    # shows the real name), and sed is compiled to a node of its own
    t = line.strip()
    return t.startswith(("BUILTIN ", "CALL ")) or t == "SED"


def _tree_args(tree: str, n: int) -> list[str] | None:
    """Types of the N arguments of the first call in a --dump-tree output.

    Per argument: the type it is cast to, or "=" when it is passed uncast.
    Hidden arguments the compiler adds in front (qr's flags) are skipped.
    """
    lines = tree.splitlines()
    for i, ln in enumerate(lines):
        if _is_call_node(ln):
            ind = len(ln) - len(ln.lstrip())
            res = []
            for sub in lines[i + 1:]:
                sind = len(sub) - len(sub.lstrip())
                if sind <= ind:
                    break
                if sind == ind + 2:
                    t = sub.strip()
                    res.append(t.split()[1] if t.startswith("CAST ") else "=")
            return res[len(res) - n:] if len(res) >= n else None
    return None


def _tree_echo_type(tree: str) -> str | None:
    """Type of the value of the first call echoed in a --dump-tree output."""
    lines = [ln.strip() for ln in tree.splitlines()]
    for i, ln in enumerate(lines):
        if ln == "ECHO:" and i + 1 < len(lines):
            nxt = lines[i + 1]
            if _is_call_node(nxt):
                return "string"
            if nxt.startswith("CAST ") and i + 2 < len(lines) and _is_call_node(lines[i + 2]):
                return {"string": "number"}.get(nxt.split()[1], nxt.split()[1])
    return None


def probe_function(name: str, handlers: list[str], prelude: str = "",
                   base: list[str] | None = None) -> dict:
    res: dict = {}
    rc, out = lint(handler_prog("envfrom", f"  {name}()"), prelude, base)
    pl = prelude.count("\n")
    if unknown_identifier(out, 3 + pl):
        return {"exists": False}
    res["exists"] = True
    # handlers, first pass (0 arguments)
    allowed0 = [h for h in handlers
                if "cannot be used in prog" not in lint(handler_prog(h, f"  {name}()"), prelude, base)[1]]
    if not allowed0:
        res["handlers"] = []
        return res
    home = "envfrom" if "envfrom" in allowed0 else allowed0[0]

    def try_n(n: int) -> tuple[str, str]:
        rc, out = lint(handler_prog(home, _LOCALS + "  " + call(name, n)), prelude, base)
        return classify_call(out), out

    kinds = {n: try_n(n) for n in range(0, MAX_PROBE_ARGS + 1)}
    oks = [n for n, (k, _) in kinds.items() if k not in ("few", "many", "error")]
    if not oks:
        res["error"] = kinds[0][1].strip()
        return res
    lo = min(oks)
    hi: int | None = max(oks)
    if hi == MAX_PROBE_ARGS and try_n(VARIADIC_PROBE)[0] not in ("many", "error"):
        hi = None
    res["min_args"] = lo
    res["max_args"] = hi
    other = {n: o.strip() for n, (k, o) in kinds.items() if k in ("ok", "error") and o.strip()
             and "warning: return from" not in o and (k == "ok" or lo <= n)}
    if other:
        res["messages"] = {str(n): o.replace("p.mfl:", "") for n, o in sorted(other.items())}

    # handlers, second pass (minimal argument count)
    allowed = [h for h in handlers
               if "cannot be used in prog" not in
               lint(handler_prog(h, _LOCALS + "  " + call(name, lo)), prelude, base)[1]]
    res["handlers"] = None if allowed == list(handlers) else allowed
    if allowed != allowed0:
        res["handlers_zero_args"] = allowed0

    # void-ness: a call whose value is dropped warns; using a void value errs
    rc, out = lint(handler_prog(home, _LOCALS + "  " + call(name, lo)), prelude, base)
    warns = re.search(r"warning: return from \S+ is ignored", out) is not None
    rc2, out2 = lint(handler_prog(home, _LOCALS + "  set z " + call(name, lo)), prelude, base)
    void_err = "unspecified value not ignored" in out2
    res["void"] = void_err or not warns
    if warns == void_err:
        res["void_inconsistent"] = True

    # return type and parameter types, from --dump-tree
    n = lo + 2 if hi is None else hi
    if not res["void"]:
        rc, tree = run(prelude + handler_prog(home, _LOCALS + "  echo " + call(name, lo)),
                       "--dump-tree", base=base)
        res["returns"] = _tree_echo_type(tree)
    cols = {}
    for arg in ("y", "x"):
        body = _LOCALS + "  " + call(name, n, arg)
        rc, tree = run(prelude + handler_prog(home, body), "--dump-tree", base=base)
        cols[arg] = _tree_args(tree, n)
    if cols["y"] is not None and cols["x"] is not None:
        types = []
        for ys, xs in zip(cols["y"], cols["x"]):
            if ys == "=" and xs == "=":
                types.append("any")
            elif ys == "=":
                types.append("string")
            elif xs == "=":
                types.append("number")
            else:
                types.append(ys)     # cast from both: pointer
        res["params"] = types
    return res


# ---------------------------------------------------------------- variables

def xref_variables() -> dict[str, str]:
    rc, out = run(handler_prog("envfrom", "  echo 1"), "--xref")
    found = {}
    for ln in out.splitlines():
        m = re.match(r"^(\w+)\s+(string|number)\s+\d+\s*$", ln)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def run_values(names: list[str], prelude: str = "") -> dict[str, str]:
    """Values of NAMES (variables or constants) echoed from func main under --run."""
    body = "".join(f'  echo "<{n}>%{n}</{n}>"\n' for n in names)
    script = prelude + f"func main(...) returns number\ndo\n{body}  return 0\ndone\n"
    rc, out = run(script, "--run")
    vals = {}
    for n in names:
        m = re.search(rf"<{n}>(.*?)</{n}>", out, re.S)
        if m:
            vals[n] = m.group(1)
    return vals


def probe_variables(handlers: list[str], names: list[str], prelude: str = "") -> dict:
    types = xref_variables() if not prelude else {}
    res = {}
    runs = [run_values(names, prelude), run_values(names, prelude)]
    pl = prelude.count("\n")
    for v in names:
        rc, out = lint(handler_prog("envfrom", f"  echo {v}"), prelude)
        ent: dict = {"exists": rc == 0}
        if rc != 0:
            ent["error"] = out.strip()
            res[v] = ent
            continue
        if v in types:
            ent["type"] = types[v]
        readable = [h for h in handlers if lint(handler_prog(h, f"  echo {v}"), prelude)[0] == 0]
        ent["handlers"] = None if readable == handlers else readable
        rc, out = lint(handler_prog("envfrom", f"  set {v} {v}"), prelude)
        ent["writable"] = rc == 0
        a, b = runs[0].get(v), runs[1].get(v)
        ent["deterministic"] = det = a == b
        if det and ent.get("type") == "number" and a is not None and a.lstrip("-").isdigit():
            a = int(a)
        ent["initial"] = a if det else None
        res[v] = ent
    return res


# ---------------------------------------------------------------- constants

def probe_constants(names: list[str]) -> dict:
    res = {}
    for c in names:
        rc, out = lint(handler_prog("envfrom", f"  {c}()"))
        m = re.search(r":3\.3(-\d+)?: syntax error, unexpected (string|number)", out)
        if not m:
            res[c] = {"exists": False}
            continue
        res[c] = {"exists": True, "type": m.group(2)}
    # values in two different contexts (file, line, function and module differ),
    # and under different options (preprocessor on, another state directory)
    good = [c for c in names if res[c]["exists"]]
    body = "".join(f'  echo "<{n}>%{n}</{n}>"\n' for n in good)
    s1 = f"func main(...) returns number\ndo\n{body}  return 0\ndone\n"
    v1 = run(s1, "--run", fname="a.mfl")[1]
    v2 = run(f"module 'm2'.\n\n\nfunc start2(...) returns number\ndo\n  number pad 1\n{body}"
             "  return 0\ndone\n", "--run=start2", fname="b.mfl")[1]
    v3 = run(s1, "--run", f"--state-directory={_tmp}", fname="a.mfl", base=[])[1]

    def val(out: str, c: str) -> str | None:
        m = re.search(rf"<{c}>(.*?)</{c}>", out, re.S)
        return m.group(1) if m else None

    for c in good:
        a, b, o = val(v1, c), val(v2, c), val(v3, c)
        res[c]["context_dependent"] = a != b
        res[c]["option_dependent"] = a == b and a != o
        if a == b:
            res[c]["value"] = int(a) if res[c]["type"] == "number" and a is not None else a
    return res


# ---------------------------------------------------------------- exceptions

def probe_exceptions(names: list[str]) -> dict:
    pre = "require status\n"
    res: dict = {"requires_module": None, "codes": {}, "unknown": [], "known_without_require": []}
    for e in names:
        rc, out = lint(handler_prog("envfrom", f"  echo {e}"))
        if rc == 0:
            res["known_without_require"].append(e)
    if len(res["known_without_require"]) < len(names):
        res["requires_module"] = "status"
    vals = run_values(names, pre)
    for e in names:
        if e in vals and vals[e].lstrip("-").isdigit():
            res["codes"][e] = int(vals[e])
        else:
            res["unknown"].append(e)
    # `throw N' is checked at compile time against the number of exception
    # types declared so far; mailfromd 8.15 accepts N up to and *including*
    # that number (an off-by-one: `throw 22' compiles, and is nameless).
    def max_throw(prelude: str) -> int | None:
        ok = [n for n in range(0, 64)
              if lint(handler_prog("envfrom", f'  throw {n} "x"'), prelude)[0] == 0]
        return max(ok) if ok else None
    res["max_throw_code"] = max_throw(pre)
    res["max_throw_code_without_require"] = max_throw("")
    return res


# ---------------------------------------------------------------- library

def probe_library(handlers: list[str], pool: ThreadPoolExecutor) -> dict:
    funcs = {}
    futs = {}
    for name, sig, module in library_index.LIBRARY_FUNCTIONS:
        futs[name] = (module, pool.submit(_probe_lib_fn, name, module, handlers))
    for name, (module, fut) in futs.items():
        funcs[name] = fut.result()
    vars_ = {}
    for name, typ, module in library_index.LIBRARY_VARIABLES:
        bare = lint(handler_prog("envfrom", f"  echo {name}"))[0] == 0
        withreq = lint(handler_prog("envfrom", f"  echo {name}"), f"require {module}\n", LIB_OPTS)
        vars_[name] = {"module": module, "builtin": bare, "exists_with_require": withreq[0] == 0}
    return {"functions": funcs, "variables": vars_}


def _probe_lib_fn(name: str, module: str, handlers: list[str]) -> dict:
    # library modules may use m4 macros (sa.mfl does): keep the preprocessor
    bare = probe_function_exists(name)
    rc, out = lint(handler_prog("envfrom", "  echo 1"), f"require {module}\n", LIB_OPTS)
    ent: dict = {"module": module, "builtin": bare, "module_exists": rc == 0}
    if rc != 0:
        ent["error"] = out.strip().replace(str(_tmp), "")
        return ent
    r = probe_function(name, handlers, f"require {module}\n", LIB_OPTS)
    ent["exists_with_require"] = r.pop("exists")
    for k in ("min_args", "max_args", "void", "returns", "params", "handlers"):
        if k in r:
            ent[k] = r[k]
    return ent


def probe_function_exists(name: str) -> bool:
    rc, out = lint(handler_prog("envfrom", f"  {name}()"))
    return not unknown_identifier(out, 3)


# ---------------------------------------------------------------- discovery

def binary_candidates() -> list[str]:
    exe = shutil.which(MAILFROMD)
    if exe is None:
        return []
    data = Path(exe).read_bytes()
    names = set()
    for m in re.finditer(rb"[\x20-\x7e]{2,}", data):
        s = m.group(0).decode()
        t = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", s)
        if not t:
            continue
        w = t.group(0)
        for i in range(len(w)):
            suf = w[i:]
            if len(suf) >= 2 and re.match(r"[A-Za-z_]", suf):
                names.add(suf)
    return sorted(names)


def discover_one(name: str) -> str | None:
    rc, out = lint(handler_prog("envfrom", f"  {name}()"))
    if unknown_identifier(out, 3):
        return None
    if (f"call to `{name}'" in out or f"return from {name} is ignored" in out
            or f"function `{name}' cannot be used" in out or rc == 0):
        return "function"
    if re.search(r":3\.3(-\d+)?: syntax error, unexpected variable", out):
        return "variable"
    if re.search(r":3\.3(-\d+)?: syntax error, unexpected (string|number)", out):
        return "constant"
    return "keyword"


def discover(pool: ThreadPoolExecutor) -> dict:
    cands = binary_candidates()
    kinds = dict(zip(cands, pool.map(discover_one, cands)))
    out: dict = {"candidates": len(cands)}
    for k in ("function", "variable", "constant", "keyword"):
        out[k + "s"] = sorted(n for n, v in kinds.items() if v == k)
    return out


# ---------------------------------------------------------------- main

def version() -> str:
    p = subprocess.run([MAILFROMD, "--version"], capture_output=True, text=True)
    m = re.search(r"mailfromd\)\s+(\S+)", p.stdout)
    return m.group(1) if m else p.stdout.splitlines()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--discover", action="store_true",
                    help="also scan the mailfromd binary for unknown built-ins (slow)")
    ap.add_argument("--jobs", type=int, default=(os.cpu_count() or 2) * 2)
    ap.add_argument("-o", "--output", default=str(OUT))
    ap.add_argument("names", nargs="*", help="probe only these functions (print, do not write)")
    args = ap.parse_args()
    if shutil.which(MAILFROMD) is None:
        print(f"{MAILFROMD}: not found", file=sys.stderr)
        return 2

    old = {}
    if Path(args.output).exists():
        old = json.loads(Path(args.output).read_text())

    with ThreadPoolExecutor(args.jobs) as pool:
        hs = probe_handlers()
        handlers = hs["accepted"]
        if args.names:
            for n, r in zip(args.names, pool.map(lambda n: probe_function(n, handlers), args.names)):
                print(n, json.dumps(r, indent=1))
            return 0
        fnames = sorted(registry.FUNCTIONS)
        discovered = discover(pool) if args.discover else old.get("discovered")
        extra = sorted(set((discovered or {}).get("functions", [])) - set(fnames))
        allf = fnames + extra
        funcs = dict(zip(allf, pool.map(lambda n: probe_function(n, handlers), allf)))
        varnames = sorted(set(registry.VARIABLES) | set(xref_variables()))
        variables = probe_variables(handlers, varnames)
        cnames = sorted(n for n in registry.CONSTANTS if n not in registry.EXCEPTIONS)
        cnames = sorted(set(cnames) | set((discovered or {}).get("constants", [])))
        constants = probe_constants(cnames)
        exceptions = probe_exceptions(sorted(registry.EXCEPTIONS))
        library = probe_library(handlers, pool)

    result = {
        "generated_by": "tools/probe_builtins.py",
        "mailfromd_version": version(),
        "options": BASE_OPTS,
        "handlers": hs,
        "functions": funcs,
        "variables": variables,
        "constants": constants,
        "exceptions": exceptions,
        "library": library,
        "discovered": discovered,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(_tmp, ignore_errors=True)
    print(f"wrote {args.output}: {len(funcs)} functions, {len(variables)} variables, "
          f"{len(constants)} constants, {len(exceptions['codes'])} exceptions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
