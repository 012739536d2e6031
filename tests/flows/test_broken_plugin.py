"""A broken flow plugin beside a good one: named once, at the start of a run, and the good one runs.

Both fixture plugins (tests/fixtures/) are installed for real into a scratch dir that only the
subprocesses see, as in tests/flows/test_plugin.py.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bots.records.ledger import day_records
from tests.flows.test_plugin import HOGFLEET, PIP_INSTALL, PLUGIN_FLOW, PLUGIN_SRC, build_wheel

BROKEN_SRC = PLUGIN_SRC.parent / "hogfleet_plugin_broken"
BROKEN_FLOW = "broken_flow"
DAY = "2026-03-02"


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a machine where both plugins are installed."""
    target = tmp_path_factory.mktemp("plugins-site")
    for src in (BROKEN_SRC, PLUGIN_SRC):
        if importlib.util.find_spec("wheel") is not None:
            source = str(src)
        else:
            source = str(build_wheel(src, tmp_path_factory.mktemp("wheel")))
        done = subprocess.run(
            [*PIP_INSTALL, "--target", str(target), source], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
    path = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def test_every_plugin_is_resolved_and_the_broken_one_reported(plugins: dict[str, str]) -> None:
    code = (
        "from flows import registry\n"
        "broken = registry.load_plugins()\n"
        "print([b.name for b in broken]); print(str(broken[0])); print(','.join(registry.names()))\n"
        "assert registry.load_plugins() == broken  # resolved once: asking again changes nothing\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=plugins, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    names, line, flows = done.stdout.strip().splitlines()
    assert names == f"[{BROKEN_FLOW!r}]"
    assert line.startswith(
        f"flow plugin {BROKEN_FLOW!r} (hogfleet_plugin_broken:broken_flow) failed to load: "
    )
    assert "ModuleNotFoundError" in line and "hogflix_sdk_that_is_not_installed" in line
    assert PLUGIN_FLOW in flows.split(",") and BROKEN_FLOW not in flows.split(",")


def _run(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            HOGFLEET,
            "run",
            "--date",
            DAY,
            "--flow",
            PLUGIN_FLOW,
            "--max-sessions",
            "1",
            "--dwell-scale",
            "0",
            "--state-dir",
            str(tmp_path / "state"),
            "--storage-dir",
            str(tmp_path / "ss"),
            *extra,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.e2e
def test_a_run_names_the_broken_plugin_once_and_runs_the_good_one(
    plugins: dict[str, str], tmp_path: Path
) -> None:
    done = _run(tmp_path, plugins)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count(f"flow plugin {BROKEN_FLOW!r}") == 1, done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith(f"warning: flow plugin {BROKEN_FLOW!r}") and first.endswith("its flow is skipped")
    records = day_records(tmp_path / "state", dt.date.fromisoformat(DAY))
    assert [r.outcome for r in records] == ["ok"]
    assert "support_ticket" in records[0].steps


def test_broken_plugins_stop_stops_before_any_browser(plugins: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "hogfleet.toml").write_text('[fleet]\nbroken_plugins = "stop"\n')
    done = _run(tmp_path, plugins)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(f"warning: flow plugin {BROKEN_FLOW!r}")
    assert (
        lines[-1]
        == f"error: flow plugin(s) {BROKEN_FLOW!r} failed to load and [fleet] broken_plugins is 'stop'"
    )
    assert not (tmp_path / "state" / "runs").exists()
