"""Watches the capture requests a page sends and decodes them with analytics' decoder.

Listening to context events costs nothing per request; routing every request through a Python
handler would (6-27% in issue 6/6's measurements), so the fleet never routes capture traffic.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from playwright.async_api import BrowserContext, Request

from analytics.decoder import DecodeError, decode_request_from_playwright
from analytics.events import CapturedEvent


@dataclass
class CaptureObserver:
    pattern: re.Pattern[str]
    delivered: list[CapturedEvent] = field(default_factory=list)
    lost: list[CapturedEvent] = field(default_factory=list)
    requests: int = 0
    undecodable: int = 0
    _pending: set[Request] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._on_request)
        context.on("requestfinished", self._on_finished)
        context.on("requestfailed", self._on_failed)

    def _matches(self, request: Request) -> bool:
        return request.method in ("POST", "GET") and bool(self.pattern.search(request.url))

    def _on_request(self, request: Request) -> None:
        if self._matches(request):
            self.requests += 1
            self._pending.add(request)

    def _decode(self, request: Request) -> list[CapturedEvent]:
        try:
            body = request.post_data_buffer
            decoded = decode_request_from_playwright(
                request.url, request.headers, body, now=dt.datetime.now(dt.UTC)
            )
        except DecodeError:
            self.undecodable += 1
            return []
        return decoded.events

    def _on_finished(self, request: Request) -> None:
        if request not in self._pending:
            return
        task = asyncio.ensure_future(self._settle(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, request: Request) -> None:
        try:
            response = await request.response()
            ok = response is not None and 200 <= response.status < 300
        except Exception:  # the context closed under us: count the request as lost
            ok = False
        (self.delivered if ok else self.lost).extend(self._decode(request))
        self._pending.discard(request)

    def _on_failed(self, request: Request) -> None:
        if request in self._pending:
            self.lost.extend(self._decode(request))
            self._pending.discard(request)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait (bounded) until every capture request seen so far has an answer."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (self._pending or self._tasks) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)

    def names(self) -> Counter[str]:
        return Counter(e.event for e in self.delivered)

    def distinct_ids(self) -> list[str]:
        return sorted({e.distinct_id for e in self.delivered})
