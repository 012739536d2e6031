"""Persona-days per second of the pure simulation step, and how long planning a big day takes.

Prints figures; never passes or fails. Run: .venv/bin/python bench/simulate.py [--big N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from personas.config import DEFAULT_CONFIG
from personas.identity import distinct_id_for
from personas.lifecycle import clone
from personas.models import Population
from personas.planner import plan_day
from personas.simulation import _step_all, new_population

START = dt.date(2026, 1, 1)


def tiled(base: Population, n: int) -> Population:
    """``n`` personas made from copies of an aged pool's personas, with fresh distinct ids."""
    out = []
    for i in range(n):
        p = clone(base.personas[i % len(base.personas)])
        pid = distinct_id_for(100_000 + i, p.created_at)
        p.__dict__["distinct_id"] = pid
        p.__dict__["email"] = f"{pid}@hogflix-synthetic.test"
        out.append(p)
    return base.model_copy(update={"personas": out, "pool": n, "next_index": 100_000 + n})


def step_rate(pop: Population, days: int) -> tuple[float, int]:
    day = pop.current_date
    persona_days = 0
    t0 = time.perf_counter()
    for _ in range(days):
        day += dt.timedelta(days=1)
        persona_days += len(pop.personas)
        pop, _ = _step_all(pop, day, 1, DEFAULT_CONFIG, history=False)
    return persona_days / (time.perf_counter() - t0), persona_days


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=1_000_000, help="population size for the planning figure")
    args = ap.parse_args()
    t0 = time.perf_counter()
    base = new_population(1, START, DEFAULT_CONFIG)
    print(f"aged pool of {len(base.personas)} built in {time.perf_counter() - t0:.2f} s")

    rate, n = step_rate(base, 365)
    print(f"400 x 365 step:       {rate:>10,.0f} persona-days/s ({n:,} persona-days)")

    big = tiled(base, 100_000)
    rate, n = step_rate(big, 1)
    print(f"100,000 x 1 step:     {rate:>10,.0f} persona-days/s")

    huge = tiled(base, args.big)
    t0 = time.perf_counter()
    stepped, _ = _step_all(huge, START, 1, DEFAULT_CONFIG, history=False)
    t1 = time.perf_counter()
    plan = plan_day(stepped, START, 1, DEFAULT_CONFIG)
    t2 = time.perf_counter()
    print(
        f"{args.big:,} x 1: step {t1 - t0:.1f} s ({args.big / (t1 - t0):,.0f} persona-days/s), "
        f"plan {t2 - t1:.1f} s for {len(plan.sessions):,} sessions"
    )


if __name__ == "__main__":
    main()
