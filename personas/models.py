"""The simulation's state: personas, the population that holds them, and the daily metrics.

Field names follow the behaviour spec's "Enhanced Persona Schema" (docs/behaviour.md). Day-granular fields
(``last_active``, ``state_changed_at``...) are dates: the simulation advances one day at a time and never
reads the wall clock. ``created_at`` keeps a time of day because the distinct id embeds its milliseconds.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from personas.enums import Chronotype, LifeEvent, Pattern, Plan, State

PERSONAS_SCHEMA_VERSION = 1
METRICS_SCHEMA_VERSION = 1


class BingeState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    is_binging: bool = False
    binge_day: int = Field(default=0, ge=0)
    cooldown_until: dt.date | None = None
    binge_length: int = Field(default=0, ge=0)  # days the current binge lasts


NOT_BINGING = BingeState()


class Persona(BaseModel):
    """One synthetic user. Mutable only inside :func:`personas.lifecycle.step`, on its own copy."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    # Identity
    distinct_id: str
    plan: Plan
    source: str
    email: str
    name: str
    device: str
    locale: str
    timezone: str
    chronotype: Chronotype
    genre_affinities: dict[str, float]

    # Lifecycle
    state: State = State.NEW
    state_changed_at: dt.date
    days_since_signup: int = Field(default=0, ge=0)
    last_active: dt.date | None = None
    created_at: dt.datetime

    # Activity pattern (DAILY until the permanent pattern is drawn at 14 days)
    activity_pattern: Pattern = Pattern.DAILY
    pattern_assigned: bool = False
    pattern_quantile: float = Field(default=0.5, ge=0.0, lt=1.0)  # fixed at signup, see lifecycle
    consecutive_active_days: int = Field(default=0, ge=0)
    consecutive_missed_days: int = Field(default=0, ge=0)
    total_sessions: int = Field(default=0, ge=0)

    # Engagement metrics (the planner's intentions, recorded when a day is planned from stored state)
    engagement_score: float = Field(default=90.0, ge=0.0, le=100.0)
    videos_watched: int = Field(default=0, ge=0)
    avg_watch_completion: float = Field(default=0.0, ge=0.0, le=100.0)
    ratings_given: int = Field(default=0, ge=0)
    watchlist_size: int = Field(default=0, ge=0)
    flixbuddy_conversations: int = Field(default=0, ge=0)

    # Temporal state
    in_life_event: LifeEvent | None = None
    life_event_ends_at: dt.date | None = None  # first day without the event
    binge_state: BingeState = NOT_BINGING
    lapsed_on: dt.date | None = None  # lost interest for good (see docs/behaviour.md)
    reactivated_on: dt.date | None = None  # came back from CASUAL/DORMANT on this day
    plan_changed_on: dt.date | None = None
    previous_plan: Plan | None = None

    # Churn tracking
    churned_at: dt.date | None = None
    churn_reason: str | None = None
    delete_pending: bool = False

    # Site sync: the fleet sets these once the UI signup succeeded.
    signed_up_on_site: bool = False
    db_initialized: bool = False
    user_id: str | None = None
    profile_id: str | None = None

    @property
    def index(self) -> int:
        return int(self.distinct_id.split("_")[1])


class Population(BaseModel):
    """Everything ``personas.json`` holds."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = PERSONAS_SCHEMA_VERSION
    seed: int
    pool: int = Field(ge=1)
    current_date: dt.date  # the last day stepped
    next_index: int = Field(ge=0)
    personas: list[Persona]
    # Churned personas selected for deletion whose account still exists on the site: every plan
    # carries an AccountDeletion for them until the fleet confirms (see simulation.confirm_deletion).
    pending_deletions: list[Persona] = Field(default_factory=list)
    # Signups so far per plan: the rank that spreads each plan's patterns evenly (lifecycle.pattern_quantile).
    plan_signups: dict[Plan, int] = Field(default_factory=dict)
    # Session ids the fleet has already folded back into the personas (owned by bots/outcomes.py).
    folded_sessions: list[str] = Field(default_factory=list)


class DailyMetrics(BaseModel):
    """Exactly the "Daily Metrics Schema" keys of docs/behaviour.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    total_personas: int
    active_today: int
    new_signups: int
    churned_cleaned: int
    flixbuddy_calls: int
    state_distribution: dict[State, int]
    pattern_distribution: dict[Pattern, int]
