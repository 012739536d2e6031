"""What the planner hands the fleet: one :class:`SessionPlan` per active persona-day.

This is the contract between ``personas`` (which decides) and ``flows``/``bots`` (which click).
Fields may be added; renaming one breaks stored ``plans/<date>.json`` files, so bump
``PLAN_SCHEMA_VERSION`` when a change is not backwards compatible.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from personas.enums import Chronotype, EntryPoint, ErrorPath, Pattern, Plan, State

PLAN_SCHEMA_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VideoStep(_Frozen):
    """One title the session opens. Which title is picked from what the page shows, using the
    session seed; the planner only decides what the persona does with it."""

    start: bool
    # Share of the runtime to watch before leaving the player, 0..1 (ignored when not started).
    completion: float = Field(ge=0.0, le=1.0)
    rating: int | None = Field(default=None, ge=1, le=5)
    add_to_watchlist: bool = False


class Identity(_Frozen):
    """Everything needed to open this persona's browser context and log it in."""

    distinct_id: str
    email: str
    plan: Plan
    state: State
    activity_pattern: Pattern
    device: str  # a Playwright device descriptor name, e.g. "Desktop Chrome", "iPhone 13"
    locale: str
    timezone: str


class SessionPlan(_Frozen):
    session_id: str
    identity: Identity
    chronotype: Chronotype
    start_at: dt.datetime  # aware, in the persona's timezone
    entry_point: EntryPoint
    signup: bool  # first session: create the account through the UI
    search_query: str | None = None
    category: str | None = None
    videos: tuple[VideoStep, ...]
    flixbuddy_questions: tuple[str, ...] = ()
    support_ticket: str | None = None
    plan_change: Plan | None = None  # made on the account page during this session
    abandon_after: int | None = Field(default=None, ge=0)  # leave after this many videos
    error_path: ErrorPath | None = None
    seed: int  # per-session seed for choices that depend on what the page shows


class AccountDeletion(_Frozen):
    """A churned persona selected for cleanup deletes its account through the UI."""

    identity: Identity
    session_id: str
    seed: int


class DayPlan(_Frozen):
    schema_version: int = PLAN_SCHEMA_VERSION
    date: dt.date
    seed: int
    sessions: tuple[SessionPlan, ...]
    deletions: tuple[AccountDeletion, ...] = ()
