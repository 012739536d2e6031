"""Reading ingestion back: PostHog's query API (mock transport) and the demo endpoint (real server)."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.capture import create_capture_app
from analytics.query import (
    DemoQueryClient,
    IngestionReader,
    PostHogQueryClient,
    QueryError,
    wait_for_counts,
)
from analytics.store import EventStore
from analytics.testing import serve_in_thread

KEY = "phx_secret_personal_key_123"
SINCE = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def posthog_client(handler: Any) -> PostHogQueryClient:
    return PostHogQueryClient(
        "https://eu.posthog.example/", "4242", KEY, transport=httpx.MockTransport(handler)
    )


def test_hogql_request_shape_and_results() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"results": [["$pageview", 3], ["video_started", 1]], "columns": ["e", "n"]}
        )

    client = posthog_client(handler)
    assert client.count_events_by_name("run-7", SINCE) == {"$pageview": 3, "video_started": 1}
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://eu.posthog.example/api/projects/4242/query/"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert body["query"]["kind"] == "HogQLQuery"
    assert "properties.hogfleet_run_id = {run_id}" in body["query"]["query"]
    # Values travel as placeholders, never spliced into the query text.
    assert body["query"]["values"] == {"run_id": "run-7", "since": "2025-03-01 06:00:00"}
    assert "run-7" not in body["query"]["query"]


def test_count_by_session() -> None:
    rows = [["s1", "$pageview", 2], ["s1", "video_started", 1], [None, "$pageview", 4]]
    client = posthog_client(lambda r: httpx.Response(200, json={"results": rows}))
    assert client.count_events_by_session("r", SINCE) == {
        "s1": {"$pageview": 2, "video_started": 1},
        "": {"$pageview": 4},
    }


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(401, json={"detail": f"Bad key {KEY}"}), "HTTP 401: Bad key"),
        (httpx.Response(403, json={"detail": "no access to project"}), "HTTP 403: no access to project"),
        (httpx.Response(500, text="boom"), "HTTP 500: boom"),
        (httpx.Response(200, text="<html>"), "non-JSON"),
        (httpx.Response(200, json={"nope": 1}), "without a results table"),
    ],
)
def test_http_failures_are_query_errors_without_the_key(response: httpx.Response, expected: str) -> None:
    client = posthog_client(lambda r: response)
    with pytest.raises(QueryError) as info:
        client.hogql("SELECT 1")
    assert expected in str(info.value)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


def test_network_failure_is_a_query_error_without_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused (header was Bearer {KEY})", request=request)

    with pytest.raises(QueryError) as info:
        posthog_client(handler).hogql("SELECT 1")
    assert "unreachable" in str(info.value)
    assert KEY not in str(info.value)
    assert info.value.__cause__ is None


def test_status_code_is_kept_for_callers() -> None:
    client = posthog_client(lambda r: httpx.Response(429, json={"detail": "throttled"}))
    with pytest.raises(QueryError) as info:
        client.count_events_by_name("r", SINCE)
    assert info.value.status_code == 429


def test_wait_for_counts_polls_until_complete_or_deadline() -> None:
    answers = iter([{"a": 1}, {"a": 2}, {"a": 3, "b": 1}])

    class Reader:
        calls = 0

        def count_events_by_name(self, run_id: str, since: datetime) -> dict[str, int]:
            self.calls += 1
            return next(answers)

        def count_events_by_session(self, run_id: str, since: datetime) -> dict[str, dict[str, int]]:
            return {}

    now = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    reader: IngestionReader = Reader()
    got = wait_for_counts(
        reader, "r", SINCE, {"a": 3, "b": 1}, timeout=60, interval=5, sleep=sleep, clock=lambda: now[0]
    )
    assert got == {"a": 3, "b": 1}
    assert sleeps == [5, 5]
    # Never arrives: stops at the deadline with what it has.
    stuck = iter([{"a": 1}] * 100)
    reader2 = Reader()
    reader2.count_events_by_name = lambda run_id, since: next(stuck)  # type: ignore[method-assign]
    now[0] = 0.0
    assert wait_for_counts(
        reader2, "r", SINCE, {"a": 2}, timeout=12, interval=5, sleep=sleep, clock=lambda: now[0]
    ) == {"a": 1}
    assert now[0] == 12


def test_demo_query_client_end_to_end(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite")

    def event(name: str, run: str, session: str, ts: str) -> dict[str, Any]:
        props = {"hogfleet_run_id": run, "hogfleet_session_id": session}
        return {
            "event": name,
            "distinct_id": "u",
            "uuid": str(uuid.uuid4()),
            "timestamp": ts,
            "properties": props,
        }

    events = [
        event("$pageview", "run-1", "s1", "2025-03-01T07:00:00Z"),
        event("$pageview", "run-1", "s2", "2025-03-01T07:01:00Z"),
        event("video_started", "run-1", "s2", "2025-03-01T07:02:00Z"),
        event("$pageview", "run-2", "s3", "2025-03-01T07:03:00Z"),  # another run
        event("$pageview", "run-1", "s0", "2025-03-01T05:00:00Z"),  # before `since`
    ]
    with serve_in_thread(create_capture_app(store)) as url:
        body = gzip.compress(json.dumps({"batch": events}).encode())
        assert httpx.post(url + "/batch/", content=body).status_code == 200
        # A page size of 1 exercises the paging.
        client = DemoQueryClient(url, page_size=1)
        assert client.count_events_by_name("run-1", SINCE) == {"$pageview": 2, "video_started": 1}
        assert client.count_events_by_session("run-1", SINCE) == {
            "s1": {"$pageview": 1},
            "s2": {"$pageview": 1, "video_started": 1},
        }
        assert client.count_events_by_name("run-404", SINCE) == {}
        client.close()
    store.close()


def test_demo_query_client_against_a_dead_endpoint() -> None:
    with pytest.raises(QueryError, match="unreachable"):
        DemoQueryClient("http://127.0.0.1:9").count_events_by_name("r", SINCE)
