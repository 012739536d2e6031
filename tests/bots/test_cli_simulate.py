"""The simulate / plan / status commands, in-process through bots.cli.main and via the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bots.cli import main

HOGFLEET = Path(sys.executable).parent / "hogfleet"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_line_error(capsys: pytest.CaptureFixture[str], needle: str) -> None:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    assert needle in err, err


@pytest.fixture
def state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A state dir that has been used once (so it has its .lock file, personas, a plan)."""
    root = tmp_path / "state"
    assert main(["plan", "--date", "2026-03-02", "--seed", "5", "--state-dir", str(root)]) == 0
    capsys.readouterr()
    return root


def _simulate_json(capsys: pytest.CaptureFixture[str], seed: str) -> str:
    assert main(["simulate", "--days", "3", "--start", "2026-01-01", "--seed", seed, "--json"]) == 0
    return capsys.readouterr().out


def test_simulate_json_is_one_object_per_day_and_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    out = _simulate_json(capsys, "11")
    lines = out.splitlines()
    assert len(lines) == 3
    keys = {
        "date",
        "total_personas",
        "active_today",
        "new_signups",
        "churned_cleaned",
        "flixbuddy_calls",
        "state_distribution",
        "pattern_distribution",
    }
    rows = [json.loads(line) for line in lines]
    assert all(set(r) == keys for r in rows)
    assert [r["date"] for r in rows] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert _simulate_json(capsys, "11") == out
    assert _simulate_json(capsys, "12") != out


def test_simulate_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--days", "2", "--start", "2026-01-01", "--pool", "120"]) == 0
    out = capsys.readouterr().out
    assert "2026-01-02" in out and "active" in out


def test_plan_writes_the_plan_and_rerun_changes_no_byte(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (state / "plans" / "2026-03-02.json").is_file()
    before = _snapshot(state)
    assert main(["plan", "--date", "2026-03-02", "--state-dir", str(state), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["date"] == "2026-03-02" and plan["seed"] == 5 and plan["sessions"]
    assert _snapshot(state) == before


def test_status(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    for word in ("DORMANT", "MONTHLY", "2026-03-02", "last 7 days"):
        assert word in out


# --- bad input: one-line error, exit 2, state dir byte-for-byte unchanged ---------------------------


def test_corrupt_personas_json(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (state / "personas.json").write_bytes(b'{"schema_version": 1, "personas": [')
    before = _snapshot(state)
    assert main(["plan", "--date", "2026-03-03", "--state-dir", str(state)]) == 2
    _one_line_error(capsys, "personas.json")
    assert _snapshot(state) == before


def test_wrong_schema_version(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = state / "personas.json"
    data = json.loads(path.read_bytes())
    data["schema_version"] = 999
    path.write_text(json.dumps(data))
    before = _snapshot(state)
    assert main(["plan", "--date", "2026-03-03", "--state-dir", str(state)]) == 2
    _one_line_error(capsys, "schema_version 999")
    assert _snapshot(state) == before


def test_negative_days(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(state)
    assert main(["simulate", "--days", "-1"]) == 2
    _one_line_error(capsys, "--days")
    assert _snapshot(state) == before


def test_impossible_date(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(state)
    assert main(["plan", "--date", "2026-13-01", "--state-dir", str(state)]) == 2
    _one_line_error(capsys, "2026-13-01")
    assert _snapshot(state) == before


def test_unknown_config_key(state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[interactions]\nrate_vidoe = 0.3\n")
    before = _snapshot(state)
    assert main(["plan", "--date", "2026-03-03", "--state-dir", str(state), "--config", str(cfg)]) == 2
    _one_line_error(capsys, "unknown key interactions.rate_vidoe")
    assert _snapshot(state) == before


def test_probability_out_of_range(state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[interactions]\nsupport_ticket = 1.5\n")
    before = _snapshot(state)
    assert main(["plan", "--date", "2026-03-03", "--state-dir", str(state), "--config", str(cfg)]) == 2
    _one_line_error(capsys, "interactions.support_ticket")
    assert _snapshot(state) == before


def test_locked_state_dir_names_the_holder(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from personas.store import StateStore

    with StateStore(state).lock():
        assert main(["plan", "--date", "2026-03-03", "--state-dir", str(state)]) == 2
    _one_line_error(capsys, f"pid {os.getpid()}")


# --- the console script -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["simulate", "--days", "0"], "--days"),
        (["simulate", "--days", "1", "--start", "2026-02-30"], "--start"),
    ],
)
def test_console_script_one_line_errors(args: list[str], needle: str, tmp_path: Path) -> None:
    proc = subprocess.run([str(HOGFLEET), *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1 and needle in proc.stderr


def test_console_script_simulate_json(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(HOGFLEET), "simulate", "--days", "2", "--start", "2026-01-01", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "HOGFLEET_SEED": "3"},
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["date"] for x in proc.stdout.splitlines()] == ["2026-01-01", "2026-01-02"]
