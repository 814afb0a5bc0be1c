"""Email address helpers (the built-in part; email_valid is library code)."""
from __future__ import annotations

import re

from .registry import builtin

D = "email"

# email_map bits (mailfromd 8.15 values, measured)
EMAIL_MULTIPLE, EMAIL_COMMENTS, EMAIL_PERSONAL, EMAIL_LOCAL, EMAIL_DOMAIN, EMAIL_ROUTE = \
    1, 2, 4, 8, 16, 32

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_LOCAL = rf"(?:{_ATOM}|{_QUOTED})"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[^\]]*\])"
_ADDR = re.compile(rf"({_LOCAL})(?:@({_DOMAIN}))?\Z")
_ROUTE = re.compile(rf"((?:@{_DOMAIN}\s*,?\s*)+):(.*)\Z", re.S)


def _split(text: str) -> list[str]:
    """Split an address list at commas outside quotes, <…> and (…)."""
    out, buf, depth, angle, quote = [], [], 0, False, False
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and i + 1 < len(text):
                buf.append(text[i:i + 2])
                i += 2
                continue
            quote = c != '"'
        elif c == '"':
            quote = True
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif c == "<":
            angle = True
        elif c == ">":
            angle = False
        elif c == "," and not depth and not angle:
            out.append("".join(buf))
            buf = []
            i += 1
            continue
        buf.append(c)
        i += 1
    out.append("".join(buf))
    return out


def _one(addr: str) -> int:
    """The bits of one address, 0 if it is not valid."""
    bits = 0
    s = addr.strip()
    if re.search(r"\([^)]*\)", s):
        bits |= EMAIL_PERSONAL                # mailutils files a comment as the personal part
        s = re.sub(r"\([^)]*\)", " ", s).strip()
    m = re.fullmatch(r"(.*?)<(.*)>", s, re.S)
    if m:
        if m.group(1).strip():
            bits |= EMAIL_PERSONAL
        s = m.group(2).strip()
        r = _ROUTE.match(s)
        if r:
            bits |= EMAIL_ROUTE
            s = r.group(2).strip()
    a = _ADDR.match(s)
    if not a or not s:
        return 0
    bits |= EMAIL_LOCAL
    if a.group(2):
        bits |= EMAIL_DOMAIN
    elif "@" in s:
        return 0
    return bits


@builtin("number email_map(string email)", domain=D)
def email_map(rt, email):
    """Bit mask describing the parts of the address EMAIL (0 if it is invalid)."""
    parts = [p for p in _split(email) if p.strip()]
    if not parts:
        return 0
    total = 0
    for p in parts:
        b = _one(p)
        if not b:
            return 0
        total |= b
    if len(parts) > 1:
        total |= EMAIL_MULTIPLE
    return total


@builtin("string domainpart(string str)", domain=D)
def domainpart(rt, s):
    """Domain part of the address STR (STR itself when it has no @)."""
    k = s.find("@")
    return s if k < 0 else s[k + 1:]


@builtin("string localpart(string str)", domain=D)
def localpart(rt, s):
    """Local part of the address STR (STR itself when it has no @)."""
    k = s.find("@")
    return s if k < 0 else s[:k]
