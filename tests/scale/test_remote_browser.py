"""Sessions through `playwright run-server` (``--browser-endpoint``), and the version check.

The server is the real one (``python -m playwright run-server``) on 127.0.0.1. It needs a browser it
can launch: Debian's Chromium here, which a server only accepts from the client with ``--unsafe``,
passed in the endpoint's ``launch-options`` query (docs/scaling.md). A server that reports another
Playwright minor (``PW_VERSION_OVERRIDE``, which run-server honours) must fail the run at once with
one line naming both versions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.records.ledger import read_records
from bots.runtime.browser import resolve
from bots.runtime.target import free_port
from bots.scaleout.remote import describe_connect_error, endpoint_with_launch_options
from tests.scale.conftest import HOGFLEET, Server, wait_http

pytestmark = pytest.mark.e2e

DAY = dt.date(2026, 11, 21)


def run_server(tmp: Path, name: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    server = Server(
        [
            sys.executable,
            "-m",
            "playwright",
            "run-server",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--unsafe",
        ],
        tmp / f"{name}.log",
        env={**os.environ, **(extra_env or {})},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.stop()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[str]]:
    first, second = run_server(tmp_path, "rs1"), run_server(tmp_path, "rs2")
    endpoints = [next(first), next(second)]
    choice = resolve()
    options = {"args": list(choice.args)}
    if choice.kind == "system":
        options["executablePath"] = choice.executable  # type: ignore[assignment]
    yield [endpoint_with_launch_options(e, options) for e in endpoints]
    for gen in (first, second):
        gen.close()


def hogfleet(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp / "hogfleet.toml"
    config.write_text(
        "[signups]\npool = 8\nmin_per_day = 1\nmax_per_day = 1\nhistory_days = 8\n\n"
        "[fleet]\ndwell_scale = 0.0\nconcurrency = 2\n"
    )
    return subprocess.run(
        [HOGFLEET, *args, "--state-dir", str(tmp / "state"), "--config", str(config)],
        env={**os.environ, "HOGFLEET_STORAGE_DIR": str(tmp / "ss"), "HOGFLEET_SEED": "7"},
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_sessions_run_through_remote_browsers_round_robin(tmp_path: Path, servers: list[str]) -> None:
    args = ["run", "--date", DAY.isoformat(), "--max-sessions", "2", "--json"]
    for endpoint in servers:
        args += ["--browser-endpoint", endpoint]
    done = hogfleet(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    records = list(read_records(tmp_path / "state" / "runs" / DAY.isoformat() / "ledger.jsonl"))
    assert len(records) == 2 and all(r.outcome in ("ok", "abandoned") for r in records), summary
    assert all(r.verdict is not None and r.verdict.ok for r in records)
    assert summary["outcomes"]["ok"] + summary["outcomes"]["abandoned"] == 2
    assert summary["browser_launches"] == len(servers)  # one connection per endpoint


def test_a_server_of_another_playwright_minor_fails_fast_in_one_line(tmp_path: Path) -> None:
    gen = run_server(tmp_path, "old", {"PW_VERSION_OVERRIDE": "1.40.0"})
    endpoint = next(gen)
    try:
        done = hogfleet(tmp_path, "run", "--date", DAY.isoformat(), "--browser-endpoint", endpoint)
    finally:
        gen.close()
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "runs Playwright 1.40" in lines[0] and "this hogfleet has Playwright 1.65" in lines[0]
    assert not (tmp_path / "state" / "runs" / DAY.isoformat() / "ledger.jsonl").exists()


def test_connect_errors_are_described_in_one_line() -> None:
    refused = describe_connect_error(
        "ws://10.0.0.9:3000/?launch-options=%7B%7D", "connect ECONNREFUSED x\nlog"
    )
    assert refused == (
        "remote browser ws://10.0.0.9:3000/ refuses connections (is `playwright run-server` listening there?)"
    )
    other = describe_connect_error("ws://h:1/", "\n  something odd happened\n  - call log")
    assert other == "remote browser ws://h:1/: something odd happened"
