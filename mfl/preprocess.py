"""The MFL preprocessor: first stage of the pipeline (source -> preprocessor -> parser).

What mailfromd 8.15 does, and what this module reproduces:

* Every source file -- the main script *and each included file* -- is run
  separately through ``m4 -s`` (one m4 process per file, macros do not leak
  between files), preceded by a setup file that renames the m4 builtins to
  ``m4_*``, makes ``/*``...``*/`` the m4 comment delimiters and defines
  ``defined``, ``printf``, ``_``, ``N_`` and ``string_list_iterate``.  The
  feature symbols of the installed mailfromd (``WITH_DKIM`` ...) and the
  ``-D``/``-U`` options are passed to m4 as ``-D``/``-U``.
* mailfromd's *lexer* then reads the m4 output.  It handles the ``#line``
  directives (m4's sync lines and the user's alike), ``#include`` /
  ``#include_once`` (which start the same procedure on another file),
  ``#error`` and the ``#!`` ... ``!#`` shell block.  Directives are
  recognised only where the lexer would see them: ``#include`` and
  ``#error`` not inside comments, here-documents or continued strings;
  ``#line`` also inside comments; none inside the shell block.
* ``"file"`` is looked up in the process' current directory first (as
  ``./file``), then in the include path (``dir/file``); ``<file>`` only in
  the include path.  The name so built is the file name in locations.

The result is a :class:`Source`: the text the parser must read (directive
lines replaced by blank lines, included files spliced in place of their
``#include`` line) plus, for every line, the original file and line.
"""
from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import stat as _stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from .diagnostics import NOTE, ERROR, Diagnostic, MFLError, Span

__all__ = [
    "Source", "PreprocessError", "preprocess", "default_include_path",
    "m4_output", "M4_SETUP", "FEATURE_DEFINES", "STDLIB_DIR",
]

STDLIB_DIR = Path(__file__).resolve().parent.parent / "stdlib"

# Optional features the installed mailfromd 8.15 announces to m4 (it runs
# ``m4 -s -DWITH_DKIM -DWITH_GEOIP2 -DWITH_MFMOD setup script``).
FEATURE_DEFINES: tuple[str, ...] = ("WITH_DKIM", "WITH_GEOIP2", "WITH_MFMOD")

# Line numbers in #line must fit in an unsigned 32-bit integer.
_MAX_LINE = 4294967295


# ---------------------------------------------------------------------------
# The m4 setup text (our own; equivalent in effect to mailfromd's pp-setup).
# ---------------------------------------------------------------------------

# Builtins that get an ``m4_`` prefix.  Like mailfromd we leave __gnu__,
# __unix__, __program__ and mkstemp under their own names, and call the
# prefixed m4exit/m4wrap ``m4_exit``/``m4_wrap``.
_PREFIXED = (
    "define", "defn", "undefine", "builtin", "changecom", "changequote",
    "debugfile", "debugmode", "decr", "divert", "divnum", "dnl", "dumpdef",
    "errprint", "esyscmd", "eval", "format", "ifdef", "ifelse", "include",
    "incr", "index", "indir", "len", "maketemp", "patsubst", "popdef",
    "pushdef", "regexp", "shift", "sinclude", "substr", "syscmd", "sysval",
    "traceoff", "traceon", "translit", "undivert", "__line__", "__file__",
)


def _m4_list(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}'" for n in names)


