"""Shared by the fleet benches: the standard journey, process-tree RSS/CPU sampling, percentiles.

The sampler reads /proc directly (no psutil): every descendant of this process, grouped as the
browser (Chromium), the Playwright driver (node), the demo server, and this Python process.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bots.runtime.concurrency import p95 as fleet_p95
from personas.enums import Chronotype, EntryPoint, Pattern, Plan, State
from personas.plans import Identity, SessionPlan, VideoStep

DAY = dt.date(2026, 3, 2)
TICK = os.sysconf("SC_CLK_TCK")


def identity(i: int) -> Identity:
    did = f"bench{i:05d}"
    return Identity(
        distinct_id=did,
        email=f"{did}@hogflix-synthetic.test",
        plan=Plan.STANDARD,
        state=State.ACTIVE,
        activity_pattern=Pattern.DAILY,
        device="Desktop Chrome",
        locale="en-US",
        timezone="Europe/London",
    )


def standard_plan(label: str, i: int, persona: int, *, signup: bool = False) -> SessionPlan:
    """The standard journey: homepage entry, two popular titles watched to 60%."""
    return SessionPlan(
        session_id=f"{label}-{i:05d}",
        identity=identity(persona),
        chronotype=Chronotype.EVENING,
        start_at=dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC),
        entry_point=EntryPoint.HOMEPAGE,
        signup=signup,
        videos=(VideoStep(start=True, completion=0.6), VideoStep(start=True, completion=0.6)),
        seed=1000 + i,
    )


def browse_plan(label: str, i: int, persona: int, *, signup: bool = False) -> SessionPlan:
    """A short journey (homepage → title → homepage → title, nothing played): the shape of the
    issue's "3-page session", where a browser launch is a large share of the session's cost."""
    return standard_plan(label, i, persona, signup=signup).model_copy(
        update={"videos": (VideoStep(start=False, completion=0.0), VideoStep(start=False, completion=0.0))}
    )


def p95(values: Iterable[float]) -> float:
    return fleet_p95(values, empty=float("nan"))


def median(values: Iterable[float]) -> float:
    xs = list(values)
    return statistics.median(xs) if xs else float("nan")


def children(pid: int) -> list[int]:
    out: list[int] = []
    task = Path(f"/proc/{pid}/task")
    try:
        tids = list(task.iterdir())
    except OSError:
        return out
    for tid in tids:
        try:
            out.extend(int(c) for c in (tid / "children").read_text().split())
        except OSError:
            continue
    return out


def descendants(pid: int) -> list[int]:
    seen: list[int] = []
    stack = children(pid)
    while stack:
        p = stack.pop()
        seen.append(p)
        stack.extend(children(p))
    return seen


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kind(pid: int) -> str:
    cmd = _cmdline(pid)
    if "chrom" in cmd:
        return "browser"
    if "playwright/driver" in cmd:
        return "driver"
    if "demo" in cmd and "serve" in cmd:
        return "demo"
    return "other"


def _status_kb(pid: int, name: str, key: str) -> int:
    """The kB figure on the ``key`` line of ``/proc/<pid>/<name>``, 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid: int) -> int:
    return _status_kb(pid, "status", "VmRSS:")


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages divided among their sharers (RSS counts them in each
    of Chromium's processes, which overstates a multi-process browser several times)."""
    return _status_kb(pid, "smaps_rollup", "Pss:")


def _times(pid: int) -> list[int] | None:
    """utime, stime, cutime, cstime in clock ticks, or None once the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return [int(x) for x in raw[raw.rindex(")") + 2 :].split()[11:15]]


def cpu_s(pid: int) -> float:
    times = _times(pid)
    return (times[0] + times[1]) / TICK if times else 0.0


def chromium_cpu_s() -> float:
    """CPU seconds of every Chromium process this process started, the exited ones included:
    live ones by their own and their reaped children's time, exited browsers through the
    Playwright driver that reaped them. Deltas of it are exact where Sampler (which sees a process
    only while it lives) misses the last moments of short-lived ones."""
    total = 0.0
    for pid in descendants(os.getpid()):
        k = kind(pid)
        if k not in ("browser", "driver"):
            continue
        times = _times(pid)
        if times:
            total += sum(times if k == "browser" else times[2:]) / TICK
    return total


@dataclass
class Sampler:
    """Samples the process tree every ``interval`` s in a thread; phases bracket what is measured."""

    interval: float = 0.1
    peak_browser_kb: int = 0
    last_browser_kb: int = 0
    peak_browser_pss_kb: int = 0
    last_browser_pss_kb: int = 0
    cpu_by_pid: dict[int, tuple[str, float]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _own_cpu: float = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _loop(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            self.sample(me)
            self._own_cpu = time.thread_time()
            self._stop.wait(self.interval)

    def sample(self, me: int) -> None:
        browser = pss = 0
        for pid in descendants(me):
            k = self.cpu_by_pid[pid][0] if pid in self.cpu_by_pid else kind(pid)
            if k == "browser":
                browser += rss_kb(pid)
                pss += pss_kb(pid)
            c = cpu_s(pid)
            if c:
                self.cpu_by_pid[pid] = (k, c)
        self.last_browser_kb, self.last_browser_pss_kb = browser, pss
        self.peak_browser_kb = max(self.peak_browser_kb, browser)
        self.peak_browser_pss_kb = max(self.peak_browser_pss_kb, pss)

    def reset_peak(self) -> None:
        self.peak_browser_kb = self.last_browser_kb
        self.peak_browser_pss_kb = self.last_browser_pss_kb

    def cpu_snapshot(self) -> dict[str, float]:
        """Cumulative CPU seconds by kind; 'python' is this process minus the sampler thread."""
        out: dict[str, float] = {"python": time.process_time() - self._own_cpu}
        for k, c in list(self.cpu_by_pid.values()):
            out[k] = out.get(k, 0.0) + c
        return out


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(before) | set(after)}
