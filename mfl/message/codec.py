"""Content transfer encodings, character sets, RFC 2047 words and unfolding.

Behaviour follows what mailfromd 8.15 (Mailutils 3.15) was measured to do:

* ``decode_body``: base64 (characters outside the alphabet ignored),
  quoted-printable (soft line breaks removed, blanks at the end of a line
  dropped), 7bit/8bit/binary unchanged; other encodings are unknown.
* ``convert``: character set conversion; a character the target cannot hold
  and a byte the source cannot decode are written as C octal escapes of
  their bytes (``\\303\\274``), Mailutils' default "copy-octal" fallback.
  The same charset on both sides (any case) copies the bytes.
* ``rfc2047_encode``: the whole text as encoded words of at most 75
  characters, each full word followed by ``\\n `` (Q: space as ``_``;
  ``=``, ``?``, ``_``, controls other than tab and LF, and 8-bit bytes as
  ``=XX``; B: base64 in groups of four); the text's bytes are not converted
  to CHARSET.
* ``rfc2047_decode``: encoded words decoded and converted to the target
  charset (text outside words copied as is); blanks between two adjacent
  words dropped; a malformed word raises ``CodecError(BAD_INPUT)``.
* ``unfold``: every LF followed by blanks (space, tab, CR) becomes one space;
  an LF followed by anything else is dropped (unless that is another LF).
"""
from __future__ import annotations

import binascii
import codecs

BAD_INPUT = "Input string is not RFC 2047 encoded"
BAD_ENCODING = "Not a valid RFC 2047 encoding"
FAILED = "Operation failed"

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VAL = {c: i for i, c in enumerate(_B64)}


