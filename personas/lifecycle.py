"""One persona-day: life events, binge cycles, return draw, streaks, engagement and state transitions.

:func:`step` is pure: it returns a new :class:`Persona` (or the same object when nothing can change,
i.e. CHURNED) and never touches its input. It runs ~400,000 times per simulated year, so the config is
compiled once into flat tuples (:class:`Tables`) and the copy bypasses pydantic validation (the
fields it writes are computed here, from already-validated values).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from typing import Any

from personas.config import DEFAULT_CONFIG, BehaviourConfig
from personas.enums import LifeEvent, Pattern, Plan, State
from personas.models import BingeState, Persona

_ONE_DAY = dt.timedelta(days=1)
_GOLDEN = 0.6180339887498949
_PLAN_UP = {Plan.BASIC: Plan.STANDARD, Plan.STANDARD: Plan.PREMIUM}
_PLAN_DOWN = {Plan.PREMIUM: Plan.STANDARD, Plan.STANDARD: Plan.BASIC}


def cumulative(
    weights: dict[Any, float] | list[tuple[Any, float]],
) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    pairs = list(weights.items()) if isinstance(weights, dict) else list(weights)
    items = tuple(k for k, _ in pairs)
    edges: list[float] = []
    total = 0.0
    for _, w in pairs:
        total += w
        edges.append(total)
    return items, tuple(edges)


@dataclass(frozen=True, slots=True)
class Tables:
    """The config flattened for the hot loop."""

    events: tuple[tuple[LifeEvent, float, int, int], ...]  # (event, cumulative chance, min, max)
    event_total: float
    event_return: dict[LifeEvent, float]
    base: dict[Pattern, float]
    peak: dict[Pattern, float]
    monthly_peak_days: int
    state_mod: dict[State, float]
    pattern_mix: dict[Plan, tuple[tuple[Pattern, ...], tuple[float, ...]]]
    pattern_days: int
    new_days: int
    casual_after: int
    dormant_after: int
    churn_after: int
    churn_chance: float
    delete_share: float
    lapse: float
    streak_every: int
    streak_bonus: float
    streak_max: float
    break_after: int
    break_penalty: float
    gain: float
    loss: float
    centre: float
    divisor: float
    binge_min: int
    binge_max: int
    cool_min: int
    cool_max: int
    upgrade: float
    downgrade: float


_TABLES: dict[int, tuple[BehaviourConfig, Tables]] = {}


def tables(config: BehaviourConfig) -> Tables:
    hit = _TABLES.get(id(config))
    if hit is not None and hit[0] is config:
        return hit[1]
    edge = 0.0
    events = []
    for ev, rule in config.life_events.items():
        edge += rule.chance
        events.append((ev, edge, rule.min_days, rule.max_days))
    lc, st, en, bi, ia = config.lifecycle, config.streak, config.engagement, config.binge, config.interactions
    t = Tables(
        events=tuple(events),
        event_total=edge,
        event_return={ev: rule.return_probability for ev, rule in config.life_events.items()},
        base=dict(config.return_probability),
        peak=dict(config.peak_return_probability),
        monthly_peak_days=config.monthly_peak_days,
        state_mod=dict(config.state_modifier),
        pattern_mix={plan: cumulative(mix) for plan, mix in config.pattern_mix.items()},
        pattern_days=lc.pattern_days,
        new_days=lc.new_days,
        casual_after=lc.casual_after_missed,
        dormant_after=lc.dormant_after_missed,
        churn_after=lc.churn_after_inactive,
        churn_chance=lc.churn_chance,
        delete_share=lc.delete_share,
        lapse=lc.lapse_chance,
        streak_every=st.every_days,
        streak_bonus=st.bonus,
        streak_max=st.max_bonus,
        break_after=st.break_after,
        break_penalty=st.break_penalty,
        gain=en.active_gain,
        loss=en.inactive_loss,
        centre=en.centre,
        divisor=en.divisor,
        binge_min=bi.min_days,
        binge_max=bi.max_days,
        cool_min=bi.cooldown_min,
        cool_max=bi.cooldown_max,
        upgrade=ia.upgrade,
        downgrade=ia.downgrade,
    )
    _TABLES[id(config)] = (config, t)
    return t


def clone(p: Persona) -> Persona:
    """A shallow copy without validation (every nested value is immutable or never mutated)."""
    new = Persona.__new__(Persona)
    object.__setattr__(new, "__dict__", p.__dict__.copy())
    object.__setattr__(new, "__pydantic_fields_set__", p.__pydantic_fields_set__)
    object.__setattr__(new, "__pydantic_extra__", None)
    object.__setattr__(new, "__pydantic_private__", None)
    return new


def pattern_quantile(seed: int, plan: Plan, rank: int) -> float:
    """Where the ``rank``-th signup on ``plan`` falls in that plan's pattern table.

    A golden-ratio sequence per plan (offset by the seed) instead of independent draws: consecutive
    signups on a plan spread evenly over its table, so the pool's pattern mix tracks the table far
    closer than independent draws would (the acceptance allows 5 points). Fixed at signup, it is part
    of the persona, so stepping still depends on the persona alone.
    """
    offset = int.from_bytes(
        hashlib.sha256(f"hogfleet|{seed}|pattern|{plan.value}".encode()).digest()[:8], "little"
    )
    return (offset / 2**64 + rank * _GOLDEN) % 1.0


def draw_pattern(t: Tables, plan: Plan, u: float) -> Pattern:
    items, edges = t.pattern_mix[plan]
    x = u * edges[-1]
    for item, edge in zip(items, edges, strict=True):
        if x < edge:
            return item
    return items[-1]


def is_peak_day(pattern: Pattern, date: dt.date, binging: bool, monthly_peak_days: int) -> bool:
    if pattern is Pattern.WEEKEND:
        return date.weekday() >= 5
    if pattern is Pattern.BINGE:
        return binging
    if pattern is Pattern.MONTHLY:
        return date.day <= monthly_peak_days
    if pattern is Pattern.REGULAR:
        return date.weekday() in (3, 4, 5)  # Thursday-Saturday
    return True


def return_probability(p: Persona, date: dt.date, t: Tables, binging: bool) -> float:
    """The chance ``p`` comes back on ``date`` (before life-event overrides and lapses)."""
    pattern = p.activity_pattern if p.pattern_assigned else Pattern.DAILY
    base = t.peak[pattern] if is_peak_day(pattern, date, binging, t.monthly_peak_days) else t.base[pattern]
    streak = min(t.streak_max, t.streak_bonus * (p.consecutive_active_days // t.streak_every))
    prob = base * t.state_mod[p.state] + streak + (p.engagement_score - t.centre) / t.divisor
    return 0.0 if prob < 0.0 else 1.0 if prob > 1.0 else prob


def step(
    persona: Persona, date: dt.date, rng: random.Random, config: BehaviourConfig = DEFAULT_CONFIG
) -> Persona:
    """Advance ``persona`` through ``date``. Active today iff ``result.last_active == date``."""
    if persona.state is State.CHURNED:
        return persona
    return step_fast(persona, date, rng, tables(config))


def step_fast(persona: Persona, date: dt.date, rng: random.Random, t: Tables) -> Persona:
    """:func:`step` with the config already compiled (the simulation's inner loop)."""
    if persona.state is State.CHURNED:
        return persona
    u = rng.random
    p = clone(persona)
    nd = p.__dict__
    created = persona.created_at.date()
    age = (date - created).days
    nd["days_since_signup"] = age if age > 0 else 0

    # Life events: expire, then maybe start one (irrelevant once a persona has lapsed for good).
    event = persona.in_life_event
    lapsed = persona.lapsed_on is not None
    if lapsed:
        pass
    elif event is not None and persona.life_event_ends_at is not None and persona.life_event_ends_at <= date:
        event = None
        nd["in_life_event"] = None
        nd["life_event_ends_at"] = None
    if event is None and not lapsed:
        x = u()
        if x < t.event_total:
            for ev, edge, lo, hi in t.events:
                if x < edge:
                    event = ev
                    nd["in_life_event"] = ev
                    nd["life_event_ends_at"] = date + dt.timedelta(days=lo + int(u() * (hi - lo + 1)))
                    break

    # The permanent pattern.
    if not persona.pattern_assigned and age >= t.pattern_days:
        nd["pattern_assigned"] = True
        pattern = nd["activity_pattern"] = draw_pattern(t, persona.plan, persona.pattern_quantile)
        if pattern is Pattern.BINGE:
            # Start somewhere in a cooldown so binge users do not all binge in step.
            nd["binge_state"] = BingeState(cooldown_until=date + dt.timedelta(days=int(u() * t.cool_max)))
    pattern = p.activity_pattern if p.pattern_assigned else Pattern.DAILY

    # Binge cycle: binge_length days of binging, then a cooldown.
    binging = False
    if pattern is Pattern.BINGE:
        bs: BingeState = nd["binge_state"]
        if bs.is_binging:
            if bs.binge_day >= bs.binge_length:
                cool = t.cool_min + int(u() * (t.cool_max - t.cool_min + 1))
                bs = BingeState(cooldown_until=date + dt.timedelta(days=cool))
            else:
                bs = BingeState(is_binging=True, binge_day=bs.binge_day + 1, binge_length=bs.binge_length)
        elif bs.cooldown_until is None or date >= bs.cooldown_until:
            length = t.binge_min + int(u() * (t.binge_max - t.binge_min + 1))
            bs = BingeState(is_binging=True, binge_day=1, binge_length=length)
        nd["binge_state"] = bs
        binging = bs.is_binging

    # Losing interest for good.
    if not lapsed and u() < t.lapse:
        nd["lapsed_on"] = date
        lapsed = True

    if lapsed:
        prob = 0.0
    elif event is not None:
        prob = t.event_return[event]
    else:
        prob = return_probability(p, date, t, binging)
    active = u() < prob

    state: State = persona.state
    score = persona.engagement_score
    if active:
        nd["consecutive_active_days"] = persona.consecutive_active_days + 1
        nd["consecutive_missed_days"] = 0
        score += t.gain
        nd["engagement_score"] = 100.0 if score > 100.0 else score
        nd["total_sessions"] = persona.total_sessions + 1
        nd["last_active"] = date
        if state is State.CASUAL or state is State.DORMANT:
            state = State.ACTIVE
            nd["state_changed_at"] = date
            nd["reactivated_on"] = date
        x = u()
        if x < t.upgrade and persona.plan in _PLAN_UP:
            nd["previous_plan"] = persona.plan
            nd["plan"] = _PLAN_UP[persona.plan]
            nd["plan_changed_on"] = date
        elif t.upgrade <= x < t.upgrade + t.downgrade and persona.plan in _PLAN_DOWN:
            nd["previous_plan"] = persona.plan
            nd["plan"] = _PLAN_DOWN[persona.plan]
            nd["plan_changed_on"] = date
    else:
        if persona.consecutive_active_days >= t.break_after:
            score -= t.break_penalty
        score -= t.loss
        nd["engagement_score"] = 0.0 if score < 0.0 else score
        nd["consecutive_active_days"] = 0
        # A missed day is a day the habit expected a visit: a MONTHLY user is not "missing" on the 15th.
        if lapsed or is_peak_day(pattern, date, binging, t.monthly_peak_days) or pattern is Pattern.REGULAR:
            nd["consecutive_missed_days"] = persona.consecutive_missed_days + 1

    missed = nd["consecutive_missed_days"]
    if state is State.NEW and age >= t.new_days:
        state = State.ACTIVE
        nd["state_changed_at"] = date
    if state is State.ACTIVE and missed >= t.casual_after:
        state = State.CASUAL
        nd["state_changed_at"] = date
    if state is State.CASUAL and missed >= t.dormant_after:
        state = State.DORMANT
        nd["state_changed_at"] = date
    if state is State.DORMANT and not active:
        last = persona.last_active or created
        if (date - last).days >= t.churn_after and u() < t.churn_chance:
            state = State.CHURNED
            nd["state_changed_at"] = date
            nd["churned_at"] = date
            nd["churn_reason"] = "lost_interest" if lapsed else "inactive"
            nd["delete_pending"] = u() < t.delete_share
            nd["in_life_event"] = None
            nd["life_event_ends_at"] = None
    nd["state"] = state
    return p
