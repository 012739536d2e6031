"""``run``, ``debug`` and ``smoke`` drive sessions with one runtime, built from one ``hogfleet.toml``.

Each command really runs (real Chromium, the embedded demo on 127.0.0.1) under a non-default
``[fleet]`` table. The runtime ``run`` and ``debug`` handed their sessions is caught on the declared
``run_started`` hook (bots/runtime/hooks.py); ``smoke`` runs its suite in pytest's own process, whose
JUnit report names the runtime its cases used. ``debug`` and ``smoke`` may differ from ``run`` only in
the overrides they declare beside them (DEBUG_OVERRIDES, SMOKE_OVERRIDES) and the flags they were
given; every other setting (timeouts, HTTP retries and backoff, restore, asset blocking, the
FlixBuddy throttle) must be the file's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bots.cli import main
from bots.cli.commands.debug import DEBUG_OVERRIDES
from bots.config.settings import FleetSettings, load_settings, with_overrides
from bots.runtime import hooks
from bots.runtime.runenv import RunEnv, Runtime
from bots.smoke_suite.cases import SMOKE_OVERRIDES
from personas.store import StateStore

pytestmark = pytest.mark.e2e

DAY = dt.date(2026, 3, 2)
HOGFLEET = str(Path(sys.executable).parent / "hogfleet")
TOML = """
[fleet]
dwell_scale = 0.0
trace = "on"
step_timeout_s = 45.0
session_timeout_s = 600.0
http_retries = 4
session_retries = 1
backoff_base_s = 0.25
backoff_cap_s = 4.0
flixbuddy_interval_s = 2.0
flixbuddy_max_per_run = 7
restore = "playwright"
block_assets = ["font"]
"""


@pytest.fixture
def seen() -> Iterator[list[RunEnv]]:
    envs: list[RunEnv] = []
    remove = hooks.run_started.add(envs.append)
    try:
        yield envs
    finally:
        remove()


def cli(argv: list[str]) -> int:
    """``main`` in a thread of its own: the suite's sync Playwright fixtures may hold this thread's
    event loop, and a command runs its own (asyncio.run)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(main, argv).result()


def expected(settings: FleetSettings, overrides: Mapping[str, object]) -> Runtime:
    return Runtime.from_settings(with_overrides(settings, overrides))


def test_run_debug_and_smoke_share_one_runtime(tmp_path: Path, seen: list[RunEnv]) -> None:
    config = tmp_path / "hogfleet.toml"
    config.write_text(TOML)
    settings = load_settings(config)
    assert settings != FleetSettings()
    state, storage = tmp_path / "state", tmp_path / "ss"
    common = ["--config", str(config), "--state-dir", str(state), "--storage-dir", str(storage)]

    assert cli(["run", "--date", DAY.isoformat(), "--max-sessions", "1", "--fail-over", "0", *common]) == 0
    (run_env,) = seen
    assert run_env.runtime == expected(settings, {})

    plan = StateStore(state).load_plan(DAY)
    assert plan is not None
    who = plan.sessions[-1].identity.distinct_id
    assert cli(["debug", who, "--date", DAY.isoformat(), "--headless", "--slowmo", "0", *common]) == 0
    debug_env = seen[-1]
    assert debug_env.runtime == expected(settings, {**DEBUG_OVERRIDES, "dwell_scale": 0.0})

    junit = tmp_path / "smoke.xml"
    done = subprocess.run(
        [HOGFLEET, "smoke", "--flow", "homepage", "--junit", str(junit), "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # The suite runs in pytest's own process: its runtime comes back in the JUnit report.
    props = {
        p.attrib["value"]
        for p in ET.parse(junit).getroot().iter("property")
        if p.attrib["name"] == "hogfleet_runtime"
    }
    assert props == {expected(settings, {**SMOKE_OVERRIDES, "trace": "on"}).as_json()}
    smoke_runtime = json.loads(props.pop())

    # What the three share is everything no command declared an override for.
    declared = {*DEBUG_OVERRIDES, *SMOKE_OVERRIDES, "dwell_scale", "trace", "flixbuddy_interval_s"}
    shared = [f.name for f in dataclasses.fields(Runtime) if f.name not in declared]
    assert {"step_timeout_s", "session_timeout_s", "retry", "restore", "block_assets"} <= set(shared)
    run_json = json.loads(run_env.runtime.as_json())
    for name in shared:
        assert getattr(debug_env.runtime, name) == getattr(run_env.runtime, name), name
        assert smoke_runtime[name] == run_json[name], name
