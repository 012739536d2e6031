"""The PostHog-compatible capture endpoint as Starlette routes (mounted by demo/) or a standalone app."""

from __future__ import annotations

import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from analytics.decoder import CAPTURE_PATHS, MAX_BODY_BYTES, DecodeError, decode
from analytics.forward import Forwarder
from analytics.store import EventStore, StoredEvent

log = logging.getLogger("analytics.capture")

FLAGS_PATHS = ("/flags", "/decide")
EVENTS_API_PATH = "/api/events"
API_LIMIT_MAX = 10_000

# What posthog-js (flags v1/v2 and legacy decide) and the server SDKs accept as "no flags, no extras".
EMPTY_FLAGS: dict[str, Any] = {
    "featureFlags": {},
    "featureFlagPayloads": {},
    "flags": {},
    "errorsWhileComputingFlags": False,
    "quotaLimited": [],
    "sessionRecording": False,
    "supportedCompression": ["gzip", "gzip-js"],
    "autocapture_opt_out": False,
    "autocaptureExceptions": False,
    "capturePerformance": False,
    "heatmaps": False,
    "surveys": False,
    "siteApps": [],
    "toolbarParams": {},
    "isAuthenticated": False,
    "config": {"enable_collect_everything": True},
}


def remote_config(token: str) -> dict[str, Any]:
    """The remote config posthog-js fetches from `/array/<token>/config(.js)` before anything else."""
    return {
        "token": token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": False,
        "captureDeadClicks": False,
        "capturePerformance": False,
        "autocapture_opt_out": False,
        "autocaptureExceptions": False,
        "analytics": {"endpoint": "/i/v0/e/"},
        "elementsChainAsString": True,
        "sessionRecording": False,
        "heatmaps": False,
        "surveys": False,
        "defaultIdentifiedOnly": True,
    }


_ALLOW_METHODS = "GET, POST, OPTIONS"
_DEFAULT_ALLOW_HEADERS = "Content-Type, Content-Encoding, Authorization, X-Requested-With"


class _TooLarge(Exception):
    pass


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> Response:
    # PostHog's error shape (type/code/detail) so SDKs report the reason; "error" for humans and curl.
    kind = {400: "validation_error", 401: "authentication_error"}.get(status, "server_error")
    body = {"type": kind, "code": code, "detail": message, "attr": None, "error": message}
    return _json(body, status, headers)


