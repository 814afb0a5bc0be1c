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


_HEREDOC_START = re.compile(r"<<(-)?( )?(?:'([^'\n]*)'|\\([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
_BYE = re.compile(r"bye[ \t]*(#[^\n]*)?")


def prescan(text: str) -> tuple[str, list[HereDoc]]:
    """Return (text with here-documents replaced by placeholders, here-docs).

    Bodies are replaced by empty lines so that line numbers do not move; the
    ``<<WORD`` token becomes ``\x01N\x01`` padded to its width.
    """
    if "<<" not in text and "bye" not in text:
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
                            raise LexError(ln, col, f"unterminated here-document (missing `{word}')")
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
                        if t.rstrip(" \t") == word:
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
            if at_line_start and c not in " \t":
                at_line_start = False
                m = _BYE.match(text, i)
                if m and text.startswith("bye", i) and (m.end() == n or text[m.end()] == "\n"):
                    out.append(text[seg:i])
                    seg = n
                    break
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
        raise LexError(ln, col, f"unterminated here-document (missing `{word}')")
    return "".join(out), docs


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\n": "\n", "\\": "\\", '"': '"'}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def decode_string(s: str, *, escapes: bool = True) -> list:
    """Split a double-quoted string body into pieces.

    Returns a list of ``str`` (literal text) and tuples ``("macro", name)``,
    ``("var", name)``, ``("arg", n)``, ``("backref", n)``, ``("nargs",)``.
    """
    parts: list = []
    buf: list[str] = []
    i, n = 0, len(s)

    def flush():
        if buf:
            parts.append("".join(buf))
            buf.clear()

    while i < n:
        c = s[i]
        if c == "\\" and escapes and i + 1 < n:
            d = s[i + 1]
            if d == "x" and i + 2 < n and s[i + 2] in "0123456789abcdefABCDEF":
                m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:])
                buf.append(chr(int(m.group(), 16)))
                i += 2 + m.end()
                continue
            if d == "0":
                m = re.match(r"[0-7]{0,3}", s[i + 2:])
                buf.append(chr(int(m.group() or "0", 8) & 0xFF))
                i += 2 + m.end()
                continue
            if d.isdigit():
                m = re.match(r"[0-9]+", s[i + 1:])
                flush()
                parts.append(("backref", int(m.group())))
                i += 1 + m.end()
                continue
            buf.append(_ESCAPES.get(d, d))
            i += 2
            continue
        if c == "$" and i + 1 < n:
            d = s[i + 1]
            if d == "{":
                k = s.find("}", i + 2)
                if k > 0 and _NAME.fullmatch(s[i + 2:k]):
                    flush()
                    parts.append(("macro", s[i + 2:k]))
                    i = k + 1
                    continue
            elif d.isdigit():
                flush()
                parts.append(("arg", int(d)))
                i += 2
                continue
            elif d == "#":
                flush()
                parts.append(("nargs",))
                i += 2
                continue
            else:
                m = _NAME.match(s, i + 1)
                if m:
                    flush()
                    parts.append(("macro", m.group()))
                    i = m.end()
                    continue
        if c == "%" and i + 1 < n:
            d = s[i + 1]
            if d == "{":
                k = s.find("}", i + 2)
                if k > 0 and _NAME.fullmatch(s[i + 2:k]):
                    flush()
                    parts.append(("var", s[i + 2:k]))
                    i = k + 1
                    continue
            else:
                m = _NAME.match(s, i + 1)
                if m:
                    flush()
                    parts.append(("var", m.group()))
                    i = m.end()
                    continue
        buf.append(c)
        i += 1
    flush()
    return parts
