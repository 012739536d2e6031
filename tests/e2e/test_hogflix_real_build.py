"""The real HogFlix production build in real Chromium, on the local Supabase stand-in (demo/hogflix/).

A bot's first journey through the unmodified build (`../shared/hogflix/dist`): sign up in the UI, land
on /profiles, create a profile (the app auto-selects a single profile and goes to /browse), open a
video and seek it. Every request to the backend must succeed, the console must not report a backend
failure, and the app's own posthog-js must deliver its events to `/ingest/` on the same origin.

posthog-js drops every event from a browser that looks automated, so the browser runs with a regular
Chrome user agent and without the AutomationControlled blink feature, and visits with `?synthetic=1`
as the fleet does.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserType, ConsoleMessage, Page, Response

from analytics.store import EventStore
from analytics.testing import serve_in_thread
from demo.app import create_app
from demo.settings import DemoSettings

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DIST = REPO.parent / "shared" / "hogflix" / "dist"
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
)
BACKEND_PATHS = ("/auth/v1/", "/rest/v1/", "/functions/v1/", "/storage/v1/")
# What the app logs when a Supabase call fails (console.error calls in source/src).
BACKEND_COMPLAINTS = (
    "supabase",
    "PGRST",
    "Error fetching",
    "Error loading",
    "Error initializing",
    "Save error",
)


@dataclass
class Served:
    url: str
    store: EventStore


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not (DIST / "index.html").is_file():
        pytest.skip(f"no HogFlix build in {DIST}")
    settings = DemoSettings(db_path=tmp_path_factory.mktemp("hogflix") / "app.sqlite3", frontend=DIST)
    app = create_app(settings)
    with serve_in_thread(app) as url:
        yield Served(url, app.state.event_store)


@pytest.fixture
def chrome(browser_type: BrowserType) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    browser = browser_type.launch(
        executable_path=str(CHROMIUM), args=["--disable-blink-features=AutomationControlled"]
    )
    yield browser
    browser.close()


def wait_for_events(store: EventStore, distinct_id: str, wanted: set[str], timeout_s: float) -> set[str]:
    deadline = time.monotonic() + timeout_s
    names: set[str] = set()
    while time.monotonic() < deadline:
        names = {e.event for e in store.query(distinct_id=distinct_id, limit=10_000)}
        if wanted <= names:
            break
        time.sleep(0.2)
    return names


@pytest.mark.timeout(60)
def test_signup_profile_browse_and_watch_on_the_real_build(served: Served, chrome: Browser) -> None:
    context = chrome.new_context(user_agent=CHROME_UA, viewport={"width": 1280, "height": 800})
    # Offline: the Google Fonts stylesheet would only hang until it times out.
    context.route("https://fonts.googleapis.com/**", lambda route: route.abort())
    context.route("https://fonts.gstatic.com/**", lambda route: route.abort())
    page: Page = context.new_page()
    failures: list[str] = []
    complaints: list[str] = []

    def on_response(response: Response) -> None:
        path = response.url.removeprefix(served.url)
        if path.startswith(BACKEND_PATHS) and response.status >= 400:
            failures.append(f"{response.status} {response.request.method} {path[:120]}")

    def on_console(message: ConsoleMessage) -> None:
        where = str(message.location.get("url", "")).removeprefix(served.url)
        if message.type == "error" and (
            where.startswith(BACKEND_PATHS) or any(word in message.text for word in BACKEND_COMPLAINTS)
        ):
            complaints.append(message.text[:200])

    page.on("response", on_response)
    page.on("console", on_console)

    page.goto(f"{served.url}/signup?synthetic=1")
    page.fill("#email", f"bot-{secrets.token_hex(4)}@example.com")
    page.fill("#password", "correct horse battery")
    page.fill("#birthDate", "1990-04-01")  # required by the form
    page.click("button[type=submit]")
    page.wait_for_url("**/profiles", timeout=15_000)  # Signup.tsx navigates after a 2 s success screen

    session: dict[str, Any] = json.loads(page.evaluate("() => localStorage.getItem('sb-127-auth-token')"))
    user_id = session["user"]["id"]

    page.get_by_text("Add Profile").first.click()
    page.fill("#profileName", "Bot")
    page.get_by_role("button", name="CREATE PROFILE").click()
    page.wait_for_url("**/browse", timeout=15_000)  # the single profile is auto-selected

    first = page.locator('a[href^="/watch/"]').first
    first.wait_for(timeout=15_000)
    first.click()
    page.wait_for_url("**/watch/**")
    video = "document.querySelector('video')"
    page.wait_for_function(f"() => {{ const v = {video}; return v && v.readyState >= 1 && v.duration > 0 }}")
    src, duration = page.evaluate(f"() => [{video}.src, {video}.duration]")
    assert src.startswith(f"{served.url}/storage/v1/object/sign/videos/")
    # Playwright's clock cannot move a <video>; seeking is how a bot "watches" (the app's milestones fire).
    position = page.evaluate(
        f"() => {{ const v = {video}; v.currentTime = v.duration * 0.55; return v.currentTime }}"
    )
    assert abs(position - duration * 0.55) < 1
    page.wait_for_function(f"() => !{video}.seeking && {video}.currentTime > 0")

    wanted = {
        "signup:completed",
        "profile:created",
        "profile:selected",
        "video:started",
        "video:progress_milestone",
    }
    names = wait_for_events(served.store, user_id, wanted, timeout_s=15)
    context.close()
    assert not failures, failures
    assert not complaints, complaints
    assert wanted <= names, sorted(names)
    signed_up = served.store.query(distinct_id=user_id, event="signup:completed")[0]
    assert signed_up.properties["synthetic"] is True
    assert signed_up.properties["$current_url"].startswith(served.url)