def _cors_headers(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not origin:
        return {"Access-Control-Allow-Origin": "*"}
    # Echoing the Origin (rather than "*") is what lets posthog-js send with credentials.
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _preflight(request: Request) -> Response:
    headers = _cors_headers(request)
    headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
    headers["Access-Control-Allow-Headers"] = (
        request.headers.get("access-control-request-headers") or _DEFAULT_ALLOW_HEADERS
    )
    headers["Access-Control-Max-Age"] = "86400"
    return Response(status_code=204, headers=headers)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY_BYTES:
                raise _TooLarge
        except ValueError:
            pass
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _stored_json(s: StoredEvent) -> dict[str, Any]:
    e = s.event
    return {
        "uuid": e.uuid,
        "event": e.event,
        "distinct_id": e.distinct_id,
        "timestamp": e.timestamp.isoformat(),
        "properties": e.properties,
        "received_at": s.received_at.isoformat(),
    }


Endpoint = Callable[[Request], Awaitable[Response]]


def capture_routes(
    store: EventStore,
    *,
    tokens: Collection[str] | None = None,
    capture_error: float = 0.0,
    forward_to: str | None = None,
    rng_seed: int | None = None,
    forwarder: Forwarder | None = None,
) -> list[BaseRoute]:
    """Routes for capture, flags and the `/api/events` read API, to include in any Starlette app.

    `tokens`: when given, events whose project token is not in it get a 401. `capture_error`: the share
    of capture requests answered with a 500 and not stored (the site really loses them).
    """
    if not 0.0 <= capture_error <= 1.0:
        raise ValueError(f"capture_error must be within [0, 1], got {capture_error}")
    allowed = frozenset(tokens) if tokens is not None else None
    rng = random.Random(rng_seed)
    fwd = forwarder if forwarder is not None else (Forwarder(forward_to) if forward_to else None)

    def make_capture(engage_path: str) -> Endpoint:
        async def capture(request: Request) -> Response:
            if request.method == "OPTIONS":
                return _preflight(request)
            cors = _cors_headers(request)
            try:
                body = await _read_body(request)
            except _TooLarge:
                return _error(400, "payload_too_large", "body over 20 MB", cors)
            try:
                decoded = decode(
                    body,
                    request.headers.get("content-type"),
                    request.query_params,
                    now=datetime.now(UTC),
                    path=engage_path,
                )
            except DecodeError as exc:
                return _error(400, "invalid_payload", str(exc), cors)
            if allowed is not None and any(e.token not in allowed for e in decoded.events):
                return _error(401, "invalid_api_key", "invalid or missing project API key", cors)
            if capture_error and rng.random() < capture_error:
                return _error(500, "injected_failure", "injected capture failure", cors)
            try:
                # SQLite may wait on the disk; in a worker thread that wait does not stall the event loop.
                await run_in_threadpool(store.insert, decoded.events)
            except sqlite3.Error as exc:
                log.error("storing %d events failed: %s", len(decoded.events), exc)
                return _error(503, "store_unavailable", "event store unavailable", cors)
            if fwd is not None:
                fwd.submit(decoded.events)
            return _json({"status": 1}, 200, cors)

        return capture

    async def flags(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight(request)
        # The body (token, distinct_id) is irrelevant to an empty flag set, but drain it politely.
        try:
            await _read_body(request)
        except _TooLarge:
            return _error(400, "payload_too_large", "body over 20 MB", _cors_headers(request))
        return _json(EMPTY_FLAGS, 200, _cors_headers(request))

    async def config_json(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight(request)
        return _json(remote_config(request.path_params["token"]), 200, _cors_headers(request))

    async def config_js(request: Request) -> Response:
        token = request.path_params["token"]
        wrapped = orjson.dumps({"config": remote_config(token), "siteApps": []}).decode()
        script = (
            "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
            f"window._POSTHOG_REMOTE_CONFIG[{orjson.dumps(token).decode()}]={wrapped};}})();"
        )
        return Response(script, media_type="application/javascript", headers=_cors_headers(request))

    async def events_api(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight(request)
        cors = _cors_headers(request)
        q = request.query_params
        try:
            since = _parse_since(q.get("since"))
            limit = int(q.get("limit") or 1000)
            offset = int(q.get("offset") or 0)
        except ValueError as exc:
            return _error(400, "invalid_query", str(exc), cors)
        if not 0 <= limit <= API_LIMIT_MAX or offset < 0:
            return _error(400, "invalid_query", f"limit must be 0..{API_LIMIT_MAX} and offset >= 0", cors)
        props = {k[len("property.") :]: v for k, v in q.multi_items() if k.startswith("property.")}
        # In a thread: the store's lock may be held by an insert waiting on the disk.
        rows = await run_in_threadpool(
            store.query_stored,
            distinct_id=q.get("distinct_id") or None,
            event=q.get("event") or None,
            since=since,
            limit=limit,
            properties=props or None,
            offset=offset,
        )
        return _json({"results": [_stored_json(r) for r in rows]}, 200, cors)

    methods = ["GET", "POST", "OPTIONS"]
    routes: list[BaseRoute] = []
    for path in sorted(CAPTURE_PATHS):
        endpoint = make_capture(path)
        routes.append(Route(path + "/", endpoint, methods=methods))
        routes.append(Route(path, endpoint, methods=methods))
    for path in FLAGS_PATHS:
        routes.append(Route(path + "/", flags, methods=methods))
        routes.append(Route(path, flags, methods=methods))
    # posthog-js fetches its remote config from here before it asks for flags.
    routes.append(Route("/array/{token}/config", config_json, methods=["GET", "OPTIONS"]))
    routes.append(Route("/array/{token}/config.js", config_js, methods=["GET"]))
    routes.append(Route(EVENTS_API_PATH, events_api, methods=["GET", "OPTIONS"]))
    routes.append(Route(EVENTS_API_PATH + "/", events_api, methods=["GET", "OPTIONS"]))
    return routes


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace(" ", "+")  # an unescaped '+' in the query string arrives as a space
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"since is not an ISO 8601 time: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def create_capture_app(
    store: EventStore,
    *,
    tokens: Collection[str] | None = None,
    capture_error: float = 0.0,
    forward_to: str | None = None,
    rng_seed: int | None = None,
) -> Starlette:
    """A standalone app serving only the capture endpoint (`python -m analytics serve`)."""
    forwarder = Forwarder(forward_to) if forward_to else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if forwarder is not None:
            await forwarder.aclose()

    routes = capture_routes(
        store,
        tokens=tokens,
        capture_error=capture_error,
        rng_seed=rng_seed,
        forwarder=forwarder,
    )
    return Starlette(routes=routes, lifespan=lifespan)
