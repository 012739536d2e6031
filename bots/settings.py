"""The fleet's own settings: the ``[fleet]`` table of ``hogfleet.toml``, overridden by flags.

The behaviour numbers (who visits, what they do) live in personas' config; these are about how
the fleet drives browsers. Seed 001's run settings (max_sessions_per_run, error_rate,
abandon_rate) are here or there according to who uses them: the planner draws error and abandon
paths, the fleet caps the run.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from personas.errors import HogfleetError

TraceMode = Literal["on", "off", "retain-on-failure", "on-first-retry"]


class FleetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: int | None = Field(default=None, ge=1, le=64)
    dwell_scale: float = Field(default=0.05, ge=0.0, le=10.0)
    # Measured (bench/fleet.py, docs/scaling.md): tracing every session costs ~1/3 of the fleet's
    # throughput; on-first-retry traces only the retry of a failed session, so passing sessions pay
    # nothing and every failed ledger line still points at a trace.
    trace: TraceMode = "on-first-retry"
    step_timeout_s: float = Field(default=60.0, gt=0)
    session_timeout_s: float = Field(default=900.0, gt=0)
    http_retries: int = Field(default=3, ge=0, le=10)
    session_retries: int = Field(default=2, ge=0, le=10)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_cap_s: float = Field(default=8.0, ge=0)
    flixbuddy_interval_s: float = Field(default=5.0, ge=0)
    flixbuddy_max_per_run: int = Field(default=50, ge=0)
    max_sessions_per_run: int | None = Field(default=None, ge=1)
    circuit_breaker: int = Field(default=5, ge=1)
    recycle_every: int | None = Field(default=200, ge=1)
    # Without --concurrency / [fleet] concurrency the fleet finds the CPU plateau itself
    # (bots/concurrency.py), from 2 up to this cap.
    concurrency_cap: int = Field(default=16, ge=1, le=64)
    # "cheap": cookies + an origin-scoped localStorage init script (bots/restore.py);
    # "playwright": new_context(storage_state=...), which opens a hidden page per origin.
    restore: Literal["cheap", "playwright"] = "cheap"
    # Resource types to abort, e.g. ["media", "font", "image"]. Off by default: any route turns
    # off Chromium's HTTP cache for the context.
    block_assets: list[Literal["media", "font", "image", "stylesheet"]] = Field(default_factory=list)
    allowed_hosts: list[str] = Field(default_factory=list)
    allow_unmarked_traffic: bool = False
    fail_over: float | None = Field(default=None, ge=0.0, le=1.0)


def load_settings(path: Path | None) -> FleetSettings:
    source = path if path is not None else Path("hogfleet.toml")
    if path is None and not source.exists():
        return FleetSettings()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HogfleetError(f"config {source}: file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise HogfleetError(f"config {source}: {exc}") from None
    try:
        return FleetSettings.model_validate(data.get("fleet", {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HogfleetError(f"config {source}: fleet.{where}: {first['msg']}") from None
