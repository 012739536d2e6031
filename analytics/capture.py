"""The PostHog-compatible capture endpoint as Starlette routes (mounted by demo/) or a standalone app."""

from __future__ import annotations

import logging
import random
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from analytics.decoder import CAPTURE_PATHS, MAX_BODY_BYTES, DecodeError, decode, decode_json_body
from analytics.flags import FlagSet, default_flags
from analytics.forward import Forwarder
from analytics.recordings import (
    RECORDING_PATHS,
    RecordingChunk,
    decompress_rrweb_event,
    is_snapshot,
    ms_to_datetime,
    split_events,
)
from analytics.store import EventStore, RecordingSummary, StoredEvent

log = logging.getLogger("analytics.capture")

FLAGS_PATHS = ("/flags", "/decide")
EVENTS_API_PATH = "/api/events"
RECORDINGS_API_PATH = "/api/recordings"
STATIC_CACHE_CONTROL = "public, max-age=86400"
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


def session_recording_config() -> dict[str, Any]:
    """Replay settings as PostHog sends them in `/flags?config=true` and the remote config.

    posthog-js 1.347.2 (`lib/src/extensions/replay/session-recording.js`, `_persistRemoteConfig`) records
    only when this is an object; it posts snapshots to `endpoint` and loads `scriptConfig.script` or,
    when that is null, `/static/lazy-recorder.js`. No sample rate and no minimum duration: every
    session is kept, however short, as the app's force-start (`source/src/main.tsx`) intends.
    """
    return {
        "endpoint": "/s/",
        "consoleLogRecordingEnabled": True,
        "recorderVersion": "v2",
        "sampleRate": None,
        "minimumDurationMilliseconds": None,
        "linkedFlag": None,
        "networkPayloadCapture": None,
        "masking": None,
        "urlTriggers": [],
        "urlBlocklist": [],
        "eventTriggers": [],
        "triggerMatchType": None,
        "scriptConfig": None,
        "recordCanvas": False,
        "canvasFps": None,
        "canvasQuality": None,
    }


def flags_config() -> dict[str, Any]:
    """The config part of a `/flags?v=2&config=true` answer: like EMPTY_FLAGS, with replay on.

    Unless `__preview_remote_config` is set, posthog-js 1.347.2 takes its whole remote config from the
    first `/flags` answer (`posthog-featureflags.js`: `_instance._onRemoteConfig(response.json)`).
    """
    return {**EMPTY_FLAGS, "sessionRecording": session_recording_config()}


def remote_config(token: str, *, has_feature_flags: bool = True) -> dict[str, Any]:
    """The remote config posthog-js fetches from `/array/<token>/config(.js)` before anything else."""
    return {
        "token": token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": has_feature_flags,
        "captureDeadClicks": False,
        "capturePerformance": False,
        "autocapture_opt_out": False,
        "autocaptureExceptions": False,
        "analytics": {"endpoint": "/i/v0/e/"},
        "elementsChainAsString": True,
        "sessionRecording": session_recording_config(),
        "heatmaps": False,
        "surveys": False,
        "defaultIdentifiedOnly": True,
    }