class CodecError(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


# ------------------------------------------------------------------ transfer encodings

def b64decode(data: bytes) -> bytes:
    out = bytearray()
    acc = 0
    bits = 0
    for c in data:
        v = _B64_VAL.get(c)
        if v is None:
            continue
        acc = (acc << 6) | v
        bits += 6
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def qpdecode(data: bytes, *, header: bool = False) -> bytes:
    """Quoted-printable (HEADER: the Q encoding of RFC 2047, ``_`` is a space)."""
    if header:
        data = data.replace(b"_", b" ")
        out = bytearray()
        i = 0
        n = len(data)
        while i < n:
            c = data[i]
            if c == 0x3D and i + 2 < n + 0 and _ishex(data[i + 1:i + 3]):
                out.append(int(data[i + 1:i + 3], 16))
                i += 3
            else:
                out.append(c)
                i += 1
        return bytes(out)
    out = bytearray()
    for line in data.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        eol = line[len(body):]
        body = body.rstrip(b" \t")
        soft = body.endswith(b"=")
        if soft:
            body = body[:-1]
        i = 0
        n = len(body)
        while i < n:
            c = body[i]
            if c == 0x3D and i + 2 < n + 1 and _ishex(body[i + 1:i + 3]):
                out.append(int(body[i + 1:i + 3], 16))
                i += 3
            else:
                out.append(c)
                i += 1
        if eol and not soft:
            out += b"\n"
    return bytes(out)


def _ishex(b: bytes) -> bool:
    return len(b) == 2 and all(c in b"0123456789abcdefABCDEF" for c in b)


def decode_body(data: bytes, encoding: bytes | str) -> bytes:
    """DATA decoded from the transfer ENCODING; ValueError if unknown."""
    enc = (encoding.decode("latin-1") if isinstance(encoding, bytes) else encoding)
    enc = enc.strip().lower()
    if enc == "base64":
        return b64decode(data)
    if enc == "quoted-printable":
        return qpdecode(data)
    if enc in ("7bit", "8bit", "binary", ""):
        return data
    raise ValueError(enc)


# ------------------------------------------------------------------ character sets

def _codec(name: str):
    try:
        return codecs.lookup(name.strip())
    except LookupError:
        return None


def same_charset(a: str, b: str) -> bool:
    if a.strip().lower() == b.strip().lower():
        return True
    ca, cb = _codec(a), _codec(b)
    return ca is not None and cb is not None and ca.name == cb.name


ILSEQ = "Illegal byte sequence"


def convert(data: bytes, src: str, dst: str, fallback: str = "copy-octal") -> bytes:
    """DATA from charset SRC to DST; CodecError if a charset is unknown.

    FALLBACK for what cannot be converted: ``copy-octal`` (C octal escapes of
    the bytes), ``copy-pass`` (the bytes as they are), ``none`` (CodecError)."""
    if same_charset(src, dst):
        return data
    s, d = _codec(src), _codec(dst)
    if s is None or d is None:
        raise CodecError(FAILED)
    text = data.decode(s.name, "surrogateescape")
    out = bytearray()
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            bad = bytes((o - 0xDC00,))
        else:
            try:
                out += ch.encode(d.name)
                continue
            except UnicodeEncodeError:
                bad = ch.encode(s.name, "surrogateescape")
        if fallback == "copy-pass":
            out += bad
        elif fallback == "none":
            raise CodecError(ILSEQ)
        else:
            for byte in bad:
                out += b"\\%03o" % byte
    return bytes(out)


# ------------------------------------------------------------------ RFC 2047

def _q_encode(data: bytes) -> bytes:
    out = bytearray()
    for c in data:
        if c == 0x20:
            out += b"_"
        elif c in b"=?_" or not (0x20 <= c <= 0x7E or c in (0x09, 0x0A)):
            out += b"=%02X" % c
        else:
            out.append(c)
    return bytes(out)


MAX_ENCODED_WORD = 75


def rfc2047_encode(text: bytes, encoding: str = "Q", charset: str = "utf-8") -> bytes:
    if encoding == "base64":
        encoding = "B"
    elif encoding == "quoted-printable":
        encoding = "Q"
    elif encoding not in ("B", "Q"):
        raise CodecError(BAD_ENCODING)
    if len(charset) > MAX_ENCODED_WORD - 8:
        raise CodecError("Invalid argument")
    encoded = binascii.b2a_base64(text, newline=False) if encoding == "B" else _q_encode(text)
    prefix = b"=?" + charset.encode("latin-1", "replace") + b"?" + encoding.encode() + b"?"
    room = MAX_ENCODED_WORD - len(prefix) - 2
    if encoding == "B":
        room -= room % 4
    out = bytearray()
    pos = 0
    while True:
        piece = encoded[pos:pos + room]
        if not piece:
            break
        if encoding == "Q":
            # an =XX escape must not be split: Mailutils holds it back, and as
            # the word is then short, stops there (the rest of the text is lost)
            if piece.endswith(b"="):
                piece = piece[:-1]
            elif piece[-2:-1] == b"=":
                piece = piece[:-2]
        out += prefix + piece + b"?="
        pos += len(piece)
        if len(piece) != room:
            break
        out += b"\n "
    return bytes(out)


def rfc2047_decode(text: bytes, tocode: str = "UTF-8") -> bytes:
    out = bytearray()
    i = 0
    n = len(text)
    run = 0                     # blanks seen after an encoded word (+1)
    while i < n:
        if text.startswith(b"=?", i):
            j = text.find(b"?", i + 2)
            if j < 0:
                raise CodecError(BAD_INPUT)
            fromcode = text[i + 2:j].split(b"*", 1)[0].decode("latin-1")
            k = text.find(b"?", j + 1)
            if k < 0:
                raise CodecError(BAD_INPUT)
            enc = text[j + 1:k]
            m = text.find(b"?", k + 1)
            if m < 0:
                raise CodecError(BAD_INPUT)
            payload = text[k + 1:m]
            if text[m + 1:m + 2] != b"=":
                raise CodecError(BAD_INPUT)
            if enc[:1] in (b"b", b"B"):
                raw = b64decode(payload)
            elif enc[:1] in (b"q", b"Q"):
                raw = qpdecode(payload, header=True)
            else:
                raise CodecError(BAD_INPUT)
            out += convert(raw, fromcode, tocode or fromcode)
            i = m + 2
            run = 1
            continue
        c = text[i:i + 1]
        if run:
            if c in (b" ", b"\t"):
                run += 1
                i += 1
                continue
            run -= 1
            if run:
                out += text[i - run:i]
            run = 0
        out += c
        i += 1
    return bytes(out)


# ------------------------------------------------------------------ unfold

def unfold(text: bytes) -> bytes:
    out = bytearray()
    state = 0                   # 0: text, 1: after LF, 2: in the fold's blanks
    for c in text:
        ch = bytes((c,))
        if state == 0:
            if ch == b"\n":
                state = 1
            else:
                out += ch
        elif state == 1:
            if ch in (b"\r", b" ", b"\t"):
                state = 2
            else:
                out += ch
                state = 0
        else:
            if ch not in (b"\r", b" ", b"\t"):
                out += b" " + ch
                state = 0
    return bytes(out)
