"""The fleet's declared events: the one place a caller (a command, a test, a bench) listens in.

Each hook is declared here with what it carries and when it fires, so the catalogue is this file.
Listeners run synchronously where the hook fires; one that raises is a bug in that listener and
propagates. ``add`` returns a function that removes the listener again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from bots.records.ledger import LedgerRecord
    from bots.runtime.runenv import RunEnv

T = TypeVar("T")


@dataclass
class Hook(Generic[T]):
    name: str
    doc: str
    _listeners: list[Callable[[T], None]] = field(default_factory=list)

    def add(self, listener: Callable[[T], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def fire(self, value: T) -> None:
        for listener in list(self._listeners):
            listener(value)


run_started: Hook[RunEnv] = Hook(
    "run_started",
    "the run's frozen environment, once, before its first session starts (run, debug and each smoke case)",
)
session_recorded: Hook[LedgerRecord] = Hook(
    "session_recorded",
    "every attempt's ledger record, as it is written (failed first attempts included)",
)
