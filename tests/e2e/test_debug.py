"""`hogfleet debug` headed under Xvfb: it shows the session and changes nothing it does not own."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_fleet import DAY1, HOGFLEET, _env, hogfleet

pytestmark = pytest.mark.e2e


@pytest.fixture
def xvfb() -> Iterator[str]:
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (make test installs it with apt when run as root)")
    display = f":{90 + os.getpid() % 100}"
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    deadline = time.monotonic() + 10
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert socket.exists(), "Xvfb did not start"
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def test_debug_runs_headed_and_leaves_the_state_dir_unchanged(tmp_path: Path, xvfb: str) -> None:
    # A first real run gives the persona an account, a storage state and a demo database to protect.
    first = hogfleet(tmp_path, "run", "--date", DAY1.isoformat(), "--max-sessions", "1", "--json")
    assert first.returncode == 0, first.stderr[-2000:]
    plan = json.loads((tmp_path / "state" / "plans" / f"{DAY1.isoformat()}.json").read_text())
    persona = plan["sessions"][0]["identity"]["distinct_id"]
    before = tree(tmp_path / "state"), tree(tmp_path / "ss")

    cmd = [
        HOGFLEET,
        "debug",
        persona,
        "--date",
        DAY1.isoformat(),
        "--slowmo",
        "0",
        "--state-dir",
        str(tmp_path / "state"),
        "--config",
        str(tmp_path / "hogfleet.toml"),
    ]
    done = subprocess.run(
        cmd,
        env={**_env(tmp_path), "DISPLAY": xvfb},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ok" in done.stderr and "home" in done.stderr
    assert "↳ event" in done.stderr and "$pageview" in done.stderr  # events shown step by step
    assert "no state, storage state or ledger was changed" in done.stderr
    assert (tree(tmp_path / "state"), tree(tmp_path / "ss")) == before