def flags_response(
    flags: FlagSet, distinct_id: str | None, person_properties: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A whole `/flags?v=2` answer: config, evaluated flags, and the request id posthog-js reports."""
    return {
        **flags_config(),
        **flags.response(distinct_id, person_properties),
        "requestId": str(uuid.uuid4()),
        "evaluatedAt": int(time.time() * 1000),
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


def _chunk_json(c: RecordingChunk, *, with_data: bool) -> dict[str, Any]:
    first, last = ms_to_datetime(c.first_ms), ms_to_datetime(c.last_ms)
    out: dict[str, Any] = {
        "uuid": c.uuid,
        "session_id": c.session_id,
        "window_id": c.window_id,
        "distinct_id": c.distinct_id,
        "timestamp": c.timestamp.isoformat(),
        "event_count": c.event_count,
        "bytes": c.size,
        "first_timestamp": first.isoformat() if first else None,
        "last_timestamp": last.isoformat() if last else None,
    }
    if with_data:
        out["snapshot_data"] = [decompress_rrweb_event(e) for e in c.data]
    return out


def _summary_json(r: RecordingSummary) -> dict[str, Any]:
    first, last = ms_to_datetime(r.first_ms), ms_to_datetime(r.last_ms)
    return {
        "session_id": r.session_id,
        "distinct_id": r.distinct_id,
        "chunks": r.chunks,
        "event_count": r.event_count,
        "bytes": r.size,
        "start": first.isoformat() if first else None,
        "end": last.isoformat() if last else None,
    }


def sdk_scripts(sdk_dir: Path) -> dict[str, Path]:
    """The servable extension scripts of an installed posthog-js: `dist/<name>.js` by name.

    Only plain files directly in `dist/` are listed, so a request can never reach anything else.
    """
    dist = sdk_dir / "dist"
    if not dist.is_dir():
        raise ValueError(f"{sdk_dir} is not an installed posthog-js package (no dist/)")
    return {p.name[: -len(".js")]: p for p in sorted(dist.glob("*.js")) if p.is_file() and not p.is_symlink()}


Endpoint = Callable[[Request], Awaitable[Response]]


def capture_routes(
    store: EventStore,
    *,
    tokens: Collection[str] | None = None,
    capture_error: float = 0.0,
    forward_to: str | None = None,
    rng_seed: int | None = None,
    forwarder: Forwarder | None = None,
    flags: FlagSet | None = None,
    sdk_dir: Path | None = None,
) -> list[BaseRoute]:
    """Routes for capture, recordings, flags, extension scripts and the read APIs, for any Starlette app.

    `tokens`: when given, events whose project token is not in it get a 401. `capture_error`: the share
    of capture requests answered with a 500 and not stored (the site really loses them). `flags`: the
    flag set `/flags` evaluates (default: the shipped `analytics/flags.toml`). `sdk_dir`: an installed
    posthog-js package (`analytics.sdk.ensure_posthog_js()`) whose `dist/*.js` are served at
    `/static/<name>.js`, where posthog-js lazily loads its recorder and other extensions.

    Mounted under a prefix (`Mount("/ingest", routes=capture_routes(...))`), every path the routes do
    not know answers 404 from the mount itself, never reaching the host app's other routes.
    """
    if not 0.0 <= capture_error <= 1.0:
        raise ValueError(f"capture_error must be within [0, 1], got {capture_error}")
    allowed = frozenset(tokens) if tokens is not None else None
    rng = random.Random(rng_seed)
    fwd = forwarder if forwarder is not None else (Forwarder(forward_to) if forward_to else None)
    flag_set = flags if flags is not None else default_flags()
    scripts = sdk_scripts(sdk_dir) if sdk_dir is not None else {}

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
                # `$snapshot` events are recordings wherever they arrive (`/s/` in posthog-js 1.347.2).
                events, chunks = split_events(decoded.events)
            except DecodeError as exc:
                return _error(400, "invalid_payload", str(exc), cors)
            if allowed is not None and any(e.token not in allowed for e in decoded.events):
                return _error(401, "invalid_api_key", "invalid or missing project API key", cors)
            if capture_error and rng.random() < capture_error:
                return _error(500, "injected_failure", "injected capture failure", cors)
            try:
                # SQLite may wait on the disk; in a worker thread that wait does not stall the event loop.
                await run_in_threadpool(store.insert_batch, events, chunks)
            except sqlite3.Error as exc:
                log.error("storing %d events failed: %s", len(decoded.events), exc)
                return _error(503, "store_unavailable", "event store unavailable", cors)
            if fwd is not None:
                if events:
                    fwd.submit(events)
                if chunks:
                    fwd.submit_recordings([e for e in decoded.events if is_snapshot(e)])
            return _json({"status": 1}, 200, cors)

        return capture

    async def flags_endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight(request)
        cors = _cors_headers(request)
        try:
            body = await _read_body(request)
        except _TooLarge:
            return _error(400, "payload_too_large", "body over 20 MB", cors)
        try:
            # posthog-js posts `data=<base64 JSON>` (`compression: Base64` in posthog-featureflags.js).
            payload = decode_json_body(body, request.headers.get("content-type"), request.query_params)
        except DecodeError as exc:
            return _error(400, "invalid_payload", str(exc), cors)
        payload = payload if isinstance(payload, dict) else {}
        distinct_id = payload.get("distinct_id")
        person_properties = payload.get("person_properties")
        return _json(
            flags_response(
                flag_set,
                distinct_id if isinstance(distinct_id, str) and distinct_id else None,
                person_properties if isinstance(person_properties, dict) else None,
            ),
            200,
            cors,
        )

    has_flags = any(f.active for f in flag_set.flags)

    async def config_json(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight(request)
        config = remote_config(request.path_params["token"], has_feature_flags=has_flags)
        return _json(config, 200, _cors_headers(request))

    async def web_experiments(request: Request) -> Response:
        # posthog-js asks for no-code web experiments on every page load unless the site disables
        # them (HogFlix does not): PostHog answers an empty list, and so do we, so the app's request
        # error hook stays quiet.
        if request.method == "OPTIONS":
            return _preflight(request)
        return _json({"experiments": []}, 200, _cors_headers(request))

    async def config_js(request: Request) -> Response:
        token = request.path_params["token"]
        config = remote_config(token, has_feature_flags=has_flags)
        wrapped = orjson.dumps({"config": config, "siteApps": []}).decode()
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

    async def recordings_api(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight(request)
        cors = _cors_headers(request)
        q = request.query_params
        try:
            limit = int(q.get("limit") or 1000)
            offset = int(q.get("offset") or 0)
        except ValueError as exc:
            return _error(400, "invalid_query", str(exc), cors)
        if not 0 <= limit <= API_LIMIT_MAX or offset < 0:
            return _error(400, "invalid_query", f"limit must be 0..{API_LIMIT_MAX} and offset >= 0", cors)
        with_data = q.get("data", "") in ("1", "true", "yes")
        session_id = q.get("session_id") or None
        distinct_id = q.get("distinct_id") or None
        chunks = await run_in_threadpool(
            store.query_recordings,
            session_id,
            distinct_id,
            limit=limit,
            offset=offset,
            with_data=with_data,
        )
        sessions = await run_in_threadpool(store.recording_sessions, session_id, distinct_id)
        try:
            results = [_chunk_json(c, with_data=with_data) for c in chunks]
        except DecodeError as exc:
            return _error(500, "corrupt_recording", f"stored recording cannot be decompressed: {exc}", cors)
        return _json({"results": results, "sessions": [_summary_json(r) for r in sessions]}, 200, cors)

    async def static_script(request: Request) -> Response:
        path = scripts.get(request.path_params["name"])
        if path is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": STATIC_CACHE_CONTROL, **_cors_headers(request)}
        # posthog-js injects these as <script crossorigin="anonymous">, hence the CORS header.
        return FileResponse(path, media_type="application/javascript; charset=utf-8", headers=headers)

    methods = ["GET", "POST", "OPTIONS"]
    routes: list[BaseRoute] = []
    for path in sorted(CAPTURE_PATHS | RECORDING_PATHS):
        endpoint = make_capture(path)
        routes.append(Route(path + "/", endpoint, methods=methods))
        routes.append(Route(path, endpoint, methods=methods))
    for path in FLAGS_PATHS:
        routes.append(Route(path + "/", flags_endpoint, methods=methods))
        routes.append(Route(path, flags_endpoint, methods=methods))
    # posthog-js fetches its remote config from here before it asks for flags.
    routes.append(Route("/array/{token}/config", config_json, methods=["GET", "OPTIONS"]))
    routes.append(Route("/array/{token}/config.js", config_js, methods=["GET"]))
    routes.append(Route("/api/web_experiments", web_experiments, methods=["GET", "OPTIONS"]))
    routes.append(Route("/api/web_experiments/", web_experiments, methods=["GET", "OPTIONS"]))
    routes.append(Route(EVENTS_API_PATH, events_api, methods=["GET", "OPTIONS"]))
    routes.append(Route(EVENTS_API_PATH + "/", events_api, methods=["GET", "OPTIONS"]))
    routes.append(Route(RECORDINGS_API_PATH, recordings_api, methods=["GET", "OPTIONS"]))
    routes.append(Route(RECORDINGS_API_PATH + "/", recordings_api, methods=["GET", "OPTIONS"]))
    if scripts:
        routes.append(Route("/static/{name}.js", static_script, methods=["GET"]))
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
    flags: FlagSet | None = None,
    sdk_dir: Path | None = None,
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
        flags=flags,
        sdk_dir=sdk_dir,
    )
    return Starlette(routes=routes, lifespan=lifespan)
