"""SQLite event store of the capture endpoint: deduplicated by uuid, every batch all-or-nothing."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from analytics.events import CapturedEvent
from analytics.recordings import RecordingChunk

log = logging.getLogger("analytics.store")

# Checkpointing the WAL fsyncs; done inline it would stall inserts (and the event loop) every ~1000 pages,
# so a background thread does it. The autocheckpoint stays as a backstop should that thread fall behind.
CHECKPOINT_INTERVAL_S = 1.0
_AUTOCHECKPOINT_PAGES = 50_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    uuid TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    distinct_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    properties TEXT NOT NULL,
    received_at TEXT NOT NULL,
    token TEXT
);
CREATE INDEX IF NOT EXISTS events_distinct_id ON events (distinct_id, timestamp);
CREATE INDEX IF NOT EXISTS events_event ON events (event, timestamp);
CREATE INDEX IF NOT EXISTS events_timestamp ON events (timestamp);
CREATE TABLE IF NOT EXISTS recordings (
    uuid TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    window_id TEXT,
    distinct_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    event_count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    first_ms INTEGER,
    last_ms INTEGER,
    data TEXT NOT NULL,
    received_at TEXT NOT NULL,
    token TEXT
);
CREATE INDEX IF NOT EXISTS recordings_session ON recordings (session_id, timestamp);
CREATE INDEX IF NOT EXISTS recordings_distinct_id ON recordings (distinct_id, timestamp);
"""

# Not INSERT OR IGNORE: that would also silently drop rows violating NOT NULL, i.e. half-store a batch.
_INSERT = (
    "INSERT INTO events (uuid, event, distinct_id, timestamp, properties, received_at, token) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO NOTHING"
)


_INSERT_RECORDING = (
    "INSERT INTO recordings (uuid, session_id, window_id, distinct_id, timestamp, event_count, bytes, "
    "first_ms, last_ms, data, received_at, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (uuid) DO NOTHING"
)
_RECORDING_COLUMNS = (
    "uuid, session_id, window_id, distinct_id, timestamp, event_count, bytes, first_ms, last_ms, token"
)


