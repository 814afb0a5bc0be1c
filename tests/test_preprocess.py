"""Tests for mfl.preprocess (m4, #include, #include_once, #line, #error, shell block).

Most tests run without mailfromd (m4 is needed for the m4 ones); the
``Test*Mailfromd`` classes compare with the real ``mailfromd`` 8.15 and are
skipped when it is not installed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from mfl.diagnostics import MFLError, Span
from mfl.preprocess import (
    FEATURE_DEFINES, M4_SETUP, STDLIB_DIR, PreprocessError, Source,
    default_include_path, m4_output, preprocess,
)

DATA = Path(__file__).resolve().parent / "data" / "pp"
HAVE_M4 = shutil.which("m4") is not None
MAILFROMD = shutil.which("mailfromd")

needs_m4 = pytest.mark.skipif(not HAVE_M4, reason="m4 is not installed")
needs_mailfromd = pytest.mark.skipif(MAILFROMD is None or not HAVE_M4,
                                     reason="mailfromd (or m4) is not installed")


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    """Run in a fresh directory: "file" includes are looked up in the cwd."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path, text: str) -> str:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return str(path)


def rows(src: Source) -> list[tuple[str, int, str]]:
    """(file, line, text) of every non-blank output line."""
    assert src.text.endswith("\n")
    texts = src.text.split("\n")[:-1]
    assert len(texts) == len(src.lines)
    return [(f, ln, t) for t, (f, ln) in zip(texts, src.lines) if t.strip()]


def nom4(name, **kw) -> Source:
    return preprocess(name, use_m4=False, **kw)


def error_of(name, **kw) -> PreprocessError:
    with pytest.raises(PreprocessError) as ei:
        preprocess(name, **kw)
    assert isinstance(ei.value, MFLError)
    return ei.value


# ---------------------------------------------------------------------------
# Plain text, Source
# ---------------------------------------------------------------------------

class TestPlain:
    def test_text_and_lines_one_to_one(self, cwd):
        write("a.mfl", "number x 1\n\n  # a comment\n#pragma regex +extended\nprog envfrom\ndo\n  pass\ndone")
        src = nom4("a.mfl")
        assert src.text == ("number x 1\n\n  # a comment\n#pragma regex +extended\n"
                            "prog envfrom\ndo\n  pass\ndone\n")
        assert src.lines == tuple(("a.mfl", i) for i in range(1, 9))
        assert src.notes == ()

    def test_text_argument_is_used_instead_of_the_file(self, cwd):
        src = nom4("virtual.mfl", text="number a 1\nnumber b 2\n")
        assert rows(src) == [("virtual.mfl", 1, "number a 1"), ("virtual.mfl", 2, "number b 2")]

    def test_empty_file_still_locates(self, cwd):
        write("e.mfl", "")
        src = nom4("e.mfl")
        assert src.text == "\n"
        assert src.locate(1, 1) == ("e.mfl", 1, 1)

    def test_other_line_breaks_are_not_line_ends(self, cwd):
        src = nom4("x.mfl", text="string s \"a\x0cb\rc\"\nnumber n 1\n")
        assert len(src.lines) == 2
        assert src.text.split("\n")[0] == "string s \"a\x0cb\rc\""

    def test_locate_and_span(self, cwd):
        src = Source("a\nb\nc\n", (("m.mfl", 1), ("inc.mfl", 1), ("m.mfl", 3)))
        assert src.locate(2, 5) == ("inc.mfl", 1, 5)
        assert src.locate(3, 1) == ("m.mfl", 3, 1)
        assert src.locate(5, 2) == ("m.mfl", 5, 2)          # past the end: continues
        assert src.locate(0, 1) == ("m.mfl", 1, 1)
        assert src.span(1, 1, 1, 4) == Span("m.mfl", 1, 1, 1, 4)
        assert src.span(3, 2, 4, 7) == Span("m.mfl", 3, 2, 4, 7)
        # a range that starts in one file and ends in another keeps its start
        assert src.span(1, 2, 2, 3) == Span("m.mfl", 1, 2, 1, 2)

    def test_missing_main_file(self, cwd):
        e = error_of("nope.mfl", use_m4=False)
        assert e.message == "cannot open `nope.mfl': No such file or directory"
        assert e.span.line == 0
        e = error_of("nope.mfl")
        assert e.message == "cannot open `nope.mfl': No such file or directory"

    def test_main_file_is_a_directory(self, cwd):
        os.mkdir("d")
        assert error_of("d", use_m4=False).message == "`d' is not a regular file"

    def test_default_include_path(self):
        assert default_include_path() == [str(STDLIB_DIR)]
        assert default_include_path(["/a", "b"]) == ["/a", "b", str(STDLIB_DIR)]
        assert default_include_path([str(STDLIB_DIR)]) == [str(STDLIB_DIR)]
        assert STDLIB_DIR == Path(__file__).resolve().parent.parent / "stdlib"
        assert "mailfromd" not in " ".join(default_include_path())


# ---------------------------------------------------------------------------
# #include and #include_once
# ---------------------------------------------------------------------------