M4_SETUP = f"""\
divert(-1)
changecom(`/*', `*/')
define(`__mfl_walk', `ifelse(`$2', `', `', `$1(`$2')__mfl_walk(`$1', shift(shift($@)))')')
define(`__mfl_pfx', `define(`m4_$1', defn(`$1'))')
__mfl_walk(`__mfl_pfx', {_m4_list(_PREFIXED)})
define(`m4_exit', defn(`m4exit'))
define(`m4_wrap', defn(`m4wrap'))
define(`__mfl_drop', `m4_undefine(`$1')')
m4_define(`__mfl_walk', `m4_ifelse(`$2', `', `', `$1(`$2')__mfl_walk(`$1', m4_shift(m4_shift($@)))')')
__mfl_walk(`__mfl_drop', {_m4_list(_PREFIXED + ("m4exit", "m4wrap"))})
m4_undefine(`__mfl_walk')m4_undefine(`__mfl_pfx')m4_undefine(`__mfl_drop')
m4_define(`m4_copy', `m4_define(`$2', m4_defn(`$1'))')
m4_define(`m4_rename', `m4_copy(`$1', `$2')m4_undefine(`$1')')
m4_define(`m4_rename_m4', `m4_rename(`$1', `m4_$1')')
m4_define(`m4_symbols', `')
m4_define(`defined', `m4_ifelse(`$#', `1', `m4_format(`%s#>@%s', `$', `$1')', ``$0'')')
m4_define(`printf', `m4_ifelse(`$#', `0', ``$0'', `echo sprintf($*)')')
m4_define(`_', `m4_ifelse(`$#', `1', `gettext($1)', ``$0'')')
m4_define(`N_', `m4_ifelse(`$#', `1', `$1', ``$0'')')
m4_define(`string_list_iterate', `if $1 != ""
  loop for string __$1_itr $1 . $2
           number __$1_pos index(__$1_itr, $2),
       while __$1_pos != -1,
       set __$1_itr substr(__$1_itr, __$1_pos + 1)
       set __$1_pos index(__$1_itr, $2)
  do
    set $3 substr(__$1_itr, 0, __$1_pos)
    $4
  done
fi')
m4_divert(0)m4_dnl
"""

_setup_path: str | None = None


def _setup_file() -> str:
    """Write :data:`M4_SETUP` to a private temporary file (once per process)."""
    global _setup_path
    if _setup_path is None or not os.path.exists(_setup_path):
        d = tempfile.mkdtemp(prefix="mfl-pp-")
        p = os.path.join(d, "pp-setup.m4")
        with open(p, "w", encoding="utf-8") as f:
            f.write(M4_SETUP)
        atexit.register(shutil.rmtree, d, True)
        _setup_path = p
    return _setup_path


