"""The end-of-run summary: outcome counts, events by name, throughput, failures with traces."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bots.records.artifacts import show_trace_command
from bots.records.ledger import LedgerRecord
from bots.runtime.concurrency import p95
from bots.runtime.fleet import FleetResult


def build_summary(result: FleetResult, run_id: str, date: str, target: str) -> dict[str, Any]:
    finals = list(result.finals().values())
    outcomes = Counter(r.outcome for r in finals)
    events: Counter[str] = Counter()
    for record in result.records:
        events.update(record.events)
    durations = [r.duration_s for r in finals]
    minutes = result.elapsed_s / 60 if result.elapsed_s > 0 else 0.0
    failures = [_failure(r) for r in finals if r.outcome == "failed"]
    verdict_problems = [
        {"persona": r.persona, "session_id": r.session_id, "verdict": r.verdict.message}
        for r in finals
        if r.verdict is not None and not r.verdict.ok and r.outcome != "failed"
    ]
    attempted = len(finals)
    # Steps a plan asked for that the site lacks, and the path taken instead: counted, never dropped.
    substitutions = Counter(sub for r in finals for sub in r.counts.substitutions)
    shares = [
        r.verdict.synthetic_share for r in finals if r.verdict and r.verdict.synthetic_share is not None
    ]
    return {
        "run_id": run_id,
        "date": date,
        "target": target,
        "planned": result.planned,
        "already_done": result.skipped_done,
        "attempted": attempted,
        "outcomes": {k: outcomes.get(k, 0) for k in ("ok", "abandoned", "failed", "skipped")},
        "attempts": len(result.records),
        "failure_share": round(outcomes.get("failed", 0) / attempted, 4) if attempted else 0.0,
        "events": dict(sorted(events.items())),
        "events_total": sum(events.values()),
        "sessions_per_min": round(attempted / minutes, 2) if minutes else 0.0,
        "p95_session_s": round(p95(durations), 3),
        "elapsed_s": round(result.elapsed_s, 2),
        "browser_launches": result.browser_launches,
        "stopped_reason": result.stopped_reason,
        "failures": failures,
        "analytics_problems": verdict_problems,
        "substitutions": dict(sorted(substitutions.items())),
        "synthetic_share_min": min(shares) if shares else None,
        "left_for_site_cleanup": sum(r.counts.left_for_site_cleanup for r in finals),
    }


def _failure(record: LedgerRecord) -> dict[str, Any]:
    trace = record.artifacts.trace
    return {
        "persona": record.persona,
        "session_id": record.session_id,
        "error_class": record.error_class,
        "error_step": record.error_step,
        "error": record.error_message,
        "trace": trace,
        "screenshot": record.artifacts.screenshot,
        "show_trace": show_trace_command(Path(trace)) if trace else None,
    }


def render_summary(summary: dict[str, Any], console: Console) -> None:
    o = summary["outcomes"]
    console.print(
        f"[bold]run {summary['run_id']}[/] on {summary['date']} against {summary['target']}: "
        f"{summary['attempted']} sessions ({summary['already_done']} already done) — "
        f"ok {o['ok']}, abandoned {o['abandoned']}, failed {o['failed']}; "
        f"{summary['sessions_per_min']} sessions/min, p95 {summary['p95_session_s']}s"
    )
    if summary["events"]:
        table = Table("event", "count", title=f"events observed ({summary['events_total']})")
        for name, count in summary["events"].items():
            table.add_row(name, str(count))
        console.print(table)
    for failure in summary["failures"]:
        console.print(
            f"[red]failed[/] {failure['persona']} {failure['session_id']} "
            f"[{failure['error_class']}] at {failure['error_step']}: {failure['error']}"
        )
        if failure["show_trace"]:
            console.print(f"  trace: {failure['show_trace']}")
    for problem in summary["analytics_problems"][:20]:
        console.print(
            f"[yellow]analytics[/] {problem['persona']} {problem['session_id']}: {problem['verdict']}"
        )
    if summary["substitutions"]:
        subs = ", ".join(f"{k} ×{v}" for k, v in summary["substitutions"].items())
        console.print(f"steps the site lacks, and what was done instead: {subs}")
    if summary["left_for_site_cleanup"]:
        n = summary["left_for_site_cleanup"]
        console.print(f"{n} churned account(s) logged out and left for the site's own cleanup")
    if summary["stopped_reason"]:
        console.print(f"[bold red]stopped:[/] {summary['stopped_reason']}")
