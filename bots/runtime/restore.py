"""Open a persona's context with its identity, without Playwright's hidden page per origin.

``new_context(storage_state=...)`` restores localStorage by opening a hidden page on every origin
of the state and writing the items there before handing the context over: ~150 ms per context on
2 vCPU, most of a short session's overhead. The cheap restore gets the same result with two calls
that cost no page:

- cookies go in with ``context.add_cookies`` (the storage-state cookie shape is what it takes);
- each origin's localStorage is seeded by an init script that runs before any page script of the
  first document of that origin, and only then.

"Only then" is the subtle part: init scripts run on every navigation, and re-seeding on the second
page would overwrite what the site wrote on the first (a rotated session id, a logout). The script
marks the context as seeded in two places the page's own scripts leave alone in practice: a
localStorage key carrying a per-context nonce (shared by every tab of the origin), and the tab's
sessionStorage (which survives a page calling ``localStorage.clear()`` on logout). Either mark
stops it. The localStorage mark is stripped from the state before it is saved, so the on-disk
format stays Playwright's own ``storage_state`` JSON, loadable by either restore.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from playwright.async_api import Browser, BrowserContext

from bots.config.settings import RestoreMode

MARK_KEY = "__hogfleet_restored"

_SEED_SCRIPT = r"""
(() => {
  try {
    if (location.origin !== %(origin)s) return;
    const mark = %(mark)s, nonce = %(nonce)s;
    if (sessionStorage.getItem(mark) === nonce || localStorage.getItem(mark) === nonce) return;
    for (const [k, v] of %(items)s) localStorage.setItem(k, v);
    localStorage.setItem(mark, nonce);
    sessionStorage.setItem(mark, nonce);
  } catch (e) { /* an opaque origin has no storage: nothing to restore there */ }
})();
"""


def seed_script(origin: str, items: list[tuple[str, str]], nonce: str) -> str:
    return _SEED_SCRIPT % {
        "origin": json.dumps(origin),
        "mark": json.dumps(MARK_KEY),
        "nonce": json.dumps(nonce),
        "items": json.dumps(items),
    }


def _cookies(state: dict[str, Any]) -> list[Any]:
    out = []
    for cookie in state.get("cookies", []):
        c = dict(cookie)
        # Playwright writes -1 for session cookies; add_cookies wants the key absent for those.
        if c.get("expires", -1) in (-1, None):
            c.pop("expires", None)
        out.append(c)
    return out


async def restore_into(context: BrowserContext, state: dict[str, Any]) -> None:
    """Put ``state``'s identity into a fresh context (before any page is opened in it)."""
    cookies = _cookies(state)
    if cookies:
        await context.add_cookies(cookies)
    nonce = secrets.token_hex(8)
    for origin in state.get("origins", []):
        items = [
            (str(i["name"]), str(i["value"]))
            for i in origin.get("localStorage", [])
            if i.get("name") != MARK_KEY
        ]
        if items:
            await context.add_init_script(seed_script(str(origin["origin"]), items, nonce))


async def new_context(
    browser: Browser, options: dict[str, Any], state: dict[str, Any] | None, mode: RestoreMode = "cheap"
) -> BrowserContext:
    """A context carrying ``state``; its seed scripts are registered before any other init script,
    so the page's own scripts (and the fleet's marker, which rewrites its key on every page) run
    after the restored values are in place."""
    opts = {k: v for k, v in options.items() if k != "storage_state"}
    if mode == "playwright" or not state:
        return await browser.new_context(**opts, storage_state=state)  # type: ignore[arg-type]
    context = await browser.new_context(**opts)
    try:
        await restore_into(context, state)
    except BaseException:
        await context.close()
        raise
    return context


def strip_marks(state: dict[str, Any]) -> None:
    """Drop the seeded-mark from a storage state taken from the context, before it is saved."""
    for origin in state.get("origins", []):
        items = origin.get("localStorage", [])
        origin["localStorage"] = [i for i in items if i.get("name") != MARK_KEY]
