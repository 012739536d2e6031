"""Adaptive concurrency: find the CPU plateau instead of guessing a fixed number.

On one machine a session's cost is mostly Chromium's CPU. Below the plateau another concurrent
session raises throughput; at the plateau it only raises latency (measured on 2 vCPU: ~70-85
sessions/min, reached near 2-4 sessions). The controller climbs one session at a time from
``start`` and judges each level over a window of sessions that *started* at that level:

- keep climbing while throughput rises by at least ``min_gain`` and p95 session time rises by no
  more than ``max_p95_rise`` over the best level so far;
- otherwise go back to the best level and stay there (the plateau), or stop at ``cap``.

The decision (:meth:`AdaptiveController.decide`) is pure arithmetic over window figures, so it is
unit-tested with synthetic numbers; :class:`Limiter` is the asyncio gate the fleet's workers pass.
``--concurrency N`` bypasses all of this with a fixed limit.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WindowStats:
    limit: int
    sessions: int
    per_min: float
    p95_s: float


@dataclass
class AdaptiveController:
    start: int = 2
    cap: int = 16
    window: int = 6  # at least this many sessions (and 2 × the limit) judge a level
    min_gain: float = 0.05
    max_p95_rise: float = 0.6
    limit: int = 0
    settled: bool = False
    best: WindowStats | None = None
    history: list[int] = field(default_factory=list)
    # the current window: sessions that started at the current limit
    _since: float | None = None
    _durations: list[float] = field(default_factory=list)
    _first_start: float | None = None

    def __post_init__(self) -> None:
        self.start = max(1, min(self.start, self.cap))
        self.limit = self.limit or self.start
        self.history = [self.limit]
        if self.limit >= self.cap:
            self.settled = True

    def needed(self) -> int:
        return max(self.window, 2 * self.limit)

    def decide(self, stats: WindowStats) -> int:
        """The next limit, given the figures measured at the current one."""
        if self.settled:
            return self.limit
        best = self.best
        if best is None or (
            stats.per_min >= best.per_min * (1 + self.min_gain)
            and stats.p95_s <= best.p95_s * (1 + self.max_p95_rise)
        ):
            self.best = stats
            if stats.limit >= self.cap:
                self.settled = True
                return self._set(stats.limit)
            return self._set(stats.limit + 1)
        # The plateau: this level bought too little throughput, or too much latency.
        self.settled = True
        return self._set(best.limit)

    def _set(self, limit: int) -> int:
        if limit != self.limit:
            self.limit = limit
            self.history.append(limit)
        self._since, self._durations, self._first_start = None, [], None
        return limit

    def begin(self, now: float) -> None:
        """The limit changed (or the run started) at ``now``: a new window starts."""
        if self._since is None:
            self._since = now

    def observe(self, started: float, ended: float) -> int | None:
        """A session finished; returns a new limit when the window at this level is complete."""
        if self.settled or self._since is None or started < self._since:
            return None
        self._durations.append(ended - started)
        self._first_start = started if self._first_start is None else min(self._first_start, started)
        if len(self._durations) < self.needed():
            return None
        span = max(ended - self._since, 1e-6)
        stats = WindowStats(
            self.limit, len(self._durations), 60 * len(self._durations) / span, p95(self._durations)
        )
        before = self.limit
        after = self.decide(stats)
        self._since = ended
        return after if after != before else None


def p95(values: Iterable[float], empty: float = 0.0) -> float:
    """The 95th percentile (inclusive method); ``empty`` when there are no values. The one p95 of
    the fleet, its run summary (bots/reporting/summary.py) and the bench (bench/common.py)."""
    xs = sorted(values)
    if len(xs) < 2:
        return xs[0] if xs else empty
    return statistics.quantiles(xs, n=20, method="inclusive")[18]


class Limiter:
    """At most ``limit`` holders at once; the limit can move while holders are inside."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._cond = asyncio.Condition()

    async def __aenter__(self) -> Limiter:
        async with self._cond:
            await self._cond.wait_for(lambda: self.active < self.limit)
            self.active += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._cond:
            self.active -= 1
            self._cond.notify_all()

    async def set_limit(self, limit: int) -> None:
        async with self._cond:
            self.limit = max(1, limit)
            self._cond.notify_all()
