"""The cheap identity restore gives the frontend the same identity as Playwright's storage_state.

Real Chromium against the real demo: a persona signs up through the UI, its storage state is taken,
then the state goes into a new context both ways and the page's own analytics client is asked who
it is (distinct_id, $device_id; the session id is per tab, not identity) and whether the site
still knows the user.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from bots.runtime.restore import MARK_KEY, new_context, strip_marks
from tests.scale.conftest import launch, run_async

pytestmark = pytest.mark.e2e

WHO = """() => ({
  distinct_id: window.posthog.get_distinct_id(),
  device_id: window.posthog.get_property('$device_id'),
  user: document.body.dataset.user,
})"""


async def signed_up_state(browser: Browser, base: str, email: str) -> dict[str, Any]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(base + "/signup")
    await page.fill("[data-testid=signup-email]", email)
    await page.fill("[data-testid=signup-password]", "correct horse battery staple 1")
    await page.select_option("[data-testid=signup-plan]", "Premium")
    async with page.expect_navigation():
        await page.click("[data-testid=signup-submit]")
    await page.wait_for_selector("body[data-user]:not([data-user=''])")
    await page.goto(base + "/")
    await page.goto("about:blank")
    state = dict(await context.storage_state())
    await context.close()
    return state


async def who(browser: Browser, base: str, state: dict[str, Any], mode: str) -> dict[str, str]:
    context = await new_context(browser, {}, state, mode)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(base + "/")
    seen: dict[str, str] = await page.evaluate(WHO)
    await context.close()
    return seen


def without_ph_cookie(state: dict[str, Any]) -> dict[str, Any]:
    # The demo keeps identity in a cookie *and* localStorage: drop the cookie copy so the identity
    # can only come from the seeded localStorage.
    out = json.loads(json.dumps(state))
    out["cookies"] = [c for c in out["cookies"] if not c["name"].startswith("ph_")]
    return out


def test_cheap_restore_gives_the_frontend_the_same_identity(demo_url: str) -> None:
    run_async(_same_identity(demo_url))


async def _same_identity(demo_url: str) -> None:
    async with async_playwright() as pw:
        browser = await launch(pw)
        state = await signed_up_state(browser, demo_url, "restore-1@hogflix-synthetic.test")
        assert any(o["localStorage"] for o in state["origins"]), "nothing in localStorage to restore"
        for variant in (state, without_ph_cookie(state)):
            reference = await who(browser, demo_url, variant, "playwright")
            cheap = await who(browser, demo_url, variant, "cheap")
            assert reference["user"].startswith("usr_"), "Playwright's restore lost the login"
            assert cheap == reference
            assert cheap["distinct_id"] == cheap["user"]
        # Without any restore the page is a stranger: the comparison above could have failed.
        fresh = await who(browser, demo_url, {"cookies": [], "origins": []}, "cheap")
        assert fresh["user"] == "" and fresh["device_id"] != reference["device_id"]
        await browser.close()


def test_seeds_once_and_never_overwrites_what_the_page_changed(demo_url: str) -> None:
    run_async(_seeds_once(demo_url))


async def _seeds_once(demo_url: str) -> None:
    async with async_playwright() as pw:
        browser = await launch(pw)
        state = await signed_up_state(browser, demo_url, "restore-2@hogflix-synthetic.test")
        key = next(
            i["name"] for o in state["origins"] for i in o["localStorage"] if i["name"].startswith("ph_")
        )
        context = await new_context(browser, {}, state, "cheap")
        page = await context.new_page()
        await page.goto(demo_url + "/")
        before = await page.evaluate(WHO)
        # The page changes a restored value (a super property lands in the ph_ blob): later pages
        # and other tabs must see the page's value, not the seed's again.
        await page.evaluate("() => window.posthog.register({probe: 'set-by-page'})")
        for path in ("/search", "/categories"):
            await page.goto(demo_url + path)
            blob = json.loads(await page.evaluate(f"() => localStorage.getItem({json.dumps(key)})"))
            assert blob.get("probe") == "set-by-page", f"the seed ran again on {path}"
            assert blob["distinct_id"] == before["distinct_id"]
        second = await context.new_page()  # another tab of the same context
        await second.goto(demo_url + "/")
        blob = json.loads(await second.evaluate(f"() => localStorage.getItem({json.dumps(key)})"))
        assert blob.get("probe") == "set-by-page", "the seed ran again in a second tab"
        # What goes back to disk is Playwright's format, without the seeded mark.
        taken = dict(await context.storage_state())
        assert any(i["name"] == MARK_KEY for o in taken["origins"] for i in o["localStorage"])
        strip_marks(taken)
        assert not any(i["name"] == MARK_KEY for o in taken["origins"] for i in o["localStorage"])
        await context.close()
        await browser.close()
