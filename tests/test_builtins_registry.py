"""The built-in registry agrees with what the real mailfromd 8.15 says.

tests/diff/builtins_probe.json is written by tools/probe_builtins.py (it runs
mailfromd); these tests only read it, so they run without mailfromd.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import mfl.builtins  # noqa: F401  (fills the registry)
from mfl.builtins import library_index
from mfl.builtins.registry import (ALL_HANDLERS, ANY, CONSTANTS, EXCEPTIONS, FUNCTIONS,
                                   IMPLEMENTED, PARTIAL, PLANNED, VARIABLES, parse_signature)

PROBE_FILE = Path(__file__).parent / "diff" / "builtins_probe.json"
PROBE = json.loads(PROBE_FILE.read_text())
PFUNCS = PROBE["functions"]
ACCEPTED = PROBE["handlers"]["accepted"]


def _handlers(b) -> list[str]:
    """Handlers (accepted by mailfromd) a call of built-in B may appear in."""
    hs = ALL_HANDLERS if b.handlers is None else b.handlers
    return sorted(h for h in hs if h in ACCEPTED)


# ---------------------------------------------------------------- signatures

@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_signature_roundtrip(name):
    b = FUNCTIONS[name]
    assert b.name == name
    again = parse_signature(str(b.sig))
    assert again == b.sig
    assert b.status in (IMPLEMENTED, PARTIAL, PLANNED)
    assert b.domain and b.doc, f"{name}: domain and doc string are required"
    if b.handlers is not None:
        assert b.handlers <= set(ALL_HANDLERS)


def test_library_signatures_parse():
    for name, sig, module in library_index.LIBRARY_FUNCTIONS:
        assert parse_signature(sig).name == name
        assert module


# ---------------------------------------------------------------- functions

def test_same_function_set():
    known = {n for n, e in PFUNCS.items() if e.get("exists")}
    missing = sorted(n for n, e in PFUNCS.items() if not e.get("exists"))
    assert not missing, f"registered, but mailfromd does not know them: {missing}"
    assert known == set(FUNCTIONS)


def test_discovered_functions_registered():
    disc = PROBE.get("discovered") or {}
    assert disc, "run tools/probe_builtins.py --discover"
    assert set(disc["functions"]) <= set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_agrees_with_mailfromd(name):
    b, p = FUNCTIONS[name], PFUNCS[name]
    assert b.sig.min_args == p["min_args"], "minimal argument count"
    assert b.sig.max_args == p["max_args"], "maximal argument count (None: variadic)"
    assert (b.sig.ret == "void") == p["void"], "void-ness"
    ph = ACCEPTED if p["handlers"] is None else p["handlers"]
    assert _handlers(b) == sorted(ph), "handlers the call is allowed in"
    if not p["void"] and p.get("returns") is not None:
        assert b.sig.ret in (p["returns"], ANY), "return type"
    if p.get("params") is not None:
        types = [q.type for q in b.sig.params]
        if b.sig.variadic:
            types += [b.sig.variadic] * (len(p["params"]) - len(types))
        assert types[:len(p["params"])] == p["params"], "parameter types"


# ---------------------------------------------------------------- variables

def test_same_variable_set():
    assert set(VARIABLES) == set(PROBE["variables"])
    assert set(VARIABLES) == set((PROBE.get("discovered") or {}).get("variables", VARIABLES))


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_variable_agrees_with_mailfromd(name):
    v, p = VARIABLES[name], PROBE["variables"][name]
    assert p["exists"]
    assert v.type == p["type"]
    assert p["handlers"] is None, "mailfromd restricts no built-in variable"
    assert p["writable"]
    if p["deterministic"]:
        assert v.default == p["initial"], "initial value (under --run)"
    else:
        assert v.default is None


# ---------------------------------------------------------------- constants

def _plain_constants():
    return {n: c for n, c in CONSTANTS.items() if n not in EXCEPTIONS}


def test_same_constant_set():
    assert set(_plain_constants()) == {n for n, e in PROBE["constants"].items() if e["exists"]}
    assert set(_plain_constants()) == set((PROBE.get("discovered") or {}).get("constants", ()))


@pytest.mark.parametrize("name", sorted(_plain_constants()))
def test_constant_agrees_with_mailfromd(name):
    c, p = CONSTANTS[name], PROBE["constants"][name]
    assert c.type == p["type"]
    if not p["context_dependent"] and not p["option_dependent"]:
        assert c.value == p["value"]


# ---------------------------------------------------------------- exceptions

def test_exception_codes():
    pe = PROBE["exceptions"]
    assert not pe["unknown"]
    assert EXCEPTIONS == pe["codes"]
    for name, code in EXCEPTIONS.items():
        assert CONSTANTS[name].value == code


def test_exception_numbers_are_dense():
    # mailfromd accepts `throw N' for N up to the number of exception types
    # declared (one too many: an off-by-one in 8.15)
    codes = set(EXCEPTIONS.values())
    assert codes == set(range(PROBE["exceptions"]["max_throw_code"]))


# ---------------------------------------------------------------- library

def test_library_is_not_builtin():
    both = library_index.LIBRARY_NAMES & set(FUNCTIONS)
    assert not both, f"both library and built-in: {sorted(both)}"
    lib_vars = {n for n, _, _ in library_index.LIBRARY_VARIABLES}
    assert not lib_vars & set(VARIABLES)


@pytest.mark.parametrize("entry", library_index.LIBRARY_FUNCTIONS, ids=lambda e: e[0])
def test_library_function_agrees_with_mailfromd(entry):
    name, sig, module = entry
    p = PROBE["library"]["functions"][name]
    assert not p["builtin"], "mailfromd knows it without require"
    assert p["module"] == module
    if not p["module_exists"]:
        pytest.skip(f"module {module} is not installed with mailfromd")
    assert p["exists_with_require"]
    s = parse_signature(sig)
    assert (s.min_args, s.max_args) == (p["min_args"], p["max_args"])
    assert (s.ret == "void") == p["void"]
    if not p["void"] and p.get("returns") is not None:
        assert s.ret == p["returns"]
    if p.get("params") is not None:
        assert [q.type for q in s.params] == p["params"]


@pytest.mark.parametrize("entry", library_index.LIBRARY_VARIABLES, ids=lambda e: e[0])
def test_library_variable_agrees_with_mailfromd(entry):
    name, typ, module = entry
    p = PROBE["library"]["variables"][name]
    assert not p["builtin"] and p["exists_with_require"] and p["module"] == module
