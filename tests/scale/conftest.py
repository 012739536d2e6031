"""Fixtures for the scale tests: a real demo server and real Chromium launches."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.async_api import Browser, Playwright

from bots.runtime.browser import launch_args
from bots.runtime.target import free_port

HOGFLEET = str(Path(sys.executable).parent / "hogfleet")
T = TypeVar("T")


async def launch(pw: Playwright) -> Browser:
    return await pw.chromium.launch(**launch_args({}))


class Server:
    """A child process in its own process group, so stopping it also stops what it spawned."""

    def __init__(self, cmd: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env or os.environ.copy(),
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wait_http(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout_s}s")


@pytest.fixture
def port() -> int:
    return free_port()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in its own thread: pytest-playwright's sync fixtures (used by
    other modules of the same session) keep a loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
