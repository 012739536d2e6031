"""GoTrue under `/auth/v1/`: the calls supabase-js 2.56 makes for the HogFlix app, and who is calling.

The app signs up with email and password only (`source/src/pages/Signup.tsx` sends no user metadata,
just `emailRedirectTo`), signs in with `signInWithPassword`, lets auth-js refresh the session, reads the
user, signs out and asks to resend the confirmation email (`source/src/pages/Login.tsx`). Email
confirmation is off: signup answers with a session at once, which the app needs to go on to /profiles.

Sessions are what auth-js parses (`@supabase/auth-js` `_sessionResponse`): `access_token` (an HS256
JWT signed with the demo's per-database secret, `sub` = the user's uuid), `token_type`, `expires_in`,
`expires_at`, `refresh_token` (stored, rotated on use) and `user`.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from demo.db import hash_password, verify_password
from demo.hogflix import jwt
from demo.hogflix.db import HogflixDB, new_uuid, now_iso
from demo.hogflix.errors import AUTH_API_VERSION, ApiError, auth_error_response

ACCESS_TOKEN_TTL_S = 3600
# GoTrue's refresh-token reuse interval: two tabs refreshing at once both get the newest token instead
# of the second one being treated as a replayed (revoked) token and logged out.
REFRESH_REUSE_INTERVAL_S = 10.0
MIN_PASSWORD = 6  # GoTrue's default minimum
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: a signed-in user (role "authenticated") or the anon key."""

    role: Literal["anon", "authenticated"]
    user_id: str | None = None
    email: str | None = None


ANON = Caller("anon")


def request_origin(request: Request) -> str:
    """The origin the browser used (scheme and Host), refusing a Host that could inject markup."""
    host = request.headers.get("host", "")
    if not host or not _HOST_RE.match(host):
        raise ApiError(400, "bad_host", f"Host header {host!r} is not a valid host[:port]")
    return f"{request.url.scheme}://{host}"


