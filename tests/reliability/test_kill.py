"""SIGKILL the fleet at 20 random points of a day, resuming after each; nothing corrupt, nothing twice.

Each kill takes the whole process group (fleet, Playwright's driver) at once; the demo runs in its
own group and dies with its parent (PR_SET_PDEATHSIG), Chromium with its driver. After every kill
every state file must load, no session may be recorded done twice, and no process may survive.
Finally a clean run completes the day: every planned session ends done exactly once, and folding
it into personas.json counted each session once, however many runs it took.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from bots.records.ledger import DONE, LedgerRecord
from bots.records.storage import _valid
from personas.store import StateStore
from tests.reliability.conftest import DAY1, Fleet, cmdline, descendants, processes_marked

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KILLS = 20


def _check_state(fleet: Fleet, day: dt.date) -> tuple[int, list[str]]:
    """Validate every state file; return (files checked, problems)."""
    problems: list[str] = []
    checked = 0
    store = StateStore(fleet.state)
    for load in (store.load_population_or_none, store.load_metrics, lambda: store.load_plan(day)):
        try:
            load()
        except Exception as exc:  # a HogfleetError here means a corrupt file
            problems.append(f"{exc}")
        checked += 1
    for path in fleet.storage.glob("*.json"):
        checked += 1
        try:
            if not _valid(orjson.loads(path.read_bytes())):
                problems.append(f"{path.name}: not a storage state")
        except orjson.JSONDecodeError:
            problems.append(f"{path.name}: not JSON")
    if list(fleet.storage.glob("*.corrupt")):
        problems.append("a storage state was found corrupt and moved aside")
    ledger = fleet.ledger_file(day)
    if ledger.exists():
        lines = ledger.read_bytes().split(b"\n")
        # Only the last line may be torn (the kill landed inside its write).
        for number, line in enumerate(lines[:-1], 1):
            checked += 1
            try:
                LedgerRecord.model_validate(orjson.loads(line))
            except (orjson.JSONDecodeError, ValueError):
                problems.append(f"ledger line {number} is corrupt")
    for db in ("hogflix.db", "hogflix.events.sqlite3"):
        path = fleet.state / "demo" / db
        if path.exists():
            checked += 1
            with sqlite3.connect(path) as conn:
                if conn.execute("pragma integrity_check").fetchone()[0] != "ok":
                    problems.append(f"{db} fails integrity_check")
    return checked, problems


def _duplicates(records: list[LedgerRecord]) -> list[str]:
    counts = Counter(r.session_id for r in records if r.outcome in DONE)
    return [s for s, n in counts.items() if n > 1]


def test_twenty_sigkills_then_a_clean_run(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path, pool=6)
    rng = random.Random(20261121)
    corrupt: list[str] = []
    duplicates: list[str] = []
    files_checked = 0
    for kill in range(KILLS):
        proc = fleet.popen("run", "--date", DAY1.isoformat())
        # Every fourth kill counts from the start (plan, population and demo start-up); the others
        # from the moment Chromium is up, so most land inside sessions and their state writes.
        if kill % 4:
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if any("chrom" in cmdline(p) for p in descendants(proc.pid)):
                    break
                time.sleep(0.1)
        time.sleep(rng.uniform(0.5, 8.0))
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert finished or proc.returncode == -signal.SIGKILL
        # The demo (own process group) follows its parent within a moment; nothing else may linger.
        deadline = time.monotonic() + 15
        while processes_marked(str(fleet.state)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not processes_marked(str(fleet.state)), f"kill {kill}: processes outlived the fleet"
        checked, problems = _check_state(fleet, DAY1)
        files_checked += checked
        corrupt += [f"kill {kill}: {p}" for p in problems]
        duplicates += _duplicates(fleet.ledger(DAY1))

    done = fleet.run("run", "--date", DAY1.isoformat(), "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    checked, problems = _check_state(fleet, DAY1)
    corrupt += problems
    records = fleet.ledger(DAY1)
    duplicates += _duplicates(records)
    plan = StateStore(fleet.state).load_plan(DAY1)
    assert plan is not None
    planned = sorted([s.session_id for s in plan.sessions] + [d.session_id for d in plan.deletions])
    ok_once = sorted(r.session_id for r in records if r.outcome in DONE)
    population = StateStore(fleet.state).load_population()
    folded = [s for s in population.folded_sessions if s in set(planned)]
    figures = {
        "kills": KILLS,
        "corrupt_files": len(corrupt),
        "duplicate_sessions": len(set(duplicates)),
        "files_checked": files_checked + checked,
        "attempts": len(records),
        "planned": len(planned),
        "resumed_runs_needed": KILLS + 1,
        "stray_tmp_files": len(list(fleet.state.rglob(".*.tmp"))),
    }
    print("kill-test figures:", json.dumps(figures))
    assert not corrupt, corrupt
    assert not duplicates, duplicates
    assert ok_once == planned, "every planned session ends done exactly once"
    assert sorted(folded) == planned, "each done session folded into personas.json exactly once"
