from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from personas.config import DEFAULT_CONFIG
from personas.enums import LifeEvent, Pattern, Plan, State
from personas.lifecycle import return_probability, step, tables
from personas.models import BingeState, Persona
from personas.population import new_persona
from personas.rng import DerivedRandom, population_rng

DAY0 = dt.date(2026, 1, 1)
TEMPLATE = new_persona(1, DAY0, population_rng(1, DAY0), DEFAULT_CONFIG)

personas = st.builds(
    lambda state, pattern, assigned, cad, cmd, score, event, ev_days, lapsed, binging, bday, blen, age, idle, plan: (  # noqa: E501
        TEMPLATE.model_copy(
            update={
                "state": state,
                "plan": plan,
                "activity_pattern": pattern if assigned else Pattern.DAILY,
                "pattern_assigned": assigned,
                "consecutive_active_days": cad,
                "consecutive_missed_days": cmd,
                "engagement_score": score,
                "in_life_event": event,
                "life_event_ends_at": DAY0 + dt.timedelta(days=age + ev_days) if event else None,
                "lapsed_on": DAY0 if lapsed else None,
                "binge_state": BingeState(is_binging=binging, binge_day=bday, binge_length=blen),
                "last_active": DAY0 + dt.timedelta(days=max(0, age - idle)),
            }
        )
    ),
    st.sampled_from(State),
    st.sampled_from(Pattern),
    st.booleans(),
    st.integers(0, 400),
    st.integers(0, 400),
    st.floats(0, 100),
    st.none() | st.sampled_from(LifeEvent),
    st.integers(1, 14),
    st.booleans(),
    st.booleans(),
    st.integers(0, 7),
    st.integers(0, 7),
    st.integers(0, 700),
    st.integers(0, 100),
    st.sampled_from(Plan),
)


@settings(max_examples=300, deadline=None)
@given(p=personas, key=st.binary(min_size=1, max_size=16), offset=st.integers(1, 3))
def test_step_invariants(p: Persona, key: bytes, offset: int) -> None:
    assert p.last_active is not None
    date = p.last_active + dt.timedelta(days=offset)
    t = tables(DEFAULT_CONFIG)
    prob = return_probability(p, date, t, p.binge_state.is_binging)
    assert 0.0 <= prob <= 1.0
    q = step(p, date, DerivedRandom(key))
    active = q.last_active == date
    Persona.model_validate(q.model_dump())  # still a valid persona
    assert 0 <= q.engagement_score <= 100
    if p.state is State.CHURNED:
        assert q is p and not active
    if q.state is State.CHURNED:
        assert not active
    if p.in_life_event is LifeEvent.VACATION and p.life_event_ends_at and p.life_event_ends_at > date:
        assert not active
    if q.in_life_event is LifeEvent.VACATION:
        assert not active
    if p.lapsed_on is not None:
        assert not active
    if active:
        assert q.consecutive_missed_days == 0 and q.state is not State.DORMANT


def test_step_is_pure() -> None:
    before = TEMPLATE.model_dump()
    step(TEMPLATE, DAY0 + dt.timedelta(days=1), DerivedRandom(b"k"))
    assert TEMPLATE.model_dump() == before


def _run(p: Persona, days: int, key: str) -> list[Persona]:
    out = []
    for i in range(1, days + 1):
        d = DAY0 + dt.timedelta(days=i)
        p = step(p, d, DerivedRandom(f"{key}{d}".encode()))
        out.append(p)
    return out


def test_new_becomes_active_after_seven_days_and_gets_a_pattern_at_fourteen() -> None:
    hist = _run(TEMPLATE.model_copy(update={"lapsed_on": None}), 20, "a")
    assert hist[5].state in (State.NEW,)
    assert hist[6].state is not State.NEW  # day 7
    assert not hist[12].pattern_assigned and hist[13].pattern_assigned  # day 14


def test_a_lapsed_persona_walks_casual_dormant_then_churns() -> None:
    p = TEMPLATE.model_copy(update={"lapsed_on": DAY0, "state": State.ACTIVE})
    hist = _run(p, 400, "b")
    states = [q.state for q in hist]
    assert states[6] is State.CASUAL and states[13] is State.DORMANT
    assert State.CHURNED in states
    first = states.index(State.CHURNED)
    assert first >= 30  # never before 30 inactive days
    churned = hist[first]
    assert (
        churned.churned_at == DAY0 + dt.timedelta(days=first + 1) and churned.churn_reason == "lost_interest"
    )


def test_streak_break_costs_ten_points() -> None:
    p = TEMPLATE.model_copy(
        update={
            "state": State.ACTIVE,
            "consecutive_active_days": 9,
            "engagement_score": 50.0,
            "lapsed_on": DAY0,
        }
    )
    q = step(p, DAY0 + dt.timedelta(days=1), DerivedRandom(b"z"))
    assert q.engagement_score == 50.0 - 10 - 1 and q.consecutive_active_days == 0


def test_binge_cycle_alternates() -> None:
    p = TEMPLATE.model_copy(
        update={
            "state": State.ACTIVE,
            "activity_pattern": Pattern.BINGE,
            "pattern_assigned": True,
            "binge_state": BingeState(),
        }
    )
    hist = _run(p, 120, "c")
    flags = [q.binge_state.is_binging for q in hist]
    runs: list[tuple[bool, int]] = []
    for f in flags:
        if runs and runs[-1][0] == f:
            runs[-1] = (f, runs[-1][1] + 1)
        else:
            runs.append((f, 1))
    binges = [n for f, n in runs[:-1] if f]
    cools = [n for f, n in runs[1:-1] if not f]
    assert binges and all(3 <= n <= 7 for n in binges)
    assert cools and all(10 <= n <= 21 for n in cools)
