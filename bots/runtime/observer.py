"""Watches the capture requests a page sends and decodes them with analytics' decoder.

Two paths, because browsers hide one kind of request from automation:
- ``fetch``/XHR capture requests are seen by a route on the capture URL pattern only (reading a
  Blob body needs interception: the plain ``request`` event carries no body for Blobs). The
  route continues the request untouched, so only capture traffic, a handful of requests per
  session, ever passes through Python.
- ``sendBeacon`` requests fired while a page is being left (every SDK flushes that way on
  ``pagehide``) are invisible to Playwright and CDP alike. An init script records each capture
  beacon's URL and bytes, synchronously, into the origin's localStorage (the *outbox*); the
  session reads the outbox from its final storage state and strips it before saving.

The fleet only ever reads what the page sends; it never sends or retries analytics itself.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import BrowserContext, Request, Response, Route

from analytics.decoder import DecodeError, decode_request_from_playwright
from analytics.events import CapturedEvent

OUTBOX_KEY = "__hogfleet_outbox"

_OUTBOX_SCRIPT = r"""
(() => {
  if (window.__hogfleetOutbox) return;
  window.__hogfleetOutbox = true;
  const pattern = new RegExp(%(pattern)s);
  const key = %(key)s;
  const parts = new WeakMap();
  const NativeBlob = window.Blob;
  // Remember what each Blob was made of, so a beacon's bytes can be read synchronously on pagehide.
  window.Blob = class extends NativeBlob {
    constructor(p, o) { super(p, o); try { parts.set(this, Array.from(p || [])); } catch (e) {} }
  };
  const bytes = (x) => {
    if (x == null) return new Uint8Array();
    if (typeof x === 'string') return new TextEncoder().encode(x);
    if (x instanceof ArrayBuffer) return new Uint8Array(x);
    if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    if (x instanceof URLSearchParams) return new TextEncoder().encode(x.toString());
    if (x instanceof NativeBlob && parts.has(x)) {
      const chunks = parts.get(x).map(bytes);
      if (chunks.some((c) => c === null)) return null;
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) { out.set(c, at); at += c.length; }
      return out;
    }
    return null;
  };
  const b64 = (u8) => {
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
    }
    return btoa(s);
  };
  const native = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = function (url, data) {
    const queued = native(url, data);
    try {
      const href = new URL(url, location.href).href;
      if (queued && pattern.test(href)) {
        const body = bytes(data);
        const type = (data && data.type) || (typeof data === 'string' ? 'text/plain' : '');
        const box = JSON.parse(localStorage.getItem(key) || '[]');
        box.push({ url: href, type: type, body: body === null ? null : b64(body) });
        localStorage.setItem(key, JSON.stringify(box));
      }
    } catch (e) { /* observation must never break the page */ }
    return queued;
  };
})();
"""


def outbox_script(pattern: re.Pattern[str]) -> str:
    return _OUTBOX_SCRIPT % {"pattern": json.dumps(pattern.pattern), "key": json.dumps(OUTBOX_KEY)}


@dataclass
class CaptureObserver:
    pattern: re.Pattern[str]
    on_event: Callable[[CapturedEvent], None] | None = None
    delivered: dict[str, CapturedEvent] = field(default_factory=dict)  # by uuid: SDKs resend
    lost: dict[str, CapturedEvent] = field(default_factory=dict)
    lost_why: dict[str, str] = field(default_factory=dict)  # uuid -> "HTTP 500", "net::ERR_...", ...
    requests: int = 0
    beacons: int = 0
    undecodable: int = 0
    rejected: set[str] = field(default_factory=set)  # uuids the endpoint answered non-2xx, for sure
    unconfirmed: set[str] = field(default_factory=set)  # beacons whose answer no one could see
    _pending: dict[Request, list[CapturedEvent]] = field(default_factory=dict)
    _issued: set[Request] = field(default_factory=set)  # capture requests not yet answered or failed
    _calls: set[Request] = field(default_factory=set)  # the page's other fetch/XHR calls in flight
    leaving: bool = False  # the session is leaving its last page

    async def attach(self, context: BrowserContext) -> None:
        await context.add_init_script(outbox_script(self.pattern))
        await context.route(self.pattern, self._on_route)
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("requestfailed", self._on_failed)

    def _on_request(self, request: Request) -> None:
        # Known here before the route handler runs: a capture request the driver holds for the route
        # is in flight too, and leaving the page now would abort it unseen.
        if request.resource_type == "ping":
            return
        if self.pattern.search(request.url):
            self._issued.add(request)
        elif request.resource_type in ("fetch", "xhr"):
            self._calls.add(request)

    async def settle(self, timeout_s: float, quiet_s: float) -> None:
        """Wait until the page's own fetch/XHR calls have been quiet for ``quiet_s`` (bounded): an
        app often records an action only once the call it makes for it has answered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        quiet_since: float | None = None
        while loop.time() < deadline:
            if self._calls:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= quiet_s:
                return
            await asyncio.sleep(0.05)

    def _decode(self, url: str, headers: dict[str, str], body: bytes | None) -> list[CapturedEvent]:
        try:
            return decode_request_from_playwright(url, headers, body, now=dt.datetime.now(dt.UTC)).events
        except DecodeError:
            self.undecodable += 1
            return []

    async def _on_route(self, route: Route) -> None:
        request = route.request
        events = self._decode(request.url, request.headers, request.post_data_buffer)
        if request.resource_type != "ping":  # beacons are counted from the outbox, never twice
            self.requests += 1
        # A beacon seen here is settled by its answer like any request: a 500 loses its events even
        # though the outbox recorded them as sent.
        self._pending[request] = events
        with contextlib.suppress(Exception):  # the context may be closing under a late flush
            await route.continue_()

    def _deliver(self, events: list[CapturedEvent]) -> None:
        for event in events:
            if event.uuid not in self.delivered:
                self.delivered[event.uuid] = event
                self.lost.pop(event.uuid, None)
                self.lost_why.pop(event.uuid, None)
                if self.on_event is not None:
                    self.on_event(event)

    def _on_response(self, response: Response) -> None:
        # Settled by the answer's status, which the event carries: no round trip to the driver
        # (``request.response()``) that fails once the context closes, so a request answered just
        # before the session ends is not mistaken for a lost one.
        self._issued.discard(response.request)
        self._calls.discard(response.request)
        events = self._pending.pop(response.request, None)
        if events is None:
            return
        if 200 <= response.status < 300:
            self.unconfirmed.difference_update(e.uuid for e in events)
            self._deliver(events)
        else:
            self._lose(events, f"HTTP {response.status}", answered=True)

    def _on_failed(self, request: Request) -> None:
        # Only requests that never got an answer are still pending here (an answer settles them).
        self._issued.discard(request)
        self._calls.discard(request)
        events = self._pending.pop(request, None)
        if events is None:
            return
        if self.leaving and "ERR_ABORTED" in (request.failure or ""):
            # Cut off by the session's own last navigation, after the wait for requests in flight:
            # the request was sent and may well have been stored. Counted on the page's word, as a
            # beacon is (``unconfirmed``); the ledger's event uuids let the store be checked.
            self.unconfirmed.update(e.uuid for e in events if e.uuid not in self.delivered)
            self._deliver(events)
            return
        self._lose(events, request.failure or "failed")

    def _lose(self, events: list[CapturedEvent], reason: str, answered: bool = False) -> None:
        for event in events:
            if answered and event.uuid in self.unconfirmed:
                # Counted on the outbox's word; the endpoint's own answer says it was not stored.
                self.unconfirmed.discard(event.uuid)
                self.delivered.pop(event.uuid, None)
            if event.uuid not in self.delivered:
                self.lost[event.uuid] = event
                self.lost_why[event.uuid] = reason
                if answered:
                    self.rejected.add(event.uuid)

    async def quiesce(self, timeout_s: float = 3.0) -> None:
        """Wait (bounded) for capture requests in flight, so leaving the page does not abort one
        whose fate we would then not know (it may or may not have reached the endpoint)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (self._pending or self._issued) and loop.time() < deadline:
            await asyncio.sleep(0.01)

    def take_outbox(self, state: dict[str, Any]) -> None:
        """Count the beacons recorded in the final storage state, and strip the outbox from it."""
        for origin in state.get("origins", []):
            kept = []
            for item in origin.get("localStorage", []):
                if item.get("name") != OUTBOX_KEY:
                    kept.append(item)
                    continue
                try:
                    entries = json.loads(item.get("value") or "[]")
                except ValueError:
                    continue
                for entry in entries if isinstance(entries, list) else []:
                    self.beacons += 1
                    body = base64.b64decode(entry["body"]) if entry.get("body") else b""
                    headers = {"content-type": str(entry.get("type") or "")}
                    events = self._decode(str(entry.get("url", "")), headers, body)
                    # A beacon's answer is invisible once the page is gone: unless its request was
                    # seen answered (either way), it counts as delivered but stays unconfirmed.
                    events = [e for e in events if e.uuid not in self.rejected]
                    self.unconfirmed.update(e.uuid for e in events if e.uuid not in self.delivered)
                    self._deliver(events)
            origin["localStorage"] = kept

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait (bounded) until every capture request seen so far has an answer."""
        await self.quiesce(timeout_s)
        unanswered = [e for events in self._pending.values() for e in events]
        self._lose(unanswered, f"no answer within {timeout_s:g} s")
        self._pending.clear()

    @property
    def capture_requests(self) -> int:
        return self.requests + self.beacons

    def lost_reasons(self) -> Counter[str]:
        return Counter(self.lost_why[uuid] for uuid in self.lost)

    def names(self) -> Counter[str]:
        return Counter(e.event for e in self.delivered.values())

    def distinct_ids(self) -> list[str]:
        return sorted({e.distinct_id for e in self.delivered.values()})
