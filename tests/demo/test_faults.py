"""Fault specs parse strictly, and the middleware faults pages and the API but never assets or capture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from analytics.testing import serve_in_thread
from demo.app import create_app
from demo.faults import FaultSpec, FaultSpecError, is_exempt, parse_faults
from demo.settings import DemoSettings


def test_parse_full_spec() -> None:
    spec = parse_faults("error=0.05, ratelimit=0.03,latency_ms=300,latency_rate=0.1,capture_error=0.2,seed=7")
    assert spec == FaultSpec(
        error=0.05, ratelimit=0.03, latency_ms=300, latency_rate=0.1, capture_error=0.2, seed=7
    )
    assert spec.active
    assert parse_faults(None) == parse_faults("") == FaultSpec()
    assert not FaultSpec().active
    assert not parse_faults("capture_error=0.5").active  # capture faults belong to the capture routes


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("eror=0.1", "unknown fault 'eror'"),
        ("error", "not key=value"),
        ("error=", "not key=value"),
        ("error=lots", "not a number"),
        ("error=1.5", "between 0 and 1"),
        ("ratelimit=-0.1", "between 0 and 1"),
        ("latency_ms=fast", "not an integer"),
        ("latency_ms=0.5", "not an integer"),
        ("latency_ms=999999", "between 0 and 60000"),
        ("error=0.1,error=0.2", "given twice"),
        ("error=0.6,ratelimit=0.6", "more than 1"),
    ],
)
def test_bad_specs_are_refused_with_a_clear_message(spec: str, needle: str) -> None:
    with pytest.raises(FaultSpecError, match=needle):
        parse_faults(spec)


def test_exempt_paths() -> None:
    for path in (
        "/static/app.js",
        "/healthz",
        "/e/",
        "/i/v0/e/",
        "/batch/",
        "/flags/",
        "/decide/",
        "/api/events",
        "/assets/index-abc.js",
        "/storage/v1/object/sign/videos/t001.wav",
        "/ingest/i/v0/e/",
    ):
        assert is_exempt(path), path
    for path in ("/", "/search", "/api/watchlist", "/title/t001", "/events", "/rest/v1/videos", "/browse"):
        assert not is_exempt(path), path


def _serve(tmp_path: Path, spec: str) -> Iterator[str]:
    app = create_app(
        DemoSettings(db_path=tmp_path / "app.sqlite3", secret_key="f" * 40, faults=parse_faults(spec))
    )
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def always_error(tmp_path: Path) -> Iterator[str]:
    yield from _serve(tmp_path, "error=1")


@pytest.fixture
def always_ratelimit(tmp_path: Path) -> Iterator[str]:
    yield from _serve(tmp_path, "ratelimit=1")


def test_error_fault_hits_pages_and_api_but_not_assets_health_or_capture(always_error: str) -> None:
    with httpx.Client(base_url=always_error) as client:
        assert client.get("/").status_code == 500
        assert client.get("/search?q=x").status_code == 500
        api = client.post("/api/rating", json={})
        assert api.status_code == 500 and api.json()["error"]
        assert client.get("/healthz").text == "ok"
        assert client.get("/static/analytics.js").status_code == 200
        body = {"api_key": "phc_hogflix_demo", "batch": [{"event": "x", "properties": {"distinct_id": "d"}}]}
        assert client.post("/e/", json=body).status_code == 200
        assert client.get("/api/events").status_code == 200


def test_ratelimit_fault_answers_429_with_retry_after(always_ratelimit: str) -> None:
    with httpx.Client(base_url=always_ratelimit) as client:
        resp = client.get("/")
        assert resp.status_code == 429
        assert resp.headers["retry-after"] == "1"
        assert client.get("/healthz").status_code == 200


def test_seeded_partial_faults_are_reproducible(tmp_path: Path) -> None:
    def statuses(sub: str) -> list[int]:
        (tmp_path / sub).mkdir()
        app = create_app(
            DemoSettings(
                db_path=tmp_path / sub / "a.sqlite3",
                secret_key="f" * 40,
                faults=parse_faults("error=0.3,ratelimit=0.2,seed=11"),
            )
        )
        with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
            return [client.get("/categories").status_code for _ in range(40)]

    first = statuses("one")
    assert first == statuses("two")
    assert {200, 429, 500} <= set(first)
