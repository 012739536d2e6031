"""Best-effort forwarding of accepted batches to a real PostHog host.

Analytics events go to `/batch/` (as posthog-python sends them); session-recording `$snapshot` events go
to `/s/`, PostHog's replay capture endpoint, where posthog-js itself sends them
(`lazy-loaded-session-recorder.js`, `BASE_ENDPOINT`), in the same batch shape.

Forwarding never fails a capture request: the local store is the source of truth for the demo, and a
slow or broken upstream must not slow the page down. Failures are logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import httpx

from analytics.events import CapturedEvent

log = logging.getLogger("analytics.forward")

# Beyond this many requests in flight the upstream is not keeping up; dropping is better than
# growing memory without bound inside the capture server.
MAX_IN_FLIGHT = 200
BATCH_PATH = "/batch/"
RECORDINGS_PATH = "/s/"


def batch_body(api_key: str, events: Sequence[CapturedEvent]) -> dict[str, Any]:
    """The `/batch/` body PostHog's capture accepts (as posthog-python sends it)."""
    return {
        "api_key": api_key,
        "batch": [
            {
                "uuid": e.uuid,
                "event": e.event,
                "distinct_id": e.distinct_id,
                "timestamp": e.timestamp.isoformat(),
                "properties": e.properties,
            }
            for e in events
        ],
    }


class Forwarder:
    def __init__(
        self, host: str, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ):
        self.host = host.rstrip("/")
        self.url = self.host + BATCH_PATH
        self.recordings_url = self.host + RECORDINGS_PATH
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, events: Sequence[CapturedEvent]) -> None:
        """Schedule the analytics batch on the running loop and return at once."""
        self._submit(self.url, events)

    def submit_recordings(self, snapshots: Sequence[CapturedEvent]) -> None:
        """Schedule `$snapshot` events (unchanged, still as posthog-js sent them) for PostHog's `/s/`."""
        self._submit(self.recordings_url, snapshots)

    def _submit(self, url: str, events: Sequence[CapturedEvent]) -> None:
        by_token: dict[str, list[CapturedEvent]] = defaultdict(list)
        for e in events:
            if e.token:
                by_token[e.token].append(e)
            else:
                log.warning("not forwarding event %s: it has no project token", e.uuid)
        for token, group in by_token.items():
            if len(self._tasks) >= MAX_IN_FLIGHT:
                log.warning("forwarding backlog full; dropped a batch of %d events", len(group))
                continue
            task = asyncio.get_running_loop().create_task(self._post(url, batch_body(token, group)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, body: dict[str, Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        try:
            response = await self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            log.warning("forwarding %d events to %s failed: %s", len(body["batch"]), url, type(exc).__name__)
            return
        if response.status_code >= 400:
            log.warning(
                "forwarding %d events to %s failed: HTTP %d", len(body["batch"]), url, response.status_code
            )

    async def drain(self) -> None:
        """Wait for in-flight forwards (tests, shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
