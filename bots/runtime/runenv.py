"""The run's environment, frozen, and the one constructor ``run``, ``debug`` and ``smoke`` share.

A command never builds a :class:`RunEnv` field by field: it hands :func:`build_run_env` the
settings (``hogfleet.toml``'s ``[fleet]`` table) plus its explicit overrides (CLI flags, or the few
choices a command makes for itself, declared as data beside it), and where the run points. So the
runtime a ``debug`` session replays is the one ``run`` uses, except for what ``debug`` declares.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from analytics.events import CapturedEvent
from bots.config.settings import AssetKind, FleetSettings, RestoreMode, TraceMode, with_overrides
from bots.records.storage import StorageStates
from bots.runtime.steps import StepListener
from bots.runtime.throttle import Throttle
from flows.driver import RetryPolicy
from flows.profile import SiteProfile


@dataclass(frozen=True)
class Runtime:
    """How sessions are driven, derived from the settings alone: what every command must agree on."""

    dwell_scale: float
    trace: TraceMode
    step_timeout_s: float
    session_timeout_s: float
    retry: RetryPolicy
    session_retries: int
    restore: RestoreMode  # how a storage state goes into a context (bots/runtime/restore.py)
    block_assets: tuple[AssetKind, ...]  # resource types aborted by a route (routes disable the cache)
    flixbuddy_interval_s: float  # already scaled by dwell_scale (a human pace at 1.0)
    flixbuddy_max_per_run: int

    def as_json(self) -> str:
        """One line naming every setting, e.g. for a report of which runtime a smoke run used."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_settings(cls, settings: FleetSettings) -> Runtime:
        return cls(
            dwell_scale=settings.dwell_scale,
            trace=settings.trace,
            step_timeout_s=settings.step_timeout_s,
            session_timeout_s=settings.session_timeout_s,
            retry=RetryPolicy(settings.http_retries, settings.backoff_base_s, settings.backoff_cap_s),
            session_retries=settings.session_retries,
            restore=settings.restore,
            block_assets=settings.block_assets,
            flixbuddy_interval_s=settings.flixbuddy_interval_s * settings.dwell_scale,
            flixbuddy_max_per_run=settings.flixbuddy_max_per_run,
        )


@dataclass(frozen=True)
class RunEnv:
    """Everything a session of this run needs that is the same for every session."""

    base_url: str
    profile: SiteProfile
    storage: StorageStates
    artifacts_dir: Path  # <state>/artifacts/<date>
    run_id: str
    date: dt.date
    runtime: Runtime
    throttle: Throttle  # fleet-wide, shared by the run's sessions
    flow: str | None = None  # run this flow for every session instead of its entry point
    shard: str | None = None
    save_state: bool = True
    pause_on_failure: bool = False
    listener: StepListener | None = None
    on_event: Callable[[CapturedEvent], None] | None = None


def build_run_env(
    settings: FleetSettings,
    *,
    overrides: Mapping[str, object] | None = None,
    base_url: str,
    profile: SiteProfile,
    storage: StorageStates,
    artifacts_dir: Path,
    run_id: str,
    date: dt.date,
    flow: str | None = None,
    shard: str | None = None,
    save_state: bool = True,
    pause_on_failure: bool = False,
    listener: StepListener | None = None,
    on_event: Callable[[CapturedEvent], None] | None = None,
) -> RunEnv:
    """The run's environment: ``settings`` with ``overrides`` (validated like the file), and its place."""
    runtime = Runtime.from_settings(with_overrides(settings, overrides or {}))
    return RunEnv(
        base_url=base_url,
        profile=profile,
        storage=storage,
        artifacts_dir=artifacts_dir,
        run_id=run_id,
        date=date,
        runtime=runtime,
        throttle=Throttle(
            {"flixbuddy": runtime.flixbuddy_interval_s}, {"flixbuddy": runtime.flixbuddy_max_per_run}
        ),
        flow=flow,
        shard=shard,
        save_state=save_state,
        pause_on_failure=pause_on_failure,
        listener=listener,
        on_event=on_event,
    )
