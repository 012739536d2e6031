"""The per-session handle page objects work through: page, profile, pacing, retries, step hooks.

Page objects stay free of randomness and scheduling; everything that varies per session (think
time, which card to pick, how to back off) comes in through :class:`Site`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from playwright.async_api import Locator, Page, Response

from flows.profile import SelectorName, SiteProfile
from flows.site_errors import HttpStatusError

RETRYABLE = frozenset({429, 500, 502, 503, 504})


class StepHooks(Protocol):
    """Implemented by the runtime: times and records steps, and collects expected events."""

    def step(self, name: str) -> AbstractAsyncContextManager[None]: ...

    def expect(self, step: str) -> None:
        """Mark that ``step``'s events are now owed (e.g. a progress milestone was reached)."""
        ...

    async def acquire(self, resource: str) -> bool:
        """Wait for a fleet-wide throttle (e.g. FlixBuddy); False when the run's budget is spent."""
        ...

    async def before_leaving(self) -> None:
        """Called before the page is navigated away (lets the runtime settle in-flight work)."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS style), honouring Retry-After."""

    attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None) -> float:
        ceiling = min(self.cap_s, self.base_s * (2**attempt))
        jittered = rng.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)


@dataclass
class Pacing:
    """Think and watch time, scaled by --dwell-scale (1.0 human, 0 as fast as the page allows)."""

    dwell_scale: float
    rng: random.Random

    def think_seconds(self) -> float:
        # Log-normal with a ~2.5 s median: most pauses are short, a few are long.
        return min(30.0, self.rng.lognormvariate(0.9, 0.6)) * self.dwell_scale

    async def think(self) -> None:
        seconds = self.think_seconds()
        if seconds > 0:
            await asyncio.sleep(seconds)


def retry_after_seconds(response: Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return min(60.0, max(0.0, float(raw)))
    except ValueError:
        return None


@dataclass
class Site:
    page: Page
    profile: SiteProfile
    base_url: str
    pacing: Pacing
    rng: random.Random
    hooks: StepHooks
    retry: RetryPolicy = RetryPolicy()
    http_retries: int = 0  # how many 429/5xx answers this session absorbed

    def url(self, path: str) -> str:
        return self.base_url + path

    def sel(self, key: SelectorName, **fmt: str | int) -> Locator:
        selector: str = getattr(self.profile.selectors, key)
        if fmt:
            selector = selector.format(**fmt)
        return self.page.locator(selector)

    async def goto(self, path: str) -> Response | None:
        await self.hooks.before_leaving()
        return await self._with_retry(lambda: self.page.goto(self.url(path)))

    async def click_and_wait(self, locator: Locator) -> Response | None:
        """Click something that navigates, and reload the page if the site answers 429/5xx."""
        await self.hooks.before_leaving()
        async with self.page.expect_navigation() as navigation:
            await locator.click()
        return await self._check(await navigation.value, self.page.reload)

    async def _with_retry(self, action: Callable[[], Awaitable[Response | None]]) -> Response | None:
        return await self._check(await action(), self.page.reload)

    async def _check(
        self, response: Response | None, again: Callable[[], Awaitable[Response | None]]
    ) -> Response | None:
        attempt = 0
        while response is not None and response.status in RETRYABLE:
            if attempt >= self.retry.attempts:
                raise HttpStatusError(response.status, response.url, retry_after_seconds(response))
            delay = self.retry.delay(attempt, self.rng, retry_after_seconds(response))
            self.http_retries += 1
            attempt += 1
            await asyncio.sleep(delay)
            response = await again()
        return response
