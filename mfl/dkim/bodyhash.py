"""Body hashes fed by chunks: one canonicaliser per method, shared by every
hash (algorithm, l= limit) that uses it."""
from __future__ import annotations

import hashlib

from .canon import CANONS, BodyCanon


class BodyHash:
    """One body hash: a hash algorithm and an optional l= limit."""

    __slots__ = ("method", "hash_name", "limit", "_h", "hashed", "total")

    def __init__(self, method: str, hash_name: str, limit: int | None = None):
        self.method = method
        self.hash_name = hash_name
        self.limit = limit
        self._h = hashlib.new(hash_name)
        self.hashed = 0      # canonical bytes hashed
        self.total = 0       # canonical body length

    def _update(self, data: bytes) -> None:
        n = len(data)
        self.total += n
        if self.limit is None:
            self._h.update(data)
            self.hashed += n
        elif self.hashed < self.limit:
            take = data[:self.limit - self.hashed]
            self._h.update(take)
            self.hashed += len(take)

    def digest(self) -> bytes:
        return self._h.digest()


class BodyHashers:
    """A set of BodyHash objects fed the same body."""

    def __init__(self):
        self._canons: dict[str, BodyCanon] = {}
        self._by_method: dict[str, list[BodyHash]] = {}
        self._index: dict[tuple, BodyHash] = {}

    def add(self, method: str, hash_name: str, limit: int | None = None) -> BodyHash:
        key = (method, hash_name, limit)
        bh = self._index.get(key)
        if bh is None:
            if method not in CANONS:
                raise ValueError(method)
            bh = BodyHash(method, hash_name, limit)
            self._index[key] = bh
            if method not in self._canons:
                self._canons[method] = BodyCanon(method)
            self._by_method.setdefault(method, []).append(bh)
        return bh

    def update(self, chunk: bytes) -> None:
        if not chunk:
            return
        for method, canon in self._canons.items():
            data = canon.update(chunk)
            if data:
                for bh in self._by_method[method]:
                    bh._update(data)

    def finish(self) -> None:
        for method, canon in self._canons.items():
            data = canon.finish()
            if data:
                for bh in self._by_method[method]:
                    bh._update(data)
