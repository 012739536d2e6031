"""``hogfleet merge``: fold the shard ledgers of a day into personas.json (after ``run --shard``).

The folding and the storage-state clean-up are bots/scaleout/shard_merge.py; this is the command line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bots.cli.options import StateDirOpt, StorageDirOpt, parse_date
from bots.records.storage import StorageStates, default_dir
from bots.scaleout.shard_merge import dates_with_ledgers, merge_day
from personas.errors import HogfleetError
from personas.store import StateStore, default_state_dir


def merge(
    date: Annotated[
        str | None, typer.Option(help="day to merge, YYYY-MM-DD (default: every day with ledgers)")
    ] = None,
    state_dir: StateDirOpt = None,
    storage_dir: StorageDirOpt = None,
) -> None:
    """Fold every ledger of a day (unsharded and ledger.shard-KofN.jsonl) into personas.json."""
    store = StateStore(state_dir or default_state_dir())
    storage = StorageStates(storage_dir or default_dir())
    if not store.personas_path.exists():
        raise HogfleetError(f"no personas.json in {store.root}: run `hogfleet plan` first")
    days = [parse_date(date)] if date else dates_with_ledgers(store.root)
    with store.lock():
        for day in days:
            typer.echo(merge_day(store, storage, day, required=date is not None).describe())
