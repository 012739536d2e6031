"""PostgREST under `/rest/v1/<table>`: reads, inserts, upserts, updates and deletes over SQLite.

Row-level security is what the HogFlix migrations declare and the app relies on: the catalog tables
(`videos`, `categories`, `subscription_plans`) are readable by anyone and not writable through the API;
every user table is visible and writable only for rows whose `user_id` is the caller's (anon sees none
and may write none). Constraint checks (not-null, checks, unique, foreign keys) answer with PostgreSQL's
error codes, because the app inspects some of them (`PGRST116` in `useWatchProgress.ts`, "rate limit
exceeded" in `Support.tsx`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.hogflix.auth import Auth, Caller
from demo.hogflix.db import HogflixDB, ValueError22P02, from_sql, new_uuid, now_iso, to_sql
from demo.hogflix.errors import ApiError, error_response
from demo.hogflix.query import (
    Condition,
    Embed,
    Field,
    Logic,
    Order,
    ReadQuery,
    SelectItem,
    Star,
    parse_prefer,
    parse_read,
)
from demo.hogflix.schema import TABLES, Column, Table, Unique

OBJECT_TYPE = "application/vnd.pgrst.object+json"
JSON_TYPE = "application/json"
SUPPORT_TICKETS_PER_HOUR = 5  # set_support_ticket_user_and_throttle() in the 20250906194835 migration
_SQL_OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass(frozen=True)
class Rel:
    """How an embedded resource joins its parent: parent.parent_col = target.target_col."""

    target: Table
    to_many: bool
    parent_col: str
    target_col: str


def exposed_table(name: str) -> Table:
    table = TABLES.get(name)
    if table is None or not table.exposed:
        served = ", ".join(sorted(n for n, t in TABLES.items() if t.exposed))
        raise ApiError(
            404,
            "PGRST205",
            f"Could not find the table 'public.{name}' in the schema cache "
            f"(the local HogFlix backend serves: {served})",
        )
    return table


def column(table: Table, name: str) -> Column:
    col = table.column(name)
    if col is None:
        raise ApiError(400, "42703", f"column {table.name}.{name} does not exist")
    return col


def relation(parent: Table, embed: Embed) -> Rel:
    target = TABLES.get(embed.relation)
    found: list[tuple[str, Rel]] = []
    if target is not None and target.exposed:
        for fk in parent.foreign_keys:
            if fk.target == target.name:
                found.append((fk.name, Rel(target, False, fk.column, fk.target_column)))
        for fk in target.foreign_keys:
            if fk.target == parent.name:
                found.append((fk.name, Rel(target, True, fk.target_column, fk.column)))
    if embed.hint is not None:
        found = [(name, rel) for name, rel in found if embed.hint in (name, rel.parent_col, rel.target_col)]
    if len(found) != 1:
        via = f" using the hint '{embed.hint}'" if embed.hint else ""
        raise ApiError(
            400,
            "PGRST200",
            f"Could not find a relationship between '{parent.name}' and '{embed.relation}' in the schema "
            f"cache{via}",
        )
    return found[0][1]


def validate_select(table: Table, items: tuple[SelectItem, ...], nested: bool = False) -> None:
    for item in items:
        if isinstance(item, Field):
            column(table, item.name)
        elif isinstance(item, Embed):
            if item.inner and nested:
                raise ApiError(
                    400, "PGRST100", f"'!inner' on a nested embed ({item.relation}) is not supported"
                )
            validate_select(relation(table, item).target, item.items, nested=True)


def rls(table: Table, caller: Caller, ref: str, params: list[Any]) -> str:
    if table.policy == "public":
        return "1"
    if caller.user_id is None:
        return "0"
    params.append(caller.user_id)
    return f"{ref}.user_id = ?"


def _typed(col: Column, value: str) -> Any:
    if col.type in ("json", "text[]"):
        raise ApiError(400, "PGRST100", f"filtering on {col.type} column '{col.name}' is not supported")
    try:
        return to_sql(col, value)
    except ValueError22P02 as exc:
        raise ApiError(400, "22P02", str(exc)) from None


def condition_sql(table: Table, cond: Condition | Logic, ref: str, params: list[Any]) -> str:
    if isinstance(cond, Logic):
        joined = f" {cond.op.upper()} ".join(f"({condition_sql(table, t, ref, params)})" for t in cond.terms)
        return f"NOT ({joined})" if cond.negate else joined
    col = column(table, cond.column)
    target = f"{ref}.{col.name}"
    if cond.op == "is":
        word = str(cond.value).lower()
        if word in ("null", "unknown"):
            sql = f"{target} IS NULL"
        elif col.type != "bool":
            raise ApiError(
                400, "42804", f"is.{word} needs a boolean column; {table.name}.{col.name} is {col.type}"
            )
        else:
            sql = f"{target} = {int(word == 'true')}"
    elif cond.op == "in":
        values = [_typed(col, v) for v in cond.value]
        params.extend(values)
        sql = f"{target} IN ({', '.join('?' * len(values))})" if values else "0"
    elif cond.op in ("like", "ilike"):
        params.append(cond.value)
        sql = f"pg_like({target}, ?, {int(cond.op == 'ilike')})"
    else:
        assert isinstance(cond.value, str)
        params.append(_typed(col, cond.value))
        sql = f"{target} {_SQL_OPS[cond.op]} ?"
    return f"NOT ({sql})" if cond.negate else sql


def order_sql(table: Table, orders: list[Order]) -> str:
    terms: list[str] = []
    for order in orders:
        col = column(table, order.column).name
        nulls_first = order.desc if order.nulls_first is None else order.nulls_first
        # SQLite sorts NULL lowest; PostgreSQL's default puts NULLs last ascending, first descending.
        terms.append(
            f"({col} IS NULL) {'DESC' if nulls_first else 'ASC'}, {col} {'DESC' if order.desc else 'ASC'}"
        )
    return f" ORDER BY {', '.join(terms)}" if terms else ""


class Rest:
    def __init__(self, db: HogflixDB, auth: Auth) -> None:
        self.db = db
        self.auth = auth

    async def endpoint(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except ApiError as exc:
            return error_response(exc)

    async def _dispatch(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=200, headers=cors_preflight_headers(request))
        table = exposed_table(request.path_params["table"])
        caller = self.auth.caller(request)
        single = wants_object(request)
        prefs = parse_prefer(request.headers.get("prefer", ""))
        params = list(request.query_params.multi_items())
        method = request.method
        if method in ("GET", "HEAD"):
            if "range" in request.headers:
                raise ApiError(
                    400, "PGRST100", "Range-header pagination is not supported; use limit and offset"
                )
            query = parse_read(params)
            validate_select(table, query.select)
            count = prefs.get("count") in ("exact", "planned", "estimated")
            rows, total = await run_in_threadpool(self.read, table, caller, query, count)
            return respond(
                rows, single=single, total=total, offset=query.offset, head=method == "HEAD", status=200
            )
        if method not in ("POST", "PATCH", "DELETE"):
            raise ApiError(405, "PGRST117", f"{method} is not supported by the local backend")
        query = parse_read(params, allow_paging=False)
        validate_select(table, query.select)
        if table.policy == "public":
            raise ApiError(
                403, "42501", f"permission denied for table {table.name} (read-only in the local backend)"
            )
        represent = prefs.get("return") == "representation"
        body = await request_json(request) if method != "DELETE" else None
        if method == "POST":
            resolution = prefs.get("resolution")
            if resolution not in (None, "merge-duplicates", "ignore-duplicates"):
                raise ApiError(400, "PGRST100", f"Prefer: resolution={resolution} is not supported")
            rows_in = _payload_rows(body)
            columns = request.query_params.get("columns")
            if columns is not None:
                keep = {c.strip().strip('"') for c in columns.split(",")}
                rows_in = [{k: v for k, v in r.items() if k in keep} for r in rows_in]
            conflict = _conflict_target(table, request.query_params.get("on_conflict"), resolution)
            rows = await run_in_threadpool(
                self.insert, table, caller, rows_in, query, conflict, resolution, single and represent
            )
            status = 201
        elif method == "PATCH":
            if not isinstance(body, dict):
                raise ApiError(400, "PGRST102", "PATCH body must be a single JSON object")
            rows = await run_in_threadpool(self.update, table, caller, body, query, single and represent)
            status = 200 if represent else 204
        else:
            rows = await run_in_threadpool(self.delete, table, caller, query, single and represent)
            status = 200 if represent else 204
        total = len(rows) if prefs.get("count") == "exact" else None
        if not represent:
            headers = {"Content-Range": f"*/{'*' if total is None else total}"}
            return Response(status_code=201 if method == "POST" else 204, headers=headers)
        return respond(rows, single=single, total=total, offset=0, head=False, status=status)

    # --- reads ------------------------------------------------------------------------------------------

    def read(
        self, table: Table, caller: Caller, query: ReadQuery, count: bool
    ) -> tuple[list[dict[str, Any]], int | None]:
        ref = table.sql_name
        params: list[Any] = []
        where = [rls(table, caller, ref, params)]
        where.extend(condition_sql(table, f, ref, params) for f in query.filters)
        for n, item in enumerate(query.select):
            if isinstance(item, Embed) and item.inner:
                rel = relation(table, item)
                alias = f"_e{n}"
                inner_rls = rls(rel.target, caller, alias, params)
                where.append(
                    f"EXISTS (SELECT 1 FROM {rel.target.sql_name} {alias} WHERE "
                    f"{alias}.{rel.target_col} = {ref}.{rel.parent_col} AND {inner_rls})"
                )
        clause = " AND ".join(f"({w})" for w in where)
        with self.db.connect() as conn:
            total = None
            if count:
                total = int(conn.execute(f"SELECT COUNT(*) FROM {ref} WHERE {clause}", params).fetchone()[0])
            sql = f"SELECT * FROM {ref} WHERE {clause}{order_sql(table, query.order)} LIMIT ? OFFSET ?"
            limit = -1 if query.limit is None else query.limit
            rows = conn.execute(sql, [*params, limit, query.offset]).fetchall()
            return self.render(conn, table, caller, query.select, rows), total

    def render(
        self,
        conn: sqlite3.Connection,
        table: Table,
        caller: Caller,
        items: tuple[SelectItem, ...],
        rows: list[sqlite3.Row],
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{} for _ in rows]
        for item in items:
            if isinstance(item, Star):
                for rendered, row in zip(out, rows, strict=True):
                    rendered.update({c.name: from_sql(c, row[c.name]) for c in table.columns})
            elif isinstance(item, Field):
                col = column(table, item.name)
                for rendered, row in zip(out, rows, strict=True):
                    rendered[item.key] = from_sql(col, row[col.name])
            else:
                self._embed(conn, table, caller, item, rows, out)
        return out

    def _embed(
        self,
        conn: sqlite3.Connection,
        table: Table,
        caller: Caller,
        embed: Embed,
        rows: list[sqlite3.Row],
        out: list[dict[str, Any]],
    ) -> None:
        rel = relation(table, embed)
        keys = sorted({row[rel.parent_col] for row in rows if row[rel.parent_col] is not None})
        groups: dict[Any, list[dict[str, Any]]] = {}
        if keys:
            params: list[Any] = list(keys)
            ref = rel.target.sql_name
            where = rls(rel.target, caller, ref, params)
            marks = ", ".join("?" * len(keys))
            found = conn.execute(
                f"SELECT * FROM {ref} WHERE {ref}.{rel.target_col} IN ({marks}) AND {where}", params
            ).fetchall()
            rendered = self.render(conn, rel.target, caller, embed.items, found)
            for row, value in zip(found, rendered, strict=True):
                groups.setdefault(row[rel.target_col], []).append(value)
        for row, target in zip(rows, out, strict=True):
            matches = groups.get(row[rel.parent_col], [])
            target[embed.key] = matches if rel.to_many else (matches[0] if matches else None)

    def _rows_by_id(
        self,
        conn: sqlite3.Connection,
        table: Table,
        caller: Caller,
        items: tuple[SelectItem, ...],
        ids: list[str],
    ) -> list[dict[str, Any]]:
        if not ids:
            return []
        placeholders = ", ".join("?" * len(ids))
        found = conn.execute(f"SELECT * FROM {table.sql_name} WHERE id IN ({placeholders})", ids).fetchall()
        by_id = {row["id"]: row for row in found}
        return self.render(conn, table, caller, items, [by_id[i] for i in ids if i in by_id])

    # --- writes -----------------------------------------------------------------------------------------

    def insert(
        self,
        table: Table,
        caller: Caller,
        payload: list[dict[str, Any]],
        query: ReadQuery,
        conflict: Unique,
        resolution: str | None,
        single: bool,
    ) -> list[dict[str, Any]]:
        written: list[str] = []
        with self.db.connect(write=True) as conn:
            for given in payload:
                values = _sql_values(table, given)
                _before_insert(conn, table, caller, values)
                for col in table.columns:
                    if col.name not in values:
                        values[col.name] = to_sql(col, col.default_value(new_uuid, now_iso))
                existing = None
                if resolution is not None and all(values.get(c) is not None for c in conflict.columns):
                    existing = _find(conn, table, conflict.columns, values)
                if existing is not None:
                    if resolution == "ignore-duplicates":
                        continue
                    if table.policy == "owner" and existing["user_id"] != caller.user_id:
                        raise _rls_violation(table)
                    changes = {k: values[k] for k in _sql_values(table, given)}
                    if table.has_updated_at and "updated_at" not in given:
                        changes["updated_at"] = now_iso()
                    merged = {**dict(existing), **changes}
                    _check_row(conn, table, caller, merged, exclude_id=existing["id"])
                    _update_row(conn, table, existing["id"], changes)
                    written.append(existing["id"])
                    continue
                _check_row(conn, table, caller, values, exclude_id=None)
                cols = list(values)
                conn.execute(
                    f"INSERT INTO {table.sql_name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [values[c] for c in cols],
                )
                _after_insert(conn, table, values)
                written.append(values["id"])
            result = self._rows_by_id(conn, table, caller, query.select, written)
            _check_single(single, result)
            return result

    def update(
        self, table: Table, caller: Caller, payload: dict[str, Any], query: ReadQuery, single: bool
    ) -> list[dict[str, Any]]:
        changes = _sql_values(table, payload)
        if table.has_updated_at and "updated_at" not in changes:
            changes["updated_at"] = now_iso()
        with self.db.connect(write=True) as conn:
            targets = self._targets(conn, table, caller, query)
            for row in targets:
                merged = {**dict(row), **changes}
                _check_row(conn, table, caller, merged, exclude_id=row["id"])
                _update_row(conn, table, row["id"], changes)
            result = self._rows_by_id(conn, table, caller, query.select, [r["id"] for r in targets])
            _check_single(single, result)
            return result

    def delete(self, table: Table, caller: Caller, query: ReadQuery, single: bool) -> list[dict[str, Any]]:
        with self.db.connect(write=True) as conn:
            targets = self._targets(conn, table, caller, query)
            ids = [r["id"] for r in targets]
            result = self._rows_by_id(conn, table, caller, query.select, ids)
            _check_single(single, result)
            if ids:
                conn.execute(f"DELETE FROM {table.sql_name} WHERE id IN ({', '.join('?' * len(ids))})", ids)
            return result

    def _targets(
        self, conn: sqlite3.Connection, table: Table, caller: Caller, query: ReadQuery
    ) -> list[sqlite3.Row]:
        ref = table.sql_name
        params: list[Any] = []
        where = [rls(table, caller, ref, params)]
        where.extend(condition_sql(table, f, ref, params) for f in query.filters)
        clause = " AND ".join(f"({w})" for w in where)
        rows: list[sqlite3.Row] = conn.execute(f"SELECT * FROM {ref} WHERE {clause}", params).fetchall()
        return rows


# --- helpers for writes ------------------------------------------------------------------------------------


def _payload_rows(body: Any) -> list[dict[str, Any]]:
    rows = body if isinstance(body, list) else [body]
    if not rows or not all(isinstance(r, dict) for r in rows):
        raise ApiError(400, "PGRST102", "insert body must be a JSON object or a non-empty array of objects")
    return rows


def _conflict_target(table: Table, on_conflict: str | None, resolution: str | None) -> Unique:
    if on_conflict is None or resolution is None:
        return table.pkey  # PostgREST resolves upserts on the primary key unless told otherwise
    wanted = tuple(c.strip().strip('"') for c in on_conflict.split(","))
    for uniq in (table.pkey, *table.unique):
        if set(uniq.columns) == set(wanted):
            return uniq
    raise ApiError(
        400, "42P10", "there is no unique or exclusion constraint matching the ON CONFLICT specification"
    )


def _sql_values(table: Table, given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in given.items():
        col = table.column(key)
        if col is None:
            raise ApiError(
                400, "PGRST204", f"Could not find the '{key}' column of '{table.name}' in the schema cache"
            )
        try:
            values[key] = to_sql(col, value)
        except ValueError22P02 as exc:
            raise ApiError(400, "22P02", str(exc)) from None
    return values


def _find(
    conn: sqlite3.Connection, table: Table, cols: tuple[str, ...], values: dict[str, Any]
) -> sqlite3.Row | None:
    where = " AND ".join(f"{c} = ?" for c in cols)
    row: sqlite3.Row | None = conn.execute(
        f"SELECT * FROM {table.sql_name} WHERE {where}", [values[c] for c in cols]
    ).fetchone()
    return row


def _rls_violation(table: Table) -> ApiError:
    return ApiError(403, "42501", f'new row violates row-level security policy for table "{table.name}"')


def _check_row(
    conn: sqlite3.Connection, table: Table, caller: Caller, row: dict[str, Any], exclude_id: str | None
) -> None:
    """What PostgreSQL checks before a row is written: NOT NULL, CHECK, RLS WITH CHECK, UNIQUE, FK."""
    for col in table.columns:
        if not col.nullable and row.get(col.name) is None:
            raise ApiError(
                400,
                "23502",
                f'null value in column "{col.name}" of relation "{table.name}" violates not-null constraint',
            )
    for check in table.checks:
        if not check.ok(row.get(check.column)):
            raise ApiError(
                400, "23514", f'new row for relation "{table.name}" violates check constraint "{check.name}"'
            )
    if table.policy == "owner" and (caller.user_id is None or row.get("user_id") != caller.user_id):
        if caller.user_id is None:
            raise ApiError(
                401, "42501", f'new row violates row-level security policy for table "{table.name}"'
            )
        raise _rls_violation(table)
    for uniq in (table.pkey, *table.unique):
        if any(row.get(c) is None for c in uniq.columns):
            continue  # NULLs never collide
        clash = _find(conn, table, uniq.columns, row)
        if clash is not None and clash["id"] != exclude_id:
            shown = ", ".join(str(row[c]) for c in uniq.columns)
            raise ApiError(
                409,
                "23505",
                f'duplicate key value violates unique constraint "{uniq.name}"',
                details=f"Key ({', '.join(uniq.columns)})=({shown}) already exists.",
            )
    for fk in table.foreign_keys:
        value = row.get(fk.column)
        target = TABLES[fk.target]
        if value is not None and _find(conn, target, (fk.target_column,), {fk.target_column: value}) is None:
            raise ApiError(
                409,
                "23503",
                f'insert or update on table "{table.name}" violates foreign key constraint "{fk.name}"',
                details=f'Key ({fk.column})=({value}) is not present in table "{fk.target}".',
            )


def _update_row(conn: sqlite3.Connection, table: Table, row_id: str, changes: dict[str, Any]) -> None:
    if changes:
        sets = ", ".join(f"{c} = ?" for c in changes)
        conn.execute(f"UPDATE {table.sql_name} SET {sets} WHERE id = ?", [*changes.values(), row_id])


def _before_insert(conn: sqlite3.Connection, table: Table, caller: Caller, values: dict[str, Any]) -> None:
    """The HogFlix triggers that run before an insert."""
    if table.name == "support_tickets":
        # set_support_ticket_user_and_throttle(): fills user_id and allows 5 tickets per hour.
        if values.get("user_id") is None:
            values["user_id"] = caller.user_id
        if values["user_id"] is None:
            raise ApiError(401, "P0001", "Authentication required to create support tickets")
        since = now_iso(datetime.now(UTC) - timedelta(hours=1))
        recent = conn.execute(
            "SELECT COUNT(*) FROM hf_support_tickets WHERE user_id = ? AND created_at > ?",
            (values["user_id"], since),
        ).fetchone()[0]
        if recent >= SUPPORT_TICKETS_PER_HOUR:
            raise ApiError(400, "P0001", "Support ticket rate limit exceeded. Please try again later.")


def _after_insert(conn: sqlite3.Connection, table: Table, values: dict[str, Any]) -> None:
    """assign_default_subscription(): a user's first profile gives them the default (Basic) plan."""
    if table.name != "profiles":
        return
    if conn.execute("SELECT 1 FROM hf_user_subscriptions WHERE user_id = ?", (values["user_id"],)).fetchone():
        return
    plan = conn.execute("SELECT id FROM hf_subscription_plans WHERE is_default = 1 LIMIT 1").fetchone()
    if plan is not None:
        stamp = now_iso()
        conn.execute(
            "INSERT INTO hf_user_subscriptions (id, user_id, plan_id, status, payment_intent, started_at, "
            "expires_at, created_at, updated_at) VALUES (?, ?, ?, 'active', NULL, ?, NULL, ?, ?)",
            (new_uuid(), values["user_id"], plan["id"], stamp, stamp, stamp),
        )


