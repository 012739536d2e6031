"""Session recordings: `/s/` batches as posthog-js 1.347.2 sends them, their table, API and forwarding."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.capture import create_capture_app
from analytics.decoder import DecodeError
from analytics.events import CapturedEvent
from analytics.recordings import chunk_from_event, decompress_rrweb_event
from analytics.store import EventStore
from analytics.testing import serve_in_thread

TOKEN = "phc_rec"
DOM = {"node": {"type": 0, "childNodes": [{"type": 2, "tagName": "html"}]}, "initialOffset": {"top": 0}}
ADDS = [{"parentId": 1, "node": {"type": 3, "textContent": "playing"}}]


def packed(value: Any) -> str:
    # posthog-js `gzipToString`: fflate's strFromU8(gzipSync(...), true), one latin-1 char per byte.
    return gzip.compress(json.dumps(value).encode()).decode("latin-1")


def rrweb_events(t0: int = 1_760_000_000_000) -> list[dict[str, Any]]:
    return [
        {"type": 4, "data": {"href": "http://x/", "width": 800, "height": 600}, "timestamp": t0},
        {"type": 2, "data": packed(DOM), "cv": "2024-10", "timestamp": t0 + 1},
        {
            "type": 3,
            "cv": "2024-10",
            "data": {
                "source": 0,
                "texts": packed([]),
                "attributes": packed([]),
                "removes": packed([]),
                "adds": packed(ADDS),
            },
            "timestamp": t0 + 50,
        },
        {"type": 3, "data": {"source": 2, "type": 2, "id": 5, "x": 1, "y": 2}, "timestamp": t0 + 90},
    ]


def snapshot(session: str = "sess-1", distinct_id: str = "anon-1", **props: Any) -> dict[str, Any]:
    data = rrweb_events()
    properties = {
        "$snapshot_bytes": len(json.dumps(data)),
        "$snapshot_data": data,
        "$session_id": session,
        "$window_id": "win-1",
        "$lib": "web",
        "$lib_version": "1.347.2",
        "distinct_id": distinct_id,
        "token": TOKEN,
        **props,
    }
    return {
        "uuid": str(uuid.uuid4()),
        "event": "$snapshot",
        "properties": properties,
        "timestamp": "2025-10-09T08:53:20.000Z",
    }


def post_s(url: str, *events: dict[str, Any]) -> httpx.Response:
    # As posthog-js posts `/s/`: gzip body, `compression=gzip-js`, text/plain.
    return httpx.post(
        url + "/s/?ip=0&ver=1.347.2&compression=gzip-js",
        content=gzip.compress(json.dumps(list(events)).encode()),
        headers={"Content-Type": "text/plain"},
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, EventStore]]:
    store = EventStore(tmp_path / "events.sqlite")
    with serve_in_thread(create_capture_app(store, tokens=[TOKEN])) as url:
        yield url, store
    store.close()


def test_snapshots_are_recordings_not_events(server: tuple[str, EventStore]) -> None:
    url, store = server
    first, second = snapshot(), snapshot()
    assert post_s(url, first, second).status_code == 200
    assert post_s(url, first).status_code == 200  # a resend: deduplicated by uuid
    assert store.count() == 0
    chunks = store.query_recordings(session_id="sess-1")
    assert len(chunks) == 2
    c = chunks[0]
    assert (c.session_id, c.window_id, c.distinct_id, c.event_count) == ("sess-1", "win-1", "anon-1", 4)
    assert c.first_ms == 1_760_000_000_000 and c.last_ms == 1_760_000_000_090
    assert c.size == len(json.dumps(c.data, separators=(",", ":"), ensure_ascii=False).encode())
    assert c.data == first["properties"]["$snapshot_data"]  # stored as sent


def test_snapshot_on_the_events_endpoint_is_a_recording_too(server: tuple[str, EventStore]) -> None:
    url, store = server
    pageview = {"event": "$pageview", "distinct_id": "anon-1", "properties": {"token": TOKEN}}
    assert httpx.post(url + "/e/", json=[pageview, snapshot()]).status_code == 200
    assert [e.event for e in store.query()] == ["$pageview"]
    assert store.recording_count() == 1


def test_queries_and_api(server: tuple[str, EventStore]) -> None:
    url, store = server
    post_s(url, snapshot("s1", "ada"), snapshot("s1", "ada"), snapshot("s2", "ada"), snapshot("s3", "bob"))
    assert store.count_recordings_by_distinct_id() == {"ada": 2, "bob": 1}
    assert [s.session_id for s in store.recording_sessions(distinct_id="ada")] == ["s1", "s2"]
    api = httpx.get(url + "/api/recordings", params={"session_id": "s1"}).json()
    assert len(api["results"]) == 2 and "snapshot_data" not in api["results"][0]
    assert api["sessions"] == [
        {
            "session_id": "s1",
            "distinct_id": "ada",
            "chunks": 2,
            "event_count": 8,
            "bytes": api["results"][0]["bytes"] * 2,
            "start": "2025-10-09T08:53:20+00:00",
            "end": "2025-10-09T08:53:20.090000+00:00",
        }
    ]
    by_person = httpx.get(url + "/api/recordings", params={"distinct_id": "bob", "data": "1"}).json()
    (chunk,) = by_person["results"]
    full = chunk["snapshot_data"][1]
    # `data=1` undoes posthog-js' per-field gzip, so a player gets plain rrweb events.
    assert full == {"type": 2, "data": DOM, "timestamp": 1_760_000_000_001}
    assert chunk["snapshot_data"][2]["data"]["adds"] == ADDS
    assert httpx.get(url + "/api/recordings", params={"limit": "x"}).status_code == 400


@pytest.mark.parametrize(
    "props",
    [{"$session_id": None}, {"$snapshot_data": []}, {"$snapshot_data": "abc"}, {"$snapshot_data": [1, 2]}],
)
def test_unusable_snapshot_rejects_the_whole_batch(
    server: tuple[str, EventStore], props: dict[str, Any]
) -> None:
    url, store = server
    r = post_s(url, snapshot(), snapshot(**props))
    assert r.status_code == 400
    assert store.recording_count() == 0 and store.count() == 0


def test_wrong_token_is_401(server: tuple[str, EventStore]) -> None:
    url, store = server
    assert post_s(url, snapshot(token="phc_other")).status_code == 401
    assert store.recording_count() == 0


def test_snapshot_items_and_single_event_shapes() -> None:
    items = rrweb_events()
    base = dict(uuid=str(uuid.uuid4()), distinct_id="d", timestamp=datetime.now(UTC))
    as_items = CapturedEvent(
        event="$snapshot_items", properties={"$snapshot_items": items, "$session_id": "s"}, **base
    )
    assert chunk_from_event(as_items).event_count == 4
    single = CapturedEvent(
        event="$snapshot", properties={"$snapshot_data": items[0], "$session_id": "s"}, **base
    )
    assert chunk_from_event(single).event_count == 1
    with pytest.raises(DecodeError):
        decompress_rrweb_event({"type": 2, "cv": "2024-10", "data": "not gzip"})
    assert decompress_rrweb_event(items[3]) is items[3]


def test_recordings_are_forwarded_to_posthogs_replay_endpoint(tmp_path: Path) -> None:
    upstream_store = EventStore(tmp_path / "upstream.sqlite")
    local_store = EventStore(tmp_path / "local.sqlite")
    seen: list[str] = []
    upstream_app = create_capture_app(upstream_store, tokens=[TOKEN])

    async def logging_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await upstream_app(scope, receive, send)

    with (
        serve_in_thread(logging_app) as upstream,
        serve_in_thread(create_capture_app(local_store, tokens=[TOKEN], forward_to=upstream)) as local,
    ):
        sent = snapshot()
        assert post_s(local, sent).status_code == 200
        deadline = time.monotonic() + 20
        while upstream_store.recording_count() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "/s/" in seen and "/batch/" not in seen
    (chunk,) = upstream_store.query_recordings()
    assert chunk.uuid == sent["uuid"] and chunk.data == sent["properties"]["$snapshot_data"]
    upstream_store.close()
    local_store.close()