class TestInclude:
    def test_quoted_is_spliced_in_place(self, cwd):
        write("inc.mfl", "number i 1\nnumber j 2\n")
        write("m.mfl", "number a 1\n#include \"inc.mfl\"\nnumber b 2\n")
        assert rows(nom4("m.mfl")) == [
            ("m.mfl", 1, "number a 1"),
            ("./inc.mfl", 1, "number i 1"),
            ("./inc.mfl", 2, "number j 2"),
            ("m.mfl", 3, "number b 2"),
        ]

    @pytest.mark.parametrize("directive", [
        '#include "inc.mfl"', "#include inc.mfl", "#include 'inc.mfl'",
        '  #include "inc.mfl"  ', '#include\t"inc.mfl"', '#include "i"nc.mfl',
        '#include_once "inc.mfl"',
    ])
    def test_forms(self, cwd, directive):
        write("inc.mfl", "number i 1\n")
        write("m.mfl", directive + "\n")
        assert rows(nom4("m.mfl")) == [("./inc.mfl", 1, "number i 1")]

    @pytest.mark.parametrize("directive", [
        '# include "inc.mfl"', '#include', '#include "inc.mfl" junk',
        '#include<inc.mfl>', '#includeinc.mfl', '#include_oncex "inc.mfl"',
        '#include "inc.mfl" /* c */', '#include "inc.mfl" # c',
        'number x 1 #include "inc.mfl"',
    ])
    def test_not_directives(self, cwd, directive):
        write("inc.mfl", "number i 1\n")
        write("m.mfl", directive + "\n")
        assert rows(nom4("m.mfl")) == [("m.mfl", 1, directive)]

    def test_search_order_for_quoted(self, cwd):
        write("inc.mfl", "number cwd 1\n")
        write("dir/inc.mfl", "number dir 1\n")
        write("dir/only.mfl", "number only 1\n")
        write("m.mfl", '#include "inc.mfl"\n#include "only.mfl"\n')
        assert rows(nom4("m.mfl", include_path=["dir"])) == [
            ("./inc.mfl", 1, "number cwd 1"), ("dir/only.mfl", 1, "number only 1")]

    def test_angle_searches_only_the_include_path(self, cwd):
        write("inc.mfl", "number cwd 1\n")
        write("dir/inc.mfl", "number dir 1\n")
        write("m.mfl", "#include <inc.mfl>\n")
        assert rows(nom4("m.mfl", include_path=["dir/"])) == [("dir//inc.mfl", 1, "number dir 1")]
        os.remove("dir/inc.mfl")
        e = error_of("m.mfl", use_m4=False, include_path=["dir"])
        assert str(e) == "m.mfl:1.1-18: inc.mfl: no such file or directory"

    def test_absolute(self, cwd):
        p = write(cwd / "abs.mfl", "number abs 1\n")
        write("m.mfl", f"#include <{p}>\n#include \"{p}\"\n")
        assert [r[:2] for r in rows(nom4("m.mfl"))] == [(p, 1), (p, 1)]

    def test_stdlib_is_searched_last(self, cwd):
        names = sorted(p.name for p in STDLIB_DIR.glob("*.mfl")) if STDLIB_DIR.is_dir() else []
        if not names:
            pytest.skip("no stdlib modules")
        write("m.mfl", f"#include <{names[0]}>\n")
        src = nom4("m.mfl")
        assert src.lines[0][0] == f"{STDLIB_DIR}/{names[0]}"

    def test_current_directory_is_the_process_cwd(self, cwd):
        # mailfromd looks "file" up in its working directory, not in the
        # directory of the including file.
        write("sub/inc.mfl", "number sub 1\n")
        write("sub/main.mfl", '#include "inc.mfl"\n')
        e = error_of("sub/main.mfl", use_m4=False)
        assert str(e) == "sub/main.mfl:1.1-18: inc.mfl: no such file or directory"
        assert [n.format_mailfromd() for n in e.notes] == [
            "sub/main.mfl:1.1-18: cannot open `inc.mfl': No such file or directory"]
        write("inc.mfl", "number top 1\n")
        assert rows(nom4("sub/main.mfl")) == [("./inc.mfl", 1, "number top 1")]

    def test_nested(self, cwd):
        write("a.mfl", "number a 1\n#include \"b.mfl\"\nnumber a2 1\n")
        write("b.mfl", "\n\nnumber b 1\n#include \"c.mfl\"\n")
        write("c.mfl", "number c 1")                     # no final newline
        write("m.mfl", "#include \"a.mfl\"\nnumber m 1\n")
        assert rows(nom4("m.mfl")) == [
            ("./a.mfl", 1, "number a 1"), ("./b.mfl", 3, "number b 1"),
            ("./c.mfl", 1, "number c 1"), ("./a.mfl", 3, "number a2 1"),
            ("m.mfl", 2, "number m 1")]

    def test_include_twice(self, cwd):
        write("inc.mfl", "number i 1\n")
        write("m.mfl", '#include "inc.mfl"\n#include "inc.mfl"\n')
        assert len(rows(nom4("m.mfl"))) == 2

    def test_include_once(self, cwd):
        write("inc.mfl", "number i 1\n")
        p = str(cwd / "inc.mfl")
        write("m.mfl", f'#include_once "inc.mfl"\n#include_once "{p}"\n#include_once <inc.mfl>\n')
        assert rows(nom4("m.mfl", include_path=["."])) == [("./inc.mfl", 1, "number i 1")]

    def test_include_once_after_plain_include_includes_again(self, cwd):
        # mailfromd remembers only the files brought in by #include_once
        write("inc.mfl", "number i 1\n")
        write("m.mfl", '#include "inc.mfl"\n#include_once "inc.mfl"\n#include_once "inc.mfl"\n')
        assert len(rows(nom4("m.mfl"))) == 2

    def test_loop_through_top_level(self, cwd):
        write("a.mfl", '#include "b.mfl"\nnumber a 1\n')
        write("b.mfl", '\n#include "a.mfl"\nnumber b 1\n')
        e = error_of("a.mfl", use_m4=False)
        assert str(e) == "./b.mfl:2.1-16: recursive inclusion"
        assert [n.format_mailfromd() for n in e.notes] == [
            "./b.mfl:2.1-16: `./a.mfl' already included at top level"]

    def test_loop_below_top_level(self, cwd):
        write("a.mfl", '#include "b.mfl"\nnumber a 1\n')
        write("b.mfl", '\n#include "c.mfl"\nnumber b 1\n')
        write("c.mfl", '\n\n#include "b.mfl"\nnumber c 1\n')
        e = error_of("a.mfl", use_m4=False)
        assert str(e) == "./c.mfl:3.1-16: recursive inclusion"
        assert [n.format_mailfromd() for n in e.notes] == [
            "a.mfl:1.1-16: `./b.mfl' already included here"]

    def test_a_file_may_include_itself_once(self, cwd):
        # as in mailfromd: the including file itself is not checked
        write("m.mfl", '#include "m.mfl"\nnumber z 1\n')
        e = error_of("m.mfl", use_m4=False)
        assert str(e) == "./m.mfl:1.1-16: recursive inclusion"
        assert e.notes[0].message == "`./m.mfl' already included at top level"

    def test_loop_is_checked_before_once(self, cwd):
        write("s.mfl", '#include_once "s.mfl"\nnumber q 1\n')
        assert str(error_of("s.mfl", use_m4=False)) == "./s.mfl:1.1-21: recursive inclusion"

    def test_missing(self, cwd):
        write("m.mfl", 'number a 1\n  #include "nope.mfl"  \n')
        e = error_of("m.mfl", use_m4=False)
        assert e.span == Span("m.mfl", 2, 1, 2, 23)
        assert e.message == "nope.mfl: no such file or directory"
        assert e.notes[0].message == "cannot open `nope.mfl': No such file or directory"

    def test_missing_absolute(self, cwd):
        write("m.mfl", '#include "/nonexistent/x.mfl"\n')
        e = error_of("m.mfl", use_m4=False)
        assert str(e) == "m.mfl:1.1-29: cannot open `/nonexistent/x.mfl': No such file or directory"
        assert e.notes == ()

    @pytest.mark.parametrize("directive, message", [
        ('#include ""', "`./' is not a regular file"),
        ('#include "d"', "`./d' is not a regular file"),
        ("#include <>", "`dir/' is not a regular file"),
        ('#include "x', "cannot parse include line: missing closing quote"),
        ("#include 'x", "cannot parse include line: missing closing quote"),
        ("#include <x", "<x: no such file or directory"),
    ])
    def test_bad(self, cwd, directive, message):
        os.mkdir("d")
        os.mkdir("dir")
        write("m.mfl", directive + "\n")
        e = error_of("m.mfl", use_m4=False, include_path=["dir"])
        assert e.message == message
        assert e.span == Span("m.mfl", 1, 1, 1, len(directive))

    @pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
    def test_unreadable(self, cwd):
        write("secret.mfl", "number s 1\n")
        os.chmod("secret.mfl", 0)
        write("m.mfl", '#include "secret.mfl"\n')
        for use_m4 in (False, True) if HAVE_M4 else (False,):
            e = error_of("m.mfl", use_m4=use_m4)
            assert str(e) == "m.mfl:1.1-21: cannot open ./secret.mfl: Permission denied"

    @pytest.mark.parametrize("opening, closing", [
        ("/*", "*/"), ("string s <<EOT", "EOT"), ("string s <<-EOT", "\tEOT"),
        ("string s <<- 'EOT'", "   EOT"), ("string s <<\\EOT", "EOT"),
        ('string s "a\\', '"'), ('string s "a\\', 'b\nc"'),
    ])
    def test_not_inside_comments_heredocs_and_continued_strings(self, cwd, opening, closing):
        write("inc.mfl", "number i 1\n")
        write("m.mfl", f'{opening}\n#include "inc.mfl"\n{closing}\nnumber after 1\n')
        out = rows(nom4("m.mfl"))
        assert all(f == "m.mfl" for f, _, _ in out)
        assert out[-1] == ("m.mfl", out[-1][1], "number after 1")

    def test_comment_closed_on_the_same_line_does_not_hide(self, cwd):
        write("inc.mfl", "number i 1\n")
        write("m.mfl", 'number a 1 /* x */ "s" \'t\' $# # /* not a comment start\n'
                       'string h "a" . <<2\n#include "inc.mfl"\n')
        assert rows(nom4("m.mfl"))[-1] == ("./inc.mfl", 1, "number i 1")

    def test_heredoc_terminator_rules(self, cwd):
        write("inc.mfl", "number i 1\n")
        # "EOT  " (trailing blanks) and "  EOT" (without "-") do not end it
        write("m.mfl", 'string s <<EOT\nEOT  \n  EOT\n#include "inc.mfl"\nEOT\n#include "inc.mfl"\n')
        out = rows(nom4("m.mfl"))
        assert [r[0] for r in out].count("./inc.mfl") == 1

    @pytest.mark.parametrize("body, message, where", [
        ("number i 1\n/* open\n", "end of file in comment", (2, 1)),
        ("number i 1 /* open\n\n", "end of file in comment", (1, 12)),
        ("string s <<EOT\nfoo\n", "end of file in string", (1, 10)),
        ('string s "abc\\\ndef\n', "end of file in string", (1, 10)),
    ])
    def test_unterminated_construct_in_included_file(self, cwd, body, message, where):
        write("inc.mfl", body)
        write("m.mfl", '#include "inc.mfl"\nnumber after 1\n*/\nEOT\n"\n')
        e = error_of("m.mfl", use_m4=False)
        assert (e.span.file, e.span.line, e.span.col, e.message) == ("./inc.mfl", *where, message)


