"""Run one planned session (or account deletion) in its own browser context.

The context is the persona: its storage state, device, locale and timezone, plus the site's
synthetic flag set before any page script runs. Everything opened here is closed in ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Response, Route

from bots.records.ledger import Artifacts, ErrorClass, LedgerRecord
from bots.records.storage import safe_after_failure
from bots.runtime.failures import RETRYABLE, classify, one_line
from bots.runtime.observer import CaptureObserver
from bots.runtime.restore import new_context as restore_context
from bots.runtime.restore import strip_marks
from bots.runtime.runenv import RunEnv
from bots.runtime.steps import StepRecorder
from bots.runtime.verdict import judge, marking
from flows.driver import Pacing, Site
from flows.outcome import SessionOutcome
from flows.profile import SiteProfile
from flows.session import Session, run_deletion, run_session
from personas.plans import AccountDeletion, Identity, SessionPlan

WorkItem = SessionPlan | AccountDeletion
# The most a finished session waits for its page's requests to settle before leaving it, and how
# long they must have been quiet.
SETTLE_MS = 2_000
QUIET_S = 0.25
FINAL_QUIESCE_S = 15.0
Devices = Mapping[str, Mapping[str, Any]]  # Playwright's device descriptors, by name


@dataclass(frozen=True)
class Live:
    """What the fleet hands every attempt besides the run's environment: known only once it runs."""

    devices: Devices
    interrupted: Callable[[], bool] | None = None


def _marker_script(profile: SiteProfile, props: dict[str, Any]) -> str | None:
    """The site's own synthetic marking, set before any page script runs on every navigation."""
    marking = profile.synthetic
    if not marking.enabled:
        return None
    lines = []
    if marking.local_storage_key:
        lines.append(
            f"localStorage.setItem({json.dumps(marking.local_storage_key)}, {json.dumps(json.dumps(props))});"
        )
    if marking.session_storage_key:
        key, value = json.dumps(marking.session_storage_key), json.dumps(marking.session_storage_value)
        lines.append(f"sessionStorage.setItem({key}, {value});")
    # about:blank has no storage, hence try.
    return "".join(f"try {{ {line} }} catch (e) {{}}\n" for line in lines) or None


# A browser that says it is automated (navigator.webdriver) has every event dropped by posthog-js'
# bot filter, so nothing the page does reaches analytics. A context of a target whose profile marks
# its traffic synthetic presents as the browser it is, a regular Chrome; the marking, set by the
# site's own mechanism above, is what tells analytics the traffic is synthetic (docs/site-contract.md).
PRESENT_AS_BROWSER = (
    "try { Object.defineProperty(Navigator.prototype, 'webdriver', "
    "{ get: () => false, configurable: true }); } catch (e) {}"
)


def third_party_pattern(base_url: str, allowed_hosts: tuple[str, ...]) -> re.Pattern[str]:
    """Every http(s) URL outside the target's origin and ``allowed_hosts``. Playwright matches a
    route's regex in the driver, so first-party requests never pass through Python."""
    keep = [re.escape(base_url.rstrip("/")) + "(?:[/?#]|$)"]
    keep += [rf"https?://{re.escape(host)}(?:[:/?#]|$)" for host in allowed_hosts]
    return re.compile(rf"^(?!{'|'.join(keep)})https?://")


async def block_third_parties(context: BrowserContext, base_url: str, allowed: tuple[str, ...]) -> None:
    async def abort(route: Route) -> None:
        with contextlib.suppress(Exception):  # the context may be closing
            await route.abort("blockedbyclient")

    await context.route(third_party_pattern(base_url, allowed), abort)


# Only URLs that look like heavy assets reach Python; the resource type decides. A catch-all route
# would put every request of the session through a Python handler (measured: 6-27% slower).
ASSET_GLOB = "**/*.{png,jpg,jpeg,gif,webp,avif,svg,ico,woff,woff2,ttf,otf,eot,mp4,webm,ogg,mp3,m4a,m3u8,ts}"


async def block_assets(context: BrowserContext, kinds: tuple[str, ...]) -> None:
    blocked = frozenset(kinds)

    async def handle(route: Route) -> None:
        if route.request.resource_type in blocked:
            await route.abort()
        else:
            await route.fallback()

    await context.route(ASSET_GLOB, handle)


def _context_options(devices: Devices, identity: Identity, state: dict[str, Any] | None) -> dict[str, Any]:
    device = dict(devices.get(identity.device) or devices["Desktop Chrome"])
    device.pop("default_browser_type", None)
    # Device descriptors carry a regular browser's user agent; one that says HeadlessChrome would have
    # every event dropped by posthog-js' bot filter (see PRESENT_AS_BROWSER).
    if isinstance(device.get("user_agent"), str):
        device["user_agent"] = device["user_agent"].replace("HeadlessChrome", "Chrome")
    return {
        **device,
        "locale": identity.locale,
        "timezone_id": identity.timezone,
        "storage_state": state,
    }


