"""The real posthog-js 1.347.2 in a real Chromium against the capture endpoint on a real uvicorn.

The page loads the SDK the way HogFlix runs it (`/work/shared/hogflix/source/src/main.tsx`): recording
configured and force-started in `loaded`, flags from `/flags`. It loads `array.js`, the bundle without
the recorder, because HogFlix's npm build (`posthog-js` main entry) likewise lazy-loads the recorder
from `<api_host>/static/`; `array.full.js` (recorder built in) is checked on a second page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserType, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from analytics import sdk
from analytics.capture import capture_routes
from analytics.events import CapturedEvent
from analytics.flags import default_flags
from analytics.store import EventStore
from analytics.testing import serve_in_thread

pytestmark = [pytest.mark.e2e]

TOKEN = "phc_sdk_browser"
FLAG = "Popular_vs_Trending_Priority_Algo_Test"
# A desktop Chrome's user agent: posthog-js drops every event of a `HeadlessChrome` one (blocked-uas.js).
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>sdk test</title></head>
<body>
<h1>HogFlix stand-in</h1>
<button id="play">Play</button>
<input id="search" placeholder="Search">
<script src="/sdk/%(bundle)s"></script>
<script>
posthog.init(%(token)r, {
  api_host: location.origin,
  person_profiles: 'identified_only',
  autocapture: true,
  capture_pageview: true,
  session_recording: { recordCrossOriginIframes: false },
  request_queue_config: { flush_interval_ms: 500 },
  loaded: function (ph) { ph.startSessionRecording(); },
});
document.getElementById('play').addEventListener('click', function () {
  document.body.appendChild(document.createElement('p')).textContent = 'playing';
  posthog.capture('video:started', { video_id: 'v1' });
});
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def sdk_dir() -> Path:
    try:
        return sdk.ensure_posthog_js()
    except sdk.SdkError as exc:
        pytest.skip(f"posthog-js unavailable: {exc}")


class PathLog:
    """ASGI wrapper noting every request path the server saw (the browser's own view lags)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


@pytest.fixture
def server(sdk_dir: Path, tmp_path: Path) -> Iterator[tuple[str, EventStore, PathLog]]:
    store = EventStore(tmp_path / "events.sqlite")
    dist = sdk_dir / "dist"

    async def page(request: Request) -> Response:
        bundle = request.query_params.get("bundle", "array.js")
        return HTMLResponse(PAGE % {"bundle": bundle, "token": TOKEN})

    async def bundle(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("array.js", "array.full.js"):
            return Response(status_code=404)
        return FileResponse(dist / name, media_type="application/javascript")

    routes = [
        Route("/", page),
        Route("/sdk/{name}", bundle),
        *capture_routes(store, tokens=[TOKEN], sdk_dir=sdk_dir),
    ]
    app = PathLog(Starlette(routes=routes))
    with serve_in_thread(app) as url:
        yield url, store, app
    store.close()


def _wait(what: str, check: Any, timeout: float = 25.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _visit(page: Page, url: str) -> tuple[str, str]:
    page.goto(url)
    page.wait_for_function("window.posthog && window.posthog.__loaded")
    page.click("#play")
    page.fill("#search", "hedgehogs")
    distinct_id = page.evaluate("posthog.get_distinct_id()")
    session_id = page.evaluate("posthog.get_session_id()")
    return distinct_id, session_id


def test_real_posthog_js_records_sessions_and_reads_flags(
    browser_type: BrowserType,
    browser_type_launch_args: dict[str, Any],
    server: tuple[str, EventStore, PathLog],
) -> None:
    url, store, log = server
    args = [*browser_type_launch_args.get("args", []), "--disable-blink-features=AutomationControlled"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    try:
        context = browser.new_context(user_agent=CHROME_UA)
        page = context.new_page()
        distinct_id, session_id = _visit(page, url + "/")
        assert page.evaluate("posthog.version") == sdk.POSTHOG_JS_VERSION

        # The flag's variant from /flags is what the page reads, and what PostHog's hash gives.
        expected = default_flags().evaluate(distinct_id)[FLAG].value
        _wait("flags", lambda: page.evaluate(f"posthog.getFeatureFlag({FLAG!r}) !== undefined"))
        assert page.evaluate(f"posthog.getFeatureFlag({FLAG!r})") == expected

        def pageview_and_click() -> list[CapturedEvent] | None:
            found = store.query(distinct_id=distinct_id)
            return found if {e.event for e in found} >= {"$pageview", "video:started"} else None

        events = _wait("events", pageview_and_click)
        for e in events:
            assert e.properties["$lib"] == "web"
            assert e.properties["$lib_version"] == sdk.POSTHOG_JS_VERSION
            assert e.properties["$session_id"] == session_id

        chunks = _wait("a recording", lambda: store.query_recordings(session_id=session_id))
        assert store.count_recordings_by_distinct_id().get(distinct_id) == 1
        assert sum(c.event_count for c in chunks) > 0
        types = {item.get("type") for c in chunks for item in c.data}
        assert 2 in types  # rrweb FullSnapshot: the page's DOM was really recorded
        # No `$snapshot` ever lands among the analytics events.
        assert not store.query(event="$snapshot")

        paths = sorted(set(log.paths))
        print("posthog-js 1.347.2 requested:", paths)
        assert "/static/lazy-recorder.js" in paths
        assert "/s/" in paths

        # array.full.js has the recorder built in: recordings arrive without loading it.
        full = context.new_page()
        _, full_session = _visit(full, url + "/?bundle=array.full.js")
        assert _wait("a recording (array.full.js)", lambda: store.query_recordings(session_id=full_session))
    finally:
        browser.close()