# ---------------------------------------------------------------------------
# #line, #error, the shell block
# ---------------------------------------------------------------------------

class TestLine:
    @pytest.mark.parametrize("directive, expect", [
        ('#line 100 "f.mfl"', ("f.mfl", 100)),
        ("#line 100 f.mfl", ("f.mfl", 100)),
        ("#line 100", ("m.mfl", 100)),
        ("# line 100", ("m.mfl", 100)),
        ("  #  line\t100  ", ("m.mfl", 100)),
        ('#line 100 "f.mfl"  ', ("f.mfl", 100)),
        ("#line 0100", ("m.mfl", 100)),
        ("#line +5", ("m.mfl", 5)),
        ('#line "5" "x"', ("x", 5)),
        ('#line 5 "x"y', ("xy", 5)),
        ('#line 5 "a\\"b"', ('a"b', 5)),
        ('#line 5 x\\ty', ("x\ty", 5)),
        ("#line 5 'x'", ("x", 5)),
        ('#line 5 ""', ("", 5)),
        ("#line 4294967295", ("m.mfl", 4294967295)),
        ("#line 0", ("m.mfl", 3)),            # ignored
        ('#line 0 "x"', ("m.mfl", 3)),        # ignored
        ("#line100", ("m.mfl", 3)),           # a comment
        ("#line", ("m.mfl", 3)),              # a comment
    ])
    def test_forms(self, cwd, directive, expect):
        write("m.mfl", f"number a 1\n{directive}\nnumber b 2\n")
        assert rows(nom4("m.mfl"))[-1][:2] == expect

    @pytest.mark.parametrize("directive, message", [
        ("#line ", "malformed #line statement"),
        ("#line x", "malformed #line statement"),
        ("#line -5", "malformed #line statement"),
        ("#line 0x10", "malformed #line statement"),
        ("#line 12abc", "malformed #line statement"),
        ('#line "x"', "malformed #line statement"),
        ("#line 4294967296", "malformed #line statement"),
        ("#line 100 a b", "malformed #line statement"),
        ('#line 5 "x" /* c */', "malformed #line statement"),
        ("#line 5\\ x", "malformed #line statement"),
        ('#line 100 "f.mfl', "cannot parse #line line: missing closing quote"),
        ("#line 5 'x", "cannot parse #line line: missing closing quote"),
    ])
    def test_errors(self, cwd, directive, message):
        write("m.mfl", f"number a 1\n{directive}\n")
        e = error_of("m.mfl", use_m4=False)
        assert (e.span, e.message) == (Span("m.mfl", 2, 1, 2, len(directive)), message)

    def test_counts_on_from_the_directive(self, cwd):
        write("m.mfl", 'a\n#line 10 "x.mfl"\nb\nc\n#line 3\nd\n')
        assert [r[:2] for r in rows(nom4("m.mfl"))] == [
            ("m.mfl", 1), ("x.mfl", 10), ("x.mfl", 11), ("x.mfl", 3)]

    def test_works_inside_comments(self, cwd):
        write("m.mfl", "/*\n#line 100\n*/\nx\n")
        assert rows(nom4("m.mfl"))[-1][:2] == ("m.mfl", 101)

    def test_not_inside_heredocs_and_strings(self, cwd):
        write("m.mfl", 'string s <<EOT\n#line 100\nEOT\nstring t "a\\\n#line 100\n"\nx\n')
        assert rows(nom4("m.mfl"))[-1][:2] == ("m.mfl", 7)
        assert ("m.mfl", 2, "#line 100") in rows(nom4("m.mfl"))

    def test_include_after_line(self, cwd):
        write("inc.mfl", "number i 1\n")
        write("m.mfl", '#line 50 "virt.mfl"\n#include "inc.mfl"\nafter\n')
        assert [r[:2] for r in rows(nom4("m.mfl"))] == [("./inc.mfl", 1), ("virt.mfl", 51)]


