"""Who a persona is on the site: distinct id, e-mail, password. Passwords are derived, never stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os

SECRET_ENV = "HOGFLEET_PERSONA_SECRET"
# The demo's documented default: anyone can recompute a demo persona's password, which is the point.
DEFAULT_SECRET = "hogfleet-demo-secret"
EMAIL_DOMAIN = "hogflix-synthetic.test"
# A fixed prefix guarantees upper case, lower case, a digit and a symbol whatever the hex digest says.
PASSWORD_PREFIX = "Hf9!"


def persona_secret() -> str:
    return os.environ.get(SECRET_ENV) or DEFAULT_SECRET


def password_for(distinct_id: str, secret: str | None = None) -> str:
    """HMAC-SHA256(secret, distinct_id), 24 hex characters behind :data:`PASSWORD_PREFIX`."""
    key = (secret if secret is not None else persona_secret()).encode()
    digest = hmac.new(key, distinct_id.encode(), hashlib.sha256).hexdigest()
    return PASSWORD_PREFIX + digest[:24]


def distinct_id_for(index: int, signup_at: dt.datetime) -> str:
    """``p_00123_<ms>`` with the milliseconds of the simulated signup time (never the wall clock)."""
    ms = int(signup_at.timestamp() * 1000)
    return f"p_{index:05d}_{ms}"


def email_for(distinct_id: str) -> str:
    return f"{distinct_id}@{EMAIL_DOMAIN}"
