"""Split a day's plan across machines: ``hogfleet run --shard K/N``.

A persona belongs to shard ``sha256(distinct_id) mod N`` (1-based K = that + 1): stable across
days, machines and Python versions (never ``hash()``, which is salted per process), so a persona's
storage state only ever lives with one shard. The plan itself is shared and read-only; each shard
writes only its own ledger (``ledger.shard-KofN.jsonl``) and its personas' storage states, and
``hogfleet merge`` folds the ledgers into ``personas.json`` afterwards.

Without ``--shard`` the engines people already run are recognised:
- Kubernetes Indexed Jobs: ``JOB_COMPLETION_INDEX`` (0-based) and ``JOB_COMPLETIONS``
  (set it in the pod spec from the Job's ``completions``; Kubernetes only sets the index);
- a GitHub Actions matrix (or anything else): ``HOGFLEET_SHARD_INDEX`` (0-based) and
  ``HOGFLEET_SHARD_TOTAL``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from personas.errors import HogfleetError
from personas.plans import DayPlan, Identity
from personas.store import StateStore

USAGE = "--shard must be K/N with 1 <= K <= N (e.g. --shard 2/3)"
_SHAPE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    def __post_init__(self) -> None:
        if not (1 <= self.index <= self.total):
            raise HogfleetError(f"{USAGE}: got {self.index}/{self.total}")

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def owns(self, distinct_id: str) -> bool:
        return shard_of(distinct_id, self.total) == self.index


def shard_of(distinct_id: str, total: int) -> int:
    """The 1-based shard a persona belongs to among ``total``."""
    digest = hashlib.sha256(distinct_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def parse_shard(text: str) -> Shard:
    match = _SHAPE.fullmatch(text)
    if not match:
        raise HogfleetError(f"{USAGE}: got {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))


def _env_pair(env: Mapping[str, str], index_key: str, total_key: str) -> Shard | None:
    raw_index, raw_total = env.get(index_key, "").strip(), env.get(total_key, "").strip()
    if not raw_index and not raw_total:
        return None
    if not raw_index or not raw_total:
        missing = total_key if raw_index else index_key
        raise HogfleetError(f"{index_key} and {total_key} go together: {missing} is not set")
    try:
        index, total = int(raw_index), int(raw_total)
    except ValueError:
        raise HogfleetError(f"{index_key}={raw_index!r} / {total_key}={raw_total!r}: not integers") from None
    if not (0 <= index < total):
        raise HogfleetError(f"{index_key}={index} is outside 0..{total_key}-1 ({total - 1})")
    return Shard(index + 1, total)


def resolve_shard(flag: str | None, env: Mapping[str, str] | None = None) -> Shard | None:
    """``--shard`` if given, else an Indexed Job's or a matrix's index, else None (unsharded)."""
    if flag is not None:
        return parse_shard(flag)
    env = os.environ if env is None else env
    found = _env_pair(env, "HOGFLEET_SHARD_INDEX", "HOGFLEET_SHARD_TOTAL")
    if found is None and env.get("JOB_COMPLETION_INDEX", "").strip():
        found = _env_pair(env, "JOB_COMPLETION_INDEX", "JOB_COMPLETIONS")
    if found is not None and found.total == 1:
        return None  # one shard of one is the unsharded run: keep its ledger and fold
    return found


class _HasIdentity(Protocol):
    @property
    def identity(self) -> Identity: ...


T = TypeVar("T", bound=_HasIdentity)


def select(items: Iterable[T], shard: Shard | None) -> list[T]:
    return [i for i in items if shard is None or shard.owns(i.identity.distinct_id)]


@contextmanager
def state_lock(store: StateStore, date: dt.date, shard: Shard | None) -> Iterator[None]:
    """The unsharded run holds the state dir's exclusive lock (it plans and folds); a shard only
    excludes a second process of the same shard, so N shards run side by side on one volume."""
    if shard is None:
        with store.lock():
            yield
        return
    folder = store.root / "runs" / date.isoformat()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"shard-{shard.index}of{shard.total}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HogfleetError(f"shard {shard} of {date} is already running ({path} is locked)") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def stored_plan(store: StateStore, date: dt.date) -> DayPlan:
    """A shard never plans (planning writes personas.json, which shards must not touch)."""
    plan = store.load_plan(date)
    if plan is None:
        raise HogfleetError(
            f"no plan for {date} in {store.root}: run `hogfleet plan --date {date}` once before the shards"
        )
    return plan
