"""``hogfleet simulate``, ``hogfleet plan`` and ``hogfleet status``: the simulation, without a browser."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Annotated

import orjson
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bots.cli.options import ConfigOpt, SeedOpt, StateDirOpt, parse_date
from personas.config import load_config
from personas.enums import Pattern, State
from personas.errors import HogfleetError
from personas.models import DailyMetrics
from personas.plans import DayPlan
from personas.simulation import default_seed, ensure_plan, simulate
from personas.store import StateStore, default_state_dir


def metrics_json(m: DailyMetrics) -> bytes:
    return orjson.dumps(m.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def _metrics_table(title: str) -> Table:
    table = Table(
        title=title, box=box.SIMPLE_HEAD, caption="new: signups, gone: churned & deleted, fb: FlixBuddy"
    )
    table.add_column("date", no_wrap=True, min_width=10)
    for col in ("total", "active", "new", "gone", "fb", *(s.value[:3] for s in State)):
        table.add_column(col, justify="right", no_wrap=True)
    return table


def _metrics_row(table: Table, m: DailyMetrics) -> None:
    table.add_row(
        m.date.isoformat(),
        str(m.total_personas),
        str(m.active_today),
        str(m.new_signups),
        str(m.churned_cleaned),
        str(m.flixbuddy_calls),
        *(str(m.state_distribution.get(s, 0)) for s in State),
    )


def simulate_cmd(
    days: Annotated[int, typer.Option("--days", help="number of days to simulate (>= 1)")],
    start: Annotated[
        str | None, typer.Option("--start", help="first day, YYYY-MM-DD (default today)")
    ] = None,
    seed: SeedOpt = None,
    pool: Annotated[int | None, typer.Option("--pool", help="target pool size (default 400)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON object per day on stdout")] = False,
    config: ConfigOpt = None,
) -> None:
    """Run a throwaway in-memory population for N days and print its daily metrics."""
    if days < 1:
        raise HogfleetError(f"--days must be at least 1 (got {days})")
    if pool is not None and pool < 1:
        raise HogfleetError(f"--pool must be at least 1 (got {pool})")
    first = parse_date(start, "--start")
    cfg = load_config(config)
    run_seed = seed if seed is not None else default_seed()
    err = Console(stderr=True)
    table = _metrics_table(f"simulation, seed {run_seed}")
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("days", total=days)
        for _, m in simulate(run_seed, first, days, cfg, pool):
            if json_out:
                sys.stdout.buffer.write(metrics_json(m) + b"\n")
            else:
                _metrics_row(table, m)
            progress.advance(task)
    if json_out:
        sys.stdout.flush()
    else:
        Console().print(table)


def render_plan(plan: DayPlan, console: Console) -> None:
    table = Table(title=f"plan for {plan.date} (seed {plan.seed}): {len(plan.sessions)} sessions")
    table.add_column("persona", no_wrap=True, min_width=21)
    for col in ("state", "pattern", "start", "entry", "videos", "device"):
        table.add_column(col)
    for s in plan.sessions:
        table.add_row(
            s.identity.distinct_id,
            s.identity.state.value,
            s.identity.activity_pattern.value,
            s.start_at.strftime("%H:%M %Z"),
            s.entry_point.value + (" +signup" if s.signup else ""),
            str(len(s.videos)),
            s.identity.device,
        )
    console.print(table)
    if plan.deletions:
        console.print(f"{len(plan.deletions)} account deletion(s) planned")


def plan_cmd(
    date: Annotated[
        str | None, typer.Option("--date", help="day to plan, YYYY-MM-DD (default today)")
    ] = None,
    seed: SeedOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
    state_dir: StateDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Advance the stored population to DATE and write plans/DATE.json (idempotent)."""
    day = parse_date(date)
    cfg = load_config(config)
    store = StateStore(state_dir or default_state_dir())
    with store.lock():
        plan = ensure_plan(store, day, seed, cfg)
    if json_out:
        sys.stdout.buffer.write(
            orjson.dumps(plan.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n"
        )
        sys.stdout.flush()
    else:
        render_plan(plan, Console())


def render_status(store: StateStore, console: Console) -> None:
    """The pool's state and pattern distribution and the last 7 days of metrics."""
    population = store.load_population()
    states = Counter(p.state for p in population.personas)
    patterns = Counter(p.activity_pattern for p in population.personas)
    n = len(population.personas) or 1
    console.print(
        f"[bold]pool[/bold] {len(population.personas)} personas (target {population.pool}), "
        f"seed {population.seed}, simulated through {population.current_date}; "
        f"{len(population.pending_deletions)} deletion(s) pending"
    )
    dist = Table(title="distribution")
    dist.add_column("state")
    dist.add_column("count", justify="right")
    dist.add_column("share", justify="right")
    for s in State:
        dist.add_row(s.value, str(states[s]), f"{100 * states[s] / n:.1f}%")
    pat = Table(title="activity patterns")
    pat.add_column("pattern")
    pat.add_column("count", justify="right")
    pat.add_column("share", justify="right")
    for pt in Pattern:
        pat.add_row(pt.value, str(patterns[pt]), f"{100 * patterns[pt] / n:.1f}%")
    console.print(dist)
    console.print(pat)
    table = _metrics_table("last 7 days")
    for m in store.load_metrics()[-7:]:
        _metrics_row(table, m)
    console.print(table)


def status_cmd(state_dir: StateDirOpt = None) -> None:
    """Show the pool and the fleet: states, patterns, 7 days of metrics, last run, failures, events."""
    from bots.reporting.activity import render_fleet_status

    store = StateStore(state_dir or default_state_dir())
    console = Console()
    render_status(store, console)
    render_fleet_status(store.root, console)
