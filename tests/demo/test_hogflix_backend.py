"""The local Supabase stand-in (demo/hogflix/) over real HTTP: what supabase-js sends, what it gets back.

One uvicorn server (in a thread) serves a tiny stand-in build written to a temp dir, so these tests do
not need the real HogFlix checkout; the one test that checks the real bundle reads it from
`../shared/hogflix/dist` and skips without it. Requests carry the headers supabase-js sends (`apikey`,
`Authorization: Bearer`, `Prefer`, `Accept`), and each test signs up users of its own.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.store import EventStore
from analytics.testing import serve_in_thread
from demo.app import create_app
from demo.catalog import GENRES, get_catalog
from demo.faults import parse_faults
from demo.hogflix import auth as auth_module
from demo.hogflix.db import video_uuid
from demo.settings import DemoConfigError, DemoSettings

REPO = Path(__file__).resolve().parents[2]
REAL_DIST = REPO.parent / "shared" / "hogflix" / "dist"
SUPABASE_ORIGIN = "https://ygbftctnpvxhflpamjrt.supabase.co"
PASSWORD = "correct horse battery"


def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


# Any JWT claiming role "anon" is the anon key (the real one is signed by a secret nobody here has).
ANON_KEY = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'role': 'anon', 'iss': 'supabase'})}.c2ln"
ANON = {"apikey": ANON_KEY, "Authorization": f"Bearer {ANON_KEY}"}


@dataclass
class Backend:
    url: str
    client: httpx.Client
    store: EventStore
    build: Path


@dataclass
class User:
    id: str
    email: str
    session: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"apikey": ANON_KEY, "Authorization": f"Bearer {self.session['access_token']}"}


def fake_build(root: Path) -> Path:
    """The shape of a Vite build: index.html, a hashed bundle naming the Supabase project, a static file."""
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><div id="root"></div><script src="/assets/app-1.js"></script>'
    )
    (root / "assets" / "app-1.js").write_text(f'const SUPABASE_URL = "{SUPABASE_ORIGIN}";\n')
    (root / "robots.txt").write_text("User-agent: *\n")
    return root


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    root = tmp_path_factory.mktemp("hogflix")
    build = fake_build(root / "dist")
    settings = DemoSettings(db_path=root / "data" / "app.sqlite3", frontend=build)
    app = create_app(settings)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Backend(url, client, app.state.event_store, build)


def signup(backend: Backend) -> User:
    email = f"bot-{secrets.token_hex(4)}@example.com"
    resp = backend.client.post("/auth/v1/signup", json={"email": email, "password": PASSWORD}, headers=ANON)
    assert resp.status_code == 200, resp.text
    session = resp.json()
    return User(session["user"]["id"], email, session)


def add_profile(backend: Backend, user: User, name: str = "Main") -> dict[str, Any]:
    resp = backend.client.post(
        "/rest/v1/profiles",
        json={"user_id": user.id, "display_name": name, "is_kids_profile": False},
        headers={
            **user.headers,
            "Prefer": "return=representation",
            "Accept": "application/vnd.pgrst.object+json",
        },
    )
    assert resp.status_code == 201, resp.text
    profile: dict[str, Any] = resp.json()
    return profile


def first_video(backend: Backend) -> dict[str, Any]:
    resp = backend.client.get(
        "/rest/v1/videos", params={"select": "*", "order": "title.asc", "limit": "1"}, headers=ANON
    )
    row: dict[str, Any] = resp.json()[0]
    return row


def video_at(backend: Backend, n: int) -> dict[str, Any]:
    """The catalog's n-th title as a videos row: tests that count ratings each use a video of their own."""
    resp = backend.client.get(
        "/rest/v1/videos", params={"id": f"eq.{video_uuid(get_catalog().titles[n].id)}"}, headers=ANON
    )
    row: dict[str, Any] = resp.json()[0]
    return row


