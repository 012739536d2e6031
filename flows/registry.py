"""Journeys by name. Built-ins register on import; other packages add theirs through the
``hogfleet.flows`` entry-point group, so a team can ship a flow for a new feature without
touching hogfleet.

Every entry point is resolved once, all of them, before a run starts (:func:`load_plugins`): a
broken plugin is reported by name, once, and the ones after it still load. A run then goes on
without it or stops, as its settings say (``[fleet] broken_plugins``, bots/config/settings.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from flows.journey import Journey
from personas.errors import HogfleetError

ENTRY_POINT_GROUP = "hogfleet.flows"

_FLOWS: dict[str, Journey] = {}
_broken: list[BrokenPlugin] = []
_resolved = False


@dataclass(frozen=True)
class BrokenPlugin:
    name: str
    ref: str  # the entry point's "module:attr"
    error: str

    def __str__(self) -> str:
        return f"flow plugin {self.name!r} ({self.ref}) failed to load: {self.error}"


def register(name: str) -> Callable[[Journey], Journey]:
    def decorator(fn: Journey) -> Journey:
        _FLOWS[name] = fn
        return fn

    return decorator


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def load_plugins() -> list[BrokenPlugin]:
    """Resolve the built-ins and every plugin entry point (once); the plugins that failed to load."""
    global _resolved
    if not _resolved:
        import flows.journeys  # noqa: F401  (built-ins register themselves)

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
            except Exception as exc:  # any failure inside a plugin's import is that plugin's
                _broken.append(BrokenPlugin(ep.name, ep.value, _first_line(exc)))
                continue
            if not callable(loaded):
                _broken.append(BrokenPlugin(ep.name, ep.value, "not a callable journey"))
            elif ep.name not in _FLOWS:
                _FLOWS[ep.name] = loaded
        # Set only once every entry point was tried: a failure above never hides the ones after it.
        _resolved = True
    return list(_broken)


def names() -> list[str]:
    load_plugins()
    return sorted(_FLOWS)


def get(name: str) -> Journey:
    load_plugins()
    try:
        return _FLOWS[name]
    except KeyError:
        broken = [b for b in _broken if b.name == name]
        if broken:
            raise HogfleetError(str(broken[0])) from None
        raise HogfleetError(f"unknown flow {name!r} (known: {', '.join(sorted(_FLOWS))})") from None
