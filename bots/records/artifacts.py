"""Failed sessions' artifacts (``<state>/artifacts/<date>/<persona>/<session>/``) and retention cleanup.

The ledger is the index: a session failed when its *final* attempt did. Artifact paths in the
ledger are as the run saw them (possibly relative to the directory it ran from), so every path is
resolved again here, falling back to the conventional location under the state dir.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bots.records.ledger import LedgerRecord, day_records, read_records
from personas.errors import HogfleetError

TRACE_FILE = "trace.zip"
SCREENSHOT_FILE = "screenshot.png"
# The retention cleanup's default, in days (README: `hogfleet cleanup`).
DEFAULT_RETAIN_DAYS = 30


def finals(records: Iterable[LedgerRecord]) -> dict[str, LedgerRecord]:
    """The last attempt of every session: what counts for the day."""
    out: dict[str, LedgerRecord] = {}
    for record in records:
        prev = out.get(record.session_id)
        if prev is None or (record.attempt, record.ended_at) >= (prev.attempt, prev.ended_at):
            out[record.session_id] = record
    return out


def artifact_dir(state_dir: Path, date: dt.date, persona: str, session_id: str) -> Path:
    return state_dir / "artifacts" / date.isoformat() / persona / session_id


def _resolve(recorded: str | None, conventional: Path) -> Path | None:
    if recorded:
        path = Path(recorded)
        if path.is_file():
            return path.resolve()
    return conventional.resolve() if conventional.is_file() else None


def show_trace_command(trace: Path) -> str:
    """The command a person pastes: Playwright's own trace viewer, from this project's Python."""
    return f"playwright show-trace {shlex.quote(str(trace))}"


@dataclass(frozen=True)
class Failure:
    date: dt.date
    persona: str
    session_id: str
    attempt: int
    ended_at: dt.datetime
    error_class: str | None
    error_step: str | None
    error_message: str | None
    trace: Path | None
    screenshot: Path | None

    @property
    def show_trace(self) -> str | None:
        return show_trace_command(self.trace) if self.trace else None

    def as_json(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(),
            "persona": self.persona,
            "session_id": self.session_id,
            "attempt": self.attempt,
            "ended_at": self.ended_at.isoformat(),
            "error_class": self.error_class,
            "error_step": self.error_step,
            "error": self.error_message,
            "trace": str(self.trace) if self.trace else None,
            "screenshot": str(self.screenshot) if self.screenshot else None,
            "show_trace": self.show_trace,
        }


def failure_of(state_dir: Path, record: LedgerRecord) -> Failure:
    folder = artifact_dir(state_dir, record.date, record.persona, record.session_id)
    return Failure(
        date=record.date,
        persona=record.persona,
        session_id=record.session_id,
        attempt=record.attempt,
        ended_at=record.ended_at,
        error_class=record.error_class,
        error_step=record.error_step,
        error_message=record.error_message,
        trace=_resolve(record.artifacts.trace, folder / TRACE_FILE),
        screenshot=_resolve(record.artifacts.screenshot, folder / SCREENSHOT_FILE),
    )


def failures(state_dir: Path, date: dt.date) -> list[Failure]:
    """Sessions of ``date`` whose final attempt failed, in the order they ended."""
    failed = [r for r in finals(day_records(state_dir, date)).values() if r.outcome == "failed"]
    failed.sort(key=lambda r: (r.ended_at, r.session_id))
    return [failure_of(state_dir, r) for r in failed]


def _ledger_dates(state_dir: Path) -> list[dt.date]:
    return sorted(_dated_dirs(state_dir / "runs"), reverse=True)


def _dated_dirs(parent: Path) -> dict[dt.date, Path]:
    out: dict[dt.date, Path] = {}
    try:
        entries = list(parent.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return out
    for entry in entries:
        try:
            day = dt.date.fromisoformat(entry.name)
        except ValueError:
            continue  # not ours: never touched
        if entry.is_dir() and not entry.is_symlink():
            out[day] = entry
    return out


def find_trace(state_dir: Path, session_id: str, date: dt.date | None = None) -> Path:
    """The trace of a session: from its ledger record, else by its folder name under artifacts/."""
    dates = [date] if date is not None else _ledger_dates(state_dir)
    for day in dates:
        for record in reversed(day_records(state_dir, day)):
            if record.session_id == session_id:
                found = failure_of(state_dir, record).trace
                if found is not None:
                    return found
    artifact_days = _dated_dirs(state_dir / "artifacts")
    for day in [date] if date is not None else sorted(artifact_days, reverse=True):
        root = artifact_days.get(day)
        if root is None:
            continue
        for trace in sorted(root.glob(f"*/{session_id}/{TRACE_FILE}")):
            return trace.resolve()
    where = f"on {date}" if date is not None else "on any date"
    raise HogfleetError(f"no trace for session {session_id!r} {where} in {state_dir / 'artifacts'}")


def recent_records(state_dir: Path, persona: str, limit: int = 10) -> list[LedgerRecord]:
    """A persona's last ``limit`` ledger records, newest first, scanning ledgers from the newest day."""
    out: list[LedgerRecord] = []
    for day in _ledger_dates(state_dir):
        folder = state_dir / "runs" / day.isoformat()
        mine: list[LedgerRecord] = []
        for path in sorted(folder.glob("ledger*.jsonl")):
            mine.extend(r for r in read_records(path) if r.persona == persona)
        mine.sort(key=lambda r: r.ended_at, reverse=True)
        out.extend(mine)
        if len(out) >= limit:
            break
    return out[:limit]


@dataclass
class CleanupReport:
    cutoff: dt.date  # dirs of days before this one are removed
    dry_run: bool
    removed: list[Path] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "removed": [str(p) for p in self.removed],
            "files": self.files,
            "bytes": self.bytes,
        }


def _walk_files(root: Path) -> Iterator[Path]:
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            yield Path(dirpath) / name


def cleanup(state_dir: Path, retain_days: int, today: dt.date, dry_run: bool = False) -> CleanupReport:
    """Remove ``artifacts/<date>/`` and ``runs/<date>/`` older than ``retain_days`` days.

    Only directories named by a date are candidates: personas.json, plans, storage states and
    anything unrecognised are never touched, and the last ``retain_days`` days are always kept.
    """
    if retain_days < 0:
        raise HogfleetError(f"--retain-days must be 0 or more (got {retain_days})")
    cutoff = today - dt.timedelta(days=retain_days)
    report = CleanupReport(cutoff=cutoff, dry_run=dry_run)
    for kind in ("artifacts", "runs"):
        for day, folder in sorted(_dated_dirs(state_dir / kind).items()):
            if day >= cutoff:
                continue
            for path in _walk_files(folder):
                try:
                    report.bytes += path.lstat().st_size
                except FileNotFoundError:
                    continue
                report.files += 1
            report.removed.append(folder)
            if not dry_run:
                shutil.rmtree(folder)
    return report