class TestError:
    @pytest.mark.parametrize("directive", ["#error foo", "  #error   foo  bar  ",
                                           "# error foo", '#error "a\\tb"'])
    def test_error(self, cwd, directive):
        write("m.mfl", f"number a 1\n{directive}\n")
        e = error_of("m.mfl", use_m4=False)
        assert (e.span, e.message) == (Span("m.mfl", 2, 1, 2, len(directive)), directive)

    @pytest.mark.parametrize("text", ["#error\n", "#errorfoo\n", "#warning foo\n",
                                      "/*\n#error foo\n*/\n"])
    def test_not_errors(self, cwd, text):
        write("m.mfl", text)
        nom4("m.mfl")


class TestShellBlock:
    def test_block_becomes_blank_lines(self, cwd):
        write("m.mfl", "#!/bin/sh\nexec mailfromd --run $0 $@\n!#\nnumber a 1\n")
        src = nom4("m.mfl")
        assert src.text == "\n\n\nnumber a 1\n"
        assert rows(src) == [("m.mfl", 4, "number a 1")]

    @pytest.mark.parametrize("first", ["#!/bin/sh", "#! /bin/sh"])
    @pytest.mark.parametrize("last", ["!#", "!# ", "!#\t"])
    def test_forms(self, cwd, first, last):
        write("m.mfl", f"{first}\nfoo\n{last}\nnumber a 1\n")
        assert rows(nom4("m.mfl")) == [("m.mfl", 4, "number a 1")]

    @pytest.mark.parametrize("text", [
        "#!  /bin/sh\nfoo\n!#\n", "#!sh\nfoo\n!#\n", " #!/bin/sh\nfoo\n!#\n",
        "\n#!/bin/sh\nfoo\n!#\n", "number a 1\n#!/bin/sh\nfoo\n!#\n",
    ])
    def test_only_at_line_one(self, cwd, text):
        write("m.mfl", text)
        assert rows(nom4("m.mfl"))[-1] == ("m.mfl", text.count("\n"), "!#")

    def test_line_one_after_line_directive(self, cwd):
        # the block starts wherever the current line number is 1
        write("m.mfl", "number a 1\n#line 1\n#!/bin/sh\nfoo\n!#\nnumber b 1\n")
        assert rows(nom4("m.mfl")) == [("m.mfl", 1, "number a 1"), ("m.mfl", 4, "number b 1")]

    @pytest.mark.parametrize("last", [" !#", "x !# y", "!# foo", "!#number"])
    def test_unterminated(self, cwd, last):
        write("m.mfl", f"#!/bin/sh\nfoo\n{last}\nnumber a 1\n")
        e = error_of("m.mfl", use_m4=False)
        assert str(e) == "m.mfl:1.1: end of file in shell block"

    def test_directives_inside_are_ignored(self, cwd):
        write("m.mfl", '#!/bin/sh\n#include "nope"\n#line 100\n#error x\n!#\nx\n')
        assert rows(nom4("m.mfl")) == [("m.mfl", 6, "x")]

    def test_in_included_file(self, cwd):
        write("inc.mfl", "#!/bin/sh\nfoo\n!#\nnumber i 1\n")
        write("m.mfl", '#include "inc.mfl"\n')
        assert rows(nom4("m.mfl")) == [("./inc.mfl", 4, "number i 1")]

    @needs_m4
    def test_with_m4(self, cwd):
        src = preprocess(str(DATA / "shebang.mfl"))
        # (dnl is not a builtin under its own name: only m4_dnl is)
        assert rows(src)[:2] == [(str(DATA / "shebang.mfl"), 4, "dnl 1"),
                                 (str(DATA / "shebang.mfl"), 5, "func main(...) returns number")]
        assert "  return 1" in src.text


