"""Unit tests of the pure capture decoder, one per transport and body shape posthog-js and SDKs use."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from analytics.decoder import (
    MAX_BODY_BYTES,
    DecodeError,
    decode,
    decode_request_from_playwright,
    is_capture_path,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "phc_test"


def ev(name: str = "$pageview", distinct_id: str = "user-1", **extra: Any) -> dict[str, Any]:
    return {"event": name, "distinct_id": distinct_id, **extra}


def j(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def test_gzip_batch_with_offsets_and_sent_at_on_the_batch() -> None:
    body = gzip.compress(
        j(
            {
                "api_key": TOKEN,
                "sent_at": "2025-03-01T11:00:00.000Z",
                "batch": [
                    ev(offset=1500, properties={"$current_url": "http://x/"}),
                    ev("title_opened", offset=0, properties={"title_id": 7}),
                ],
            }
        )
    )
    # No content type and no compression query: gzip is sniffed by magic bytes.
    decoded = decode(body, None, {}, now=NOW)
    assert decoded.token == TOKEN
    first, second = decoded.events
    assert first.event == "$pageview"
    assert first.timestamp == datetime(2025, 3, 1, 10, 59, 58, 500000, tzinfo=UTC)
    assert second.timestamp == datetime(2025, 3, 1, 11, 0, 0, tzinfo=UTC)
    assert second.properties == {"title_id": 7}
    assert all(e.token == TOKEN for e in decoded.events)


def test_gzip_js_query_with_text_plain_content_type() -> None:
    body = gzip.compress(j([ev(properties={"token": TOKEN})]))
    decoded = decode(body, "text/plain", {"compression": "gzip-js", "ver": "1.420.0"}, now=NOW)
    assert [e.event for e in decoded.events] == ["$pageview"]
    assert decoded.token == TOKEN


def test_gzip_sniffed_even_when_query_claims_base64() -> None:
    body = gzip.compress(j(ev(api_key=TOKEN)))
    assert decode(body, "application/json", {"compression": "base64"}, now=NOW).events[0].token == TOKEN


def test_base64_form_body_as_sendbeacon_sends() -> None:
    payload = base64.b64encode(j({"api_key": TOKEN, "batch": [ev("$pageleave")]})).decode()
    body = ("data=" + quote(payload, safe="")).encode()
    decoded = decode(body, "application/x-www-form-urlencoded", {"compression": "base64"}, now=NOW)
    assert [e.event for e in decoded.events] == ["$pageleave"]
    assert decoded.token == TOKEN


def test_base64_form_body_whose_plus_signs_were_not_escaped() -> None:
    # '>>>' base64-encodes to 'Pj4+': an unescaped '+' arrives as a space after form decoding.
    payload = base64.b64encode(j(ev(properties={"q": ">>>?"}))).decode()
    assert "+" in payload or "/" in payload
    decoded = decode(("data=" + payload).encode(), "application/x-www-form-urlencoded", {}, now=NOW)
    assert decoded.events[0].properties == {"q": ">>>?"}


def test_form_body_with_urlencoded_json() -> None:
    body = ("data=" + quote(json.dumps(ev("search_performed", properties={"query": "a&b=c"})))).encode()
    decoded = decode(body, "application/x-www-form-urlencoded; charset=UTF-8", {}, now=NOW)
    assert decoded.events[0].properties == {"query": "a&b=c"}


def test_form_body_with_gzipped_base64() -> None:
    payload = base64.b64encode(gzip.compress(j([ev()]))).decode()
    body = ("data=" + quote(payload, safe="")).encode()
    assert len(decode(body, "application/x-www-form-urlencoded", {}, now=NOW).events) == 1


def test_get_with_data_in_the_query() -> None:
    data = base64.b64encode(j(ev("$pageview", token=TOKEN))).decode()
    decoded = decode(b"", None, {"data": data, "ip": "1"}, now=NOW)
    assert decoded.events[0].token == TOKEN


def test_plain_json_single_event() -> None:
    decoded = decode(j(ev(uuid=str(uuid.UUID(int=5)))), "application/json", {}, now=NOW)
    assert len(decoded.events) == 1
    assert decoded.events[0].uuid == "00000000-0000-0000-0000-000000000005"
    assert decoded.events[0].timestamp == NOW
    assert decoded.token is None


def test_plain_json_list() -> None:
    decoded = decode(j([ev("a"), ev("b"), ev("c")]), "application/json", {}, now=NOW)
    assert [e.event for e in decoded.events] == ["a", "b", "c"]


def test_batch_object_without_api_key() -> None:
    decoded = decode(j({"batch": [ev("a"), ev("b")]}), "application/json", {}, now=NOW)
    assert [e.event for e in decoded.events] == ["a", "b"]


def test_explicit_timestamp_wins_over_offset_and_is_made_utc() -> None:
    body = j([ev(timestamp="2025-02-01T10:00:00+02:00", offset=999999), ev(timestamp="2025-02-01T10:00:00")])
    first, second = decode(body, None, {}, now=NOW).events
    assert first.timestamp == datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
    assert second.timestamp == datetime(2025, 2, 1, 10, 0, tzinfo=UTC)


def test_sent_at_on_the_event_and_offset_without_sent_at() -> None:
    body = j(
        [
            ev(sent_at="2025-01-01T00:00:10Z", offset=10_000),
            ev(offset=60_000),  # posthog-js: no sent_at, PostHog uses its own clock
        ]
    )
    first, second = decode(body, None, {}, now=NOW).events
    assert first.timestamp == datetime(2025, 1, 1, tzinfo=UTC)
    assert second.timestamp == NOW - timedelta(minutes=1)


def test_epoch_millisecond_timestamp() -> None:
    ms = int(datetime(2025, 1, 2, tzinfo=UTC).timestamp() * 1000)
    assert decode(j(ev(timestamp=ms)), None, {}, now=NOW).events[0].timestamp == datetime(
        2025, 1, 2, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (ev(api_key="k1"), "k1"),
        (ev(token="k2"), "k2"),
        (ev(properties={"token": "k3"}), "k3"),
        (ev(properties={"$token": "k4"}), "k4"),
        (ev(), None),
    ],
)
def test_token_sources(event: dict[str, Any], expected: str | None) -> None:
    decoded = decode(j(event), None, {}, now=NOW)
    assert decoded.token == expected
    assert decoded.events[0].token == expected


def test_batch_level_token_applies_to_events_without_their_own() -> None:
    body = j({"api_key": "batch-key", "batch": [ev(), ev(properties={"token": "own"})]})
    decoded = decode(body, None, {}, now=NOW)
    assert decoded.token == "batch-key"
    assert [e.token for e in decoded.events] == ["batch-key", "own"]


@pytest.mark.parametrize(
    "event",
    [
        {"event": "x", "properties": {"distinct_id": "from-props"}},
        {"event": "x", "$distinct_id": "from-props"},
        {"event": "x", "properties": {"$distinct_id": "from-props"}},
    ],
)
def test_distinct_id_sources(event: dict[str, Any]) -> None:
    assert decode(j(event), None, {}, now=NOW).events[0].distinct_id == "from-props"


def test_numeric_distinct_id_is_stringified() -> None:
    assert decode(j(ev(distinct_id=42)), None, {}, now=NOW).events[0].distinct_id == "42"  # type: ignore[arg-type]


def test_person_updates_stay_in_properties() -> None:
    event = ev("$identify", properties={"$set": {"plan": "Basic"}})
    event["$set_once"] = {"first": "a"}  # posthog-python puts person updates at the top level
    body = j(event)
    props = decode(body, None, {}, now=NOW).events[0].properties
    assert props == {"$set": {"plan": "Basic"}, "$set_once": {"first": "a"}}


def test_engage_without_event_name_becomes_identify() -> None:
    body = j({"$set": {"email": "a@b.c"}, "$token": TOKEN, "$distinct_id": "u9"})
    decoded = decode(body, None, {}, now=NOW, path="/engage/")
    (event,) = decoded.events
    assert (event.event, event.distinct_id, event.token) == ("$identify", "u9", TOKEN)
    assert event.properties["$set"] == {"email": "a@b.c"}
    with pytest.raises(DecodeError, match="no event name"):
        decode(body, None, {}, now=NOW, path="/e/")


def test_uuid_without_one_is_deterministic_so_resends_dedup() -> None:
    body1 = j({"sent_at": "2025-01-01T00:00:00Z", "batch": [ev(timestamp="2025-01-01T00:00:00Z")]})
    body2 = j({"sent_at": "2025-01-01T00:05:00Z", "batch": [ev(timestamp="2025-01-01T00:00:00Z")]})
    u1 = decode(body1, None, {}, now=NOW).events[0].uuid
    u2 = decode(body2, None, {}, now=NOW + timedelta(minutes=5)).events[0].uuid
    assert u1 == u2
    assert uuid.UUID(u1).version == 5
    other = decode(j([ev(timestamp="2025-01-01T00:00:01Z")]), None, {}, now=NOW).events[0].uuid
    assert other != u1


def test_insert_id_gives_the_uuid() -> None:
    a = decode(j(ev(offset=1, properties={"$insert_id": "abc"})), None, {}, now=NOW).events[0]
    b = decode(j(ev(offset=9, properties={"$insert_id": "abc"})), None, {}, now=NOW).events[0]
    c = decode(j(ev(offset=1, properties={"$insert_id": "abd"})), None, {}, now=NOW).events[0]
    assert a.uuid == b.uuid != c.uuid


def test_lz64_strings_decode() -> None:
    # Vectors from lz-string's own tests (compressToBase64("Hello, world!")): proves the port.
    from analytics.decoder import _lz64

    assert _lz64("BIUwNmD2A0AEDukBOYAmBCIA") == b"Hello, world!"
    with pytest.raises(DecodeError, match="not valid JSON"):
        decode(b"data=BIUwNmD2A0AEDukBOYAmBCIA", None, {"compression": "lz64"}, now=NOW)


def test_decode_request_from_playwright() -> None:
    body = gzip.compress(j({"api_key": TOKEN, "batch": [ev()]}))
    decoded = decode_request_from_playwright(
        "http://127.0.0.1:8000/e/?ip=1&_=1700000000&ver=1.0&compression=gzip-js",
        {"content-type": "text/plain"},
        body,
        now=NOW,
    )
    assert decoded.token == TOKEN


def test_is_capture_path() -> None:
    for p in ("/e/", "/e", "/i/v0/e/", "/capture", "/batch/", "/track/", "/engage"):
        assert is_capture_path(p)
    for p in ("/", "/flags/", "/api/events", "/e/x", "/ee/"):
        assert not is_capture_path(p)


# --- rejections: the whole request, never part of it --------------------------------------------


def test_corrupt_gzip() -> None:
    good = gzip.compress(j([ev()]))
    corrupt = good[:10] + bytes(b ^ 0xFF for b in good[10:20]) + good[20:]
    with pytest.raises(DecodeError, match="gzip"):
        decode(corrupt, None, {}, now=NOW)


def test_truncated_gzip() -> None:
    good = gzip.compress(j([ev() for _ in range(20)]))
    with pytest.raises(DecodeError, match="truncated gzip"):
        decode(good[: len(good) // 2], None, {}, now=NOW)


def test_oversized_body() -> None:
    body = b" " * (MAX_BODY_BYTES + 1)
    with pytest.raises(DecodeError, match="20 MB"):
        decode(body, "application/json", {}, now=NOW)


def test_gzip_bomb_is_refused_without_inflating_it_all() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = compressor.compress(b"[" + b" " * (MAX_BODY_BYTES * 2)) + compressor.flush()
    assert len(bomb) < 200_000
    with pytest.raises(DecodeError, match="decompressed body over 20 MB"):
        decode(bomb, None, {}, now=NOW)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (j([ev(), {"distinct_id": "u"}]), "event 1 has no event name"),
        (j([ev(name="")]), "no event name"),
        (j([ev(name="   ")]), "no event name"),
        (j({"event": 5, "distinct_id": "u"}), "no event name"),
        (j([ev(), {"event": "x"}]), "event 1 has no distinct_id"),
        (j([ev(distinct_id="")]), "no distinct_id"),
        (j([ev(distinct_id=True)]), "no distinct_id"),  # type: ignore[arg-type]
        (b"not json at all", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (j("a string"), "neither an event"),
        (j(12), "neither an event"),
        (j([]), "no events"),
        (j({"batch": []}), "no events"),
        (j({"batch": "nope"}), "batch is not a list"),
        (j([1, 2]), "event 0 is not an object"),
        (j([ev(properties=[1])]), "properties is not an object"),
        (j([ev(timestamp="yesterday")]), "bad timestamp"),
        (j([ev(offset="soon")]), "bad offset"),
        (j([ev(offset=1e300)]), "offset out of range"),
        (j([ev(uuid="not-a-uuid")]), "invalid uuid"),
        (j([ev(uuid=7)]), "uuid is not a string"),
        (b"", "empty body"),
        (b"data=%%%%", "neither JSON nor base64"),
        (b"compression=base64", "without data="),
    ],
)
def test_rejections(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode(body, None, {}, now=NOW)


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)
