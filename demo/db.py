"""The demo's application data in SQLite: users and everything they own.

Every query that touches a user's data takes the acting user's id and filters on it, so ownership is
enforced here rather than trusted to each route. One connection per operation keeps this safe across
Starlette's worker threads; WAL lets pages read while another request writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PLANS: tuple[str, ...] = ("Basic", "Standard", "Premium")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS watch_progress (
    user_id TEXT NOT NULL,
    title_id TEXT NOT NULL,
    episode INTEGER NOT NULL DEFAULT 0,
    position_s INTEGER NOT NULL,
    duration_s INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, title_id, episode)
);
CREATE TABLE IF NOT EXISTS ratings (
    user_id TEXT NOT NULL,
    title_id TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, title_id)
);
CREATE TABLE IF NOT EXISTS watchlist (
    user_id TEXT NOT NULL,
    title_id TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (user_id, title_id)
);
CREATE TABLE IF NOT EXISTS chat_conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    recommendations TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_messages_conv ON chat_messages (conversation_id, id);
CREATE TABLE IF NOT EXISTS support_tickets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    from_plan TEXT,
    changed_at TEXT NOT NULL
);
"""

# Every table holding a user's rows, for account deletion (users itself is deleted last).
USER_TABLES: tuple[str, ...] = (
    "watch_progress",
    "ratings",
    "watchlist",
    "chat_messages",
    "chat_conversations",
    "support_tickets",
    "subscriptions",
)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DuplicateEmail(Exception):
    pass


@dataclass(frozen=True)
class User:
    id: str
    email: str
    plan: str
    created_at: str


@dataclass(frozen=True)
class Progress:
    title_id: str
    episode: int
    position_s: int
    duration_s: int
    updated_at: str

    @property
    def finished(self) -> bool:
        return self.position_s >= self.duration_s - 5


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str
    recommendations: list[str]