# ---------------------------------------------------------------------------
# m4
# ---------------------------------------------------------------------------

@needs_m4
class TestM4:
    def test_macros_and_mapping(self, cwd):
        write("m.mfl", "m4_define(`ML', `first\nsecond')m4_dnl\nnumber a 1\nML\nnumber b 2\n")
        assert rows(preprocess("m.mfl")) == [
            ("m.mfl", 3, "number a 1"), ("m.mfl", 4, "first"), ("m.mfl", 4, "second"),
            ("m.mfl", 5, "number b 2")]

    def test_predefined_macros(self, cwd):
        text = ("defined(x) defined defined(a,b)\nprintf(a, b) printf\n_(m) _ N_(m) N_\n"
                "m4_eval(1+2) eval(1+2) define dnl\n")
        out = [t for _, _, t in rows(preprocess("m.mfl", text=text))]
        assert out == ["$#>@x defined defined", "echo sprintf(a,b) printf",
                       "gettext(m) _ m N_", "3 eval(1+2) define dnl"]

    def test_string_list_iterate(self, cwd):
        text = 'string_list_iterate(path, ":", seg, `echo seg\')\nnumber z 1\n'
        out = rows(preprocess("m.mfl", text=text))
        body = "\n".join(t for _, _, t in out)
        assert "loop for string __path_itr path . \":\"" in body
        assert "set seg substr(__path_itr, 0, __path_pos)" in body
        assert "echo seg" in body
        assert all(ln == 1 for f, ln, t in out[:-1])        # the whole expansion is on line 1
        assert out[-1] == ("m.mfl", 2, "number z 1")

    def test_c_comments_are_m4_comments(self, cwd):
        text = "m4_define(`X', `1')\n/* X */ # X\n"
        assert rows(preprocess("m.mfl", text=text))[-1][2] == "/* X */ # 1"

    def test_defines_and_undefines(self, cwd):
        text = ("m4_ifdef(`WITH_DKIM', `dkim', `nodkim') LIMIT "
                "m4_ifdef(`EMPTY', `empty=[EMPTY]', `noempty') m4_ifdef(`GONE', `gone', `nogone')\n")
        out = rows(preprocess("m.mfl", text=text, defines={"LIMIT": "10", "EMPTY": None},
                              undefines=["WITH_DKIM"]))
        assert out[0][2] == "nodkim 10 empty=[] nogone"
        out = rows(preprocess("m.mfl", text=text))
        assert out[0][2] == "dkim LIMIT noempty nogone"
        assert "WITH_DKIM" in FEATURE_DEFINES

    def test_each_file_has_its_own_m4_run(self, cwd):
        write("inc.mfl", "m4_define(`INNER', `1')INNER OUTER\n")
        write("m.mfl", "m4_define(`OUTER', `2')m4_dnl\n#include \"inc.mfl\"\nINNER OUTER\n")
        assert [t for _, _, t in rows(preprocess("m.mfl"))] == ["1 OUTER", "INNER 2"]

    def test_include_name_may_come_from_a_macro(self, cwd):
        write("real.mfl", "number r 1\n")
        write("m.mfl", "m4_define(`NAME', `real')m4_dnl\n#include \"NAME.mfl\"\n")
        assert rows(preprocess("m.mfl")) == [("./real.mfl", 1, "number r 1")]

    def test_include_inside_a_c_comment(self, cwd):
        write("m.mfl", '/*\n#include "nope.mfl"\n*/\nnumber a 1\n')
        assert rows(preprocess("m.mfl"))[-1] == ("m.mfl", 4, "number a 1")

    def test_m4_include_maps_to_its_file(self, cwd):
        write("part.m4", "number p 1\nnumber q 2\n")
        write("m.mfl", "number a 1\nm4_include(`part.m4')m4_dnl\nnumber b 2\n")
        assert rows(preprocess("m.mfl")) == [
            ("m.mfl", 1, "number a 1"), ("part.m4", 1, "number p 1"), ("part.m4", 2, "number q 2"),
            ("m.mfl", 3, "number b 2")]

    def test_text_is_named_by_filename(self, cwd):
        src = preprocess("given.mfl", text="number a 1\nm4___file__\n")
        assert rows(src) == [("given.mfl", 1, "number a 1"), ("given.mfl", 2, "stdin")]

    def test_locations_through_m4_and_includes(self, cwd):
        write("inc.mfl", "m4_dnl a comment line\nnumber i 1\n")
        write("m.mfl", "m4_define(`TWO', `a\nb')m4_dnl\nTWO\n#include \"inc.mfl\"\nzz\n")
        src = preprocess("m.mfl")
        lines = src.text.split("\n")
        i = lines.index("number i 1") + 1
        assert src.locate(i, 8) == ("./inc.mfl", 2, 8)
        z = lines.index("zz") + 1
        assert src.span(z, 1, z, 2) == Span("m.mfl", 5, 1, 5, 2)
        b = lines.index("b") + 1
        assert src.locate(b, 1) == ("m.mfl", 3, 1)

    def test_m4_failure_keeps_the_output(self, cwd):
        write("m.mfl", "prog envfrom\ndo\n  pass\ndone\nm4_exit(3)\nnumber never 1\n")
        src = preprocess("m.mfl")
        assert [t for _, _, t in rows(src)] == ["prog envfrom", "do", "pass".rjust(6), "done"]
        assert [(str(n.span), n.message) for n in src.notes] == [
            ("m.mfl:4.4", "preprocessor exited with status 3")]
        assert src.notes[0].severity != "error"

    def test_m4_error_in_included_file(self, cwd, capfd):
        write("inc.mfl", "number i 1\nm4_errprint(`oops\n')m4_exit(1)\n")
        write("m.mfl", '#include "inc.mfl"\nnumber a 1\n')
        src = preprocess("m.mfl")
        assert rows(src) == [("./inc.mfl", 1, "number i 1"), ("m.mfl", 2, "number a 1")]
        assert [str(n.span) for n in src.notes] == ["./inc.mfl:1.10"]
        assert "oops" in capfd.readouterr().err

    def test_missing_m4(self, cwd):
        write("m.mfl", "number a 1\n")
        e = error_of("m.mfl", m4_program="/nonexistent/m4")
        assert str(e) == ("m.mfl:1.1: cannot run preprocessor `/nonexistent/m4': "
                          "No such file or directory")

    def test_m4_command_line(self, cwd):
        write("m.mfl", "a m4___line__ EXTRA\n")
        assert rows(preprocess("m.mfl", m4_program="m4 -DEXTRA=yes"))[0][2] == "a 1 yes"

    def test_no_preprocessor(self, cwd):
        write("m.mfl", "m4_define(`X', `1')\nX `q'\n")
        assert [t for _, _, t in rows(nom4("m.mfl"))] == ["m4_define(`X', `1')", "X `q'"]

    def test_setup_is_our_own(self):
        assert "Copyright" not in M4_SETUP and "pp-setup" not in M4_SETUP
        assert M4_SETUP.startswith("divert(-1)") and M4_SETUP.endswith("m4_divert(0)m4_dnl\n")


