"""Operators' commands: ``report``, ``failures``, ``trace``, ``cleanup``, ``personas`` and ``persona``."""

from __future__ import annotations

import datetime as dt
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.pretty import Pretty
from rich.table import Table

from bots.cli.options import JsonOpt, StateDirOpt, parse_date
from bots.records import artifacts
from personas.enums import Pattern, Plan, State
from personas.errors import HogfleetError
from personas.models import Persona
from personas.store import StateStore, default_state_dir

DateOpt = Annotated[str | None, typer.Option("--date", help="day YYYY-MM-DD (default: today)")]


def _root(state_dir: Path | None) -> Path:
    return state_dir if state_dir is not None else default_state_dir()


def _console() -> Console:
    console = Console()
    # Piped into grep or a CI log, rich would fold ids at 80 columns; keep each row on one line.
    return console if console.is_terminal else Console(width=200)


def _print_json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode() + "\n")


def _enum_value(kind: type[State] | type[Pattern] | type[Plan], value: str, flag: str) -> str:
    for member in kind:
        if member.value.lower() == value.strip().lower():
            return member.value
    choices = ", ".join(m.value for m in kind)
    raise HogfleetError(f"{flag} {value!r} is not one of {choices}")


# -- report ---------------------------------------------------------------------------------------------


def report(
    date: DateOpt = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="how many days the charts cover")] = 30,
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("report.html"),
    state_dir: StateDirOpt = None,
) -> None:
    """Write one self-contained HTML report (opens offline) with plots of the pool and the runs.

    Charts: active sessions per day, lifecycle state mix, pattern mix, signups vs churn, events per
    type, session outcomes, session durations and FlixBuddy usage, plus the day's failed sessions
    linked to their traces and screenshots. Works with whatever data exists.
    """
    from bots.reporting.report import write_report

    day = parse_date(date)
    root = _root(state_dir)
    data = write_report(root, day, days, out)
    runs = sum(sum(r.outcomes.values()) for r in data.runs)
    typer.echo(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {data.days[0]} to {day}, "
        f"{len(data.metrics)} days of metrics, {runs} sessions, {len(data.failures)} failures on {day}"
    )


# -- failures / trace -------------------------------------------------------------------------------------


def _markdown(rows: list[artifacts.Failure], day: dt.date) -> str:
    def cell(text: str | None) -> str:
        return (text or "").replace("|", "\\|").replace("\n", " ")[:200]

    lines = [f"### Failed sessions on {day}: {len(rows)}", ""]
    if not rows:
        return "\n".join([*lines, "None."]) + "\n"
    lines += ["| persona | session | error | step | message | trace |", "|---|---|---|---|---|---|"]
    for f in rows:
        trace = f"`{cell(f.show_trace)}`" if f.show_trace else "none"
        lines.append(
            f"| {cell(f.persona)} | `{cell(f.session_id)}` | {cell(f.error_class)} | "
            f"{cell(f.error_step)} | {cell(f.error_message)} | {trace} |"
        )
    return "\n".join(lines) + "\n"


def failures(
    date: DateOpt = None,
    json_out: JsonOpt = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="print a Markdown table (for $GITHUB_STEP_SUMMARY)")
    ] = False,
    state_dir: StateDirOpt = None,
) -> None:
    """List the day's failed sessions (final attempt failed) with the command that opens each trace."""
    day = parse_date(date)
    rows = artifacts.failures(_root(state_dir), day)
    if json_out:
        _print_json([f.as_json() for f in rows])
        return
    if markdown:
        sys.stdout.write(_markdown(rows, day))
        return
    console = _console()
    if not rows:
        console.print(f"no failed sessions on {day}")
        return
    table = Table(title=f"failed sessions on {day} ({len(rows)})", show_lines=True)
    for col in ("persona", "session", "error", "step", "message"):
        table.add_column(col, overflow="fold")
    for f in rows:
        table.add_row(
            f.persona,
            f.session_id,
            escape(f.error_class or ""),
            escape(f.error_step or ""),
            escape((f.error_message or "")[:200]),
        )
    console.print(table)
    # Outside the table so the commands stay on one line each and can be copied as they are.
    for f in rows:
        console.print(f"{f.session_id}: {escape(f.show_trace or 'no trace recorded')}", soft_wrap=True)


def trace(
    session_id: Annotated[str, typer.Argument(help="session id, as `hogfleet failures` lists it")],
    date: Annotated[
        str | None, typer.Option("--date", help="day YYYY-MM-DD (default: search every day, newest first)")
    ] = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="print the viewer command instead of running it")
    ] = False,
    state_dir: StateDirOpt = None,
) -> None:
    """Open a session's Playwright trace in the trace viewer (`playwright show-trace`)."""
    day = parse_date(date) if date is not None else None
    path = artifacts.find_trace(_root(state_dir), session_id, day)
    cmd = [sys.executable, "-m", "playwright", "show-trace", str(path)]
    if print_only:
        typer.echo(shlex.join(cmd))
        return
    raise typer.Exit(subprocess.call(cmd))


# -- cleanup ----------------------------------------------------------------------------------------------


