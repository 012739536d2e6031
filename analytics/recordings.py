"""Session-recording chunks: posthog-js' `$snapshot` events, kept apart from analytics events.

posthog-js 1.347.2 (`lib/src/extensions/replay/external/lazy-loaded-session-recorder.js`,
`_captureSnapshot`) sends a `$snapshot` event per flushed buffer to `/s/`, batched and gzipped like any
capture request, with properties `$snapshot_data` (a list of rrweb events), `$snapshot_bytes`,
`$session_id`, `$window_id`. PostHog's own ingestion (and mobile SDKs) use `$snapshot_items` for the
same list. Full snapshots and mutations arrive with some fields gzipped into latin-1 strings and
`cv: "2024-10"` (`compressEvent` in the same file); `decompress_rrweb_event` undoes that for readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from analytics.decoder import DecodeError, gunzip
from analytics.events import CapturedEvent

SNAPSHOT_EVENT = "$snapshot"
SNAPSHOT_EVENTS = frozenset({SNAPSHOT_EVENT, "$snapshot_items"})
RECORDING_PATHS = frozenset({"/s"})
COMPRESSION_VERSION = "2024-10"

# rrweb's EventType.FullSnapshot / IncrementalSnapshot and IncrementalSource.Mutation / StyleSheetRule.
_FULL_SNAPSHOT = 2
_INCREMENTAL = 3
_MUTATION = 0
_STYLESHEET_RULE = 8
_MUTATION_FIELDS = ("texts", "attributes", "removes", "adds")
_STYLESHEET_FIELDS = ("adds", "removes")


@dataclass(frozen=True, slots=True)
class RecordingChunk:
    """One `$snapshot` event: a batch of rrweb events of one window of one session.

    `data` holds the rrweb events exactly as sent; `size` is the byte length of their JSON as stored.
    `first_ms`/`last_ms` are the earliest and latest rrweb timestamps (epoch ms), when present.
    """

    uuid: str
    session_id: str
    window_id: str | None
    distinct_id: str
    timestamp: datetime
    event_count: int
    size: int
    data: list[Any]
    token: str | None = None
    first_ms: int | None = None
    last_ms: int | None = None


def is_snapshot(event: CapturedEvent) -> bool:
    return event.event in SNAPSHOT_EVENTS


def chunk_from_event(event: CapturedEvent) -> RecordingChunk:
    """The recording chunk a `$snapshot` event carries; `DecodeError` when it carries none."""
    props = event.properties
    items = props.get("$snapshot_items")
    if items is None:
        items = props.get("$snapshot_data")
    if isinstance(items, dict):
        items = [items]  # before buffering (posthog-js < 1.100) one rrweb event rode per `$snapshot`
    if not isinstance(items, list) or not items:
        raise DecodeError(f"{event.event} {event.uuid}: no $snapshot_data list of rrweb events")
    if not all(isinstance(item, dict) for item in items):
        raise DecodeError(f"{event.event} {event.uuid}: $snapshot_data holds a non-object")
    session_id = props.get("$session_id")
    if not isinstance(session_id, str) or not session_id:
        raise DecodeError(f"{event.event} {event.uuid}: no $session_id")
    window_id = props.get("$window_id")
    stamps = [t for t in (item.get("timestamp") for item in items) if _is_number(t)]
    return RecordingChunk(
        uuid=event.uuid,
        session_id=session_id,
        window_id=window_id if isinstance(window_id, str) and window_id else None,
        distinct_id=event.distinct_id,
        timestamp=event.timestamp,
        event_count=len(items),
        size=len(orjson.dumps(items)),
        data=items,
        token=event.token,
        first_ms=int(min(stamps)) if stamps else None,
        last_ms=int(max(stamps)) if stamps else None,
    )


def split_events(events: Sequence[CapturedEvent]) -> tuple[list[CapturedEvent], list[RecordingChunk]]:
    """Analytics events and recording chunks of one request (all-or-nothing: bad chunks raise)."""
    plain = [e for e in events if not is_snapshot(e)]
    chunks = [chunk_from_event(e) for e in events if is_snapshot(e)]
    return plain, chunks


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def decompress_rrweb_event(event: dict[str, Any]) -> dict[str, Any]:
    """The rrweb event with posthog-js' per-field gzip undone (unchanged when not compressed)."""
    if event.get("cv") != COMPRESSION_VERSION:
        return event
    out = {k: v for k, v in event.items() if k != "cv"}
    data = event.get("data")
    if event.get("type") == _FULL_SNAPSHOT:
        out["data"] = _inflate(data)
    elif event.get("type") == _INCREMENTAL and isinstance(data, dict):
        source = data.get("source")
        names = _MUTATION_FIELDS if source == _MUTATION else _STYLESHEET_FIELDS
        if source in (_MUTATION, _STYLESHEET_RULE):
            out["data"] = {
                k: (_inflate(v) if k in names and isinstance(v, str) else v) for k, v in data.items()
            }
    return out


def _inflate(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        # fflate's strFromU8(bytes, latin1=true): one char per byte.
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raise DecodeError("compressed rrweb field is not a latin-1 byte string") from None
    try:
        return orjson.loads(gunzip(raw))
    except orjson.JSONDecodeError:
        raise DecodeError("compressed rrweb field is not JSON") from None


def ms_to_datetime(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None
