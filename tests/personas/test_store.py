from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from personas.config import DEFAULT_CONFIG
from personas.errors import HogfleetError
from personas.simulation import confirm_deletion, ensure_plan
from personas.store import StateStore, atomic_write_bytes, default_state_dir

DAY = dt.date(2026, 3, 2)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert os.stat(target.parent).st_mode & 0o777 == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_default_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOGFLEET_STATE_DIR", raising=False)
    assert default_state_dir() == Path(".hogfleet")
    monkeypatch.setenv("HOGFLEET_STATE_DIR", str(tmp_path))
    assert default_state_dir() == tmp_path


def test_second_lock_holder_gets_the_pid(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    with (
        store.lock(),
        pytest.raises(HogfleetError, match=rf"pid {os.getpid()}"),
        StateStore(tmp_path).lock(),
    ):
        pass
    with StateStore(tmp_path).lock():  # released again
        pass


def test_ensure_plan_is_idempotent_and_advances_day_by_day(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    with store.lock():
        plan = ensure_plan(store, DAY, 3, DEFAULT_CONFIG)
    before = _snapshot(tmp_path)
    with store.lock():
        assert ensure_plan(store, DAY, None, DEFAULT_CONFIG) == plan
    assert _snapshot(tmp_path) == before
    with store.lock():
        later = ensure_plan(store, DAY + dt.timedelta(days=3), None, DEFAULT_CONFIG)
    assert later.seed == 3
    assert store.load_population().current_date == DAY + dt.timedelta(days=3)
    assert [m.date for m in store.load_metrics()][-4:] == [DAY + dt.timedelta(days=i) for i in range(4)]
    with store.lock(), pytest.raises(HogfleetError, match="already reached"):
        ensure_plan(store, DAY + dt.timedelta(days=1), None, DEFAULT_CONFIG)
    with store.lock(), pytest.raises(HogfleetError, match="seed 3"):
        ensure_plan(store, DAY + dt.timedelta(days=9), 4, DEFAULT_CONFIG)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"schema_version": 99}', "schema_version 99"),
        (b"[1, 2]", "no schema_version"),
        (b'{"schema_version": 1, "seed": "x"}', "wrong shape"),
    ],
)
def test_bad_state_files_are_named_and_untouched(tmp_path: Path, content: bytes, needle: str) -> None:
    store = StateStore(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    store.personas_path.write_bytes(content)
    with store.lock(), pytest.raises(HogfleetError) as exc:
        ensure_plan(store, DAY, 1, DEFAULT_CONFIG)
    assert needle in str(exc.value) and str(store.personas_path) in str(exc.value)
    assert store.personas_path.read_bytes() == content
    assert not store.plans_dir.exists()


def test_confirm_deletion_forgets_the_persona(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    with store.lock():
        ensure_plan(store, DAY, 1, DEFAULT_CONFIG)
    pop = store.load_population()
    victim = pop.personas[0].model_copy(update={"delete_pending": True})
    pop = pop.model_copy(update={"pending_deletions": [victim]})
    assert confirm_deletion(pop, victim.distinct_id).pending_deletions == []
