"""Reading back what was ingested: PostHog's HogQL query API, or the demo endpoint's `/api/events`.

Both readers implement `IngestionReader`, so `hogfleet verify` compares what the browsers sent with
what arrived without caring where analytics are read. Events are attributed to a fleet run and session
through the super properties `hogfleet_run_id` and `hogfleet_session_id`.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

RUN_ID_PROPERTY = "hogfleet_run_id"
SESSION_ID_PROPERTY = "hogfleet_session_id"
# Past this many distinct sessions a HogQL answer would be truncated; one run never has that many.
_HOGQL_ROW_LIMIT = 10_000


class QueryError(Exception):
    """Reading ingested events failed. The message never contains the API key."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class IngestionReader(Protocol):
    def count_events_by_name(self, run_id: str, since: datetime) -> dict[str, int]:
        """Ingested events of the run since `since`, counted per event name."""
        ...

    def count_events_by_session(self, run_id: str, since: datetime) -> dict[str, dict[str, int]]:
        """Ingested events of the run since `since`, per `hogfleet_session_id`, per event name."""
        ...


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


class PostHogQueryClient:
    """A small client of PostHog's query API (`POST /api/projects/<id>/query/`) with a personal API key."""

    def __init__(
        self,
        host: str,
        project_id: str,
        personal_api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not personal_api_key:
            raise QueryError("no PostHog personal API key given")
        self.host = host.rstrip("/")
        self.project_id = str(project_id)
        self._key = personal_api_key
        self._client = httpx.Client(
            base_url=self.host,
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {personal_api_key}"},
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "[redacted]")

    def hogql(self, query: str, values: Mapping[str, Any] | None = None) -> list[list[Any]]:
        """Run a HogQL query; `{name}` placeholders are filled from `values` by PostHog (no injection)."""
        body: dict[str, Any] = {"query": {"kind": "HogQLQuery", "query": query}}
        if values:
            body["query"]["values"] = dict(values)
        path = f"/api/projects/{self.project_id}/query/"
        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise QueryError(
                self._scrub(f"PostHog query API at {self.host} unreachable: {type(exc).__name__}: {exc}")
            ) from None
        if response.status_code >= 400:
            raise QueryError(
                self._scrub(
                    f"PostHog query API at {self.host} answered HTTP {response.status_code}: "
                    f"{_error_detail(response)}"
                ),
                status_code=response.status_code,
            )
        try:
            payload = response.json()
        except ValueError:
            raise QueryError(f"PostHog query API at {self.host} answered non-JSON") from None
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list) or not all(isinstance(row, list) for row in results):
            raise QueryError(f"PostHog query API at {self.host} answered without a results table")
        return results

    def count_events_by_name(self, run_id: str, since: datetime) -> dict[str, int]:
        rows = self.hogql(
            f"SELECT event, count() FROM events WHERE properties.{RUN_ID_PROPERTY} = {{run_id}} "
            "AND timestamp >= toDateTime({since}, 'UTC') GROUP BY event ORDER BY event "
            f"LIMIT {_HOGQL_ROW_LIMIT}",
            {"run_id": run_id, "since": _utc(since).strftime("%Y-%m-%d %H:%M:%S")},
        )
        return {str(row[0]): int(row[1]) for row in rows}

    def count_events_by_session(self, run_id: str, since: datetime) -> dict[str, dict[str, int]]:
        rows = self.hogql(
            f"SELECT properties.{SESSION_ID_PROPERTY}, event, count() FROM events "
            f"WHERE properties.{RUN_ID_PROPERTY} = {{run_id}} "
            "AND timestamp >= toDateTime({since}, 'UTC') GROUP BY 1, 2 ORDER BY 1, 2 "
            f"LIMIT {_HOGQL_ROW_LIMIT}",
            {"run_id": run_id, "since": _utc(since).strftime("%Y-%m-%d %H:%M:%S")},
        )
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for session, event, n in rows:
            out[str(session or "")][str(event)] = int(n)
        return dict(out)

    def close(self) -> None:
        self._client.close()


def _error_detail(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(payload, dict):
        for key in ("detail", "error", "message"):
            if isinstance(payload.get(key), str):
                return str(payload[key])[:200]
    return str(payload)[:200]


class DemoQueryClient:
    """Reads the embedded capture endpoint's `/api/events`, page by page."""

    def __init__(
        self, base_url: str, *, transport: httpx.BaseTransport | None = None, page_size: int = 5000
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._page_size = page_size
        self._client = httpx.Client(base_url=self.base_url, transport=transport, timeout=30.0)

    def events(self, run_id: str, since: datetime) -> list[dict[str, Any]]:
        """Every stored event of the run since `since`, as the API returns them."""
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            params: dict[str, str | int] = {
                f"property.{RUN_ID_PROPERTY}": run_id,
                "since": _utc(since).isoformat(),
                "limit": self._page_size,
                "offset": offset,
            }
            try:
                response = self._client.get("/api/events", params=params)
            except httpx.HTTPError as exc:
                raise QueryError(
                    f"capture endpoint at {self.base_url} unreachable: {type(exc).__name__}"
                ) from None
            if response.status_code >= 400:
                raise QueryError(
                    f"capture endpoint at {self.base_url} answered HTTP {response.status_code}: "
                    f"{_error_detail(response)}",
                    status_code=response.status_code,
                )
            try:
                page = response.json()["results"]
            except (ValueError, KeyError, TypeError):
                raise QueryError(f"capture endpoint at {self.base_url} answered without results") from None
            out.extend(page)
            if len(page) < self._page_size:
                return out
            offset += len(page)

    def count_events_by_name(self, run_id: str, since: datetime) -> dict[str, int]:
        return dict(sorted(Counter(str(e["event"]) for e in self.events(run_id, since)).items()))

    def count_events_by_session(self, run_id: str, since: datetime) -> dict[str, dict[str, int]]:
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for e in self.events(run_id, since):
            session = (e.get("properties") or {}).get(SESSION_ID_PROPERTY)
            out[str(session or "")][str(e["event"])] += 1
        return {s: dict(c) for s, c in out.items()}

    def close(self) -> None:
        self._client.close()


def wait_for_counts(
    reader: IngestionReader,
    run_id: str,
    since: datetime,
    expected: Mapping[str, int],
    *,
    timeout: float,
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, int]:
    """Poll until every expected count has arrived or `timeout` passes; returns the last counts.

    Real ingestion lags by seconds to minutes, so a single read would report false losses.
    """
    deadline = clock() + timeout
    while True:
        counts = reader.count_events_by_name(run_id, since)
        if all(counts.get(name, 0) >= n for name, n in expected.items()) or clock() >= deadline:
            return counts
        sleep(min(interval, max(0.0, deadline - clock())))
