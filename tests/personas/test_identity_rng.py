from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from personas.identity import DEFAULT_SECRET, distinct_id_for, email_for, password_for
from personas.rng import DerivedRandom, stream


def test_password_is_hmac_and_not_trivial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOGFLEET_PERSONA_SECRET", raising=False)
    a = password_for("p_00001_1")
    assert a == password_for("p_00001_1", DEFAULT_SECRET)
    assert a != password_for("p_00002_1")
    assert a != password_for("p_00001_1", "other")
    assert re.fullmatch(r"Hf9![0-9a-f]{24}", a)
    monkeypatch.setenv("HOGFLEET_PERSONA_SECRET", "s3cret")
    assert password_for("p_00001_1") == password_for("p_00001_1", "s3cret") != a


def test_distinct_id_uses_simulated_signup_ms() -> None:
    at = dt.datetime(2025, 10, 28, 10, 15, tzinfo=dt.UTC)
    pid = distinct_id_for(123, at)
    assert pid == f"p_00123_{int(at.timestamp() * 1000)}"
    assert email_for(pid) == f"{pid}@hogflix-synthetic.test"


def test_streams_are_deterministic_and_keyed() -> None:
    d = dt.date(2026, 1, 1)
    a = [stream(1, "p_1", d, "step").random() for _ in range(3)]
    assert a == [stream(1, "p_1", d, "step").random() for _ in range(3)]
    assert stream(1, "p_1", d, "step").random() != stream(2, "p_1", d, "step").random()
    assert stream(1, "p_1", d, "step").random() != stream(1, "p_2", d, "step").random()
    assert stream(1, "p_1", d, "step").random() != stream(1, "p_1", d, "session").random()


def test_derived_random_is_a_full_random() -> None:
    r = DerivedRandom(b"x")
    assert isinstance(r, random.Random)
    xs = [r.random() for _ in range(2000)]  # crosses many hash blocks
    assert all(0 <= x < 1 for x in xs)
    assert 0.45 < sum(xs) / len(xs) < 0.55
    assert 1 <= r.randint(1, 6) <= 6
    assert r.choice("abc") in "abc"
    assert isinstance(r.gauss(0, 1), float)
    assert 0 <= r.getrandbits(100) < 2**100
    assert len(r.sample(range(10), 3)) == 3
