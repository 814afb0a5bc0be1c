"""Fuzzing the front end: random MFL programs must never crash it.

A small recursive Hypothesis strategy builds programs from the MFL grammar
(handlers, functions, declarations, statements, expressions), then mixes in
random tokens and garbage.  ``compile_file`` (preprocessor without m4, parser,
checker, warnings) must turn every input into diagnostics and never raise.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NAMES = ["x", "y", "n", "s", "count", "f", "g", "helper", "main", "e_divzero", "e_failure",
         "myerr", "success", "R_OK", "a", "b"]
FUNCS = ["f", "g", "helper", "length", "substr", "index", "getmacro", "header_add",
         "dkim_sign", "mmq_purge", "tolower", "interval", "hostname", "strftime", "nosuch"]
HANDLERS = ["connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh", "body", "eom",
            "begin", "end", "startup", "shutdown", "action", "bogus"]
MACROS = ["$f", "${client_addr}", "$i", "${rcpt_addr}", "$j", "${nosuch}"]
EXCEPTIONS = ["e_divzero", "e_failure", "e_badmmq", "e_macroundef", "failure", "myerr", "*", "7"]
BINOPS = ["+", "-", "*", "/", "%", ".", "=", "==", "!=", "<", "<=", ">", ">=", "and", "or",
          "&", "|", "^", "<<", ">>", "matches", "fnmatches", "mx matches", "mx fnmatches"]
GARBAGE = ["do", "done", "fi", "if", "else", "elif", "(", ")", ",", ";", ":", "{", "}", "$",
           "@", "%", "\"", "'", "/*", "*/", "#", "<<EOT", "EOT", "\\", "...", "$@", "$(",
           "returns", "alias", "prog", "func", "catch", "try", "when", "case", "default",
           "0x", "09", "1.2.3", "550", "5.7.1", "bye", "#pragma", "#pragma regex pop",
           "vaptr", "number", "string", "\x00", "\t", "é", "`", "!", "?", "[", "]"]

ident = st.sampled_from(NAMES)
number = st.one_of(st.integers(-5, 300).map(str), st.sampled_from(["0x1F", "010", "0"]))
dq_string = st.lists(st.sampled_from(["abc", " ", "%x", "%{count}", "$f", "${client_addr}",
                                      "\\n", "\\\"", "$1", "\\1", "$#", "%"]),
                     max_size=4).map(lambda p: '"' + "".join(p) + '"')
sq_string = st.text(alphabet="abc .*[]^$", max_size=6).map(lambda t: "'" + t + "'")
heredoc = st.sampled_from(["<<EOT\nhello %x\nEOT\n", "<<-'EOT'\n\tfoo\n\tEOT\n",
                           "<<EOT\nunterminated\n"])


def _call(args):
    return st.tuples(st.sampled_from(FUNCS), st.lists(args, max_size=3)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})")


atoms = st.one_of(number, dq_string, sq_string, ident, st.sampled_from(MACROS),
                  st.sampled_from(["$1", "$2", "$#", "@x", "$(1)", "\\1", "vaptr(x)"]))

expr = st.recursive(
    atoms,
    lambda e: st.one_of(
        st.tuples(e, st.sampled_from(BINOPS), e).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        e.map(lambda x: f"({x})"),
        st.tuples(st.sampled_from(["-", "not ", "+"]), e).map("".join),
        st.tuples(st.sampled_from(["number", "string"]), e).map(lambda t: f"{t[0]}({t[1]})"),
        _call(e),
        _call(e).map(lambda c: c[:-1] + ("$@)" if c.endswith("()") else ", $@)")),
    ),
    max_leaves=8,
)


def _block(stmts):
    # MFL (like mailfromd) wants at least one statement in a body
    return st.lists(stmts, min_size=1, max_size=4).map("\n".join)


def _stmt(s):
    body = _block(s)
    return st.one_of(
        st.tuples(ident, expr).map(lambda t: f"set {t[0]} {t[1]}"),
        st.tuples(st.sampled_from(["number", "string"]), ident, st.one_of(st.just(""), expr)).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(expr, body, st.lists(st.tuples(expr, body), max_size=2),
                  st.one_of(st.none(), body)).map(
            lambda t: f"if {t[0]}\n{t[1]}\n" + "".join(f"elif {c}\n{b}\n" for c, b in t[2])
            + (f"else\n{t[3]}\n" if t[3] is not None else "") + "fi"),
        st.tuples(expr, st.lists(st.tuples(st.one_of(number, dq_string, ident), body), max_size=3),
                  st.one_of(st.none(), body)).map(
            lambda t: f"switch {t[0]}\ndo\n" + "".join(f"case {v}:\n{b}\n" for v, b in t[1])
            + (f"default:\n{t[2]}\n" if t[2] is not None else "") + "done"),
        st.tuples(st.sampled_from(["", "outer"]), st.sampled_from(
            ["", "for set x 0, while x < 3, set x x + 1", "while n", ", set n n - 1",
             "for number i 0, while i < 2"]), body, st.sampled_from(["", " while x"])).map(
            lambda t: f"loop {t[0]} {t[1]}\ndo\n{t[2]}\ndone{t[3]}"),
        st.sampled_from(["break", "next", "break outer", "return", "pass", "accept", "continue",
                         "discard", "tempfail", "reject", 'reject 550 5.1.1 "no"',
                         'tempfail 451 4.3.0', 'reject(550, "5.7.1", "bad %x")',
                         'add "X-Foo" "bar"', 'delete "X-Foo"', 'replace "Subject" "s"',
                         "#pragma regex push +extended", "#pragma miltermacros envfrom foo",
                         "const K 3", "throw myerr \"oops\"", "throw e_divzero"]),
        expr.map(lambda x: f"return {x}"),
        expr.map(lambda x: f"echo {x}"),
        _call(expr),
        st.tuples(body, st.lists(st.sampled_from(EXCEPTIONS), min_size=1, max_size=3), body).map(
            lambda t: f"try\ndo\n{t[0]}\ndone\ncatch {' or '.join(t[1])}\ndo\n{t[2]}\ndone"),
        st.tuples(st.lists(st.sampled_from(EXCEPTIONS), min_size=1, max_size=2), body).map(
            lambda t: f"catch {' or '.join(t[0])}\ndo\n{t[1]}\ndone"),
        st.tuples(expr, body).map(
            lambda t: f"on poll {t[0]} do\nwhen success:\n{t[1]}\nwhen not_found or failure:\n"
                      f"reject\ndone"),
    )


stmt = st.recursive(st.sampled_from(["pass", "echo 1", "accept"]), _stmt, max_leaves=10)
params = st.lists(st.tuples(st.sampled_from(["string", "number"]), ident), max_size=3).map(
    lambda ps: ", ".join(f"{t} {n}" for t, n in ps))

top = st.one_of(
    st.tuples(st.sampled_from(HANDLERS), _block(stmt)).map(lambda t: f"prog {t[0]}\ndo\n{t[1]}\ndone"),
    st.tuples(st.sampled_from(["", "static ", "public "]), ident, params,
              st.sampled_from(["", "; number opt", ", ...", "; string o, ..."]),
              st.sampled_from(["", " returns number", " returns string", " alias al"]),
              _block(stmt)).map(
        lambda t: f"{t[0]}func {t[1]}({t[2]}{t[3] if t[2] else ''}){t[4]}\ndo\n{t[5]}\ndone"),
    st.tuples(st.sampled_from(["", "precious ", "static ", "public "]),
              st.sampled_from(["number", "string"]), ident,
              st.one_of(st.just(""), number, dq_string, expr)).map(
        lambda t: f"{t[0]}{t[1]} {t[2]} {t[3]}"),
    st.tuples(ident, expr).map(lambda t: f"const {t[0]} {t[1]}"),
    st.lists(ident, max_size=3).map(lambda ns: "const\ndo\n" + "\n".join(ns) + "\ndone"),
    st.sampled_from(["require status", "require nosuchmodule", "import dns",
                     "from status import e_divzero.", "dclex myerr", "module 'm'.",
                     "#pragma prereq 8.0", "#pragma stacksize 1024", "begin do echo 1 done",
                     "set g 1", "bye"]),
    heredoc.map(lambda h: f"string doc {h}"),
)

program = st.lists(top, max_size=6).map("\n".join)


@st.composite
def mangled(draw):
    """A generated program with random tokens inserted, deleted or replaced."""
    text = draw(program)
    toks = text.split(" ")
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "text"]))
        i = draw(st.integers(0, max(len(toks) - 1, 0)))
        if op == "delete" and toks:
            del toks[i]
        elif op == "text":
            toks.insert(i, draw(st.text(max_size=8)))
        else:
            g = draw(st.sampled_from(GARBAGE + NAMES + BINOPS))
            if op == "replace" and toks:
                toks[i] = g
            else:
                toks.insert(i, g)
    return " ".join(toks)


_DIR = Path(tempfile.mkdtemp(prefix="mfl-fuzz-"))


def _compile(text: str):
    from mfl.frontend import Options, compile_file
    f = _DIR / "fuzz.mfl"
    f.write_bytes(text.encode("utf-8", "surrogatepass"))
    return compile_file(str(f), Options(use_m4=False))


_SETTINGS = settings(max_examples=200, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much])


@_SETTINGS
@given(program)
def test_generated_programs_never_crash(text):
    unit = _compile(text)
    for d in unit.diags.items:
        assert d.message and d.severity in ("error", "warning", "note")
        assert d.span.line >= 0


@_SETTINGS
@given(mangled())
def test_mangled_programs_never_crash(text):
    unit = _compile(text)
    for d in unit.diags.items:
        assert d.message and d.severity in ("error", "warning", "note")


DEEP = {
    "sum": "echo " + " + ".join(["1"] * 3000),
    "concat": "echo " + " . ".join(['"a"'] * 3000),
    "not": "echo " + "not " * 600 + "1",
    "minus": "echo " + "- " * 2000 + "1",
    "parens": "echo " + "(" * 2000 + "1" + ")" * 2000,
    "ifs": "if 1\n" * 900 + "echo 1\n" + "fi\n" * 900,
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_nesting_is_a_diagnostic(name):
    unit = _compile(f"prog envfrom\ndo\n{DEEP[name]}\ndone\n")
    for d in unit.diags.items:
        assert d.severity in ("error", "warning", "note")
