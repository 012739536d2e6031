"""Per-persona Playwright storage states (cookies + localStorage) in ``storage_states/``.

They hold live session cookies: files are 0600 in a 0700 directory, written atomically, never
logged. A file that is not a valid storage state is moved aside as ``*.corrupt`` (kept for a
human to look at) and the persona starts fresh, logging in again through the UI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from personas.store import atomic_write_bytes

DEFAULT_DIR = Path("storage_states")
StorageState = dict[str, Any]


def default_dir() -> Path:
    return Path(os.environ.get("HOGFLEET_STORAGE_DIR", DEFAULT_DIR))


def _valid(state: object) -> bool:
    if not isinstance(state, dict):
        return False
    cookies, origins = state.get("cookies", []), state.get("origins", [])
    if not isinstance(cookies, list) or not isinstance(origins, list):
        return False
    for cookie in cookies:
        if not isinstance(cookie, dict) or not {"name", "value", "domain", "path"} <= cookie.keys():
            return False
    for origin in origins:
        if not isinstance(origin, dict) or not isinstance(origin.get("origin"), str):
            return False
        if not isinstance(origin.get("localStorage", []), list):
            return False
    return True


class StorageStates:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, distinct_id: str) -> Path:
        if "/" in distinct_id or distinct_id.startswith("."):
            raise ValueError(f"unsafe persona id {distinct_id!r}")
        return self.root / f"{distinct_id}.json"

    def load(self, distinct_id: str) -> StorageState | None:
        """The persona's state, or None (no file, or a corrupt one that was moved aside)."""
        path = self.path(distinct_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            state = orjson.loads(raw)
        except orjson.JSONDecodeError:
            state = None
        if not _valid(state):
            os.replace(path, path.with_suffix(".json.corrupt"))
            return None
        assert isinstance(state, dict)
        return state

    def save(self, distinct_id: str, state: StorageState) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write_bytes(self.path(distinct_id), orjson.dumps(state), mode=0o600)

    def delete(self, distinct_id: str) -> None:
        self.path(distinct_id).unlink(missing_ok=True)


def posthog_distinct_id(state: StorageState | None) -> str | None:
    """The analytics identity a storage state carries (posthog-js' ``ph_<token>_posthog`` blob)."""
    if not state:
        return None
    for origin in state.get("origins", []):
        for item in origin.get("localStorage", []):
            name = item.get("name", "")
            if name.startswith("ph_") and name.endswith("_posthog"):
                try:
                    value = orjson.loads(item.get("value", ""))
                except orjson.JSONDecodeError:
                    continue
                if isinstance(value, dict) and isinstance(value.get("distinct_id"), str):
                    return str(value["distinct_id"])
    return None


def safe_after_failure(old: StorageState | None, new: StorageState) -> bool:
    """Whether a state captured after a failed session may replace the old one.

    Cookies may have rotated, so we want to keep them; but a failure must never log a persona out
    or hand it a new analytics identity. Accept only if every cookie name survives and the
    PostHog distinct_id is unchanged.
    """
    if old is None:
        return True
    old_names = {c["name"] for c in old.get("cookies", [])}
    new_names = {c["name"] for c in new.get("cookies", [])}
    if not old_names <= new_names:
        return False
    before = posthog_distinct_id(old)
    return before is None or before == posthog_distinct_id(new)