class StoreError(Exception):
    """The event store cannot be opened or written."""


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    """One recorded session as seen under one distinct id: its chunks and rrweb events added up."""

    session_id: str
    distinct_id: str
    chunks: int
    event_count: int
    size: int
    first_ms: int | None
    last_ms: int | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A captured event plus when the endpoint received it."""

    event: CapturedEvent
    received_at: datetime


def _iso(ts: datetime) -> str:
    # A fixed-width UTC form, so that text comparison in SQL orders like time does.
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class EventStore:
    """One connection guarded by a lock: inserts are one short transaction, so contention is brief."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a process crash (not a power loss), and is what makes ingest fast.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open event store {self.path}: {exc}") from None
        self._lock = threading.Lock()
        self._closed = False
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if str(path) != ":memory:":
            self._conn.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name=f"checkpoint-{self.path.name}", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_INTERVAL_S):
                try:
                    # PASSIVE never blocks the writer; whatever it cannot copy now it copies next time.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
        finally:
            conn.close()

    def insert(self, events: Sequence[CapturedEvent]) -> int:
        """Store a batch in one transaction; returns how many were new (the rest were duplicate uuids)."""
        if not events:
            return 0
        received = _iso(datetime.now(UTC))
        rows = [_event_row(e, received) for e in events]
        with self._lock:
            before = self._conn.total_changes
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(_INSERT, rows)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            return self._conn.total_changes - before

    def insert_batch(self, events: Sequence[CapturedEvent], chunks: Sequence[RecordingChunk]) -> int:
        """Store a request's events and recording chunks in one transaction; returns how many were new."""
        received = _iso(datetime.now(UTC))
        rows = [_event_row(e, received) for e in events]
        recording_rows = [
            (
                c.uuid,
                c.session_id,
                c.window_id,
                c.distinct_id,
                _iso(c.timestamp),
                c.event_count,
                c.size,
                c.first_ms,
                c.last_ms,
                orjson.dumps(c.data, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode(),
                received,
                c.token,
            )
            for c in chunks
        ]
        if not rows and not recording_rows:
            return 0
        with self._lock:
            before = self._conn.total_changes
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(_INSERT, rows)
                self._conn.executemany(_INSERT_RECORDING, recording_rows)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            return self._conn.total_changes - before

    def query_recordings(
        self,
        session_id: str | None = None,
        distinct_id: str | None = None,
        *,
        limit: int = 1000,
        offset: int = 0,
        with_data: bool = True,
    ) -> list[RecordingChunk]:
        """Recording chunks matching every given filter, oldest first (`data` empty unless `with_data`)."""
        where, params = _recording_where(session_id, distinct_id)
        columns = _RECORDING_COLUMNS + (", data" if with_data else "")
        sql = f"SELECT {columns} FROM recordings{where} ORDER BY timestamp, rowid LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._conn.execute(sql, [*params, max(0, limit), max(0, offset)]).fetchall()
        return [
            RecordingChunk(
                uuid=r[0],
                session_id=r[1],
                window_id=r[2],
                distinct_id=r[3],
                timestamp=datetime.fromisoformat(r[4]),
                event_count=int(r[5]),
                size=int(r[6]),
                first_ms=r[7],
                last_ms=r[8],
                token=r[9],
                data=orjson.loads(r[10]) if with_data else [],
            )
            for r in rows
        ]

    def recording_sessions(
        self, session_id: str | None = None, distinct_id: str | None = None
    ) -> list[RecordingSummary]:
        """Per recorded session (and distinct id, which changes on identify): chunks and sizes."""
        where, params = _recording_where(session_id, distinct_id)
        sql = (
            "SELECT session_id, distinct_id, COUNT(*), SUM(event_count), SUM(bytes), MIN(first_ms), "
            f"MAX(last_ms) FROM recordings{where} GROUP BY session_id, distinct_id "
            "ORDER BY MIN(timestamp), session_id"
        )
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [
            RecordingSummary(
                session_id=r[0],
                distinct_id=r[1],
                chunks=int(r[2]),
                event_count=int(r[3]),
                size=int(r[4]),
                first_ms=r[5],
                last_ms=r[6],
            )
            for r in rows
        ]

    def count_recordings_by_distinct_id(self) -> dict[str, int]:
        """How many sessions were recorded under each distinct id."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT distinct_id, COUNT(DISTINCT session_id) FROM recordings "
                "GROUP BY distinct_id ORDER BY distinct_id"
            ).fetchall()
        return {str(d): int(n) for d, n in rows}

    def recording_count(self) -> int:
        """Stored recording chunks (`$snapshot` events)."""
        with self._lock:
            (n,) = self._conn.execute("SELECT COUNT(*) FROM recordings").fetchone()
        return int(n)

    def query(
        self,
        distinct_id: str | None = None,
        event: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        properties: Mapping[str, str] | None = None,
        *,
        offset: int = 0,
    ) -> list[CapturedEvent]:
        """Events matching every given filter, oldest first."""
        rows = self.query_stored(distinct_id, event, since, limit, properties, offset=offset)
        return [r.event for r in rows]

    def query_stored(
        self,
        distinct_id: str | None = None,
        event: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        properties: Mapping[str, str] | None = None,
        *,
        offset: int = 0,
    ) -> list[StoredEvent]:
        where, params = _where(distinct_id, event, since, properties)
        sql = (
            "SELECT uuid, event, distinct_id, timestamp, properties, token, received_at FROM events"
            f"{where} ORDER BY timestamp, rowid LIMIT ? OFFSET ?"
        )
        with self._lock:
            rows = self._conn.execute(sql, [*params, max(0, limit), max(0, offset)]).fetchall()
        return [
            StoredEvent(
                event=CapturedEvent(
                    uuid=r[0],
                    event=r[1],
                    distinct_id=r[2],
                    timestamp=datetime.fromisoformat(r[3]),
                    properties=orjson.loads(r[4]),
                    token=r[5],
                ),
                received_at=datetime.fromisoformat(r[6]),
            )
            for r in rows
        ]

    def count_by_event(
        self,
        distinct_id: str | None = None,
        since: datetime | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> dict[str, int]:
        where, params = _where(distinct_id, None, since, properties)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT event, COUNT(*) FROM events{where} GROUP BY event ORDER BY event", params
            ).fetchall()
        return {str(name): int(n) for name, n in rows}

    def count(self) -> int:
        with self._lock:
            (n,) = self._conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(n)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=30)
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.warning("final WAL checkpoint of %s failed: %s", self.path, exc)
            self._conn.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _event_row(e: CapturedEvent, received: str) -> tuple[Any, ...]:
    return (
        e.uuid,
        e.event,
        e.distinct_id,
        _iso(e.timestamp),
        orjson.dumps(e.properties, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode(),
        received,
        e.token,
    )


def _recording_where(session_id: str | None, distinct_id: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if session_id is not None:
        clauses.append("session_id = ?")
        params.append(session_id)
    if distinct_id is not None:
        clauses.append("distinct_id = ?")
        params.append(distinct_id)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _json_path(key: str) -> str:
    # Quoted labels let keys contain dots or brackets ("$set.email" stays one key).
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _where(
    distinct_id: str | None,
    event: str | None,
    since: datetime | None,
    properties: Mapping[str, str] | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if distinct_id is not None:
        clauses.append("distinct_id = ?")
        params.append(distinct_id)
    if event is not None:
        clauses.append("event = ?")
        params.append(event)
    if since is not None:
        clauses.append("timestamp >= ?")
        params.append(_iso(since))
    for key, value in (properties or {}).items():
        # `->>` matches strings by their text, `->` matches JSON literals: is_synthetic=true, plan_id=3.
        clauses.append("(properties ->> ? = ? OR properties -> ? = ?)")
        path = _json_path(key)
        params.extend([path, value, path, value])
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
