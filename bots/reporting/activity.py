"""The fleet half of ``hogfleet status``: kill switch, last run, failures, recent events.

A status and activity view of the fleet, read from the ledgers instead of a database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bots.records import control
from bots.records.artifacts import finals
from bots.records.ledger import LedgerRecord, day_records


def _days(state_dir: Path) -> list[dt.date]:
    days = []
    for folder in (state_dir / "runs").glob("*"):
        try:
            days.append(dt.date.fromisoformat(folder.name))
        except ValueError:
            continue
    return sorted(days)


def _latest_day(state_dir: Path) -> dt.date | None:
    days = _days(state_dir)
    return days[-1] if days else None


def recent_events(state_dir: Path, now: dt.datetime, hours: float = 24) -> Counter[str]:
    """Events observed by sessions that ended within ``hours`` of ``now``, by name."""
    since = now - dt.timedelta(hours=hours)
    counts: Counter[str] = Counter()
    # Ledgers are filed by plan date, which can be ahead of (a catch-up run) or behind the clock.
    for day in _days(state_dir):
        if day >= since.date() - dt.timedelta(days=1):
            for record in day_records(state_dir, day):
                if record.ended_at >= since:
                    counts.update(record.events)
    return counts


def render_fleet_status(state_dir: Path, console: Console, now: dt.datetime | None = None) -> None:
    now = now or dt.datetime.now(dt.UTC)
    paused = control.is_paused(state_dir)
    console.print(f"[bold]kill switch[/bold] {'[red]ON: paused[/red]' if paused else 'off'}")
    day = _latest_day(state_dir)
    if day is None:
        console.print("[bold]last run[/bold] none yet (`hogfleet run`)")
        return
    records = day_records(state_dir, day)
    last: dict[str, LedgerRecord] = finals(records)
    outcomes = Counter(r.outcome for r in last.values())
    ended = max((r.ended_at for r in records), default=None)
    runs = sorted({r.run_id for r in records})
    console.print(
        f"[bold]last run[/bold] {day}: {len(last)} sessions "
        f"(ok {outcomes['ok']}, abandoned {outcomes['abandoned']}, failed {outcomes['failed']}) "
        f"in {len(runs)} run(s), last session ended {ended:%Y-%m-%d %H:%M} UTC"
        if ended
        else f"[bold]last run[/bold] {day}: no sessions"
    )
    failed = [r for r in last.values() if r.outcome == "failed"]
    if failed:
        table = Table(
            "persona", "error", "step", title=f"failures on {day} ({len(failed)}; `hogfleet failures`)"
        )
        for record in failed[:10]:
            table.add_row(record.persona, record.error_class or "", record.error_step or "")
        console.print(table)
    events = recent_events(state_dir, now)
    table = Table("event", "count", title=f"events in the last 24 h ({sum(events.values())})")
    for name, count in events.most_common():
        table.add_row(name, str(count))
    console.print(table)
