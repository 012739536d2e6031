"""The fleet's launch drops full Chromium's per-window omnibox WebUI without losing Playwright's
own ``--disable-features`` list (Chromium honours only the last such switch).

Real Chromium through the fleet's launcher (bots.runtime.launcher.BrowserHandle): the launched process's
command line is read from /proc, and the browser's own target list is asked what it runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from bots.runtime import browser
from bots.runtime.launcher import BrowserHandle
from tests.scale.conftest import run_async


def _switch_values(pid: int, name: str) -> list[str]:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    return [a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")]


def _launched_chromium_pids() -> list[int]:
    """Chromium browser processes (not renderers or helpers) under this test process."""
    out: list[int] = []
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"--remote-debugging-pipe" in cmd and b"--type=" not in cmd:
            out.append(pid)
    return out


def test_lean_switch_is_playwrights_list_plus_ours() -> None:
    theirs = browser.playwright_disabled_features()
    assert theirs, "Playwright's --disable-features list could not be read from its driver"
    (switch,) = browser.lean_args()
    merged = switch.removeprefix("--disable-features=").split(",")
    assert set(theirs) | set(browser.LEAN_DISABLED_FEATURES) == set(merged)
    assert len(merged) == len(set(merged))


def test_unreadable_driver_means_no_switch_rather_than_a_lossy_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "_PLAYWRIGHT_SWITCH_SOURCES", ("lib/nope.js",))
    browser.playwright_disabled_features.cache_clear()
    try:
        assert browser.playwright_disabled_features() is None
        assert browser.lean_args() == ()
    finally:
        monkeypatch.undo()
        browser.playwright_disabled_features.cache_clear()


@pytest.mark.e2e
def test_fleet_launch_has_no_omnibox_webui_and_keeps_playwrights_features(demo_url: str) -> None:
    async def scenario() -> tuple[list[str], list[list[str]]]:
        async with async_playwright() as pw:
            handle = BrowserHandle.for_endpoint(pw, None)
            launched = await handle.acquire()
            try:
                context = await launched.new_context()
                page = await context.new_page()
                await page.goto(demo_url + "/")
                cdp = await launched.new_browser_cdp_session()
                targets = (await cdp.send("Target.getTargets", {"filter": [{}]}))["targetInfos"]
                pids = _launched_chromium_pids()
                switches = [_switch_values(pid, "disable-features") for pid in pids]
                await context.close()
            finally:
                await handle.close()
        return [t["url"] for t in targets if t["type"] == "browser_ui"], switches

    browser_ui, switches = run_async(scenario())
    # Without the switch, Chromium 156 lists chrome://omnibox-popup.top-chrome/ here, one per window.
    assert browser_ui == []
    assert switches, "no launched Chromium found under this process"
    for values in switches:
        # Playwright's switch comes first; ours is last and wins, so it must contain Playwright's.
        assert len(values) == 2
        assert set(values[0].split(",")) <= set(values[-1].split(","))