def _check_single(single: bool, rows: list[dict[str, Any]]) -> None:
    # Raised inside the transaction, so a write that would not yield exactly one row is rolled back,
    # as PostgREST does for `.single()` writes.
    if single and len(rows) != 1:
        raise _not_one(len(rows))


def _not_one(n: int) -> ApiError:
    return ApiError(
        406,
        "PGRST116",
        "JSON object requested, multiple (or no) rows returned",
        details=f"The result contains {n} rows",
    )


# --- request and response shapes -----------------------------------------------------------------------


def wants_object(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if OBJECT_TYPE in accept:
        if "nulls=stripped" in accept:
            raise ApiError(
                406, "PGRST107", "Accept: ...;nulls=stripped is not supported by the local backend"
            )
        return True
    if not accept or JSON_TYPE in accept or "*/*" in accept:
        return False
    raise ApiError(406, "PGRST107", f"None of these media types are available: {accept}")


async def request_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "PGRST102", "Empty or invalid json in the request body") from None


def respond(
    rows: list[dict[str, Any]], *, single: bool, total: int | None, offset: int, head: bool, status: int
) -> Response:
    total_text = "*" if total is None else str(total)
    span = f"{offset}-{offset + len(rows) - 1}" if rows else "*"
    headers = {"Content-Range": f"{span}/{total_text}"}
    if single:
        if len(rows) != 1:
            return error_response(_not_one(len(rows)))
        media = f"{OBJECT_TYPE}; charset=utf-8"
        content: Any = rows[0]
    else:
        media = f"{JSON_TYPE}; charset=utf-8"
        content = rows
    if head:
        return Response(status_code=status, headers=headers, media_type=media)
    return JSONResponse(content, status_code=status, headers=headers, media_type=media)


def cors_preflight_headers(request: Request) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": request.headers.get("origin", "*"),
        "Access-Control-Allow-Methods": "GET, HEAD, POST, PATCH, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers")
        or "authorization, x-client-info, apikey, content-type, prefer, accept-profile, content-profile",
        "Access-Control-Max-Age": "86400",
    }
