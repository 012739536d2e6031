"""The demo in real Chromium: every page emits the contract's events and they reach the capture endpoint.

One demo server (in a thread, on a free loopback port) serves the whole module; each test uses its own
browser context, so its own analytics identity, and filters the store by that identity.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from analytics.events import CapturedEvent
from analytics.store import EventStore
from analytics.testing import serve_in_thread
from demo.app import create_app
from demo.catalog import get_catalog
from demo.db import Database
from demo.faults import parse_faults
from demo.settings import DemoSettings

pytestmark = pytest.mark.e2e

TOKEN = "phc_hogflix_demo"
PERSONA_PROPS = {
    "plan": "Premium",
    "state": "active",
    "activity_pattern": "evening",
    "hogfleet_run_id": "run-e2e",
    "hogfleet_session_id": "sess-1",
}
FLAG_SCRIPT = f"localStorage.setItem('hogflix_synthetic', JSON.stringify({json.dumps(PERSONA_PROPS)}))"


@dataclass
class Demo:
    url: str
    store: EventStore
    db: Database


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("demo")
    settings = DemoSettings(db_path=root / "app.sqlite3", secret_key="test-secret-" + "x" * 32)
    app = create_app(settings)
    with serve_in_thread(app) as url:
        yield Demo(url, app.state.event_store, app.state.site.db)


@pytest.fixture
def flagged(context: BrowserContext) -> BrowserContext:
    context.add_init_script(FLAG_SCRIPT)
    return context


def wait_events(
    demo: Demo,
    distinct_id: str,
    until: Callable[[list[CapturedEvent]], bool],
    timeout_s: float = 20.0,
) -> list[CapturedEvent]:
    """Poll the store (bounded) until the events of `distinct_id` satisfy `until`."""
    deadline = time.monotonic() + timeout_s
    events: list[CapturedEvent] = []
    while time.monotonic() < deadline:
        events = demo.store.query(distinct_id=distinct_id, limit=10_000)
        if until(events):
            return events
        time.sleep(0.1)
    names = [(e.event, e.properties.get("$pathname")) for e in events]
    raise AssertionError(f"events for {distinct_id} never satisfied the condition; got {names}")


def named(events: list[CapturedEvent], name: str) -> list[CapturedEvent]:
    return [e for e in events if e.event == name]


def has(name: str, **props: Any) -> Callable[[list[CapturedEvent]], bool]:
    def check(events: list[CapturedEvent]) -> bool:
        return any(all(e.properties.get(k) == v for k, v in props.items()) for e in named(events, name))

    return check


def all_of(*checks: Callable[[list[CapturedEvent]], bool]) -> Callable[[list[CapturedEvent]], bool]:
    return lambda events: all(c(events) for c in checks)


def distinct_id(page: Page) -> str:
    value = page.evaluate("window.posthog.get_distinct_id()")
    assert isinstance(value, str) and value
    return value


def leave(page: Page, demo: Demo) -> None:
    """Navigate away: pagehide sends $pageleave and beacons whatever is still queued."""
    page.goto(demo.url + "/healthz")


def signup(page: Page, demo: Demo, plan: str = "Standard") -> tuple[str, str]:
    email = f"e2e-{secrets.token_hex(4)}@example.com"
    page.goto(demo.url + "/signup")
    page.get_by_test_id("signup-email").fill(email)
    page.get_by_test_id("signup-password").fill("correct horse battery")
    page.get_by_test_id("signup-plan").select_option(plan)
    page.get_by_test_id("signup-submit").click()
    page.wait_for_url(demo.url + "/")
    user = page.locator("body").get_attribute("data-user")
    assert user and user.startswith("usr_")
    return email, user


def test_bot_filter_drops_unflagged_headless_events(context: BrowserContext, demo: Demo) -> None:
    page = context.new_page()
    page.goto(demo.url + "/categories")
    did = distinct_id(page)
    assert page.evaluate("navigator.webdriver || /HeadlessChrome/.test(navigator.userAgent)")
    page.goto(demo.url + "/search?q=space")
    # Control: the same browser with the flag cookie. Once its events are stored, the unflagged ones
    # (sent earlier on the same connection path) would have been stored too had the client sent them.
    context.add_cookies([{"name": "hogflix_synthetic", "value": "1", "url": demo.url}])
    page.goto(demo.url + "/categories")
    leave(page, demo)
    events = wait_events(demo, did, has("$pageleave", **{"$pathname": "/categories"}))
    assert all(e.properties.get("is_synthetic") is True for e in events)
    assert not [e for e in events if e.properties.get("$pathname") == "/search"]
    assert not named(events, "search_performed")
    assert len(named(events, "$pageview")) == 1


def test_pageview_carries_synthetic_marking_and_super_properties(flagged: BrowserContext, demo: Demo) -> None:
    page = flagged.new_page()
    page.goto(demo.url + "/")
    expect(page.get_by_test_id("hero")).to_be_visible()
    expect(page.get_by_test_id("row-popular").get_by_test_id("title-card").first).to_be_visible()
    assert page.get_by_test_id("row-genre").count() == 10
    did = distinct_id(page)
    blob = json.loads(page.evaluate(f"localStorage.getItem('ph_{TOKEN}_posthog')"))
    assert blob["distinct_id"] == did == blob["$device_id"]
    assert blob["$user_state"] == "anonymous"
    assert len(blob["$sesid"]) == 3
    cookies = {c["name"]: c for c in flagged.cookies()}
    assert json.loads(_unquote(cookies[f"ph_{TOKEN}_posthog"]["value"]))["distinct_id"] == did
    leave(page, demo)

    events = wait_events(demo, did, all_of(has("$pageview"), has("$pageleave")))
    pv = named(events, "$pageview")[0]
    props = pv.properties
    assert pv.token == TOKEN
    assert props["is_synthetic"] is True
    for key, value in PERSONA_PROPS.items():
        assert props[key] == value
    assert props["$lib"] == "hogflix-web"
    assert props["$current_url"] == demo.url + "/"
    assert props["$pathname"] == "/"
    assert props["$host"] == demo.url.removeprefix("http://")
    assert props["$session_id"] == blob["$sesid"][1]
    assert props["$window_id"]
    assert props["$device_id"] == did
    assert props["$browser"] == "Chrome"
    assert props["$screen_width"] > 0
    leave_ev = named(events, "$pageleave")[0]
    assert leave_ev.properties["$pathname"] == "/"
    assert leave_ev.properties["$session_id"] == props["$session_id"]


def test_signup_identifies_and_identity_survives_a_new_context(
    flagged: BrowserContext, browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    page = flagged.new_page()
    page.goto(demo.url + "/")
    anon = distinct_id(page)
    email, user = signup(page, demo, plan="Premium")
    assert distinct_id(page) == user
    leave(page, demo)
    events = wait_events(demo, user, all_of(has("$identify"), has("signed_up"), has("$pageview")))
    ident = named(events, "$identify")[0]
    assert ident.properties["$anon_distinct_id"] == anon
    assert named(events, "signed_up")[0].properties["plan"] == "Premium"
    assert named(events, "signed_up")[0].properties["is_synthetic"] is True

    # A duplicate email is refused with the form error.
    page.goto(demo.url + "/logout")
    page.goto(demo.url + "/signup")
    page.get_by_test_id("signup-email").fill(email)
    page.get_by_test_id("signup-password").fill("another long password")
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("already exists")
    page.goto(demo.url + "/login")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(demo.url + "/")
    leave(page, demo)
    # Logging out reset the identity, so logging back in identified once more.
    before = wait_events(
        demo, user, lambda ev: len(named(ev, "$identify")) == 2 and bool(named(ev, "logged_in"))
    )

    state = tmp_path / "state.json"
    flagged.storage_state(path=state)
    flagged.close()

    # "The next day": a new context from the saved state is still logged in and still the same person.
    nxt = browser.new_context(storage_state=state)
    try:
        nxt.add_init_script(FLAG_SCRIPT)
        page2 = nxt.new_page()
        page2.goto(demo.url + "/account")
        expect(page2.get_by_test_id("account-email")).to_have_text(email)
        assert distinct_id(page2) == user
        page2.goto(demo.url + "/categories")
        leave(page2, demo)
        events = wait_events(demo, user, has("$pageview", **{"$pathname": "/categories"}))
        assert len(named(events, "$identify")) == len(named(before, "$identify"))  # no re-identification
        assert len(named(events, "logged_in")) == 1
    finally:
        nxt.close()


def test_login_error_logout_reset_and_login(flagged: BrowserContext, demo: Demo) -> None:
    page = flagged.new_page()
    email, user = signup(page, demo)
    page.get_by_test_id("nav-logout").click()
    page.wait_for_url(demo.url + "/")
    assert page.locator("body").get_attribute("data-user") == ""
    anon = distinct_id(page)
    assert anon != user

    page.goto(demo.url + "/login")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill("wrong password!!")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as resp:
        page.get_by_test_id("login-submit").click()
    assert resp.value.status == 200
    expect(page.get_by_test_id("form-error")).to_be_visible()

    page.get_by_test_id("login-password").fill("correct horse battery")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(demo.url + "/")
    assert distinct_id(page) == user
    leave(page, demo)
    events = wait_events(demo, user, all_of(has("logged_in"), lambda ev: len(named(ev, "$identify")) == 2))
    assert named(events, "$identify")[1].properties["$anon_distinct_id"] == anon


def test_browse_search_title_watchlist_rating(flagged: BrowserContext, demo: Demo) -> None:
    page = flagged.new_page()
    _, user = signup(page, demo)

    page.get_by_test_id("nav-search").click()
    page.get_by_test_id("search-input").fill("space")
    page.get_by_test_id("search-submit").click()
    results = page.get_by_test_id("search-results").get_by_test_id("title-card")
    count = results.count()
    assert count > 0
    page.goto(demo.url + "/search?q=zzqqxx")
    expect(page.get_by_test_id("search-empty")).to_be_visible()

    page.goto(demo.url + "/categories")
    page.locator("[data-testid=category-link][data-genre=Horror]").click()
    expect(page.get_by_test_id("category-name")).to_have_text("Horror")
    card = page.get_by_test_id("title-card").first
    title_id = card.get_attribute("data-title-id")
    assert title_id
    title = get_catalog().get(title_id)
    assert title is not None and title.genre == "Horror"
    card.click()
    expect(page.get_by_test_id("title-name")).to_have_text(title.name)
    expect(page.get_by_test_id("related").get_by_test_id("title-card").first).to_be_visible()

    page.get_by_test_id("watchlist-add").click()
    expect(page.get_by_test_id("watchlist-remove")).to_be_visible()
    expect(page.get_by_test_id("watchlist-add")).to_have_count(0)  # the fleet counts these
    page.get_by_test_id("rate-4").click()
    expect(page.get_by_test_id("rating-value")).to_contain_text("4")
    page.get_by_test_id("nav-watchlist").click()
    expect(page.locator(f"[data-testid=watchlist-items] [data-title-id={title_id}]")).to_be_visible()
    page.goto(demo.url + f"/title/{title_id}")
    page.get_by_test_id("watchlist-remove").click()
    expect(page.get_by_test_id("watchlist-add")).to_be_visible()
    page.goto(demo.url + "/watchlist")
    expect(page.get_by_test_id("watchlist-empty")).to_be_visible()
    leave(page, demo)

    events = wait_events(
        demo,
        user,
        all_of(
            has("search_performed", query="space", result_count=count),
            has("search_performed", query="zzqqxx", result_count=0),
            has("title_opened", title_id=title_id, title_name=title.name, genre="Horror"),
            has("watchlist_added", title_id=title_id),
            has("watchlist_removed", title_id=title_id),
            has("rating_submitted", title_id=title_id, rating=4),
            has("$pageview", **{"$pathname": "/watchlist"}),
        ),
    )
    clicks = named(events, "$autocapture")
    card_clicks = [
        e
        for e in clicks
        if e.properties["$event_type"] == "click"
        and e.properties["$elements"][0].get("attr__data-testid") == "title-card"
        and e.properties["$elements"][0].get("attr__data-title-id") == title_id
    ]
    assert card_clicks, [e.properties.get("$elements", [{}])[0] for e in clicks]
    assert card_clicks[0].properties["$elements"][0]["tag_name"] == "a"
    assert title.name in card_clicks[0].properties["$elements"][0]["$el_text"]
    assert all(e.properties["is_synthetic"] is True for e in events)


def test_flixbuddy_conversation(flagged: BrowserContext, demo: Demo) -> None:
    page = flagged.new_page()
    _, user = signup(page, demo)
    page.get_by_test_id("nav-flixbuddy").click()
    page.get_by_test_id("chat-input").fill("something scary for tonight")
    page.get_by_test_id("chat-send").click()
    recs = page.get_by_test_id("chat-recommendation")
    expect(recs).to_have_count(3)
    first_ids = [recs.nth(i).get_attribute("data-title-id") for i in range(3)]
    for tid in first_ids:
        t = get_catalog().get(tid or "")
        assert t is not None and t.genre == "Horror"
    page.get_by_test_id("chat-input").fill("any others?")
    page.get_by_test_id("chat-send").click()
    expect(recs).to_have_count(6)
    expect(page.locator("[data-testid=chat-message][data-role=assistant]")).to_have_count(2)
    second_ids = [recs.nth(i).get_attribute("data-title-id") for i in range(3, 6)]
    assert not set(first_ids) & set(second_ids)
    recs.nth(3).click()
    expect(page.get_by_test_id("title-name")).to_be_visible()
    leave(page, demo)

    events = wait_events(
        demo,
        user,
        all_of(
            lambda ev: len(named(ev, "flixbuddy_interaction")) == 2,
            has("title_opened", title_id=second_ids[0]),
        ),
    )
    first, second = sorted(
        named(events, "flixbuddy_interaction"), key=lambda e: e.properties["message_index"]
    )
    assert first.properties["question"] == "something scary for tonight"
    assert first.properties["recommended_title_ids"] == first_ids
    assert first.properties["message_index"] == 0
    assert second.properties["message_index"] == 1
    assert second.properties["conversation_id"] == first.properties["conversation_id"]
    assert second.properties["recommended_title_ids"] == second_ids


def test_player_fast_forwards_a_40_minute_episode(flagged: BrowserContext, demo: Demo) -> None:
    title, episode = next(
        (t, ep.number) for t in get_catalog().titles for ep in t.episodes if ep.duration_s == 2400
    )
    page = flagged.new_page()
    _, user = signup(page, demo)
    page.clock.install()
    page.goto(demo.url + f"/watch/{title.id}?ep={episode}")
    player = page.get_by_test_id("player")
    expect(player).to_have_attribute("data-state", "playing")
    expect(player).to_have_attribute("data-duration", "2400")
    page.clock.run_for(600_000)
    assert int(player.get_attribute("data-position") or 0) >= 599
    page.get_by_test_id("player-pause").click()
    expect(player).to_have_attribute("data-state", "paused")
    page.get_by_test_id("player-play").click()
    page.clock.run_for(1_805_000)
    expect(player).to_have_attribute("data-state", "ended")
    expect(player).to_have_attribute("data-position", "2400")
    page.clock.run_for(4_000)  # the analytics flush timer
    leave(page, demo)

    events = wait_events(
        demo,
        user,
        all_of(
            has("video_started", title_id=title.id, duration_s=2400),
            has("video_progress", title_id=title.id, percent=25),
            has("video_progress", title_id=title.id, percent=50),
            has("video_progress", title_id=title.id, percent=75),
            has("video_completed", title_id=title.id, duration_s=2400),
        ),
    )
    assert len(named(events, "video_started")) == 1
    assert sorted(e.properties["percent"] for e in named(events, "video_progress")) == [25, 50, 75]
    deadline = time.monotonic() + 10
    while (saved := demo.db.progress(user, title.id, episode)) is None or saved.position_s != 2400:
        assert time.monotonic() < deadline, f"progress never reached the end: {saved}"
        time.sleep(0.1)

    # A partly watched movie shows up in "Continue watching".
    movie = next(t for t in get_catalog().popular(50) if t.kind == "movie")
    page.goto(demo.url + f"/watch/{movie.id}")
    page.clock.run_for(120_000)
    page.get_by_test_id("player-pause").click()
    page.goto(demo.url + "/")
    expect(page.locator(f"[data-testid=row-continue] [data-title-id={movie.id}]")).to_be_visible()
    page.goto(demo.url + f"/watch/{movie.id}")
    assert int(page.get_by_test_id("player").get_attribute("data-position") or 0) >= 120


def test_account_plan_support_and_delete(flagged: BrowserContext, demo: Demo) -> None:
    page = flagged.new_page()
    _, user = signup(page, demo, plan="Basic")
    page.get_by_test_id("nav-account").click()
    expect(page.get_by_test_id("account-plan")).to_have_text("Basic")
    page.get_by_test_id("plan-select").select_option("Premium")
    page.get_by_test_id("plan-submit").click()
    expect(page.get_by_test_id("account-plan")).to_have_text("Premium")

    page.goto(demo.url + "/support")
    page.get_by_test_id("ticket-subject").fill("Playback stutters")
    page.get_by_test_id("ticket-body").fill("Episode 3 freezes at 12 minutes.")
    page.get_by_test_id("ticket-submit").click()
    confirmation = page.get_by_test_id("ticket-confirmation")
    expect(confirmation).to_be_visible()
    ticket_id = confirmation.get_attribute("data-ticket-id")

    page.goto(demo.url + "/account")
    page.get_by_test_id("delete-account").click()
    page.get_by_test_id("delete-confirm").click()
    page.wait_for_url(demo.url + "/")
    assert page.locator("body").get_attribute("data-user") == ""
    assert distinct_id(page) != user
    leave(page, demo)

    events = wait_events(
        demo,
        user,
        all_of(
            has("plan_changed", from_plan="Basic", to_plan="Premium"),
            has("support_ticket_created", ticket_id=ticket_id, subject="Playback stutters"),
            has("account_deleted"),
        ),
    )
    assert all(e.properties["is_synthetic"] is True for e in events)
    assert all(n == 0 for n in demo.db.count_rows(user).values())


def test_disabled_events_are_not_emitted(flagged: BrowserContext, tmp_path: Path) -> None:
    settings = DemoSettings(
        db_path=tmp_path / "app.sqlite3",
        secret_key="k" * 40,
        disabled_events=frozenset({"search_performed"}),
    )
    app = create_app(settings)
    store: EventStore = app.state.event_store
    with serve_in_thread(app) as url:
        page = flagged.new_page()
        page.goto(url + "/search?q=love")
        expect(page.get_by_test_id("search-results")).to_be_visible()
        did = distinct_id(page)
        page.goto(url + "/categories")
        page.goto(url + "/healthz")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            events = store.query(distinct_id=did)
            if any(e.event == "$pageleave" and e.properties["$pathname"] == "/categories" for e in events):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the control events never arrived")
        assert any(e.event == "$pageview" and e.properties["$pathname"] == "/search" for e in events)
        assert not [e for e in events if e.event == "search_performed"]


def test_client_retries_when_capture_fails(flagged: BrowserContext, tmp_path: Path) -> None:
    # Half the capture requests fail with a 500 (seeded); the client's retries still deliver every event.
    settings = DemoSettings(
        db_path=tmp_path / "app.sqlite3", secret_key="r" * 40, faults=parse_faults("capture_error=0.5,seed=1")
    )
    app = create_app(settings)
    store: EventStore = app.state.event_store
    with serve_in_thread(app) as url:
        page = flagged.new_page()
        page.clock.install()
        failures: list[int] = []
        page.on(
            "response", lambda r: failures.append(r.status) if "/e/" in r.url and r.status >= 500 else None
        )
        page.goto(url + "/search?q=drama")
        did = distinct_id(page)
        for card in page.get_by_test_id("title-card").all()[:5]:
            card.hover()
            page.evaluate(
                "id => window.hogflix.track('card_hovered', {title_id: id})",
                card.get_attribute("data-title-id"),
            )
        wanted = {"$pageview", "search_performed", "card_hovered"}
        deadline = time.monotonic() + 30
        while True:
            page.clock.run_for(7_000)  # flush and back-off timers
            events = store.query(distinct_id=did)
            if wanted <= {e.event for e in events} and len(named(events, "card_hovered")) == 5:
                break
            assert time.monotonic() < deadline, [e.event for e in events]
            time.sleep(0.2)
        assert failures, "the capture fault never fired: the test proved nothing"


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)