@contextmanager
def transaction(
    path: Path, *, write: bool, setup: Callable[[sqlite3.Connection], None] | None = None
) -> Iterator[sqlite3.Connection]:
    """One transaction on its own connection, committed on success and rolled back on any error.

    Writers take the lock up front (``BEGIN IMMEDIATE``): a read-then-write (constraint checks,
    upserts) must not race another writer, and two writers must never deadlock upgrading a read
    lock. The demo's pages and its HogFlix backend (demo/hogflix/db.py) both use it.
    """
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        if setup is not None:
            setup(conn)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        finally:
            conn.close()

    def _conn(self, write: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, write=write)

    # --- users ---------------------------------------------------------------------------------------

    def create_user(self, email: str, password: str, plan: str) -> User:
        user = User(f"usr_{secrets.token_hex(8)}", email.strip().lower(), plan, _now())
        pw_hash = hash_password(password)  # outside the transaction: scrypt is deliberately slow
        with self._conn() as conn:
            try:
                conn.execute(
                    "INSERT INTO users (id, email, password_hash, plan, created_at) VALUES (?, ?, ?, ?, ?)",
                    (user.id, user.email, pw_hash, plan, user.created_at),
                )
            except sqlite3.IntegrityError:
                raise DuplicateEmail(email) from None
            conn.execute(
                "INSERT INTO subscriptions (user_id, plan, from_plan, changed_at) VALUES (?, ?, NULL, ?)",
                (user.id, plan, user.created_at),
            )
        return user

    def authenticate(self, email: str, password: str) -> User | None:
        with self._conn(write=False) as conn:
            row = conn.execute("SELECT * FROM users WHERE email = ?", (email.strip().lower(),)).fetchone()
        if row is None:
            # Same work as a real check, so response time does not reveal which emails exist.
            verify_password(password, "scrypt$" + "00" * 16 + "$" + "00" * 32)
            return None
        if not verify_password(password, row["password_hash"]):
            return None
        return User(row["id"], row["email"], row["plan"], row["created_at"])

    def get_user(self, user_id: str) -> User | None:
        with self._conn(write=False) as conn:
            row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else User(row["id"], row["email"], row["plan"], row["created_at"])

    def change_plan(self, user_id: str, plan: str) -> str | None:
        """Set the plan; returns the previous plan (None when the user does not exist)."""
        with self._conn() as conn:
            row = conn.execute("SELECT plan FROM users WHERE id = ?", (user_id,)).fetchone()
            if row is None:
                return None
            previous: str = row["plan"]
            conn.execute("UPDATE users SET plan = ? WHERE id = ?", (plan, user_id))
            conn.execute(
                "INSERT INTO subscriptions (user_id, plan, from_plan, changed_at) VALUES (?, ?, ?, ?)",
                (user_id, plan, previous, _now()),
            )
        return previous

    def delete_user(self, user_id: str) -> None:
        with self._conn() as conn:
            for table in USER_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM users WHERE id = ?", (user_id,))

    def count_rows(self, user_id: str) -> dict[str, int]:
        """Rows per table owned by the user (tests use it to prove deletion is complete)."""
        counts: dict[str, int] = {}
        with self._conn(write=False) as conn:
            for table in USER_TABLES:
                counts[table] = conn.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,)
                ).fetchone()[0]
            counts["users"] = conn.execute("SELECT COUNT(*) FROM users WHERE id = ?", (user_id,)).fetchone()[
                0
            ]
        return counts

    # --- watchlist, ratings, progress -------------------------------------------------------------------

    def watchlist(self, user_id: str) -> list[str]:
        with self._conn(write=False) as conn:
            rows = conn.execute(
                "SELECT title_id FROM watchlist WHERE user_id = ? ORDER BY added_at DESC, rowid DESC",
                (user_id,),
            ).fetchall()
        return [r["title_id"] for r in rows]

    def in_watchlist(self, user_id: str, title_id: str) -> bool:
        with self._conn(write=False) as conn:
            row = conn.execute(
                "SELECT 1 FROM watchlist WHERE user_id = ? AND title_id = ?", (user_id, title_id)
            ).fetchone()
        return row is not None

    def add_to_watchlist(self, user_id: str, title_id: str) -> bool:
        with self._conn() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO watchlist (user_id, title_id, added_at) VALUES (?, ?, ?)",
                (user_id, title_id, _now()),
            )
        return cur.rowcount > 0

    def remove_from_watchlist(self, user_id: str, title_id: str) -> bool:
        with self._conn() as conn:
            cur = conn.execute(
                "DELETE FROM watchlist WHERE user_id = ? AND title_id = ?", (user_id, title_id)
            )
        return cur.rowcount > 0

    def rate(self, user_id: str, title_id: str, rating: int) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO ratings (user_id, title_id, rating, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (user_id, title_id) DO UPDATE SET rating = excluded.rating, "
                "created_at = excluded.created_at",
                (user_id, title_id, rating, _now()),
            )

    def rating(self, user_id: str, title_id: str) -> int | None:
        with self._conn(write=False) as conn:
            row = conn.execute(
                "SELECT rating FROM ratings WHERE user_id = ? AND title_id = ?", (user_id, title_id)
            ).fetchone()
        return None if row is None else int(row["rating"])

    def save_progress(
        self, user_id: str, title_id: str, episode: int, position_s: int, duration_s: int
    ) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO watch_progress (user_id, title_id, episode, position_s, duration_s, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, title_id, episode) DO UPDATE SET "
                "position_s = excluded.position_s, duration_s = excluded.duration_s, "
                "updated_at = excluded.updated_at",
                (user_id, title_id, episode, position_s, duration_s, _now()),
            )

    def progress(self, user_id: str, title_id: str, episode: int) -> Progress | None:
        with self._conn(write=False) as conn:
            row = conn.execute(
                "SELECT * FROM watch_progress WHERE user_id = ? AND title_id = ? AND episode = ?",
                (user_id, title_id, episode),
            ).fetchone()
        return None if row is None else _progress(row)

    def continue_watching(self, user_id: str, limit: int = 12) -> list[Progress]:
        """Unfinished titles, most recent first, one entry per title (its latest episode)."""
        with self._conn(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM watch_progress WHERE user_id = ? ORDER BY updated_at DESC, rowid DESC",
                (user_id,),
            ).fetchall()
        seen: set[str] = set()
        out: list[Progress] = []
        for row in rows:
            p = _progress(row)
            if p.title_id in seen:
                continue
            seen.add(p.title_id)
            if not p.finished:
                out.append(p)
        return out[:limit]

    # --- FlixBuddy -------------------------------------------------------------------------------------

    def create_conversation(self, user_id: str) -> str:
        conv_id = f"conv_{secrets.token_hex(8)}"
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO chat_conversations (id, user_id, created_at) VALUES (?, ?, ?)",
                (conv_id, user_id, _now()),
            )
        return conv_id

    def owns_conversation(self, user_id: str, conversation_id: str) -> bool:
        with self._conn(write=False) as conn:
            row = conn.execute(
                "SELECT 1 FROM chat_conversations WHERE id = ? AND user_id = ?", (conversation_id, user_id)
            ).fetchone()
        return row is not None

    def add_message(
        self, user_id: str, conversation_id: str, role: str, content: str, recommendations: list[str]
    ) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO chat_messages "
                "(conversation_id, user_id, role, content, recommendations, created_at) "
                "SELECT id, ?, ?, ?, ?, ? FROM chat_conversations WHERE id = ? AND user_id = ?",
                (user_id, role, content, json.dumps(recommendations), _now(), conversation_id, user_id),
            )

    def messages(self, user_id: str, conversation_id: str) -> list[ChatMessage]:
        """The conversation's messages, or [] when it does not exist or belongs to someone else."""
        with self._conn(write=False) as conn:
            rows = conn.execute(
                "SELECT m.role, m.content, m.recommendations FROM chat_messages m "
                "JOIN chat_conversations c ON c.id = m.conversation_id "
                "WHERE m.conversation_id = ? AND c.user_id = ? ORDER BY m.id",
                (conversation_id, user_id),
            ).fetchall()
        return [ChatMessage(r["role"], r["content"], json.loads(r["recommendations"])) for r in rows]

    # --- support -------------------------------------------------------------------------------------

    def create_ticket(self, user_id: str, subject: str, body: str) -> str:
        ticket_id = f"tkt_{secrets.token_hex(6)}"
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO support_tickets (id, user_id, subject, body, created_at) VALUES (?, ?, ?, ?, ?)",
                (ticket_id, user_id, subject, body, _now()),
            )
        return ticket_id

    def ticket(self, user_id: str, ticket_id: str) -> dict[str, Any] | None:
        with self._conn(write=False) as conn:
            row = conn.execute(
                "SELECT id, subject, created_at FROM support_tickets WHERE id = ? AND user_id = ?",
                (ticket_id, user_id),
            ).fetchone()
        return None if row is None else dict(row)


def _progress(row: sqlite3.Row) -> Progress:
    return Progress(row["title_id"], row["episode"], row["position_s"], row["duration_s"], row["updated_at"])
