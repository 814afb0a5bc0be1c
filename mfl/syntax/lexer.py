"""Lexical helpers that Lark's regex lexer cannot do alone.

``prescan(text)`` runs once over the preprocessed text before Lark sees it:
it lifts here-documents out of the text (their bodies span the lines that
follow the ``<<WORD`` token, which a regex lexer cannot express) and cuts the
text at a top-level ``bye``.  Line structure is preserved, so every position
Lark reports is still a position in the preprocessed text.

``decode_string`` turns the body of a double-quoted string or an unquoted
here-document into literal pieces and references (``$macro``, ``%var``,
``$N``, ``\\N``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HereDoc:
    body: str
    quoted: bool           # <<'EOT' or <<\EOT: no interpretation
    line: int              # 1-based line of the "<<"
    col: int


class LexError(Exception):
    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


_HEREDOC_START = re.compile(r"<<(?:(-)( )?)?(?:'([^'\n]*)'|\\([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
_BYE = re.compile(r"bye[ \t]*(#[^\n]*)?")


def prescan(text: str) -> tuple[str, list[HereDoc]]:
    """Return (text with here-documents replaced by placeholders, here-docs).

    Bodies are replaced by empty lines so that line numbers do not move; the
    ``<<WORD`` token becomes ``\x01N\x01`` padded to its width.
    """
    if "<<" not in text:
        return text, []
    out: list[str] = []
    docs: list[HereDoc] = []
    pending: list[tuple] = []
    i, n = 0, len(text)
    line, line_start = 1, 0
    state = 0            # 0 normal, 1 "string", 2 'string', 3 /* comment */, 4 # comment
    seg = 0              # start of the not yet copied text
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            if state == 4:
                state = 0
            if pending and state in (0, 4):
                out.append(text[seg:i + 1])
                i += 1
                line += 1
                for idx, quoted, word, flags, ln, col in pending:
                    body: list[str] = []
                    while True:
                        if i >= n:
                            raise LexError(ln, col, "end of file in string")
                        k = text.find("\n", i)
                        raw = text[i:] if k < 0 else text[i:k]
                        i = n if k < 0 else k + 1
                        out.append("\n" if k >= 0 else "")
                        line += 1
                        t = raw
                        if flags == "-":
                            t = t.lstrip("\t")
                        elif flags:
                            t = t.lstrip(" \t")
                        if t == word:          # trailing blanks: not the end (as mailfromd)
                            break
                        body.append(t + "\n")
                    docs[idx] = HereDoc("".join(body), quoted, ln, col)
                pending.clear()
                seg = i
                line_start = i
                at_line_start = True
                continue
            i += 1
            line += 1
            line_start = i
            at_line_start = True
            continue
        if state == 0:
            if c == '"':
                state = 1
            elif c == "'":
                state = 2
            elif c == "#":
                state = 4
            elif c == "/" and text.startswith("/*", i):
                state = 3
                i += 2
                continue
            elif c == "<" and text.startswith("<<", i):
                m = _HEREDOC_START.match(text, i)
                if m:
                    dash, space, q, bs, word = m.groups()
                    quoted = q is not None or bs is not None
                    w = q if q is not None else (bs if bs is not None else word)
                    flags = ("-" if dash else "") + (" " if dash and space else "")
                    idx = len(docs)
                    docs.append(None)
                    pending.append((idx, quoted, w, flags, line, i - line_start + 1))
                    ph = f"\x01{idx}\x01"
                    out.append(text[seg:i])
                    out.append(ph + " " * max(0, m.end() - i - len(ph)))
                    i = seg = m.end()
                    continue
                i += 2
                continue
        elif state == 1:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                state = 0
        elif state == 2:
            if c == "'":
                state = 0
        elif state == 3:
            if c == "*" and text.startswith("*/", i):
                state = 0
                i += 2
                continue
        i += 1
    out.append(text[seg:])
    if pending:
        idx, quoted, word, flags, ln, col = pending[0]
        raise LexError(ln, col, "end of file in string")
    return "".join(out), docs


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\n": "", "\\": "\\", '"': '"'}     # backslash-newline joins the lines
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _reference(s: str, i: int, kind: str, parts: list, flush) -> int:
    """A ``$name``/``${name}`` or ``%name``/``%{name}`` reference at s[i]: append
    it to parts and return the offset after it (0 when there is none)."""
    if s[i + 1] == "{":
        k = s.find("}", i + 2)
        if k > 0 and _NAME.fullmatch(s[i + 2:k]):
            flush()
            parts.append((kind, s[i + 2:k], i))
            return k + 1
        return 0
    m = _NAME.match(s, i + 1)
    if not m:
        return 0
    flush()
    parts.append((kind, m.group(), i))
    return m.end()


def decode_string(s: str, *, escapes: bool = True) -> list:
    """Split a double-quoted string body into pieces.

    Returns a list of ``str`` (literal text) and tuples ``(kind, value, offset)``
    with kind ``macro``, ``var``, ``arg``, ``backref`` or ``nargs`` and the
    offset of the reference in ``s``.
    """
    parts: list = []
    buf: list = []          # str pieces and raw bytes (from \xHH and \0OOO escapes)
    i, n = 0, len(s)

    def flush():
        if buf:
            if any(type(x) is bytes for x in buf):
                # MFL strings are bytes: escapes name bytes, read back as UTF-8
                raw = b"".join(x if type(x) is bytes else
                               x.encode("utf-8", "surrogateescape") for x in buf)
                parts.append(raw.decode("utf-8", "surrogateescape"))
            else:
                parts.append("".join(buf))
            buf.clear()

    while i < n:
        c = s[i]
        if c == "\\" and escapes and i + 1 < n:
            d = s[i + 1]
            if d == "x" and i + 2 < n and s[i + 2] in "0123456789abcdefABCDEF":
                m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:])
                buf.append(bytes((int(m.group(), 16),)))
                i += 2 + m.end()
                continue
            if d == "0":
                m = re.match(r"[0-7]{0,3}", s[i + 2:])
                buf.append(bytes((int(m.group() or "0", 8) & 0xFF,)))
                i += 2 + m.end()
                continue
            if d.isdigit():
                m = re.match(r"[0-9]+", s[i + 1:])
                flush()
                parts.append(("backref", int(m.group()), i))
                i += 1 + m.end()
                continue
            buf.append(_ESCAPES.get(d, d))
            i += 2
            continue
        if c == "$" and i + 1 < n:
            d = s[i + 1]
            if d == "$":                       # $$ is a literal dollar sign
                buf.append("$")
                i += 2
                continue
            if d == "{":
                end = _reference(s, i, "macro", parts, flush)
                if end:
                    i = end
                    continue
            elif d.isdigit():
                flush()
                parts.append(("arg", int(d), i))
                i += 2
                continue
            elif d == "#":
                flush()
                parts.append(("nargs", None, i))
                i += 2
                continue
            else:
                end = _reference(s, i, "macro", parts, flush)
                if end:
                    i = end
                    continue
        if c == "%" and i + 1 < n:
            d = s[i + 1]
            if d == "%":                       # %% is a literal percent sign
                buf.append("%")
                i += 2
                continue
            end = _reference(s, i, "var", parts, flush)
            if end:
                i = end
                continue
        buf.append(c)
        i += 1
    flush()
    return parts


# ------------------------------------------------------------------ the tokenizer
# One compiled pattern with a named group per kind; Lark's contextual lexer is
# replaced by these few rules of context, which are exactly mailfromd's:
# reserved words are never names, ``mx`` is a keyword only before (fn)matches,
# ``poll``/``host``/``as`` only inside ``on``, and a three-digit number right
# after ``reject``/``tempfail`` is a reply code.
_TOKEN_RE = re.compile(r"""
 (?P<WS>[ \t\r\f\v]+)
