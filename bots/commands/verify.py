"""``hogfleet verify``: did what the browsers sent arrive where analytics are read?

Sent counts come from the date's ledger(s): every event the capture observer saw leave a page,
per session. Ingested counts come from the analytics store, attributed through the super
properties every fleet session carries (``hogfleet_run_id``, ``hogfleet_session_id``): the demo's
``/api/events`` (the embedded capture endpoint, started on the state dir's data just to read it),
another capture endpoint's ``/api/events`` by URL, or PostHog's HogQL query API.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analytics.query import DemoQueryClient, IngestionReader, PostHogQueryClient, QueryError
from bots.ledger import DONE, LedgerRecord, day_records
from bots.options import parse_date
from bots.target import DEMO, DemoProcess
from flows.profile import validate_base_url
from personas.errors import HogfleetError
from personas.store import default_state_dir

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


def verify(
    date: Annotated[
        str | None, typer.Option(help="date whose ledger to check, YYYY-MM-DD (default: today)")
    ] = None,
    target: Annotated[
        str,
        typer.Option(
            help="where analytics are read: 'demo' (the embedded capture endpoint, on the state dir's "
            "data), 'posthog' (HogQL API: POSTHOG_HOST, POSTHOG_PROJECT_ID, POSTHOG_PERSONAL_API_KEY) "
            "or the base URL of a capture endpoint serving /api/events"
        ),
    ] = DEMO,
    wait: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help=f"poll for up to this many seconds while events are missing "
            f"(default: {DEFAULT_WAIT_POSTHOG_S:g} for PostHog, {DEFAULT_WAIT_LOCAL_S:g} otherwise)",
        ),
    ] = None,
    interval: Annotated[float, typer.Option(min=0.1, help="seconds between polls")] = 5.0,
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON on stdout")] = False,
    state_dir: Annotated[
        Path | None, typer.Option(help="state dir (default: .hogfleet or HOGFLEET_STATE_DIR)")
    ] = None,
) -> None:
    """Compare, per event name, what the date's sessions sent (from the ledger) with what was
    ingested, and list the sessions whose events are missing.

    Exits 0 when every event arrived, 1 when some are still missing after the wait.

    Example: hogfleet verify --date 2026-11-21 --target posthog --wait 120
    """
    root = state_dir or default_state_dir()
    day = parse_date(date)
    checks = sessions_to_check(day_records(root, day))
    if not checks:
        raise HogfleetError(f"no finished sessions in the ledger for {day} under {root / 'runs'}")
    wait_s = (
        wait if wait is not None else (DEFAULT_WAIT_POSTHOG_S if target == POSTHOG else DEFAULT_WAIT_LOCAL_S)
    )
    try:
        with open_reader(target, root) as reader:
            poll(reader, checks, wait_s, interval)
    except QueryError as exc:
        raise HogfleetError(str(exc)) from None
    rows = event_rows(checks)
    incomplete = [c for c in checks if c.missing()]
    if json_out:
        out = {
            "date": day.isoformat(),
            "target": target,
            "sessions": len(checks),
            "complete": not incomplete,
            "events": rows,
            "missing_sessions": [
                {"session_id": c.session_id, "persona": c.persona, "run_id": c.run_id, "missing": c.missing()}
                for c in incomplete
            ],
        }
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        console = Console()
        # Piped output (CI logs, grep) keeps one session per line instead of wrapping at 80.
        _render(console if console.is_terminal else Console(width=200), day, target, checks, rows, incomplete)
    if incomplete:
        raise typer.Exit(1)


def _render(
    console: Console,
    day: dt.date,
    target: str,
    checks: Sequence[SessionCheck],
    rows: Sequence[dict[str, Any]],
    incomplete: Sequence[SessionCheck],
) -> None:
    table = Table(title=f"ingestion on {day} ({len(checks)} sessions, read from {target})")
    for name in ("event", "sent", "ingested", "diff"):
        table.add_column(name, justify="left" if name == "event" else "right")
    for row in rows:
        diff = row["diff"]
        style = "red" if diff < 0 else ("yellow" if diff > 0 else "")
        table.add_row(row["event"], str(row["sent"]), str(row["ingested"]), f"{diff:+d}", style=style)
    console.print(table)
    if not incomplete:
        console.print(f"all {sum(r['sent'] for r in rows)} events of {len(checks)} sessions arrived")
        return
    console.print(f"[red]{len(incomplete)} session(s) with missing events:[/]")
    for check in incomplete:
        missing = ", ".join(f"{name}×{n}" for name, n in check.missing().items())
        console.print(
            f"  {check.session_id} ({check.persona}, run {check.run_id}): {escape(missing)}", soft_wrap=True
        )


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
