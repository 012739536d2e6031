"""Edge functions under `/functions/v1/<name>`: deterministic local stand-ins, same request/response shapes.

Shapes follow `source/supabase/functions/<name>/index.ts`. Where the real function calls an LLM or
Stripe, this one answers from the catalog instead: FlixBuddy and AI search use `demo/recommender.py`,
summaries are built from the catalog text, and checkout completes at once in "test mode" (it records the
subscription the Stripe webhook would record and sends the browser straight to the success page).

Errors keep the functions' own `{"error": ...}` body (the app only looks at the status) and add
`code`/`message` like the rest of the backend.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from analytics.events import CapturedEvent
from analytics.store import EventStore
from demo.catalog import Catalog, Title
from demo.hogflix.auth import Auth, Caller, request_origin
from demo.hogflix.db import HogflixDB, new_uuid, now_iso, row_json, video_uuid
from demo.hogflix.errors import ApiError
from demo.hogflix.media import Media
from demo.recommender import recommend

log = logging.getLogger("demo.hogflix.functions")

MODEL = "hogflix-local-recommender"
PROVIDER = "local"
SEARCH_RESULTS = 6
# The functions' CORS headers (every source/supabase/functions/*/index.ts declares these).
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
}


def _fail(status: int, code: str, message: str) -> ApiError:
    return ApiError(status, code, message)


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


class Functions:
    def __init__(
        self, db: HogflixDB, auth: Auth, catalog: Catalog, media: Media, store: EventStore, token: str
    ) -> None:
        self.db = db
        self.auth = auth
        self.catalog = catalog
        self.media = media
        self.store = store
        self.token = token  # the project key server-side $ai_generation events are captured with
        self._titles_by_video = {video_uuid(t.id): t for t in catalog.titles}
        self.handlers = {
            "get-video-url": self.get_video_url,
            "flixbuddy-chat": self.flixbuddy_chat,
            "ai-search": self.ai_search,
            "generate-video-summary": self.generate_video_summary,
            "create-stripe-checkout": self.create_stripe_checkout,
            "verify-subscription": self.verify_subscription,
        }

    async def endpoint(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response("ok", headers=CORS)
        name = request.path_params["name"]
        handler = self.handlers.get(name)
        try:
            if handler is None:
                raise _fail(
                    404,
                    "NOT_FOUND",
                    f"Function {name} is not provided by the local HogFlix backend "
                    f"(it provides: {', '.join(sorted(self.handlers))})",
                )
            caller = self.auth.caller(request)
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise _fail(400, "bad_json", "request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise _fail(400, "bad_json", "request body must be a JSON object")
            result = await handler(request, caller, body)
        except ApiError as exc:
            return JSONResponse(
                {"error": exc.message, "code": exc.code, "message": exc.message},
                status_code=exc.status,
                headers=CORS,
            )
        return JSONResponse(result, headers=CORS)

    # --- video --------------------------------------------------------------------------------------

    async def get_video_url(self, request: Request, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        video_id = body.get("videoId")
        if not isinstance(video_id, str) or not video_id:
            raise _fail(400, "bad_request", "Video ID is required")
        video = await run_in_threadpool(self._video, video_id)
        return {
            "signedUrl": self.media.signed_url(request_origin(request), video["video_url"]),
            "isHLS": False,
        }

    def _video(self, video_id: str) -> dict[str, Any]:
        title = self._titles_by_video.get(video_id)
        if title is None:
            raise _fail(404, "not_found", "Video not found")
        with self.db.connect() as conn:
            row = conn.execute("SELECT * FROM hf_videos WHERE id = ?", (video_id,)).fetchone()
        if row is None:
            raise _fail(404, "not_found", "Video not found")
        return row_json("videos", row)

    async def generate_video_summary(
        self, request: Request, caller: Caller, body: dict[str, Any]
    ) -> dict[str, Any]:
        video_id = body.get("videoId")
        if not isinstance(video_id, str) or not video_id:
            raise _fail(400, "bad_request", "videoId is required")
        return await run_in_threadpool(self._summary, video_id)

    def _summary(self, video_id: str) -> dict[str, Any]:
        video = self._video(video_id)
        if video["ai_summary"]:
            return {"summary": video["ai_summary"], "cached": True}
        title = self._titles_by_video[video_id]
        minutes = title.duration_s // 60
        kind = (
            f"a {len(title.episodes)}-episode {title.genre.lower()} series"
            if title.episodes
            else (f"a {minutes}-minute {title.genre.lower()} film")
        )
        summary = f"{title.name} ({title.year}) is {kind}. {title.description}"
        with self.db.connect(write=True) as conn:
            conn.execute(
                "UPDATE hf_videos SET ai_summary = ?, updated_at = ? WHERE id = ? AND ai_summary IS NULL",
                (summary, now_iso(), video_id),
            )
        return {"summary": summary, "cached": False}

    # --- FlixBuddy and search --------------------------------------------------------------------------

    async def flixbuddy_chat(self, request: Request, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        if caller.user_id is None:
            raise _fail(401, "unauthorized", "FlixBuddy needs a signed-in user")
        message = body.get("message")
        conversation_id = body.get("conversationId")
        if not isinstance(message, str) or not message.strip():
            raise _fail(400, "bad_request", "message is required")
        if not isinstance(conversation_id, str) or not conversation_id:
            raise _fail(400, "bad_request", "conversationId is required")
        started = time.monotonic()
        reply, ids = await run_in_threadpool(
            self._chat, caller.user_id, conversation_id, message.strip()[:2000]
        )
        latency_ms = int((time.monotonic() - started) * 1000)
        tokens = {"input": _tokens(message), "output": _tokens(reply)}
        tokens["total"] = tokens["input"] + tokens["output"]
        distinct_id = body.get("posthogDistinctId") or caller.user_id
        # The real function reports each generation to PostHog from the server (LLM analytics).
        props: dict[str, Any] = {
            "$ai_model": MODEL,
            "$ai_provider": PROVIDER,
            "$ai_input": [{"role": "user", "content": message}],
            "$ai_output_choices": [{"role": "assistant", "content": reply}],
            "$ai_input_tokens": tokens["input"],
            "$ai_output_tokens": tokens["output"],
            "$ai_total_cost_usd": 0,
            "$ai_latency": latency_ms / 1000,
            "$ai_trace_id": conversation_id,
            "$ai_http_status": 200,
            "$ai_is_error": False,
            "profile_id": body.get("profileId"),
            "recommended_video_ids": ids,
        }
        if body.get("posthogSessionId"):
            props["$session_id"] = body["posthogSessionId"]
        await self._capture(str(distinct_id), "$ai_generation", props)
        return {
            "message": reply,
            "conversationId": conversation_id,
            "metadata": {
                "tokens": tokens,
                "latency": latency_ms,
                "cost": {"input": 0, "output": 0, "total": 0},
                "model": MODEL,
                "provider": PROVIDER,
            },
        }

    def _chat(self, user_id: str, conversation_id: str, message: str) -> tuple[str, list[str]]:
        with self.db.connect(write=True) as conn:
            owned = conn.execute(
                "SELECT 1 FROM hf_chat_conversations WHERE id = ? AND user_id = ?", (conversation_id, user_id)
            ).fetchone()
            if owned is None:
                raise _fail(404, "not_found", "Conversation not found")
            previous_genre, already = _history(conn, conversation_id)
            rec = recommend(self.catalog, message, previous_genre=previous_genre, already=frozenset(already))
            ids = [video_uuid(t.id) for t in rec.titles]
            stamp = now_iso()
            for role, content, meta in (
                ("user", message, {}),
                (
                    "assistant",
                    rec.reply,
                    {
                        "model": MODEL,
                        "provider": PROVIDER,
                        "recommendations": ids,
                        "title_ids": [t.id for t in rec.titles],
                        "genre": rec.genre,
                    },
                ),
            ):
                conn.execute(
                    "INSERT INTO hf_chat_messages (id, conversation_id, role, content, metadata, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (new_uuid(), conversation_id, role, content, json.dumps(meta), stamp),
                )
            return rec.reply, ids

    async def ai_search(self, request: Request, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise _fail(400, "bad_request", "Query parameter is required")
        picks: list[Title] = self.catalog.search(query)[:SEARCH_RESULTS]
        if len(picks) < 3:
            # What the real function asks its LLM for: titles matching the mood of the query.
            seen = {t.id for t in picks}
            picks += [t for t in recommend(self.catalog, query, n=SEARCH_RESULTS).titles if t.id not in seen]
            picks = picks[:SEARCH_RESULTS]
        videos = await run_in_threadpool(self._videos, [video_uuid(t.id) for t in picks])
        return {"videos": videos, "query": query, "aiRecommendations": [t.name for t in picks]}

    def _videos(self, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        with self.db.connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM hf_videos WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall()
        by_id = {r["id"]: row_json("videos", r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    # --- subscriptions ----------------------------------------------------------------------------------

    async def create_stripe_checkout(
        self, request: Request, caller: Caller, body: dict[str, Any]
    ) -> dict[str, Any]:
        if caller.user_id is None:
            raise _fail(401, "unauthorized", "User not authenticated or email not available")
        plan = body.get("plan_name")
        session_id = f"cs_test_local_{secrets.token_hex(12)}"
        await run_in_threadpool(self._subscribe, caller.user_id, plan, session_id)
        origin = request_origin(request)
        return {"url": f"{origin}/checkout/success?plan={plan}&session_id={session_id}"}

    def _subscribe(self, user_id: str, plan: Any, payment_intent: str) -> None:
        with self.db.connect(write=True) as conn:
            # Stripe prices exist for the paid plans only (PRICE_IDS in create-stripe-checkout).
            row = conn.execute(
                "SELECT id FROM hf_subscription_plans WHERE name = ? AND is_default = 0", (plan,)
            ).fetchone()
            if row is None:
                raise _fail(400, "bad_request", f"Invalid plan name: {plan}")
            stamp = now_iso()
            conn.execute(
                "INSERT INTO hf_user_subscriptions (id, user_id, plan_id, status, payment_intent, "
                "started_at, expires_at, created_at, updated_at) "
                "VALUES (?, ?, ?, 'active', ?, ?, NULL, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET plan_id = excluded.plan_id, status = 'active', "
                "payment_intent = excluded.payment_intent, started_at = excluded.started_at, "
                "updated_at = excluded.updated_at",
                (new_uuid(), user_id, row["id"], payment_intent, stamp, stamp, stamp),
            )

    async def verify_subscription(
        self, request: Request, caller: Caller, body: dict[str, Any]
    ) -> dict[str, Any]:
        if caller.user_id is None:
            raise _fail(401, "unauthorized", "Unauthorized")
        sub = await run_in_threadpool(self._subscription, caller.user_id)
        if sub is None:
            return {"hasSubscription": False, "message": "No active subscription found"}
        return {"hasSubscription": True, "subscription": sub}

    def _subscription(self, user_id: str) -> dict[str, Any] | None:
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT sp.name AS plan_name, sp.display_name AS plan_display_name, us.status, "
                "us.started_at, us.expires_at FROM hf_user_subscriptions us "
                "JOIN hf_subscription_plans sp ON us.plan_id = sp.id "
                "WHERE us.user_id = ? AND us.status = 'active' LIMIT 1",
                (user_id,),
            ).fetchone()
        return None if row is None else dict(row)

    async def _capture(self, distinct_id: str, event: str, properties: dict[str, Any]) -> None:
        captured = CapturedEvent(
            uuid=str(uuid.uuid4()),
            event=event,
            distinct_id=distinct_id,
            timestamp=datetime.now(UTC),
            properties=properties,
            token=self.token,
        )
        try:
            await run_in_threadpool(self.store.insert, [captured])
        except sqlite3.Error as exc:  # analytics must never break the chat, as in the real function
            log.error("storing %s failed: %s", event, exc)


def _history(conn: sqlite3.Connection, conversation_id: str) -> tuple[str | None, list[str]]:
    """The conversation's last recommended genre and every catalog title already recommended in it."""
    genre: str | None = None
    already: list[str] = []
    rows = conn.execute(
        "SELECT metadata FROM hf_chat_messages WHERE conversation_id = ? AND role = 'assistant' "
        "ORDER BY created_at, rowid",
        (conversation_id,),
    ).fetchall()
    for row in rows:
        meta = json.loads(row["metadata"] or "{}")
        genre = meta.get("genre") or genre
        already.extend(meta.get("title_ids", []))
    return genre, already
