"""Fault injection for the demo: some page and API requests fail (500), are throttled (429) or are slow.

The fleet's resilience tests (tests/reliability/) run against these faults, so the spec is parsed
strictly: a typo in ``HOGFLEET_DEMO_FAULTS`` must fail loudly rather than silently run a fault-free
"resilience" test.
Static files, ``/healthz`` and the capture endpoint are never touched here; capture faults are the
capture app's own ``capture_error`` knob.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, fields
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message names the offending part."""


@dataclass(frozen=True)
class FaultSpec:
    error: float = 0.0
    ratelimit: float = 0.0
    latency_ms: int = 0
    # Only meaningful with latency_ms: by default every request is slowed.
    latency_rate: float = 1.0
    capture_error: float = 0.0
    seed: int | None = None

    @property
    def active(self) -> bool:
        return self.error > 0 or self.ratelimit > 0 or (self.latency_ms > 0 and self.latency_rate > 0)

    def describe(self) -> str:
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) != f.default and getattr(self, f.name) is not None
        ]
        return ",".join(parts) if parts else "none"


_RATES = ("error", "ratelimit", "latency_rate", "capture_error")


def parse_faults(spec: str | None) -> FaultSpec:
    """Parse ``"error=0.05,ratelimit=0.03,latency_ms=300,latency_rate=0.1,capture_error=0.2,seed=7"``."""
    if spec is None or not spec.strip():
        return FaultSpec()
    values: dict[str, Any] = {}
    known = {f.name for f in fields(FaultSpec)}
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise FaultSpecError(f"fault spec part {part!r} is not key=value")
        if key not in known:
            raise FaultSpecError(f"unknown fault {key!r} (known: {', '.join(sorted(known))})")
        if key in values:
            raise FaultSpecError(f"fault {key!r} given twice")
        if key in _RATES:
            try:
                rate = float(value)
            except ValueError:
                raise FaultSpecError(f"fault {key}={value!r} is not a number") from None
            if not 0.0 <= rate <= 1.0:
                raise FaultSpecError(f"fault {key}={value} must be a rate between 0 and 1")
            values[key] = rate
        else:
            try:
                number = int(value)
            except ValueError:
                raise FaultSpecError(f"fault {key}={value!r} is not an integer") from None
            if key == "latency_ms" and not 0 <= number <= 60_000:
                raise FaultSpecError(f"fault latency_ms={value} must be between 0 and 60000")
            values[key] = number
    if values.get("error", 0.0) + values.get("ratelimit", 0.0) > 1.0:
        raise FaultSpecError("fault rates error + ratelimit add up to more than 1")
    return FaultSpec(**values)


# Paths the fault middleware never touches: assets, the liveness probe and the capture endpoint.
_EXEMPT_PREFIXES = (
    "/static/",
    "/healthz",
    "/e/",
    "/i/",
    "/batch",
    "/capture",
    "/track",
    "/engage",
    "/flags",
    "/decide",
    "/array/",
    "/api/events",
    # With a HogFlix build (demo/hogflix/): its hashed assets, the storage objects the player streams,
    # and PostHog under the build's api_host.
    "/assets/",
    "/storage/",
    "/ingest/",
)
# Where supabase-js expects JSON, a fault answers JSON too (with code/message, as PostgREST's do).
_JSON_PREFIXES = ("/api/", "/rest/", "/auth/", "/functions/")


def is_exempt(path: str) -> bool:
    return path == "/e" or path.startswith(_EXEMPT_PREFIXES)


_ERROR_PAGE = (
    b"<!doctype html><html><head><title>HogFlix - error</title></head>"
    b'<body data-testid="error-page"><h1>Something went wrong</h1>'
    b"<p>HogFlix hit an unexpected error. Please try again.</p></body></html>"
)
_RATELIMIT_PAGE = (
    b"<!doctype html><html><head><title>HogFlix - slow down</title></head>"
    b'<body data-testid="error-page"><h1>Too many requests</h1><p>Please retry in a moment.</p></body></html>'
)


class FaultMiddleware:
    """Pure ASGI middleware (so it also wraps streaming responses and never buffers bodies)."""

    def __init__(self, app: ASGIApp, spec: FaultSpec) -> None:
        self.app = app
        self.spec = spec
        self._rng = random.Random(spec.seed)
        # Requests run on the event loop and on worker threads; the seeded sequence must stay one sequence.
        self._lock = threading.Lock()

    def _draw(self) -> tuple[float, float]:
        with self._lock:
            return self._rng.random(), self._rng.random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.spec.active or is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        fail, slow = self._draw()
        spec = self.spec
        if fail < spec.error:
            await _respond(send, 500, _ERROR_PAGE, scope, [])
            return
        if fail < spec.error + spec.ratelimit:
            await _respond(send, 429, _RATELIMIT_PAGE, scope, [(b"retry-after", b"1")])
            return
        if spec.latency_ms > 0 and slow < spec.latency_rate:
            await asyncio.sleep(spec.latency_ms / 1000)
        await self.app(scope, receive, send)


async def _respond(
    send: Send, status: int, page: bytes, scope: Scope, extra: list[tuple[bytes, bytes]]
) -> None:
    is_api = scope["path"].startswith(_JSON_PREFIXES)
    if is_api:
        body = (
            b'{"error": "injected fault", "code": "injected_fault", "message": "injected fault"}'
            if status == 500
            else b'{"error": "rate limited", "code": "rate_limited", "message": "rate limited"}'
        )
        ctype = b"application/json"
    else:
        body, ctype = page, b"text/html; charset=utf-8"
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
