"""The demo's configuration: where data lives, the signing secret, the analytics token and faults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from demo.faults import FaultSpec, parse_faults

DEFAULT_TOKEN = "phc_hogflix_demo"
DEFAULT_DB = Path(".hogfleet") / "demo" / "hogflix.sqlite3"


class DemoConfigError(ValueError):
    """A demo setting that cannot be used; the message names it."""


def _write_atomic(path: Path, data: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_or_create_secret(db_path: Path) -> str:
    """A per-database signing key kept beside the database (mode 0600), so sessions survive restarts."""
    key_path = db_path.with_name(db_path.name + ".secret")
    if key_path.exists():
        key = key_path.read_text().strip()
        if len(key) < 32:
            raise DemoConfigError(
                f"session secret file {key_path} is corrupt (too short); delete it to regenerate"
            )
        return key
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    _write_atomic(key_path, key + "\n")
    return key


@dataclass
class DemoSettings:
    db_path: Path = DEFAULT_DB
    events_db_path: Path | None = None  # None: "<db stem>.events.sqlite3" beside the app db
    secret_key: str | None = None  # None: HOGFLEET_DEMO_SECRET is not set; a per-db key file is used
    token: str = DEFAULT_TOKEN
    faults: FaultSpec = field(default_factory=FaultSpec)
    posthog_js: Path | None = None
    disabled_events: frozenset[str] = frozenset()
    capture_error: float | None = None  # None: take it from faults.capture_error
    # A HogFlix production build (a directory with index.html); set, the demo serves it on the local
    # Supabase stand-in (demo/hogflix/) instead of its own server-rendered pages.
    frontend: Path | None = None

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        if self.events_db_path is None:
            self.events_db_path = self.db_path.with_name(self.db_path.stem + ".events.sqlite3")
        if self.capture_error is None:
            self.capture_error = self.faults.capture_error
        if not 0.0 <= self.capture_error <= 1.0:
            raise DemoConfigError(f"capture_error={self.capture_error} must be between 0 and 1")
        if self.posthog_js is not None and not Path(self.posthog_js).is_file():
            raise DemoConfigError(f"HOGFLEET_POSTHOG_JS {self.posthog_js} is not a file")
        self.disabled_events = frozenset(self.disabled_events)
        if self.frontend is not None:
            self.frontend = Path(self.frontend)
            if not (self.frontend / "index.html").is_file():
                raise DemoConfigError(
                    f"frontend {self.frontend} is not a HogFlix production build (no index.html in it)"
                )

    @property
    def events_path(self) -> Path:
        assert self.events_db_path is not None  # set in __post_init__
        return self.events_db_path

    @property
    def capture_error_rate(self) -> float:
        return self.capture_error or 0.0

    def resolved_secret(self) -> str:
        if self.secret_key:
            return self.secret_key
        self.secret_key = load_or_create_secret(self.db_path)
        return self.secret_key

    @classmethod
    def from_env(
        cls,
        db_path: Path | None = None,
        faults: str | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: object,
    ) -> DemoSettings:
        """Settings from HOGFLEET_DEMO_* (and HOGFLEET_FRONTEND) variables; explicit arguments win."""
        env = os.environ if environ is None else environ
        spec = parse_faults(faults if faults is not None else env.get("HOGFLEET_DEMO_FAULTS"))
        db = Path(db_path) if db_path is not None else Path(env.get("HOGFLEET_DEMO_DB", str(DEFAULT_DB)))
        ph = env.get("HOGFLEET_POSTHOG_JS") or None
        frontend = env.get("HOGFLEET_FRONTEND") or None
        disabled = frozenset(
            e.strip() for e in env.get("HOGFLEET_DEMO_DISABLE_EVENTS", "").split(",") if e.strip()
        )
        kwargs: dict[str, object] = {
            "db_path": db,
            "secret_key": env.get("HOGFLEET_DEMO_SECRET") or None,
            "token": env.get("HOGFLEET_DEMO_TOKEN") or DEFAULT_TOKEN,
            "faults": spec,
            "posthog_js": Path(ph) if ph else None,
            "disabled_events": disabled,
            "frontend": Path(frontend) if frontend else None,
        }
        kwargs.update(overrides)
        return cls(**kwargs)  # type: ignore[arg-type]
