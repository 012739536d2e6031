"""When in the (persona's local) day a session starts, from its chronotype (docs/behaviour.md)."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from functools import lru_cache

from personas.config import BehaviourConfig
from personas.enums import Chronotype


@lru_cache(maxsize=256)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def start_time(
    rng: random.Random, chronotype: Chronotype, date: dt.date, timezone: str, config: BehaviourConfig
) -> dt.datetime:
    """An aware datetime on ``date`` in ``timezone``, inside one of the chronotype's windows.

    Windows are picked in proportion to their length; a night owl's 00:00-02:00 window is the early
    hours of ``date`` itself, so a plan never spills into the next day.
    """
    windows = config.chronotype_hours[chronotype]
    total = sum(hi - lo for lo, hi in windows)
    x = rng.random() * total * 3600
    for lo, hi in windows:
        span = (hi - lo) * 3600
        if x < span:
            seconds = lo * 3600 + int(x)
            break
        x -= span
    else:  # pragma: no cover - float edge
        lo, hi = windows[-1]
        seconds = hi * 3600 - 1
    seconds = min(seconds, 86_399)
    t = dt.time(seconds // 3600, (seconds // 60) % 60, seconds % 60)
    return dt.datetime.combine(date, t, tzinfo=zone(timezone))
