"""The simulation's vocabularies. Values are docs/behaviour.md's spellings, as they appear in analytics."""

from __future__ import annotations

from enum import StrEnum


class Plan(StrEnum):
    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class State(StrEnum):
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    CASUAL = "CASUAL"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"


class Pattern(StrEnum):
    DAILY = "DAILY"
    REGULAR = "REGULAR"
    WEEKEND = "WEEKEND"
    BINGE = "BINGE"
    MONTHLY = "MONTHLY"


class LifeEvent(StrEnum):
    VACATION = "VACATION"
    SICK = "SICK"
    BUSY_WORK = "BUSY_WORK"
    NEW_RELEASE_HYPE = "NEW_RELEASE_HYPE"


class EntryPoint(StrEnum):
    HOMEPAGE = "homepage"
    SEARCH = "search"
    CATEGORY = "category"
    WATCHLIST = "watchlist"
    FLIXBUDDY = "flixbuddy"


class Chronotype(StrEnum):
    MORNING = "morning"
    LUNCH = "lunch"
    EVENING = "evening"
    NIGHT_OWL = "night_owl"
    COMMUTER = "commuter"
    SPORADIC = "sporadic"


class ErrorPath(StrEnum):
    """Mistakes real users make, taken by a share of sessions (``error_rate`` in personas/config.py)."""

    TYPO_SEARCH = "typo_search"
    WRONG_PASSWORD = "wrong_password"
    DEAD_LINK = "dead_link"
