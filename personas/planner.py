"""Turn a stepped population into the day's :class:`DayPlan`: who comes, when, through which door, and what
they do once there.

Every session's draws come from the stream ``(seed, distinct_id, date, "session")``, consumed in a fixed
order, so a persona's session never depends on the other personas. The one global rule, at most
``flixbuddy.max_per_day`` FlixBuddy conversations, is applied in distinct_id order: over the cap, a
FlixBuddy session is re-routed to the homepage (nothing else in it changes).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

from personas.chronotype import start_time
from personas.config import DEFAULT_CONFIG, BehaviourConfig
from personas.enums import EntryPoint, ErrorPath, LifeEvent, State
from personas.flixbuddy import favourite_genre, questions
from personas.lifecycle import cumulative
from personas.models import Persona, Population
from personas.plans import AccountDeletion, DayPlan, Identity, SessionPlan, VideoStep
from personas.rng import DerivedRandom, key_prefix, stream, weighted_pick

_ENTRY: dict[int, tuple[BehaviourConfig, tuple[tuple[EntryPoint, ...], tuple[float, ...]]]] = {}


def _entry_table(config: BehaviourConfig) -> tuple[tuple[EntryPoint, ...], tuple[float, ...]]:
    hit = _ENTRY.get(id(config))
    if hit is not None and hit[0] is config:
        return hit[1]
    table = cumulative(config.entry_points)
    _ENTRY[id(config)] = (config, table)
    return table


def session_rng(seed: int, distinct_id: str, date: dt.date) -> DerivedRandom:
    return stream(seed, distinct_id, date, "session")


def draw_entry(rng: random.Random, config: BehaviourConfig) -> EntryPoint:
    """The session's first draw: where it enters the site."""
    items, edges = _entry_table(config)
    return weighted_pick(rng, items, edges)  # type: ignore[no-any-return]


def is_active(p: Persona, date: dt.date) -> bool:
    return (
        p.last_active == date and p.state is not State.CHURNED and p.in_life_event is not LifeEvent.VACATION
    )


def flixbuddy_calls(personas: Iterable[Persona], date: dt.date, seed: int, config: BehaviourConfig) -> int:
    """How many FlixBuddy conversations :func:`plan_day` would plan (without building the plan)."""
    prefix = key_prefix(seed, date, "session")
    n = 0
    for p in personas:
        if is_active(p, date) and draw_entry(DerivedRandom(prefix + p.distinct_id.encode()), config) is (
            EntryPoint.FLIXBUDDY
        ):
            n += 1
    return min(n, config.flixbuddy.max_per_day)


def identity(p: Persona, *, plan_before_change: bool = False, date: dt.date | None = None) -> Identity:
    plan = p.plan
    if plan_before_change and p.plan_changed_on == date and p.previous_plan is not None:
        plan = p.previous_plan
    return Identity(
        distinct_id=p.distinct_id,
        email=p.email,
        plan=plan,
        state=p.state,
        activity_pattern=p.activity_pattern,
        device=p.device,
        locale=p.locale,
        timezone=p.timezone,
    )


def _depth_key(p: Persona, date: dt.date) -> str:
    if p.binge_state.is_binging:
        return "BINGE"
    if p.reactivated_on == date:
        return "CASUAL"
    return "NEW" if p.state is State.NEW else "ACTIVE"


def _videos(rng: random.Random, p: Persona, date: dt.date, config: BehaviourConfig) -> tuple[VideoStep, ...]:
    key = _depth_key(p, date)
    depth = config.session_depth[key]
    if key == "ACTIVE" and p.pattern_assigned and p.activity_pattern in config.pattern_depth:
        depth = config.pattern_depth[p.activity_pattern]
    n = depth.min_videos + int(rng.random() * (depth.max_videos - depth.min_videos + 1))
    ia = config.interactions
    rating = config.ratings[p.plan]
    watchlist_at = int(rng.random() * n) if n and rng.random() < ia.add_to_watchlist else -1
    steps = []
    for i in range(n):
        start = rng.random() < ia.start_video
        completion = min(1.0, max(0.02, rng.gauss(depth.completion, depth.completion_spread)))
        stars: int | None = None
        if start and rng.random() < ia.rate_video:
            stars = min(5, max(1, round(rng.gauss(rating.mean, rating.std))))
        steps.append(
            VideoStep(
                start=start,
                completion=round(completion if start else 0.0, 3),
                rating=stars,
                add_to_watchlist=i == watchlist_at,
            )
        )
    return tuple(steps)