class _Attempt:
    """One try at one work item: owns the context and everything recorded about it."""

    def __init__(self, env: RunEnv, live: Live, item: WorkItem, attempt: int) -> None:
        self.env, self.live, self.item, self.attempt = env, live, item, attempt
        self.identity = item.identity
        self.recorder = StepRecorder(
            env.profile,
            env.runtime.step_timeout_s,
            acquire_fn=env.throttle.acquire,
            listener=env.listener,
            interrupted=live.interrupted,
        )
        self.capture_re = env.profile.capture_regex()
        self.observer = CaptureObserver(self.capture_re, on_event=env.on_event)
        self.recorder.settle = self.observer.quiesce
        self.outcome = SessionOutcome()
        self.last_http_status: int | None = None
        self.http_retries = 0
        self.artifacts = Artifacts()

    def _on_response(self, response: Response) -> None:
        kind = response.request.resource_type
        if (
            kind in ("document", "fetch", "xhr")
            and response.status >= 429
            and not self._capture(response.url)
        ):
            self.last_http_status = response.status

    def _capture(self, url: str) -> bool:
        return bool(self.capture_re.search(url))

    def _artifact_dir(self) -> Path:
        folder = self.env.artifacts_dir / self.identity.distinct_id / self.item.session_id
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    async def run(self, browser: Browser) -> LedgerRecord:
        env = self.env
        started = dt.datetime.now(dt.UTC)
        old_state = env.storage.load(self.identity.distinct_id)
        try:
            context = await restore_context(
                browser,
                _context_options(self.live.devices, self.identity, old_state),
                old_state,
                env.runtime.restore,
            )
        except Exception as exc:
            # The browser died between its handle's liveness check and here: a failed attempt
            # (browser_crash, retried on a relaunched browser), not an exception that ends the run.
            return self._record(started, exc)
        error: BaseException | None = None
        try:
            page = await self._prepare(context)
            async with asyncio.timeout(env.runtime.session_timeout_s):
                await self._drive(page)
        except Exception as exc:
            error = exc
            if env.pause_on_failure and context.pages:
                await context.pages[0].pause()  # Playwright's inspector, at the failing step
        finally:
            await self._finish(context, old_state, error)
        return self._record(started, error)

    async def _prepare(self, context: BrowserContext) -> Page:
        env = self.env
        await self.observer.attach(context)
        props = {
            "is_synthetic": True,
            "plan": self.identity.plan.value,
            "state": self.identity.state.value,
            "activity_pattern": self.identity.activity_pattern.value,
            "hogfleet_run_id": env.run_id,
            "hogfleet_session_id": self.item.session_id,
        }
        script = _marker_script(env.profile, props)
        if script:
            await context.add_init_script(script)
        if env.profile.synthetic.enabled:
            await context.add_init_script(PRESENT_AS_BROWSER)
        if env.profile.third_party_hosts is not None:
            await block_third_parties(context, env.base_url, env.profile.third_party_hosts)
        if env.profile.synthetic.enabled and env.profile.synthetic.cookie_name:
            await context.add_cookies(
                [
                    {
                        "name": env.profile.synthetic.cookie_name,
                        "value": env.profile.synthetic.cookie_value,
                        "url": env.base_url,
                    }
                ]
            )
        if env.runtime.block_assets:
            await block_assets(context, env.runtime.block_assets)
        if env.profile.player.mode == "clock":
            await context.clock.install()
        if self._tracing():
            await context.tracing.start(screenshots=True, snapshots=True, sources=True)
        page = await context.new_page()
        page.on("response", self._on_response)
        return page

    def _tracing(self) -> bool:
        mode = self.env.runtime.trace
        return mode in ("on", "retain-on-failure") or (mode == "on-first-retry" and self.attempt > 1)

    async def _drive(self, page: Page) -> None:
        env = self.env
        rng = random.Random(self.item.seed)
        site = Site(
            page=page,
            profile=env.profile,
            base_url=env.base_url,
            pacing=Pacing(env.runtime.dwell_scale, rng),
            rng=rng,
            hooks=self.recorder,
            retry=env.runtime.retry,
        )
        try:
            if isinstance(self.item, AccountDeletion):
                await run_deletion(site, self.identity, self.outcome)
            else:
                await run_session(Session(site, self.item, self.outcome), env.flow)
        finally:
            self.http_retries = site.http_retries

    async def _finish(
        self, context: BrowserContext, old_state: dict[str, Any] | None, error: BaseException | None
    ) -> None:
        env = self.env
        folder: Path | None = None
        try:
            pages = context.pages
            if error is not None and pages:
                folder = self._artifact_dir()
                shot = folder / "screenshot.png"
                await pages[0].screenshot(path=str(shot), timeout=10_000)
                shot.chmod(0o600)
                self.artifacts.screenshot = str(shot)
            # Leaving the page fires pagehide: the frontend flushes its queue by beacon, which the
            # observer's outbox records; the storage state taken after it carries that outbox.
            if pages:
                if error is None:
                    # An app often records an action after the call it makes for it returns (HogFlix
                    # captures watchlist:added once its insert answers), i.e. after the UI showed the
                    # step done: let the page's own requests settle before it is left.
                    await self.observer.settle(SETTLE_MS / 1000, QUIET_S)
                # Leaving aborts a capture request still in flight (its events are then lost); at the
                # end of a session a slow endpoint is worth waiting for (a big recording upload can
                # hold it up for seconds on a loaded machine).
                await self.observer.quiesce(timeout_s=FINAL_QUIESCE_S)
                self.observer.leaving = True
                await pages[0].goto("about:blank", timeout=10_000)
            state: dict[str, Any] = dict(await context.storage_state())
            self.observer.take_outbox(state)
            strip_marks(state)
            await self.observer.drain()
            if env.save_state:
                self._save_state(old_state, state, error)
        except Exception as exc:  # a crashed browser cannot give us its state: keep the old one
            error = error or exc
        finally:
            await self._stop_tracing(context, error, folder)
            with contextlib.suppress(Exception):
                await context.close()

    def _save_state(
        self, old_state: dict[str, Any] | None, state: dict[str, Any], error: BaseException | None
    ) -> None:
        storage, did = self.env.storage, self.identity.distinct_id
        if isinstance(self.item, AccountDeletion) and error is None and self.outcome.account_deleted:
            storage.delete(did)
        elif error is None or safe_after_failure(old_state, state):
            storage.save(did, state)

    async def _stop_tracing(
        self, context: BrowserContext, error: BaseException | None, folder: Path | None
    ) -> None:
        if not self._tracing():
            return
        # on-first-retry keeps the retry's trace whether the retry passes or not, as Playwright Test
        # does: a flaky failure (failed, then passed) is the one most worth a trace, and its failed
        # first line points at this zip.
        keep = error is not None or self.env.runtime.trace in ("on", "on-first-retry")
        try:
            if keep:
                folder = folder or self._artifact_dir()
                trace = folder / "trace.zip"
                await context.tracing.stop(path=str(trace))
                trace.chmod(0o600)
                self.artifacts.trace = str(trace)
            else:
                await context.tracing.stop()
        except Exception:
            pass

    def _record(self, started: dt.datetime, error: BaseException | None) -> LedgerRecord:
        env = self.env
        observed = self.observer.names()
        marks = marking(self.observer.delivered.values(), env.profile.synthetic.property)
        verdict = judge(
            env.profile,
            self.recorder.expected_events(),
            observed,
            self.observer.capture_requests,
            len(self.observer.lost),
            self.observer.lost_reasons(),
            marks if env.profile.synthetic.enabled else None,
        )
        outcome = ("abandoned" if self.outcome.abandoned else "ok") if error is None else "failed"
        error_class = classify(error, self.last_http_status) if error else None
        message = one_line(error) if error else None
        if error is None and verdict.unmarked:
            # Traffic that analytics cannot tell from a real user's is the one thing the fleet must
            # never send: the session fails, whatever else it did.
            outcome, error_class, message = "failed", ErrorClass.UNMARKED_EVENTS, verdict.message
        return LedgerRecord(
            date=env.date,
            run_id=env.run_id,
            persona=self.identity.distinct_id,
            session_id=self.item.session_id,
            kind="deletion" if isinstance(self.item, AccountDeletion) else "session",
            attempt=self.attempt,
            started_at=started,
            ended_at=dt.datetime.now(dt.UTC),
            outcome=outcome,
            steps_done=len(self.recorder.done),
            steps=list(self.recorder.done),
            events=dict(sorted(observed.items())),
            event_uuids=sorted(self.observer.delivered),
            distinct_ids=self.observer.distinct_ids(),
            verdict=verdict,
            error_class=error_class,
            error_message=message,
            error_step=self.recorder.current if error else None,
            artifacts=self.artifacts,
            counts=self.outcome,
            http_retries=self.http_retries,
            shard=env.shard,
        )


