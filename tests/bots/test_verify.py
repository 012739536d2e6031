"""``hogfleet verify``: sent (ledger) vs ingested, against PostHog's HogQL API and the real demo."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.query import PostHogQueryClient
from bots.cli import main
from bots.records.ledger import Ledger, LedgerRecord, ledger_path, read_records
from bots.reporting import reconcile
from bots.reporting.reconcile import SessionCheck, event_rows, poll, sessions_to_check

DAY = dt.date(2026, 11, 21)
T0 = dt.datetime(2026, 11, 21, 20, 0, tzinfo=dt.UTC)
KEY = "phx_secret_personal_key_123"


def record(
    session: str, events: dict[str, int], *, outcome: str = "ok", attempt: int = 1, run: str = "run-a"
) -> LedgerRecord:
    return LedgerRecord(
        date=DAY,
        run_id=run,
        persona=f"p_{session}",
        session_id=session,
        attempt=attempt,
        started_at=T0 + dt.timedelta(minutes=attempt),
        ended_at=T0 + dt.timedelta(minutes=attempt + 1),
        outcome=outcome,  # type: ignore[arg-type]
        events=events,
    )


class FakePostHog:
    """PostHog's query endpoint as httpx sees it: answers HogQL by session from `rows_by_call`."""

    def __init__(self, *answers: list[list[Any]]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        rows = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return httpx.Response(200, json={"results": rows, "columns": ["session", "event", "count"]})

    def client(self) -> PostHogQueryClient:
        return PostHogQueryClient("https://ph.example", "42", KEY, transport=httpx.MockTransport(self))


def test_final_ok_attempt_and_its_earlier_attempts_in_the_same_run_count_as_sent() -> None:
    checks = sessions_to_check(
        [
            record("s1", {"$pageview": 2}, outcome="failed", attempt=1),
            record("s1", {"$pageview": 3, "rating_submitted": 1}, attempt=2),
            record("s2", {"$pageview": 1}, outcome="failed"),  # never finished: not checked
            record("s3", {"$pageview": 1}, outcome="failed", run="run-old"),  # another run's try
            record("s3", {"search_performed": 1}, run="run-b"),
        ]
    )
    assert [(c.session_id, c.run_id, dict(c.sent)) for c in checks] == [
        ("s1", "run-a", {"$pageview": 5, "rating_submitted": 1}),
        ("s3", "run-b", {"search_performed": 1}),
    ]


def test_posthog_path_queries_hogql_with_the_key_and_polls_until_counts_arrive() -> None:
    fake = FakePostHog(
        [["s1", "$pageview", 2]],  # ingestion lags: the first read is short
        [["s1", "$pageview", 3], ["s1", "rating_submitted", 1], ["other", "$pageview", 9]],
    )
    checks = [SessionCheck("s1", "p1", "run-a", T0, sent={"$pageview": 3, "rating_submitted": 1})]  # type: ignore[arg-type]
    naps: list[float] = []
    reads = poll(fake.client(), checks, wait_s=60, interval_s=5, sleep=naps.append, clock=lambda: 0.0)
    assert reads == 2 and naps == [5]
    assert not checks[0].missing()
    assert event_rows(checks) == [
        {"event": "$pageview", "sent": 3, "ingested": 3, "diff": 0},
        {"event": "rating_submitted", "sent": 1, "ingested": 1, "diff": 0},
    ]
    request = fake.requests[0]
    assert request.method == "POST" and request.url.path == "/api/projects/42/query/"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert body["query"]["kind"] == "HogQLQuery"
    hogql = body["query"]["query"]
    assert "properties.hogfleet_session_id" in hogql and "properties.hogfleet_run_id = {run_id}" in hogql
    assert body["query"]["values"]["run_id"] == "run-a"
    # `since` sits before the session's start, in UTC, so no event of it is cut off.
    assert body["query"]["values"]["since"] < "2026-11-21 20:01:00"


def test_posthog_path_reports_what_is_still_missing_after_the_wait() -> None:
    fake = FakePostHog([["s1", "$pageview", 1]])
    checks = [SessionCheck("s1", "p1", "run-a", T0, sent={"$pageview": 3, "rating_submitted": 1})]  # type: ignore[arg-type]
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    reads = poll(fake.client(), checks, wait_s=60, interval_s=25, sleep=sleep, clock=lambda: now[0])
    # Reads at 0, 25, 50 and a last one at the deadline: the wait is bounded, not a read count.
    assert reads == 4 and now[0] == 60
    assert len(fake.requests) == 4
    assert checks[0].missing() == {"$pageview": 2, "rating_submitted": 1}


def _ledger(state: Path, *records: LedgerRecord) -> None:
    ledger = Ledger(ledger_path(state, DAY))
    for r in records:
        ledger.append(r)


def test_cli_posthog_target_exits_1_naming_the_session_and_never_prints_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ledger(tmp_path, record("s1", {"$pageview": 2}), record("s2", {"$pageview": 1, "rating_submitted": 1}))
    fake = FakePostHog([["s1", "$pageview", 2], ["s2", "$pageview", 1]])
    monkeypatch.setattr(reconcile, "posthog_reader", lambda environ=None: fake.client())
    code = main(
        [
            "verify",
            "--date",
            DAY.isoformat(),
            "--target",
            "posthog",
            "--wait",
            "0",
            "--state-dir",
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "s2 (p_s2, run run-a): rating_submitted×1" in out
    assert "rating_submitted" in out and KEY not in out + err
    code = main(
        [
            "verify",
            "--date",
            DAY.isoformat(),
            "--target",
            "posthog",
            "--wait",
            "0",
            "--json",
            "--state-dir",
            str(tmp_path),
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["complete"] is False
    assert result["missing_sessions"] == [
        {"session_id": "s2", "persona": "p_s2", "run_id": "run-a", "missing": {"rating_submitted": 1}}
    ]


def test_cli_posthog_target_without_credentials_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ledger(tmp_path, record("s1", {"$pageview": 2}))
    monkeypatch.delenv("POSTHOG_PERSONAL_API_KEY", raising=False)
    monkeypatch.setenv("POSTHOG_PROJECT_ID", "42")
    code = main(["verify", "--date", DAY.isoformat(), "--target", "posthog", "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == "error: --target posthog needs POSTHOG_PERSONAL_API_KEY in the environment"


def test_cli_without_a_ledger_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--date", DAY.isoformat(), "--state-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: no finished sessions in the ledger for {DAY}")


def test_help_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--date",
        "--target",
        "--wait",
        "--json",
        "--state-dir",
        "POSTHOG_PERSONAL_API_KEY",
        "Example:",
    ):
        assert flag in out


# --- the demo path, end to end ------------------------------------------------------------------

HOGFLEET = str(Path(sys.executable).parent / "hogfleet")


def hogfleet(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp / "hogfleet.toml"
    config.write_text(
        "[signups]\npool = 20\nmin_per_day = 1\nmax_per_day = 1\nhistory_days = 20\n\n"
        "[fleet]\ndwell_scale = 0.0\nconcurrency = 2\n"
    )
    cmd = [HOGFLEET, *args, "--state-dir", str(tmp / "state")]
    if args[0] == "run":
        cmd += ["--config", str(config)]
    env = {**os.environ, "HOGFLEET_STORAGE_DIR": str(tmp / "ss"), "HOGFLEET_SEED": "7"}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp)


@pytest.mark.e2e
@pytest.mark.slow
def test_demo_path_end_to_end(tmp_path: Path) -> None:
    ran = hogfleet(tmp_path, "run", "--date", DAY.isoformat(), "--max-sessions", "2")
    assert ran.returncode == 0, ran.stderr[-2000:]
    records = [
        r for r in read_records(ledger_path(tmp_path / "state", DAY)) if r.outcome in ("ok", "abandoned")
    ]
    assert len(records) == 2

    ok = hogfleet(tmp_path, "verify", "--date", DAY.isoformat(), "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    result = json.loads(ok.stdout)
    assert result["complete"] is True and result["sessions"] == 2
    sent: dict[str, int] = {}
    for r in records:
        for name, n in r.events.items():
            sent[name] = sent.get(name, 0) + n
    assert {row["event"]: (row["sent"], row["ingested"]) for row in result["events"]} == {
        name: (n, n) for name, n in sent.items()
    }
    table = hogfleet(tmp_path, "verify", "--date", DAY.isoformat())
    assert table.returncode == 0 and f"all {sum(sent.values())} events of 2 sessions arrived" in table.stdout

    victim = records[0].session_id
    with sqlite3.connect(tmp_path / "state" / "demo" / "hogflix.events.sqlite3") as db:
        gone = db.execute(
            "delete from events where event = '$pageview' and properties ->> '$.hogfleet_session_id' = ?",
            (victim,),
        ).rowcount
    assert gone > 0
    bad = hogfleet(tmp_path, "verify", "--date", DAY.isoformat(), "--wait", "0")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"{victim} ({records[0].persona}, run {records[0].run_id}): $pageview×{gone}" in bad.stdout
    assert records[1].session_id not in bad.stdout.split("missing events:")[1]
