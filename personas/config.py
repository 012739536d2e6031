"""Every behaviour number of the simulation, as data, in one place.

The defaults are the behaviour spec's numbers (docs/behaviour.md); the few constants it leaves free are
marked ``# free:`` and explained in ``docs/behaviour.md``. A TOML file (``hogfleet.toml`` in the working
directory, or ``--config PATH``) overrides any of them: tables are merged key by key into the defaults,
then the whole is validated. An unknown key or an out-of-range probability is a one-line
:class:`HogfleetError` naming the key (personas/tomlfile.py words every such error). The top-level
``[fleet]`` table belongs to the fleet (bots/config/settings.py) and is ignored here.
"""

from __future__ import annotations

import math
import zoneinfo
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personas.enums import Chronotype, EntryPoint, LifeEvent, Pattern, Plan, State
from personas.errors import HogfleetError
from personas.tomlfile import config_path, read_toml, validate

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0)]
Days = Annotated[int, Field(ge=0, le=3650)]

# The table the fleet owns in the same file (bots/config/settings.py); the behaviour model ignores it.
FOREIGN_TABLES = frozenset({"fleet"})


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LifeEventRule(_Strict):
    chance: Prob  # per persona-day, when no event is running
    min_days: Annotated[int, Field(ge=1, le=365)]
    max_days: Annotated[int, Field(ge=1, le=365)]
    return_probability: Prob  # replaces the computed return probability while the event runs

    @model_validator(mode="after")
    def _range(self) -> LifeEventRule:
        if self.max_days < self.min_days:
            raise ValueError("max_days must be >= min_days")
        return self


class Depth(_Strict):
    min_videos: Annotated[int, Field(ge=0, le=50)]
    max_videos: Annotated[int, Field(ge=0, le=50)]
    completion: Prob  # mean share of a started video that gets watched
    completion_spread: Prob = 0.2  # free: the std of the completion draw around the mean

    @model_validator(mode="after")
    def _range(self) -> Depth:
        if self.max_videos < self.min_videos:
            raise ValueError("max_videos must be >= min_videos")
        return self


class Rating(_Strict):
    mean: Annotated[float, Field(ge=1.0, le=5.0)]
    std: Annotated[float, Field(ge=0.0, le=5.0)]


class Lifecycle(_Strict):
    new_days: Days = 7  # NEW -> ACTIVE after this many days
    pattern_days: Days = 14  # the permanent pattern is drawn at this age
    casual_after_missed: Days = 7  # ACTIVE -> CASUAL after this many missed days
    dormant_after_missed: Days = 14  # CASUAL -> DORMANT
    churn_after_inactive: Days = 30  # DORMANT personas inactive this long may churn...
    churn_chance: Prob = 0.03  # ...with this chance per day
    delete_share: Prob = 0.9  # churned personas selected for account deletion
    # free: churned personas kept (the other 10%) stay in the pool this long, then leave the state
    # (their account stays on the site); otherwise they would pile up in total_personas forever.
    churned_retention_days: Days = 14
    # free: account clean-ups per day (oldest churn first). The spec's clean-up goes through rate-limited
    # admin APIs; matching the signup ceiling keeps a churn burst from punching a hole in the pool.
    cleanup_per_day: Annotated[int, Field(ge=1, le=10_000_000)] = 5
    # free: a pattern-independent daily chance that a persona loses interest for good (moves away,
    # cancels). Without it DAILY users never churn and the pool's pattern mix drifts; see docs.
    lapse_chance: Prob = 0.025


class Streak(_Strict):
    every_days: Annotated[int, Field(ge=1, le=365)] = 3
    bonus: Prob = 0.05
    max_bonus: Prob = 0.20
    break_after: Days = 7  # breaking a streak at least this long costs the penalty
    break_penalty: Annotated[float, Field(ge=0.0, le=100.0)] = 10.0


class Engagement(_Strict):
    new_min: Annotated[float, Field(ge=0.0, le=100.0)] = 85.0
    new_max: Annotated[float, Field(ge=0.0, le=100.0)] = 95.0
    active_gain: Annotated[float, Field(ge=0.0, le=100.0)] = 2.0
    inactive_loss: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    centre: Annotated[float, Field(ge=0.0, le=100.0)] = 50.0
    divisor: Annotated[float, Field(gt=0.0)] = 200.0  # prob += (score - centre) / divisor