# ---------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------

def _big_script(n_funcs: int = 770) -> str:
    parts = []
    for i in range(n_funcs):
        parts.append(
            f"/* function {i}\n   with a comment */\n"
            f"func f{i}(string s; number n) returns string\ndo\n"
            f"  # a comment \"with quotes\"\n"
            f"  if defined(n) and s != \"a*b\"\n"
            f"    return s . 'x' . \"%{{s}}\\\ncontinued\"\n  fi\n"
            f"  return <<EOT\ntext #include \"x\"\nEOT\ndone")
    return "\n".join(parts) + "\n"


def test_speed(cwd):
    write("big.mfl", _big_script())
    assert sum(1 for _ in open("big.mfl")) >= 10000
    best = min(_timed(lambda: nom4("big.mfl")) for _ in range(3))
    assert best < 0.1, f"{best:.3f}s for 10,000 lines without m4"
    if HAVE_M4:
        t0 = time.perf_counter()
        subprocess.run([shutil.which("m4"), "-s", "big.mfl"], capture_output=True, check=True)
        m4_alone = time.perf_counter() - t0
        with_m4 = min(_timed(lambda: preprocess("big.mfl")) for _ in range(3))
        assert with_m4 < m4_alone + 0.1 + 0.05


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------
# Comparisons with the real mailfromd
# ---------------------------------------------------------------------------

