"""Fold the shard ledgers of a day into personas.json (after ``run --shard``).

Shards never write personas.json; this is the one step that does, under the state dir's lock.
Folding is idempotent (each session id is folded once), so merging twice, or merging after a
shard was re-run to finish its day, changes nothing that was already folded.

A shard that deletes a churned account removes that persona's storage state from its own copy,
but on GitHub Actions the merge job starts from the planned state and only *overlays* the shards'
artifacts, so the old file would come back to life there. The merge therefore removes the storage
state of every account a ledger says was deleted (a no-op on a shared Kubernetes volume).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bots.records.fold import fold_day
from bots.records.ledger import DONE, day_records
from bots.records.storage import StorageStates
from personas.errors import HogfleetError
from personas.store import StateStore


def dates_with_ledgers(root: Path) -> list[dt.date]:
    out = []
    for folder in sorted((root / "runs").glob("*")):
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if any(folder.glob("ledger*.jsonl")):
            out.append(day)
    return out


@dataclass(frozen=True)
class DayMerge:
    day: dt.date
    folded: int  # sessions folded into personas.json now (0 when merged before)
    lines: int  # ledger lines read
    shards: tuple[str, ...]  # "K/N" of each ledger's shard, "-" for the unsharded one
    storage_removed: int  # deleted accounts whose storage state was removed

    def describe(self) -> str:
        names = ", ".join(s if s != "-" else "unsharded" for s in self.shards)
        text = f"{self.day}: {self.folded} session(s) folded from {self.lines} ledger line(s) ({names})"
        if self.storage_removed:
            text += f"; {self.storage_removed} deleted account(s)' storage state removed"
        return text


def merge_day(store: StateStore, storage: StorageStates, day: dt.date, *, required: bool) -> DayMerge:
    """Fold ``day``'s ledgers into personas.json and drop deleted accounts' storage states.

    The caller holds the state dir's lock. ``required``: a day with no ledger is an error.
    """
    records = day_records(store.root, day)
    if required and not records:
        raise HogfleetError(f"no ledgers for {day} in {store.root / 'runs' / day.isoformat()}")
    applied = fold_day(store, day)
    deleted = sorted({r.persona for r in records if r.kind == "deletion" and r.outcome in DONE})
    gone = [d for d in deleted if storage.path(d).exists()]
    for distinct_id in gone:
        storage.delete(distinct_id)
    shards = tuple(sorted({r.shard or "-" for r in records}))
    return DayMerge(day, applied, len(records), shards, len(gone))
