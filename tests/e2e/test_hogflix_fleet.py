"""The fleet drives the real HogFlix build (``../shared/hogflix/dist``) on the demo's local backend.

Three consecutive days of a 30-persona pool, through the real frontend and the real posthog-js, with
``flows/profiles/hogflix.toml``: every journey the app supports runs, no session fails, what each
page sent is what the capture endpoint stored, every step's owed events (with the app's own names)
are there, each returning persona keeps its backend user id as distinct_id, the traffic is marked
synthetic by the app's own mechanism, and sessions are recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from bots.records.ledger import LedgerRecord, read_records
from flows.profile import HOGFLIX_PROFILE
from personas.store import StateStore
from tests.conftest import churn_persona

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT.parent / "shared" / "hogflix" / "dist"
HOGFLEET = str(Path(sys.executable).parent / "hogfleet")
DAY1 = dt.date(2026, 11, 21)
AUTH_KEY_PREFIX = "sb-"  # supabase-js keeps its session in localStorage["sb-<host>-auth-token"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (DIST / "index.html").is_file(), reason=f"no HogFlix build at {DIST}"),
]


def _config(tmp: Path) -> Path:
    path = tmp / "hogfleet.toml"
    # A 30-persona pool (one signup a day over a month of history), every entry point equally
    # likely, and the rarer interactions made common enough that three days cover every journey.
    path.write_text(
        "[signups]\npool = 30\nmin_per_day = 1\nmax_per_day = 1\nhistory_days = 30\n\n"
        "[entry_points]\nhomepage = 1.0\nsearch = 1.0\ncategory = 1.0\nwatchlist = 1.0\nflixbuddy = 1.0\n\n"
        "[interactions]\nsupport_ticket = 0.3\nadd_to_watchlist = 0.6\nrate_video = 0.4\n"
        "upgrade = 0.0\ndowngrade = 0.0\n\n"
        "[flixbuddy]\nfollow_up = 0.9\n\n"
        # One or two titles a session: every journey still runs, in a suite-sized time.
        + "".join(
            f"[session_depth.{key}]\nmin_videos = 1\nmax_videos = 2\ncompletion = 0.6\n\n"
            for key in ("NEW", "ACTIVE", "CASUAL", "BINGE")
        )
        + "".join(
            f"[pattern_depth.{key}]\nmin_videos = 1\nmax_videos = 2\ncompletion = 0.6\n\n"
            for key in ("DAILY", "REGULAR", "MONTHLY")
        )
        + "[fleet]\ndwell_scale = 0.0\nconcurrency = 2\n"
    )
    return path


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "HOGFLEET_STORAGE_DIR": str(tmp / "ss"), "HOGFLEET_SEED": "11"}


def hogfleet(tmp: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    cmd = [HOGFLEET, *args, "--state-dir", str(tmp / "state"), "--config", str(_config(tmp))]
    return subprocess.run(cmd, env=_env(tmp), capture_output=True, text=True, timeout=timeout, cwd=tmp)


def run_day(tmp: Path, day: dt.date, *extra: str) -> subprocess.CompletedProcess[str]:
    return hogfleet(tmp, "run", "--date", day.isoformat(), "--frontend", str(DIST), "--json", *extra)


def ledger(tmp: Path, day: dt.date) -> list[LedgerRecord]:
    return list(read_records(tmp / "state" / "runs" / day.isoformat() / "ledger.jsonl"))


def _db(tmp: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp / "state" / "demo" / "hogflix.events.sqlite3")


def stored_events(tmp: Path) -> dict[str, dict[str, Any]]:
    with _db(tmp) as db:
        rows = db.execute("select uuid, event, distinct_id, properties from events").fetchall()
    return {u: {"event": e, "distinct_id": d, "properties": json.loads(p)} for u, e, d, p in rows}


def recorded_sessions(tmp: Path) -> set[str]:
    with _db(tmp) as db:
        return {row[0] for row in db.execute("select distinct session_id from recordings")}


def _uuid_version(value: str) -> int | None:
    try:
        return uuid.UUID(value).version
    except ValueError:
        return None


def _expire_session(tmp: Path, persona: str) -> None:
    """The persona's login expired: its stored Supabase session (access and refresh token) is gone."""
    path = tmp / "ss" / f"{persona}.json"
    state = json.loads(path.read_text())
    for origin in state["origins"]:
        origin["localStorage"] = [
            i for i in origin["localStorage"] if not i["name"].startswith(AUTH_KEY_PREFIX)
        ]
    path.write_text(json.dumps(state))