def jwt_claims(token: str) -> dict[str, Any]:
    header, payload, _ = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def assert_error(resp: httpx.Response, status: int, code: str, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    for word in words:
        assert word in body["message"], body


# --- GoTrue -------------------------------------------------------------------------------------------------


def test_signup_token_user_refresh_logout(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    c = backend.client
    user = signup(backend)
    s = user.session
    # The fields @supabase/auth-js needs to treat the signup as signed in (email confirmation off).
    assert s["token_type"] == "bearer" and s["expires_in"] == 3600 and s["refresh_token"]
    assert abs(s["expires_at"] - (time.time() + 3600)) < 60
    claims = jwt_claims(s["access_token"])
    assert claims["sub"] == user.id and claims["role"] == "authenticated" and claims["aud"] == "authenticated"
    assert claims["exp"] == s["expires_at"] and claims["email"] == user.email
    assert claims["iss"] == f"{backend.url}/auth/v1"
    u = s["user"]
    assert (u["email"], u["aud"], u["role"]) == (user.email, "authenticated", "authenticated")
    assert u["app_metadata"]["provider"] == "email" and u["identities"] and u["created_at"]

    again = c.post("/auth/v1/signup", json={"email": user.email, "password": PASSWORD}, headers=ANON)
    assert_error(again, 422, "user_already_exists", "already registered")
    weak = c.post("/auth/v1/signup", json={"email": "x-" + user.email, "password": "abc"}, headers=ANON)
    assert_error(weak, 422, "weak_password", "at least 6")

    wrong = c.post(
        "/auth/v1/token?grant_type=password",
        json={"email": user.email, "password": "nope-nope"},
        headers=ANON,
    )
    # Login.tsx looks for this exact phrase to show its hint.
    assert_error(wrong, 400, "invalid_credentials", "Invalid login credentials")
    login = c.post(
        "/auth/v1/token?grant_type=password", json={"email": user.email, "password": PASSWORD}, headers=ANON
    )
    assert login.status_code == 200 and login.json()["user"]["id"] == user.id
    session = login.json()
    bearer = {"apikey": ANON_KEY, "Authorization": f"Bearer {session['access_token']}"}
    me = c.get("/auth/v1/user", headers=bearer)
    assert me.status_code == 200 and me.json()["id"] == user.id

    refreshed = c.post(
        "/auth/v1/token?grant_type=refresh_token",
        json={"refresh_token": session["refresh_token"]},
        headers=ANON,
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert (
        new["refresh_token"] != session["refresh_token"] and jwt_claims(new["access_token"])["sub"] == user.id
    )
    # Two tabs refreshing at once: the second use of the old token, within the reuse interval, gets the same
    # new refresh token instead of a logout.
    twice = c.post(
        "/auth/v1/token?grant_type=refresh_token",
        json={"refresh_token": session["refresh_token"]},
        headers=ANON,
    )
    assert twice.status_code == 200 and twice.json()["refresh_token"] == new["refresh_token"]
    monkeypatch.setattr(auth_module, "REFRESH_REUSE_INTERVAL_S", -1.0)
    replay = c.post(
        "/auth/v1/token?grant_type=refresh_token",
        json={"refresh_token": session["refresh_token"]},
        headers=ANON,
    )
    assert_error(replay, 400, "refresh_token_already_used", "Already Used")

    assert (
        c.post("/auth/v1/resend", json={"type": "signup", "email": user.email}, headers=ANON).status_code
        == 200
    )
    assert c.post("/auth/v1/logout?scope=global", headers=bearer).status_code == 204
    assert_error(c.get("/auth/v1/user", headers=bearer), 403, "session_not_found")
    gone = c.post(
        "/auth/v1/token?grant_type=refresh_token", json={"refresh_token": new["refresh_token"]}, headers=ANON
    )
    assert_error(gone, 400, "refresh_token_not_found")


def test_auth_rejects_bad_requests_with_a_reason(backend: Backend) -> None:
    c = backend.client
    assert_error(c.post("/auth/v1/signup", content=b"{not json", headers=ANON), 400, "bad_json")
    assert_error(
        c.post("/auth/v1/signup", json={"email": "nope", "password": PASSWORD}, headers=ANON),
        400,
        "validation_failed",
    )
    assert_error(
        c.post("/auth/v1/token?grant_type=pkce", json={}, headers=ANON), 400, "unsupported_grant_type", "pkce"
    )
    assert_error(c.get("/auth/v1/user", headers={"Authorization": "Bearer a.b.c"}), 403, "bad_jwt")
    assert_error(c.get("/auth/v1/settings", headers=ANON), 404, "not_found", "/auth/v1/settings")


# --- PostgREST: reads ---------------------------------------------------------------------------------------


def test_catalog_is_seeded_and_embeds_follow_fk_hints(backend: Backend) -> None:
    c = backend.client
    # TrendingCarousel.tsx's query, as postgrest-js puts it on the wire.
    resp = c.get(
        "/rest/v1/videos",
        params={
            "select": "*,categories!videos_category_id_fkey!inner(name)",
            "order": "created_at.desc",
            "limit": "50",
        },
        headers=ANON,
    )
    assert resp.status_code == 200, resp.text
    rows = resp.json()
    assert len(rows) == 50 and resp.headers["content-range"] == "0-49/*"
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
    assert all(r["categories"]["name"] in GENRES and r["is_public"] is True for r in rows)
    assert {"id", "title", "duration", "thumbnail_url", "video_url", "category_id", "ai_summary"} <= set(
        rows[0]
    )

    cats = c.get("/rest/v1/categories", params={"select": "*", "order": "sort_order"}, headers=ANON).json()
    assert [cat["name"] for cat in cats] == list(GENRES)
    # One-to-many the other way round, and column aliases.
    horror = next(cat for cat in cats if cat["name"] == "Horror")
    one = c.get(
        "/rest/v1/categories",
        params={"select": "label:name,videos(id,title)", "id": f"eq.{horror['id']}"},
        headers=ANON,
    ).json()
    assert one[0]["label"] == "Horror"
    assert len(one[0]["videos"]) == len(get_catalog().by_genre("Horror"))

    plans = c.get(
        "/rest/v1/subscription_plans", params={"select": "name,price_monthly,features"}, headers=ANON
    )
    assert [p["name"] for p in plans.json()] == ["basic", "standard", "premium"]
    assert isinstance(plans.json()[0]["features"], list)


def test_filters_order_paging_count_and_single(backend: Backend) -> None:
    c = backend.client
    titles = get_catalog().titles
    ids = [video_uuid(t.id) for t in titles[:3]]
    got = c.get(
        "/rest/v1/videos", params={"select": "id", "id": f"in.({','.join(ids)})"}, headers=ANON
    ).json()
    assert sorted(r["id"] for r in got) == sorted(ids)
    short = c.get(
        "/rest/v1/videos", params={"select": "duration", "duration": "lte.1800"}, headers=ANON
    ).json()
    assert short and all(r["duration"] <= 1800 for r in short)
    assert len(short) == sum(1 for t in titles if t.duration_s <= 1800)
    long = c.get(
        "/rest/v1/videos", params={"select": "duration", "duration": "gte.9000"}, headers=ANON
    ).json()
    assert all(r["duration"] >= 9000 for r in long)
    word = titles[0].name.split()[-1]
    like = c.get(
        "/rest/v1/videos", params={"select": "title", "title": f"ilike.*{word.upper()}*"}, headers=ANON
    ).json()
    assert like and all(word.lower() in r["title"].lower() for r in like)
    either = c.get(
        "/rest/v1/videos",
        params={"select": "id", "or": f"(id.eq.{ids[0]},id.eq.{ids[1]})"},
        headers=ANON,
    ).json()
    assert sorted(r["id"] for r in either) == sorted(ids[:2])
    assert c.get("/rest/v1/videos", params={"select": "id", "is_public": "eq.true"}, headers=ANON).json()
    unsummarised = c.get(
        "/rest/v1/videos", params={"select": "ai_summary", "ai_summary": "is.null"}, headers=ANON
    )
    assert unsummarised.json() and all(r["ai_summary"] is None for r in unsummarised.json())

    page = c.get(
        "/rest/v1/videos",
        params={"select": "id", "order": "title.asc", "limit": "5", "offset": "5"},
        headers=ANON,
    )
    whole = c.get(
        "/rest/v1/videos", params={"select": "id", "order": "title.asc", "limit": "10"}, headers=ANON
    )
    assert page.json() == whole.json()[5:10] and page.headers["content-range"] == "5-9/*"

    # VideoPlayer.tsx counts with `{ count: 'exact', head: true }`: a HEAD with Prefer: count=exact.
    head = c.head("/rest/v1/videos", params={"select": "*"}, headers={**ANON, "Prefer": "count=exact"})
    assert (
        head.status_code == 200
        and head.content == b""
        and head.headers["content-range"] == f"0-{len(titles) - 1}/{len(titles)}"
    )

    one = c.get(
        "/rest/v1/videos",
        params={"select": "*", "id": f"eq.{ids[0]}"},
        headers={**ANON, "Accept": "application/vnd.pgrst.object+json"},
    )
    assert one.status_code == 200 and one.json()["id"] == ids[0]
    assert one.headers["content-type"].startswith("application/vnd.pgrst.object+json")
    many = c.get(
        "/rest/v1/videos",
        params={"select": "id"},
        headers={**ANON, "Accept": "application/vnd.pgrst.object+json"},
    )
    # `.single()` on many rows: the error postgrest-js and useWatchProgress.ts know by its code.
    assert_error(many, 406, "PGRST116")
    assert many.json()["details"] == f"The result contains {len(titles)} rows"


def test_unsupported_queries_fail_loudly_naming_what(backend: Backend) -> None:
    c = backend.client
    assert_error(c.get("/rest/v1/videos?title=fts.space", headers=ANON), 400, "PGRST100", "'fts'")
    assert_error(c.get("/rest/v1/videos?title=cs.{a}", headers=ANON), 400, "PGRST100", "'cs'")
    assert_error(c.get("/rest/v1/video_analytics?select=*", headers=ANON), 404, "PGRST205", "video_analytics")
    assert_error(c.get("/rest/v1/chat_messages?select=*", headers=ANON), 404, "PGRST205", "chat_messages")
    assert_error(c.get("/rest/v1/videos?select=nope", headers=ANON), 400, "42703", "videos.nope")
    assert_error(c.get("/rest/v1/videos?nope=eq.1", headers=ANON), 400, "42703", "videos.nope")
    assert_error(c.get("/rest/v1/videos?select=...categories(name)", headers=ANON), 400, "PGRST100", "spread")
    assert_error(c.get("/rest/v1/videos?select=title::int", headers=ANON), 400, "PGRST100", "'::'")
    assert_error(
        c.get("/rest/v1/videos?select=*,categories!no_such_fkey(name)", headers=ANON),
        400,
        "PGRST200",
        "no_such_fkey",
    )
    assert_error(c.get("/rest/v1/videos?select=*,profiles(id)", headers=ANON), 400, "PGRST200", "profiles")
    assert_error(
        c.get("/rest/v1/videos?categories.name=eq.Horror", headers=ANON), 400, "PGRST100", "embedded"
    )
    assert_error(
        c.get("/rest/v1/videos?order=categories(name).desc", headers=ANON), 400, "PGRST100", "embedded"
    )
    assert_error(c.get("/rest/v1/videos?limit=ten", headers=ANON), 400, "PGRST100", "limit")
    assert_error(c.get("/rest/v1/videos?category_id=eq.undefined", headers=ANON), 400, "22P02", "uuid")
    assert_error(
        c.get("/rest/v1/videos", headers={**ANON, "Accept": "text/csv"}), 406, "PGRST107", "text/csv"
    )
    assert_error(c.get("/rest/v1/videos"), 401, "no_api_key")
    assert_error(c.get("/rest/v1/videos", headers={"Authorization": "Bearer x.y.z"}), 401, "PGRST301")
    video = first_video(backend)
    user = signup(backend)
    write = c.patch(f"/rest/v1/videos?id=eq.{video['id']}", json={"title": "Mine now"}, headers=user.headers)
    assert_error(write, 403, "42501", "videos")


# --- PostgREST: writes and row-level security -----------------------------------------------------------


def test_rls_isolates_users_and_anon(backend: Backend) -> None:
    c = backend.client
    alice, bob = signup(backend), signup(backend)
    a_profile = add_profile(backend, alice, "Alice")
    assert a_profile["user_id"] == alice.id and a_profile["marketing_opt_in"] is True
    assert a_profile["early_access_features"] == []

    assert c.get("/rest/v1/profiles?select=*", headers=bob.headers).json() == []
    assert c.get("/rest/v1/profiles?select=*", headers=ANON).json() == []
    assert [p["id"] for p in c.get("/rest/v1/profiles?select=*", headers=alice.headers).json()] == [
        a_profile["id"]
    ]

    # Bob's update and delete of Alice's row match nothing (RLS filters), and change nothing.
    patched = c.patch(
        f"/rest/v1/profiles?id=eq.{a_profile['id']}",
        json={"display_name": "Hacked"},
        headers={**bob.headers, "Prefer": "return=representation"},
    )
    assert patched.status_code == 200 and patched.json() == []
    assert c.delete(f"/rest/v1/profiles?id=eq.{a_profile['id']}", headers=bob.headers).status_code == 204
    mine = c.get(
        f"/rest/v1/profiles?id=eq.{a_profile['id']}&select=display_name", headers=alice.headers
    ).json()
    assert mine == [{"display_name": "Alice"}]

    as_alice = c.post(
        "/rest/v1/profiles", json={"user_id": alice.id, "display_name": "x"}, headers=bob.headers
    )
    assert_error(as_alice, 403, "42501", "row-level security", "profiles")
    assert_error(
        c.post("/rest/v1/support_tickets", json={"issue_category": "a", "description": "b"}, headers=ANON),
        401,
        "P0001",
    )
    moved = c.patch(
        f"/rest/v1/profiles?id=eq.{a_profile['id']}", json={"user_id": bob.id}, headers=alice.headers
    )
    assert_error(moved, 403, "42501")

    # Signup.tsx saves the newsletter choice by user_id; NewsletterPreferences.tsx reads it back.
    saved = c.patch(
        f"/rest/v1/profiles?user_id=eq.{alice.id}",
        json={"marketing_opt_in": False},
        headers={**alice.headers, "Prefer": "return=representation"},
    )
    assert saved.status_code == 200 and saved.json()[0]["marketing_opt_in"] is False
    assert saved.json()[0]["updated_at"] > a_profile["updated_at"]


def test_watchlist_progress_ratings_tickets_and_upserts(backend: Backend) -> None:
    c = backend.client
    user = signup(backend)
    profile = add_profile(backend, user)
    video = first_video(backend)
    h = user.headers
    key = {"user_id": user.id, "profile_id": profile["id"], "video_id": video["id"]}

    assert (
        c.post("/rest/v1/user_watchlist", json=key, headers=h).status_code == 201
    )  # return=minimal: no body
    dup = c.post("/rest/v1/user_watchlist", json=key, headers=h)
    assert_error(dup, 409, "23505", "user_watchlist_user_id_profile_id_video_id_key")
    ghost = c.post("/rest/v1/user_watchlist", json={**key, "video_id": video_uuid("nope")}, headers=h)
    assert_error(ghost, 409, "23503", "user_watchlist_video_id_fkey")
    listed = c.get(
        f"/rest/v1/user_watchlist?select=video_id&user_id=eq.{user.id}&profile_id=eq.{profile['id']}",
        headers=h,
    ).json()
    assert listed == [{"video_id": video["id"]}]
    gone = c.delete(
        f"/rest/v1/user_watchlist?user_id=eq.{user.id}&profile_id=eq.{profile['id']}&video_id=eq.{video['id']}",
        headers={**h, "Prefer": "return=representation"},
    )
    assert gone.status_code == 200 and len(gone.json()) == 1

    progress = {
        **key,
        "progress_seconds": 600,
        "duration_seconds": video["duration"],
        "progress_percentage": 10.5,
        "completed": False,
        "session_id": "s1",
        "last_watched_at": "2026-01-02T03:04:05.678Z",
    }
    assert c.post("/rest/v1/watch_progress", json=progress, headers=h).status_code == 201
    # useWatchProgress.ts's resume query: nested embed with an FK hint, filters and ordering.
    resume = c.get(
        "/rest/v1/watch_progress",
        params={
            "select": "progress_seconds,progress_percentage,last_watched_at,"
            "videos(id,title,duration,categories!videos_category_id_fkey(name))",
            "user_id": f"eq.{user.id}",
            "profile_id": f"eq.{profile['id']}",
            "completed": "eq.false",
            "progress_seconds": "gte.5",
            "progress_percentage": "lte.95",
            "order": "last_watched_at.desc",
            "limit": "15",
        },
        headers=h,
    ).json()
    assert resume[0]["videos"]["id"] == video["id"] and resume[0]["videos"]["categories"]["name"] in GENRES
    assert resume[0]["last_watched_at"] == "2026-01-02T03:04:05.678000+00:00"
    done = c.patch(
        f"/rest/v1/watch_progress?user_id=eq.{user.id}&video_id=eq.{video['id']}",
        json={"completed": True},
        headers=h,
    )
    assert done.status_code == 204
    count = c.head(
        f"/rest/v1/watch_progress?select=*&user_id=eq.{user.id}&completed=eq.true",
        headers={**h, "Prefer": "count=exact"},
    )
    assert count.headers["content-range"] == "0-0/1"

    # HedgehogRating.tsx upserts without on_conflict: PostgREST resolves on the primary key (id), so a second
    # rating of the same video is a fresh insert that hits the (video_id, profile_id) unique key, as in the
    # real app.
    rating = {**key, "rating": 4}
    merge = {**h, "Prefer": "resolution=merge-duplicates"}
    assert c.post("/rest/v1/video_ratings", json=rating, headers=merge).status_code == 201
    assert_error(
        c.post("/rest/v1/video_ratings", json=rating, headers=merge),
        409,
        "23505",
        "video_ratings_video_id_profile_id_key",
    )
    assert_error(c.post("/rest/v1/video_ratings", json={**rating, "rating": 9}, headers=merge), 400, "23514")

    # Checkout.tsx and Pricing.tsx upsert the subscription with on_conflict=user_id.
    plans = {
        p["name"]: p["id"] for p in c.get("/rest/v1/subscription_plans?select=id,name", headers=h).json()
    }
    sub = c.get(
        f"/rest/v1/user_subscriptions?select=*,subscription_plans(name)&user_id=eq.{user.id}", headers=h
    ).json()
    assert [s["subscription_plans"]["name"] for s in sub] == [
        "basic"
    ]  # the first profile assigned the default
    upsert = c.post(
        "/rest/v1/user_subscriptions?on_conflict=user_id",
        json={
            "user_id": user.id,
            "plan_id": plans["premium"],
            "status": "active",
            "payment_intent": "pi_fake_card_1",
        },
        headers={**merge, "Prefer": "resolution=merge-duplicates,return=representation"},
    )
    assert upsert.status_code == 201 and upsert.json()[0]["id"] == sub[0]["id"]
    assert upsert.json()[0]["plan_id"] == plans["premium"]
    assert_error(
        c.post("/rest/v1/user_subscriptions?on_conflict=status", json={"user_id": user.id}, headers=merge),
        400,
        "42P10",
    )

    for n in range(5):
        ticket = c.post(
            "/rest/v1/support_tickets", json={"issue_category": "billing", "description": f"#{n}"}, headers=h
        )
        assert ticket.status_code == 201, ticket.text
    # Support.tsx shows its "Too Many Requests" toast when the message says "rate limit exceeded".
    sixth = c.post(
        "/rest/v1/support_tickets", json={"issue_category": "billing", "description": "#6"}, headers=h
    )
    assert sixth.status_code == 400 and "rate limit exceeded" in sixth.json()["message"]
    assert_error(
        c.post("/rest/v1/support_tickets", json={"issue_category": "x", "descr": "y"}, headers=h),
        400,
        "PGRST204",
        "descr",
    )

    # FlixBuddy.tsx: insert(...).select().single() returns the new row as an object.
    conv = c.post(
        "/rest/v1/chat_conversations?select=*",
        json={"user_id": user.id, "profile_id": profile["id"], "title": "New FlixBuddy Chat"},
        headers={**h, "Prefer": "return=representation", "Accept": "application/vnd.pgrst.object+json"},
    )
    assert conv.status_code == 201 and conv.json()["title"] == "New FlixBuddy Chat"


# --- RPCs -------------------------------------------------------------------------------------------------


def rpc(backend: Backend, user: User | None, name: str, args: dict[str, Any] | None = None) -> httpx.Response:
    headers = user.headers if user is not None else ANON
    return backend.client.post(f"/rest/v1/rpc/{name}", json=args or {}, headers=headers)


def test_rpcs(backend: Backend) -> None:
    alice, bob = signup(backend), signup(backend)
    assert rpc(backend, alice, "get_my_profiles_public").json() == []
    assert rpc(backend, alice, "get_user_subscription", {"_user_id": alice.id}).json() == []
    profile = add_profile(backend, alice)
    mine = rpc(backend, alice, "get_my_profiles_public").json()
    assert [(p["id"], p["display_name"], p["early_access_features"]) for p in mine] == [
        (profile["id"], "Main", [])
    ]
    assert rpc(backend, bob, "get_my_profiles_public").json() == []
    assert rpc(backend, alice, "get_user_role").json() == "user"
    sub = rpc(backend, alice, "get_user_subscription", {"_user_id": alice.id}).json()
    assert (
        sub[0]["plan_name"] == "basic"
        and sub[0]["status"] == "active"
        and isinstance(sub[0]["features"], list)
    )
    # SECURITY DEFINER in the real schema; here nobody reads another user's subscription.
    assert rpc(backend, bob, "get_user_subscription", {"_user_id": alice.id}).json() == []

    video = video_at(backend, 100)
    vid = video["id"]
    assert rpc(backend, None, "get_video_average_rating", {"video_id_param": vid}).json() == 0
    rating = {"user_id": alice.id, "profile_id": profile["id"], "video_id": vid, "rating": 3}
    assert (
        backend.client.post("/rest/v1/video_ratings", json=rating, headers=alice.headers).status_code == 201
    )
    bob_profile = add_profile(backend, bob)
    bob_rating = {"user_id": bob.id, "profile_id": bob_profile["id"], "video_id": vid, "rating": 5}
    assert (
        backend.client.post("/rest/v1/video_ratings", json=bob_rating, headers=bob.headers).status_code == 201
    )
    assert rpc(backend, None, "get_video_average_rating", {"video_id_param": vid}).json() == 4
    assert rpc(backend, None, "get_video_rating_count", {"video_id_param": vid}).json() == 2
    other = video_uuid(get_catalog().titles[-1].id)
    batch = rpc(backend, None, "get_video_ratings_batch", {"video_ids": [vid, other]}).json()
    assert batch == [{"video_id": vid, "avg_rating": 4, "rating_count": 2}]
    args = {"video_id_param": vid, "profile_id_param": profile["id"]}
    assert rpc(backend, alice, "get_user_video_rating", args).json() == 3
    assert rpc(backend, bob, "get_user_video_rating", args).json() is None

    upd = rpc(
        backend,
        alice,
        "update_early_access_features",
        {"profile_id_param": profile["id"], "features_param": ["ai_summaries"]},
    )
    assert upd.status_code == 200 and upd.json()["early_access_features"] == ["ai_summaries"]
    assert rpc(backend, alice, "get_my_profiles_public").json()[0]["early_access_features"] == [
        "ai_summaries"
    ]
    theft = rpc(
        backend,
        bob,
        "update_early_access_features",
        {"profile_id_param": profile["id"], "features_param": []},
    )
    assert_error(theft, 400, "P0001", "do not own")

    assert_error(rpc(backend, alice, "refresh_video_analytics"), 404, "PGRST202", "refresh_video_analytics")
    assert_error(
        rpc(backend, alice, "get_video_rating_count", {"video": vid}), 404, "PGRST202", "video_id_param"
    )
    assert_error(rpc(backend, alice, "get_video_rating_count", {"video_id_param": "x"}), 400, "22P02")


# --- edge functions and media -------------------------------------------------------------------------------


def invoke(
    backend: Backend, user: User | None, name: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    headers = user.headers if user is not None else ANON
    return backend.client.post(f"/functions/v1/{name}", json=body or {}, headers=headers)


def test_get_video_url_serves_playable_media_with_ranges(backend: Backend) -> None:
    user = signup(backend)
    video = first_video(backend)
    resp = invoke(backend, user, "get-video-url", {"videoId": video["id"]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["isHLS"] is False and body["signedUrl"].startswith(
        f"{backend.url}/storage/v1/object/sign/videos/"
    )
    media = body["signedUrl"].removeprefix(backend.url)
    head = backend.client.get(media, headers={"Range": "bytes=0-43"})
    assert head.status_code == 206 and head.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(head.content)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getnframes() / wav.getframerate() == video["duration"]
    total = int(head.headers["content-range"].split("/")[1])
    tail = backend.client.get(media, headers={"Range": f"bytes={total - 10}-"})
    assert tail.status_code == 206 and tail.content == b"\0" * 10
    forged = media.rsplit("=", 1)[0] + "=x.y.z"
    assert backend.client.get(forged).status_code == 400
    other = media.replace(video["video_url"], "t002.wav")
    assert backend.client.get(other).json()["error"] == "InvalidSignature"
    assert invoke(backend, user, "get-video-url", {}).status_code == 400
    assert invoke(backend, user, "get-video-url", {"videoId": video_uuid("nope")}).status_code == 404
    poster = backend.client.get(video["thumbnail_url"])
    assert poster.status_code == 200 and poster.headers["content-type"].startswith("image/svg+xml")


def test_flixbuddy_chat_is_deterministic_and_reports_llm_analytics(backend: Backend) -> None:
    c = backend.client
    user = signup(backend)
    profile = add_profile(backend, user)

    def conversation() -> str:
        resp = c.post(
            "/rest/v1/chat_conversations",
            json={"user_id": user.id, "profile_id": profile["id"], "title": "t"},
            headers={
                **user.headers,
                "Prefer": "return=representation",
                "Accept": "application/vnd.pgrst.object+json",
            },
        )
        cid: str = resp.json()["id"]
        return cid

    titles = {v["title"] for v in c.get("/rest/v1/videos?select=title", headers=ANON).json()}
    first, again = conversation(), conversation()
    body = {
        "message": "something scary for tonight",
        "userId": user.id,
        "profileId": profile["id"],
        "posthogDistinctId": user.id,
    }
    one = invoke(backend, user, "flixbuddy-chat", {**body, "conversationId": first})
    assert one.status_code == 200, one.text
    reply = one.json()
    assert reply["conversationId"] == first and reply["metadata"]["tokens"]["total"] > 0
    # FlixBuddy.tsx finds recommended videos by their titles appearing in the message.
    mentioned = {t for t in titles if t.lower() in reply["message"].lower()}
    assert len(mentioned) >= 3
    same = invoke(backend, user, "flixbuddy-chat", {**body, "conversationId": again}).json()
    assert same["message"] == reply["message"]
    more = invoke(
        backend, user, "flixbuddy-chat", {**body, "message": "more like that", "conversationId": first}
    )
    assert not mentioned & {t for t in titles if t.lower() in more.json()["message"].lower()}

    stranger = signup(backend)
    assert invoke(backend, stranger, "flixbuddy-chat", {**body, "conversationId": first}).status_code == 404
    assert invoke(backend, None, "flixbuddy-chat", {**body, "conversationId": first}).status_code == 401
    events = backend.store.query(distinct_id=user.id, limit=100)
    generations = [e for e in events if e.event == "$ai_generation"]
    assert len(generations) == 3 and generations[0].properties["$ai_trace_id"] in (first, again)


def test_search_summary_checkout_and_verify(backend: Backend) -> None:
    user = signup(backend)
    add_profile(backend, user)
    search = invoke(backend, user, "ai-search", {"query": "space robots"}).json()
    assert search["videos"] and [v["title"] for v in search["videos"]] == search["aiRecommendations"]
    assert invoke(backend, user, "ai-search", {}).status_code == 400

    video = first_video(backend)
    fresh = invoke(backend, user, "generate-video-summary", {"videoId": video["id"]}).json()
    assert fresh["cached"] is False and video["title"] in fresh["summary"]
    cached = invoke(backend, user, "generate-video-summary", {"videoId": video["id"]}).json()
    assert cached == {"summary": fresh["summary"], "cached": True}

    before = invoke(backend, user, "verify-subscription").json()
    assert before["hasSubscription"] is True and before["subscription"]["plan_name"] == "basic"
    checkout = invoke(backend, user, "create-stripe-checkout", {"plan_name": "standard"})
    assert checkout.status_code == 200
    assert checkout.json()["url"].startswith(
        f"{backend.url}/checkout/success?plan=standard&session_id=cs_test_"
    )
    after = invoke(backend, user, "verify-subscription").json()
    assert after["subscription"]["plan_name"] == "standard"
    assert invoke(backend, user, "create-stripe-checkout", {"plan_name": "basic"}).status_code == 400
    assert invoke(backend, None, "verify-subscription").status_code == 401

    unknown = invoke(backend, user, "query-r2")
    assert unknown.status_code == 404 and "query-r2" in unknown.json()["message"]
    preflight = backend.client.options(
        "/functions/v1/get-video-url",
        headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200 and "apikey" in preflight.headers["access-control-allow-headers"]


# --- the build, SPA routing and /ingest --------------------------------------------------------------------


def test_bundle_origin_rewrite_and_spa_fallback(backend: Backend) -> None:
    c = backend.client
    on_disk = (backend.build / "assets" / "app-1.js").read_bytes()
    js = c.get("/assets/app-1.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.text == f'const SUPABASE_URL = "{backend.url}";\n'
    assert "immutable" in js.headers["cache-control"]
    assert (backend.build / "assets" / "app-1.js").read_bytes() == on_disk
    other_host = c.get("/assets/app-1.js", headers={"Host": "localhost:9"})
    assert 'SUPABASE_URL = "http://localhost:9"' in other_host.text
    assert c.get("/assets/app-1.js", headers={"Host": 'x"y'}).status_code == 400

    index = (backend.build / "index.html").read_text()
    for path in ("/", "/browse", "/watch/123", "/profiles?x=1", "/checkout/success"):
        page = c.get(path)
        assert page.status_code == 200 and page.text == index, path
        assert page.headers["cache-control"] == "no-cache"
    assert c.get("/robots.txt").text == "User-agent: *\n"
    assert c.get("/assets/missing.js").status_code == 404
    assert c.get("/%2e%2e/%2e%2e/etc/passwd").text == index
    for api in ("/rest/v1", "/rest/v1/", "/api/nothing", "/storage/v1/bucket"):
        resp = c.get(api)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", api
    assert c.post("/browse").status_code == 405


def test_real_bundle_gets_this_origin(backend: Backend, tmp_path: Path) -> None:
    if not (REAL_DIST / "index.html").is_file():
        pytest.skip(f"no HogFlix build in {REAL_DIST}")
    app = create_app(DemoSettings(db_path=tmp_path / "app.sqlite3", frontend=REAL_DIST))
    bundles = sorted((REAL_DIST / "assets").glob("*.js"))
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in bundles}
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        served = [client.get(f"/assets/{p.name}").text for p in bundles]
        assert "Content-Security-Policy" in client.get("/login").text
    assert any(f'"{url}"' in text for text in served)
    assert not any(SUPABASE_ORIGIN in text for text in served)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in bundles} == before


def test_ingest_stores_events_and_unknown_paths_404(backend: Backend) -> None:
    c = backend.client
    distinct = f"ingest-{secrets.token_hex(4)}"
    event = {"event": "video:started", "distinct_id": distinct, "properties": {"token": "phc_any_build_key"}}
    resp = c.post("/ingest/e/", json=event)
    assert resp.status_code == 200, resp.text
    stored = backend.store.query(distinct_id=distinct)
    assert [e.event for e in stored] == ["video:started"] and stored[0].token == "phc_any_build_key"
    assert c.post("/ingest/i/v0/e/", json={**event, "event": "x"}).status_code == 200
    assert c.post("/ingest/flags/?v=2", json={"token": "t", "distinct_id": distinct}).status_code == 200
    assert c.get("/ingest/x").status_code == 404
    assert c.get("/ingest").status_code == 404
    # The fleet's reader keeps working at the root, as with the server-rendered site.
    assert c.get("/api/events", params={"distinct_id": distinct}).json()["results"]
    assert c.get("/healthz").text == "ok"


def test_frontend_setting_and_cli_refuse_a_non_build(tmp_path: Path) -> None:
    with pytest.raises(DemoConfigError, match=r"no index\.html"):
        DemoSettings(db_path=tmp_path / "app.sqlite3", frontend=tmp_path)
    env_settings = DemoSettings.from_env(environ={"HOGFLEET_FRONTEND": str(fake_build(tmp_path / "b"))})
    assert env_settings.frontend == tmp_path / "b"
    proc = subprocess.run(
        [sys.executable, "-m", "demo", "serve", "--port", "0", "--frontend", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 2 and "is not a HogFlix production build" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_faults_hit_the_api_as_json_but_spare_assets_media_and_ingest(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "dist")
    settings = DemoSettings(
        db_path=tmp_path / "app.sqlite3", frontend=build, faults=parse_faults("error=1.0")
    )
    with serve_in_thread(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        failed = client.get("/rest/v1/videos", headers=ANON)
        assert failed.status_code == 500 and failed.json()["code"] == "injected_fault"
        assert client.get("/browse").status_code == 500  # a page load can fail, as with the built-in site
        assert client.get("/assets/app-1.js").status_code == 200
        assert client.post("/ingest/e/", json={"event": "e", "distinct_id": "d"}).status_code == 200
