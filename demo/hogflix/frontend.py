"""Serving a HogFlix production build (`vite build` output) from the backend's own origin.

Like the app's Vercel config (`source/vercel.json`): files are served as they are, and every other GET
outside the API prefixes answers `index.html`, so React Router handles `/browse`, `/watch/<id>` and the
rest. The Supabase project URL is compiled into the JS bundle (`src/integrations/supabase/client.ts`);
each JS file is served with that origin replaced by the one the browser used, so supabase-js talks to
this server and the page's CSP (`connect-src 'self'`) allows it. Files on disk are never modified.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from demo.hogflix.auth import request_origin
from demo.hogflix.errors import ApiError, error_response

SUPABASE_ORIGIN = b"https://ygbftctnpvxhflpamjrt.supabase.co"
# Paths the SPA fallback never answers: the backend's APIs (and, as in vercel.json, /api and /ingest).
API_PREFIXES = ("/auth/", "/rest/", "/functions/", "/storage/", "/ingest/", "/api/")
API_ROOTS = frozenset(p.rstrip("/") for p in API_PREFIXES)
_REWRITE_CACHE_SIZE = 8
# Vite names assets by content hash, and the rewritten text depends only on the origin, which is part
# of the URL: a browser may keep them forever. Everything else must be revalidated.
_IMMUTABLE = "public, max-age=31536000, immutable"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in API_ROOTS


class Frontend:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.index = self.root / "index.html"
        self._rewritten: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _file(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if not relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None  # a `..` escape or a missing file: the SPA fallback (or a 404 for assets)
        return candidate

    async def serve(self, request: Request) -> Response:
        path = request.url.path
        if is_api_path(path):
            return JSONResponse(
                {
                    "code": "not_found",
                    "message": f"{request.method} {path} is not an endpoint of the local HogFlix backend",
                },
                status_code=404,
            )
        file = self._file(path)
        if file is None:
            if path.startswith("/assets/"):
                return JSONResponse(
                    {"code": "not_found", "message": f"no such asset: {path}"}, status_code=404
                )
            file = self.index  # a client-side route
        cache = _IMMUTABLE if path.startswith("/assets/") else "no-cache"
        if file.suffix == ".js":
            try:
                origin = request_origin(request)
            except ApiError as exc:
                return error_response(exc)
            body = await run_in_threadpool(self._with_origin, file, origin)  # a 2 MB read and replace
            return Response(
                body,
                media_type="text/javascript; charset=utf-8",
                headers={"Cache-Control": cache, "Vary": "Host"},
            )
        return FileResponse(file, headers={"Cache-Control": cache})

    def _with_origin(self, file: Path, origin: str) -> bytes:
        key = (str(file), file.stat().st_mtime_ns, origin)
        with self._lock:
            cached = self._rewritten.get(key)
            if cached is not None:
                self._rewritten.move_to_end(key)
                return cached
        body = file.read_bytes().replace(SUPABASE_ORIGIN, origin.encode("ascii"))
        with self._lock:
            self._rewritten[key] = body
            while len(self._rewritten) > _REWRITE_CACHE_SIZE:
                self._rewritten.popitem(last=False)
        return body
