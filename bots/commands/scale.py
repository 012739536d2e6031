"""``hogfleet merge``: fold the shard ledgers of a day into personas.json (after ``run --shard``).

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
from pathlib import Path
from typing import Annotated

import typer

from bots.ledger import DONE, day_records
from bots.options import parse_date
from bots.outcomes import fold_day
from bots.storage import StorageStates, default_dir
from personas.errors import HogfleetError
from personas.store import StateStore, default_state_dir


def _dates_with_ledgers(root: Path) -> list[dt.date]:
    out = []
    for folder in sorted((root / "runs").glob("*")):
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if any(folder.glob("ledger*.jsonl")):
            out.append(day)
    return out


def merge(
    date: Annotated[
        str | None, typer.Option(help="day to merge, YYYY-MM-DD (default: every day with ledgers)")
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="state dir (default: .hogfleet or HOGFLEET_STATE_DIR)")
    ] = None,
    storage_dir: Annotated[
        Path | None,
        typer.Option(help="storage states dir (default: storage_states/ or HOGFLEET_STORAGE_DIR)"),
    ] = None,
) -> None:
    """Fold every ledger of a day (unsharded and ledger.shard-KofN.jsonl) into personas.json."""
    store = StateStore(state_dir or default_state_dir())
    storage = StorageStates(storage_dir or default_dir())
    if not store.personas_path.exists():
        raise HogfleetError(f"no personas.json in {store.root}: run `hogfleet plan` first")
    days = [parse_date(date)] if date else _dates_with_ledgers(store.root)
    with store.lock():
        for day in days:
            records = day_records(store.root, day)
            if date and not records:
                raise HogfleetError(f"no ledgers for {day} in {store.root / 'runs' / day.isoformat()}")
            shards = sorted({r.shard or "-" for r in records})
            applied = fold_day(store, day)
            deleted = sorted({r.persona for r in records if r.kind == "deletion" and r.outcome in DONE})
            gone = [d for d in deleted if storage.path(d).exists()]
            for distinct_id in gone:
                storage.delete(distinct_id)
            typer.echo(
                f"{day}: {applied} session(s) folded from {len(records)} ledger line(s) "
                f"({', '.join(s if s != '-' else 'unsharded' for s in shards)})"
                + (f"; {len(gone)} deleted account(s)' storage state removed" if gone else "")
            )


def register(app: typer.Typer) -> None:
    app.command("merge")(merge)
