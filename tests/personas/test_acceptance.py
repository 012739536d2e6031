"""Issue 2's acceptance floor: five seeds, 395 days, checked on days 31-395."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from personas.config import DEFAULT_CONFIG
from personas.enums import Pattern
from personas.simulation import simulate

START = dt.date(2026, 1, 1)


def _run(seed: int) -> dict[str, Any]:
    days = list(simulate(seed, START, 395))
    metrics = [m for _, m in days]
    pop = days[-1][0]
    old = [p for p in pop.personas if p.days_since_signup > 14]
    expected = DEFAULT_CONFIG.plan_weighted_pattern_mix(dict(Counter(p.plan for p in old)))
    seen = Counter(p.activity_pattern for p in old)
    return {
        "metrics": [m.model_dump() for m in metrics[30:]],
        "mix_gap": {pt: abs(seen[pt] / len(old) - expected[pt]) for pt in Pattern},
    }


@pytest.fixture(scope="module")
def runs() -> dict[int, dict[str, Any]]:
    seeds = [1, 2, 3, 4, 5]
    with ProcessPoolExecutor(max_workers=2) as pool:
        return dict(zip(seeds, pool.map(_run, seeds), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_daily_bounds(runs: dict[int, dict[str, Any]], seed: int) -> None:
    days = runs[seed]["metrics"]
    assert len(days) == 365
    for m in days:
        assert 380 <= m["total_personas"] <= 420, m
        assert 2 <= m["new_signups"] <= 5, m
        assert 30 <= m["active_today"] <= 150, m
        assert m["flixbuddy_calls"] <= 50, m
    assert 8 <= statistics.mean(m["flixbuddy_calls"] for m in days) <= 12
    weekday = statistics.mean(m["active_today"] for m in days if m["date"].weekday() < 5)
    weekend = statistics.mean(m["active_today"] for m in days if m["date"].weekday() >= 5)
    assert abs(weekday - weekend) > 1.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_last_day_pattern_mix_tracks_the_plan_table(runs: dict[int, dict[str, Any]], seed: int) -> None:
    for pattern, gap in runs[seed]["mix_gap"].items():
        assert gap <= 0.05, (pattern, gap)
