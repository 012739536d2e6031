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
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page, Response

from flows.profile import PathName, Selector, SelectorName, SiteProfile
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
    # The next full page load carries the profile's synthetic query parameter: the session's first,
    # and the first after a logout (whose reset() clears what the site registered).
    mark_next: bool = True
    viewer: str = ""  # the viewing profile picked on a site with a profile picker ({profile})

    def url(self, path: str) -> str:
        return self.base_url + path

    def path(self, key: PathName, **fmt: str | int) -> str:
        value: str | None = getattr(self.profile.paths, key)
        if value is None:
            raise LookupError(f"site profile {self.profile.name!r} has no paths.{key}")
        return value.format(**fmt) if fmt else value

    def sel(self, key: SelectorName, scope: Locator | None = None, **fmt: str | int) -> Locator:
        selector: Selector | None = getattr(self.profile.selectors, key)
        if selector is None:
            raise LookupError(f"site profile {self.profile.name!r} has no selectors.{key}")
        return self.locate(selector, scope, **fmt)

    def locate(self, selector: Selector, scope: Locator | None = None, **fmt: str | int) -> Locator:
        """A locator for any kind of selector a profile holds, inside ``scope`` when given."""
        root: Page | Locator = scope if scope is not None else self.page
        values = {"profile": self.viewer, **fmt}

        def f(value: str) -> str:
            return value.format(**values) if "{" in value else value

        if isinstance(selector, str):
            return root.locator(f(selector))
        spec, exact = selector, selector.exact
        if spec.role is not None:
            name = f(spec.name) if spec.name is not None else None
            return root.get_by_role(cast(Any, spec.role), name=name, exact=exact)
        if spec.text is not None:
            return root.get_by_text(f(spec.text), exact=exact)
        if spec.label is not None:
            return root.get_by_label(f(spec.label), exact=exact)
        if spec.placeholder is not None:
            return root.get_by_placeholder(f(spec.placeholder), exact=exact)
        if spec.title is not None:
            return root.get_by_title(f(spec.title), exact=exact)
        if spec.testid is not None:
            return root.get_by_test_id(f(spec.testid))
        if spec.id is not None:
            return root.locator(f"id={f(spec.id)}")
        return root.locator(f(spec.css or ""))

    def _inside_app(self) -> bool:
        return self.page.url.startswith(self.base_url + "/")

    def _marked(self, path: str) -> str:
        param = self.profile.synthetic.query_param if self.profile.synthetic.enabled else None
        if not self.mark_next or not param:
            return path
        self.mark_next = False
        return path + ("&" if "?" in path else "?") + param

    async def goto(self, path: str) -> Response | None:
        """Open ``path``: by clicking the app's own link when the profile asks for in-app navigation
        and a page of the site is open, else by a full load (retried on 429/5xx)."""
        await self.hooks.before_leaving()
        # After a logout the site must load afresh: its marker registers on a full load only.
        if self.profile.in_app_navigation and self._inside_app() and not self.mark_next:
            if urlsplit(self.page.url).path == path:
                return None  # already there
            route = self.profile.nav.get(path) or f'a[href="{path}"] >> visible=true'
            *menus, last = route if isinstance(route, list) else [route]
            link = self.locate(last).first
            if not await link.is_visible():
                for menu in menus:  # a menu (or a narrow screen's hamburger) hides the link
                    control = self.locate(menu).first
                    if await control.is_visible():
                        await control.click()
            if menus or await link.count():
                await self.follow(link)
                return None
        target = self.url(self._marked(path))
        return await self._with_retry(lambda: self.page.goto(target))

    async def follow(self, locator: Locator) -> None:
        """Click an in-app link and wait until the app's router has moved to another URL."""
        before = self.page.url
        await locator.click()
        await self.page.wait_for_url(lambda url: url != before)

    async def click_and_wait(self, locator: Locator) -> Response | None:
        """Click something that navigates, and reload the page if the site answers 429/5xx.

        In a single-page app (``in_app_navigation``) a click only moves the app's router: wait for
        the URL to change instead of a page load."""
        await self.hooks.before_leaving()
        if self.profile.in_app_navigation:
            await self.follow(locator)
            return None
        async with self.page.expect_navigation() as navigation:
            await locator.click()
        return await self._check(await navigation.value, self.page.reload)

    async def submit(self, locator: Locator) -> None:
        """Submit a form: a page load on a server-rendered site (retried on 429/5xx), a click in a
        single-page app, whose form answers in place; the caller waits for the evidence."""
        if self.profile.in_app_navigation:
            await self.hooks.before_leaving()
            await locator.click()
        else:
            await self.click_and_wait(locator)

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