class Binge(_Strict):
    min_days: Annotated[int, Field(ge=1, le=365)] = 3
    max_days: Annotated[int, Field(ge=1, le=365)] = 7
    cooldown_min: Annotated[int, Field(ge=1, le=365)] = 10
    cooldown_max: Annotated[int, Field(ge=1, le=365)] = 21


class Interactions(_Strict):
    open_title: Prob = 0.75
    start_video: Prob = 0.60
    reach_half: Prob = 0.55
    rate_video: Prob = 0.20
    add_to_watchlist: Prob = 0.30  # per session
    support_ticket: Prob = 0.02  # per session
    # free: subscription changes per active session ("Subscription upgrades/downgrades" is planned).
    upgrade: Prob = 0.004
    downgrade: Prob = 0.003
    abandon_rate: Prob = 0.10  # free: per session, not per journey (docs/behaviour.md)
    error_rate: Prob = 0.0  # a share of sessions takes an error path; 0 keeps default plans clean


class FlixBuddy(_Strict):
    max_per_day: Annotated[int, Field(ge=0, le=100_000)] = 50
    max_questions: Annotated[int, Field(ge=1, le=10)] = 3
    follow_up: Prob = 0.35  # free: share of conversations with more than one message
    affinity_question: Prob = 0.4  # free: ask about the persona's favourite genre instead of a template


class Signups(_Strict):
    pool: Annotated[int, Field(ge=1, le=10_000_000)] = 400
    min_per_day: Annotated[int, Field(ge=0, le=1_000_000)] = 2
    max_per_day: Annotated[int, Field(ge=0, le=1_000_000)] = 5
    # free: signups = clamp(mid + gain * (pool - total) + noise, min, max); steers the pool to its target
    gain: Annotated[float, Field(ge=0.0, le=100.0)] = 0.25
    # free: the initial pool's signup dates are spread over this many days before the start.
    history_days: Annotated[int, Field(ge=0, le=3650)] = 240


class LocaleZone(_Strict):
    locale: str
    timezone: str
    weight: Weight


def _defaults_pattern_mix() -> dict[Plan, dict[Pattern, Prob]]:
    p = Pattern
    return {
        Plan.PREMIUM: {p.DAILY: 0.25, p.REGULAR: 0.45, p.WEEKEND: 0.15, p.BINGE: 0.10, p.MONTHLY: 0.05},
        Plan.STANDARD: {p.DAILY: 0.15, p.REGULAR: 0.40, p.WEEKEND: 0.20, p.BINGE: 0.15, p.MONTHLY: 0.10},
        Plan.BASIC: {p.DAILY: 0.05, p.REGULAR: 0.30, p.WEEKEND: 0.25, p.BINGE: 0.20, p.MONTHLY: 0.20},
    }


GENRES: tuple[str, ...] = (
    "Action",
    "Comedy",
    "Drama",
    "Sci-Fi",
    "Thriller",
    "Documentary",
    "Family",
    "Horror",
    "Romance",
    "Animation",
)

FLIXBUDDY_TEMPLATES: tuple[str, ...] = (
    "What's a good action movie?",
    "I want something funny to watch",
    "Show me sci-fi movies",
    "Recommend a family-friendly movie",
    "What are the most popular shows?",
    "I'm in the mood for a thriller",
    "Any good documentaries?",
    "What should I watch tonight?",
)


