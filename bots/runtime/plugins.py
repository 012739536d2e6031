"""Resolve the flow plugins once, before a run starts, and apply ``[fleet] broken_plugins``.

A broken plugin is named on one line (``warning: flow plugin 'x' (mod:attr) failed to load: ...``)
once, at start, whatever it is: the other plugins and the built-ins still run. With
``broken_plugins = "stop"`` the run ends there instead, before any browser starts.
"""

from __future__ import annotations

from collections.abc import Callable

from bots.config.settings import BrokenPlugins
from flows import registry
from personas.errors import HogfleetError


def check_plugins(policy: BrokenPlugins, warn: Callable[[str], None]) -> None:
    broken = registry.load_plugins()
    for plugin in broken:
        warn(f"warning: {plugin}" + ("" if policy == "stop" else "; its flow is skipped"))
    if broken and policy == "stop":
        names = ", ".join(repr(p.name) for p in broken)
        raise HogfleetError(f"flow plugin(s) {names} failed to load and [fleet] broken_plugins is 'stop'")
