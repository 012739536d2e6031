"""Fuzzing the decoder: whatever arrives, it decodes the whole request or raises DecodeError, nothing else."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.decoder import DecodedRequest, DecodeError, decode

NOW = datetime(2025, 3, 1, tzinfo=UTC)
# No example database: it would litter the repo with .hypothesis/; a failure still prints its minimal example.
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
# Events that are nearly valid, so the fuzzer reaches the per-field checks, not just the outer shape.
keys = st.sampled_from(
    [
        "event",
        "distinct_id",
        "properties",
        "timestamp",
        "offset",
        "sent_at",
        "uuid",
        "api_key",
        "token",
        "$set",
    ]
)
near_events = st.dictionaries(
    keys, json_values | st.sampled_from(["x", "2025-01-01T00:00:00Z", 100]), max_size=8
)
bodies = st.one_of(
    near_events,
    st.lists(near_events, max_size=4),
    st.fixed_dictionaries({"batch": st.lists(near_events, max_size=4)}, optional={"api_key": json_values}),
    json_values,
)
content_types = st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded"])
queries = st.sampled_from(
    [{}, {"compression": "gzip-js"}, {"compression": "base64"}, {"compression": "lz64"}]
)


def check(body: bytes, content_type: str | None, query: dict[str, str]) -> DecodedRequest | None:
    try:
        decoded = decode(body, content_type, query, now=NOW)
    except DecodeError as exc:
        assert str(exc)
        return None
    assert decoded.events, "an accepted request always carries events"
    for e in decoded.events:
        assert e.event.strip() and e.distinct_id
        assert e.timestamp.tzinfo is not None
        # What the store will write must serialise.
        orjson.dumps(e.properties)
    return decoded


@FUZZ
@given(st.binary(max_size=2048), content_types, queries)
def test_random_bytes(body: bytes, content_type: str | None, query: dict[str, str]) -> None:
    check(body, content_type, query)


@FUZZ
@given(bodies, content_types)
def test_random_json(obj: Any, content_type: str | None) -> None:
    body = json.dumps(obj).encode()
    check(body, content_type, {})
    check(gzip.compress(body), content_type, {"compression": "gzip-js"})
    check(b"data=" + base64.b64encode(body), "application/x-www-form-urlencoded", {"compression": "base64"})


@FUZZ
@given(st.lists(near_events, min_size=1, max_size=5), st.data())
def test_truncated_gzip(events: list[dict[str, Any]], data: st.DataObject) -> None:
    full = gzip.compress(json.dumps({"api_key": "k", "batch": events}).encode())
    cut = data.draw(st.integers(min_value=0, max_value=len(full) - 1))
    assert check(full[:cut], None, {}) is None


@FUZZ
@given(st.binary(min_size=1, max_size=512), st.integers(min_value=2, max_value=64))
def test_gzip_magic_followed_by_garbage(garbage: bytes, flip: int) -> None:
    good = bytearray(gzip.compress(b'[{"event":"e","distinct_id":"d"}]'))
    good[flip % len(good)] ^= 0xFF
    check(b"\x1f\x8b" + garbage, None, {})
    check(bytes(good), None, {})


@FUZZ
@given(st.text(max_size=300))
def test_random_form_and_query_values(text: str) -> None:
    check(("data=" + text).encode("utf-8", "surrogatepass"), "application/x-www-form-urlencoded", {})
    check(b"", None, {"data": text})
    check(b"", None, {"data": text, "compression": "lz64"})
