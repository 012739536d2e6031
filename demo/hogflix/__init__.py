"""A Supabase-compatible local backend that lets the real HogFlix production build run offline.

`hogflix_routes` answers, on the one origin that also serves the build: GoTrue (`/auth/v1`), PostgREST
(`/rest/v1`, RPCs under `/rest/v1/rpc`), edge functions (`/functions/v1`), the storage objects those
hand out (`/storage/v1`), PostHog's endpoints (`/ingest`, as the build's `VITE_POSTHOG_HOST`) and
finally the build itself with its SPA fallback.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router, request_response

from analytics.capture import capture_routes
from analytics.sdk import is_installed, package_dir
from analytics.store import EventStore
from demo.catalog import get_catalog
from demo.hogflix.auth import Auth
from demo.hogflix.db import HogflixDB
from demo.hogflix.frontend import Frontend
from demo.hogflix.functions import Functions
from demo.hogflix.media import Media
from demo.hogflix.rest import Rest
from demo.hogflix.rpc import Rpc

_TABLE_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"]


async def _auth_not_found(request: Request) -> Response:
    return JSONResponse(
        {
            "code": "not_found",
            "message": f"{request.method} {request.url.path} is not supported by the local GoTrue",
        },
        status_code=404,
    )


def hogflix_routes(
    *,
    frontend: Path,
    db_path: Path,
    secret: str,
    store: EventStore,
    token: str,
    capture_error: float = 0.0,
    rng_seed: int | None = None,
) -> list[BaseRoute]:
    """The backend's routes, the build's catch-all last; `secret` is the demo's per-database key."""
    # A key of its own for tokens, so a JWT can never double as a session cookie signature or vice versa.
    jwt_secret = hmac.new(secret.encode(), b"hogflix-supabase-jwt", hashlib.sha256).hexdigest()
    catalog = get_catalog()
    db = HogflixDB(db_path, catalog)
    auth = Auth(db, jwt_secret)
    media = Media(db, catalog, db_path.parent / "hogflix-media", jwt_secret)
    rest = Rest(db, auth)
    rpc = Rpc(db, auth)
    functions = Functions(db, auth, catalog, media, store, token)
    site = Frontend(frontend)
    ingest = capture_routes(
        store,
        # The build carries its own project key (VITE_POSTHOG_KEY); events are stored with it whatever
        # it is, so a rebuilt frontend needs no matching demo setting.
        tokens=None,
        capture_error=capture_error,
        rng_seed=rng_seed,
        # posthog-js loads its recorder and other extensions from /ingest/static/ (session recording
        # cannot start without it); the set-up installs the pinned package (`make sdk`).
        sdk_dir=package_dir() if is_installed() else None,
    )
    return [
        Mount("/auth/v1", app=Router(routes=auth.routes(), default=request_response(_auth_not_found))),
        Route("/rest/v1/rpc/{name}", rpc.endpoint, methods=["POST", "OPTIONS"]),
        Route("/rest/v1/{table}", rest.endpoint, methods=_TABLE_METHODS),
        Route("/functions/v1/{name}", functions.endpoint, methods=["POST", "GET", "OPTIONS"]),
        Route("/storage/v1/object/sign/{bucket}/{path:path}", media.signed_object, methods=["GET", "HEAD"]),
        Route("/storage/v1/object/public/{bucket}/{path:path}", media.public_object, methods=["GET", "HEAD"]),
        # Every PostHog route analytics/capture.py defines, under the build's api_host; an unknown
        # /ingest/* path gets the mounted router's immediate 404.
        Mount("/ingest", routes=ingest),
        Route("/{path:path}", site.serve, methods=["GET", "HEAD"]),
    ]
