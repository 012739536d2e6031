"""The run ledger: ``<state>/runs/<date>/ledger.jsonl``, one line per session attempt.

Lines are appended and fsynced one at a time, so a SIGKILL can only ever tear the last line,
which readers skip. "Done" means a line with outcome ok or abandoned: a re-run skips those
sessions, which is what makes a killed run resumable without doing any session twice.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from flows.outcome import SessionOutcome
from personas.store import write_error

Outcome = Literal["ok", "failed", "abandoned", "skipped"]
DONE: frozenset[str] = frozenset({"ok", "abandoned"})


class ErrorClass(StrEnum):
    """Why a session failed: the one vocabulary of the ledger, the summary and the report."""

    SELECTOR_TIMEOUT = "selector_timeout"
    NAVIGATION = "navigation"
    HTTP_5XX = "http_5xx"
    HTTP_429 = "http_429"
    BROWSER_CRASH = "browser_crash"
    STEP_TIMEOUT = "step_timeout"
    UNEXPECTED_PAGE = "unexpected_page"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    UNMARKED_EVENTS = "unmarked_events"  # the page sent events without the synthetic flag


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    capture_requests: int = 0
    missing: list[str] = Field(default_factory=list)
    unexpected: list[str] = Field(default_factory=list)
    lost: int = 0  # events in capture requests that failed or got a non-2xx answer
    # The share of the session's events that carry the site's synthetic flag (None: no event), and
    # the events sent after a marked one without it (a session with any fails: unmarked_events).
    synthetic_share: float | None = None
    unmarked: list[str] = Field(default_factory=list)
    message: str = ""


class Artifacts(BaseModel):
    """Where a failed session's evidence is (paths as the run saw them; bots/records/artifacts.py
    resolves them again). Absent keys stay absent on disk, as before the model existed."""

    model_config = ConfigDict(extra="forbid")

    trace: str | None = None
    screenshot: str | None = None

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, str]:
        return {k: v for k, v in handler(self).items() if v is not None}


class LedgerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    run_id: str
    persona: str
    session_id: str
    kind: Literal["session", "deletion"] = "session"
    attempt: int = 1
    started_at: dt.datetime
    ended_at: dt.datetime
    outcome: Outcome
    steps_done: int = 0
    steps: list[str] = Field(default_factory=list)
    events: dict[str, int] = Field(default_factory=dict)
    event_uuids: list[str] = Field(default_factory=list)
    distinct_ids: list[str] = Field(default_factory=list)
    verdict: Verdict | None = None
    error_class: ErrorClass | None = None
    error_message: str | None = None
    error_step: str | None = None
    artifacts: Artifacts = Field(default_factory=Artifacts)
    counts: SessionOutcome = Field(default_factory=SessionOutcome)
    http_retries: int = 0
    shard: str | None = None

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


def ledger_path(state_dir: Path, date: dt.date, shard: str | None = None) -> Path:
    name = "ledger.jsonl" if shard is None else f"ledger.shard-{shard.replace('/', 'of')}.jsonl"
    return state_dir / "runs" / date.isoformat() / name


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: LedgerRecord) -> None:
        line = orjson.dumps(record.model_dump(mode="json")) + b"\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                written = os.write(fd, line)
                if written != len(line):  # a short write (full disk): the line is torn, end it
                    os.ftruncate(fd, os.fstat(fd).st_size - written)
                    raise OSError(errno.ENOSPC, "short write")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise write_error(self.path, exc) from None

    def records(self) -> Iterator[LedgerRecord]:
        yield from read_records(self.path)

    def done_sessions(self) -> set[str]:
        return {r.session_id for r in self.records() if r.outcome in DONE}


def read_records(path: Path) -> Iterator[LedgerRecord]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            yield LedgerRecord.model_validate(orjson.loads(line))
        except (orjson.JSONDecodeError, ValueError):
            continue  # a line torn by a kill: that attempt simply did not finish


def day_records(state_dir: Path, date: dt.date) -> list[LedgerRecord]:
    """Every record of a date, across the unsharded ledger and all shard ledgers."""
    folder = state_dir / "runs" / date.isoformat()
    out: list[LedgerRecord] = []
    for path in sorted(folder.glob("ledger*.jsonl")):
        out.extend(read_records(path))
    return out
