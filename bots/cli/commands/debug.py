"""``hogfleet debug``: watch one persona's session, headed, step by step.

By default nothing the fleet owns changes: the plan is computed in memory when the day is not
planned yet, the persona's storage state is read but not written back, no ledger line is
written, and the embedded demo runs on a throwaway copy of its database. ``--commit`` makes the
run count like a fleet session.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from analytics.events import CapturedEvent
from bots.cli.options import (
    ConfigOpt,
    FrontendOpt,
    SeedOpt,
    SiteProfileOpt,
    StateDirOpt,
    StorageDirOpt,
    parse_date,
)
from bots.config.settings import load_settings
from bots.records.fold import fold_day
from bots.records.ledger import Ledger, LedgerRecord, ledger_path
from bots.records.storage import StorageStates, default_dir
from bots.runtime.attempt import WorkItem
from bots.runtime.fleet import Fleet
from bots.runtime.plugins import check_plugins
from bots.runtime.runenv import build_run_env
from bots.runtime.target import DEMO, open_target, resolve_frontend
from flows import registry
from flows.profile import load_profile
from personas.config import load_config
from personas.errors import ExitCode, HogfleetError
from personas.plans import DayPlan
from personas.simulation import preview_plan
from personas.store import StateStore, default_state_dir

# What debug changes in the runtime `run` would use (bots/runtime/runenv.py), and nothing else:
# one attempt, shown as it is, with its trace kept when it fails.
DEBUG_OVERRIDES: dict[str, object] = {"session_retries": 0, "trace": "retain-on-failure"}


def find_item(plan: DayPlan, who: str) -> WorkItem:
    items: list[WorkItem] = [*plan.sessions, *plan.deletions]
    for item in items:
        if who in (item.identity.distinct_id, item.identity.email):
            return item
    raise HogfleetError(f"persona {who!r} has no planned session on {plan.date} (see `hogfleet plan --date`)")


class StepLog:
    """Prints each step and the analytics events the page emitted during it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.pending: list[str] = []

    def event(self, event: CapturedEvent) -> None:
        self.pending.append(event.event)
        self.console.print(f"      [dim]↳ event[/] {event.event}")

    def step(self, name: str, status: str, seconds: float) -> None:
        colour = "green" if status == "ok" else "red"
        self.console.print(f"  [{colour}]{status:>7}[/] {name} ({seconds:.2f}s)")


def debug(
    who: Annotated[str, typer.Argument(help="persona distinct_id or e-mail")],
    date: Annotated[str | None, typer.Option(help="plan date YYYY-MM-DD (default: today)")] = None,
    flow: Annotated[str | None, typer.Option(help="run this flow instead of the planned entry point")] = None,
    headed: Annotated[
        bool, typer.Option("--headed/--headless", help="show the browser (default: headed)")
    ] = True,
    slowmo: Annotated[float, typer.Option(min=0.0, help="slow every action by MS")] = 250.0,
    pause_on_failure: Annotated[
        bool, typer.Option(help="open Playwright's inspector at the failing step")
    ] = False,
    devtools: Annotated[bool, typer.Option(help="open DevTools in the browser window")] = False,
    commit: Annotated[
        bool, typer.Option(help="let the run count: save storage state, ledger, outcomes")
    ] = False,
    dwell_scale: Annotated[float, typer.Option(min=0.0, help="think/watch time scale")] = 0.0,
    target: Annotated[str, typer.Option(help="'demo' or a base URL")] = DEMO,
    site_profile: SiteProfileOpt = None,
    frontend: FrontendOpt = None,
    seed: SeedOpt = None,
    state_dir: StateDirOpt = None,
    storage_dir: StorageDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Run one persona's planned session (or a named flow) headed, logging steps and events."""
    settings = load_settings(config)
    build = resolve_frontend(frontend, target)
    profile = load_profile(site_profile, frontend=build)
    store = StateStore(state_dir or default_state_dir())
    day = parse_date(date)
    console = Console(stderr=True)
    item = find_item(preview_plan(store, day, seed, load_config(config)), who)
    check_plugins(settings.broken_plugins, lambda line: console.print(line, markup=False))
    if flow is not None:
        registry.get(flow)  # fail fast on an unknown flow name
    log = StepLog(console)
    console.print(
        f"[bold]debug[/] {item.identity.distinct_id} ({item.identity.device}, {item.identity.locale})"
    )
    with tempfile.TemporaryDirectory(prefix="hogfleet-debug-") as scratch:
        scratch_dir = Path(scratch)
        demo_root = store.root
        if target == DEMO and not commit:
            # Run the demo on a copy of its data so a debug session leaves the state dir untouched.
            if (store.root / "demo").exists():
                shutil.copytree(
                    store.root / "demo", scratch_dir / "demo", ignore=shutil.ignore_patterns("*.log")
                )
            demo_root = scratch_dir
        with open_target(
            target,
            profile,
            demo_root,
            settings.allowed_hosts,
            settings.allow_unmarked_traffic,
            frontend=build,
        ) as url:
            env = build_run_env(
                settings,
                overrides={**DEBUG_OVERRIDES, "dwell_scale": dwell_scale},
                base_url=url,
                profile=profile,
                storage=StorageStates(storage_dir or default_dir()),
                artifacts_dir=(store.root if commit else scratch_dir) / "artifacts" / day.isoformat(),
                run_id=f"debug-{day.isoformat()}",
                date=day,
                flow=flow,
                listener=log.step,
                on_event=log.event,
                save_state=commit,
                pause_on_failure=pause_on_failure,
            )
            ledger = Ledger(ledger_path(store.root, day) if commit else scratch_dir / "ledger.jsonl")
            fleet = Fleet(
                env=env,
                ledger=ledger,
                concurrency=1,
                paused=lambda: False,
                headless=not headed,
                slowmo_ms=slowmo,
                devtools=devtools,
                console=console,
                show_progress=False,
            )
            if commit:
                with store.lock():
                    result = asyncio.run(fleet.run([item]))
                    fold_day(store, day)
            else:
                result = asyncio.run(fleet.run([item]))
        record: LedgerRecord = result.records[-1]
        _report(console, record, commit)
    if record.outcome == "failed":
        raise typer.Exit(ExitCode.FAILED)


def _report(console: Console, record: LedgerRecord, commit: bool) -> None:
    verdict = record.verdict
    console.print(
        f"[bold]{record.outcome}[/] in {record.duration_s:.1f}s, {record.steps_done} steps, "
        f"{sum(record.events.values())} events"
        + (
            f" — {record.error_class} at {record.error_step}: {record.error_message}"
            if record.error_class
            else ""
        )
    )
    if verdict is not None and not verdict.ok:
        console.print(f"[yellow]analytics:[/] {verdict.message}")
    if record.artifacts.trace and commit:
        console.print(f"trace: playwright show-trace {record.artifacts.trace}")
    if not commit:
        console.print(
            "[dim]debug run: no state, storage state or ledger was changed (--commit to count it)[/]"
        )
    sys.stderr.flush()
