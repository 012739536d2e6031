"""failures, trace, cleanup, personas and persona on real state files: ledgers, artifacts, personas.json."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer

from bots.records.ledger import Ledger, LedgerRecord, ledger_path
from personas.models import Population
from personas.simulation import simulate
from personas.store import StateStore
from tests.conftest import CliResult

DAY = dt.date(2026, 2, 10)
T0 = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)


def record(persona: str, session_id: str, outcome: str, attempt: int = 1, **extra: Any) -> LedgerRecord:
    start = T0 + dt.timedelta(minutes=attempt)
    return LedgerRecord.model_validate(
        {
            "date": extra.pop("date", DAY),
            "run_id": "r1",
            "persona": persona,
            "session_id": session_id,
            "attempt": attempt,
            "started_at": start,
            "ended_at": start + dt.timedelta(seconds=42),
            "outcome": outcome,
            "events": {"$pageview": 3},
            **extra,
        }
    )


@pytest.fixture
def ledgered(tmp_path: Path) -> Path:
    """A day with an ok session, a session that failed then succeeded, and one that failed twice."""
    state = tmp_path / "state"
    ledger = Ledger(ledger_path(state, DAY))
    ledger.append(record("p_00001_1", "s-ok", "ok"))
    ledger.append(record("p_00002_2", "s-flaky", "failed", error_class="selector_timeout", error_step="home"))
    ledger.append(record("p_00002_2", "s-flaky", "ok", attempt=2))
    folder = state / "artifacts" / DAY.isoformat() / "p_00003_3" / "s-bad"
    folder.mkdir(parents=True)
    (folder / "trace.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty but valid zip
    (folder / "screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    for attempt in (1, 2):
        ledger.append(
            record(
                "p_00003_3",
                "s-bad",
                "failed",
                attempt=attempt,
                error_class="step_timeout",
                error_step="watch",
                error_message="expected video_started | saw none",
                # As a run started from another directory recorded it: only the conventional path is valid.
                artifacts={"trace": "elsewhere/trace.zip", "screenshot": "elsewhere/screenshot.png"},
            )
        )
    # A shard ledger of the same day is part of the day.
    Ledger(ledger_path(state, DAY, shard="2/2")).append(
        record("p_00004_4", "s-shard", "failed", error_class="http_5xx", error_step="search")
    )
    return state


def test_failures_lists_final_failures_with_show_trace(
    ledgered: Path, hogfleet: Callable[..., CliResult]
) -> None:
    code, out, err = hogfleet("failures", "--date", DAY.isoformat(), "--state-dir", str(ledgered), "--json")
    assert code == 0, err
    rows = orjson.loads(out)
    # In the order they ended: s-bad's second attempt ended last.
    assert [r["session_id"] for r in rows] == ["s-shard", "s-bad"]
    bad = rows[1]
    trace = (ledgered / "artifacts" / DAY.isoformat() / "p_00003_3" / "s-bad" / "trace.zip").resolve()
    assert bad["attempt"] == 2
    assert bad["error_class"] == "step_timeout"
    assert bad["error_step"] == "watch"
    assert bad["trace"] == str(trace)
    assert bad["show_trace"] == f"playwright show-trace {trace}"
    assert rows[0]["trace"] is None and rows[0]["show_trace"] is None

    code, out, _ = hogfleet("failures", "--date", DAY.isoformat(), "--state-dir", str(ledgered))
    assert code == 0
    assert f"s-bad: playwright show-trace {trace}" in out
    assert "step_timeout" in out and "s-flaky" not in out and "s-ok" not in out

    code, out, _ = hogfleet("failures", "--date", DAY.isoformat(), "--state-dir", str(ledgered), "--markdown")
    assert code == 0
    assert out.startswith(f"### Failed sessions on {DAY}: 2")
    assert "expected video_started \\| saw none" in out  # a pipe would break the table


def test_failures_on_a_day_without_runs(tmp_path: Path, hogfleet: Callable[..., CliResult]) -> None:
    code, out, _ = hogfleet("failures", "--date", "2026-01-01", "--state-dir", str(tmp_path))
    assert code == 0
    assert out.strip() == "no failed sessions on 2026-01-01"


def test_failures_rejects_a_bad_date(tmp_path: Path, hogfleet: Callable[..., CliResult]) -> None:
    code, _, err = hogfleet("failures", "--date", "10/02/2026", "--state-dir", str(tmp_path))
    assert code == 2
    assert err == "error: --date must be a date as YYYY-MM-DD (got '10/02/2026')\n"


def test_trace_finds_the_session_and_prints_the_viewer(
    ledgered: Path, hogfleet: Callable[..., CliResult]
) -> None:
    trace = (ledgered / "artifacts" / DAY.isoformat() / "p_00003_3" / "s-bad" / "trace.zip").resolve()
    code, out, err = hogfleet("trace", "s-bad", "--state-dir", str(ledgered), "--print")
    assert code == 0, err
    assert out.strip() == f"{sys.executable} -m playwright show-trace {trace}"
    # A folder of artifacts without a ledger line (a run killed before it wrote one) is still found.
    orphan = ledgered / "artifacts" / DAY.isoformat() / "p_00009_9" / "s-orphan"
    orphan.mkdir(parents=True)
    (orphan / "trace.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    code, out, _ = hogfleet(
        "trace", "s-orphan", "--date", DAY.isoformat(), "--state-dir", str(ledgered), "--print"
    )
    assert code == 0
    assert out.strip().endswith(str((orphan / "trace.zip").resolve()))


def test_trace_of_an_unknown_session_is_one_line(ledgered: Path, hogfleet: Callable[..., CliResult]) -> None:
    code, out, err = hogfleet("trace", "s-nope", "--state-dir", str(ledgered), "--print")
    assert code == 2
    assert out == ""
    assert err.startswith("error: no trace for session 's-nope' on any date") and err.count("\n") == 1
    # s-shard failed without a trace: there is nothing to open either.
    code, _, err = hogfleet("trace", "s-shard", "--state-dir", str(ledgered), "--print")
    assert code == 2 and "no trace for session 's-shard'" in err


def _tree_bytes(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def test_cleanup_removes_only_old_artifacts_and_ledgers(
    tmp_path: Path, hogfleet: Callable[..., CliResult]
) -> None:
    state = tmp_path / "state"
    today = dt.date(2026, 3, 31)
    old, edge, recent = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 3, 30)
    for day in (old, edge, recent):
        Ledger(ledger_path(state, day)).append(record("p_1", f"s-{day}", "failed", date=day))
        folder = state / "artifacts" / day.isoformat() / "p_1" / f"s-{day}"
        folder.mkdir(parents=True)
        (folder / "trace.zip").write_bytes(os.urandom(5000))
    keep = [state / "personas.json", state / "plans" / f"{old}.json", state / "runs" / "notes" / "x.txt"]
    for path in keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    files_old = _tree_bytes(state / "runs" / old.isoformat())
    arts_old = _tree_bytes(state / "artifacts" / old.isoformat())
    expected_files = files_old[0] + arts_old[0]
    expected_bytes = files_old[1] + arts_old[1]

    argv = [
        "cleanup",
        "--retain-days",
        "30",
        "--date",
        today.isoformat(),
        "--state-dir",
        str(state),
        "--json",
    ]
    code, out, err = hogfleet(*argv, "--dry-run")
    assert code == 0, err
    dry = orjson.loads(out)
    assert dry["dry_run"] is True and dry["files"] == expected_files and dry["bytes"] == expected_bytes
    assert (state / "runs" / old.isoformat()).exists()

    code, out, _ = hogfleet(*argv)
    assert code == 0
    done = orjson.loads(out)
    assert sorted(done["removed"]) == sorted(
        [str(state / "artifacts" / old.isoformat()), str(state / "runs" / old.isoformat())]
    )
    assert done["files"] == expected_files and done["bytes"] == expected_bytes
    assert not (state / "runs" / old.isoformat()).exists()
    assert not (state / "artifacts" / old.isoformat()).exists()
    # The 30th day back is kept: "older than N days" is strict.
    for day in (edge, recent):
        assert (state / "runs" / day.isoformat() / "ledger.jsonl").exists()
        assert (state / "artifacts" / day.isoformat()).exists()
    assert all(p.exists() for p in keep)

    code, out, _ = hogfleet(
        "cleanup", "--retain-days", "30", "--date", today.isoformat(), "--state-dir", str(state)
    )
    assert code == 0 and "freed 0 dirs, 0 files, 0 bytes" in out


@pytest.fixture(scope="module")
def population_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Population]:
    root = tmp_path_factory.mktemp("pop") / "state"
    pop = list(simulate(5, DAY - dt.timedelta(days=2), 3, pool=60))[-1][0]
    StateStore(root).save_population(pop)
    return root, pop


def test_personas_filters(
    population_dir: tuple[Path, Population], hogfleet: Callable[..., CliResult]
) -> None:
    root, pop = population_dir
    code, out, err = hogfleet("personas", "--state-dir", str(root), "--json", "--limit", "0")
    assert code == 0, err
    rows = orjson.loads(out)
    assert [r["distinct_id"] for r in rows] == [p.distinct_id for p in pop.personas]
    assert set(rows[0]) == {
        "distinct_id",
        "email",
        "plan",
        "state",
        "pattern",
        "device",
        "last_active",
        "sessions",
    }

    active = [p for p in pop.personas if p.state.value == "ACTIVE"]
    assert active, "the simulated pool should have active personas"
    code, out, _ = hogfleet(
        "personas", "--state-dir", str(root), "--json", "--state", "active", "--limit", "0"
    )
    assert {r["distinct_id"] for r in orjson.loads(out)} == {p.distinct_id for p in active}

    plan = pop.personas[0].plan.value
    pattern = pop.personas[0].activity_pattern.value
    code, out, _ = hogfleet(
        "personas",
        "--state-dir",
        str(root),
        "--json",
        "--plan",
        plan,
        "--pattern",
        pattern,
        "--limit",
        "0",
    )
    expected = {
        p.distinct_id for p in pop.personas if p.plan.value == plan and p.activity_pattern.value == pattern
    }
    assert {r["distinct_id"] for r in orjson.loads(out)} == expected

    target = pop.personas[-1]
    code, out, _ = hogfleet("personas", "--state-dir", str(root), "--json", "--search", target.email.upper())
    assert [r["distinct_id"] for r in orjson.loads(out)] == [target.distinct_id]

    code, out, _ = hogfleet("personas", "--state-dir", str(root), "--json", "--limit", "3")
    assert len(orjson.loads(out)) == 3

    code, out, _ = hogfleet("personas", "--state-dir", str(root), "--limit", "2")
    assert code == 0 and pop.personas[0].distinct_id in out and "more (use --limit 0" in out


def test_personas_errors_are_one_line(
    population_dir: tuple[Path, Population], tmp_path: Path, hogfleet: Callable[..., CliResult]
) -> None:
    root, _ = population_dir
    code, _, err = hogfleet("personas", "--state-dir", str(root), "--state", "sleepy")
    assert code == 2
    assert err == "error: --state 'sleepy' is not one of NEW, ACTIVE, CASUAL, DORMANT, CHURNED\n"
    code, _, err = hogfleet("personas", "--state-dir", str(tmp_path / "empty"))
    assert code == 2 and err.startswith("error: no population in") and err.count("\n") == 1


def test_persona_shows_record_and_last_sessions(
    population_dir: tuple[Path, Population], hogfleet: Callable[..., CliResult]
) -> None:
    root, pop = population_dir
    p = pop.personas[1]
    # Twelve sessions over three days, two ledgers on the last day: the newest ten, newest first.
    for n in range(12):
        day = DAY - dt.timedelta(days=n // 4)
        shard = "1/2" if n % 2 else None
        rec = record(p.distinct_id, f"s{n:02d}", "ok", date=day).model_copy(
            update={"ended_at": T0 + dt.timedelta(days=-(n // 4), minutes=-n)}
        )
        Ledger(ledger_path(root, day, shard)).append(rec)
    Ledger(ledger_path(root, DAY)).append(record(pop.personas[2].distinct_id, "other", "ok"))

    code, out, err = hogfleet("persona", p.email, "--state-dir", str(root), "--json")
    assert code == 0, err
    data = orjson.loads(out)
    assert data["persona"] == p.model_dump(mode="json")
    assert [s["session_id"] for s in data["sessions"]] == [f"s{n:02d}" for n in range(10)]

    code, out, _ = hogfleet("persona", p.distinct_id, "--state-dir", str(root))
    assert code == 0
    assert p.email in out and "s00" in out and "last 10 ledger records" in out

    code, out, err = hogfleet("persona", "nobody@example.com", "--state-dir", str(root))
    assert code == 2 and out == ""
    assert err.startswith("error: no persona 'nobody@example.com' in ") and err.count("\n") == 1


COMMANDS = ["report", "failures", "trace", "cleanup", "personas", "persona"]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_ops_command_has_full_help(name: str, cli_group: Any) -> None:
    assert isinstance(cli_group, typer.core.TyperGroup)
    command = cli_group.commands[name]
    assert command.help and len(command.help.split()) >= 5
    for param in command.params:
        if param.name == "help":
            continue
        assert getattr(param, "help", None), f"{name} {param.name} has no help"
