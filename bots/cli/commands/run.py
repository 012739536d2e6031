"""``hogfleet run``, ``pause`` and ``resume``: execute today's plan in real Chromium."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import sys
from collections.abc import Sequence
from typing import Annotated

import orjson
import typer
from rich.console import Console

from bots.cli.options import (
    ConfigOpt,
    FrontendOpt,
    SeedOpt,
    SiteProfileOpt,
    StateDirOpt,
    StorageDirOpt,
    parse_date,
)
from bots.config.settings import TraceMode, load_settings, with_overrides
from bots.records import control
from bots.records.fold import fold_day
from bots.records.ledger import Ledger, ledger_path
from bots.records.storage import StorageStates, default_dir
from bots.reporting import logs
from bots.reporting.logs import LogFormat
from bots.reporting.summary import build_summary, render_summary
from bots.runtime.attempt import WorkItem
from bots.runtime.fleet import Fleet, select_items
from bots.runtime.plugins import check_plugins
from bots.runtime.runenv import build_run_env
from bots.runtime.target import DEMO, open_target, resolve_frontend
from bots.scaleout.shard import Shard, resolve_shard, shard_of, state_lock, stored_plan
from bots.scaleout.shard import select as shard_select
from flows import registry
from flows.profile import load_profile
from personas.config import load_config
from personas.errors import ExitCode, HogfleetError
from personas.simulation import ensure_plan
from personas.store import StateStore, default_state_dir

SIGNAL_EXIT = {"stopped by SIGINT": ExitCode.INTERRUPTED, "stopped by SIGTERM": ExitCode.TERMINATED}


def parse_window(value: str) -> dt.timedelta:
    """``30m``, ``2h``, ``90s`` or ``1d``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = value[:-1], value[-1:].lower()
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise HogfleetError(
            f"invalid --window {value!r}: expected a positive number and s, m, h or d (e.g. 30m)"
        )
    return dt.timedelta(seconds=int(number) * units[unit])


def _refuse_other_shards(personas: Sequence[str], items: Sequence[WorkItem], part: Shard) -> None:
    """``--persona`` of a persona another shard owns: say where it runs, not "unknown persona"."""
    planned = {item.identity.distinct_id for item in items}
    for distinct_id in personas:
        if distinct_id in planned and not part.owns(distinct_id):
            owner = Shard(shard_of(distinct_id, part.total), part.total)
            raise HogfleetError(
                f"persona {distinct_id} belongs to shard {owner}, not {part}: "
                f"run it with --shard {owner}, or without --shard"
            )


