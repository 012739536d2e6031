"""Every ``HOGFLEET_*`` environment variable hogfleet reads, in one table.

The variables are read where they matter (a layer below ``bots`` cannot import this module), so this
table is their one declaration: tests/bots/test_config.py fails when the code reads a ``HOGFLEET_*``
name that is not here, and when the README's environment table and this one differ. A flag, where
both exist, wins over its variable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnvVar:
    name: str
    read_by: str  # the module that reads it
    meaning: str
    default: str = ""


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "HOGFLEET_STATE_DIR",
        "personas/store.py",
        "state dir (personas, plans, ledgers, artifacts)",
        ".hogfleet",
    ),
    EnvVar(
        "HOGFLEET_STORAGE_DIR",
        "bots/records/storage.py",
        "per-persona storage states (0600)",
        "storage_states",
    ),
    EnvVar("HOGFLEET_SEED", "personas/simulation.py", "simulation seed of a new population", "42"),
    EnvVar(
        "HOGFLEET_PERSONA_SECRET",
        "personas/identity.py",
        "derives persona passwords (HMAC of the distinct id); keep it across runs",
        "hogfleet-demo-secret",
    ),
    EnvVar("HOGFLEET_PAUSED", "bots/records/control.py", "kill switch: 1 stops new sessions", "0"),
    EnvVar("HOGFLEET_CHROMIUM", "bots/runtime/browser.py", "path of a system Chromium to drive"),
    EnvVar("HOGFLEET_BROWSER", "bots/runtime/browser.py", "`system`: skip Playwright's own build"),
    EnvVar(
        "HOGFLEET_SHARD_INDEX", "bots/scaleout/shard.py", "0-based shard of `run` (with HOGFLEET_SHARD_TOTAL)"
    ),
    EnvVar("HOGFLEET_SHARD_TOTAL", "bots/scaleout/shard.py", "number of shards of `run`"),
    EnvVar(
        "HOGFLEET_DEMO_DB", "demo/settings.py", "the demo's SQLite database", ".hogfleet/demo/hogflix.sqlite3"
    ),
    EnvVar(
        "HOGFLEET_DEMO_SECRET",
        "demo/settings.py",
        "the demo's session-signing key",
        "a per-database key file",
    ),
    EnvVar(
        "HOGFLEET_DEMO_TOKEN", "demo/settings.py", "the demo's analytics project token", "phc_hogflix_demo"
    ),
    EnvVar(
        "HOGFLEET_DEMO_FAULTS", "demo/settings.py", "the demo's fault spec, e.g. error=0.05,ratelimit=0.03"
    ),
    EnvVar(
        "HOGFLEET_DEMO_DISABLE_EVENTS",
        "demo/settings.py",
        "comma-separated events the demo's frontend stops sending (to see a smoke test fail)",
    ),
    EnvVar(
        "HOGFLEET_FRONTEND",
        "demo/settings.py",
        "a HogFlix production build (dist/) for the demo to serve on its local backend",
    ),
    EnvVar("HOGFLEET_POSTHOG_JS", "demo/settings.py", "a posthog-js `array.full.js` for the demo to serve"),
    EnvVar(
        "HOGFLEET_NPM_CACHE",
        "analytics/sdk.py",
        "where npm packages (the pinned posthog-js) are installed",
        "~/.cache/hogfleet/npm",
    ),
    EnvVar(
        "HOGFLEET_REPORT_SCREENSHOT",
        "tests/bots/test_report.py",
        "where the report test saves a screenshot of the report (docs/report.png)",
    ),
)


def names() -> frozenset[str]:
    return frozenset(v.name for v in ENV_VARS)


def markdown_table() -> str:
    """The README's environment table, rendered from :data:`ENV_VARS`."""
    rows = ["| variable | read by | what it sets | default |", "|---|---|---|---|"]
    for v in ENV_VARS:
        default = f"`{v.default}`" if v.default else "—"
        rows.append(f"| `{v.name}` | `{v.read_by}` | {v.meaning} | {default} |")
    return "\n".join(rows)
