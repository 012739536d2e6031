"""Options several commands share, declared once, and the parsing every command rejects bad input with.

A command takes ``state_dir: StateDirOpt = None`` instead of declaring ``--state-dir`` itself, so the
flag's name, help and environment variable (bots/config/envvars.py) are the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from personas.errors import HogfleetError

StateDirOpt = Annotated[
    Path | None, typer.Option("--state-dir", help="state dir (default: .hogfleet or HOGFLEET_STATE_DIR)")
]
StorageDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--storage-dir", help="storage states dir (default: storage_states/ or HOGFLEET_STORAGE_DIR)"
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="hogfleet.toml with behaviour and [fleet] settings (default: ./hogfleet.toml)"
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", help="simulation seed (default: HOGFLEET_SEED or the documented default)"),
]
SiteProfileOpt = Annotated[
    Path | None,
    typer.Option(
        "--site-profile",
        help="site profile: a TOML file, or the name of a shipped one (demo, hogflix); default: the demo's",
    ),
]
TargetOpt = Annotated[str, typer.Option("--target", help="'demo' (the embedded site) or a base URL")]
FrontendOpt = Annotated[
    Path | None,
    typer.Option(
        "--frontend",
        help="a HogFlix production build (its dist/) for the embedded demo to serve on its local "
        "backend (or HOGFLEET_FRONTEND); the site profile then defaults to hogflix",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON on stdout instead of a table")]


def parse_date(value: str | None, option: str = "--date") -> dt.date:
    """A strict YYYY-MM-DD date (today, from the wall clock, when ``value`` is None)."""
    if value is None:
        return dt.date.today()
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HogfleetError(f"{option} must be a date as YYYY-MM-DD (got {value!r})") from None