def run(
    date: Annotated[str | None, typer.Option(help="plan date YYYY-MM-DD (default: today)")] = None,
    target: Annotated[str, typer.Option(help="'demo' (the embedded site) or a base URL")] = DEMO,
    site_profile: SiteProfileOpt = None,
    frontend: FrontendOpt = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, help="fixed concurrent sessions (default: adaptive, from 2 up to the CPU plateau)"
        ),
    ] = None,
    max_sessions: Annotated[int | None, typer.Option(min=1, help="cap on sessions started this run")] = None,
    persona: Annotated[
        list[str] | None, typer.Option(help="only these personas (id or e-mail); repeatable")
    ] = None,
    dwell_scale: Annotated[
        float | None, typer.Option(min=0.0, help="think/watch time scale: 1 human, 0 fastest")
    ] = None,
    trace: Annotated[
        TraceMode | None, typer.Option(help="Playwright tracing: on|off|retain-on-failure|on-first-retry")
    ] = None,
    headed: Annotated[bool, typer.Option(help="show the browser windows")] = False,
    slowmo: Annotated[float, typer.Option(min=0.0, help="slow every Playwright action by MS")] = 0.0,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout")] = False,
    seed: SeedOpt = None,
    state_dir: StateDirOpt = None,
    storage_dir: StorageDirOpt = None,
    config: ConfigOpt = None,
    browser_endpoint: Annotated[
        list[str] | None,
        typer.Option(help="ws:// endpoint of a `playwright run-server`; repeatable (round-robin)"),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            help="run shard K/N of the plan (default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS or "
            "HOGFLEET_SHARD_INDEX/HOGFLEET_SHARD_TOTAL; needs `hogfleet plan` first)"
        ),
    ] = None,
    flow: Annotated[
        str | None, typer.Option(help="run this flow for every session instead of its entry point")
    ] = None,
    fail_over: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="exit 1 if the failed share passes this")
    ] = None,
    faults: Annotated[
        str | None, typer.Option(help="demo fault spec, e.g. error=0.05,ratelimit=0.03")
    ] = None,
    window: Annotated[
        str | None, typer.Option(help="only sessions due within this window from now, e.g. 30m (cron mode)")
    ] = None,
    log_format: Annotated[
        LogFormat, typer.Option(help="text, or json lines with persona/session/step/error")
    ] = "text",
) -> None:
    """Execute the day's plan in real Chromium: one context per persona, its own storage state."""
    flags = {
        "concurrency": concurrency,
        "dwell_scale": dwell_scale,
        "trace": trace,
        "max_sessions_per_run": max_sessions,
        "fail_over": fail_over,
    }
    settings = with_overrides(load_settings(config), flags)
    part = resolve_shard(shard)  # validated before anything else: a bad K/N is a usage error
    if part is not None and part.total > 1 and target == DEMO:
        # Each process would start its own embedded demo with its own database: the shards'
        # accounts would be scattered over N sites, and tomorrow's logins would fail.
        raise HogfleetError(
            f"--shard {part} needs one target shared by every shard, not the embedded demo each "
            "process starts: pass --target URL (e.g. of one `hogfleet demo serve`)"
        )
    err = Console(stderr=True)
    check_plugins(settings.broken_plugins, lambda line: print(line, file=sys.stderr))
    if flow is not None:
        registry.get(flow)  # an unknown flow is a usage error, not a run of failed sessions
    build = resolve_frontend(frontend, target)
    profile = load_profile(site_profile, frontend=build)
    store = StateStore(state_dir or default_state_dir())
    day = parse_date(date)
    if control.is_paused(store.root):
        err.print("hogfleet is paused (kill switch on): nothing run. `hogfleet resume` to lift it.")
        raise typer.Exit(ExitCode.OK)
    logs.configure(log_format)
    due_before = dt.datetime.now(dt.UTC) + parse_window(window) if window else None
    run_id = f"{day.isoformat()}-{secrets.token_hex(4)}"
    with state_lock(store, day, part):
        # A shard reads the plan and writes only its ledger and its personas' storage states.
        plan = ensure_plan(store, day, seed, load_config(config)) if part is None else stored_plan(store, day)
        if part is None:
            # Fail before any browser starts, not at the fold after the run, if personas.json is bad
            # (an existing plan means ensure_plan never had to read it).
            store.load_population()
        ledger = Ledger(ledger_path(store.root, day, str(part) if part else None))
        if persona and part is not None:
            _refuse_other_shards(persona, [*plan.deletions, *plan.sessions], part)
        items: list[WorkItem] = shard_select([*plan.deletions, *plan.sessions], part)
        todo, done = select_items(items, ledger, persona or (), settings.max_sessions_per_run, due_before)
        if persona and not todo and not done:
            raise HogfleetError(f"unknown persona(s) for {day}: {', '.join(persona)} (see `hogfleet plan`)")
        with open_target(
            target,
            profile,
            store.root,
            settings.allowed_hosts,
            settings.allow_unmarked_traffic,
            faults,
            frontend=build,
        ) as base_url:
            env = build_run_env(
                settings,
                base_url=base_url,
                profile=profile,
                storage=StorageStates(storage_dir or default_dir()),
                artifacts_dir=store.root / "artifacts" / day.isoformat(),
                run_id=run_id,
                date=day,
                flow=flow,
                shard=str(part) if part else None,
            )
            fleet = Fleet(
                env=env,
                ledger=ledger,
                concurrency=settings.concurrency,  # None: adaptive (bots/concurrency.py)
                concurrency_cap=settings.concurrency_cap,
                paused=lambda: control.is_paused(store.root),
                breaker_threshold=settings.circuit_breaker,
                browser_endpoints=tuple(browser_endpoint or ()),
                headless=not headed,
                slowmo_ms=slowmo,
                recycle_every=settings.recycle_every,
                console=err,
                show_progress=sys.stderr.isatty(),
            )
            result = asyncio.run(fleet.run(todo, done))
        if part is None:  # shards leave personas.json to `hogfleet merge`
            fold_day(store, day)
    summary = build_summary(result, run_id, day.isoformat(), target)
    if json_out:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        render_summary(summary, Console())
    reason = result.stopped_reason
    if reason and not reason.startswith("paused"):
        # Plain print: rich would wrap a long reason over several lines at 80 columns.
        print(f"error: {reason}", file=sys.stderr)
        raise typer.Exit(SIGNAL_EXIT.get(reason, ExitCode.FAILED))
    if settings.fail_over is not None and summary["failure_share"] > settings.fail_over:
        share, limit = summary["failure_share"], settings.fail_over
        print(f"error: {share:.1%} of sessions failed (over --fail-over {limit:g})", file=sys.stderr)
        raise typer.Exit(ExitCode.FAILED)


def pause(state_dir: StateDirOpt = None) -> None:
    """Turn the kill switch on: running fleets stop starting sessions; new runs do nothing."""
    root = state_dir or default_state_dir()
    control.pause(root)
    typer.echo(f"paused ({root / control.PAUSE_FILE})")


def resume(state_dir: StateDirOpt = None) -> None:
    """Turn the kill switch off."""
    root = state_dir or default_state_dir()
    typer.echo("resumed" if control.resume(root) else "was not paused")