async def run_item(
    get_browser: Callable[[], Any],
    env: RunEnv,
    live: Live,
    item: WorkItem,
    record_fn: Callable[[LedgerRecord], None],
) -> LedgerRecord:
    """Run an item with session-level retries for 429/5xx; every attempt goes to ``record_fn``."""
    rng = random.Random(item.seed ^ 0x5EED)
    attempt = 1
    untraced: LedgerRecord | None = None
    while True:
        browser: Browser = await get_browser()
        record = await _Attempt(env, live, item, attempt).run(browser)
        # on-first-retry: a failed first attempt (untraced) is run once more with tracing on. Its
        # ledger line waits for that retry so it can point at the retry's trace: every failed
        # line then has a trace, as with retain-on-failure, without tracing the sessions that pass.
        runtime = env.runtime
        first_try = runtime.trace == "on-first-retry" and attempt == 1 and runtime.session_retries >= 1
        if first_try and record.outcome == "failed" and record.error_class != ErrorClass.INTERRUPTED:
            untraced = record
        else:
            if untraced is not None:
                if record.artifacts.trace and not untraced.artifacts.trace:
                    untraced.artifacts.trace = record.artifacts.trace
                record_fn(untraced)
                untraced = None
            record_fn(record)
        retryable = record.error_class in RETRYABLE or untraced is not None
        if record.outcome != "failed" or not retryable or attempt > runtime.session_retries:
            return record
        await asyncio.sleep(runtime.retry.delay(attempt - 1, rng, None))
        attempt += 1
