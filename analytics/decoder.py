"""Pure decoder of PostHog capture requests: bytes, content type and query in; events out.

It undoes every transport posthog-js and the server SDKs use: gzip (sniffed by magic bytes whatever the
query says), `data=<base64|json>` form bodies (sendBeacon, `compression=base64`), lz-string base64
(`compression=lz64`, old posthog-js), plain JSON, and GET `?data=`. The only exception it raises is
`DecodeError`, and it either decodes the whole request or rejects it: a capture endpoint must never
half-store a batch.

To decode a request observed in the browser (Playwright's `request.url`, `request.headers`,
`request.post_data_buffer`), call `decode_request_from_playwright`, which splits the URL into path and
query and picks the content type out of the headers.
"""

from __future__ import annotations

import base64
import binascii
import math
import uuid as uuidlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from analytics.events import CapturedEvent

MAX_BODY_BYTES = 20 * 1024 * 1024
"""PostHog's own limit; applies to the raw body and again to whatever it decompresses to."""

CAPTURE_PATHS = frozenset({"/e", "/i/v0/e", "/capture", "/batch", "/track", "/engage"})

_GZIP_MAGIC = b"\x1f\x8b"
# A fixed namespace so that a resent event without a uuid maps to the same uuid (and is deduplicated).
_NAMESPACE = uuidlib.UUID("6f0c6b9e-3d5e-4a61-9f65-8c0b1d7f2a41")
# Epoch numbers above this are milliseconds (1e11 s is the year 5138).
_MS_THRESHOLD = 1e11
_FORM_TYPE = "application/x-www-form-urlencoded"


class DecodeError(ValueError):
    """The request cannot be decoded into events; the message is short and safe to return to clients."""


@dataclass(frozen=True, slots=True)
class DecodedRequest:
    token: str | None
    events: list[CapturedEvent]


def is_capture_path(path: str) -> bool:
    """True for the paths PostHog's capture accepts events on, with or without a trailing slash."""
    stripped = path.rstrip("/") if path != "/" else path
    return stripped in CAPTURE_PATHS


def decode(
    body: bytes,
    content_type: str | None,
    query: Mapping[str, str],
    *,
    now: datetime,
    path: str | None = None,
) -> DecodedRequest:
    """Decode one capture request. `path` only matters for `/engage/` (legacy people updates)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if len(body) > MAX_BODY_BYTES:
        raise DecodeError("body over 20 MB")
    payload = _unwrap(body, content_type, query)
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise DecodeError("body is not valid JSON") from None
    engage = path is not None and path.rstrip("/") == "/engage"
    return _build(obj, now.astimezone(UTC), engage=engage)


def decode_json_body(body: bytes, content_type: str | None, query: Mapping[str, str]) -> Any:
    """The JSON value of a non-capture request (a `/flags` body), under the same transports as capture.

    posthog-js sends `/flags` bodies as `data=<base64>` forms (`compression=base64`); server SDKs send
    plain JSON. An empty body is `None` (a bare GET).
    """
    if len(body) > MAX_BODY_BYTES:
        raise DecodeError("body over 20 MB")
    if not body.strip() and not query.get("data"):
        return None
    try:
        return orjson.loads(_unwrap(body, content_type, query))
    except orjson.JSONDecodeError:
        raise DecodeError("body is not valid JSON") from None


def decode_request_from_playwright(
    url: str, headers: Mapping[str, str], body: bytes | None, *, now: datetime
) -> DecodedRequest:
    """Decode a capture request as Playwright exposes it (`request.url/.headers/.post_data_buffer`)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    return decode(body or b"", content_type, query, now=now, path=parts.path)


# --- transport layers -------------------------------------------------------------------------------


def _unwrap(body: bytes, content_type: str | None, query: Mapping[str, str]) -> bytes:
    compression = (query.get("compression") or "").strip().lower()
    if not body.strip():
        data = query.get("data")
        if not data:
            raise DecodeError("empty body and no data= in the query")
        return _unwrap_data_value(data, compression)
    if body[:2] == _GZIP_MAGIC:
        return _gunzip(body)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype == _FORM_TYPE or body.startswith(b"data=") or body.startswith(b"compression="):
        form = _parse_form(body)
        data = form.get("data")
        if data is None:
            raise DecodeError("form body without data=")
        return _unwrap_data_value(data, (form.get("compression") or compression).strip().lower())
    if compression == "base64":
        return _b64decode(_ascii(body))
    if compression == "lz64" and body.lstrip()[:1] not in (b"{", b"["):
        return _lz64(_ascii(body))
    return body