def plan_session(
    p: Persona,
    date: dt.date,
    seed: int,
    config: BehaviourConfig = DEFAULT_CONFIG,
    *,
    allow_flixbuddy: bool = True,
) -> SessionPlan:
    """``p``'s session on ``date`` (``p`` must be active that day)."""
    rng = session_rng(seed, p.distinct_id, date)
    entry = draw_entry(rng, config)
    start_at = start_time(rng, p.chronotype, date, p.timezone, config)
    genre = favourite_genre(rng, p.genre_affinities, config.genres)
    use_keyword = rng.random() >= config.search_genre_share
    keywords = config.search_keywords.get(genre, ())
    keyword = keywords[int(rng.random() * len(keywords))] if keywords else genre
    videos = _videos(rng, p, date, config)
    asked = questions(rng, p.genre_affinities, config)
    ia = config.interactions
    ticket = (
        config.support_subjects[int(rng.random() * len(config.support_subjects))]
        if rng.random() < ia.support_ticket and config.support_subjects
        else None
    )
    abandon = rng.random() < ia.abandon_rate
    abandon_after = int(rng.random() * len(videos)) if abandon else None
    error_roll = rng.random()
    error_path = list(ErrorPath)[int(rng.random() * len(ErrorPath))] if error_roll < ia.error_rate else None
    session_seed = rng.seed_int()
    if entry is EntryPoint.FLIXBUDDY and not allow_flixbuddy:
        entry = EntryPoint.HOMEPAGE
    changed = p.plan_changed_on == date and p.previous_plan is not None
    return SessionPlan(
        session_id=f"s_{date.isoformat()}_{p.distinct_id}",
        identity=identity(p, plan_before_change=True, date=date),
        chronotype=p.chronotype,
        start_at=start_at,
        entry_point=entry,
        signup=not p.signed_up_on_site,
        search_query=(keyword if use_keyword else genre) if entry is EntryPoint.SEARCH else None,
        category=genre if entry is EntryPoint.CATEGORY else None,
        videos=videos,
        flixbuddy_questions=asked if entry is EntryPoint.FLIXBUDDY else (),
        support_ticket=ticket,
        plan_change=p.plan if changed else None,
        abandon_after=abandon_after,
        error_path=error_path,
        seed=session_seed,
    )


def plan_day(
    population: Population, date: dt.date, seed: int, config: BehaviourConfig = DEFAULT_CONFIG
) -> DayPlan:
    """The plan for ``date``; ``population`` must already be stepped through ``date``."""
    active = sorted((p for p in population.personas if is_active(p, date)), key=lambda p: p.distinct_id)
    prefix = key_prefix(seed, date, "session")
    budget = config.flixbuddy.max_per_day
    sessions = []
    for p in active:
        wants = draw_entry(DerivedRandom(prefix + p.distinct_id.encode()), config) is EntryPoint.FLIXBUDDY
        allow = wants and budget > 0
        if allow:
            budget -= 1
        sessions.append(plan_session(p, date, seed, config, allow_flixbuddy=allow))
    sessions.sort(key=lambda s: (s.start_at.astimezone(dt.UTC), s.session_id))
    deletions = []
    for p in sorted(population.pending_deletions, key=lambda p: p.distinct_id):
        rng = stream(seed, p.distinct_id, date, "deletion")
        deletions.append(
            AccountDeletion(
                identity=identity(p), session_id=f"d_{date.isoformat()}_{p.distinct_id}", seed=rng.seed_int()
            )
        )
    return DayPlan(date=date, seed=seed, sessions=tuple(sessions), deletions=tuple(deletions))
