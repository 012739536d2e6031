"""New personas: their attributes, and how many sign up each day.

Population-level draws (how many sign up, and the new personas' attributes, in order) come from the
stream ``(seed, date, "population")``. Names come from Faker's per-locale data, seeded from that stream.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache
from typing import Any

from faker import Faker

from personas.config import BehaviourConfig
from personas.enums import Chronotype, Plan, State
from personas.identity import distinct_id_for, email_for
from personas.lifecycle import cumulative
from personas.models import Persona
from personas.rng import weighted_pick

_FAKER_LOCALES = {"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "nl-NL", "en-CA", "en-AU", "pt-BR"}


@lru_cache(maxsize=32)
def _faker(locale: str) -> Faker:
    return Faker(locale.replace("-", "_") if locale in _FAKER_LOCALES else "en_US")


_PICKS: dict[int, tuple[BehaviourConfig, dict[str, tuple[tuple[Any, ...], tuple[float, ...]]]]] = {}


def _picks(config: BehaviourConfig) -> dict[str, tuple[tuple[Any, ...], tuple[float, ...]]]:
    hit = _PICKS.get(id(config))
    if hit is not None and hit[0] is config:
        return hit[1]
    picks = {
        "plan": cumulative(config.plan_mix),
        "source": cumulative(config.sources),
        "device": cumulative(config.devices),
        "locale": cumulative([(loc, loc.weight) for loc in config.locales]),
        "chronotype": cumulative(config.chronotypes),
    }
    _PICKS[id(config)] = (config, picks)
    return picks


def _pick(rng: random.Random, table: tuple[tuple[Any, ...], tuple[float, ...]]) -> Any:
    return weighted_pick(rng, table[0], table[1])


def genre_affinities(rng: random.Random, genres: tuple[str, ...]) -> dict[str, float]:
    """Two or three favourite genres carry most of the weight; the rest share a little."""
    favourites = rng.sample(genres, k=min(len(genres), 2 + int(rng.random() * 2)))
    raw = {g: (1.0 + 3.0 * rng.random() if g in favourites else 0.2 * rng.random()) for g in genres}
    total = sum(raw.values())
    return {g: round(w / total, 4) for g, w in raw.items()}


def new_persona(index: int, day: dt.date, rng: random.Random, config: BehaviourConfig) -> Persona:
    """A persona that signs up on ``day`` and has its first (signup) session that day."""
    picks = _picks(config)
    signup_at = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
        milliseconds=int(rng.random() * 86_400_000)
    )
    distinct_id = distinct_id_for(index, signup_at)
    loc = _pick(rng, picks["locale"])
    fake = _faker(loc.locale)
    fake.seed_instance(rng.getrandbits(63))
    name = fake.name()
    eng = config.engagement
    plan: Plan = _pick(rng, picks["plan"])
    chronotype: Chronotype = _pick(rng, picks["chronotype"])
    return Persona(
        distinct_id=distinct_id,
        plan=plan,
        source=_pick(rng, picks["source"]),
        email=email_for(distinct_id),
        name=name,
        device=_pick(rng, picks["device"]),
        locale=loc.locale,
        timezone=loc.timezone,
        chronotype=chronotype,
        genre_affinities=genre_affinities(rng, config.genres),
        state=State.NEW,
        state_changed_at=day,
        created_at=signup_at,
        last_active=day,
        consecutive_active_days=1,
        total_sessions=1,
        engagement_score=round(eng.new_min + (eng.new_max - eng.new_min) * rng.random(), 1),
    )


def signup_count(
    rng: random.Random, total: int, target: int, config: BehaviourConfig, *, cap: int | None = None
) -> int:
    """2-5 a day, leaning toward whatever brings ``total`` back to ``target``."""
    s = config.signups
    lo, hi = s.min_per_day, s.max_per_day if cap is None else cap
    mid = (s.min_per_day + s.max_per_day) / 2
    want = mid + s.gain * (target - total) + (rng.random() - 0.5) * 2.0
    n = round(want)
    return lo if n < lo else hi if n > hi else n