|(?P<NL>\n)
|(?P<CCOMMENT>/\*(?:.|\n)*?\*/)
|(?P<PRAGMA>\#[ \t]*pragma\b[^\n]*)
|(?P<COMMENT>\#[^\n]*)
|(?P<STRING>"(?:\\(?:.|\n)|[^"\\])*")
|(?P<SQSTRING>'[^']*')
|(?P<HEREDOC>\x01[0-9]+\x01)
|(?P<XCODE>[0-9]\.[0-9]{1,3}\.[0-9]{1,3}(?![0-9]))
|(?P<NUMBER>0[xX][0-9a-fA-F]+|[0-9]+)
|(?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
|(?P<MACRO>\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*)
|(?P<ARGREF>\$[0-9])
|(?P<VARARGS_LPAR>\$@\()
|(?P<VARARGS>\$@)
|(?P<NARGS>\$\#)
|(?P<DOLLAR_LPAR>\$\()
|(?P<ORDINAL>@[A-Za-z_][A-Za-z0-9_]*)
|(?P<BACKREF>\\[0-9]+)
|(?P<PUNCT>\.\.\.|==|!=|<=|>=|<<|>>|[=<>+\-*/%.|^&(),;:~])
""", re.X)

_MX_FOLLOW = re.compile(r"[ \t\r\n]+(?:fn)?matches\b")
_PAREN_FOLLOW = re.compile(r"[ \t\r\n]*\(")
_DO_FOLLOW = re.compile(r"[ \t\r\n]*do\b")


class Tok:
    """A token: lighter than Lark's Token (the parser only reads these fields)."""
    __slots__ = ("type", "value", "start_pos", "line", "column", "end_line", "end_column",
                 "end_pos")

    def __init__(self, type, value, start_pos, line, column, end_line, end_column, end_pos):
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.end_pos = end_pos

    def __repr__(self) -> str:
        return f"Tok({self.type}, {self.value!r})"


class Tokenizer:
    """Turns prescanned text into Lark tokens.  ``kinds`` maps literal strings
    (keywords, punctuation) to the grammar's terminal names."""

    def __init__(self, kinds: dict[str, str], reserved: frozenset, token_cls):
        self.kinds = kinds
        self.reserved = reserved
        self.Token = token_cls

    def tokens(self, text: str):
        Token = self.Token
        kinds = self.kinds
        reserved = self.reserved
        match = _TOKEN_RE.match
        pos, n = 0, len(text)
        line, line_start = 1, 0
        prev = None              # type of the previous significant token
        in_on = False            # between "on" and its "do"
        while pos < n:
            m = match(text, pos)
            if m is None:
                raise LexError(line, pos - line_start + 1,
                               f"syntax error, unexpected character '{text[pos]}'"
                               if text[pos] not in "\"'" else "syntax error, unterminated string")
            kind = m.lastgroup
            end = m.end()
            if kind == "WS":
                pos = end
                continue
            if kind == "NL":
                pos = end
                line += 1
                line_start = end
                continue
            val = m.group()
            col = pos - line_start + 1
            sline = line
            if kind in ("CCOMMENT", "STRING", "COMMENT"):
                nl = val.count("\n")
                if nl:
                    line += nl
                    line_start = pos + val.rindex("\n") + 1
                if kind != "STRING":
                    pos = end
                    continue
            if kind == "NAME":
                if val in reserved:
                    kind = kinds.get(val) or val.upper()     # e.g. "bye": never accepted
                    if (val == "string" or val == "number") and _PAREN_FOLLOW.match(text, end):
                        kind = "CASTTYPE"
                elif val == "begin" or val == "end":
                    # handler names only after "prog" or in the old "begin do" form
                    if prev == "PROG" or _DO_FOLLOW.match(text, end):
                        kind = kinds[val]
                elif val == "mx":
                    if _MX_FOLLOW.match(text, end):
                        kind = "MX"
                elif in_on and val in ("poll", "host", "as"):
                    if val == "poll" and prev != "ON":
                        pass
                    else:
                        kind = kinds[val]
            elif kind == "PUNCT":
                kind = kinds[val]
            elif kind == "NUMBER":
                if prev == "REJECT" or prev == "TEMPFAIL":
                    kind = "CODE"
            if kind == "ON":
                in_on = True
            elif kind == "DO":
                in_on = False
            ecol = end - line_start if kind != "STRING" else (end - line_start)
            yield Token(kind, val, pos, sline, col, line, ecol + 1, end)
            prev = kind
            pos = end
