from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pytest

from personas.config import DEFAULT_CONFIG
from personas.models import Population
from personas.simulation import new_population

START = dt.date(2026, 3, 2)


@lru_cache(maxsize=4)
def _aged(seed: int) -> Population:
    return new_population(seed, START, DEFAULT_CONFIG)


@pytest.fixture
def aged_population() -> Population:
    """An aged pool (seed 7) whose current_date is START - 1; a deep copy, so tests may not leak."""
    return _aged(7).model_copy(deep=True)
