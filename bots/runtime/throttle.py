"""Fleet-wide throttles: FlixBuddy calls cost real money on the real site (seed: 1 per 5 s,
at most 50 per run). Both figures scale the interval by --dwell-scale, never the cap."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Throttle:
    min_interval_s: dict[str, float]
    max_per_run: dict[str, int]
    used: dict[str, int] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def acquire(self, resource: str) -> bool:
        async with self._lock:
            cap = self.max_per_run.get(resource)
            if cap is not None and self.used.get(resource, 0) >= cap:
                return False
            interval = self.min_interval_s.get(resource, 0.0)
            wait = self._last.get(resource, -1e9) + interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last[resource] = time.monotonic()
            self.used[resource] = self.used.get(resource, 0) + 1
            return True