class Auth:
    def __init__(self, db: HogflixDB, secret: str) -> None:
        self.db = db
        self.secret = secret

    # --- identifying callers (used by rest, rpc, functions) -------------------------------------------

    def caller(self, request: Request) -> Caller:
        """The caller named by the Bearer token (or, without one, the apikey), as PostgREST sees it.

        Our own access tokens are verified. The anon key baked into the HogFlix bundle was signed by the
        real Supabase project, whose secret this backend cannot know: any JWT claiming `role: anon` is
        accepted as anonymous, which grants no more than an unauthenticated visitor has anyway.
        """
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        token = token or request.headers.get("apikey", "").strip()
        if not token:
            raise ApiError(401, "no_api_key", "No API key found in request (send an apikey or Bearer token)")
        try:
            claims = jwt.decode(token, self.secret)
        except jwt.JWTExpired:
            raise ApiError(401, "PGRST303", "JWT expired") from None
        except jwt.JWTError as exc:
            try:
                role = jwt.unverified_claims(token).get("role")
            except jwt.JWTError:
                role = None
            if role == "anon":
                return ANON
            raise ApiError(401, "PGRST301", f"JWT could not be verified: {exc}") from None
        sub = claims.get("sub")
        if claims.get("role") != "authenticated" or not isinstance(sub, str):
            raise ApiError(401, "PGRST301", "JWT has no authenticated subject")
        email = claims.get("email")
        return Caller("authenticated", sub, email if isinstance(email, str) else None)

    # --- endpoints --------------------------------------------------------------------------------------

    async def signup(self, request: Request) -> Response:
        body = await _body(request)
        email, password = _credentials(body)
        if len(password) < MIN_PASSWORD:
            raise ApiError(422, "weak_password", f"Password should be at least {MIN_PASSWORD} characters.")
        meta = body.get("data") or {}
        if not isinstance(meta, dict):
            raise ApiError(400, "validation_failed", "data (user metadata) must be a JSON object")
        origin = request_origin(request)
        pw_hash = await run_in_threadpool(hash_password, password)  # scrypt is slow by design
        return JSONResponse(await run_in_threadpool(self._signup, email, pw_hash, meta, origin))

    def _signup(self, email: str, pw_hash: str, meta: dict[str, Any], origin: str) -> dict[str, Any]:
        stamp = now_iso()
        user_id = new_uuid()
        with self.db.connect(write=True) as conn:
            try:
                conn.execute(
                    "INSERT INTO hf_auth_users (id, email, encrypted_password, user_metadata, created_at, "
                    "updated_at, last_sign_in_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (user_id, email, pw_hash, json.dumps(meta), stamp, stamp, stamp),
                )
            except sqlite3.IntegrityError:
                raise ApiError(422, "user_already_exists", "User already registered") from None
            user = _user_row(conn, user_id)
            return self._new_session(conn, user, origin)

    async def token(self, request: Request) -> Response:
        grant = request.query_params.get("grant_type")
        body = await _body(request)
        origin = request_origin(request)
        if grant == "password":
            email, password = _credentials(body)
            return JSONResponse(await run_in_threadpool(self._password_grant, email, password, origin))
        if grant == "refresh_token":
            token = body.get("refresh_token")
            if not isinstance(token, str) or not token:
                raise ApiError(400, "validation_failed", "refresh_token is required")
            return JSONResponse(await run_in_threadpool(self._refresh_grant, token, origin))
        raise ApiError(
            400,
            "unsupported_grant_type",
            f"grant_type {grant!r} is not supported by the local backend (password, refresh_token)",
        )

    def _password_grant(self, email: str, password: str, origin: str) -> dict[str, Any]:
        with self.db.connect() as conn:
            row = conn.execute("SELECT * FROM hf_auth_users WHERE email = ?", (email,)).fetchone()
        # Same scrypt work whether or not the email exists, so timing does not reveal accounts.
        stored = row["encrypted_password"] if row is not None else "scrypt$" + "00" * 16 + "$" + "00" * 32
        if not verify_password(password, stored) or row is None:
            raise ApiError(400, "invalid_credentials", "Invalid login credentials")
        with self.db.connect(write=True) as conn:
            conn.execute("UPDATE hf_auth_users SET last_sign_in_at = ? WHERE id = ?", (now_iso(), row["id"]))
            return self._new_session(conn, _user_row(conn, row["id"]), origin)

    def _refresh_grant(self, token: str, origin: str) -> dict[str, Any]:
        now = time.time()
        with self.db.connect(write=True) as conn:
            rt = conn.execute("SELECT * FROM hf_auth_refresh_tokens WHERE token = ?", (token,)).fetchone()
            alive = (
                rt is not None
                and conn.execute(
                    "SELECT 1 FROM hf_auth_sessions WHERE id = ?", (rt["session_id"],)
                ).fetchone()
            )
            if rt is None or not alive:
                raise ApiError(
                    400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
                )
            if rt["revoked_at"] is not None:
                child = conn.execute(
                    "SELECT token FROM hf_auth_refresh_tokens WHERE parent = ? AND revoked_at IS NULL",
                    (token,),
                ).fetchone()
                if child is None or now - rt["revoked_at"] > REFRESH_REUSE_INTERVAL_S:
                    raise ApiError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
                next_token = str(child["token"])
            else:
                next_token = secrets.token_urlsafe(24)
                conn.execute("UPDATE hf_auth_refresh_tokens SET revoked_at = ? WHERE token = ?", (now, token))
                conn.execute(
                    "INSERT INTO hf_auth_refresh_tokens (token, session_id, user_id, parent, revoked_at, "
                    "created_at) VALUES (?, ?, ?, ?, NULL, ?)",
                    (next_token, rt["session_id"], rt["user_id"], token, now),
                )
            user = _user_row(conn, rt["user_id"])
            return self._session_json(user, rt["session_id"], next_token, origin)

    async def user(self, request: Request) -> Response:
        claims = self._session_claims(request)
        user = await run_in_threadpool(self._live_user, claims)
        return JSONResponse(user_json(user))

    def _live_user(self, claims: dict[str, Any]) -> sqlite3.Row:
        with self.db.connect() as conn:
            if (
                conn.execute(
                    "SELECT 1 FROM hf_auth_sessions WHERE id = ?", (claims.get("session_id"),)
                ).fetchone()
                is None
            ):
                raise ApiError(
                    403, "session_not_found", "Session from session_id claim in JWT does not exist"
                )
            return _user_row(conn, str(claims["sub"]))

    async def logout(self, request: Request) -> Response:
        claims = self._session_claims(request)
        scope = request.query_params.get("scope", "global")
        if scope not in ("global", "local", "others"):
            raise ApiError(400, "validation_failed", f"scope {scope!r} must be global, local or others")
        await run_in_threadpool(self._logout, str(claims["sub"]), str(claims.get("session_id")), scope)
        return Response(status_code=204)

    def _logout(self, user_id: str, session_id: str, scope: str) -> None:
        where = {
            "global": "user_id = ?",
            "local": "user_id = ? AND id = ?",
            "others": "user_id = ? AND id != ?",
        }
        params = (user_id,) if scope == "global" else (user_id, session_id)
        with self.db.connect(write=True) as conn:
            conn.execute(f"DELETE FROM hf_auth_sessions WHERE {where[scope]}", params)

    async def resend(self, request: Request) -> Response:
        body = await _body(request)
        kind = body.get("type")
        if kind not in ("signup", "email_change", "sms", "phone_change"):
            raise ApiError(
                400, "validation_failed", f"type {kind!r} must be signup, email_change, sms or phone_change"
            )
        if not isinstance(body.get("email"), str) and not isinstance(body.get("phone"), str):
            raise ApiError(400, "validation_failed", "email (or phone) is required")
        # Accounts are confirmed at signup, so there is nothing to send; GoTrue answers 200 either way
        # so that the reply does not reveal which addresses have accounts.
        return JSONResponse({})

    # --- sessions -------------------------------------------------------------------------------------

    def _session_claims(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise ApiError(401, "no_authorization", "This endpoint requires a Bearer token")
        try:
            claims = jwt.decode(header[7:].strip(), self.secret)
        except jwt.JWTError as exc:
            raise ApiError(403, "bad_jwt", f"invalid JWT: {exc}") from None
        if not isinstance(claims.get("sub"), str):
            raise ApiError(403, "bad_jwt", "invalid JWT: no sub claim")
        return claims

    def _new_session(self, conn: sqlite3.Connection, user: sqlite3.Row, origin: str) -> dict[str, Any]:
        session_id = new_uuid()
        refresh = secrets.token_urlsafe(24)
        conn.execute(
            "INSERT INTO hf_auth_sessions (id, user_id, created_at) VALUES (?, ?, ?)",
            (session_id, user["id"], now_iso()),
        )
        conn.execute(
            "INSERT INTO hf_auth_refresh_tokens (token, session_id, user_id, parent, revoked_at, created_at) "
            "VALUES (?, ?, ?, NULL, NULL, ?)",
            (refresh, session_id, user["id"], time.time()),
        )
        return self._session_json(user, session_id, refresh, origin)

    def _session_json(self, user: sqlite3.Row, session_id: str, refresh: str, origin: str) -> dict[str, Any]:
        now = int(time.time())
        info = user_json(user)
        claims = {
            "iss": f"{origin}/auth/v1",
            "sub": user["id"],
            "aud": "authenticated",
            "exp": now + ACCESS_TOKEN_TTL_S,
            "iat": now,
            "email": user["email"],
            "phone": "",
            "app_metadata": info["app_metadata"],
            "user_metadata": info["user_metadata"],
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": session_id,
            "is_anonymous": False,
        }
        return {
            "access_token": jwt.encode(claims, self.secret),
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL_S,
            "expires_at": now + ACCESS_TOKEN_TTL_S,
            "refresh_token": refresh,
            "user": info,
        }

    def routes(self) -> list[BaseRoute]:
        def wrap(handler: Any) -> Any:
            async def endpoint(request: Request) -> Response:
                try:
                    response: Response = await handler(request)
                except ApiError as exc:
                    return auth_error_response(exc)
                response.headers["X-Supabase-Api-Version"] = AUTH_API_VERSION
                return response

            return endpoint

        return [
            Route("/signup", wrap(self.signup), methods=["POST"]),
            Route("/token", wrap(self.token), methods=["POST"]),
            Route("/user", wrap(self.user), methods=["GET"]),
            Route("/logout", wrap(self.logout), methods=["POST"]),
            Route("/resend", wrap(self.resend), methods=["POST"]),
        ]


def user_json(user: sqlite3.Row) -> dict[str, Any]:
    """A user as GoTrue returns it (the fields auth-js's `User` type declares)."""
    uid, email, created = user["id"], user["email"], user["created_at"]
    identity_data = {"email": email, "email_verified": True, "phone_verified": False, "sub": uid}
    return {
        "id": uid,
        "aud": "authenticated",
        "role": "authenticated",
        "email": email,
        "email_confirmed_at": created,
        "phone": "",
        "confirmed_at": created,
        "last_sign_in_at": user["last_sign_in_at"],
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {**json.loads(user["user_metadata"]), **identity_data},
        "identities": [
            {
                "identity_id": uid,
                "id": uid,
                "user_id": uid,
                "identity_data": identity_data,
                "provider": "email",
                "last_sign_in_at": created,
                "created_at": created,
                "updated_at": created,
                "email": email,
            }
        ],
        "created_at": created,
        "updated_at": user["updated_at"],
        "is_anonymous": False,
    }


def _user_row(conn: sqlite3.Connection, user_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM hf_auth_users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise ApiError(404, "user_not_found", "User from sub claim in JWT does not exist")
    return row


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "bad_json", "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "Request body must be a JSON object")
    return data


def _credentials(body: dict[str, Any]) -> tuple[str, str]:
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not EMAIL_RE.match(email.strip()) or len(email) > 254:
        raise ApiError(400, "validation_failed", "A valid email address is required")
    if not isinstance(password, str) or not password:
        raise ApiError(400, "validation_failed", "A password is required")
    return email.strip().lower(), password