def cleanup(
    retain_days: Annotated[
        int, typer.Option(min=0, help="keep this many days of artifacts and ledgers (seed default: 30)")
    ] = artifacts.DEFAULT_RETAIN_DAYS,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report what would go; remove nothing")] = False,
    date: Annotated[
        str | None, typer.Option("--date", help="count days back from this day YYYY-MM-DD (default: today)")
    ] = None,
    json_out: JsonOpt = False,
    state_dir: StateDirOpt = None,
) -> None:
    """Remove artifacts/<date>/ and runs/<date>/ older than --retain-days and report what it freed.

    Never touches personas.json, daily metrics, plans or storage states.
    """
    result = artifacts.cleanup(_root(state_dir), retain_days, parse_date(date), dry_run=dry_run)
    if json_out:
        _print_json(result.as_json())
        return
    verb = "would free" if dry_run else "freed"
    for path in result.removed:
        typer.echo(f"{'would remove' if dry_run else 'removed'} {path}")
    typer.echo(
        f"{verb} {len(result.removed)} dirs, {result.files} files, {result.bytes} bytes "
        f"({result.bytes / 1e6:.1f} MB); kept everything from {result.cutoff} on"
    )


# -- personas -------------------------------------------------------------------------------------------


def _row(p: Persona) -> dict[str, Any]:
    return {
        "distinct_id": p.distinct_id,
        "email": p.email,
        "plan": p.plan.value,
        "state": p.state.value,
        "pattern": p.activity_pattern.value,
        "device": p.device,
        "last_active": p.last_active.isoformat() if p.last_active else None,
        "sessions": p.total_sessions,
    }


def personas(
    state: Annotated[str | None, typer.Option(help="only this lifecycle state (NEW, ACTIVE, …)")] = None,
    pattern: Annotated[str | None, typer.Option(help="only this activity pattern (DAILY, BINGE, …)")] = None,
    plan: Annotated[str | None, typer.Option(help="only this plan (Basic, Standard, Premium)")] = None,
    search: Annotated[
        str | None, typer.Option(help="case-insensitive text in id, e-mail, name or device")
    ] = None,
    limit: Annotated[int, typer.Option(min=0, help="show at most N (0: all)")] = 50,
    json_out: JsonOpt = False,
    state_dir: StateDirOpt = None,
) -> None:
    """List and find personas in personas.json, to pick one for `hogfleet debug` or `hogfleet persona`."""
    want_state = _enum_value(State, state, "--state") if state else None
    want_pattern = _enum_value(Pattern, pattern, "--pattern") if pattern else None
    want_plan = _enum_value(Plan, plan, "--plan") if plan else None
    needle = search.lower() if search else None
    population = StateStore(_root(state_dir)).load_population()
    found = [
        p
        for p in population.personas
        if (want_state is None or p.state.value == want_state)
        and (want_pattern is None or p.activity_pattern.value == want_pattern)
        and (want_plan is None or p.plan.value == want_plan)
        and (needle is None or any(needle in s.lower() for s in (p.distinct_id, p.email, p.name, p.device)))
    ]
    shown = found[:limit] if limit else found
    if json_out:
        _print_json([_row(p) for p in shown])
        return
    table = Table(title=f"personas on {population.current_date}: {len(found)} of {len(population.personas)}")
    for col in ("id", "email", "plan", "state", "pattern", "device", "last active", "sessions"):
        table.add_column(col, justify="right" if col == "sessions" else "left")
    for p in shown:
        r = _row(p)
        table.add_row(*(escape(str(v)) if v is not None else "–" for v in r.values()))
    console = _console()
    console.print(table)
    if len(shown) < len(found):
        console.print(f"… {len(found) - len(shown)} more (use --limit 0 or narrow with --search)")


def persona(
    who: Annotated[str, typer.Argument(metavar="ID|EMAIL", help="distinct id or e-mail of the persona")],
    sessions: Annotated[int, typer.Option(min=0, help="how many recent ledger records to show")] = 10,
    json_out: JsonOpt = False,
    state_dir: StateDirOpt = None,
) -> None:
    """Show one persona's whole record and its last sessions from the run ledgers."""
    root = _root(state_dir)
    population = StateStore(root).load_population()
    key = who.strip().lower()
    match = next(
        (
            p
            for p in [*population.personas, *population.pending_deletions]
            if key in (p.distinct_id.lower(), p.email.lower())
        ),
        None,
    )
    if match is None:
        raise HogfleetError(
            f"no persona {who!r} in {StateStore(root).personas_path} (see `hogfleet personas`)"
        )
    records = artifacts.recent_records(root, match.distinct_id, sessions)
    if json_out:
        _print_json(
            {
                "persona": match.model_dump(mode="json"),
                "sessions": [r.model_dump(mode="json", exclude={"event_uuids"}) for r in records],
            }
        )
        return
    console = _console()
    console.print(f"[bold]{escape(match.distinct_id)}[/] {escape(match.email)} ({escape(match.name)})")
    console.print(Pretty(match.model_dump(mode="json"), expand_all=True))
    if not records:
        console.print("no sessions in the ledgers")
        return
    table = Table(title=f"last {len(records)} ledger records")
    for col in ("date", "session", "try", "outcome", "s", "events", "error"):
        table.add_column(col)
    for r in records:
        error = f"{r.error_class or ''} at {r.error_step or '?'}" if r.outcome == "failed" else ""
        table.add_row(
            r.date.isoformat(),
            r.session_id,
            str(r.attempt),
            r.outcome,
            f"{r.duration_s:.1f}",
            str(sum(r.events.values())),
            escape(error),
        )
    console.print(table)
