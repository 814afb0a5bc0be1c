"""mfl.message: byte-exact parsing, MIME views, applying the modification queue, bad input.

The property tests (hypothesis) check that

* any byte string parses and serializes back to itself (no byte of an
  unmodified message changes, whatever it contains);
* applying a queue of header and body edits with ``mfl.message.apply``
  equals making the same edits directly on the message's lines (a
  deliberately naive reference written here, on the text).
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfl.message import Blob, Edit, Envelope, Message, apply
from mfl.message import mu

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "messages"


# ------------------------------------------------------------------ round trip

@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.eml")) + ["sample.mbox"])
def test_files_round_trip(name):
    data = (DATA / name).read_bytes()
    m = Message.parse(data)
    assert m.to_bytes() == data
    out = io.BytesIO()
    m.write_to(out)
    assert out.getvalue() == data
    assert apply(m, []).to_bytes() == data


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_round_trip(data):
    m = Message.parse(data)
    assert m.to_bytes() == data
    assert apply(m, []).to_bytes() == data


_line = st.sampled_from([b"Subject: hi", b"X-A:b", b"x-a: c", b"  folded", b"\tmore", b"",
                         b"From x@y Mon", b"no colon here", b"X-N: a\0b", b"X-CR: a\rb",
                         b"--b", b"--b--", b"Content-Type: multipart/mixed; boundary=b",
                         b"\xff\xfe: 8bit", b"body text"])


@settings(max_examples=300)
@given(st.lists(st.tuples(_line, st.sampled_from([b"\n", b"\r\n", b"\r"])), max_size=25),
       st.booleans())
def test_line_soup_round_trip(lines, final_eol):
    data = b"".join(a + b for a, b in lines)
    if not final_eol and data.endswith(b"\n"):
        data = data[:-1]
    m = Message.parse(data)
    assert m.to_bytes() == data
    for p in m.walk():              # MIME parsing never fails
        p.content_type()


# ------------------------------------------------------------------ the queue

NAMES = ["Subject", "X-A", "x-a", "X-B", "Received"]


@st.composite
def messages(draw):
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    fields = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(NAMES)).encode()
        value = draw(st.sampled_from([b" v1", b"v2", b" folded" + eol + b"\tcont", b"", b"  sp"]))
        fields.append(name + b":" + value + eol)
    body = draw(st.sampled_from([b"", b"body" + eol, b"a" + eol + b"b" + eol, b"no eol"]))
    return b"".join(fields) + eol + body


@st.composite
def edits(draw):
    out = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["add_header", "insert_header", "replace_header",
                                     "delete_header", "replace_body"]))
        name = draw(st.sampled_from(NAMES))
        value = draw(st.sampled_from(["new", "two\n\tlines", "", "x y"]))
        index = draw(st.integers(0, 5))
        if kind == "delete_header":
            value = None
        if kind == "replace_body":
            name, value = "BODY", draw(st.sampled_from(["r1\n", "r2\nline\n", "no eol"]))
        out.append(Edit(kind, name, value, index))
    return out


def _reference(data: bytes, queue) -> bytes:
    """The edits made directly on the text: a list of field strings and a body."""
    eol = "\r\n" if b"\r\n" in data.split(b"\n", 1)[0] + b"\n" else "\n"
    text = data.decode("latin-1")
    head, _, body = text.partition(eol + eol) if not text.startswith(eol) else ("", "", text[len(eol):])
    if text.startswith(eol):
        lines = []
    else:
        head += eol
        lines = re.findall(r"[^\r\n]*" + re.escape(eol) + r"(?:[ \t][^\r\n]*" + re.escape(eol) + ")*",
                           head)
    new_body = None
    last_body = False
    for e in queue:
        fix = (lambda v: v.replace("\n", eol))
        if e.kind != "replace_body":
            last_body = False
        if e.kind == "add_header":
            lines.append(f"{e.name}: {fix(e.value)}{eol}")
        elif e.kind == "insert_header":
            lines.insert(min(e.index, len(lines)), f"{e.name}: {fix(e.value)}{eol}")
        elif e.kind in ("replace_header", "delete_header"):
            idx = [i for i, ln in enumerate(lines)
                   if ln.split(":", 1)[0].lower() == e.name.lower()]
            want = max(1, e.index)
            if not e.value:
                if len(idx) >= want:
                    del lines[idx[want - 1]]
            elif len(idx) >= want:
                lines[idx[want - 1]] = f"{lines[idx[want - 1]].split(':', 1)[0]}: {fix(e.value)}{eol}"
            else:
                lines.append(f"{e.name}: {fix(e.value)}{eol}")
        else:
            new_body = (new_body if last_body else "") + fix(e.value)
            last_body = True
    out = "".join(lines) + eol + (body if new_body is None else new_body)
    return out.encode("latin-1")


@settings(max_examples=400)
@given(messages(), edits())
def test_queue_equals_direct_edits(data, queue):
    got = apply(Message.parse(data), queue).to_bytes()
    assert got == _reference(data, queue)


def test_envelope_changes():
    env = Envelope(sender="a@x", recipients=["b@x", "c@x"])
    q = [Edit("add_rcpt", "d@x", None, 0), Edit("delete_rcpt", "<C@x>", None, 0),
         Edit("set_from", "new@x", "SIZE=1", 0), Edit("quarantine", "why", None, 0)]
    m = Message.parse(b"Subject: s\n\nb\n")
    assert apply(m, q, env).to_bytes() == b"Subject: s\n\nb\n"
    assert env.recipients == ["b@x", "d@x"]
    assert (env.sender, env.sender_args, env.quarantine) == ("new@x", "SIZE=1", "why")


def test_field_without_line_end_gets_one_when_followed():
    m = Message.parse(b"From: a@b\nSubject: no body")
    assert apply(m, []).to_bytes() == b"From: a@b\nSubject: no body"
    assert apply(m, [Edit("add_header", "X", "y")]).to_bytes() == \
        b"From: a@b\nSubject: no body\nX: y\n"
    assert apply(m, [Edit("replace_body", "BODY", "new\n", 0)]).to_bytes() == \
        b"From: a@b\nSubject: no body\n\nnew\n"


def test_crlf_message_keeps_crlf_in_new_lines():
    m = Message.parse(b"A: 1\r\n\r\nbody\r\n")
    out = apply(m, [Edit("add_header", "X", "a\n\tb"), Edit("replace_body", "BODY", "x\ny\n", 0)])
    assert out.to_bytes() == b"A: 1\r\nX: a\r\n\tb\r\n\r\nx\r\ny\r\n"


# ------------------------------------------------------------------ MIME

def test_mime_parts_and_truncation():
    m = Message.load(str(DATA / "nested.eml"))
    assert [p.content_type()[0] for p in m.parts()] == \
        ["multipart/alternative", "message/rfc822", "text/x-custom"]
    assert [p.content_type()[0] for p in m.parts()[0].parts()] == ["text/plain", "text/html"]
    assert m.parts()[0].parts()[0].body == b"plain alternative"
    t = Message.load(str(DATA / "truncated.eml"))
    assert t.truncated and len(t.parts()) == 3
    assert t.parts()[2].body == b"SGVsbG8gd29y"
    c = Message.load(str(DATA / "multipart-crlf.eml"))
    assert [p.content_type()[0] for p in c.parts()] == \
        ["text/plain", "text/html", "application/octet-stream"]
    assert c.parts()[0].body == b"First part, plain text.\r\n"


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("data", [
    b"This is not a header\nSubject: x\n\nbody\n",       # malformed header: body starts there
    b"Subject: a\rb\n\nbare\rCR\n",
    b"Subject: nul\0in header\n\nnul\0body",
    b"Subject: no final newline",
    b"X-\xe9: \xff\n\n8bit\n",
    b"",
    b"\n",
    b"\r\n\r\n",
    b" continuation first\n\nb\n",
])
def test_bad_input_handled(data):
    m = Message.parse(data)
    assert m.to_bytes() == data
    assert apply(m, [Edit("add_header", "X-T", "1")]).to_bytes().count(b"X-T: 1") == 1
    try:
        mm = mu.from_bytes(data)
    except mu.MuError as e:
        assert e.text == mu.MALFORMED
    else:
        assert mm.size >= 0


def test_large_body_spills_and_stays_bounded(tmp_path):
    path = tmp_path / "big.eml"
    line = b"x" * 99 + b"\n"
    with open(path, "wb") as fp:
        fp.write(b"From: a@b\nSubject: big\n\n")
        for _ in range(500_000):                         # 50 MB
            fp.write(line)
    tracemalloc.start()
    m = Message.load(str(path))
    assert not m.body.in_memory and len(m.body) == 50_000_000
    out = apply(m, [Edit("add_header", "X-Big", "1")])
    dest = tmp_path / "out.eml"
    with open(dest, "wb") as fp:
        out.write_to(fp)
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8_000_000, peak
    assert os.path.getsize(dest) == os.path.getsize(path) + len(b"X-Big: 1\n")
    with open(dest, "rb") as fp:
        assert fp.read(40) == b"From: a@b\nSubject: big\nX-Big: 1\n\nxxxxxxx"


def test_blob_views():
    b = Blob.from_chunks([b"abc\n" * 10, b"tail"], threshold=8)
    assert not b.in_memory and len(b) == 44
    assert b.slice(4, 8).read() == b"abc\n"
    assert [ln for _o, ln in b.slice(36).lines()] == [b"abc\n", b"tail"]
    assert b.find(b"tail") == 40 and b.count() == 10
    assert b == Blob(b"abc\n" * 10 + b"tail")


# ------------------------------------------------------------------ the command line

def _mfl(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "mfl.cli.mfl_main", *args], cwd=cwd,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("name", ["simple.eml", "simple-crlf.eml", "nul.eml", "barecr.eml",
                                  "malformed.eml", "headers-only.eml", "eightbit.eml"])
def test_cli_unmodified_message_is_byte_exact(tmp_path, name):
    script = tmp_path / "noop.mfl"
    script.write_text("prog eom\ndo\n  echo \"eom\"\ndone\n")
    out = tmp_path / "out.eml"
    r = _mfl("test", str(script), "--message", str(DATA / name), "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == (DATA / name).read_bytes()
    assert r.stdout.startswith(b"verdict: continue")


def test_cli_applies_queue(tmp_path):
    script = tmp_path / "mods.mfl"
    script.write_text('prog eom\ndo\n  header_add("X-Added", "one")\n'
                      '  header_delete("Received", 2)\n  replbody("New body\\n")\ndone\n')
    out = tmp_path / "out.eml"
    r = _mfl("test", str(script), "--message", str(DATA / "simple-crlf.eml"), "--output", str(out),
             "--rcpt", "bob@example.net")
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert "ADD HEADER X-Added: one 1" in text and "DELETE HEADER Received: (null) 2" in text
    orig = (DATA / "simple-crlf.eml").read_bytes()
    head = orig.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    head = head.replace(b"Received: from localhost by mx.example.org; "
                        b"Mon, 1 Jan 2024 09:59:59 +0000\r\n", b"")
    assert out.read_bytes() == head + b"X-Added: one\r\n\r\nNew body\r\n"


def test_cli_reject_writes_nothing(tmp_path):
    script = tmp_path / "rej.mfl"
    script.write_text('prog envrcpt\ndo\n  reject 550 5.1.1 "no"\ndone\n')
    out = tmp_path / "out.eml"
    r = _mfl("test", str(script), "--message", str(DATA / "simple.eml"), "--output", str(out))
    assert r.returncode == 0
    assert r.stdout.decode().startswith("verdict: reject in envrcpt (550 5.1.1 no)")
    assert not out.exists()


def test_cli_test_mode_unchanged():
    script = REPO / "tests" / "diff" / "run" / "lib_message" / "test_mode_mmq.mfl"
    r = _mfl("test", str(script), "--handler", "eom")
    assert r.returncode == 0
    assert b"ADD RECIPIENT x@example.com: (null) 0" in r.stdout
    assert r.stdout.rstrip().endswith(b"State eom: continue")
