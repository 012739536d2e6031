"""Execute a day's plan: bounded concurrency over one shared browser, exactly once per session.

Control points between sessions (never inside one): the kill switch, the circuit breaker, a
stop signal and ``--max-sessions``. A session already started is allowed to finish.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from playwright.async_api import async_playwright
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bots.records.ledger import DONE, Ledger, LedgerRecord
from bots.runtime import hooks
from bots.runtime.attempt import Live, WorkItem, run_item
from bots.runtime.concurrency import AdaptiveController, Limiter
from bots.runtime.launcher import BrowserHandle
from bots.runtime.runenv import RunEnv
from personas.plans import SessionPlan

PauseCheck = Callable[[], bool]
log = logging.getLogger("hogfleet.fleet")


@dataclass
class FleetResult:
    records: list[LedgerRecord] = field(default_factory=list)  # every attempt, in finish order
    skipped_done: int = 0
    planned: int = 0
    stopped_reason: str | None = None
    elapsed_s: float = 0.0
    browser_launches: int = 0

    def finals(self) -> dict[str, LedgerRecord]:
        """The last attempt of each session this run touched."""
        return {r.session_id: r for r in self.records}


def select_items(
    items: Sequence[WorkItem],
    ledger: Ledger,
    personas: Sequence[str] = (),
    max_sessions: int | None = None,
    due_before: dt.datetime | None = None,
) -> tuple[list[WorkItem], int]:
    """Items still to do (not done in the ledger), filtered and capped; and how many were done.

    ``due_before`` keeps sessions whose planned start (an aware time in the persona's own
    timezone) is before it: overdue ones and those of the coming window. Deletions are always due.
    """
    done = ledger.done_sessions()
    wanted = set(personas)
    todo: list[WorkItem] = []
    skipped = 0
    for item in items:
        if wanted and item.identity.distinct_id not in wanted and item.identity.email not in wanted:
            continue
        if due_before is not None and isinstance(item, SessionPlan) and item.start_at >= due_before:
            continue
        if item.session_id in done:
            skipped += 1
            continue
        todo.append(item)
    if max_sessions is not None:
        todo = todo[:max_sessions]
    return todo, skipped


@dataclass
class Fleet:
    env: RunEnv
    ledger: Ledger
    concurrency: int | None  # None: adaptive, from 2 up to concurrency_cap (bots/concurrency.py)
    paused: PauseCheck
    breaker_threshold: int = 5
    browser_endpoints: Sequence[str] = ()  # several run-servers: sessions go round-robin
    concurrency_cap: int = 16
    concurrency_trace: list[int] = field(default_factory=list)  # the limits used, in order
    headless: bool = True
    slowmo_ms: float = 0
    devtools: bool = False
    recycle_every: int | None = None
    console: Console = field(default_factory=lambda: Console(stderr=True))
    show_progress: bool = True
    _stop: str | None = None
    _consecutive_failures: int = 0
    _interrupt: bool = False

    def request_stop(self, reason: str) -> None:
        if self._stop is None:
            self._stop = reason

    def _signalled(self, sig: signal.Signals) -> None:
        # Sessions in flight finish their current step, then save state and write the ledger.
        self._interrupt = True
        self.request_stop(f"stopped by {sig.name}")

    def _record(self, record: LedgerRecord, result: FleetResult) -> None:
        self.ledger.append(record)
        result.records.append(record)
        log.log(
            logging.WARNING if record.outcome == "failed" else logging.INFO,
            "session %s",
            record.outcome,
            extra={
                "persona": record.persona,
                "session": record.session_id,
                "step": record.error_step,
                "outcome": record.outcome,
                "error_class": record.error_class,
                "error": record.error_message,
                "attempt": record.attempt,
                "duration_s": round(record.duration_s, 3),
                "run_id": record.run_id,
            },
        )
        hooks.session_recorded.fire(record)

    def _note_final(self, record: LedgerRecord) -> None:
        if record.outcome in DONE:
            self._consecutive_failures = 0
            return
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.breaker_threshold:
            self.request_stop(
                # One short line (it ends the run's output); the ledger and summary hold the details.
                f"circuit breaker: {self._consecutive_failures} failed in a row "
                f"(last: {record.error_class} at {record.error_step or 'start'})"
            )

    def _may_start(self) -> bool:
        if self._stop is None and self.paused():
            self._stop = "paused: the kill switch is on (hogfleet resume)"
        return self._stop is None

    async def run(self, items: Sequence[WorkItem], skipped_done: int = 0) -> FleetResult:
        result = FleetResult(skipped_done=skipped_done, planned=len(items) + skipped_done)
        started = time.monotonic()
        hooks.run_started.fire(self.env)
        loop = asyncio.get_running_loop()
        # Signals reach the main thread only: a fleet run from another thread (a program embedding
        # it, a test) leaves them to that program.
        signals = (
            (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
        )
        for sig in signals:
            loop.add_signal_handler(sig, self._signalled, sig)
        try:
            async with async_playwright() as pw:
                live = Live(devices=pw.devices, interrupted=lambda: self._interrupt)
                endpoints: list[str | None] = [*self.browser_endpoints] or [None]
                handles = [
                    BrowserHandle.for_endpoint(
                        pw,
                        endpoint,
                        headless=self.headless,
                        slowmo_ms=self.slowmo_ms,
                        devtools=self.devtools,
                        recycle_every=self.recycle_every,
                    )
                    for endpoint in endpoints
                ]
                try:
                    if endpoints != [None]:
                        # Connect to every remote browser before the first session: a version
                        # mismatch or a dead endpoint fails the run at once, in one line.
                        for handle in handles:
                            await handle.acquire()
                    await self._run_all(items, handles, live, result)
                finally:
                    result.browser_launches = sum(h.launches for h in handles)
                    for handle in handles:
                        await handle.close()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
        result.stopped_reason = self._stop
        result.elapsed_s = time.monotonic() - started
        return result

    async def _run_all(
        self, items: Sequence[WorkItem], handles: Sequence[BrowserHandle], live: Live, result: FleetResult
    ) -> None:
        queue: asyncio.Queue[WorkItem] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)
        progress = Progress(
            TextColumn("[bold]sessions"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]} · events {task.fields[events]}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self.show_progress,
            transient=False,
        )
        task = progress.add_task("run", total=len(items), failed=0, events=0)
        counters: Counter[str] = Counter()

        def record(rec: LedgerRecord) -> None:
            self._record(rec, result)

        fixed = self.concurrency is not None
        controller = AdaptiveController(start=2, cap=self.concurrency_cap)
        limit = self.concurrency if self.concurrency is not None else controller.limit
        limiter = Limiter(limit)
        self.concurrency_trace = [limit]
        controller.begin(time.monotonic())
        turn = itertools.count()

        async def worker() -> None:
            while self._may_start():
                async with limiter:
                    if not self._may_start():  # stopped while this worker waited for a slot
                        return
                    try:
                        item = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    handle = handles[next(turn) % len(handles)]
                    began = time.monotonic()
                    final = await run_item(handle.acquire, self.env, live, item, record)
                    await handle.release_retired()
                if not fixed:
                    changed = controller.observe(began, time.monotonic())
                    if changed is not None:
                        self.concurrency_trace.append(changed)
                        await limiter.set_limit(changed)
                self._note_final(final)
                counters["failed"] += final.outcome == "failed"
                counters["events"] += sum(final.events.values())
                progress.update(task, advance=1, failed=counters["failed"], events=counters["events"])

        with progress:
            workers = self.concurrency if self.concurrency is not None else self.concurrency_cap
            await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(items) or 1)))))
