"""One shared browser per fleet process, relaunched if it crashes or after K sessions.

Contexts are cheap and isolated; browsers are not. Recycling every K sessions bounds the memory a
long run accumulates in the browser process (issue 6/6 measures it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from playwright.async_api import Browser, Playwright

from bots.browser import BrowserChoice, resolve

log = logging.getLogger("hogfleet.browser")


@dataclass
class BrowserHandle:
    pw: Playwright
    choice: BrowserChoice
    headless: bool = True
    slowmo_ms: float = 0
    devtools: bool = False
    recycle_every: int | None = None
    launches: int = 0
    _browser: Browser | None = None
    _uses: int = 0
    _active: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _retired: list[Browser] = field(default_factory=list)

    @classmethod
    def for_endpoint(cls, pw: Playwright, endpoint: str | None, **kwargs: object) -> BrowserHandle:
        choice = BrowserChoice("remote", endpoint=endpoint) if endpoint else resolve()
        return cls(pw, choice, **kwargs)  # type: ignore[arg-type]

    async def _launch(self) -> Browser:
        self.launches += 1
        if self.choice.kind == "remote":
            assert self.choice.endpoint
            return await self.pw.chromium.connect(self.choice.endpoint)
        args = list(self.choice.args)
        if self.devtools:
            args.append("--auto-open-devtools-for-tabs")
        return await self.pw.chromium.launch(
            executable_path=self.choice.executable if self.choice.kind == "system" else None,
            args=args,
            headless=self.headless,
            slow_mo=self.slowmo_ms,
        )

    async def acquire(self) -> Browser:
        """The current browser for a new session (launching or relaunching it as needed)."""
        async with self._lock:
            stale = self._browser is not None and not self._browser.is_connected()
            worn = self.recycle_every is not None and self._uses >= self.recycle_every
            if self._browser is None or stale or worn:
                if self._browser is not None and not stale:
                    self._retired.append(self._browser)  # closed once its sessions finish
                if stale:
                    log.warning("browser disconnected; relaunching")
                self._browser = await self._launch()
                self._uses = 0
            self._uses += 1
            return self._browser

    async def release_retired(self) -> None:
        for browser in list(self._retired):
            if not browser.contexts:
                self._retired.remove(browser)
                await browser.close()

    async def close(self) -> None:
        for browser in [*self._retired, self._browser]:
            if browser is not None:
                with contextlib.suppress(Exception):
                    await browser.close()
        self._retired.clear()
        self._browser = None
