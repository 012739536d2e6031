"""The fleet's own settings: the ``[fleet]`` table of ``hogfleet.toml``, overridden by flags.

The behaviour numbers (who visits, what they do) live in personas' config; these are about how
the fleet drives browsers. The run settings ``max_sessions_per_run``, error and abandon rates are
here or there according to who uses them: the planner draws error and abandon paths, the fleet
caps the run. Every type the runtime shares (trace, restore, asset kinds) is defined here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from personas.tomlfile import config_path, read_config, validate

TraceMode = Literal["on", "off", "retain-on-failure", "on-first-retry"]
# "cheap": cookies + an origin-scoped localStorage init script (bots/runtime/restore.py);
# "playwright": new_context(storage_state=...), which opens a hidden page per origin.
RestoreMode = Literal["cheap", "playwright"]
AssetKind = Literal["media", "font", "image", "stylesheet"]
# What a run does when a flow plugin fails to load (flows/registry.py): name it and go on, or stop.
BrokenPlugins = Literal["skip", "stop"]


class FleetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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
    # (bots/runtime/concurrency.py), from 2 up to this cap.
    concurrency_cap: int = Field(default=16, ge=1, le=64)
    restore: RestoreMode = "cheap"
    # Resource types to abort, e.g. ["media", "font", "image"]. Off by default: any route turns
    # off Chromium's HTTP cache for the context.
    block_assets: tuple[AssetKind, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    allow_unmarked_traffic: bool = False
    fail_over: float | None = Field(default=None, ge=0.0, le=1.0)
    broken_plugins: BrokenPlugins = "skip"


def load_settings(path: Path | None) -> FleetSettings:
    """The ``[fleet]`` table of ``path`` (else ``./hogfleet.toml``), or the defaults without a file."""
    found = config_path(path)
    return validate(FleetSettings, read_config(path).get("fleet", {}), f"config {found}", "fleet.")


def with_overrides(settings: FleetSettings, overrides: Mapping[str, object]) -> FleetSettings:
    """``settings`` with the given fields replaced and validated again; ``None`` values are not given.

    This is how CLI flags and a command's own choices (``debug``, ``smoke``) reach a run: through
    the same validation as the file, so a flag can never carry a value the file could not.
    """
    chosen = {k: v for k, v in overrides.items() if v is not None}
    if not chosen:
        return settings
    source = "command line"
    return validate(FleetSettings, {**settings.model_dump(), **chosen}, source, "")
