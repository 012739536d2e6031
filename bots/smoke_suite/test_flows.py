"""One session per (registered flow × persona) against the target, judged on UI and analytics.

A case fails when the UI path fails (a step times out, a page is unexpected), when the persona
did not get on the site the way it should (sign up through the UI, or stay logged in from its
storage state), or when an event the flow's steps owe never left the page: the failure message
names the missing events.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Playwright

from bots.config.settings import FleetSettings
from bots.smoke_suite.cases import (
    MOBILE_DEVICE,
    PersonaKind,
    describe,
    problems,
    run_once,
    smoke_devices,
    smoke_env,
    smoke_identity,
    smoke_plan,
)
from flows.profile import SiteProfile
from personas.plans import Identity

pytestmark = [pytest.mark.smoke, pytest.mark.e2e]


@pytest.mark.asyncio(loop_scope="session")
async def test_flow(
    flow: str,
    persona: PersonaKind,
    returning_identity: Callable[[str], Awaitable[Identity]],
    pytestconfig: pytest.Config,
    smoke_browser: Browser,
    smoke_playwright: Playwright,
    smoke_base_url: str,
    smoke_settings: FleetSettings,
    smoke_profile: SiteProfile,
    smoke_storage_dir: Path,
    smoke_tag: str,
    smoke_day: dt.date,
    output_path: str,
    tmp_path: Path,
    record_testsuite_property: Callable[[str, object], None],
) -> None:
    if persona == "returning":
        identity: Identity = await returning_identity(flow)
    else:
        device = MOBILE_DEVICE if persona == "mobile" else "Desktop Chrome"
        identity = smoke_identity(smoke_tag, f"{flow}-{persona}", device)
    plan = smoke_plan(flow, identity, signup=persona != "returning", day=smoke_day)
    video_mode = pytestconfig.getoption("--video", default="off")
    tracing = pytestconfig.getoption("--tracing", default="retain-on-failure")
    extras = {"record_video_dir": str(tmp_path / "video")} if video_mode != "off" else {}
    env = smoke_env(
        smoke_settings,
        base_url=smoke_base_url,
        profile=smoke_profile,
        storage_dir=smoke_storage_dir,
        artifacts_dir=Path(output_path),
        run_id=f"smoke-{smoke_tag}",
        day=smoke_day,
        flow=flow,
        # A case can fail on analytics alone, which the runtime does not count as a failure: record
        # every case and drop the trace of a passing one here.
        trace="off" if tracing == "off" else "on",
        # Every returning case starts from the same state, whatever ran before it.
        save_state=False,
    )
    # The JUnit report names the runtime the cases ran with (the one `hogfleet run` would build).
    record_testsuite_property("hogfleet_runtime", env.runtime.as_json())
    record = await run_once(smoke_browser, env, smoke_devices(smoke_playwright.devices, extras), plan)
    found = problems(record, flow, persona)
    if not found and tracing != "on":
        shutil.rmtree(output_path, ignore_errors=True)
    if video_mode == "on" or (video_mode == "retain-on-failure" and found):
        for video in sorted((tmp_path / "video").glob("*.webm")):
            Path(output_path).mkdir(parents=True, exist_ok=True)
            shutil.move(video, Path(output_path) / video.name)
    if found:
        pytest.fail(describe(record, flow, persona), pytrace=False)
