"""The capture endpoint over a real uvicorn server on 127.0.0.1, spoken to with httpx."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.capture import create_capture_app
from analytics.decoder import MAX_BODY_BYTES
from analytics.flags import FlagSet
from analytics.store import EventStore
from analytics.testing import serve_in_thread

TOKEN = "phc_good"
ORIGIN = "http://127.0.0.1:8000"


@dataclass
class Server:
    url: str
    store: EventStore


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    kwargs: dict[str, Any] = getattr(request, "param", {"tokens": [TOKEN]})
    store = EventStore(tmp_path / "events.sqlite")
    with serve_in_thread(create_capture_app(store, **kwargs)) as url:
        yield Server(url, store)
    store.close()


def ev(name: str = "$pageview", distinct_id: str = "user-1", **extra: Any) -> dict[str, Any]:
    return {"event": name, "distinct_id": distinct_id, "uuid": str(uuid.uuid4()), **extra}


def batch(*events: dict[str, Any], token: str = TOKEN) -> bytes:
    return gzip.compress(
        json.dumps({"api_key": token, "batch": list(events), "sent_at": "2025-01-01T00:00:00Z"}).encode()
    )


@pytest.mark.parametrize("path", ["/e/", "/e", "/i/v0/e/", "/capture/", "/batch/", "/track", "/engage/"])
def test_every_capture_path_accepts_a_gzip_batch(server: Server, path: str) -> None:
    r = httpx.post(
        server.url + path + "?compression=gzip-js", content=batch(ev()), headers={"Origin": ORIGIN}
    )
    assert r.status_code == 200
    assert r.json() == {"status": 1}
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert server.store.count() == 1


def test_get_with_data_query(server: Server) -> None:
    data = base64.b64encode(json.dumps(ev(token=TOKEN)).encode()).decode()
    r = httpx.get(server.url + "/e/", params={"data": data, "ip": "1"})
    assert r.status_code == 200
    assert server.store.count() == 1


def test_beacon_form_body(server: Server) -> None:
    data = base64.b64encode(json.dumps({"api_key": TOKEN, "batch": [ev("$pageleave")]}).encode()).decode()
    r = httpx.post(
        server.url + "/e/?compression=base64",
        content=b"data=" + data.encode().replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert [e.event for e in server.store.query()] == ["$pageleave"]


@pytest.mark.parametrize("path", ["/e/", "/i/v0/e", "/flags/", "/decide/", "/batch/"])
def test_cors_preflight(server: Server, path: str) -> None:
    r = httpx.options(
        server.url + path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code in (200, 204)
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert server.store.count() == 0


def test_wrong_or_missing_token_is_401_and_nothing_stored(server: Server) -> None:
    r = httpx.post(server.url + "/batch/", content=batch(ev(), token="phc_wrong"))
    assert r.status_code == 401
    assert "error" in r.json()
    r = httpx.post(server.url + "/e/", json=ev())
    assert r.status_code == 401
    # One good-token event and one foreign one: the whole request is refused.
    r = httpx.post(server.url + "/e/", json=[ev(token=TOKEN), ev(token="other")])
    assert r.status_code == 401
    assert server.store.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"garbage",
        b"\x1f\x8b\x08\x00garbage",
        b'{"batch": [{"event": "ok", "distinct_id": "u"}, {"event": ""}]}',
    ],
)
def test_undecodable_is_400_json_and_nothing_stored(server: Server, body: bytes) -> None:
    r = httpx.post(server.url + "/e/", content=body, headers={"Origin": ORIGIN})
    assert r.status_code == 400
    assert isinstance(r.json()["error"], str)
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert server.store.count() == 0


def test_oversized_body_is_400_and_nothing_stored(server: Server) -> None:
    payload = json.dumps([ev(properties={"pad": "x" * (MAX_BODY_BYTES + 10)})]).encode()
    try:
        r = httpx.post(server.url + "/e/", content=payload, timeout=60)
    except httpx.TransportError:
        # The server may answer and close before the client finished uploading; that is a refusal too.
        pass
    else:
        assert r.status_code == 400
        assert "20 MB" in r.json()["error"]
    assert server.store.count() == 0


def test_oversized_chunked_body_without_content_length(server: Server) -> None:
    chunk = b" " * (1024 * 1024)

    def stream() -> Iterator[bytes]:
        yield b"["
        for _ in range(21):
            yield chunk

    try:
        r = httpx.post(server.url + "/e/", content=stream(), timeout=60)
    except httpx.TransportError:
        pass
    else:
        assert r.status_code == 400
    assert server.store.count() == 0
    # And the server is still healthy afterwards.
    assert httpx.post(server.url + "/e/", content=batch(ev())).status_code == 200


def test_dedup_by_uuid(server: Server) -> None:
    events = [ev(), ev()]
    assert httpx.post(server.url + "/batch/", content=batch(*events)).status_code == 200
    assert httpx.post(server.url + "/batch/", content=batch(*events, ev())).status_code == 200
    assert server.store.count() == 3


def test_events_api_filters(server: Server) -> None:
    body = batch(
        ev(
            "a",
            "u1",
            timestamp="2025-01-01T00:00:00Z",
            properties={"hogfleet_session_id": "s1", "plan": "Basic"},
        ),
        ev("b", "u1", timestamp="2025-01-02T00:00:00Z", properties={"hogfleet_session_id": "s2"}),
        ev("a", "u2", timestamp="2025-01-03T00:00:00Z", properties={"hogfleet_session_id": "s1"}),
    )
    assert httpx.post(server.url + "/e/", content=body).status_code == 200

    def names(**params: Any) -> list[tuple[str, str]]:
        r = httpx.get(server.url + "/api/events", params=params)
        assert r.status_code == 200
        return [(e["event"], e["distinct_id"]) for e in r.json()["results"]]

    assert names() == [("a", "u1"), ("b", "u1"), ("a", "u2")]
    assert names(distinct_id="u1") == [("a", "u1"), ("b", "u1")]
    assert names(event="a") == [("a", "u1"), ("a", "u2")]
    assert names(since="2025-01-02T00:00:00Z") == [("b", "u1"), ("a", "u2")]
    assert names(since="2025-01-02T00:00:00+00:00") == [("b", "u1"), ("a", "u2")]
    assert names(limit=1) == [("a", "u1")]
    assert names(**{"property.hogfleet_session_id": "s1"}) == [("a", "u1"), ("a", "u2")]
    assert names(**{"property.hogfleet_session_id": "s1", "property.plan": "Basic"}) == [("a", "u1")]
    row = httpx.get(server.url + "/api/events", params={"limit": 1}).json()["results"][0]
    assert set(row) == {"uuid", "event", "distinct_id", "timestamp", "properties", "received_at"}
    assert row["timestamp"].startswith("2025-01-01T00:00:00")
    assert httpx.get(server.url + "/api/events", params={"since": "tuesday"}).status_code == 400
    assert httpx.get(server.url + "/api/events", params={"limit": "-1"}).status_code == 400


@pytest.mark.parametrize("server", [{"tokens": [TOKEN], "flags": FlagSet.empty()}], indirect=True)
@pytest.mark.parametrize("path", ["/flags/?v=2", "/flags", "/decide/?v=3"])
def test_flags_answer_an_empty_set(server: Server, path: str) -> None:
    body = {"token": TOKEN, "distinct_id": "u1"}
    for r in (httpx.post(server.url + path, json=body), httpx.get(server.url + path)):
        assert r.status_code == 200
        payload = r.json()
        assert payload["featureFlags"] == {} and payload["flags"] == {}
        assert payload["errorsWhileComputingFlags"] is False
        assert "gzip-js" in payload["supportedCompression"]


def test_remote_config_for_posthog_js(server: Server) -> None:
    r = httpx.get(server.url + f"/array/{TOKEN}/config")
    assert r.status_code == 200
    assert r.json()["token"] == TOKEN
    assert r.json()["analytics"] == {"endpoint": "/i/v0/e/"}
    # Replay on, as PostHog sends it: posthog-js then records and posts to /s/.
    assert r.json()["sessionRecording"]["endpoint"] == "/s/"
    assert r.json()["hasFeatureFlags"] is True
    js = httpx.get(server.url + f"/array/{TOKEN}/config.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("application/javascript")
    assert f'window._POSTHOG_REMOTE_CONFIG["{TOKEN}"]=' in js.text


@pytest.mark.parametrize("server", [{"capture_error": 0.5, "rng_seed": 7}], indirect=True)
def test_capture_error_loses_exactly_the_failed_requests(server: Server) -> None:
    statuses = [httpx.post(server.url + "/e/", content=batch(ev(), ev())).status_code for _ in range(40)]
    assert set(statuses) == {200, 500}
    assert server.store.count() == 2 * statuses.count(200)


@pytest.mark.parametrize("server", [{"capture_error": 1.0}], indirect=True)
def test_capture_error_never_touches_flags_or_the_api(server: Server) -> None:
    assert httpx.post(server.url + "/e/", content=batch(ev())).status_code == 500
    assert httpx.post(server.url + "/flags/", json={}).status_code == 200
    assert httpx.get(server.url + "/api/events").json() == {"results": []}


def test_forwarding_to_another_posthog(tmp_path: Path) -> None:
    upstream_store = EventStore(tmp_path / "upstream.sqlite")
    local_store = EventStore(tmp_path / "local.sqlite")
    with serve_in_thread(create_capture_app(upstream_store, tokens=[TOKEN])) as upstream:
        app = create_capture_app(local_store, tokens=[TOKEN], forward_to=upstream)
        with serve_in_thread(app) as local:
            sent = [ev("a", properties={"k": 1}), ev("b")]
            assert httpx.post(local + "/e/", content=batch(*sent)).status_code == 200
            deadline = time.monotonic() + 20
            while upstream_store.count() < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
    assert sorted(e.uuid for e in upstream_store.query()) == sorted(e["uuid"] for e in sent)
    assert {e.event: e.properties for e in upstream_store.query()} == {"a": {"k": 1}, "b": {}}
    upstream_store.close()
    local_store.close()


def test_forwarding_to_a_dead_host_still_accepts(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "local.sqlite")
    with serve_in_thread(create_capture_app(store, forward_to="http://127.0.0.1:9")) as url:
        assert httpx.post(url + "/e/", content=batch(ev())).status_code == 200
    assert store.count() == 1
    store.close()


# --- fuzz: garbage never stores anything, never a partial batch ---------------------------------


def _truncated_batch(n: int) -> bytes:
    whole = batch(*[ev() for _ in range(5)])
    return whole[: n % len(whole)]


garbage = st.one_of(
    st.binary(max_size=512),
    st.binary(max_size=256).map(lambda b: b"\x1f\x8b" + b),
    st.binary(max_size=256).map(lambda b: b"data=" + b),
    # A valid event followed by a broken one: must be rejected whole.
    st.sampled_from(["", "   ", None, 5]).map(
        lambda bad: json.dumps(
            {"api_key": TOKEN, "batch": [ev(), {"event": bad, "distinct_id": "u"}]}
        ).encode()
    ),
    st.integers(min_value=1, max_value=10_000).map(_truncated_batch),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(
    body=garbage,
    content_type=st.sampled_from(["text/plain", "application/json", "application/x-www-form-urlencoded"]),
)
def test_fuzz_garbage_bodies_are_400_and_store_nothing(
    server: Server, body: bytes, content_type: str
) -> None:
    before = server.store.count()
    r = httpx.post(server.url + "/e/", content=body, headers={"Content-Type": content_type})
    assert r.status_code in (400, 401), r.text
    assert "error" in r.json()
    assert server.store.count() == before
