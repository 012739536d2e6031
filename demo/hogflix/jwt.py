"""HS256 JSON Web Tokens, as Supabase's GoTrue issues them and PostgREST verifies them.

Only what the local backend needs: sign a claims dict, and verify a token it signed (signature, then
`exp`). No third-party JWT library: HS256 is an HMAC over base64url segments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

_HEADER = {"alg": "HS256", "typ": "JWT"}


class JWTError(ValueError):
    """The token is malformed, forged or expired; the message says which."""


class JWTExpired(JWTError):
    pass


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise JWTError("token segment is not base64url") from None


def _segment(obj: dict[str, Any]) -> str:
    return _b64encode(json.dumps(obj, separators=(",", ":"), sort_keys=True).encode())


def encode(claims: dict[str, Any], secret: str) -> str:
    signing_input = f"{_segment(_HEADER)}.{_segment(claims)}"
    sig = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64encode(sig)}"


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload without checking the signature (for the anon key, which another server signed)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JWTError("token is not three dot-separated segments")
    try:
        claims = json.loads(_b64decode(parts[1]))
    except ValueError:
        raise JWTError("token payload is not JSON") from None
    if not isinstance(claims, dict):
        raise JWTError("token payload is not a JSON object")
    return claims


def decode(token: str, secret: str, *, now: float | None = None) -> dict[str, Any]:
    """Verify the signature and expiry of a token this backend issued; returns its claims."""
    claims = unverified_claims(token)
    header_b64, payload_b64, sig_b64 = token.split(".")
    try:
        header = json.loads(_b64decode(header_b64))
    except ValueError:
        raise JWTError("token header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise JWTError("token algorithm is not HS256")
    expected = hmac.new(secret.encode(), f"{header_b64}.{payload_b64}".encode("ascii"), hashlib.sha256)
    if not hmac.compare_digest(expected.digest(), _b64decode(sig_b64)):
        raise JWTError("token signature is invalid")
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise JWTError("token has no numeric exp claim")
    if (time.time() if now is None else now) >= exp:
        raise JWTExpired("token has expired")
    return claims
