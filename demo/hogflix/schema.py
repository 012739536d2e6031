"""The `public` tables the HogFlix frontend reads and writes, as the local backend models them.

Shapes follow the app's generated types (`source/src/integrations/supabase/types.ts` in the HogFlix
checkout) and its migrations (`source/supabase/migrations/*.sql`): column names, nullability, defaults,
unique constraints and foreign-key names (PostgREST embed hints such as
`categories!videos_category_id_fkey` name a constraint, so the names must match). Every table lives in
the demo's SQLite file under an `hf_` prefix, because the demo's own schema (`demo/db.py`) already uses
`watch_progress`, `support_tickets` and `chat_conversations` with other columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

ColType = Literal["uuid", "text", "int", "float", "bool", "timestamptz", "json", "text[]"]

# Which rows a caller may touch. "public": anyone reads, nobody writes through the REST API (the
# migrations reserve writes to admins, and the local backend has no admin). "owner": a signed-in user
# reads and writes only rows whose user_id is theirs, as every user table's RLS policy says.
Policy = Literal["public", "owner"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColType
    nullable: bool = True
    # "uuid" and "now" stand for gen_random_uuid() and now(); anything else is the literal default.
    default: Any = None

    def default_value(self, gen_uuid: Callable[[], str], now: Callable[[], str]) -> Any:
        if self.default == "uuid":
            return gen_uuid()
        if self.default == "now":
            return now()
        if isinstance(self.default, list | dict):
            return type(self.default)(self.default)
        return self.default


@dataclass(frozen=True)
class ForeignKey:
    name: str  # the constraint name, as embed hints spell it
    column: str
    target: str
    target_column: str = "id"


@dataclass(frozen=True)
class Unique:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    name: str
    column: str
    allowed: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def ok(self, value: Any) -> bool:
        if value is None:
            return True
        if self.allowed and value not in self.allowed:
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        return not (self.maximum is not None and value > self.maximum)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    policy: Policy
    foreign_keys: tuple[ForeignKey, ...] = ()
    unique: tuple[Unique, ...] = ()
    checks: tuple[Check, ...] = ()
    primary_key: tuple[str, ...] = ("id",)
    exposed: bool = True  # False: reachable only through RPCs and functions, like chat_messages
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    @property
    def sql_name(self) -> str:
        return f"hf_{self.name}"

    def column(self, name: str) -> Column | None:
        return self._by_name.get(name)

    @property
    def pkey(self) -> Unique:
        return Unique(f"{self.name}_pkey", self.primary_key)

    @property
    def has_updated_at(self) -> bool:
        return "updated_at" in self._by_name


def _id() -> Column:
    return Column("id", "uuid", nullable=False, default="uuid")


def _stamps() -> tuple[Column, Column]:
    return (
        Column("created_at", "timestamptz", nullable=False, default="now"),
        Column("updated_at", "timestamptz", nullable=False, default="now"),
    )


def _owner() -> Column:
    return Column("user_id", "uuid", nullable=False)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "categories",
            (_id(), Column("name", "text", False), Column("sort_order", "int", False, 0), *_stamps()),
            "public",
        ),
        Table(
            "videos",
            (
                _id(),
                Column("title", "text", False),
                Column("description", "text"),
                Column("thumbnail_url", "text", False),
                Column("video_url", "text", False),
                Column("duration", "int", False),
                Column("category_id", "uuid", False),
                Column("is_public", "bool", True, True),
                Column("published_at", "timestamptz"),
                Column("slug", "text"),
                Column("ai_summary", "text"),
                *_stamps(),
            ),
            "public",
            foreign_keys=(ForeignKey("videos_category_id_fkey", "category_id", "categories"),),
        ),
        Table(
            "subscription_plans",
            (
                _id(),
                Column("name", "text", False),
                Column("display_name", "text", False),
                Column("price_monthly", "float", False, 0.0),
                Column("features", "json", False, []),
                Column("max_profiles", "int", False, 1),
                Column("video_quality", "text", False, "HD"),
                Column("is_default", "bool", False, False),
                *_stamps(),
            ),
            "public",
            unique=(Unique("subscription_plans_name_key", ("name",)),),
        ),
        Table(
            "profiles",
            (
                _id(),
                _owner(),
                Column("display_name", "text"),
                Column("email", "text"),
                Column("is_kids_profile", "bool", False, False),
                Column("marketing_opt_in", "bool", False, True),
                Column("early_access_features", "text[]", True, []),
                *_stamps(),
            ),
            "owner",
        ),
        Table(
            "user_watchlist",
            (
                _id(),
                _owner(),
                Column("profile_id", "uuid", False),
                Column("video_id", "uuid", False),
                *_stamps(),
            ),
            "owner",
            foreign_keys=(ForeignKey("user_watchlist_video_id_fkey", "video_id", "videos"),),
            unique=(
                Unique(
                    "user_watchlist_user_id_profile_id_video_id_key", ("user_id", "profile_id", "video_id")
                ),
            ),
        ),
        Table(
            "watch_progress",
            (
                _id(),
                _owner(),
                Column("profile_id", "uuid", False),
                Column("video_id", "uuid", False),
                Column("progress_seconds", "int", False, 0),
                Column("duration_seconds", "int", False, 0),
                Column("progress_percentage", "float", False, 0.0),
                Column("completed", "bool", False, False),
                Column("session_id", "text"),
                Column("last_watched_at", "timestamptz", False, "now"),
                *_stamps(),
            ),
            "owner",
            foreign_keys=(ForeignKey("fk_watch_progress_video", "video_id", "videos"),),
            unique=(Unique("unique_user_profile_video", ("user_id", "profile_id", "video_id")),),
        ),
        Table(
            "video_ratings",
            (
                _id(),
                _owner(),
                Column("profile_id", "uuid", False),
                Column("video_id", "uuid", False),
                Column("rating", "int", False),
                *_stamps(),
            ),
            "owner",
            foreign_keys=(
                ForeignKey("video_ratings_profile_id_fkey", "profile_id", "profiles"),
                ForeignKey("video_ratings_video_id_fkey", "video_id", "videos"),
            ),
            unique=(Unique("video_ratings_video_id_profile_id_key", ("video_id", "profile_id")),),
            checks=(Check("video_ratings_rating_check", "rating", minimum=1, maximum=5),),
        ),
        Table(
            "chat_conversations",
            (_id(), _owner(), Column("profile_id", "uuid", False), Column("title", "text"), *_stamps()),
            "owner",
        ),
        Table(
            "chat_messages",
            (
                _id(),
                Column("conversation_id", "uuid", False),
                Column("role", "text", False),
                Column("content", "text", False),
                Column("metadata", "json", True, {}),
                Column("created_at", "timestamptz", False, "now"),
            ),
            "owner",
            foreign_keys=(
                ForeignKey("chat_messages_conversation_id_fkey", "conversation_id", "chat_conversations"),
            ),
            checks=(Check("chat_messages_role_check", "role", allowed=("user", "assistant")),),
            exposed=False,
        ),
        Table(
            "support_tickets",
            (
                _id(),
                _owner(),
                Column("issue_category", "text", False),
                Column("description", "text", False),
                Column("status", "text", False, "open"),
                *_stamps(),
            ),
            "owner",
        ),
        Table(
            "user_subscriptions",
            (
                _id(),
                _owner(),
                Column("plan_id", "uuid", False),
                Column("status", "text", False, "active"),
                Column("payment_intent", "text"),
                Column("started_at", "timestamptz", False, "now"),
                Column("expires_at", "timestamptz"),
                *_stamps(),
            ),
            "owner",
            foreign_keys=(ForeignKey("user_subscriptions_plan_id_fkey", "plan_id", "subscription_plans"),),
            unique=(Unique("user_subscriptions_user_id_key", ("user_id",)),),
            checks=(
                Check(
                    "user_subscriptions_status_check", "status", allowed=("active", "cancelled", "expired")
                ),
            ),
        ),
    )
}

_SQL_TYPES: dict[ColType, str] = {
    "uuid": "TEXT",
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "INTEGER",
    "timestamptz": "TEXT",
    "json": "TEXT",
    "text[]": "TEXT",
}

AUTH_DDL = """
CREATE TABLE IF NOT EXISTS hf_auth_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    encrypted_password TEXT NOT NULL,
    user_metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_sign_in_at TEXT
);
CREATE TABLE IF NOT EXISTS hf_auth_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hf_auth_refresh_tokens (
    token TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    parent TEXT,
    revoked_at REAL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS hf_auth_refresh_tokens_parent ON hf_auth_refresh_tokens (parent);
"""


def ddl() -> str:
    """CREATE statements for every table (idempotent); constraints are enforced in rest.py."""
    parts = [AUTH_DDL]
    for table in TABLES.values():
        cols = ", ".join(f"{c.name} {_SQL_TYPES[c.type]}" for c in table.columns)
        pk = ", ".join(table.primary_key)
        parts.append(f"CREATE TABLE IF NOT EXISTS {table.sql_name} ({cols}, PRIMARY KEY ({pk}));")
        for uniq in table.unique:
            key = ", ".join(uniq.columns)
            parts.append(f"CREATE UNIQUE INDEX IF NOT EXISTS {uniq.name} ON {table.sql_name} ({key});")
        if any(c.name == "user_id" for c in table.columns):
            parts.append(f"CREATE INDEX IF NOT EXISTS {table.sql_name}_user ON {table.sql_name} (user_id);")
    return "\n".join(parts)
