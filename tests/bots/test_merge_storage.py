"""``hogfleet merge`` removes the storage state of every account a shard ledger says was deleted.

The GitHub Actions merge job starts from the planned state (yesterday's storage states included)
and copies the shards' artifacts over it; a file a shard deleted is simply absent from the
artifact, so without this the deleted persona's session cookies would be cached for ever.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bots.cli import main
from bots.records.ledger import Ledger, LedgerRecord, ledger_path
from bots.records.storage import StorageStates

DAY = dt.date(2026, 3, 2)


def _record(persona: str, kind: str, outcome: str, shard: str) -> LedgerRecord:
    at = dt.datetime(2026, 3, 2, 20, tzinfo=dt.UTC)
    return LedgerRecord(
        date=DAY,
        run_id="r1",
        persona=persona,
        session_id=f"{kind}-{persona}",
        kind=kind,  # type: ignore[arg-type]
        started_at=at,
        ended_at=at + dt.timedelta(seconds=3),
        outcome=outcome,  # type: ignore[arg-type]
        shard=shard,
    )


def test_merge_removes_deleted_accounts_storage_states_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, ss = tmp_path / "state", tmp_path / "ss"
    assert main(["plan", "--date", DAY.isoformat(), "--seed", "5", "--state-dir", str(state)]) == 0
    storage = StorageStates(ss)
    for persona in ("p_gone", "p_failed_delete", "p_active"):
        storage.save(persona, {"cookies": [], "origins": []})
    Ledger(ledger_path(state, DAY, "1/2")).append(_record("p_gone", "deletion", "ok", "1/2"))
    Ledger(ledger_path(state, DAY, "2/2")).append(_record("p_failed_delete", "deletion", "failed", "2/2"))
    Ledger(ledger_path(state, DAY, "2/2")).append(_record("p_active", "session", "ok", "2/2"))
    capsys.readouterr()

    argv = ["merge", "--date", DAY.isoformat(), "--state-dir", str(state), "--storage-dir", str(ss)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 deleted account(s)' storage state removed" in out, out
    assert not storage.path("p_gone").exists()
    # A deletion that failed is retried tomorrow: that persona must still be able to log in.
    assert storage.path("p_failed_delete").exists() and storage.path("p_active").exists()

    assert main(argv) == 0  # idempotent: nothing left to remove, nothing else touched
    assert "removed" not in capsys.readouterr().out
    assert sorted(p.name for p in ss.iterdir()) == ["p_active.json", "p_failed_delete.json"]
