"""Smoke-testing flows: one representative session per (flow, persona), judged on UI and analytics.

The smoke suite (``bots/smoke_suite/``, a pytest plugin run by ``hogfleet smoke``) builds its cases
from here, so a flow is exercised exactly as the fleet runs it: the same runtime settings
(:func:`bots.runtime.runenv.build_run_env` from ``hogfleet.toml``), the same
:func:`bots.runtime.attempt.run_item`, context options, synthetic marker, capture observer and
analytics verdict. Only the plan is made up: it
asks for everything a flow can do (play to the end, rate, add to the watchlist, ask FlixBuddy).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import Browser, async_playwright
from playwright.async_api import Error as PlaywrightError

from bots.config.settings import FleetSettings, TraceMode
from bots.records.ledger import LedgerRecord
from bots.records.storage import StorageStates
from bots.runtime import hooks
from bots.runtime.attempt import Devices, Live, WorkItem, run_item
from bots.runtime.browser import launch_args
from bots.runtime.failures import one_line
from bots.runtime.runenv import RunEnv, build_run_env
from flows.profile import SiteProfile
from personas.enums import Chronotype, EntryPoint, Pattern, Plan, State
from personas.identity import email_for
from personas.plans import Identity, SessionPlan, VideoStep

PersonaKind = Literal["new", "returning", "mobile"]
PERSONAS: tuple[PersonaKind, ...] = ("new", "returning", "mobile")
DESKTOP_DEVICE = "Desktop Chrome"
# A Chromium-native phone: iPhone descriptors ask for WebKit, whose user agent would not match.
MOBILE_DEVICE = "Pixel 7"
# Steps that only get the persona onto the site; a flow must do something beyond them.
ACCOUNT_STEPS = frozenset({"home", "signup", "login"})
# What the representative plan makes every built-in journey do.
BUILTIN_STEPS: dict[str, tuple[str, ...]] = {
    "homepage": ("open_title", "play", "watch", "rate"),
    "search": ("search", "open_title", "play", "watch", "rate"),
    "category": ("open_title", "play", "watch", "rate"),
    "flixbuddy": ("flixbuddy", "open_title", "play", "watch", "rate"),
    "watchlist": ("open_title", "play", "watch", "rate"),
}
# The mobile variant of the built-in journeys runs for these two only: the rest share their pages,
# and each case is a real session (about 5 s on an idle 2-core box). Plugin flows, and flows
# picked with --flow, get every persona.
MOBILE_BUILTINS = ("homepage", "search")
FLIXBUDDY_QUESTIONS = ("Something funny and short for tonight?",)


def matrix(flows: list[str], explicit: bool) -> list[tuple[str, PersonaKind]]:
    """The (flow, persona) cases of a suite run."""
    return [
        (flow, persona)
        for flow in flows
        for persona in PERSONAS
        if persona != "mobile" or explicit or flow in MOBILE_BUILTINS or flow not in BUILTIN_STEPS
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "flow"


def smoke_identity(tag: str, label: str, device: str = DESKTOP_DEVICE) -> Identity:
    """A throwaway persona; ``tag`` is unique per suite run so a persistent target never collides."""
    distinct_id = f"smoke_{tag}_{_slug(label)}"
    return Identity(
        distinct_id=distinct_id,
        email=email_for(distinct_id),
        plan=Plan.STANDARD,
        state=State.NEW,
        activity_pattern=Pattern.REGULAR,
        device=device,
        locale="en-US",
        timezone="UTC",
    )


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:8], "big")


def smoke_plan(
    flow: str,
    identity: Identity,
    *,
    signup: bool,
    day: dt.date,
    videos: tuple[VideoStep, ...] | None = None,
    session_id: str | None = None,
) -> SessionPlan:
    """A plan that exercises everything ``flow`` can do. Plugin flows get the homepage entry point
    (the plan's entry point must be a built-in; the flow itself is chosen through RunEnv.flow)."""
    entry = EntryPoint(flow) if flow in EntryPoint._value2member_map_ else EntryPoint.HOMEPAGE
    everything = VideoStep(start=True, completion=1.0, rating=4, add_to_watchlist=True)
    return SessionPlan(
        session_id=session_id or f"{identity.distinct_id}-{_slug(flow)}",
        identity=identity,
        chronotype=Chronotype.EVENING,
        start_at=dt.datetime.combine(day, dt.time(20, 0), tzinfo=dt.UTC),
        entry_point=entry,
        signup=signup,
        videos=videos if videos is not None else (everything,),
        flixbuddy_questions=FLIXBUDDY_QUESTIONS if flow == "flixbuddy" else (),
        seed=_seed(identity.distinct_id, flow),
    )


def smoke_devices(
    pw_devices: Mapping[str, Mapping[str, Any]], context_extras: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Playwright's descriptors, each extended with ``context_extras`` (e.g. ``record_video_dir``):
    the runtime spreads the persona's descriptor into the context options, so this is how a smoke
    case adds options the fleet itself never uses."""
    extras = dict(context_extras or {})
    return {name: {**desc, **extras} for name, desc in pw_devices.items()}


# What a smoke case changes in the runtime `run` would use, and nothing else: as fast as the pages
# allow, and the first failure reported as it is, with no session-level retry to hide it.
SMOKE_OVERRIDES: dict[str, object] = {"dwell_scale": 0.0, "session_retries": 0}


def smoke_env(
    settings: FleetSettings,
    *,
    base_url: str,
    profile: SiteProfile,
    storage_dir: Path,
    artifacts_dir: Path,
    run_id: str,
    day: dt.date,
    flow: str,
    trace: TraceMode = "retain-on-failure",
    save_state: bool = True,
) -> RunEnv:
    return build_run_env(
        settings,
        overrides={**SMOKE_OVERRIDES, "trace": trace},
        base_url=base_url,
        profile=profile,
        storage=StorageStates(storage_dir),
        artifacts_dir=artifacts_dir,
        run_id=run_id,
        date=day,
        flow=flow,
        save_state=save_state,
    )


async def run_once(browser: Browser, env: RunEnv, devices: Devices, item: WorkItem) -> LedgerRecord:
    """Run one item once in ``browser``; returns its ledger record (not written to any ledger)."""

    async def get_browser() -> Browser:
        return browser

    hooks.run_started.fire(env)
    records: list[LedgerRecord] = []
    return await run_item(get_browser, env, Live(devices), item, records.append)


def problems(record: LedgerRecord, flow: str, persona: PersonaKind) -> list[str]:
    """Everything wrong with a smoke case's record, one phrase each; empty when it passed."""
    found: list[str] = []
    if record.outcome != "ok":
        found.append(
            f"UI path {record.outcome} at step {record.error_step!r}: "
            f"{record.error_class}: {record.error_message}"
        )
    steps = set(record.steps)
    if persona == "returning":
        if steps & {"signup", "login"}:
            found.append("the returning persona was not logged in from its storage state")
    elif "signup" not in steps and record.outcome == "ok":
        found.append("the new persona did not sign up through the UI")
    if record.outcome == "ok":
        wanted = BUILTIN_STEPS.get(flow)
        if wanted is not None:
            skipped = [s for s in wanted if s not in steps]
            if skipped:
                found.append(f"steps never done: {', '.join(skipped)}")
        elif not steps - ACCOUNT_STEPS:
            found.append("the flow did no step of its own")
    verdict = record.verdict
    if verdict is None:
        found.append("no analytics verdict recorded")
    else:
        if verdict.capture_requests == 0:
            found.append(f"no capture request: {verdict.message}")
        if verdict.missing:
            found.append(f"expected analytics events missing: {', '.join(verdict.missing)}")
        if verdict.lost:
            found.append(f"{verdict.lost} event(s) lost in failed capture requests")
    return found


def describe(record: LedgerRecord, flow: str, persona: PersonaKind) -> str:
    """The assertion message of a failed case: what failed, then where to look."""
    text = f"{flow} [{persona}]: " + "; ".join(problems(record, flow, persona))
    text += f" (steps: {', '.join(record.steps) or 'none'}; events: "
    text += ", ".join(f"{k}×{v}" for k, v in record.events.items()) or "none"
    text += ")"
    if record.artifacts.trace:
        text += f" — playwright show-trace {record.artifacts.trace}"
    return text


async def video_unavailable(browser: Browser | None = None) -> str | None:
    """Why this machine cannot record videos (Playwright's ffmpeg is a separate download), or None."""
    if browser is None:
        async with async_playwright() as pw:
            launched = await pw.chromium.launch(**launch_args({}))
            try:
                return await video_unavailable(launched)
            finally:
                await launched.close()
    with tempfile.TemporaryDirectory(prefix="hogfleet-video-") as folder:
        context = await browser.new_context(record_video_dir=folder)
        try:
            await context.new_page()
        except PlaywrightError as exc:
            return one_line(exc)
        finally:
            await context.close()
    return None
