"""The fleet against the real demo in real Chromium (README: what a run does).

Every test runs the real ``hogfleet`` console script in a subprocess: it starts the embedded demo
on a free loopback port, drives Debian's Chromium, and writes real state files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bots.records.ledger import LedgerRecord, read_records
from flows.profile import DEMO_PROFILE
from personas.store import StateStore
from tests.conftest import churn_persona

pytestmark = pytest.mark.e2e

HOGFLEET = str(Path(sys.executable).parent / "hogfleet")
DAY1 = dt.date(2026, 11, 21)


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "HOGFLEET_STORAGE_DIR": str(tmp / "ss"), "HOGFLEET_SEED": "7"}


def _config(tmp: Path, pool: int = 20) -> Path:
    path = tmp / "hogfleet.toml"
    # One signup a day over three weeks of history keeps the pool near ``pool`` (the defaults'
    # 2-5 signups a day would sustain a few hundred).
    path.write_text(
        f"[signups]\npool = {pool}\nmin_per_day = 1\nmax_per_day = 1\nhistory_days = {pool}\n\n"
        "[fleet]\ndwell_scale = 0.0\nconcurrency = 2\n"
    )
    return path


def hogfleet(tmp: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    cmd = [HOGFLEET, *args, "--state-dir", str(tmp / "state"), "--config", str(_config(tmp))]
    return subprocess.run(cmd, env=_env(tmp), capture_output=True, text=True, timeout=timeout, cwd=tmp)


def ledger(tmp: Path, day: dt.date) -> list[LedgerRecord]:
    return list(read_records(tmp / "state" / "runs" / day.isoformat() / "ledger.jsonl"))


def stored_events(tmp: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp / "state" / "demo" / "hogflix.events.sqlite3") as db:
        rows = db.execute("select uuid, event, distinct_id, properties from events").fetchall()
    return [{"uuid": u, "event": e, "distinct_id": d, "properties": json.loads(p)} for u, e, d, p in rows]


def test_three_days_of_a_twenty_persona_pool(tmp_path: Path) -> None:
    by_day: dict[dt.date, list[LedgerRecord]] = {}
    for offset in range(3):
        day = DAY1 + dt.timedelta(days=offset)
        if offset == 2:
            # Churn one persona that signed up on day 1.
            churn_persona(
                tmp_path / "state", next(r.persona for r in by_day[DAY1] if r.kind == "session"), DAY1
            )
        done = hogfleet(tmp_path, "run", "--date", day.isoformat(), "--json")
        assert done.returncode == 0, done.stderr[-2000:]
        summary = json.loads(done.stdout)
        assert summary["outcomes"]["failed"] == 0, summary["failures"]
        by_day[day] = ledger(tmp_path, day)
        assert by_day[day], f"no sessions on {day}"

    events = stored_events(tmp_path)
    stored_by_session: dict[str, set[str]] = defaultdict(set)
    for event in events:
        assert event["properties"].get("is_synthetic") is True
        session = event["properties"].get("hogfleet_session_id")
        if session:
            stored_by_session[session].add(event["uuid"])

    first_ids: dict[str, list[str]] = {}
    for day, records in by_day.items():
        for record in records:
            assert record.outcome in ("ok", "abandoned"), record
            assert record.verdict is not None and record.verdict.ok, record.verdict
            # Nothing lost: what the page sent and we observed is exactly what the endpoint stored.
            assert set(record.event_uuids) == stored_by_session[record.session_id], record.session_id
            if day == DAY1 and record.kind == "session":
                assert "signup" in record.steps, f"{record.persona} did not sign up through the UI"
                first_ids[record.persona] = record.distinct_ids

    returning = [
        r
        for d in (DAY1 + dt.timedelta(days=1), DAY1 + dt.timedelta(days=2))
        for r in by_day[d]
        if r.kind == "session" and r.persona in first_ids
    ]
    assert returning, "no persona of day 1 came back on days 2-3"
    for record in returning:
        assert "login" not in record.steps and "signup" not in record.steps, record.steps
        site_ids = {d for d in record.distinct_ids if d.startswith("usr_")}
        assert site_ids and site_ids <= set(first_ids[record.persona]), (record.persona, record.distinct_ids)

    deletions = [r for r in by_day[DAY1 + dt.timedelta(days=2)] if r.kind == "deletion"]
    assert len(deletions) == 1 and deletions[0].outcome == "ok"
    gone = deletions[0].persona
    assert not (tmp_path / "ss" / f"{gone}.json").exists()
    assert "delete_account" in deletions[0].steps
    with sqlite3.connect(tmp_path / "state" / "demo" / "hogflix.db") as db:
        assert db.execute("select count(*) from users where email like ?", (f"{gone}@%",)).fetchone()[0] == 0
    population = StateStore(tmp_path / "state").load_population()
    assert gone not in {p.distinct_id for p in population.pending_deletions}
    for state_file in (tmp_path / "ss").glob("*.json"):
        assert oct(state_file.stat().st_mode & 0o777) == "0o600"
        json.loads(state_file.read_text())


def test_broken_selector_fails_only_those_sessions_with_trace_and_screenshot(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(DEMO_PROFILE.read_text().replace("[data-testid=rating-value]", "[data-testid=nope]"))
    done = hogfleet(
        tmp_path,
        "run",
        "--date",
        DAY1.isoformat(),
        "--site-profile",
        str(broken),
        "--max-sessions",
        "6",
        "--json",
    )
    summary = json.loads(done.stdout)
    records = ledger(tmp_path, DAY1)
    failed = [r for r in records if r.outcome == "failed"]
    assert failed, "no planned session rated a title: pick a seed whose plan rates"
    for record in failed:
        assert record.error_step == "rate" and record.error_class == "selector_timeout"
        trace = Path(record.artifacts.trace)
        with zipfile.ZipFile(trace) as archive:
            names = archive.namelist()
        assert any(n.endswith(".trace") for n in names) and any(n.endswith(".network") for n in names)
        assert Path(record.artifacts.screenshot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (
            trace.parent
            == tmp_path / "state" / "artifacts" / DAY1.isoformat() / record.persona / record.session_id
        )
    finals = {r.session_id: r for r in records}
    rated = {r.session_id for r in failed}
    assert all(r.outcome != "failed" for s, r in finals.items() if s not in rated)
    assert summary["outcomes"]["failed"] == len({r.session_id for r in failed})
    assert all(f["show_trace"].startswith("playwright show-trace ") for f in summary["failures"])


def test_sigkill_midway_then_resume_runs_every_session_once(tmp_path: Path) -> None:
    cmd = [
        HOGFLEET,
        "run",
        "--date",
        DAY1.isoformat(),
        "--state-dir",
        str(tmp_path / "state"),
        "--config",
        str(_config(tmp_path, pool=12)),
        "--concurrency",
        "1",
    ]
    proc = subprocess.Popen(
        cmd,
        env=_env(tmp_path),
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ledger_file = tmp_path / "state" / "runs" / DAY1.isoformat() / "ledger.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if ledger_file.exists() and len(ledger_file.read_bytes().splitlines()) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the fleet, its demo and its browser, all at once
    proc.wait()
    before = {r.session_id for r in ledger(tmp_path, DAY1) if r.outcome in ("ok", "abandoned")}
    assert before

    again = subprocess.run(
        [*cmd, "--json"], env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr[-2000:]
    plan = StateStore(tmp_path / "state").load_plan(DAY1)
    assert plan is not None
    planned = {s.session_id for s in [*plan.sessions, *plan.deletions]}
    ok_lines = [r.session_id for r in ledger(tmp_path, DAY1) if r.outcome in ("ok", "abandoned")]
    assert sorted(ok_lines) == sorted(planned), "every planned session ends ok exactly once"
    assert json.loads(again.stdout)["already_done"] == len(before)
    for state_file in (tmp_path / "ss").glob("*.json"):
        json.loads(state_file.read_text())


def test_no_analytics_verdict_names_both_causes(tmp_path: Path) -> None:
    unmarked = tmp_path / "unmarked.toml"
    unmarked.write_text(
        DEMO_PROFILE.read_text().replace("[synthetic]\nenabled = true", "[synthetic]\nenabled = false")
    )
    done = hogfleet(
        tmp_path,
        "run",
        "--date",
        DAY1.isoformat(),
        "--site-profile",
        str(unmarked),
        "--max-sessions",
        "2",
        "--json",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    records = ledger(tmp_path, DAY1)
    assert records
    for record in records:
        assert record.verdict is not None and not record.verdict.ok
        assert record.verdict.capture_requests == 0
        assert "synthetic flag" in record.verdict.message and "bot filter" in record.verdict.message
    assert stored_events(tmp_path) == []


def test_lost_storage_state_logs_in_again_through_the_ui(tmp_path: Path) -> None:
    first = hogfleet(tmp_path, "run", "--date", DAY1.isoformat(), "--max-sessions", "1", "--json")
    assert first.returncode == 0, first.stderr[-2000:]
    (record,) = ledger(tmp_path, DAY1)
    assert "signup" in record.steps
    # The persona's cookies are gone and the ledger forgot the session (as after a crash before the
    # fold): its plan still says "sign up", the site says the account exists, so it logs in.
    (tmp_path / "ss" / f"{record.persona}.json").unlink()
    (tmp_path / "state" / "runs" / DAY1.isoformat() / "ledger.jsonl").unlink()
    again = hogfleet(tmp_path, "run", "--date", DAY1.isoformat(), "--persona", record.persona, "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    (retry,) = ledger(tmp_path, DAY1)
    assert retry.outcome in ("ok", "abandoned") and "login" in retry.steps
    assert {d for d in retry.distinct_ids if d.startswith("usr_")} == {
        d for d in record.distinct_ids if d.startswith("usr_")
    }