# ---------------------------------------------------------------------------
# Result type and errors
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Preprocessed program text and its map back to the original files."""
    text: str                               # '\n'-terminated lines
    lines: tuple[tuple[str, int], ...]      # lines[i]: (file, line) of output line i+1
    # Non-fatal messages mailfromd prints without failing, e.g. "preprocessor
    # exited with status 3" (m4 failed; its output is used all the same).
    notes: tuple[Diagnostic, ...] = ()

    def locate(self, line: int, col: int) -> tuple[str, int, int]:
        """Map an output position (1-based line and column) to (file, line, col).

        Lines past the end continue the numbering of the last line (so the
        end-of-file position maps sensibly); columns are unchanged, as in
        mailfromd, which reports columns of the preprocessed text.
        """
        lines = self.lines
        n = len(lines)
        if n == 0:
            return ("", max(line, 1), col)
        if line < 1:
            line = 1
        if line <= n:
            f, ln = lines[line - 1]
            return (f, ln, col)
        f, ln = lines[-1]
        return (f, ln + (line - n), col)

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        """A :class:`Span` in original coordinates for an output range."""
        f, l1, c1 = self.locate(line, col)
        f2, l2, c2 = self.locate(end_line, end_col)
        if f2 != f or l2 < l1:      # range crosses a file or a #line: keep its start
            l2, c2 = l1, c1
        return Span(f, l1, c1, l2, c2)


class PreprocessError(MFLError):
    """A located preprocessor error.

    ``notes`` holds the diagnostics mailfromd prints right after the main
    message (e.g. "`./b.mfl' already included here").  A span with line 0
    means "no location" (mailfromd prints such messages without one).
    """

    def __init__(self, span: Span, message: str, notes: Sequence[Diagnostic] = ()):
        super().__init__(span, message)
        self.notes = tuple(notes)


def _nowhere(filename: str) -> Span:
    return Span(filename, 0, 0, 0, 0)


def _at_start(filename: str) -> Span:
    return Span(filename, 1, 1, 1, 1)


# ---------------------------------------------------------------------------
# Search path
# ---------------------------------------------------------------------------

def default_include_path(include_dirs: Sequence[str] = ()) -> list[str]:
    """The mfl include search path: *include_dirs* (``-I``), then ``stdlib/``.

    mailfromd's own include directories are deliberately not used.
    """
    path = [os.fspath(d) for d in include_dirs]
    std = str(STDLIB_DIR)
    if std not in path:
        path.append(std)
    return path


# ---------------------------------------------------------------------------
# Word splitting for the arguments of #include and #line
# ---------------------------------------------------------------------------

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _split_words(s: str) -> list[str]:
    """Split like mailfromd's wordsplit: blanks separate, quotes group,
    backslash escapes (C escapes, other characters stand for themselves)
    outside and inside double quotes, single quotes are literal.
    Raises ValueError("missing closing quote")."""
    words: list[str] = []
    i, n = 0, len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return words
        buf: list[str] = []
        while i < n and s[i] not in " \t":
            c = s[i]
            if c == "\\":
                if i + 1 < n:
                    buf.append(_ESCAPES.get(s[i + 1], s[i + 1]))
                    i += 2
                else:
                    i += 1
            elif c == '"':
                i += 1
                while True:
                    if i >= n:
                        raise ValueError("missing closing quote")
                    c = s[i]
                    if c == '"':
                        i += 1
                        break
                    if c == "\\" and i + 1 < n:
                        buf.append(_ESCAPES.get(s[i + 1], s[i + 1]))
                        i += 2
                    else:
                        buf.append(c)
                        i += 1
            elif c == "'":
                j = s.find("'", i + 1)
                if j < 0:
                    raise ValueError("missing closing quote")
                buf.append(s[i + 1:j])
                i = j + 1
            else:
                buf.append(c)
                i += 1
        words.append("".join(buf))


# ---------------------------------------------------------------------------
# The lexer-level pass
# ---------------------------------------------------------------------------

# Directives, matched at the start of a line.
_INCLUDE_RE = re.compile(r"[ \t]*#include(_once)?[ \t](.*)")
_LINE_RE = re.compile(r"[ \t]*#[ \t]*line[ \t](.*)")
_ERROR_RE = re.compile(r"[ \t]*#[ \t]*error[ \t]")
_SHELL_END_RE = re.compile(r"!#[ \t]*")
_LINENO_RE = re.compile(r"\+?[0-9]+")

# Things that change the lexical state inside a line.
_TOKEN_RE = re.compile(r"""/\*|"|'|<<|\$#|#""")
_DQ_BODY_RE = re.compile(r'(?:[^"\\]|\\.)*')
_HEREDOC_RE = re.compile(r"<<(-( )?)?(?:'([A-Za-z_][^\s']*)'|\\?([A-Za-z_]\S*))")

# Lexical states.
_INITIAL, _COMMENT, _STRING, _HEREDOC, _SHELL = range(5)


class _Frame:
    __slots__ = ("ident", "name", "where")

    def __init__(self, ident, name: str, where: Span | None):
        self.ident = ident      # (st_dev, st_ino) or None
        self.name = name        # name as used in locations
        self.where = where      # span of the #include that brought it in (None: top level)


