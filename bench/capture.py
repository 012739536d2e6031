"""Events per second the capture endpoint ingests over loopback.

A uvicorn server running `python -m analytics serve` in a subprocess; concurrent httpx clients post
gzip batches of 50 posthog-js-shaped events (`{api_key, batch, sent_at}`, each with `offset`). Bodies are
built before the clock starts so the figure is the server's, not the generator's. Prints numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "phc_bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(batch_size: int, n: int) -> bytes:
    sent_at = datetime.now(UTC).isoformat()
    batch = [
        {
            "uuid": str(uuid.uuid4()),
            "event": "$pageview" if i % 3 else "video_progress",
            "distinct_id": f"user-{n % 400}",
            "offset": 50 * i,
            "properties": {
                "$current_url": f"http://127.0.0.1/title/{i}",
                "$session_id": f"s-{n}",
                "$device_id": f"d-{n % 400}",
                "$lib": "web",
                "$browser": "Chrome",
                "is_synthetic": True,
                "hogfleet_run_id": "bench",
                "hogfleet_session_id": f"s-{n}",
                "plan": "Premium",
                "progress": 25 * (i % 4),
            },
        }
        for i in range(batch_size)
    ]
    return gzip.compress(orjson.dumps({"api_key": TOKEN, "batch": batch, "sent_at": sent_at}))


async def _run(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, int]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal failures
            while True:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                r = await client.post(
                    f"{url}/i/v0/e/?compression=gzip-js",
                    content=body,
                    headers={"Content-Type": "text/plain"},
                )
                if r.status_code != 200:
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "events.sqlite"
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "analytics",
                "serve",
                "--port",
                str(port),
                "--db",
                str(db),
                "--token",
                TOKEN,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"{url}/flags/", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print("capture server did not start", file=sys.stderr)
                        return 1
                    time.sleep(0.1)
            bodies = [_body(args.batch_size, n) for n in range(args.batches)]
            # A short warm-up so connection setup and SQLite's first pages are not in the figure.
            asyncio.run(_run(url, [_body(args.batch_size, -1 - n) for n in range(20)], args.concurrency))
            elapsed, failures = asyncio.run(_run(url, bodies, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=15)
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM events WHERE event != ''").fetchone()[0]

    sent = args.batches * args.batch_size
    print(
        f"capture bench: {args.batches} gzip batches x {args.batch_size} events, {args.concurrency} clients"
    )
    print(
        f"  sent {sent} events in {elapsed:.2f}s, {failures} failed requests, "
        f"{stored - 20 * args.batch_size} stored"
    )
    print(f"  ingest rate: {sent / elapsed:,.0f} events/s ({args.batches / elapsed:,.0f} requests/s)")
    # The clients share the machine with the server: a busy machine lowers the figure, so say how busy.
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
