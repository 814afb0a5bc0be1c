"""mfl.regex: glibc's POSIX regex and fnmatch(3) through ctypes."""
from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest

from mfl import regex as R
from mfl.regex import EXTENDED, ICASE, NEWLINE, RegexError

ERE = EXTENDED


def search(pattern, s, flags=0):
    return R.compile(pattern, flags).search(s)


def matches(pattern, s, flags=0):
    return search(pattern, s, flags) is not None


# Does the process's LC_CTYPE make glibc treat UTF-8 as multibyte?
UTF8 = R.compile("^.$").search("é") is not None


# --- syntax ------------------------------------------------------------------

def test_bre_vs_ere_grouping():
    assert search(r"\(a\)b", "xaby") == ["ab", "a"]
    assert search(r"(a)b", "x(a)by") == ["(a)b"]          # BRE: literal parens
    assert search(r"(a)b", "xaby") is None
    assert search(r"(a)b", "xaby", ERE) == ["ab", "a"]
    assert search(r"\(a\)b", "x(a)b", ERE) == ["(a)b"]     # ERE: \( is literal
    assert R.compile(r"\(a\)\(b\(c\)\)").nsub == 3
    assert R.compile(r"(a)(b(c))", ERE).nsub == 3
    assert R.compile(r"(a)(b(c))").nsub == 0
    assert R.compile("abc").nsub == 0


def test_bre_ere_operators():
    assert search("a|b", "b") is None and search("a|b", "a|b") == ["a|b"]
    assert search(r"a\|b", "xb") == ["b"]                   # GNU BRE extension
    assert search("a|b", "xb", ERE) == ["b"]
    assert search(r"ab\+", "abbb") == ["abbb"]
    assert search("ab+", "ab+") == ["ab+"]
    assert search("ab+", "abbb", ERE) == ["abbb"]
    assert search(r"ab\?c", "ac") == ["ac"]
    assert search(r"a\{2\}", "aaa") == ["aa"]
    assert search("a{2}", "a{2}") == ["a{2}"]
    assert search("a{2,3}", "aaaa", ERE) == ["aaa"]
    assert search("^*a", "*a") == ["*a"]                    # BRE: leading * literal


def test_leftmost_longest():
    # POSIX, not Perl: the longest alternative wins
    assert search("a|ab|abc", "abcd", ERE) == ["abc"]
    assert search("(a|ab)(c|bcd)", "abcd", ERE) == ["abcd", "a", "bcd"]
    assert search("x*", "aaxx") == [""]                     # leftmost: empty at 0


def test_back_references():
    assert search(r"\(a\)\1", "xaay") == ["aa", "a"]
    assert search(r"\(a\)\1", "xay") is None
    assert search(r"\([a-z]*\)-\1", "foo-foo") == ["foo-foo", "foo"]
    assert search(r"(a)\1", "aa", ERE) == ["aa", "a"]       # glibc ERE has them too


def test_icase():
    assert search("abc", "xABCy") is None
    assert search("abc", "xABCy", ICASE) == ["ABC"]
    assert search("[a-c]*", "ABC", ICASE) == ["ABC"]
    assert search(r"\(A\)\1", "aA", ICASE) == ["aA", "a"]
    assert search("(x)", "X", ERE | ICASE) == ["X", "X"]


def test_newline_flag():
    s = "ab\ncd"
    assert search("b.c", s) == ["b\nc"]
    assert search("b.c", s, NEWLINE) is None
    assert search("b[^x]c", s) == ["b\nc"]
    assert search("b[^x]c", s, NEWLINE) is None
    assert search("^c", s) is None
    assert search("^c", s, NEWLINE) == ["c"]
    assert search("b$", s) is None
    assert search("b$", s, NEWLINE) == ["b"]
    assert R.compile("^c", NEWLINE).span(s) == [(3, 4)]


def test_anchors():
    assert search("^a", "ba") is None
    assert search("a$", "ab") is None
    assert search("^ab$", "ab") == ["ab"]
    assert search("a^b", "a^b") == ["a^b"]                  # BRE: ^ literal inside
    assert search("a$b", "a$b") == ["a$b"]
    assert search("^$", "") == [""]
    assert search("(^a|b)", "ca", ERE) is None
    assert search("(^a|b)", "ab", ERE) == ["a", "a"]


