"""Build a sample state dir, write `hogfleet report` for it and screenshot it (docs/report.png).

The pool and its daily metrics come from the real simulation; the ledgers are written with the
fleet's own ``Ledger.append`` (one record per session, outcomes and events drawn with a fixed
seed); failed sessions get a real Playwright trace and screenshot. tests/bots/test_report.py uses
the same builder, so the README picture is of exactly what the test checks.

    .venv/bin/python scripts/report_screenshot.py [--out docs/report.png]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bots.records.ledger import Artifacts, ErrorClass, Ledger, LedgerRecord, Verdict, ledger_path
from personas.simulation import simulate
from personas.store import StateStore

SEED = 11
END = dt.date(2026, 3, 1)
EVENTS = {
    "$pageview": (3, 9),
    "title_opened": (0, 4),
    "video_started": (0, 3),
    "video_progress": (0, 8),
    "video_completed": (0, 2),
    "search_performed": (0, 2),
    "watchlist_added": (0, 1),
    "rating_submitted": (0, 1),
}
FAILURES = [
    (
        ErrorClass.SELECTOR_TIMEOUT,
        "watch",
        "Locator.click: Timeout 60000ms exceeded waiting for [data-testid=play]",
    ),
    (ErrorClass.UNEXPECTED_PAGE, "title", "expected the title page, got /login"),
    (ErrorClass.HTTP_5XX, "search", "GET /search?q=dune -> 503"),
]


def build_state(root: Path, browser: Any, end: dt.date = END, days: int = 30, pool: int = 120) -> None:
    """A state dir with ``days`` days of metrics and ledgers ending at ``end``.

    ``browser`` is a Playwright sync ``Browser``: it records the failed sessions' traces.
    """
    store = StateStore(root)
    days_run = list(simulate(SEED, end - dt.timedelta(days=days - 1), days, pool=pool))
    population = days_run[-1][0]
    metrics = [m for _, m in days_run]
    store.save_metrics(metrics)
    store.save_population(population)
    rng = random.Random(SEED)
    ids = [p.distinct_id for p in population.personas]
    for m in metrics:
        ledger = Ledger(ledger_path(root, m.date))
        n = max(3, m.active_today // 4)
        for i, persona in enumerate(rng.sample(ids, min(n, len(ids)))):
            _session(root, ledger, m.date, persona, i, rng, browser, force_fail=(m.date == end and i < 3))


def _session(
    root: Path,
    ledger: Ledger,
    day: dt.date,
    persona: str,
    i: int,
    rng: random.Random,
    browser: Any,
    force_fail: bool,
) -> None:
    roll = rng.random()
    outcome = "failed" if force_fail or roll < 0.05 else "abandoned" if roll < 0.14 else "ok"
    session_id = f"{day.isoformat()}-{persona}-s{i}"
    start = dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 900))
    seconds = rng.lognormvariate(3.6, 0.6) * (0.4 if outcome != "ok" else 1.0)
    events = {name: rng.randint(lo, hi) for name, (lo, hi) in EVENTS.items()}
    questions = rng.choice([0, 0, 0, 0, 1, 2])
    if questions:
        events["flixbuddy_interaction"] = questions
    events = {k: v for k, v in events.items() if v}
    attempt = 1
    if outcome == "failed":
        # A failed session was retried once and failed again: the ledger holds both attempts.
        ledger.append(_record(day, persona, session_id, 1, start, seconds, "failed", events, questions))
        attempt = 2
    record = _record(day, persona, session_id, attempt, start, seconds, outcome, events, questions)
    if outcome == "failed":
        error_class, step, message = FAILURES[i % len(FAILURES)]
        artifacts = _artifacts(root, day, persona, session_id, browser) if day == END else Artifacts()
        record = record.model_copy(
            update={
                "error_class": error_class,
                "error_step": step,
                "error_message": message,
                "artifacts": artifacts,
                "verdict": Verdict(ok=False, missing=["video_started"], message="missing video_started"),
            }
        )
    ledger.append(record)


def _record(
    day: dt.date,
    persona: str,
    session_id: str,
    attempt: int,
    start: dt.datetime,
    seconds: float,
    outcome: str,
    events: dict[str, int],
    questions: int,
) -> LedgerRecord:
    return LedgerRecord.model_validate(
        {
            "date": day,
            "run_id": f"{day.isoformat()}-sample",
            "persona": persona,
            "session_id": session_id,
            "attempt": attempt,
            "started_at": start,
            "ended_at": start + dt.timedelta(seconds=seconds),
            "outcome": outcome,
            "steps_done": len(events),
            "events": events,
            "counts": {"flixbuddy_questions": questions, "videos_watched": events.get("video_started", 0)},
        }
    )


def _artifacts(root: Path, day: dt.date, persona: str, session_id: str, browser: Any) -> Artifacts:
    folder = root / "artifacts" / day.isoformat() / persona / session_id
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 800, "height": 500})
    context.tracing.start(screenshots=True, snapshots=True)
    page = context.new_page()
    page.set_content(
        "<body style='font-family:sans-serif;background:#141414;color:#eee'>"
        f"<h1>HogFlix</h1><p>session {session_id}</p><button data-testid='play'>Play</button></body>"
    )
    page.screenshot(path=str(folder / "screenshot.png"))
    context.tracing.stop(path=str(folder / "trace.zip"))
    context.close()
    return Artifacts(trace=str(folder / "trace.zip"), screenshot=str(folder / "screenshot.png"))


def screenshot(page: Any, report: Path, out: Path) -> None:
    """A viewport-sized picture of the report's top (KPIs and the first plots), small enough for a README."""
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.goto(report.resolve().as_uri())
    page.wait_for_selector("#plot-flixbuddy-usage .main-svg")
    page.screenshot(path=str(out), full_page=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/report.png"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from bots.runtime.browser import resolve

    choice = resolve()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        launch: dict[str, Any] = {}
        if choice.kind == "system":
            launch = {"executable_path": choice.executable, "args": list(choice.args)}
        browser = pw.chromium.launch(**launch)
        state = Path(tmp) / "state"
        build_state(state, browser)
        report = Path(tmp) / "report.html"
        cli = [sys.executable, "-m", "bots.cli", "report", "--state-dir", str(state)]
        subprocess.run([*cli, "--date", END.isoformat(), "--out", str(report)], check=True)
        page = browser.new_page()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(page, report, args.out)
        browser.close()
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
