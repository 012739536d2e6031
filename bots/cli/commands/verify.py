"""``hogfleet verify``: did what the browsers sent arrive where analytics are read?

The reconciliation itself is bots/reporting/reconcile.py; this module is its command line.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analytics.query import QueryError
from bots.cli.options import StateDirOpt, parse_date
from bots.records.ledger import day_records
from bots.reporting.reconcile import (
    DEFAULT_WAIT_LOCAL_S,
    DEFAULT_WAIT_POSTHOG_S,
    POSTHOG,
    SessionCheck,
    event_rows,
    open_reader,
    poll,
    sessions_to_check,
)
from bots.runtime.target import DEMO
from personas.errors import ExitCode, HogfleetError
from personas.store import default_state_dir


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
    state_dir: StateDirOpt = None,
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
        raise typer.Exit(ExitCode.FAILED)


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