def test_brackets():
    assert search("[[:digit:]][[:digit:]]*", "ab123c") == ["123"]
    assert search("[[:digit:]]+", "ab123c", ERE) == ["123"]
    assert search("[[:alpha:]][[:alnum:]_]*", "9 foo_1") == ["foo_1"]
    assert search("[[:space:]]", "a\tb") == ["\t"]
    assert search("[]a]*", "]a]b") == ["]a]"]
    assert search("[^]a]", "]ab") == ["b"]
    assert search("[a-c]*", "abcd") == ["abc"]
    assert search(r"[\]", "a\\b") == ["\\"]                 # backslash is literal
    assert search("[.]", "ab") is None
    assert search("[[:upper:]]", "abC", ICASE) == ["a"]


def test_unmatched_groups_are_none():
    r = R.compile("(a)|(b)", ERE)
    assert r.nsub == 2
    assert r.search("b") == ["b", None, "b"]
    assert r.span("xb") == [(1, 2), None, (1, 2)]
    assert search("(a)(x)?(b)", "ab", ERE) == ["ab", "a", None, "b"]
    assert search(r"\(a\)*b", "b") == ["b", None]
    assert search("()", "a", ERE) == ["", ""]               # matched empty != None


def test_no_match():
    r = R.compile("zz")
    assert r.search("abc") is None
    assert r.span("abc") is None
    assert r.matches("abc") is False
    assert r.matches("azzb") is True


# --- errors --------------------------------------------------------------------

@pytest.mark.parametrize("pattern,flags,message", [
    (r"a\(", 0, "Unmatched ( or \\("),
    ("a(", ERE, "Unmatched ( or \\("),
    (r"a\)", 0, "Unmatched ( or \\("),          # sic: glibc says "(" here
    ("*a", ERE, "Invalid preceding regular expression"),
    ("+a", ERE, "Invalid preceding regular expression"),
    ("a**", 0, "Invalid preceding regular expression"),
    ("a\\", 0, "Trailing backslash"),
    ("a\\", ERE, "Trailing backslash"),
    ("[a", 0, "Unmatched [, [^, [:, [., or [="),
    ("[a", ERE, "Unmatched [, [^, [:, [., or [="),
    (r"\(a\)\2", 0, "Invalid back reference"),
    (r"a\1", 0, "Invalid back reference"),
    ("(a)\\2", ERE, "Invalid back reference"),
    ("a{1", ERE, "Unmatched \\{"),
    (r"a\{1", 0, "Unmatched \\{"),
    ("a{2,1}", ERE, "Invalid content of \\{\\}"),
    ("[[:foo:]]", 0, "Invalid character class name"),
    ("[z-a]", 0, "Invalid range end"),
])
def test_error_messages(pattern, flags, message):
    with pytest.raises(RegexError) as ei:
        R.compile(pattern, flags)
    assert ei.value.message == message
    assert str(ei.value) == message
    assert ei.value.pattern == pattern
    # errors are raised again, not cached as results
    with pytest.raises(RegexError):
        R.compile(pattern, flags)


def test_same_pattern_differs_by_syntax():
    R.compile("a(", 0)                                      # fine in BRE
    R.compile(r"a\(", ERE)                                  # fine in ERE
    R.compile("a{1")                                        # literal in BRE


# --- strings -----------------------------------------------------------------

def test_non_ascii_offsets():
    r = R.compile("x(y+)", ERE)
    s = "ééxyy€z"
    assert r.search(s) == ["xyy", "yy"]
    assert r.span(s) == [(2, 5), (3, 5)]
    assert s[2:5] == "xyy"
    r = R.compile("((é)+)(€)", ERE)
    assert r.span("aééé€b") == [(1, 5), (1, 4), (3, 4), (4, 5)]
    assert r.search("aééé€b") == ["ééé€", "ééé", "é", "€"]
    # astral characters and undecodable bytes (surrogateescape)
    s = "😀a\udcffb"
    assert R.compile("b").span(s) == [(3, 4)]
    assert R.compile("a").span(s) == [(1, 2)]


