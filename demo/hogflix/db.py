"""The HogFlix tables in the demo's SQLite file: connections, value conversion and the catalog seed.

Values cross three representations: JSON (what supabase-js sends and reads), Python, and SQLite
storage (booleans as 0/1, JSON and text[] as JSON text, timestamps as fixed-width UTC text so that text
comparison orders like time). `to_sql`/`from_sql` are the only places that convert.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from demo.catalog import CURRENT_YEAR, GENRES, Catalog
from demo.db import PLANS, transaction
from demo.hogflix.schema import TABLES, Column, ddl

# Seeded ids are uuid5 of the catalog's ids, so they are the same in every database.
_NAMESPACE = uuid.UUID("0b7c1d52-8f1e-4a52-9d0e-5a7e6f2c9b11")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")

# Plan rows for demo/db.py's PLANS: price, profiles and quality as the HogFlix migration seeds them
# (source/supabase/migrations/20251009102317_*.sql); feature wording is the local backend's own.
_PLAN_DETAILS: dict[str, tuple[float, int, str, list[str]]] = {
    "Basic": (0.0, 1, "HD", ["HD streaming", "1 profile", "Ad-supported"]),
    "Standard": (9.99, 3, "Full HD", ["Full HD streaming", "3 profiles", "Ad-free", "Downloads"]),
    "Premium": (
        19.99,
        5,
        "4K + HDR",
        ["4K + HDR streaming", "5 profiles", "Ad-free", "FlixBuddy AI assistant"],
    ),
}


class ValueError22P02(ValueError):
    """A value that does not fit its column's type (PostgreSQL's invalid_text_representation)."""


def now_iso(at: datetime | None = None) -> str:
    ts = datetime.now(UTC) if at is None else at.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def new_uuid() -> str:
    return str(uuid.uuid4())


def seeded_uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))


def video_uuid(title_id: str) -> str:
    return seeded_uuid("video", title_id)


def _timestamp(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError22P02(f'invalid input syntax for type timestamp with time zone: "{value}"')
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError22P02(f'invalid input syntax for type timestamp with time zone: "{value}"') from None
    return now_iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def to_sql(col: Column, value: Any) -> Any:
    """A JSON value (or a filter's text) for `col`, as SQLite stores it; raises ValueError22P02."""
    if value is None:
        return None
    kind = col.type
    if kind == "uuid":
        if not isinstance(value, str) or not _UUID_RE.match(value):
            raise ValueError22P02(f'invalid input syntax for type uuid: "{value}"')
        return str(uuid.UUID(value))
    if kind == "text":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "bool":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "t", "f"):
            return int(value.lower() in ("true", "t"))
        raise ValueError22P02(f'invalid input syntax for type boolean: "{value}"')
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise ValueError22P02(f'invalid input syntax for type {_pg(kind)}: "{value}"')
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError22P02(f'invalid input syntax for type {_pg(kind)}: "{value}"') from None
        if kind == "int":
            if number != int(number):
                raise ValueError22P02(f'invalid input syntax for type integer: "{value}"')
            return int(number)
        return number
    if kind == "timestamptz":
        return _timestamp(value)
    if kind == "text[]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError22P02(f'malformed array literal: "{value}"')
        return json.dumps(value)
    return json.dumps(value)  # json


def from_sql(col: Column, raw: Any) -> Any:
    if raw is None:
        return None
    if col.type == "bool":
        return bool(raw)
    if col.type in ("json", "text[]"):
        return json.loads(raw)
    return raw


def pg_like(value: Any, pattern: Any, insensitive: int) -> int | None:
    """PostgreSQL's LIKE/ILIKE (SQLite's LIKE ignores ASCII case, so `like` needs its own function).

    PostgREST lets clients write `*` for `%` in like patterns (URL-friendly), so both mean "any run".
    """
    if value is None or pattern is None:
        return None
    regex = _like_regex(str(pattern), bool(insensitive))
    return int(regex.fullmatch(str(value)) is not None)


@lru_cache(maxsize=256)
def _like_regex(pattern: str, insensitive: bool) -> re.Pattern[str]:
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif ch in "%*":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if insensitive else 0))


def _pg(kind: str) -> str:
    return {"int": "integer", "float": "numeric"}.get(kind, kind)


def _add_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("pg_like", 3, pg_like, deterministic=True)


class HogflixDB:
    """Short-lived connections (one per operation) so Starlette's worker threads never share one."""

    def __init__(self, path: Path, catalog: Catalog) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(ddl())
        finally:
            conn.close()
        self._seed(catalog)

    def connect(self, write: bool = False) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, write=write, setup=_add_functions)

    def _seed(self, catalog: Catalog) -> None:
        seeded_at = datetime.now(UTC)
        stamp = now_iso(seeded_at)
        with self.connect(write=True) as conn:
            for order, genre in enumerate(GENRES):
                conn.execute(
                    "INSERT OR IGNORE INTO hf_categories (id, name, sort_order, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (seeded_uuid("category", genre), genre, order, stamp, stamp),
                )
            for plan in PLANS:
                price, profiles, quality, features = _PLAN_DETAILS[plan]
                conn.execute(
                    "INSERT OR IGNORE INTO hf_subscription_plans (id, name, display_name, price_monthly, "
                    "features, max_profiles, video_quality, is_default, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seeded_uuid("plan", plan),
                        plan.lower(),
                        plan,
                        price,
                        json.dumps(features),
                        profiles,
                        quality,
                        int(plan == PLANS[0]),
                        stamp,
                        stamp,
                    ),
                )
            for title in catalog.titles:
                # The app's carousels order by created_at and "Trending" keeps the last 30 days
                # (source/src/components/TrendingCarousel.tsx), so newer catalog years get recent dates.
                age = timedelta(days=min(1000, (CURRENT_YEAR - title.year) * 20 + int(title.popularity) % 10))
                created = now_iso(seeded_at - age)
                conn.execute(
                    "INSERT OR IGNORE INTO hf_videos (id, title, description, thumbnail_url, video_url, "
                    "duration, category_id, is_public, published_at, slug, ai_summary, created_at, "
                    "updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, NULL, ?, ?)",
                    (
                        video_uuid(title.id),
                        title.name,
                        title.description,
                        f"/storage/v1/object/public/thumbnails/{title.id}.svg",
                        f"{title.id}.wav",
                        title.duration_s,
                        seeded_uuid("category", title.genre),
                        created,
                        re.sub(r"[^a-z0-9]+", "-", title.name.lower()).strip("-") + f"-{title.id}",
                        created,
                        created,
                    ),
                )


def row_json(table_name: str, row: sqlite3.Row) -> dict[str, Any]:
    """A stored row as PostgREST would render it (all columns, JSON types)."""
    table = TABLES[table_name]
    return {c.name: from_sql(c, row[c.name]) for c in table.columns}
