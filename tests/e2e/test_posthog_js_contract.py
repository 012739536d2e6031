"""Contract test: the real posthog-js (from the npm registry, pinned) drives the demo's capture endpoint.

The demo serves the SDK's browser bundle instead of our analytics.js; what the real SDK sends must be
decoded and stored with the same identity and synthetic marking our own client produces.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from analytics import sdk
from analytics.events import CapturedEvent
from analytics.store import EventStore
from analytics.testing import serve_in_thread
from demo.app import create_app
from demo.settings import DemoSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The version HogFlix pins (its package-lock.json), installed by `python -m analytics sdk ensure`.
POSTHOG_JS_VERSION = sdk.POSTHOG_JS_VERSION
FLAG = {"plan": "Basic", "state": "new", "activity_pattern": "weekday", "hogfleet_run_id": "contract"}


@pytest.fixture(scope="module")
def posthog_bundle() -> Path:
    try:
        package = sdk.ensure_posthog_js(POSTHOG_JS_VERSION)
    except sdk.SdkError as exc:
        pytest.skip(f"cannot install posthog-js for the contract test: {exc}")
    return package / "dist" / "array.full.js"


@pytest.fixture(scope="module")
def real_sdk_demo(
    posthog_bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, EventStore]]:
    root = tmp_path_factory.mktemp("demo-posthog-js")
    settings = DemoSettings(db_path=root / "app.sqlite3", secret_key="s" * 40, posthog_js=posthog_bundle)
    app = create_app(settings)
    with serve_in_thread(app) as url:
        yield url, app.state.event_store


def wait_for(
    store: EventStore, distinct_id: str, until: Callable[[list[CapturedEvent]], bool], timeout_s: float = 30
) -> list[CapturedEvent]:
    deadline = time.monotonic() + timeout_s
    events: list[CapturedEvent] = []
    while time.monotonic() < deadline:
        events = store.query(distinct_id=distinct_id, limit=10_000)
        if until(events):
            return events
        time.sleep(0.2)
    raise AssertionError(f"real posthog-js events never arrived: {[e.event for e in events]}")


def test_real_posthog_js_events_are_decoded_and_stored(
    context: BrowserContext, real_sdk_demo: tuple[str, EventStore]
) -> None:
    url, store = real_sdk_demo
    context.add_init_script(f"localStorage.setItem('hogflix_synthetic', JSON.stringify({json.dumps(FLAG)}))")
    page = context.new_page()
    page.goto(url + "/")
    page.wait_for_function("window.posthog && window.posthog.__loaded")
    # The page really runs the SDK, not our client.
    assert page.evaluate("window.posthog.version") == POSTHOG_JS_VERSION
    anon = page.evaluate("window.posthog.get_distinct_id()")
    assert isinstance(anon, str) and anon

    page.goto(url + "/search?q=space")
    expect(page.get_by_test_id("search-results")).to_be_visible()
    page.goto(url + "/signup")
    email = f"sdk-{secrets.token_hex(4)}@example.com"
    page.get_by_test_id("signup-email").fill(email)
    page.get_by_test_id("signup-password").fill("correct horse battery")
    page.get_by_test_id("signup-submit").click()
    page.wait_for_url(url + "/")
    user = page.locator("body").get_attribute("data-user")
    assert user and page.evaluate("window.posthog.get_distinct_id()") == user
    page.goto(url + "/categories")
    page.goto(url + "/healthz")

    anon_events = wait_for(
        store,
        anon,
        lambda ev: any(e.event == "search_performed" for e in ev) and any(e.event == "$pageview" for e in ev),
    )
    pageview = next(e for e in anon_events if e.event == "$pageview")
    assert pageview.token == "phc_hogflix_demo"
    assert pageview.properties["is_synthetic"] is True
    assert pageview.properties["plan"] == "Basic"
    assert pageview.properties["hogfleet_run_id"] == "contract"
    assert pageview.properties["$lib"] == "web"
    assert pageview.properties["$lib_version"] == POSTHOG_JS_VERSION
    assert pageview.properties["$pathname"] == "/"
    assert pageview.properties["$session_id"]
    search = next(e for e in anon_events if e.event == "search_performed")
    assert search.properties["query"] == "space"
    assert search.properties["result_count"] > 0

    user_events = wait_for(
        store,
        user,
        lambda ev: (
            {"$identify", "signed_up"} <= {e.event for e in ev}
            and any(e.event == "$pageview" and e.properties.get("$pathname") == "/categories" for e in ev)
        ),
    )
    ident = next(e for e in user_events if e.event == "$identify")
    assert ident.properties["$anon_distinct_id"] == anon
    assert all(e.properties.get("is_synthetic") is True for e in user_events)
