"""The runtime side of flows' StepHooks: timeouts, the step log, and the events each step owes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from flows.profile import SiteProfile

StepListener = Callable[[str, str, float], None]  # (step, status, seconds)


class Interrupted(Exception):
    """The run was asked to stop (SIGTERM/Ctrl-C): the current step finished, no new one starts."""


class StepTimeout(Exception):
    def __init__(self, step: str, seconds: float) -> None:
        super().__init__(f"step {step!r} took longer than {seconds:g}s")
        self.step = step


@dataclass
class StepRecorder:
    profile: SiteProfile
    step_timeout_s: float
    acquire_fn: Callable[[str], Awaitable[bool]] | None = None
    listener: StepListener | None = None
    interrupted: Callable[[], bool] | None = None
    settle: Callable[[], Awaitable[None]] | None = None
    done: list[str] = field(default_factory=list)
    owed: list[str] = field(default_factory=list)
    current: str | None = None

    @asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[None]:
        if self.interrupted is not None and self.interrupted():
            raise Interrupted(f"stopped before step {name!r}")
        self.current = name
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.step_timeout_s):
                yield
        except TimeoutError:
            self._emit(name, "timeout", started)
            raise StepTimeout(name, self.step_timeout_s) from None
        except BaseException:
            self._emit(name, "failed", started)
            raise
        self.done.append(name)
        self.owed.append(name)
        self._emit(name, "ok", started)
        self.current = None

    def _emit(self, name: str, status: str, started: float) -> None:
        if self.listener is not None:
            self.listener(name, status, time.monotonic() - started)

    def expect(self, step: str) -> None:
        self.owed.append(step)

    async def acquire(self, resource: str) -> bool:
        return True if self.acquire_fn is None else await self.acquire_fn(resource)

    async def before_leaving(self) -> None:
        if self.settle is not None:
            await self.settle()

    def expected_events(self) -> set[str]:
        return {event for step in self.owed for event in self.profile.expected(step)}
