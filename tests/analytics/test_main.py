"""`python -m analytics serve` runs the endpoint alone."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_stores_events_with_the_given_token(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "events.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "analytics", "serve", "--port", str(port), "--db", str(db), "--token", "t1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/flags/", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert (
            httpx.post(url + "/e/", json={"event": "e", "distinct_id": "d", "token": "t1"}).status_code == 200
        )
        assert (
            httpx.post(url + "/e/", json={"event": "e", "distinct_id": "d", "token": "t2"}).status_code == 401
        )
    finally:
        proc.terminate()
        out, _err = proc.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}" in out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT event, distinct_id, token FROM events").fetchall() == [("e", "d", "t1")]


def test_bad_capture_error_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "serve", "--capture-error", "1.5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "must be within 0..1" in proc.stderr
    assert "Traceback" not in proc.stderr
