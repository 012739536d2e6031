"""One shared browser per fleet process, relaunched if it crashes or after K sessions.

Contexts are cheap and isolated; browsers are not. Recycling every K sessions bounds the memory a
long run accumulates in the browser process (bench/fleet.py measures it; docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from playwright.async_api import Browser, Playwright

from bots.runtime.browser import BrowserChoice, resolve, version_warning

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
            from bots.scaleout.remote import connect  # one-line errors, incl. the version mismatch

            return await connect(self.pw, self.choice.endpoint, slowmo_ms=self.slowmo_ms)
        args = list(self.choice.args)
        if self.devtools:
            args.append("--auto-open-devtools-for-tabs")
        return await self.pw.chromium.launch(
            executable_path=self.choice.executable if self.choice.kind == "system" else None,
            args=args,
            headless=self.headless,
            slow_mo=self.slowmo_ms,
            # Ctrl-C in a terminal signals the whole foreground group, Playwright's driver included;
            # by default the driver then closes the browser under the sessions in flight. The fleet
            # owns shutdown instead: sessions finish their step, save state, then the browser closes.
            # (The driver ignores SIGINT itself; Chromium runs in its own process group.)
            handle_sigint=False,
            handle_sigterm=False,
            handle_sighup=False,
        )

    def _log_version(self, browser: Browser) -> None:
        if self.launches > 1:
            return
        log.info("browser: %s, Chromium %s", self.choice.describe(), browser.version)
        warning = version_warning(browser.version) if self.choice.kind != "playwright" else None
        if warning:
            log.warning(warning)

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
                self._log_version(self._browser)
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
