"""`/static/<name>.js` from an installed posthog-js, and 404s for anything unknown under `/ingest/`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from analytics.capture import capture_routes, create_capture_app
from analytics.store import EventStore
from analytics.testing import serve_in_thread


@pytest.fixture
def fake_sdk(tmp_path: Path) -> Path:
    package = tmp_path / "node_modules" / "posthog-js"
    dist = package / "dist"
    dist.mkdir(parents=True)
    (dist / "lazy-recorder.js").write_text("/* recorder */")
    (dist / "array.full.js").write_text("/* full */")
    (dist / "recorder.js.map").write_text("{}")
    (package / "package.json").write_text('{"name": "posthog-js"}')
    (tmp_path / "secret.js").write_text("/* outside dist */")
    (dist / "linked.js").symlink_to(tmp_path / "secret.js")
    return package


@pytest.fixture
def url(fake_sdk: Path, tmp_path: Path) -> Iterator[str]:
    store = EventStore(tmp_path / "events.sqlite")
    with serve_in_thread(create_capture_app(store, sdk_dir=fake_sdk)) as base:
        yield base
    store.close()


def test_serves_extension_scripts_with_type_and_caching(url: str) -> None:
    r = httpx.get(url + "/static/lazy-recorder.js?v=1.347.2", headers={"Origin": "http://site"})
    assert r.status_code == 200 and r.text == "/* recorder */"
    assert r.headers["content-type"] == "application/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=86400"
    assert r.headers["etag"]
    # posthog-js loads them with crossorigin="anonymous".
    assert r.headers["access-control-allow-origin"] == "http://site"
    assert httpx.get(url + "/static/array.full.js").text == "/* full */"


@pytest.mark.parametrize(
    "path",
    [
        "/static/surveys.js",  # not installed
        "/static/recorder.js.map",  # not a .js script
        "/static/linked.js",  # a symlink out of dist/
        "/static/../package.json",
        "/static/..%2Fpackage.json.js",
        "/static/%2e%2e%2f%2e%2e%2fsecret.js",
        "/static/dist/lazy-recorder.js",
        "/static/.js",
    ],
)
def test_unknown_or_escaping_names_are_404(url: str, path: str) -> None:
    r = httpx.get(url + path)
    assert r.status_code == 404
    assert "outside dist" not in r.text and "posthog-js" not in r.text


def test_no_sdk_no_static_routes(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "e.sqlite")
    with serve_in_thread(create_capture_app(store)) as base:
        assert httpx.get(base + "/static/lazy-recorder.js").status_code == 404
    store.close()


def test_not_an_sdk_dir_is_refused(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "e.sqlite")
    with pytest.raises(ValueError, match="not an installed posthog-js"):
        capture_routes(store, sdk_dir=tmp_path)
    store.close()


def test_mounted_under_ingest_unknown_paths_are_404_at_once(fake_sdk: Path, tmp_path: Path) -> None:
    store = EventStore(tmp_path / "e.sqlite")

    async def spa(request: Request) -> Response:
        # Like a single-page app's fallback: it must never answer for /ingest/*.
        return HTMLResponse("<html>app</html>")

    app = Starlette(
        routes=[
            Mount("/ingest", routes=capture_routes(store, sdk_dir=fake_sdk)),
            Route("/{path:path}", spa, methods=["GET", "POST"]),
        ]
    )
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=5) as client:
        assert client.get("/ingest/static/lazy-recorder.js").status_code == 200
        assert client.post("/ingest/e/", json={"event": "e", "distinct_id": "d"}).status_code == 200
        start = time.monotonic()
        for method, path in [
            ("GET", "/ingest/nope"),
            ("GET", "/ingest/static/surveys.js"),
            ("GET", "/ingest/static/%2e%2e/%2e%2e/etc/passwd"),  # httpx would resolve a literal ..
            ("POST", "/ingest/unknown/"),
            ("GET", "/ingest/api/unknown"),
        ]:
            r = client.request(method, path, content=b"x" * 100_000 if method == "POST" else None)
            assert r.status_code == 404, (path, r.status_code)
            assert "app" not in r.text
        assert time.monotonic() - start < 2
        assert client.get("/browse").text == "<html>app</html>"
    store.close()


def test_web_experiments_answer_an_empty_list_as_posthog_does(tmp_path: Path) -> None:
    app = create_capture_app(EventStore(tmp_path / "e.sqlite3"))
    with serve_in_thread(app) as url:
        got = httpx.get(url + "/api/web_experiments/?token=phc_x&ip=0&ver=1.347.2", timeout=10)
    assert got.status_code == 200 and got.json() == {"experiments": []}
