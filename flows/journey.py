"""What a flow plugin is written against: the :class:`Session` it drives and the :data:`Journey` type.

A module of its own, so that the registry (flows/registry.py), the built-in journeys
(flows/journeys.py) and the session runner (flows/session.py) all import it and none of them
imports another in a circle. ``flows.session`` re-exports :class:`Session` for plugins written
before this module existed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from flows.driver import Site
from flows.outcome import SessionOutcome
from personas.plans import Identity, SessionPlan


@dataclass
class Session:
    site: Site
    plan: SessionPlan
    outcome: SessionOutcome = field(default_factory=SessionOutcome)
    opened: list[str] = field(default_factory=list)

    @property
    def identity(self) -> Identity:
        return self.plan.identity

    def substitute(self, wanted: str, instead: str) -> None:
        """Record that the plan asked for a step the site lacks and the session took ``instead``
        (counted in the run summary, never dropped silently)."""
        self.outcome.substitutions.append(f"{wanted}->{instead}")


Journey = Callable[[Session], Awaitable[None]]
