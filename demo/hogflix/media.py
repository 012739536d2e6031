"""Local stand-ins for Supabase Storage: playable "video" files and poster images, made offline.

`get-video-url` hands the player a signed storage URL (`source/supabase/functions/get-video-url`).
Here that URL points at a WAV file of silence as long as the video: Chromium plays WAV in a `<video>`
element, so `loadedmetadata`, `timeupdate`, seeking and `currentTime` behave as with real footage and
the app's progress milestones fire. The file is 16-bit PCM, whose silence is all zero bytes, so it is
written sparse (header, then a truncate) and costs almost no disk however long the film. It is made at
first use and cached in the demo's data directory; playback uses HTTP Range requests.

Posters are SVGs drawn from the catalog's colour and title (no image assets, no network).
"""

from __future__ import annotations

import html
import os
import struct
import time
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from demo.catalog import Catalog
from demo.hogflix import jwt
from demo.hogflix.db import HogflixDB

SAMPLE_RATE = 8000
SAMPLE_BYTES = 2  # 16-bit mono
SIGNED_URL_TTL_S = 3600
MAX_DURATION_S = 6 * 3600


def wav_header(seconds: int) -> bytes:
    data = seconds * SAMPLE_RATE * SAMPLE_BYTES
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", 36 + data),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * SAMPLE_BYTES, SAMPLE_BYTES, 16),
            b"data",
            struct.pack("<I", data),
        )
    )


def silence_wav(directory: Path, seconds: int) -> Path:
    """The cached silent WAV of `seconds` length, written (sparse) on first use."""
    if not 1 <= seconds <= MAX_DURATION_S:
        raise ValueError(f"duration {seconds}s is outside 1..{MAX_DURATION_S}")
    header = wav_header(seconds)
    size = len(header) + seconds * SAMPLE_RATE * SAMPLE_BYTES
    path = directory / f"silence-{seconds}s-{SAMPLE_RATE}hz.wav"
    if path.is_file() and path.stat().st_size == size:
        return path
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(header)
        f.truncate(size)  # the zero-filled hole is the silence
    os.replace(tmp, path)  # atomic: a concurrent first use sees the whole file or none
    return path


def poster_svg(name: str, genre: str, hue: int) -> str:
    title = html.escape(name)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="270" viewBox="0 0 480 270">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},70%,45%)"/>'
        f'<stop offset="1" stop-color="hsl({(hue + 60) % 360},60%,18%)"/>'
        '</linearGradient></defs><rect width="480" height="270" fill="url(#g)"/>'
        '<text x="24" y="220" font-family="sans-serif" font-size="30" font-weight="700" fill="#fff">'
        f"{title}</text>"
        '<text x="24" y="250" font-family="sans-serif" font-size="16" fill="#ffffffcc">'
        f"{html.escape(genre)}</text></svg>"
    )


def _not_found(message: str) -> JSONResponse:
    # Storage API's error shape, plus code/message like the rest of the backend.
    return JSONResponse(
        {"statusCode": "404", "error": "not_found", "code": "not_found", "message": message}, status_code=404
    )


class Media:
    def __init__(self, db: HogflixDB, catalog: Catalog, directory: Path, secret: str) -> None:
        self.db = db
        self.catalog = catalog
        self.directory = directory
        self.secret = secret

    def signed_url(self, origin: str, video_path: str) -> str:
        token = jwt.encode(
            {"url": f"videos/{video_path}", "exp": int(time.time()) + SIGNED_URL_TTL_S}, self.secret
        )
        return f"{origin}/storage/v1/object/sign/videos/{video_path}?token={token}"

    async def signed_object(self, request: Request) -> Response:
        bucket, path = request.path_params["bucket"], request.path_params["path"]
        try:
            claims = jwt.decode(request.query_params.get("token", ""), self.secret)
        except jwt.JWTError as exc:
            return JSONResponse(
                {"statusCode": "400", "error": "InvalidJWT", "code": "InvalidJWT", "message": str(exc)},
                status_code=400,
            )
        if claims.get("url") != f"{bucket}/{path}" or bucket != "videos":
            return JSONResponse(
                {
                    "statusCode": "400",
                    "error": "InvalidSignature",
                    "code": "InvalidSignature",
                    "message": "the token was not issued for this object",
                },
                status_code=400,
            )
        duration = await run_in_threadpool(self._duration, path)
        if duration is None:
            return _not_found(f"Object videos/{path} not found")
        wav = await run_in_threadpool(silence_wav, self.directory, max(1, duration))
        return FileResponse(wav, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})

    def _duration(self, video_path: str) -> int | None:
        with self.db.connect() as conn:
            row = conn.execute("SELECT duration FROM hf_videos WHERE video_url = ?", (video_path,)).fetchone()
        return None if row is None else int(row["duration"])

    async def public_object(self, request: Request) -> Response:
        bucket, path = request.path_params["bucket"], request.path_params["path"]
        title = self.catalog.get(path.removesuffix(".svg")) if bucket == "thumbnails" else None
        if title is None or not path.endswith(".svg"):
            return _not_found(f"Object {bucket}/{path} not found")
        return Response(
            poster_svg(title.name, title.genre, title.hue),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )
