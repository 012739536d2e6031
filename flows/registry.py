"""Journeys by name. Built-ins register on import; other packages add theirs through the
``hogfleet.flows`` entry-point group, so a team can ship a flow for a new feature without
touching hogfleet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from personas.errors import HogfleetError

if TYPE_CHECKING:
    from flows.session import Session

Journey = Callable[["Session"], Awaitable[None]]
ENTRY_POINT_GROUP = "hogfleet.flows"

_FLOWS: dict[str, Journey] = {}
_plugins_loaded = False


def register(name: str) -> Callable[[Journey], Journey]:
    def decorator(fn: Journey) -> Journey:
        _FLOWS[name] = fn
        return fn

    return decorator


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    import flows.journeys  # noqa: F401  (built-ins register themselves)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken plugin must not take the fleet down
            raise HogfleetError(f"flow plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
        if callable(loaded) and ep.name not in _FLOWS:
            _FLOWS[ep.name] = loaded


def names() -> list[str]:
    _load_plugins()
    return sorted(_FLOWS)


def get(name: str) -> Journey:
    _load_plugins()
    try:
        return _FLOWS[name]
    except KeyError:
        raise HogfleetError(f"unknown flow {name!r} (known: {', '.join(sorted(_FLOWS))})") from None