def test_three_days_of_a_thirty_persona_pool_on_the_real_build(tmp_path: Path) -> None:
    by_day: dict[dt.date, list[LedgerRecord]] = {}
    expired: str | None = None
    for offset in range(3):
        day = DAY1 + dt.timedelta(days=offset)
        if offset == 1:
            # Plan day 2 first, then expire the login of one persona of day 1 that comes back.
            assert hogfleet(tmp_path, "plan", "--date", day.isoformat()).returncode == 0
            plan = StateStore(tmp_path / "state").load_plan(day)
            assert plan is not None
            day1_ids = {r.persona for r in by_day[DAY1] if r.kind == "session"}
            expired = next(
                s.identity.distinct_id for s in plan.sessions if s.identity.distinct_id in day1_ids
            )
            _expire_session(tmp_path, expired)
        if offset == 2:
            churn_persona(
                tmp_path / "state", next(r.persona for r in by_day[DAY1] if r.kind == "session"), DAY1
            )
        done = run_day(tmp_path, day)
        assert done.returncode == 0, done.stderr[-3000:]
        summary = json.loads(done.stdout)
        assert summary["outcomes"]["failed"] == 0, summary["failures"]
        by_day[day] = ledger(tmp_path, day)
        assert by_day[day], f"no sessions on {day}"

    records = [r for day in by_day.values() for r in day]
    stored = stored_events(tmp_path)
    steps = Counter(step for r in records for step in r.steps)
    # Every journey the real app supports ran at least once.
    for step in (
        "signup", "login", "profile", "search", "search_view_all", "open_title", "play", "watch",
        "rate", "watchlist_add", "flixbuddy", "support_ticket", "logout",
    ):  # fmt: skip
        assert steps[step] > 0, f"no session took the step {step!r}: {dict(steps)}"
    entries = Counter(r.steps[0] for r in records)
    assert entries["home"] == len(records)
    flixbuddy_conversations = [r for r in records if r.counts.flixbuddy_questions >= 2]
    assert flixbuddy_conversations, "no multi-message FlixBuddy conversation"
    assert any(r.events.get("video:progress_milestone") for r in records)

    observed: set[str] = set()
    for record in records:
        assert record.outcome in ("ok", "abandoned"), record
        verdict = record.verdict
        assert verdict is not None and verdict.ok, (record.persona, verdict)
        assert not verdict.missing and not verdict.unmarked
        # What the page sent and the observer saw is what the endpoint stored.
        assert set(record.event_uuids) <= stored.keys(), record.session_id
        observed |= set(record.event_uuids)
    # ...and nothing the pages sent was stored without being observed; the rest is the local
    # FlixBuddy function's server-side LLM analytics, as the real function sends.
    unobserved = Counter(stored[u]["event"] for u in stored.keys() - observed)
    assert set(unobserved) <= {"$ai_generation"}, unobserved

    # Identity: a returning persona is its backend user (a Supabase user id, a version-4 UUID; the
    # SDK's anonymous ids before identify are version 7), every day; it never signs up again, and it
    # logs in again only when its session expired.
    first_ids: dict[str, str] = {}
    signups: Counter[str] = Counter()
    for day, day_records in by_day.items():
        seen_before = set(first_ids)
        for record in day_records:
            if record.kind != "session":
                continue
            signups[record.persona] += "signup" in record.steps
            users = [d for d in record.distinct_ids if _uuid_version(d) == 4]
            assert len(users) == 1, (record.persona, record.distinct_ids)
            first_ids.setdefault(record.persona, users[0])
            assert users[0] == first_ids[record.persona], (record.persona, day, record.distinct_ids)
            if record.persona in seen_before and record.persona != expired:
                assert "login" not in record.steps and "signup" not in record.steps, (record.persona, day)
    assert max(signups.values()) == 1, signups
    relogin = [r for r in by_day[DAY1 + dt.timedelta(days=1)] if r.persona == expired]
    assert relogin and "login" in relogin[0].steps, relogin

    # Marking: the app's own SyntheticMarker marked what the pages sent. The only unmarked stored
    # events are the app's known exceptions (README): the FlixBuddy function's server-side LLM
    # analytics, the first $set of a fresh browser (before the marker registers) and what the app
    # sends between a logout's reset() and the next page load.
    sent = [stored[u] for u in observed]
    marked_sent = sum(1 for e in sent if e["properties"].get("is_synthetic") is True)
    assert marked_sent / len(sent) >= 0.99, marked_sent / len(sent)
    unmarked = Counter(e["event"] for e in stored.values() if e["properties"].get("is_synthetic") is not True)
    known = {"$ai_generation", "$set", "page:viewed_landing", "autocapture_forced_start"}
    assert set(unmarked) <= known, unmarked
    share = sum(1 for e in stored.values() if e["properties"].get("is_synthetic") is True) / len(stored)
    print(f"is_synthetic on {share:.2%} of {len(stored)} stored events; unmarked: {dict(unmarked)}")

    # Recordings: at least one for 90% of the sessions.
    recorded = recorded_sessions(tmp_path)
    sessions = [r for r in records if r.kind == "session"]
    with_recording = [
        r for r in sessions if {stored[u]["properties"].get("$session_id") for u in r.event_uuids} & recorded
    ]
    assert len(with_recording) >= 0.9 * len(sessions), (len(with_recording), len(sessions))

    # Churn: HogFlix has no account deletion; the persona logs out and its login is dropped.
    deletions = [r for r in by_day[DAY1 + dt.timedelta(days=2)] if r.kind == "deletion"]
    assert len(deletions) == 1 and deletions[0].outcome == "ok", deletions
    gone = deletions[0]
    assert "logout" in gone.steps and gone.counts.left_for_site_cleanup
    assert gone.counts.substitutions == ["delete_account->logout"]
    assert not (tmp_path / "ss" / f"{gone.persona}.json").exists()
    for state_file in (tmp_path / "ss").glob("*.json"):
        assert oct(state_file.stat().st_mode & 0o777) == "0o600"