@pytest.mark.skipif(not UTF8, reason="needs a UTF-8 LC_CTYPE")
def test_utf8_locale_semantics():
    assert search("^a.$", "aé") == ["aé"]
    assert search("É", "é", ICASE) == ["é"]
    assert R.compile("^.(.)", ERE).span("€😀x") == [(0, 2), (1, 2)]
    assert R.fnmatch("a?c", "aéc")


def test_c_locale_semantics_in_subprocess():
    """In the C locale a byte is a character: offsets inside a multibyte
    character are rounded outwards and the bytes come back surrogate-escaped."""
    code = textwrap.dedent("""
        import locale
        from mfl import regex as R
        assert locale.setlocale(locale.LC_CTYPE) == "C", locale.setlocale(locale.LC_CTYPE)
        assert R.compile("^a.$").search("aé") is None
        assert R.compile("^a..$").search("aé") == ["aé"]
        assert R.compile("^a.").search("aéz") == ["a\\udcc3"]
        assert R.compile("^a.").span("aéz") == [(0, 2)]
        assert R.compile(".z").span("aéz") == [(1, 3)]
        assert R.compile("É", R.ICASE).search("é") is None
        assert R.compile("E", R.ICASE).search("e") == ["e"]
        assert not R.fnmatch("a?c", "aéc") and R.fnmatch("a??c", "aéc")
        print("ok")
    """)
    env = dict(os.environ, LC_ALL="C", PYTHONCOERCECLOCALE="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_nul_truncates():
    assert search("b", "a\0b") is None
    assert search("a$", "a\0b") == ["a"]
    assert R.compile("a$").span("xa\0b") == [(1, 2)]
    assert search("a\0zzz", "xa") == ["a"]                  # pattern ends at NUL too
    assert R.compile("a\0b").nsub == 0
    assert R.fnmatch("a*", "abc\0def")
    assert R.fnmatch("a\0xyz", "a")
    assert not R.fnmatch("a*f", "abc\0def")


# --- compile cache -----------------------------------------------------------

def test_cache():
    a = R.compile("ca(ch)e", ERE)
    assert R.compile("ca(ch)e", ERE) is a
    assert R.compile("ca(ch)e", 0) is not a
    assert R.compile("ca(ch)e", ERE | ICASE) is not a
    assert a.pattern == "ca(ch)e" and a.flags == ERE


def test_cache_evicts_and_frees():
    first = R.compile("evict-0")
    for i in range(1, 2000):
        R.compile(f"evict-{i}")
    assert R.compile("evict-0") is not first                # evicted, recompiled
    assert first.search("xevict-0") == ["evict-0"]          # still usable


# --- fnmatch -----------------------------------------------------------------

@pytest.mark.parametrize("pattern,s,result", [
    ("*", "", True),
    ("*", "anything", True),
    ("a*c", "abbbc", True),
    ("a*c", "abbbd", False),
    ("a?c", "abc", True),
    ("a?c", "ac", False),
    ("[a-z]x", "qx", True),
    ("[a-z]x", "Qx", False),
    ("[!a-z]x", "Qx", True),
    ("[^a-z]x", "Qx", True),
    ("[[:digit:]]*", "7up", True),
    ("*@example.com", "user@example.com", True),
    ("*@example.com", "user@example.org", False),
    ("a*b", "a/x/b", True),            # no FNM_PATHNAME: * matches /
    ("a?b", "a/b", True),
    ("*rc", ".bashrc", True),          # no FNM_PERIOD: leading dots too
    ("?bashrc", ".bashrc", True),
    ("a\\*", "a*", True),              # backslash escapes (no FNM_NOESCAPE)
    ("a\\*", "ab", False),
    ("A", "a", False),                 # case-sensitive
    ("abc", "abcd", False),            # anchored at both ends
    ("[", "[", True),                  # unmatched [ is literal in glibc
])
def test_fnmatch(pattern, s, result):
    assert R.fnmatch(pattern, s) is result


def test_fnmatch_flags():
    assert not R.fnmatch("a*b", "a/b", R.FNM_PATHNAME)
    assert not R.fnmatch("*rc", ".bashrc", R.FNM_PERIOD)
    assert R.fnmatch("A", "a", R.FNM_CASEFOLD)


# --- #pragma regex -------------------------------------------------------------

@pytest.mark.parametrize("words,current,expected", [
    (["+extended"], 0, EXTENDED),
    (["+extended", "+icase"], 0, EXTENDED | ICASE),
    (["+extended", "icase"], 0, EXTENDED | ICASE),    # the prefix carries over
    (["-icase"], ICASE | NEWLINE, NEWLINE),
    (["-icase", "newline"], ICASE | NEWLINE | EXTENDED, EXTENDED),
    (["+extended", "-icase", "icase"], ICASE, EXTENDED),
    (["=icase"], EXTENDED | NEWLINE, ICASE),
    (["=icase", "newline"], EXTENDED, NEWLINE),        # each = resets
    (["=icase", "+extended"], NEWLINE, ICASE | EXTENDED),
    (["+extended", "=icase"], NEWLINE, ICASE),
    (["extended"], ICASE, EXTENDED),                   # no prefix yet: "="
    (["icase", "newline"], EXTENDED, NEWLINE),
    ([], ICASE, ICASE),
    (["-extended", "icase", "newline"], 7, 0),
])
def test_pragma_flags(words, current, expected):
    assert R.parse_pragma_flags(words, current) == expected


@pytest.mark.parametrize("words,bad", [
    (["+bogus"], "bogus"),
    (["+extended", "Icase"], "Icase"),
    (["++extended"], "+extended"),
    (["-=icase"], "=icase"),
    (["="], ""),
    (["+"], ""),
    (["push"], "push"),                # push/pop are the caller's business
    (["basic"], "basic"),
])
def test_pragma_flags_unknown(words, bad):
    with pytest.raises(ValueError) as ei:
        R.parse_pragma_flags(words, 0)
    assert ei.value.args == (bad,)


# --- resources -----------------------------------------------------------------

def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_no_leaks():
    r = R.compile("^([a-z]+)@([a-z.]+)$", ERE)
    u = R.compile("(é+)(x)?", ERE)
    for _ in range(2000):                                   # warm up
        r.search("user@example.org"), u.span("aééb")
    gc.collect()
    before = _rss_kb()
    for i in range(100_000):
        r.search("user@example.org")
        r.span("nomatch")
        u.span("aééb")
        R.fnmatch("*.org", "example.org")
    for i in range(20_000):                                 # compile + regfree churn
        R.Regex(f"(x{i})+[[:alpha:]]*", ERE)
    gc.collect()
    grown = _rss_kb() - before
    assert grown < 20_000, f"RSS grew by {grown} kB"


def test_threads():
    r = R.compile(r"\([0-9]*\)-\([a-z]*\)")
    errors = []

    def work(n):
        for i in range(2000):
            s = f"{n}{i}-{'abc'[:i % 4]}"
            got = r.search(s)
            if got != [s, f"{n}{i}", "abc"[:i % 4]]:
                errors.append((s, got))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# --- against mailfromd itself --------------------------------------------------

MAILFROMD = shutil.which("mailfromd") or (
    "/usr/sbin/mailfromd" if os.access("/usr/sbin/mailfromd", os.X_OK) else None)

DIFF_CASES = [
    (0, r"\(a\)\1", "xaay"), (0, r"\(a\)\1", "xay"), (ERE, "(a)\\1", "aa"),
    (0, "(a)b", "ab"), (ERE, "(a)b", "ab"), (0, "a|b", "b"), (0, r"a\|b", "b"),
    (ERE, "a|b", "b"), (0, "ab+", "abb"), (0, r"ab\+", "abb"),
    (ICASE, "abc", "ABC"), (0, "abc", "ABC"), (ICASE | ERE, "[a-c]+$", "xBCA"),
    (0, "b.c", "b\nc"), (NEWLINE, "b.c", "b\nc"), (NEWLINE, "^c", "b\nc"),
    (0, "^c", "b\nc"), (NEWLINE, "b$", "b\nc"), (NEWLINE, "b[^x]c", "b\nc"),
    (0, "[[:digit:]][[:digit:]]*$", "ab12"), (0, "[]a]", "]"), (0, "a^b", "a^b"),
    (0, "a{2}", "a{2}"), (ERE, "a{2}", "aa"), (0, "^a.$", "aé"),
    (ICASE, "É", "é"), (0, "a$", "a\nb"), (ERE, "^(x|y)*z$", "xyxz"),
    (0, r"a\(", "a"), (ERE, "a(", "a"), (ERE, "*a", "a"), (0, "a\\", "a"),
    (0, "[a", "a"), (0, r"\(a\)\2", "a"), (ERE, "a{1", "a"), (0, "a**", "a"),
    (0, "[[:foo:]]", "a"), (0, "[z-a]", "a"), (ERE, "a{2,1}", "a"),
]

FNM_CASES = [("a*b", "a/x/b"), ("*rc", ".bashrc"), ("a?c", "abc"), ("a?c", "aéc"),
             ("[a-z]x", "Qx"), ("[!a-z]x", "Qx"), ("a\\*", "a*"), ("A", "a"), ("[", "[")]

PRAGMA_CASES = [["+extended", "icase"], ["=icase"], ["+extended", "-icase", "icase"],
                ["newline"], ["icase", "newline"], ["-icase", "+extended"],
                ["=icase", "extended"], ["+newline"]]


def _mfl_string(s: str) -> str:
    out = []
    for c in s:
        if c in '\\"$%':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _pragma(flags: int) -> str:
    on = [n for n, b in R.FLAG_NAMES.items() if flags & b]
    text = "#pragma regex -extended icase newline\n"
    if on:
        text += "#pragma regex +" + " ".join(on) + "\n"
    return text


def _run_mailfromd(tmp_path, body: str) -> list[str]:
    import locale
    src = tmp_path / "t.mfl"
    src.write_text(body, encoding="utf-8")
    env = dict(os.environ, LC_ALL=locale.setlocale(locale.LC_CTYPE))
    out = subprocess.run([MAILFROMD, "--run", str(src)], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stderr.splitlines()                          # --run: echo -> stderr


@pytest.mark.skipif(MAILFROMD is None, reason="mailfromd is not installed")
def test_against_mailfromd(tmp_path):
    lines = ["func main(...) returns number", "do"]
    expected = []
    for n, (flags, pattern, subject) in enumerate(DIFF_CASES):
        try:
            want = "1" if R.compile(pattern, flags).search(subject) is not None else "0"
        except RegexError as e:
            want = f"compiling regex `{pattern}': {e.message}"
        expected.append(f"{n}:{want}")
        lines += [_pragma(flags).rstrip("\n"),
                  f"  string p{n} {_mfl_string(pattern)}",
                  "  try", "  do",
                  f'    echo "{n}:" . ({_mfl_string(subject)} matches p{n})',
                  "  done", "  catch *", "  do", f'    echo "{n}:" . $2', "  done"]
    for n, (pattern, subject) in enumerate(FNM_CASES):
        expected.append(f"f{n}:{int(R.fnmatch(pattern, subject))}")
        lines.append(f'  echo "f{n}:" . ({_mfl_string(subject)} fnmatches {_mfl_string(pattern)})')
    for n, words in enumerate(PRAGMA_CASES):
        flags = R.parse_pragma_flags(words, ICASE)
        expected.append(f"p{n}:{int(bool(flags & EXTENDED))}{int(bool(flags & ICASE))}"
                        f"{int(bool(flags & NEWLINE))}")
        lines += ["#pragma regex =icase", "#pragma regex " + " ".join(words),
                  f'  echo "p{n}:" . ("xab" matches "a(b)") . ("xAB" matches "ab") '
                  f'. (1 - ("a\\nb" matches "a.b"))']
    lines += ["  return 0", "done", ""]
    got = _run_mailfromd(tmp_path, "\n".join(lines))
    assert got == expected
