"""Secrets stay secret: nothing outside storage_states/ and the demo's own DB holds a cookie or password."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from personas.identity import password_for
from personas.store import StateStore
from tests.reliability.conftest import API_KEY, DEMO_SECRET, PERSONA_SECRET, Fleet

pytestmark = [pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[2]


def test_a_storage_state_is_git_ignored() -> None:
    sample = REPO / "storage_states" / "p_x.json"
    existed = sample.exists()
    sample.parent.mkdir(exist_ok=True)
    sample.write_text("{}")
    try:
        done = subprocess.run(["git", "check-ignore", "-q", str(sample)], cwd=REPO)
        assert done.returncode == 0, "storage_states/p_x.json is not git-ignored"
    finally:
        if not existed:
            sample.unlink()


def test_no_secret_outside_storage_states(seeded: Fleet) -> None:
    report = seeded.run("report", "--out", str(seeded.root / "report.html"), timeout=300, config=False)
    status = seeded.run("status", timeout=120, config=False)
    cookies = set()
    for path in seeded.storage.glob("*.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for cookie in json.loads(path.read_text())["cookies"]:
            if len(cookie["value"]) >= 16:
                cookies.add(cookie["value"])
    assert cookies, "no session cookie to look for"
    assert stat.S_IMODE(seeded.storage.stat().st_mode) == 0o700
    population = StateStore(seeded.state).load_population()
    secrets = {PERSONA_SECRET, DEMO_SECRET, API_KEY, *cookies}
    secrets |= {password_for(p.distinct_id, PERSONA_SECRET) for p in population.personas}
    texts = {"report stdout": report.stdout + report.stderr, "status": status.stdout + status.stderr}
    for path in seeded.root.rglob("*"):
        if not path.is_file() or seeded.storage in path.parents:
            continue
        if path.parent == seeded.state / "demo" and path.name.startswith("hogflix.db"):
            continue  # the demo's own user DB and its signing key legitimately hold hashes/keys
        texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    leaks = [(where, s[:6]) for where, text in texts.items() for s in secrets if s in text]
    assert not leaks, leaks