def _unwrap_data_value(data: str, compression: str) -> bytes:
    data = data.strip()
    if data[:1] in ("{", "["):
        return data.encode("utf-8", "surrogatepass")
    if compression == "lz64":
        return _lz64(data)
    raw = _b64decode(data)
    if raw[:2] == _GZIP_MAGIC:
        return _gunzip(raw)
    return raw


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=1000)
    except (UnicodeDecodeError, ValueError):
        raise DecodeError("malformed form body") from None
    return {k: v[-1] for k, v in parsed.items()}


def _ascii(body: bytes) -> str:
    try:
        return body.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError("compressed body is not ASCII") from None


def _b64decode(text: str) -> bytes:
    # Unencoded '+' in a form value arrives as a space (older sendBeacon transports); undo it.
    cleaned = "".join(text.replace(" ", "+").split())
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.urlsafe_b64decode(cleaned)
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError("data= is neither JSON nor base64") from None


def gunzip(data: bytes) -> bytes:
    """Decompress gzip with the body limit (also for gzip inside a payload, e.g. rrweb snapshots)."""
    return _gunzip(data)


def _gunzip(data: bytes) -> bytes:
    """Decompress (possibly multi-member) gzip, refusing to produce more than MAX_BODY_BYTES."""
    out: list[bytes] = []
    total = 0
    rest = data
    while rest:
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            chunk = d.decompress(rest, MAX_BODY_BYTES + 1 - total)
        except zlib.error:
            raise DecodeError("corrupt gzip body") from None
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise DecodeError("decompressed body over 20 MB")
        if not d.eof:
            raise DecodeError("truncated gzip body")
        out.append(chunk)
        rest = d.unused_data
        if rest and not rest.startswith(_GZIP_MAGIC):
            if rest.strip(b"\x00"):
                raise DecodeError("trailing garbage after gzip body")
            break
    return b"".join(out)


# --- lz-string (compressToBase64), as old posthog-js sent with compression=lz64 ------------------------

_LZ_KEY = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")}


def _lz64(text: str) -> bytes:
    text = "".join(text.replace(" ", "+").split())
    try:
        values = [_LZ_KEY[c] for c in text]
    except KeyError:
        raise DecodeError("lz64 body is not base64") from None
    result = _lz_decompress(values)
    if result is None:
        raise DecodeError("corrupt lz64 body")
    return result.encode("utf-8", "surrogatepass")


def _lz_decompress(values: list[int]) -> str | None:
    """A port of lz-string's `_decompress` with reset value 32 (6 bits per base64 symbol)."""
    length = len(values)
    if length == 0:
        return ""
    reset = 32
    state = {"val": values[0], "pos": reset, "index": 1}

    def read(nbits: int) -> int:
        bits = 0
        power = 1
        for _ in range(nbits):
            resb = state["val"] & state["pos"]
            state["pos"] >>= 1
            if state["pos"] == 0:
                state["pos"] = reset
                idx = state["index"]
                state["val"] = values[idx] if idx < length else 0
                state["index"] = idx + 1
            if resb:
                bits |= power
            power <<= 1
        return bits

    dictionary: list[str] = ["", "", ""]
    enlarge_in = 4
    num_bits = 3
    first = read(2)
    if first == 0:
        c = chr(read(8))
    elif first == 1:
        c = chr(read(16))
    else:
        return ""
    dictionary.append(c)
    w = c
    result = [c]
    size = len(c)
    while True:
        if state["index"] > length:
            return ""
        code = read(num_bits)
        if code in (0, 1):
            dictionary.append(chr(read(8 if code == 0 else 16)))
            code = len(dictionary) - 1
            enlarge_in -= 1
        elif code == 2:
            return "".join(result)
        if enlarge_in == 0:
            enlarge_in = 1 << num_bits
            num_bits += 1
        if code < len(dictionary) and dictionary[code]:
            entry = dictionary[code]
        elif code == len(dictionary):
            entry = w + w[0]
        else:
            return None
        result.append(entry)
        size += len(entry)
        if size > MAX_BODY_BYTES:
            raise DecodeError("decompressed body over 20 MB")
        dictionary.append(w + entry[0])
        enlarge_in -= 1
        w = entry
        if enlarge_in == 0:
            enlarge_in = 1 << num_bits
            num_bits += 1


# --- events -----------------------------------------------------------------------------------------


