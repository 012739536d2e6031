"""Shared helpers for the reliability tests: the real ``hogfleet`` in subprocesses, small pools.

Every run here is the real console script against the real demo in real Chromium; faults are the
demo's own fault injection, crashes are real signals. Pools are tiny and dwell is 0 so the whole
directory stays within a few minutes on two cores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bots.records.ledger import LedgerRecord, read_records

HOGFLEET = str(Path(sys.executable).parent / "hogfleet")
DAY1 = dt.date(2026, 11, 21)
DAY2 = dt.date(2026, 11, 22)
# Known secrets, so the security tests can grep every output for them.
PERSONA_SECRET = "reliability-persona-secret-7c1e9a"
DEMO_SECRET = "reliability-demo-signing-secret-3f0b8d2a9c4e6f1a"
API_KEY = "phx_reliability_personal_api_key_91d2"


_SCRUBBED = frozenset({"HOGFLEET_STATE_DIR", "HOGFLEET_PAUSED", "HOGFLEET_STORAGE_DIR", "HOGFLEET_SEED"})


@dataclass
class Fleet:
    """One sandbox: a state dir, a storage-state dir and a config, under ``root``."""

    root: Path
    pool: int = 6
    fleet_extra: str = ""

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def storage(self) -> Path:
        return self.root / "ss"

    @property
    def config(self) -> Path:
        path = self.root / "hogfleet.toml"
        if not path.exists():
            path.write_text(
                f"[signups]\npool = {self.pool}\nmin_per_day = 1\nmax_per_day = 1\n"
                f"history_days = {self.pool}\n\n"
                f"[fleet]\ndwell_scale = 0.0\nconcurrency = 2\n{self.fleet_extra}"
            )
        return path

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if k not in _SCRUBBED and not k.startswith("HOGFLEET_DEMO")
        }
        env.update(
            HOGFLEET_STORAGE_DIR=str(self.storage),
            HOGFLEET_SEED="7",
            HOGFLEET_PERSONA_SECRET=PERSONA_SECRET,
            HOGFLEET_DEMO_SECRET=DEMO_SECRET,
            POSTHOG_PERSONAL_API_KEY=API_KEY,
        )
        env.update(extra)
        return env

    def argv(self, *args: str, state: bool = True, config: bool = True) -> list[str]:
        cmd = [HOGFLEET, *args]
        if state:
            cmd += ["--state-dir", str(self.state)]
        if config:
            cmd += ["--config", str(self.config)]
        return cmd

    def run(
        self, *args: str, timeout: float = 600, state: bool = True, config: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args, state=state, config=config),
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
        )

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env(**env),
            cwd=self.root,
            start_new_session=True,  # its own process group: the test can signal the whole tree
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ledger_file(self, day: dt.date) -> Path:
        return self.state / "runs" / day.isoformat() / "ledger.jsonl"

    def ledger(self, day: dt.date) -> list[LedgerRecord]:
        return list(read_records(self.ledger_file(day)))

    def stored_events(self) -> list[dict[str, Any]]:
        path = self.state / "demo" / "hogflix.events.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(path) as db:
            rows = db.execute("select uuid, event, distinct_id, properties from events").fetchall()
        return [{"uuid": u, "event": e, "distinct_id": d, "properties": json.loads(p)} for u, e, d, p in rows]

    def clone(self, root: Path) -> Fleet:
        for name in ("state", "ss", "hogfleet.toml"):
            src = self.root / name
            if src.is_dir():
                shutil.copytree(src, root / name, symlinks=True)
            elif src.exists():
                shutil.copy2(src, root / name)
        return Fleet(root, self.pool, self.fleet_extra)


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under ``root`` (names, modes and bytes), for "unchanged state dir" checks."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(root))] = f"{oct(path.stat().st_mode & 0o777)}:{digest}"
    return out


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc (no psutil)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def processes_marked(marker: str) -> set[int]:
    """Live processes whose command line or environment mentions ``marker``."""
    out: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if (marker.encode() in environ or marker in cmdline(pid)) and alive(pid):
            out.add(pid)
    return out


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """A small pool after one clean day: every persona signed up, with a saved storage state."""
    fleet = Fleet(tmp_path_factory.mktemp("seeded"), pool=6)
    done = fleet.run("run", "--date", DAY1.isoformat(), "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(fleet.storage.glob("*.json")), "day 1 left no storage states"
    yield fleet
