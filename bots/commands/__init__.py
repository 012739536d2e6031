"""Subcommand modules. Each exposes ``register(app)``; the order here is the order in --help."""

from __future__ import annotations

from types import ModuleType


def _load() -> list[ModuleType]:
    import importlib

    names = ["simulate", "fleet", "debug", "ops", "demo", "smoke", "verify", "scale"]
    mods: list[ModuleType] = []
    for name in names:
        try:
            mods.append(importlib.import_module(f"bots.commands.{name}"))
        except ModuleNotFoundError as exc:
            # A command module that does not exist yet is skipped; a broken import inside one is not.
            if exc.name != f"bots.commands.{name}":
                raise
    return mods


ALL = _load()
