"""The real `posthog` PyPI client, pointed at the endpoint over loopback, gets its events stored."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

posthog = pytest.importorskip("posthog")

from posthog.request import APIError  # noqa: E402

from analytics.capture import create_capture_app  # noqa: E402
from analytics.store import EventStore  # noqa: E402
from analytics.testing import serve_in_thread  # noqa: E402

TOKEN = "phc_pypi_client"


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[tuple[str, EventStore]]:
    store = EventStore(tmp_path / "events.sqlite")
    with serve_in_thread(create_capture_app(store, tokens=[TOKEN])) as url:
        yield url, store
    store.close()


@pytest.mark.parametrize("gzip", [False, True])
def test_posthog_python_events_are_stored(
    endpoint: tuple[str, EventStore], gzip: bool, caplog: pytest.LogCaptureFixture
) -> None:
    url, store = endpoint
    errors: list[object] = []
    client = posthog.Posthog(
        TOKEN,
        host=url,
        sync_mode=True,
        gzip=gzip,
        on_error=lambda exc, batch: errors.append(exc),
        disable_geoip=True,
        max_retries=0,
    )
    event_uuid = str(uuid.uuid4())
    when = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
    with caplog.at_level(logging.ERROR, logger="posthog"):
        client.capture(
            "video_started",
            distinct_id="persona-42",
            properties={"title_id": 17, "is_synthetic": True, "hogfleet_run_id": "run-1"},
            timestamp=when,
            uuid=event_uuid,
        )
        client.set(distinct_id="persona-42", properties={"plan": "Premium"})
        client.flush()
        client.shutdown()
    assert errors == []

    stored = {e.event: e for e in store.query(distinct_id="persona-42")}
    assert set(stored) == {"video_started", "$set"}
    started = stored["video_started"]
    assert started.uuid == event_uuid
    assert started.timestamp == when
    assert started.token == TOKEN
    assert started.properties["title_id"] == 17
    assert started.properties["is_synthetic"] is True
    assert started.properties["hogfleet_run_id"] == "run-1"
    assert started.properties["$lib"] == "posthog-python"
    assert stored["$set"].properties["$set"] == {"plan": "Premium"}


def test_posthog_python_with_a_wrong_key_is_refused(endpoint: tuple[str, EventStore]) -> None:
    url, store = endpoint
    # debug=True makes the SDK raise instead of logging, so the refusal is observable.
    client = posthog.Posthog("phc_wrong", host=url, sync_mode=True, max_retries=0, debug=True)
    with pytest.raises(APIError) as info:
        client.capture("x", distinct_id="d")
    assert info.value.status == 401
    assert "invalid or missing project API key" in str(info.value)
    assert store.count() == 0
