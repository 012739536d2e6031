"""Days of the whole pool: step every persona, clean up churn, sign new people up, count.

* :func:`advance_day` is pure: ``(population, date) -> (population', metrics)``.
* :func:`new_population` builds an already-aged pool by running the same machinery over
  ``signups.history_days`` days before the start (from an empty pool, signups uncapped until the pool is
  full), so the first simulated days already look like a steady state.
* :func:`ensure_plan` is what ``hogfleet plan`` and the fleet call: advance the stored population to a
  date and return (and store) that date's plan. Idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from personas.config import DEFAULT_CONFIG, BehaviourConfig
from personas.enums import Pattern, State
from personas.errors import HogfleetError
from personas.lifecycle import pattern_quantile, step_fast, tables
from personas.models import DailyMetrics, Persona, Population
from personas.planner import flixbuddy_calls, plan_day
from personas.plans import DayPlan
from personas.population import new_persona, signup_count
from personas.rng import DerivedRandom, key_prefix, population_rng
from personas.store import StateStore

_ONE_DAY = dt.timedelta(days=1)


def _step_all(
    population: Population, date: dt.date, seed: int, config: BehaviourConfig, *, history: bool
) -> tuple[Population, int]:
    """Step every persona through ``date``, drop cleaned-up churn, add the day's signups."""
    prefix = key_prefix(seed, date, "step")
    retention = config.lifecycle.churned_retention_days
    t = tables(config)
    kept: list[Persona] = []
    doomed: list[Persona] = []
    pending = list(population.pending_deletions)
    for p in population.personas:
        q = step_fast(p, date, DerivedRandom(prefix + p.distinct_id.encode()), t)
        if q.state is State.CHURNED:
            if q.delete_pending:
                doomed.append(q)
                continue
            if q.churned_at is not None and (date - q.churned_at).days >= retention:
                continue
        kept.append(q)
    # Clean-up is rate-limited: the oldest churn goes first, the rest wait (still CHURNED) in the pool.
    doomed.sort(key=lambda q: (q.churned_at or date, q.distinct_id))
    cleanup_cap = config.lifecycle.cleanup_per_day
    cleaned = min(cleanup_cap, len(doomed))
    for q in doomed[:cleanup_cap]:
        # Nothing to delete on the site if the account was never created there.
        if q.signed_up_on_site and not history:
            pending.append(q)
    if len(doomed) > cleanup_cap:
        kept.extend(doomed[cleanup_cap:])
        kept.sort(key=lambda q: q.index)
    rng = population_rng(seed, date)
    cap: int | None = None
    if history:
        # Filling an empty pool at 2-5 a day would take months; history days are never reported.
        cap = max(config.signups.max_per_day, population.pool // 15)
    n = signup_count(rng, len(kept), population.pool, config, cap=cap)
    index = population.next_index
    ranks = dict(population.plan_signups)
    for _ in range(n):
        fresh = new_persona(index, date, rng, config)
        rank = ranks.get(fresh.plan, 0)
        ranks[fresh.plan] = rank + 1
        fresh.__dict__["pattern_quantile"] = pattern_quantile(seed, fresh.plan, rank)
        kept.append(fresh)
        index += 1
    out = population.model_copy(
        update={
            "current_date": date,
            "next_index": index,
            "personas": kept,
            "pending_deletions": pending,
            "plan_signups": ranks,
            "folded_sessions": list(population.folded_sessions),
        }
    )
    return out, cleaned


def metrics_for(
    population: Population, date: dt.date, seed: int, config: BehaviourConfig, new_signups: int, cleaned: int
) -> DailyMetrics:
    states: Counter[State] = Counter()
    patterns: Counter[Pattern] = Counter()
    active = 0
    for p in population.personas:
        states[p.state] += 1
        patterns[p.activity_pattern] += 1
        if p.last_active == date and p.state is not State.CHURNED:
            active += 1
    return DailyMetrics(
        date=date,
        total_personas=len(population.personas),
        active_today=active,
        new_signups=new_signups,
        churned_cleaned=cleaned,
        flixbuddy_calls=flixbuddy_calls(population.personas, date, seed, config),
        state_distribution={s: states[s] for s in State},
        pattern_distribution={pt: patterns[pt] for pt in Pattern},
    )


def advance_day(
    population: Population, date: dt.date, seed: int, config: BehaviourConfig = DEFAULT_CONFIG
) -> tuple[Population, DailyMetrics]:
    """Step ``population`` (which has reached ``date - 1``) through ``date``."""
    if date != population.current_date + _ONE_DAY:
        raise HogfleetError(f"population is at {population.current_date}; cannot step to {date}")
    out, cleaned = _step_all(population, date, seed, config, history=False)
    new = out.next_index - population.next_index
    return out, metrics_for(out, date, seed, config, new, cleaned)


_AGED: dict[tuple[int, dt.date, int, int | None], tuple[BehaviourConfig, Population]] = {}


def new_population(
    seed: int, start: dt.date, config: BehaviourConfig = DEFAULT_CONFIG, pool: int | None = None
) -> Population:
    """An aged pool, ready to be stepped through ``start`` (its ``current_date`` is ``start - 1``).

    Memoised per process (the history is ~100,000 persona-days): callers get their own list; the
    personas in it are shared, which is safe because stepping never mutates a persona.
    """
    key = (seed, start, id(config), pool)
    hit = _AGED.get(key)
    if hit is None or hit[0] is not config:
        if len(_AGED) > 8:
            _AGED.clear()
        hit = (config, _build_population(seed, start, config, pool))
        _AGED[key] = hit
    return hit[1].model_copy(update={"personas": list(hit[1].personas)}, deep=False)


def _build_population(seed: int, start: dt.date, config: BehaviourConfig, pool: int | None) -> Population:
    target = pool if pool is not None else config.signups.pool
    days = config.signups.history_days
    population = Population(
        seed=seed, pool=target, current_date=start - dt.timedelta(days=days + 1), next_index=0, personas=[]
    )
    day = population.current_date
    for _ in range(days):
        day += _ONE_DAY
        population, _ = _step_all(population, day, seed, config, history=True)
    return population


def simulate(
    seed: int,
    start: dt.date,
    days: int,
    config: BehaviourConfig = DEFAULT_CONFIG,
    pool: int | None = None,
    population: Population | None = None,
) -> Iterator[tuple[Population, DailyMetrics]]:
    """A throwaway in-memory run: yields the population and metrics of each day from ``start``."""
    if days < 1:
        raise HogfleetError(f"--days must be at least 1 (got {days})")
    pop = population if population is not None else new_population(seed, start, config, pool)
    day = start
    for _ in range(days):
        pop, metrics = advance_day(pop, day, seed, config)
        # Nobody runs the deletions of a throwaway population: treat them as done.
        if pop.pending_deletions:
            pop = pop.model_copy(update={"pending_deletions": []})
        yield pop, metrics
        day += _ONE_DAY


def ensure_plan(
    store: StateStore, date: dt.date, seed: int | None = None, config: BehaviourConfig = DEFAULT_CONFIG
) -> DayPlan:
    """Advance the stored population to ``date`` (one day at a time) and return ``date``'s plan.

    Idempotent: if ``plans/<date>.json`` exists it is returned untouched. The caller holds the lock.
    A brand-new state dir gets an aged pool whose history ends the day before ``date``.
    """
    existing = store.load_plan(date)
    if existing is not None:
        return existing
    population = store.load_population_or_none()
    if population is None:
        population = new_population(seed if seed is not None else default_seed(), date, config)
    elif seed is not None and seed != population.seed:
        raise HogfleetError(
            f"{store.personas_path} was created with seed {population.seed}, not {seed}; "
            "drop --seed or use another --state-dir"
        )
    run_seed = population.seed
    if date < population.current_date:
        raise HogfleetError(
            f"the stored population has already reached {population.current_date}; cannot plan {date}"
        )
    # Read (and so validate) every stored file before writing any: bad input changes nothing.
    metrics = store.load_metrics()
    population, new_metrics = advance_to(population, date, run_seed, config)
    plan = plan_day(population, date, run_seed, config)
    store.save_plan(plan)
    store.save_metrics([*metrics, *new_metrics])
    store.save_population(population)
    return plan


def advance_to(
    population: Population, date: dt.date, seed: int, config: BehaviourConfig = DEFAULT_CONFIG
) -> tuple[Population, list[DailyMetrics]]:
    """Step ``population`` one day at a time until it reaches ``date``; the days' metrics."""
    metrics: list[DailyMetrics] = []
    while population.current_date < date:
        population, m = advance_day(population, population.current_date + _ONE_DAY, seed, config)
        metrics.append(m)
    return population, metrics


def preview_plan(
    store: StateStore, date: dt.date, seed: int | None = None, config: BehaviourConfig = DEFAULT_CONFIG
) -> DayPlan:
    """``date``'s plan without writing anything: the stored one, or one computed on a copy."""
    stored = store.load_plan(date)
    if stored is not None:
        return stored
    population = store.load_population_or_none()
    if population is None:
        raise HogfleetError(f"no population in {store.root}: run `hogfleet plan` first")
    run_seed = population.seed if seed is None else seed
    population, _ = advance_to(population, date, run_seed, config)
    return plan_day(population, date, run_seed, config)


def confirm_deletion(population: Population, distinct_id: str) -> Population:
    """The fleet deleted this account on the site: forget the persona."""
    pending = [p for p in population.pending_deletions if p.distinct_id != distinct_id]
    return population.model_copy(update={"pending_deletions": pending})


DEFAULT_SEED = 42
SEED_ENV = "HOGFLEET_SEED"


def default_seed() -> int:
    import os

    raw = os.environ.get(SEED_ENV)
    if raw is None or raw == "":
        return DEFAULT_SEED
    try:
        return int(raw)
    except ValueError:
        raise HogfleetError(f"{SEED_ENV} must be an integer (got {raw!r})") from None
