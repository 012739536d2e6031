"""Two at once: the second run refuses naming the first's pid; a SIGKILLed holder's lock is free again."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.reliability.conftest import DAY1, Fleet

pytestmark = [pytest.mark.e2e]


def test_second_run_refuses_then_takes_over_after_sigkill(tmp_path_factory: pytest.TempPathFactory) -> None:
    fleet = Fleet(tmp_path_factory.mktemp("lock"), pool=6)
    first = fleet.popen("run", "--date", DAY1.isoformat())
    lock = fleet.state / ".lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        if lock.exists() and lock.read_text().strip() == str(first.pid):
            break
        time.sleep(0.1)
    assert lock.read_text().strip() == str(first.pid), "the first run never took the lock"
    try:
        for command in (["run", "--date", DAY1.isoformat()], ["plan", "--date", DAY1.isoformat()]):
            second = fleet.run(*command, timeout=60)
            assert second.returncode == 2
            assert second.stderr.strip() == (
                f"error: state dir {fleet.state} is locked by another hogfleet process (pid {first.pid})"
            )
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    # The kernel dropped the flock with its holder: no clean-up, no --force; the stale pid is replaced.
    assert lock.read_text().strip() == str(first.pid)
    again = fleet.run("plan", "--date", DAY1.isoformat(), timeout=120)
    assert again.returncode == 0, again.stderr
    assert lock.read_text().strip() == "", "the lock file still names a holder after a clean exit"