class _Preprocessor:
    def __init__(self, include_path: Sequence[str], use_m4: bool,
                 m4_argv: list[str] | None):
        self.include_path = list(include_path)
        self.use_m4 = use_m4
        self.m4_argv = m4_argv
        self.out_text: list[str] = []
        self.out_lines: list[tuple[str, int]] = []
        self.stack: list[_Frame] = []
        self.once: set = set()
        self.notes: list[Diagnostic] = []

    # -- running m4 ------------------------------------------------------

    def run_m4(self, name: str, text: str | None) -> tuple[str, int]:
        argv = self.m4_argv + [_setup_file(), name if text is None else "-"]
        try:
            proc = subprocess.run(
                argv, input=None if text is None else text.encode("utf-8", "surrogateescape"),
                stdin=subprocess.DEVNULL if text is None else None,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise PreprocessError(
                _at_start(name),
                f"cannot run preprocessor `{self.m4_argv[0]}': {e.strerror or e}") from None
        err = proc.stderr.decode("utf-8", "replace")
        if err:
            sys.stderr.write(err)
            sys.stderr.flush()
        out = proc.stdout.decode("utf-8", "surrogateescape")
        if text is not None:
            # m4 calls its standard input "stdin" in sync lines.
            out = re.sub(r'(?m)^(#line [0-9]+ )"stdin"$',
                         lambda m: m.group(1) + '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"',
                         out)
        return out, proc.returncode

    def load(self, name: str, text: str | None) -> tuple[str, int]:
        """The text the lexer reads for one file and the preprocessor's exit status."""
        if self.use_m4:
            return self.run_m4(name, text)
        if text is not None:
            return text, 0
        with open(name, "rb") as f:
            return f.read().decode("utf-8", "surrogateescape"), 0

    # -- #include ----------------------------------------------------------

    def include(self, word: str, once: bool, where: Span) -> None:
        angle = len(word) >= 2 and word[0] == "<" and word[-1] == ">"
        name = word[1:-1] if angle else word
        if os.path.isabs(name):
            candidates = [name]
        else:
            candidates = [] if angle else ["./" + name]
            candidates += [d + "/" + name for d in self.include_path]
        found = st = None
        err: OSError | None = None
        for cand in candidates:
            try:
                st = os.stat(cand)
            except OSError as e:
                err = err or e
                continue
            found = cand
            break
        if found is None:
            if os.path.isabs(name):
                reason = os.strerror(err.errno) if err and err.errno else "No such file or directory"
                raise PreprocessError(where, f"cannot open `{name}': {reason}")
            raise PreprocessError(
                where, f"{name}: no such file or directory",
                [Diagnostic(where, f"cannot open `{name}': No such file or directory", ERROR)])
        if not _stat.S_ISREG(st.st_mode):
            raise PreprocessError(where, f"`{found}' is not a regular file")
        ident = (st.st_dev, st.st_ino)
        # The including file itself is not checked (mailfromd lets a file
        # include itself once); all its ancestors are.
        for fr in self.stack[:-1]:
            if fr.ident == ident:
                if fr.where is None:
                    note = Diagnostic(where, f"`{found}' already included at top level", NOTE)
                else:
                    note = Diagnostic(fr.where, f"`{found}' already included here", NOTE)
                raise PreprocessError(where, "recursive inclusion", [note])
        if once:
            if ident in self.once:
                return
            self.once.add(ident)
        try:
            with open(found, "rb"):
                pass
        except OSError as e:
            raise PreprocessError(where, f"cannot open {found}: {e.strerror}") from None
        self.process(found, *self.load(found, None), ident, where)

    # -- the scanner -------------------------------------------------------

    def process(self, name: str, text: str, status: int, ident, where: Span | None) -> None:
        """Read one file's (preprocessed) text as mailfromd's lexer does."""
        self.stack.append(_Frame(ident, name, where))
        put_text = self.out_text.append
        put_line = self.out_lines.append
        search = _TOKEN_RE.search
        dq_end = _DQ_BODY_RE.match
        line_re = _LINE_RE.match
        cur_file = name
        cur_line = 1
        state = _INITIAL
        start = (name, 1, 1)            # where the open comment/string/block began
        hd_word = ""
        hd_strip = 0
        last = None                     # (file, line, length) of the last non-blank text line

        src = text.split("\n")
        if src and src[-1] == "":
            src.pop()
        for line in src:
            here = cur_line
            cur_line += 1

            if state == _INITIAL:
                m = search(line)
                if m is None:                           # the common case: nothing special
                    put_text(line)
                    put_line((cur_file, here))
                    if status and line.strip():
                        last = (cur_file, here, len(line.rstrip()))
                    continue
                if m.group() == "#" and not line[:m.start()].strip(" \t"):
                    # A line beginning with '#': a directive or a comment.
                    if here == 1 and (line.startswith("#!/") or line.startswith("#! /")):
                        state = _SHELL
                        start = (cur_file, here, 1)
                        put_text("")
                        put_line((cur_file, here))
                        continue
                    d = line_re(line)
                    if d:
                        put_text("")
                        put_line((cur_file, here))
                        cur_file, cur_line = self.line_directive(d.group(1), line, cur_file,
                                                                 here, cur_line)
                        continue
                    d = _INCLUDE_RE.match(line)
                    if d:
                        sp = Span(cur_file, here, 1, here, len(line))
                        try:
                            words = _split_words(d.group(2))
                        except ValueError as e:
                            raise PreprocessError(sp, f"cannot parse include line: {e}") from None
                        if len(words) == 1:
                            self.include(words[0], bool(d.group(1)), sp)
                            continue
                        # with no or several words it is an ordinary comment
                    elif _ERROR_RE.match(line):
                        raise PreprocessError(Span(cur_file, here, 1, here, len(line)), line)
                    put_text(line)
                    put_line((cur_file, here))
                    if status:
                        last = (cur_file, here, len(line.rstrip()))
                    continue
                put_text(line)
                put_line((cur_file, here))
            elif state == _COMMENT:
                if "#" in line:
                    d = line_re(line)
                    if d:
                        put_text("")
                        put_line((cur_file, here))
                        cur_file, cur_line = self.line_directive(d.group(1), line, cur_file,
                                                                 here, cur_line)
                        continue
                put_text(line)
                put_line((cur_file, here))
                e = line.find("*/")
                if e < 0:
                    continue
                state = _INITIAL
                m = search(line, e + 2)
            elif state == _STRING:
                put_text(line)
                put_line((cur_file, here))
                e = dq_end(line).end()
                if e < len(line) and line[e] == '"':
                    state = _INITIAL
                    m = search(line, e + 1)
                else:
                    # Once continued with backslash-newline, a string takes in
                    # plain newlines too, up to its closing quote.
                    continue
            elif state == _HEREDOC:
                put_text(line)
                put_line((cur_file, here))
                t = line
                if hd_strip == 1:
                    t = t.lstrip("\t")
                elif hd_strip == 2:
                    t = t.lstrip(" \t")
                if t == hd_word:
                    state = _INITIAL
                continue
            else:  # _SHELL
                if _SHELL_END_RE.fullmatch(line):
                    state = _INITIAL
                put_text("")
                put_line((cur_file, here))
                continue

            # Text in the initial state from match m on: follow the tokens
            # that can make a construct run past the end of the line.
            if status and line.strip():
                last = (cur_file, here, len(line.rstrip()))
            while m is not None:
                tok = m.group()
                if tok == "#":
                    break
                if tok == "$#":
                    m = search(line, m.end())
                elif tok == "/*":
                    e = line.find("*/", m.end())
                    if e < 0:
                        state = _COMMENT
                        start = (cur_file, here, m.start() + 1)
                        break
                    m = search(line, e + 2)
                elif tok == '"':
                    e = dq_end(line, m.end()).end()
                    if e < len(line) and line[e] == '"':
                        m = search(line, e + 1)
                        continue
                    if e == len(line) - 1:              # backslash-newline: string goes on
                        state = _STRING
                        start = (cur_file, here, m.start() + 1)
                    break
                elif tok == "'":
                    e = line.find("'", m.end())
                    if e < 0:
                        break
                    m = search(line, e + 1)
                else:  # "<<"
                    h = _HEREDOC_RE.match(line, m.start())
                    if h is None:
                        m = search(line, m.end())
                        continue
                    state = _HEREDOC
                    start = (cur_file, here, m.start() + 1)
                    hd_word = h.group(3) if h.group(3) is not None else h.group(4)
                    hd_strip = 0 if h.group(1) is None else (2 if h.group(2) else 1)
                    break

        if state != _INITIAL:
            f, ln, col = start
            msg = {_COMMENT: "end of file in comment",
                   _SHELL: "end of file in shell block"}.get(state, "end of file in string")
            raise PreprocessError(Span(f, ln, col, ln, col), msg)
        self.stack.pop()
        if status:
            # mailfromd notices the failure when it reaches the end of the
            # file, reports it at its current location and goes on with the
            # output it got.
            f, ln, col = last or (name, 1, 1)
            msg = (f"preprocessor exited with status {status}" if status > 0
                   else f"preprocessor terminated on signal {-status}")
            self.notes.append(Diagnostic(Span(f, ln, col, ln, col), msg, NOTE))

    @staticmethod
    def line_directive(args: str, line: str, cur_file: str, here: int,
                       cur_line: int) -> tuple[str, int]:
        sp = Span(cur_file, here, 1, here, len(line))
        try:
            words = _split_words(args)
        except ValueError as e:
            raise PreprocessError(sp, f"cannot parse #line line: {e}") from None
        if not 1 <= len(words) <= 2 or not _LINENO_RE.fullmatch(words[0]):
            raise PreprocessError(sp, "malformed #line statement")
        n = int(words[0])
        if n > _MAX_LINE:
            raise PreprocessError(sp, "malformed #line statement")
        if n == 0:          # mailfromd ignores "#line 0"
            return cur_file, cur_line
        return (words[1] if len(words) == 2 else cur_file), n


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------

def _m4_argv(m4_program: str, defines: Mapping[str, str | None],
             undefines: Sequence[str]) -> list[str]:
    argv = shlex.split(m4_program) or ["m4"]
    if "/" not in argv[0]:
        # Like mailfromd's shell, run it by its full name (m4 shows it in
        # messages and in __program__).
        argv[0] = shutil.which(argv[0]) or argv[0]
    if "-s" not in argv[1:] and "--synclines" not in argv[1:]:
        argv.append("-s")
    for f in FEATURE_DEFINES:
        argv.append("-D" + f)
    for k, v in defines.items():
        argv.append(f"-D{k}" if v is None else f"-D{k}={v}")
    for u in undefines:
        argv.append("-U" + u)
    return argv


def _check_main(filename: str):
    try:
        st = os.stat(filename)
    except OSError as e:
        raise PreprocessError(_nowhere(filename),
                              f"cannot open `{filename}': {e.strerror}") from None
    if not _stat.S_ISREG(st.st_mode):
        raise PreprocessError(_nowhere(filename), f"`{filename}' is not a regular file")
    try:
        with open(filename, "rb"):
            pass
    except OSError as e:
        raise PreprocessError(_nowhere(filename),
                              f"cannot open {filename}: {e.strerror}") from None
    return (st.st_dev, st.st_ino)


def preprocess(filename: str, *, text: str | None = None, include_path: Sequence[str] = (),
               defines: Mapping[str, str | None] = {}, undefines: Sequence[str] = (),
               use_m4: bool = True, m4_program: str = "m4") -> Source:
    """Preprocess an MFL program the way mailfromd 8.15 does.

    *filename* is read unless *text* is given (then *filename* only names
    it).  *include_path* is the ``-I`` list; the repository's ``stdlib/`` is
    appended unless already present (see :func:`default_include_path`).
    *defines* / *undefines* are the ``-D`` / ``-U`` options; ``use_m4=False``
    is ``--no-preprocessor``; *m4_program* is the m4 command (a shell-like
    command line; ``-s`` is added when missing).

    Raises :class:`PreprocessError` (an :class:`MFLError`) on the first error.
    """
    path = default_include_path(include_path)
    m4_argv = _m4_argv(m4_program, defines, undefines) if use_m4 else None
    pp = _Preprocessor(path, use_m4, m4_argv)
    if text is None:
        ident = _check_main(filename)
    else:
        try:
            st = os.stat(filename)
            ident = (st.st_dev, st.st_ino)
        except OSError:
            ident = None
    try:
        src, status = pp.load(filename, text)
    except OSError as e:
        raise PreprocessError(_nowhere(filename), f"cannot open {filename}: {e.strerror}") from None
    pp.process(filename, src, status, ident, None)
    out_lines = pp.out_lines
    if not out_lines:
        out_lines = [(filename, 1)]
        pp.out_text = [""]
    return Source("\n".join(pp.out_text) + "\n", tuple(out_lines), tuple(pp.notes))


def m4_output(filename: str, *, text: str | None = None,
              defines: Mapping[str, str | None] = {}, undefines: Sequence[str] = (),
              m4_program: str = "m4") -> str:
    """What ``mailfromd -E`` prints: the m4 output for one file, sync lines included."""
    pp = _Preprocessor([], True, _m4_argv(m4_program, defines, undefines))
    return pp.run_m4(filename, text)[0]
