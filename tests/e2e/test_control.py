"""The kill switch and cron windows, against the real demo in real Chromium."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from bots.records.ledger import read_records
from tests.e2e.test_fleet import DAY1, HOGFLEET, _config, _env, hogfleet

pytestmark = pytest.mark.e2e


def _switch(tmp: Path, verb: str) -> subprocess.CompletedProcess[str]:
    cmd = [HOGFLEET, verb, "--state-dir", str(tmp / "state")]
    return subprocess.run(cmd, env=_env(tmp), capture_output=True, text=True, timeout=60)


def test_pause_stops_a_running_fleet_between_sessions(tmp_path: Path) -> None:
    cmd = [
        HOGFLEET,
        "run",
        "--date",
        DAY1.isoformat(),
        "--state-dir",
        str(tmp_path / "state"),
        "--config",
        str(_config(tmp_path)),
        "--concurrency",
        "1",
        "--json",
        "--log-format",
        "json",
    ]
    proc = subprocess.Popen(
        cmd, env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    ledger = tmp_path / "state" / "runs" / DAY1.isoformat() / "ledger.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (ledger.exists() and ledger.read_bytes().strip()):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    paused = _switch(tmp_path, "pause")
    assert paused.returncode == 0, paused.stderr
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    summary = json.loads(out)
    assert summary["stopped_reason"].startswith("paused")
    done = list(read_records(ledger))
    assert 1 <= len({r.session_id for r in done}) < summary["planned"]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line.get("persona") and line.get("session") and line.get("outcome") for line in lines)

    # A paused fleet's run does nothing, exits 0 and says so; HOGFLEET_PAUSED does the same.
    again = hogfleet(tmp_path, "run", "--date", DAY1.isoformat())
    assert again.returncode == 0 and "paused" in again.stderr
    assert len(list(read_records(ledger))) == len(done)
    assert _switch(tmp_path, "resume").returncode == 0
    env_paused = subprocess.run(
        cmd,
        env={**_env(tmp_path), "HOGFLEET_PAUSED": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert env_paused.returncode == 0 and "paused" in env_paused.stderr


def test_window_runs_only_sessions_due_in_it(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.UTC).date()
    planned = hogfleet(tmp_path, "plan", "--date", today.isoformat(), "--json")
    assert planned.returncode == 0, planned.stderr
    sessions = json.loads(planned.stdout)["sessions"]
    now = dt.datetime.now(dt.UTC)
    due = {
        s["session_id"]
        for s in sessions
        if dt.datetime.fromisoformat(s["start_at"]) < now + dt.timedelta(seconds=1)
    }
    done = hogfleet(
        tmp_path, "run", "--date", today.isoformat(), "--window", "1s", "--json", "--max-sessions", "3"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ran = {
        r.session_id for r in read_records(tmp_path / "state" / "runs" / today.isoformat() / "ledger.jsonl")
    }
    assert ran <= due
    assert len(ran) == min(3, len(due))


def test_log_lines_never_carry_cookies(tmp_path: Path) -> None:
    done = hogfleet(
        tmp_path, "run", "--date", DAY1.isoformat(), "--max-sessions", "1", "--log-format", "json"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    cookies = [
        c["value"] for f in (tmp_path / "ss").glob("*.json") for c in json.loads(f.read_text())["cookies"]
    ]
    assert cookies
    assert not any(value in done.stderr or value in done.stdout for value in cookies)
    assert os.environ.get("HOGFLEET_PAUSED") is None
