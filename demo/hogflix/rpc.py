"""PostgREST RPCs under `/rest/v1/rpc/<name>`: the SQL functions the HogFlix frontend calls.

Each mirrors its definition in `source/supabase/migrations/*.sql` (return shape included: a table
function answers a JSON array, a scalar function a bare JSON value). `get_video_ratings_batch` has no
migration (the app falls back to the per-video functions when it is missing, see
`source/src/lib/fetchVideoRatings.ts`); it is provided so one call serves a whole carousel.

The real functions are SECURITY DEFINER and trust their arguments; here a function that takes a
user id answers only for the caller, so one bot can never read another's subscription.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.hogflix.auth import Auth, Caller
from demo.hogflix.db import HogflixDB, ValueError22P02, now_iso, to_sql
from demo.hogflix.errors import ApiError, error_response
from demo.hogflix.rest import cors_preflight_headers, request_json
from demo.hogflix.schema import Column

_UUID = Column("arg", "uuid")


def _uuid(args: dict[str, Any], name: str) -> str:
    try:
        value: str = to_sql(_UUID, args[name])
    except ValueError22P02 as exc:
        raise ApiError(400, "22P02", f"{name}: {exc}") from None
    if value is None:
        raise ApiError(400, "22P02", f"{name} must not be null")
    return value


def _optional_user(args: dict[str, Any], caller: Caller) -> str | None:
    """`_user_id DEFAULT auth.uid()`, restricted to the caller."""
    if args.get("_user_id") is None:
        return caller.user_id
    wanted = _uuid(args, "_user_id")
    return wanted if wanted == caller.user_id else None


def get_my_profiles_public(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    rows = conn.execute(
        "SELECT id, display_name, is_kids_profile, early_access_features, created_at, updated_at "
        "FROM hf_profiles WHERE user_id = ? ORDER BY created_at, id",
        (caller.user_id,),
    ).fetchall()
    return [
        {
            "id": r["id"],
            "display_name": r["display_name"],
            "is_kids_profile": bool(r["is_kids_profile"]),
            "early_access_features": json.loads(r["early_access_features"] or "[]"),
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
        }
        for r in rows
    ]


def get_user_role(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    # The migration makes the first user an admin; a fleet's first bot must not get the admin UI, and
    # the local backend serves no admin tables, so everyone is a plain user.
    _optional_user(args, caller)
    return "user"


def get_user_subscription(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    user_id = _optional_user(args, caller)
    rows = conn.execute(
        "SELECT us.id AS subscription_id, sp.id AS plan_id, sp.name AS plan_name, "
        "sp.display_name AS plan_display_name, sp.price_monthly, sp.features, sp.max_profiles, "
        "sp.video_quality, us.status, us.started_at, us.expires_at "
        "FROM hf_user_subscriptions us JOIN hf_subscription_plans sp ON us.plan_id = sp.id "
        "WHERE us.user_id = ? AND us.status = 'active' LIMIT 1",
        (user_id,),
    ).fetchall()
    return [{**dict(r), "features": json.loads(r["features"])} for r in rows]


def get_video_ratings_batch(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    ids = args["video_ids"]
    if not isinstance(ids, list):
        raise ApiError(400, "22P02", "video_ids must be an array of uuids")
    wanted = [_uuid({"id": v}, "id") for v in ids]
    if not wanted:
        return []
    rows = conn.execute(
        f"SELECT video_id, AVG(rating) AS avg_rating, COUNT(*) AS rating_count FROM hf_video_ratings "
        f"WHERE video_id IN ({', '.join('?' * len(wanted))}) GROUP BY video_id",
        wanted,
    ).fetchall()
    return [dict(r) for r in rows]


def get_video_average_rating(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    row = conn.execute(
        "SELECT COALESCE(AVG(rating), 0) FROM hf_video_ratings WHERE video_id = ?",
        (_uuid(args, "video_id_param"),),
    ).fetchone()
    return row[0]


def get_video_rating_count(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    row = conn.execute(
        "SELECT COUNT(*) FROM hf_video_ratings WHERE video_id = ?", (_uuid(args, "video_id_param"),)
    ).fetchone()
    return row[0]


def get_user_video_rating(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    row = conn.execute(
        "SELECT rating FROM hf_video_ratings WHERE video_id = ? AND profile_id = ? AND user_id = ? LIMIT 1",
        (_uuid(args, "video_id_param"), _uuid(args, "profile_id_param"), caller.user_id),
    ).fetchone()
    return None if row is None else row[0]


def update_early_access_features(conn: sqlite3.Connection, caller: Caller, args: dict[str, Any]) -> Any:
    profile_id = _uuid(args, "profile_id_param")
    features = args["features_param"]
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise ApiError(400, "22P02", "features_param must be an array of text")
    owned = conn.execute(
        "SELECT 1 FROM hf_profiles WHERE id = ? AND user_id = ?", (profile_id, caller.user_id)
    ).fetchone()
    if owned is None:
        raise ApiError(400, "P0001", "Unauthorized: You do not own this profile")
    stamp = now_iso()
    conn.execute(
        "UPDATE hf_profiles SET early_access_features = ?, updated_at = ? WHERE id = ?",
        (json.dumps(features), stamp, profile_id),
    )
    return {"id": profile_id, "early_access_features": features, "updated_at": stamp}


@dataclass(frozen=True)
class Function:
    run: Callable[[sqlite3.Connection, Caller, dict[str, Any]], Any]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    writes: bool = False


FUNCTIONS: dict[str, Function] = {
    "get_my_profiles_public": Function(get_my_profiles_public),
    "get_user_role": Function(get_user_role, optional=("_user_id",)),
    "get_user_subscription": Function(get_user_subscription, optional=("_user_id",)),
    "get_video_ratings_batch": Function(get_video_ratings_batch, required=("video_ids",)),
    "get_video_average_rating": Function(get_video_average_rating, required=("video_id_param",)),
    "get_video_rating_count": Function(get_video_rating_count, required=("video_id_param",)),
    "get_user_video_rating": Function(get_user_video_rating, required=("video_id_param", "profile_id_param")),
    "update_early_access_features": Function(
        update_early_access_features, required=("profile_id_param", "features_param"), writes=True
    ),
}


class Rpc:
    def __init__(self, db: HogflixDB, auth: Auth) -> None:
        self.db = db
        self.auth = auth

    async def endpoint(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=200, headers=cors_preflight_headers(request))
        try:
            name = request.path_params["name"]
            fn = FUNCTIONS.get(name)
            if fn is None:
                raise ApiError(
                    404,
                    "PGRST202",
                    f"Could not find the function public.{name} in the schema cache (the local HogFlix "
                    f"backend provides: {', '.join(sorted(FUNCTIONS))})",
                )
            caller = self.auth.caller(request)
            raw = await request.body()
            args = await request_json(request) if raw.strip() else {}
            if not isinstance(args, dict):
                raise ApiError(400, "PGRST102", "RPC arguments must be a JSON object")
            missing = [a for a in fn.required if a not in args]
            unknown = sorted(set(args) - set(fn.required) - set(fn.optional))
            if missing or unknown:
                expected = ", ".join((*fn.required, *fn.optional)) or "no arguments"
                raise ApiError(
                    404,
                    "PGRST202",
                    f"Could not find the function public.{name}({', '.join(sorted(args))}) in the schema "
                    f"cache (it takes: {expected})",
                )
            result = await run_in_threadpool(self._call, fn, caller, args)
        except ApiError as exc:
            return error_response(exc)
        return JSONResponse(result)

    def _call(self, fn: Function, caller: Caller, args: dict[str, Any]) -> Any:
        with self.db.connect(write=fn.writes) as conn:
            return fn.run(conn, caller, args)
