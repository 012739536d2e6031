"""Did what the browsers sent arrive where analytics are read? The reconciliation ``hogfleet verify``
prints.

Sent counts come from the date's ledger(s): every event the capture observer saw leave a page,
per session. Ingested counts come from the analytics store, attributed through the super
properties every fleet session carries (``hogfleet_run_id``, ``hogfleet_session_id``): the demo's
``/api/events`` (the embedded capture endpoint, started on the state dir's data just to read it),
another capture endpoint's ``/api/events`` by URL, or PostHog's HogQL query API.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analytics.query import DemoQueryClient, IngestionReader, PostHogQueryClient, QueryError
from bots.records.ledger import DONE, LedgerRecord
from bots.runtime.target import DEMO, DemoProcess
from flows.profile import validate_base_url
from personas.errors import HogfleetError

POSTHOG = "posthog"
DEFAULT_POSTHOG_HOST = "https://us.posthog.com"
DEFAULT_WAIT_POSTHOG_S = 60.0
# The demo stores each capture request before answering it: nothing more arrives after a run.
DEFAULT_WAIT_LOCAL_S = 5.0
# Client timestamps run on the persona's machine (and a fast-forwarded player clock only moves
# them later); an hour of slack keeps `since` safely before a session's first event.
SINCE_SLACK = dt.timedelta(hours=1)


@dataclass
class SessionCheck:
    session_id: str
    persona: str
    run_id: str
    started_at: dt.datetime
    sent: Counter[str] = field(default_factory=Counter)
    ingested: Counter[str] = field(default_factory=Counter)

    def missing(self) -> dict[str, int]:
        return {
            name: n - self.ingested[name] for name, n in sorted(self.sent.items()) if n > self.ingested[name]
        }


def sessions_to_check(records: Sequence[LedgerRecord]) -> list[SessionCheck]:
    """One check per session whose final attempt ended ok or abandoned.

    Earlier attempts of the same run share its run and session ids, so their events are in the
    store too: they count as sent. Attempts of other runs are tagged with another run id.
    """
    finals: dict[str, LedgerRecord] = {}
    for record in records:
        if record.outcome in DONE:
            finals[record.session_id] = record
    checks: dict[tuple[str, str], SessionCheck] = {
        (r.run_id, r.session_id): SessionCheck(r.session_id, r.persona, r.run_id, r.started_at)
        for r in finals.values()
    }
    for record in records:
        check = checks.get((record.run_id, record.session_id))
        if check is not None:
            check.sent.update(record.events)
            check.started_at = min(check.started_at, record.started_at)
    return sorted(checks.values(), key=lambda c: (c.started_at, c.session_id))


def read_ingested(reader: IngestionReader, checks: Sequence[SessionCheck]) -> None:
    by_run: dict[str, list[SessionCheck]] = defaultdict(list)
    for check in checks:
        by_run[check.run_id].append(check)
    for run_id, group in by_run.items():
        since = min(c.started_at for c in group) - SINCE_SLACK
        counts = reader.count_events_by_session(run_id, since)
        for check in group:
            check.ingested = Counter(counts.get(check.session_id, {}))


def poll(
    reader: IngestionReader,
    checks: Sequence[SessionCheck],
    wait_s: float,
    interval_s: float = 5.0,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Read until every session's events arrived or ``wait_s`` passed; returns the number of reads.

    Real ingestion lags by seconds to minutes, so a single read would report false losses.
    """
    deadline = clock() + wait_s
    reads = 0
    while True:
        read_ingested(reader, checks)
        reads += 1
        if all(not c.missing() for c in checks) or clock() >= deadline:
            return reads
        sleep(max(0.0, min(interval_s, deadline - clock())))


def event_rows(checks: Sequence[SessionCheck]) -> list[dict[str, Any]]:
    sent: Counter[str] = Counter()
    ingested: Counter[str] = Counter()
    for check in checks:
        sent.update(check.sent)
        ingested.update(check.ingested)
    return [
        {"event": name, "sent": sent[name], "ingested": ingested[name], "diff": ingested[name] - sent[name]}
        for name in sorted(set(sent) | set(ingested))
    ]


def posthog_reader(environ: dict[str, str] | None = None) -> PostHogQueryClient:
    env = dict(os.environ if environ is None else environ)
    missing = [n for n in ("POSTHOG_PROJECT_ID", "POSTHOG_PERSONAL_API_KEY") if not env.get(n)]
    if missing:
        raise HogfleetError(f"--target posthog needs {' and '.join(missing)} in the environment")
    host = env.get("POSTHOG_HOST") or DEFAULT_POSTHOG_HOST
    try:
        return PostHogQueryClient(
            validate_base_url(host), env["POSTHOG_PROJECT_ID"], env["POSTHOG_PERSONAL_API_KEY"]
        )
    except QueryError as exc:
        raise HogfleetError(str(exc)) from None


@contextmanager
def open_reader(target: str, state_dir: Path) -> Iterator[IngestionReader]:
    if target == POSTHOG:
        client: PostHogQueryClient | DemoQueryClient = posthog_reader()
        try:
            yield client
        finally:
            client.close()
        return
    if target == DEMO:
        data = state_dir / "demo"
        if not any(data.glob("*.events.sqlite3")):
            raise HogfleetError(f"no demo analytics in {data}: nothing was run against the demo")
        # Read through the capture endpoint's own API: the same path a real store is read by.
        demo = DemoProcess(data)
        try:
            reader = DemoQueryClient(demo.start())
            try:
                yield reader
            finally:
                reader.close()
        finally:
            demo.stop()
        return
    reader = DemoQueryClient(validate_base_url(target))
    try:
        yield reader
    finally:
        reader.close()
