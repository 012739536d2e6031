"""Deterministic randomness: every draw comes from a stream derived by hashing what it is for.

A stream is keyed by ``(seed, date, purpose, distinct_id)`` and hashed with SHA-256 (never Python's
``hash()``, which is salted per process). A persona's draws therefore depend only on its own id, the
run seed and the day: not on which other personas exist, nor on iteration order, nor on sharding.

:class:`DerivedRandom` is a :class:`random.Random` whose bits come from the SHA-256 counter stream
instead of a Mersenne Twister. Seeding an MT costs ~4 µs, which alone would cap the simulation well
below its 100,000 persona-days/s target; hashing costs ~0.4 µs. All of ``random.Random``'s methods
(randint, choice, choices, gauss, shuffle...) work on top of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import struct
from typing import Any

_TWO53 = 9007199254740992.0
_INV53 = 1.0 / _TWO53
_UNPACK4 = struct.Struct("<4Q").unpack


def key_prefix(seed: int, date: dt.date | None, purpose: str) -> bytes:
    """The shared part of a stream key; append a distinct_id (or nothing) with :func:`stream`."""
    day = date.isoformat() if date is not None else "-"
    return f"hogfleet|{seed}|{day}|{purpose}|".encode()


class DerivedRandom(random.Random):
    """A ``random.Random`` fed by SHA-256(key || block counter)."""

    def __init__(self, key: bytes) -> None:  # no super().__init__: there is no MT state to seed
        self._key = key
        self._buf = hashlib.sha256(key).digest()
        self._vals = _UNPACK4(self._buf)
        self._pos = 0
        self._block = 0
        self.gauss_next: float | None = None  # random.Random.gauss keeps its spare value here

    def seed(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover - the key is the seed
        raise TypeError("DerivedRandom is seeded by its key")

    def random(self) -> float:
        pos = self._pos
        if pos >= 32:
            self._refill()
            pos = 0
        self._pos = pos + 8
        value: float = (self._vals[pos >> 3] >> 11) * _INV53
        return value

    def _refill(self) -> None:
        self._block += 1
        self._buf = hashlib.sha256(self._key + self._block.to_bytes(8, "little")).digest()
        self._vals = _UNPACK4(self._buf)

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        out = 0
        got = 0
        while got < k:
            out |= (int.from_bytes(self._next8(), "little")) << got
            got += 64
        return out & ((1 << k) - 1)

    def _next8(self) -> bytes:
        pos = self._pos
        if pos >= 32:
            self._refill()
            pos = 0
        self._pos = pos + 8
        return self._buf[pos : pos + 8]

    def getstate(self) -> Any:  # pragma: no cover
        return (self._key, self._block, self._pos)

    def setstate(self, state: Any) -> None:  # pragma: no cover
        self._key, self._block, self._pos = state
        self._buf = hashlib.sha256(
            self._key + (self._block.to_bytes(8, "little") if self._block else b"")
        ).digest()
        self._vals = _UNPACK4(self._buf)

    def seed_int(self) -> int:
        """A 63-bit seed for a further stream (e.g. the per-session seed the fleet uses)."""
        return int.from_bytes(self._next8(), "little") >> 1


def stream(seed: int, distinct_id: str, date: dt.date | None, purpose: str) -> DerivedRandom:
    return DerivedRandom(key_prefix(seed, date, purpose) + distinct_id.encode())


def population_rng(seed: int, date: dt.date | None, purpose: str = "population") -> DerivedRandom:
    return DerivedRandom(key_prefix(seed, date, purpose))


def weighted_pick(rng: random.Random, items: tuple[Any, ...], cumulative: tuple[float, ...]) -> Any:
    """Pick ``items[i]`` with ``cumulative`` the running totals of the weights."""
    x = rng.random() * cumulative[-1]
    for item, edge in zip(items, cumulative, strict=True):
        if x < edge:
            return item
    return items[-1]