class BehaviourConfig(_Strict):
    # Return probability on an ordinary day, per pattern (NEW personas use DAILY).
    return_probability: dict[Pattern, Prob] = Field(
        default_factory=lambda: {
            Pattern.DAILY: 0.85,
            Pattern.REGULAR: 0.45,
            Pattern.WEEKEND: 0.15,
            Pattern.BINGE: 0.05,
            Pattern.MONTHLY: 0.03,
        }
    )
    # ... and on the pattern's peak days: WEEKEND Sat/Sun, BINGE while binging, MONTHLY days 1-3,
    # REGULAR Thursday-Saturday (free: the seed names the boost, not its size).
    peak_return_probability: dict[Pattern, Prob] = Field(
        default_factory=lambda: {
            Pattern.DAILY: 0.85,
            Pattern.REGULAR: 0.50,
            Pattern.WEEKEND: 0.85,
            Pattern.BINGE: 0.90,
            Pattern.MONTHLY: 0.80,
        }
    )
    monthly_peak_days: Annotated[int, Field(ge=1, le=28)] = 3
    # CASUAL is free (the seed never defines it): halfway between ACTIVE and DORMANT.
    state_modifier: dict[State, Prob] = Field(
        default_factory=lambda: {
            State.NEW: 1.0,
            State.ACTIVE: 1.0,
            State.CASUAL: 0.6,
            State.DORMANT: 0.3,
            State.CHURNED: 0.0,
        }
    )
    pattern_mix: dict[Plan, dict[Pattern, Prob]] = Field(default_factory=_defaults_pattern_mix)
    # free: the plan of a new signup and where it came from.
    plan_mix: dict[Plan, Weight] = Field(
        default_factory=lambda: {Plan.BASIC: 0.35, Plan.STANDARD: 0.45, Plan.PREMIUM: 0.20}
    )
    sources: dict[str, Weight] = Field(
        default_factory=lambda: {
            "organic": 0.30,
            "search": 0.20,
            "social": 0.15,
            "referral": 0.15,
            "newsletter": 0.10,
            "paid_ads": 0.10,
        }
    )
    life_events: dict[LifeEvent, LifeEventRule] = Field(
        default_factory=lambda: {
            LifeEvent.VACATION: LifeEventRule(chance=0.005, min_days=7, max_days=14, return_probability=0.0),
            LifeEvent.SICK: LifeEventRule(chance=0.01, min_days=3, max_days=5, return_probability=0.10),
            LifeEvent.BUSY_WORK: LifeEventRule(chance=0.02, min_days=5, max_days=10, return_probability=0.20),
            LifeEvent.NEW_RELEASE_HYPE: LifeEventRule(
                chance=0.01, min_days=3, max_days=7, return_probability=0.95
            ),
        }
    )
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    streak: Streak = Field(default_factory=Streak)
    engagement: Engagement = Field(default_factory=Engagement)
    binge: Binge = Field(default_factory=Binge)
    # Session depth per state; "BINGE" is binge mode. CASUAL applies to a persona coming back.
    session_depth: dict[str, Depth] = Field(
        default_factory=lambda: {
            "NEW": Depth(min_videos=3, max_videos=8, completion=0.45),
            "ACTIVE": Depth(min_videos=2, max_videos=5, completion=0.65),
            "CASUAL": Depth(min_videos=1, max_videos=3, completion=0.50),
            "BINGE": Depth(min_videos=5, max_videos=15, completion=0.85),
        }
    )
    # Pattern rows refine ACTIVE (per-pattern behaviour, docs/behaviour.md: DAILY power users, MONTHLY
    # check-ins).
    pattern_depth: dict[Pattern, Depth] = Field(
        default_factory=lambda: {
            Pattern.DAILY: Depth(min_videos=5, max_videos=10, completion=0.72),
            Pattern.REGULAR: Depth(min_videos=2, max_videos=5, completion=0.60),
            Pattern.MONTHLY: Depth(min_videos=1, max_videos=3, completion=0.55),
        }
    )
    entry_points: dict[EntryPoint, Weight] = Field(
        default_factory=lambda: {
            EntryPoint.HOMEPAGE: 0.40,
            EntryPoint.SEARCH: 0.15,
            EntryPoint.CATEGORY: 0.20,
            EntryPoint.WATCHLIST: 0.15,
            EntryPoint.FLIXBUDDY: 0.10,
        }
    )
    interactions: Interactions = Field(default_factory=Interactions)
    ratings: dict[Plan, Rating] = Field(
        default_factory=lambda: {
            Plan.PREMIUM: Rating(mean=4.2, std=0.8),
            Plan.STANDARD: Rating(mean=3.8, std=1.0),
            Plan.BASIC: Rating(mean=3.2, std=1.2),
        }
    )
    flixbuddy: FlixBuddy = Field(default_factory=FlixBuddy)
    flixbuddy_templates: tuple[str, ...] = FLIXBUDDY_TEMPLATES
    flixbuddy_follow_ups: tuple[str, ...] = (
        "Anything else like that?",
        "Something shorter, maybe?",
        "Is there a series like that?",
        "What else do people watch after that?",
        "Something newer please.",
    )
    flixbuddy_genre_template: str = "Can you recommend a good {genre} title?"
    signups: Signups = Field(default_factory=Signups)
    # Playwright device descriptor names that run in Chromium; weights give the desktop/mobile/tablet mix.
    devices: dict[str, Weight] = Field(
        default_factory=lambda: {
            "Desktop Chrome": 0.42,
            "Desktop Edge": 0.13,
            "Pixel 7": 0.12,
            "Galaxy S9+": 0.06,
            "iPhone 13": 0.10,
            "iPhone 14 Pro Max": 0.07,
            "iPad Mini": 0.05,
            "Galaxy Tab S4": 0.05,
        }
    )
    locales: tuple[LocaleZone, ...] = (
        LocaleZone(locale="en-US", timezone="America/New_York", weight=0.22),
        LocaleZone(locale="en-US", timezone="America/Chicago", weight=0.10),
        LocaleZone(locale="en-US", timezone="America/Los_Angeles", weight=0.12),
        LocaleZone(locale="en-GB", timezone="Europe/London", weight=0.14),
        LocaleZone(locale="de-DE", timezone="Europe/Berlin", weight=0.10),
        LocaleZone(locale="fr-FR", timezone="Europe/Paris", weight=0.08),
        LocaleZone(locale="es-ES", timezone="Europe/Madrid", weight=0.06),
        LocaleZone(locale="nl-NL", timezone="Europe/Amsterdam", weight=0.04),
        LocaleZone(locale="en-CA", timezone="America/Toronto", weight=0.06),
        LocaleZone(locale="en-AU", timezone="Australia/Sydney", weight=0.04),
        LocaleZone(locale="pt-BR", timezone="America/Sao_Paulo", weight=0.04),
    )
    chronotypes: dict[Chronotype, Weight] = Field(
        default_factory=lambda: {
            Chronotype.MORNING: 0.14,
            Chronotype.LUNCH: 0.12,
            Chronotype.EVENING: 0.36,
            Chronotype.NIGHT_OWL: 0.10,
            Chronotype.COMMUTER: 0.13,
            Chronotype.SPORADIC: 0.15,
        }
    )
    # Local-time windows [start_hour, end_hour) a session starts in (chronotype peaks, docs/behaviour.md).
    chronotype_hours: dict[Chronotype, tuple[tuple[int, int], ...]] = Field(
        default_factory=lambda: {
            Chronotype.MORNING: ((7, 9),),
            Chronotype.LUNCH: ((12, 14),),
            Chronotype.EVENING: ((18, 22),),
            Chronotype.NIGHT_OWL: ((22, 24), (0, 2)),
            Chronotype.COMMUTER: ((8, 9), (17, 19)),
            Chronotype.SPORADIC: ((8, 24),),
        }
    )
    genres: tuple[str, ...] = GENRES
    # Search queries: mostly a genre name (the demo's search matches genre), sometimes a title word.
    search_genre_share: Prob = 0.7
    search_keywords: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "Action": ("Strike", "Heist", "Chase"),
            "Comedy": ("Party", "Prank", "Wedding"),
            "Drama": ("Promise", "Winter", "Letters"),
            "Sci-Fi": ("Galaxy", "Quantum", "Mars"),
            "Thriller": ("Conspiracy", "Mystery", "Witness"),
            "Documentary": ("Planet", "Oceans", "Nature"),
            "Family": ("Puppy", "Holiday", "Adventure"),
            "Horror": ("Haunting", "Ghost", "Curse"),
            "Romance": ("Love", "Heart", "Paris"),
            "Animation": ("Dragon", "Toy", "Kingdom"),
        }
    )
    support_subjects: tuple[str, ...] = (
        "Video keeps buffering",
        "Question about my bill",
        "Subtitles out of sync",
        "Cannot find a title I watched before",
        "How do I change my plan?",
        "Playback stops on my phone",
    )

    @model_validator(mode="after")
    def _consistent(self) -> BehaviourConfig:
        for name in ("plan_mix", "sources", "entry_points", "devices", "chronotypes"):
            table: dict[Any, float] = getattr(self, name)
            if not table or sum(table.values()) <= 0:
                raise ValueError(f"{name}: weights must have a positive total")
        for plan, mix in self.pattern_mix.items():
            if set(mix) != set(Pattern) or sum(mix.values()) <= 0:
                raise ValueError(f"pattern_mix.{plan}: needs a weight for every pattern")
        for field_name, enum in (
            ("return_probability", Pattern),
            ("peak_return_probability", Pattern),
            ("state_modifier", State),
            ("ratings", Plan),
            ("pattern_mix", Plan),
            ("life_events", LifeEvent),
        ):
            missing = set(enum) - set(getattr(self, field_name))
            if missing:
                raise ValueError(f"{field_name}: missing {sorted(str(m) for m in missing)}")
        for key in ("NEW", "ACTIVE", "CASUAL", "BINGE"):
            if key not in self.session_depth:
                raise ValueError(f"session_depth: missing {key}")
        extra_depth = set(self.session_depth) - {"NEW", "ACTIVE", "CASUAL", "BINGE"}
        if extra_depth:
            raise ValueError(f"session_depth: unknown key {sorted(extra_depth)[0]}")
        if sum(loc.weight for loc in self.locales) <= 0:
            raise ValueError("locales: weights must have a positive total")
        for loc in self.locales:
            try:
                zoneinfo.ZoneInfo(loc.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"locales: unknown timezone {loc.timezone!r}") from exc
        for chrono in Chronotype:
            windows = self.chronotype_hours.get(chrono)
            if not windows:
                raise ValueError(f"chronotype_hours: missing {chrono}")
            for lo, hi in windows:
                if not 0 <= lo < hi <= 24:
                    raise ValueError(f"chronotype_hours.{chrono}: bad window [{lo}, {hi})")
        if not self.genres or not self.flixbuddy_templates:
            raise ValueError("genres and flixbuddy_templates must not be empty")
        if self.signups.max_per_day < self.signups.min_per_day:
            raise ValueError("signups: max_per_day must be >= min_per_day")
        if self.binge.max_days < self.binge.min_days or self.binge.cooldown_max < self.binge.cooldown_min:
            raise ValueError("binge: max must be >= min")
        return self

    def plan_weighted_pattern_mix(self, plan_counts: dict[Plan, int] | None = None) -> dict[Pattern, float]:
        """The pattern shares the plan table implies, weighted by ``plan_counts`` (default: plan_mix)."""
        weights: dict[Plan, float] = (
            {k: float(v) for k, v in plan_counts.items()} if plan_counts else dict(self.plan_mix)
        )
        total = sum(weights.values()) or 1.0
        out = dict.fromkeys(Pattern, 0.0)
        for plan, w in weights.items():
            mix = self.pattern_mix[plan]
            mix_total = sum(mix.values())
            for pattern, share in mix.items():
                out[pattern] += w / total * share / mix_total
        return out


DEFAULT_CONFIG = BehaviourConfig()


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def config_from_mapping(data: dict[str, Any], source: str = "config") -> BehaviourConfig:
    data = {k: v for k, v in data.items() if k not in FOREIGN_TABLES}
    merged = _merge(DEFAULT_CONFIG.model_dump(mode="python"), data)
    config = validate(BehaviourConfig, merged, source)
    for name, value in _walk_floats(config.model_dump()):
        if not math.isfinite(value):
            raise HogfleetError(f"{source}: {name} must be a finite number")
    return config


def _walk_floats(obj: Any, prefix: str = "") -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _walk_floats(v, f"{prefix}{k}.")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            out += _walk_floats(v, f"{prefix}{i}.")
    elif isinstance(obj, float):
        out.append((prefix.rstrip("."), obj))
    return out


def load_config(path: Path | None = None) -> BehaviourConfig:
    """The effective behaviour config: ``path``, else ``./hogfleet.toml`` if present, else the defaults."""
    found = config_path(path)
    if found is None:
        return DEFAULT_CONFIG
    return config_from_mapping(read_toml(found), f"config {found}")
