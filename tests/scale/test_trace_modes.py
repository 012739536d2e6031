"""``on-first-retry``: a failed first attempt runs once more with tracing on, and that trace is kept
even when the retry passes (as in Playwright Test), so the failed line of a flaky session points at
a real trace zip. Real Chromium against the real demo, through the fleet's own ``run_item``.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from bots.config.settings import FleetSettings
from bots.records.ledger import LedgerRecord
from bots.records.storage import StorageStates
from bots.runtime.attempt import Live, run_item
from bots.runtime.runenv import build_run_env
from flows.profile import load_profile
from personas.enums import Chronotype, EntryPoint, Pattern, Plan, State
from personas.plans import Identity, SessionPlan, VideoStep
from tests.scale.conftest import launch, run_async

pytestmark = pytest.mark.e2e

DAY = dt.date(2026, 3, 2)


def _plan() -> SessionPlan:
    did = "p_flaky_00001"
    return SessionPlan(
        session_id=f"s_{DAY.isoformat()}_{did}",
        identity=Identity(
            distinct_id=did,
            email=f"{did}@hogflix-synthetic.test",
            plan=Plan.STANDARD,
            state=State.NEW,
            activity_pattern=Pattern.DAILY,
            device="Desktop Chrome",
            locale="en-US",
            timezone="Europe/London",
        ),
        chronotype=Chronotype.EVENING,
        start_at=dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC),
        entry_point=EntryPoint.HOMEPAGE,
        signup=True,
        videos=(VideoStep(start=False, completion=0.0),),
        seed=11,
    )


def test_a_flaky_sessions_failed_line_points_at_the_kept_retry_trace(demo_url: str, tmp_path: Path) -> None:
    async def scenario() -> list[LedgerRecord]:
        async with async_playwright() as pw:
            # The first attempt gets a browser that is already gone (a crash), the retry a live one.
            dead = await launch(pw)
            await dead.close()
            alive = await launch(pw)
            browsers = iter([dead, alive])

            async def get() -> Browser:
                return next(browsers)

            env = build_run_env(
                FleetSettings(trace="on-first-retry", session_retries=1),
                base_url=demo_url,
                profile=load_profile(None),
                storage=StorageStates(tmp_path / "ss"),
                artifacts_dir=tmp_path / "artifacts",
                run_id="flaky",
                date=DAY,
            )
            lines: list[LedgerRecord] = []
            try:
                await run_item(get, env, Live(pw.devices), _plan(), lines.append)
            finally:
                await alive.close()
            return lines

    lines = run_async(scenario())
    assert [(r.attempt, r.outcome) for r in lines] == [(1, "failed"), (2, "ok")], [
        (r.attempt, r.outcome, r.error_class) for r in lines
    ]
    assert lines[0].error_class == "browser_crash", lines[0].error_message
    assert lines[1].artifacts.trace is not None
    trace = Path(lines[1].artifacts.trace)
    assert trace.stat().st_size > 0 and zipfile.is_zipfile(trace)
    assert lines[0].artifacts.trace == str(trace), "the failed first line must point at the retry's trace"