def _build(obj: Any, now: datetime, *, engage: bool) -> DecodedRequest:
    batch_token: str | None = None
    batch_sent_at: Any = None
    if isinstance(obj, list):
        raw_events: Any = obj
    elif isinstance(obj, dict):
        if "batch" in obj:
            raw_events = obj["batch"]
            if not isinstance(raw_events, list):
                raise DecodeError("batch is not a list")
            batch_token = _str_or_none(obj.get("api_key")) or _str_or_none(obj.get("token"))
            batch_sent_at = obj.get("sent_at")
        else:
            raw_events = [obj]
    else:
        raise DecodeError("body is neither an event, a list nor a batch")
    if not raw_events:
        raise DecodeError("no events in request")
    events = [
        _event(raw, i, now, batch_token=batch_token, batch_sent_at=batch_sent_at, engage=engage)
        for i, raw in enumerate(raw_events)
    ]
    token = batch_token or next((e.token for e in events if e.token), None)
    return DecodedRequest(token=token, events=events)


def _event(
    raw: Any, i: int, now: datetime, *, batch_token: str | None, batch_sent_at: Any, engage: bool
) -> CapturedEvent:
    if not isinstance(raw, dict):
        raise DecodeError(f"event {i} is not an object")
    props_raw = raw.get("properties")
    if props_raw is None:
        props: dict[str, Any] = {}
    elif isinstance(props_raw, dict):
        props = dict(props_raw)
    else:
        raise DecodeError(f"event {i}: properties is not an object")
    # Person updates may ride at the top level (posthog-python, /engage/); PostHog folds them in.
    for key in ("$set", "$set_once", "$unset"):
        if key in raw and key not in props:
            props[key] = raw[key]

    name = raw.get("event")
    if engage and name is None:
        name = "$identify"
    if not isinstance(name, str) or not name.strip():
        raise DecodeError(f"event {i} has no event name")

    distinct_id = _distinct_id(raw, props)
    if distinct_id is None:
        raise DecodeError(f"event {i} has no distinct_id")

    token = (
        _str_or_none(raw.get("api_key"))
        or _str_or_none(raw.get("token"))
        or _str_or_none(raw.get("$token"))
        or _str_or_none(props.get("token"))
        or _str_or_none(props.get("$token"))
        or batch_token
    )
    timestamp = _timestamp(raw, i, now, batch_sent_at)
    uuid = _uuid(raw, i, name, distinct_id, props, token)
    return CapturedEvent(
        uuid=uuid, event=name, distinct_id=distinct_id, timestamp=timestamp, properties=props, token=token
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _distinct_id(raw: dict[str, Any], props: dict[str, Any]) -> str | None:
    for value in (
        raw.get("distinct_id"),
        raw.get("$distinct_id"),
        props.get("distinct_id"),
        props.get("$distinct_id"),
    ):
        if isinstance(value, str) and value.strip():
            return value
        # Server SDKs accept numeric ids and PostHog stores them as strings.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return str(int(value))
    return None


def _timestamp(raw: dict[str, Any], i: int, now: datetime, batch_sent_at: Any) -> datetime:
    ts = raw.get("timestamp")
    if ts is not None:
        return _parse_time(ts, f"event {i}: bad timestamp")
    offset = raw.get("offset")
    if offset is None:
        return now
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not math.isfinite(offset):
        raise DecodeError(f"event {i}: bad offset")
    sent_at = raw.get("sent_at", batch_sent_at)
    base = _parse_time(sent_at, f"event {i}: bad sent_at") if sent_at is not None else now
    try:
        return base - timedelta(milliseconds=offset)
    except (OverflowError, ValueError):
        raise DecodeError(f"event {i}: offset out of range") from None


def _parse_time(value: Any, message: str) -> datetime:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            seconds = value / 1000 if abs(value) > _MS_THRESHOLD else value
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str):
            text = value.strip()
            if text[-1:] in ("Z", "z"):
                text = text[:-1] + "+00:00"
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise DecodeError(message)


def _uuid(
    raw: dict[str, Any], i: int, name: str, distinct_id: str, props: dict[str, Any], token: str | None
) -> str:
    given = raw.get("uuid")
    if given is not None:
        if not isinstance(given, str):
            raise DecodeError(f"event {i}: uuid is not a string")
        try:
            return str(uuidlib.UUID(given))
        except ValueError:
            raise DecodeError(f"event {i}: invalid uuid") from None
    insert_id = props.get("$insert_id")
    if isinstance(insert_id, str) and insert_id:
        return str(uuidlib.uuid5(_NAMESPACE, f"insert_id\x00{token}\x00{distinct_id}\x00{insert_id}"))
    # `offset`/`sent_at` change when a client resends, so they stay out of the fingerprint.
    fingerprint = {"e": name, "d": distinct_id, "t": raw.get("timestamp"), "p": props, "k": token}
    try:
        blob = orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        raise DecodeError(f"event {i}: properties cannot be stored") from None
    return str(uuidlib.uuid5(_NAMESPACE, blob.decode("utf-8")))
