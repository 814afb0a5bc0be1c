"""A collector for expectation-annotated MFL test files (in the style of
Starlark's and Go's ``// ###`` error tests).

A data file (``tests/data/warnings/*.mfl``, ``tests/data/errors/*.mfl``...) is
split into *chunks* at lines consisting of ``---``.  Each chunk is compiled on
its own, as a separate file.  A trailing comment of the form::

    reject           ### "regex"
    reject           ### unreachable: "regex" "another regex"

asserts that a diagnostic (error, warning or note) whose message matches
``regex`` (``re.search``) is reported at that line; an optional ``NAME:``
before a regex also requires the diagnostic's warning code to be NAME (or
its severity, for ``error:`` and ``note:``).  Every expectation must be met
by a distinct diagnostic, and a chunk must produce no other error or warning
(notes are only checked when expected): a chunk without ``###`` must compile
without any diagnostic at all.

Chunks are written padded with empty lines, so that the line numbers of the
diagnostics are those of the data file.

Usage from a test module::

    from mfltest import chunks, check_chunk
    @pytest.mark.parametrize("chunk", chunks("warnings"), ids=str)
    def test_warnings(chunk, tmp_path):
        check_chunk(chunk, tmp_path)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

_MARK = re.compile(r"###(.*)$")
_ITEM = re.compile(r'\s*(?:([A-Za-z][\w-]*)\s*:\s*)?"((?:[^"\\]|\\.)*)"')
_SEP = re.compile(r"^---\s*$")


@dataclass(frozen=True)
class Expect:
    line: int
    regex: str
    code: str | None = None      # warning name, or "error"/"note" for the severity

    def matches(self, d) -> bool:
        if self.code is not None:
            if self.code in ("error", "warning", "note"):
                if d.severity != self.code:
                    return False
            elif d.code != self.code:
                return False
        return d.span.line == self.line and re.search(self.regex, d.message) is not None

    def __str__(self) -> str:
        c = f"{self.code}: " if self.code else ""
        return f"line {self.line}: {c}\"{self.regex}\""


@dataclass
class Chunk:
    path: Path
    start: int                   # 1-based line of the chunk's first line in the data file
    text: str
    expects: list[Expect] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.path.name}:{self.start}"


def parse_expectations(line: str, lineno: int) -> list[Expect]:
    m = _MARK.search(line)
    if not m:
        return []
    rest = m.group(1)
    out = []
    pos = 0
    while True:
        im = _ITEM.match(rest, pos)
        if not im:
            break
        regex = im.group(2).replace('\\"', '"')
        out.append(Expect(lineno, regex, im.group(1)))
        pos = im.end()
    if not out or rest[pos:].strip():
        raise ValueError(f"line {lineno}: malformed ### expectation: {rest.strip()!r}")
    return out


def split_chunks(path: Path) -> list[Chunk]:
    lines = path.read_text().split("\n")
    chunks: list[Chunk] = []
    cur: list[str] = []
    start = 1
    for i, line in enumerate(lines, 1):
        if _SEP.match(line):
            chunks.append(_make(path, start, cur))
            cur = []
            start = i + 1
        else:
            cur.append(line)
    chunks.append(_make(path, start, cur))
    return [c for c in chunks if c.text.strip()]


def _make(path, start, lines) -> Chunk:
    exp = []
    for k, line in enumerate(lines):
        exp.extend(parse_expectations(line, start + k))
    return Chunk(path, start, "\n".join(lines) + "\n", exp)


def chunks(kind: str, pattern: str = "*.mfl") -> list[Chunk]:
    """All chunks of ``tests/data/KIND/*.mfl``, in file order."""
    out: list[Chunk] = []
    for p in sorted((DATA / kind).glob(pattern)):
        out.extend(split_chunks(p))
    return out


def run_chunk(chunk: Chunk, tmp_path: Path, options=None):
    """Compile the chunk (padded to its original line numbers); return its Unit."""
    from mfl.frontend import Options, compile_file
    f = tmp_path / chunk.path.name
    f.write_text("\n" * (chunk.start - 1) + chunk.text)
    return compile_file(str(f), options or Options(use_m4=False))


def failures(chunk: Chunk, unit) -> list[str]:
    """What differs between the chunk's expectations and the unit's diagnostics."""
    diags = list(unit.diags.items)
    problems = []
    used: set[int] = set()
    for e in chunk.expects:
        for k, d in enumerate(diags):
            if k not in used and e.matches(d):
                used.add(k)
                break
        else:
            here = [d for d in diags if d.span.line == e.line]
            got = "; ".join(f"{d.severity}[{d.code}]: {d.message}" for d in here) or "nothing"
            problems.append(f"expected {e}, got {got}")
    for k, d in enumerate(diags):
        if k in used or d.severity == "note":
            continue
        problems.append(f"unexpected {d.severity} at line {d.span.line}"
                        f"{'' if d.span.file.endswith(chunk.path.name) else ' of ' + d.span.file}"
                        f": [{d.code}] {d.message}")
    return problems


def check_chunk(chunk: Chunk, tmp_path: Path, options=None) -> None:
    unit = run_chunk(chunk, tmp_path, options)
    problems = failures(chunk, unit)
    if problems:
        raise AssertionError(f"{chunk.path}:{chunk.start}:\n  " + "\n  ".join(problems))
