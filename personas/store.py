"""The state dir: ``personas.json``, ``daily_metrics.json`` (last 90 days), ``plans/<date>.json``, ``.lock``.

Every file is orjson, written atomically (temp file in the same dir, fsync, ``os.replace``, fsync of the
dir) and carries ``schema_version``. A file that is not JSON, has the wrong shape or an unknown version is
a :class:`HogfleetError` naming it; it is never overwritten.

The lock is ``fcntl.flock`` on ``<root>/.lock`` (which records the holder's pid). The kernel drops a flock
when its holder exits, however it exits, so a lock left by a crashed process is free again without any
clean-up: the pid in the file is only there to name the holder in the error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from personas.errors import HogfleetError
from personas.models import METRICS_SCHEMA_VERSION, PERSONAS_SCHEMA_VERSION, DailyMetrics, Population
from personas.plans import PLAN_SCHEMA_VERSION, DayPlan

STATE_DIR_ENV = "HOGFLEET_STATE_DIR"
DEFAULT_STATE_DIR = ".hogfleet"
METRICS_KEEP_DAYS = 90


def default_state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_error(path: Path, exc: OSError) -> HogfleetError:
    """The one line a failed state write becomes (a full disk is the usual cause, so say so)."""
    if exc.errno == errno.ENOSPC:
        return HogfleetError(f"no space left on device while writing {path}")
    return HogfleetError(f"cannot write {path}: {exc.strerror or exc}")


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old or the new file, never a mix.

    Any failure (a full disk, most often) leaves the old file as it was and raises a one-line
    :class:`HogfleetError` naming the file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


class StateStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.plans_dir = self.root / "plans"
        self.personas_path = self.root / "personas.json"
        self.metrics_path = self.root / "daily_metrics.json"
        self.lock_path = self.root / ".lock"

    # -- locking -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[StateStore]:
        """Exclusive access to the state dir for this process; a second holder gets a one-line error."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                raise HogfleetError(
                    f"state dir {self.root} is locked by another hogfleet process (pid {holder})"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                yield self
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # -- reading -----------------------------------------------------------------------------------
    def _read(self, path: Path, version: int) -> Any | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise HogfleetError(f"cannot read {path}: {exc.strerror}") from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise HogfleetError(f"{path} is not valid JSON; fix or remove it") from None
        if not isinstance(data, dict) or "schema_version" not in data:
            raise HogfleetError(f"{path} has no schema_version; not a hogfleet state file") from None
        if data["schema_version"] != version:
            raise HogfleetError(
                f"{path} has schema_version {data['schema_version']!r}; this hogfleet reads version {version}"
            )
        return data

    def _validate(self, path: Path, model: type[BaseModel], data: Any) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise HogfleetError(f"{path} has the wrong shape at {where}: {err['msg']}") from None

    def load_population_or_none(self) -> Population | None:
        data = self._read(self.personas_path, PERSONAS_SCHEMA_VERSION)
        if data is None:
            return None
        pop: Population = self._validate(self.personas_path, Population, data)
        return pop

    def load_population(self) -> Population:
        pop = self.load_population_or_none()
        if pop is None:
            raise HogfleetError(f"no population in {self.root}; run `hogfleet plan` first")
        return pop

    def load_metrics(self) -> list[DailyMetrics]:
        data = self._read(self.metrics_path, METRICS_SCHEMA_VERSION)
        if data is None:
            return []
        days = data.get("days")
        if not isinstance(days, list):
            raise HogfleetError(f"{self.metrics_path} has the wrong shape: no list 'days'")
        return [self._validate(self.metrics_path, DailyMetrics, d) for d in days]

    def load_plan(self, date: dt.date) -> DayPlan | None:
        path = self.plan_path(date)
        data = self._read(path, PLAN_SCHEMA_VERSION)
        if data is None:
            return None
        plan: DayPlan = self._validate(path, DayPlan, data)
        return plan

    def plan_path(self, date: dt.date) -> Path:
        return self.plans_dir / f"{date.isoformat()}.json"

    # -- writing -----------------------------------------------------------------------------------
    def save_population(self, population: Population) -> None:
        atomic_write_bytes(self.personas_path, dumps(population.model_dump(mode="json")))

    def save_metrics(self, metrics: list[DailyMetrics]) -> None:
        latest: dict[dt.date, DailyMetrics] = {m.date: m for m in metrics}
        days = [latest[d].model_dump(mode="json") for d in sorted(latest)[-METRICS_KEEP_DAYS:]]
        atomic_write_bytes(self.metrics_path, dumps({"schema_version": METRICS_SCHEMA_VERSION, "days": days}))

    def save_plan(self, plan: DayPlan) -> None:
        atomic_write_bytes(self.plan_path(plan.date), dumps(plan.model_dump(mode="json")))