def _mailfromd(*args, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C", LANG="C")
    return subprocess.run([MAILFROMD, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, errors="replace", stdin=subprocess.DEVNULL, timeout=60)


_DIAG = re.compile(r"^mailfromd: (.*)$", re.M)


@needs_mailfromd
class TestAgainstMailfromd:
    @pytest.mark.parametrize("name", ["macros.mfl", "shebang.mfl"])
    def test_E_output_is_identical(self, name):
        expected = _mailfromd("-E", name, cwd=DATA).stdout
        old = os.getcwd()
        os.chdir(DATA)
        try:
            assert m4_output(name) == expected
        finally:
            os.chdir(old)

    def test_setup_behaves_the_same_at_run_time(self, tmp_path):
        """Run a script using every setup macro under mailfromd with its own
        pp-setup and with ours (string_list_iterate is laid out differently,
        so -E output differs, but the program must behave the same)."""
        setup = write(tmp_path / "setup.m4", M4_SETUP)
        write(tmp_path / "ours.conf", f'preprocessor {{\n  setup-file "{setup}";\n}}\n')
        shutil.copy(DATA / "iterate.mfl", tmp_path / "it.mfl")
        with open(tmp_path / "it.mfl", "a") as f:
            f.write("func opt(number x; number y) returns number\ndo\n  return defined(y)\ndone\n"
                    "func main2(...) returns number\ndo\n  echo N_(\"n\")\n  echo opt(1)\n"
                    "  echo opt(1, 2)\n  return 0\ndone\n")
        text = (tmp_path / "it.mfl").read_text().replace("  return 0\ndone\n", "  return main2()\ndone\n", 1)
        # main2 must come first to be callable
        head, tail = text.split("func opt", 1)
        write(tmp_path / "it.mfl", "func opt" + tail + head)
        theirs = _mailfromd("--run", "it.mfl", cwd=tmp_path)
        ours = _mailfromd(f"--config-file={tmp_path / 'ours.conf'}", "--run", "it.mfl", cwd=tmp_path)
        assert theirs.returncode == 0, theirs.stderr
        assert (ours.returncode, ours.stdout, ours.stderr) == (0, theirs.stdout, theirs.stderr)
        assert "seg=bb" in theirs.stderr + theirs.stdout

    ERROR_CASES = {
        "missing": ({"m.mfl": '#include "nope.mfl"\n'}, []),
        "missing-angle": ({"m.mfl": "#include <nope.mfl>\n"}, []),
        "missing-abs": ({"m.mfl": '#include "/nonexistent/x.mfl"\n'}, []),
        "directory": ({"m.mfl": '#include "d/"\n', "d/x": ""}, []),
        "quote": ({"m.mfl": '#include "x\n'}, []),
        "loop-top": ({"a.mfl": '#include "b.mfl"\n', "b.mfl": '\n#include "a.mfl"\n'}, []),
        "loop-deep": ({"a.mfl": '#include "b.mfl"\n', "b.mfl": '#include "c.mfl"\n',
                       "c.mfl": '\n\n#include "b.mfl"\n'}, []),
        "self": ({"a.mfl": '#include "a.mfl"\nnumber z 1\n'}, []),
        "line-malformed": ({"m.mfl": "number a 1\n#line 5 x y\n"}, []),
        "line-quote": ({"m.mfl": '#line 5 "x\n'}, []),
        "line-range": ({"m.mfl": "#line 4294967296\n"}, []),
        "error": ({"m.mfl": "number a 1\n  #error  stop here \n"}, []),
        "shell": ({"m.mfl": "#!/bin/sh\nfoo\n !#\n"}, []),
        "inc-comment": ({"m.mfl": '#include "i.mfl"\n', "i.mfl": "number i 1\n/* open\n"},
                        ["--no-preprocessor"]),
        "inc-heredoc": ({"m.mfl": '#include "i.mfl"\n', "i.mfl": "string zz <<EOT\nfoo\n"},
                        ["--no-preprocessor"]),
        "no-pp-missing": ({"m.mfl": 'number a 1\n#include "nope.mfl"\n'}, ["--no-preprocessor"]),
    }

    @pytest.mark.parametrize("case", sorted(ERROR_CASES))
    def test_error_messages(self, tmp_path, monkeypatch, case):
        files, opts = self.ERROR_CASES[case]
        for name, body in files.items():
            write(tmp_path / name, body)
        main = next(iter(files))
        monkeypatch.chdir(tmp_path)
        theirs = _DIAG.findall(_mailfromd("--lint", *opts, main, cwd=tmp_path).stderr)
        with pytest.raises(PreprocessError) as ei:
            preprocess(main, use_m4="--no-preprocessor" not in opts)
        e = ei.value
        ours = [str(e)] + [n.format_mailfromd() for n in e.notes]
        assert theirs[:len(ours)] == ours

    # Each script has exactly one line that is just ")" (after m4): mailfromd
    # reports a syntax error there; we must map that line to the same place.
    LOCATION_CASES = {
        "plain": ({"m.mfl": "number a 1\n\n)\n"}, []),
        "m4-multiline": ({"m.mfl": "m4_define(`D', `number x 1\nnumber y 2')m4_dnl\nD\nD\n )\n"}, []),
        "m4-dnl": ({"m.mfl": "m4_dnl one\nm4_dnl two\nnumber a 1\nm4_dnl three\n)\n"}, []),
        "include": ({"m.mfl": 'number a 1\n#include "i.mfl"\nnumber b 1\n',
                     "i.mfl": "/* c\n */\nnumber i 1\n  )\n"}, []),
        "include-nested-after": ({"m.mfl": '#include "i.mfl"\nnumber b 1\n\n)\n',
                                  "i.mfl": '#include "j.mfl"\nnumber i 1\n',
                                  "j.mfl": "m4_define(`J', `number j 1')\nJ\n"}, []),
        "include-once": ({"m.mfl": '#include_once "i.mfl"\n#include_once "i.mfl"\n)\n',
                          "i.mfl": "number i 1\n"}, []),
        "line": ({"m.mfl": 'number a 1\n#line 100 "virt.mfl"\nnumber b 1\n)\n'}, []),
        "line-in-comment": ({"m.mfl": "/*\n#line 40\n*/\n)\n"}, []),
        "line-in-heredoc": ({"m.mfl": "string s <<EOT\n#line 40\nEOT\n)\n"}, []),
        "shell": ({"m.mfl": "#!/bin/sh\nexec foo\n!#\nnumber a 1\n)\n"}, []),
        "shell-in-include": ({"m.mfl": '#include "i.mfl"\n',
                              "i.mfl": "#! /bin/sh\nfoo\n!#\n)\n"}, []),
        "string-continued": ({"m.mfl": 'string s "a\\\n#include x\nb"\n)\n'}, ["--no-preprocessor"]),
        "m4-include": ({"m.mfl": "number a 1\nm4_include(`p.m4')\n)\n", "p.m4": "number p 1\n\n"}, []),
        "m4-include-error": ({"m.mfl": "number a 1\nm4_include(`p.m4')\nnumber b 1\n",
                              "p.m4": "number p 1\n)\n"}, []),
        "defines": ({"m.mfl": "m4_ifdef(`X', `number x 1\nnumber y 1\n')m4_dnl\nm4_ifdef(`Z', `)')\n"},
                    ["-DX", "-DZ"]),
        "no-preprocessor": ({"m.mfl": "/* m4_dnl */\n)\n"}, ["--no-preprocessor"]),
    }

    @pytest.mark.parametrize("case", sorted(LOCATION_CASES))
    def test_locations(self, tmp_path, monkeypatch, case):
        files, opts = self.LOCATION_CASES[case]
        for name, body in files.items():
            write(tmp_path / name, body)
        monkeypatch.chdir(tmp_path)
        proc = _mailfromd("--lint", *opts, "m.mfl", cwd=tmp_path)
        m = re.search(r"mailfromd: (.*?):(\d+)\.(\d+): syntax error, unexpected '\)'", proc.stderr)
        assert m, proc.stderr
        defines = {o[2:].split("=", 1)[0]: (o.split("=", 1)[1] if "=" in o else None)
                   for o in opts if o.startswith("-D")}
        src = preprocess("m.mfl", use_m4="--no-preprocessor" not in opts, defines=defines)
        lines = src.text.split("\n")
        hits = [i for i, t in enumerate(lines) if t.strip() == ")"]
        assert len(hits) == 1, src.text
        col = lines[hits[0]].index(")") + 1
        assert src.locate(hits[0] + 1, col) == (m.group(1), int(m.group(2)), int(m.group(3)))
