"""The kill switch: a file in the state dir, or HOGFLEET_PAUSED=1."""

from __future__ import annotations

import os
from pathlib import Path

from personas.store import atomic_write_bytes

PAUSE_FILE = "PAUSED"


def is_paused(state_dir: Path) -> bool:
    if os.environ.get("HOGFLEET_PAUSED", "").strip() not in ("", "0", "false", "no"):
        return True
    return (state_dir / PAUSE_FILE).exists()


def pause(state_dir: Path, reason: str = "") -> None:
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write_bytes(state_dir / PAUSE_FILE, (reason or "paused").encode() + b"\n")


def resume(state_dir: Path) -> bool:
    try:
        (state_dir / PAUSE_FILE).unlink()
    except FileNotFoundError:
        return False
    return True
