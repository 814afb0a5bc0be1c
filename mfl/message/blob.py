"""Byte storage with bounded memory: small contents in memory, large ones in a temporary file.

A ``Blob`` is an immutable run of bytes.  Up to ``SPILL_THRESHOLD`` bytes it
is a ``bytes`` object; beyond that it lives in an anonymous temporary file
(``tempfile.TemporaryFile``), so a 50 MB body costs a few kilobytes of memory.
``Blob.slice`` makes views (MIME parts are slices of their parent's body)
without copying.  Reading is by chunks (``chunks``), by lines (``lines``), or
all at once (``read`` -- only for callers that know the size is small).
"""
from __future__ import annotations

import os
import tempfile
import threading
from typing import BinaryIO, Iterator

SPILL_THRESHOLD = 1 << 20          # bytes kept in memory before spilling to disk
CHUNK = 1 << 16


class _FileStore:
    """A temporary file shared by the blobs that are views of it."""

    __slots__ = ("fp", "lock", "__weakref__")

    def __init__(self, fp: BinaryIO):
        self.fp = fp
        self.lock = threading.Lock()

    def pread(self, offset: int, n: int) -> bytes:
        fd = self.fp.fileno()
        if hasattr(os, "pread"):
            out = bytearray()
            while n > 0:
                b = os.pread(fd, n, offset)
                if not b:
                    break
                out += b
                offset += len(b)
                n -= len(b)
            return bytes(out)
        with self.lock:                                 # pragma: no cover - non-POSIX
            self.fp.seek(offset)
            return self.fp.read(n)

    def __del__(self):
        try:
            self.fp.close()
        except Exception:                               # noqa: BLE001
            pass


class Blob:
    """An immutable byte string, in memory or in a temporary file."""

    __slots__ = ("_mem", "_store", "_start", "_len")

    def __init__(self, data: bytes = b"", *, _store=None, _start=0, _len=None):
        if _store is None:
            self._mem = bytes(data)
            self._store = None
            self._start = 0
            self._len = len(self._mem)
        else:
            self._mem = None
            self._store = _store
            self._start = _start
            self._len = _len

    # ---------------------------------------------------------------- building
    @classmethod
    def from_chunks(cls, chunks, threshold: int = SPILL_THRESHOLD) -> "Blob":
        """Collect CHUNKS (an iterable of bytes), spilling to disk past THRESHOLD."""
        buf = bytearray()
        fp = None
        total = 0
        for c in chunks:
            if not c:
                continue
            total += len(c)
            if fp is None:
                buf += c
                if len(buf) > threshold:
                    fp = tempfile.TemporaryFile(prefix="mflmsg.")
                    fp.write(buf)
                    buf = bytearray()
            else:
                fp.write(c)
        if fp is None:
            return cls(bytes(buf))
        fp.flush()
        return cls(_store=_FileStore(fp), _start=0, _len=total)

    @classmethod
    def from_file(cls, fp: BinaryIO, threshold: int = SPILL_THRESHOLD) -> "Blob":
        """The rest of the binary file FP."""
        return cls.from_chunks(iter(lambda: fp.read(CHUNK), b""), threshold)

    @classmethod
    def concat(cls, parts, threshold: int = SPILL_THRESHOLD) -> "Blob":
        def gen():
            for p in parts:
                if isinstance(p, Blob):
                    yield from p.chunks()
                else:
                    yield p
        return cls.from_chunks(gen(), threshold)

    # ---------------------------------------------------------------- access
    def __len__(self) -> int:
        return self._len

    @property
    def in_memory(self) -> bool:
        return self._store is None

    def read(self, offset: int = 0, n: int | None = None) -> bytes:
        """Bytes [OFFSET, OFFSET+N) (all the rest when N is None)."""
        if offset < 0:
            offset = 0
        if offset >= self._len:
            return b""
        end = self._len if n is None else min(self._len, offset + max(0, n))
        if self._store is None:
            return self._mem[offset:end]
        return self._store.pread(self._start + offset, end - offset)

    def slice(self, start: int, end: int | None = None) -> "Blob":
        end = self._len if end is None else max(0, min(end, self._len))
        start = max(0, min(start, end))
        if self._store is None:
            return Blob(self._mem[start:end])
        return Blob(_store=self._store, _start=self._start + start, _len=end - start)

    def chunks(self, size: int = CHUNK, start: int = 0) -> Iterator[bytes]:
        off = start
        while off < self._len:
            c = self.read(off, size)
            if not c:
                break
            off += len(c)
            yield c

    def lines(self, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """(offset, line) pairs; each line keeps its b"\\n" (the last one may lack it)."""
        if self._store is None:
            data = self._mem
            off = start
            n = len(data)
            while off < n:
                j = data.find(b"\n", off)
                end = n if j < 0 else j + 1
                yield off, data[off:end]
                off = end
            return
        pending = b""
        pos = start
        for c in self.chunks(start=start):
            pending += c
            i = 0
            while True:
                j = pending.find(b"\n", i)
                if j < 0:
                    break
                yield pos, pending[i:j + 1]
                pos += j + 1 - i
                i = j + 1
            pending = pending[i:]
        if pending:
            yield pos, pending

    def count(self, byte: bytes = b"\n") -> int:
        if self._store is None:
            return self._mem.count(byte)
        return sum(c.count(byte) for c in self.chunks())

    def find(self, needle: bytes, start: int = 0) -> int:
        """Offset of NEEDLE at or after START, or -1."""
        if self._store is None:
            return self._mem.find(needle, start)
        keep = len(needle) - 1
        prev = b""
        base = start
        for c in self.chunks(start=start):
            buf = prev + c
            i = buf.find(needle)
            if i >= 0:
                return base - len(prev) + i
            prev = buf[-keep:] if keep else b""
            base += len(c)
        return -1

    def endswith(self, suffix: bytes) -> bool:
        if len(suffix) > self._len:
            return False
        return self.read(self._len - len(suffix)) == suffix

    def write_to(self, fp: BinaryIO) -> int:
        n = 0
        for c in self.chunks():
            fp.write(c)
            n += len(c)
        return n

    def __eq__(self, other) -> bool:
        if isinstance(other, (bytes, bytearray)):
            return len(other) == self._len and self.read() == bytes(other)
        if isinstance(other, Blob):
            if len(other) != self._len:
                return False
            return all(a == b for a, b in zip(self.chunks(), other.chunks(CHUNK)))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        where = "memory" if self._store is None else "file"
        return f"<Blob {self._len} bytes in {where}>"
