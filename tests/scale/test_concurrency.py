"""The adaptive concurrency controller's decisions, on synthetic figures (no timing involved)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from bots.runtime.concurrency import AdaptiveController, Limiter, WindowStats


def feed(ctrl: AdaptiveController, curve: dict[int, tuple[float, float]]) -> list[int]:
    """Judge one window per level from ``curve`` (limit -> (sessions/min, p95 s)) until settled."""
    for _ in range(50):
        if ctrl.settled:
            break
        per_min, p95 = curve[ctrl.limit]
        ctrl.decide(WindowStats(ctrl.limit, 10, per_min, p95))
    return ctrl.history


def test_climbs_while_throughput_rises_and_backs_off_at_the_plateau() -> None:
    # A 2-vCPU-like curve: throughput grows to 4 sessions, then flat while p95 grows linearly.
    curve = {2: (50.0, 3.0), 3: (66.0, 3.4), 4: (78.0, 3.9), 5: (79.0, 4.9), 6: (79.5, 5.9)}
    ctrl = AdaptiveController(start=2, cap=16)
    assert feed(ctrl, curve) == [2, 3, 4, 5, 4]
    assert ctrl.settled and ctrl.limit == 4


def test_stops_when_p95_rises_too_much_even_if_throughput_rises() -> None:
    curve = {2: (50.0, 3.0), 3: (60.0, 6.0), 4: (61.0, 9.0)}
    ctrl = AdaptiveController(start=2, cap=16, max_p95_rise=0.5)
    assert feed(ctrl, curve) == [2, 3, 2]


def test_stops_at_the_cap() -> None:
    curve = {n: (20.0 * n, 3.0) for n in range(1, 10)}
    ctrl = AdaptiveController(start=2, cap=5)
    assert feed(ctrl, curve) == [2, 3, 4, 5]
    assert ctrl.settled and ctrl.limit == 5


def test_a_cap_below_the_start_is_the_limit() -> None:
    ctrl = AdaptiveController(start=2, cap=1)
    assert ctrl.limit == 1 and ctrl.settled


def test_observe_judges_only_sessions_started_at_the_current_level() -> None:
    ctrl = AdaptiveController(start=2, cap=8, window=4)
    ctrl.begin(0.0)
    # Four sessions of 3 s each finishing over 6 s at limit 2: 40/min.
    changes = [ctrl.observe(s, s + 3.0) for s in (0.0, 0.0, 3.0, 3.0)]
    assert changes == [None, None, None, 3]
    # A session that started before the change does not count toward limit 3's window.
    assert ctrl.observe(5.0, 7.0) is None and ctrl._durations == []
    # Limit 3 judged on 6 sessions over 6 s (60/min, same p95): throughput rose, climb again.
    changes = [ctrl.observe(6.5 + i, 9.5 + i) for i in range(6)]
    assert changes[-1] == 4 and all(c is None for c in changes[:-1])


def test_the_limiter_admits_at_most_limit_and_follows_changes() -> None:
    async def scenario() -> list[int]:
        limiter = Limiter(2)
        peak: list[int] = []
        release = asyncio.Event()

        async def hold() -> None:
            async with limiter:
                peak.append(limiter.active)
                await release.wait()

        tasks = [asyncio.create_task(hold()) for _ in range(5)]
        await asyncio.sleep(0.01)
        first = limiter.active
        await limiter.set_limit(4)
        await asyncio.sleep(0.01)
        second = limiter.active
        release.set()
        await asyncio.gather(*tasks)
        return [first, second, max(peak), limiter.active]

    # Its own loop in its own thread: sync Playwright fixtures elsewhere in the session may hold this
    # thread's loop.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, scenario()).result() == [2, 4, 4, 0]
