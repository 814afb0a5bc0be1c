"""Reader for mailfromd's configuration-file syntax (the GNU Mailutils format).

This module only turns text into a tree of statements; what the statements
mean is in :mod:`mfl.milter.config`.  The behaviour follows what the
Mailutils 3.15 reader used by mailfromd 8.15 does, as observed by running it
(see ``tools/record_config.py``), quirks included:

* Tokens are chosen by longest match, ties going to the earlier rule below.
  A keyword (``IDENT``) needs at least two characters; ``x y;`` is a syntax
  error.  Unquoted words are made of ``[A-Za-z0-9_./:*=@-]`` only, so
  ``/**/`` is a word while ``/* c */`` is a comment, and ``a#b`` is ``a``
  followed by a comment.  Any other character (``+``, ``'``, a carriage
  return, a byte >= 0x80 outside quotes) is reported as a "stray character"
  and skipped; such errors do not stop the parse.
* Quoted strings know the escapes ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\"`` and
  backslash-newline (dropped).  Any other escape ends the string's value
  there (the rest is read but lost).  A raw newline inside a quoted string
  that contains an escape is dropped together with the text between the last
  escape and the newline.  Adjacent quoted strings are concatenated.
* Here-documents: ``<<ID``, ``<<-ID`` (strip leading tabs), ``<<- ID``
  (strip leading blanks).  When anything (blanks, a comment) follows ``ID``
  on the opening line, or the delimiter is quoted (``<<"ID"``), the
  terminating line must read ``ID`` minus its last character; ``<<\\ID``
  never terminates.  The terminator line may end in ``;``; the tracker then
  counts that line twice, so later locations are one line off.
* Locations are ``FILE:LINE.COL[-COL]`` or ``FILE:LINE.COL-LINE.COL``; a
  syntax error is located at the last piece of text the reader consumed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Locus:
    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        if self.col == 0:
            if self.end_line != self.line:
                return f"{self.file}:{self.line}-{self.end_line}"
            return f"{self.file}:{self.line}"
        s = f"{self.file}:{self.line}.{self.col}"
        if self.end_line != self.line:
            s += f"-{self.end_line}" + (f".{self.end_col}" if self.end_col else "")
        elif self.end_col != self.col:
            s += f"-{self.end_col}"
        return s

    def to(self, other: "Locus") -> "Locus":
        return Locus(self.file, self.line, self.col, other.end_line, other.end_col)


class CfgList(list):
    """A parenthesized list value: ``(a, b, c)``."""


class CfgArray(tuple):
    """Several values after one keyword: ``setvar name value``."""


@dataclass
class Node:
    name: str
    value: object            # None, str, CfgList or CfgArray
    loc: Locus
    children: list | None = None   # None for a simple statement

    @property
    def is_block(self) -> bool:
        return self.children is not None


class CfgSyntaxError(Exception):
    def __init__(self, loc: Locus | None):
        super().__init__("syntax error")
        self.loc = loc


class _Tracker:
    """Line/column bookkeeping with the same conventions as mailutils."""

    def __init__(self, file: str):
        self.file, self.line, self.cols, self.prev = file, 1, 0, 0

    def advance(self, text: str) -> Locus:
        bl, bc = self.line, self.cols + 1
        for ch in text:
            self.cols += 1
            if ch == "\n":
                self.prev, self.line, self.cols = self.cols, self.line + 1, 0
        if self.cols:
            el, ec = self.line, self.cols
        else:                       # ends with a newline: stay on that line
            el, ec = self.line - 1, self.prev - 1
            if ec + 1 == bc:
                bc = ec
        return Locus(self.file, bl, bc, el, ec)


_ID = r"[A-Za-z_][A-Za-z_0-9-]+"
_RULES = [(kind, re.compile(rx, re.S)) for kind, rx in [
    ("cstart", r"/\*"),
    ("comment", r"#[^\n]*\n?"),
    ("comment", r"//[^\n]*\n?"),
    ("IDENT", _ID),
    ("STRING", r"[A-Za-z0-9_./:*=@-]+"),
    ("QSTRING", r'"[^\\"\n]*"'),
    ("qstart", r'"[^\\"\n]*\\.'),
    ("heredoc", r'<<(?:-( )?)?(\\?' + _ID + r'|"' + _ID + r'")[ \t]*(?:#[^\n]*|//[^\n]*)?\n'),
    ("ws", r"[ \t\f]+"),
    ("ws", r"\n"),
    ("punct", r"[,;{}()]"),
    ("stray", r"."),
]]
_RULE_RXS = [rx for _, rx in _RULES]
_COMMENT_RULES = [re.compile(rx) for rx in (r"[^*\n]+", r"\*+[^*/\n]*", r"\n", r"\*+/")]
_STR_RULES = [re.compile(r'[^\\"\n]*\\.', re.S), re.compile(r'[^\\"\n]*"')]
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\\": "\\", '"': '"', "\n": ""}
_SPACE = " \t\n\v\f\r"


def _longest(rules, text, pos):
    best = None
    for i, rx in enumerate(rules):
        m = rx.match(text, pos)
        if m and m.end() > pos and (best is None or m.end() > best[1].end()):
            best = (i, m)
    return best


def _unescape(c: str) -> str:
    return _ESCAPES.get(c, "\0")     # unknown escape: the value ends here


def _cut(s: str) -> str:
    return s.split("\0", 1)[0]


@dataclass
class Token:
    kind: str                 # IDENT STRING QSTRING MSTRING , ; { } ( ) EOF
    value: str
    loc: Locus | None
    last: Locus | None        # the last piece of text read for this token


@dataclass
class Lexer:
    text: str
    file: str
    errors: list = field(default_factory=list)

    def __post_init__(self):
        self.pos = 0
        self.trk = _Tracker(self.file)
        self.last: Locus | None = None

    def _eat(self, n: int) -> Locus:
        self.last = self.trk.advance(self.text[self.pos:self.pos + n])
        self.pos += n
        return self.last

    def next(self) -> Token:
        text = self.text
        while self.pos < len(text):
            kind_i, m = _longest(_RULE_RXS, text, self.pos)
            kind = _RULES[kind_i][0]
            start = self.pos
            loc = self._eat(m.end() - start)
            if kind in ("ws", "comment"):
                continue
            if kind == "cstart":
                self._comment()
            elif kind == "stray":
                c = m.group()
                shown = c if " " <= c <= "~" else "\\%03o" % (ord(c) & 0xFF)
                self.errors.append(f"{loc}: stray character {shown}")
            elif kind == "punct":
                return Token(m.group(), m.group(), loc, loc)
            elif kind in ("IDENT", "STRING"):
                return Token(kind, m.group(), loc, loc)
            elif kind == "QSTRING":
                return Token(kind, m.group()[1:-1], loc, loc)
            elif kind == "qstart":
                s = m.group()
                return self._string(loc, s[1:-2] + _unescape(s[-1]))
            else:
                return self._heredoc(loc, m)
        return Token("EOF", "", self.last, self.last)

    def _comment(self):
        while self.pos < len(self.text):
            i, m = _longest(_COMMENT_RULES, self.text, self.pos)
            self._eat(m.end() - self.pos)
            if i == 3:
                return

    def _string(self, beg: Locus, acc: str) -> Token:
        while self.pos < len(self.text):
            best = _longest(_STR_RULES, self.text, self.pos)
            if best is None:               # unmatched character: dropped
                self._eat(1)
                continue
            s = best[1].group()
            loc = self._eat(len(s))
            if best[0] == 0:
                acc += s[:-2] + _unescape(s[-1])
            else:
                return Token("QSTRING", _cut(acc + s[:-1]), beg.to(loc), loc)
        return Token("EOF", "", self.last, self.last)

    def _heredoc(self, beg: Locus, m: re.Match) -> Token:
        opener = m.group()
        strip = None
        if opener.startswith("<<-"):
            strip = " \t" if m.group(1) else "\t"
        spec = m.group(2)
        if spec.startswith("\\"):
            delim, unescape = None, False                 # never terminates
        elif spec.startswith('"'):
            delim, unescape = spec[1:-2], False
        else:
            rest = opener[m.start(2) - m.start():]
            n = min([i for i in (rest.find(" "), rest.find("\t")) if i >= 0] + [len(rest)])
            delim, unescape = rest[:n - 1], True
        acc = []
        text = self.text
        while self.pos < len(text):
            nl = text.find("\n", self.pos)
            if nl < 0:                     # last line without a newline: dropped
                self._eat(1)
                continue
            line = text[self.pos:nl + 1]
            p = line.lstrip(strip) if strip else line
            loc = self._eat(len(line))
            if delim is not None and p.startswith(delim):
                tail = p[len(delim):]
                body = tail.lstrip(_SPACE)
                if not body:
                    return Token("MSTRING", _cut("".join(acc)), beg.to(loc), loc)
                if body[0] == ";" and not body[1:].strip(_SPACE):
                    # the ';' is read again; the tracker is not moved back
                    self.pos = nl + 1 - len(body)
                    return Token("MSTRING", _cut("".join(acc)), beg.to(loc), loc)
            if unescape:
                out, i = [], 0
                while i < len(p):
                    if p[i] == "\\" and i + 1 < len(p):
                        out.append(_unescape(p[i + 1]))
                        i += 2
                    else:
                        out.append(p[i])
                        i += 1
                p = "".join(out)
            acc.append(p)
        return Token("EOF", "", self.last, self.last)


class Parser:
    """stmtlist: stmt+;  stmt: IDENT values ';' | IDENT values? '{' stmt* '}' ';'?"""

    def __init__(self, text: str, file: str):
        self.lex = Lexer(text, file)
        self.tok = self.lex.next()

    @property
    def errors(self) -> list:
        return self.lex.errors

    def _advance(self) -> Token:
        t, self.tok = self.tok, self.lex.next()
        return t

    def _fail(self):
        raise CfgSyntaxError(self.tok.last)

    def parse(self) -> list[Node]:
        nodes = [self._stmt()]
        while self.tok.kind != "EOF":
            nodes.append(self._stmt())
        return nodes

    def _stmt(self) -> Node:
        if self.tok.kind != "IDENT":
            self._fail()
        ident = self._advance()
        values = []
        while self.tok.kind in ("IDENT", "STRING", "QSTRING", "MSTRING", "("):
            values.append(self._value())
        value = None if not values else values[0] if len(values) == 1 else CfgArray(values)
        if self.tok.kind == ";" and values:
            return Node(ident.value, value, ident.loc.to(self._advance().loc))
        if self.tok.kind != "{":
            self._fail()
        self._advance()
        children = []
        while self.tok.kind != "}":
            children.append(self._stmt())
        end = self._advance()
        if self.tok.kind == ";":
            end = self._advance()
        return Node(ident.value, value, ident.loc.to(end.loc), children)

    def _value(self):
        t = self._advance()
        if t.kind == "QSTRING":
            s = t.value
            while self.tok.kind == "QSTRING":
                s += self._advance().value
            return s
        if t.kind != "(":
            return t.value
        items = [self._value_or_fail()]
        while self.tok.kind == ",":
            self._advance()
            if self.tok.kind == ")":
                break
            items.append(self._value_or_fail())
        if self.tok.kind != ")":
            self._fail()
        self._advance()
        return CfgList(items)

    def _value_or_fail(self):
        if self.tok.kind not in ("IDENT", "STRING", "QSTRING", "MSTRING", "("):
            self._fail()
        return self._value()


def parse(text: str, file: str) -> tuple[list[Node] | None, list[str]]:
    """Parse TEXT (bytes decoded as Latin-1); returns (nodes or None, errors)."""
    p = Parser(text, file)
    try:
        return p.parse(), p.errors
    except CfgSyntaxError as e:
        return None, p.errors + [f"{e.loc}: syntax error" if e.loc else "syntax error"]
