"""The SQLite event store: dedup by uuid, all-or-nothing batches, filters."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analytics.events import CapturedEvent
from analytics.store import EventStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make(uuid_int: int, event: str = "$pageview", distinct_id: str = "u1", **props: Any) -> CapturedEvent:
    return CapturedEvent(
        uuid=f"00000000-0000-0000-0000-{uuid_int:012d}",
        event=event,
        distinct_id=distinct_id,
        timestamp=T0 + timedelta(seconds=uuid_int),
        properties=props,
        token="tok",
    )


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = EventStore(tmp_path / "sub" / "events.sqlite")
    yield s
    s.close()


def test_insert_dedups_by_uuid_and_round_trips(store: EventStore) -> None:
    assert store.insert([make(1, plan="Basic"), make(2, "video_started")]) == 2
    assert store.insert([make(2, "video_started"), make(3)]) == 1
    assert store.count() == 3
    first = store.query(limit=1)[0]
    assert first == make(1, plan="Basic")
    assert first.timestamp.tzinfo is not None


def test_wal_mode(store: EventStore, tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "sub" / "events.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_failing_batch_stores_nothing(store: EventStore) -> None:
    bad = CapturedEvent(uuid="x", event=None, distinct_id="u", timestamp=T0)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        store.insert([make(1), make(2), bad])
    assert store.count() == 0
    assert store.insert([make(1)]) == 1


def test_filters(store: EventStore) -> None:
    store.insert(
        [
            make(1, "a", "u1", hogfleet_session_id="s1", is_synthetic=True, n=3),
            make(2, "b", "u1", hogfleet_session_id="s2"),
            make(3, "a", "u2", hogfleet_session_id="s1", **{"dotted.key": "v"}),
        ]
    )
    assert [e.uuid[-1] for e in store.query(distinct_id="u1")] == ["1", "2"]
    assert [e.uuid[-1] for e in store.query(event="a")] == ["1", "3"]
    assert [e.uuid[-1] for e in store.query(since=T0 + timedelta(seconds=2))] == ["2", "3"]
    assert [e.uuid[-1] for e in store.query(properties={"hogfleet_session_id": "s1"})] == ["1", "3"]
    assert [e.uuid[-1] for e in store.query(properties={"is_synthetic": "true"})] == ["1"]
    assert [e.uuid[-1] for e in store.query(properties={"n": "3"})] == ["1"]
    assert [e.uuid[-1] for e in store.query(properties={"dotted.key": "v"})] == ["3"]
    assert store.query(properties={"hogfleet_session_id": "s1", "n": "4"}) == []
    assert [e.uuid[-1] for e in store.query(limit=1, offset=1)] == ["2"]
    assert store.count_by_event() == {"a": 2, "b": 1}
    assert store.count_by_event(properties={"hogfleet_session_id": "s1"}) == {"a": 2}
    assert store.count_by_event(distinct_id="u1", since=T0 + timedelta(seconds=2)) == {"b": 1}


def test_concurrent_inserts_from_threads(store: EventStore) -> None:
    def worker(base: int) -> None:
        for i in range(20):
            store.insert([make(base + i * 10 + k) for k in range(10)])

    threads = [threading.Thread(target=worker, args=(n * 1000,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 4 * 200
