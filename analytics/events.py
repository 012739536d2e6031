"""The one event model every part of analytics/ (and the fleet) agrees on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CapturedEvent:
    """An event as PostHog would ingest it, after the wire format has been undone.

    `timestamp` is always timezone-aware UTC; `token` is the project API key the event was sent with,
    when the sender gave one.
    """

    uuid: str
    event: str
    distinct_id: str
    timestamp: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