def test_a_broken_selector_fails_only_those_sessions(tmp_path: Path) -> None:
    broken = tmp_path / "hogflix-broken.toml"
    text = HOGFLIX_PROFILE.read_text()
    assert 'name = "Add to My List"' in text
    broken.write_text(text.replace('name = "Add to My List"', 'name = "Add to My Basket"'))
    done = run_day(tmp_path, DAY1, "--site-profile", str(broken), "--max-sessions", "8")
    assert done.returncode == 0, done.stderr[-2000:]
    records = ledger(tmp_path, DAY1)
    plan = StateStore(tmp_path / "state").load_plan(DAY1)
    assert plan is not None
    adds = {s.session_id for s in plan.sessions if any(v.add_to_watchlist for v in s.videos)}
    failed = {r.session_id for r in records if r.outcome == "failed"}
    assert failed, "no planned session added to the watchlist: pick a seed whose plan does"
    assert failed <= adds
    for record in records:
        if record.outcome != "failed":
            continue
        assert record.error_step == "watchlist_add" and record.error_class == "selector_timeout", record
        assert record.artifacts.trace and record.artifacts.screenshot
        with zipfile.ZipFile(record.artifacts.trace) as archive:
            assert any(n.endswith(".trace") for n in archive.namelist())
        assert Path(record.artifacts.screenshot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    failed_steps: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if record.outcome == "failed":
            failed_steps[record.session_id].add(record.error_step or "")
    assert all(s == {"watchlist_add"} for s in failed_steps.values())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--frontend", "{tmp}"], "not a HogFlix production build (no index.html in it)"),
        (["--frontend", str(DIST), "--target", "http://127.0.0.1:9"], "it goes with --target demo"),
        (["--frontend", str(DIST), "--site-profile", "nope"], "site profile nope: file not found"),
    ],
)
def test_bad_frontend_input_is_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    done = hogfleet(tmp_path, "run", "--date", DAY1.isoformat(), *argv, timeout=120)
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert err.startswith("error: ") and needle in err and "\n" not in err, err
    assert not (tmp_path / "state" / "runs").exists()
