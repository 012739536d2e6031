"""Feature flags and experiments from a TOML file, evaluated the way PostHog evaluates them.

Bucketing uses PostHog's own hash (posthog-python `posthog/feature_flags.py`, `_hash` and
`get_matching_variant`; the server's `posthog/models/feature_flag/flag_matching.py`): SHA-1 of
`"<key>.<distinct_id><salt>"`, first 15 hex digits over 0xFFFFFFFFFFFFFFF. A distinct id therefore lands
in the same variant on every machine and every day, and in the same one a real PostHog project with
the same flag definition would give it.

File format (`analytics/flags.toml` is the shipped example)::

    [[flags]]
    key = "pricing_layout_experiment_v2"
    active = true                 # optional, default true; inactive flags are not sent at all
    rollout_percentage = 100      # optional, default 100: share of distinct ids the flag is on for
    person_properties = { plan = "gold" }   # optional: every one must equal the sent person property
    variants = [                  # optional: a multivariate flag; percentages add up to 100
        { key = "control", rollout_percentage = 50 },
        { key = "horizontal", rollout_percentage = 50 },
    ]
    payloads = { horizontal = { columns = 3 } }   # optional: per variant ("true" for a boolean flag)
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

DEFAULT_FLAGS_RESOURCE = "flags.toml"
_LONG_SCALE = float(0xFFFFFFFFFFFFFFF)
_VARIANT_SALT = "variant"
_FLAG_FIELDS = frozenset(
    {"key", "active", "rollout_percentage", "variants", "payloads", "person_properties", "description"}
)
_VARIANT_FIELDS = frozenset({"key", "rollout_percentage", "name"})


class FlagsError(ValueError):
    """A flag file cannot be used; the message is one line naming the file and the problem."""


def flag_hash(key: str, distinct_id: str, salt: str = "") -> float:
    """PostHog's bucketing hash of a distinct id for a flag, in [0, 1]."""
    digest = hashlib.sha1(f"{key}.{distinct_id}{salt}".encode()).hexdigest()
    return int(digest[:15], 16) / _LONG_SCALE


@dataclass(frozen=True, slots=True)
class Variant:
    key: str
    rollout_percentage: float


@dataclass(frozen=True, slots=True)
class FlagDefinition:
    key: str
    active: bool = True
    rollout_percentage: float = 100.0
    variants: tuple[Variant, ...] = ()
    payloads: Mapping[str, Any] | None = None
    person_properties: Mapping[str, Any] | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class FlagResult:
    key: str
    enabled: bool
    variant: str | None
    payload: Any
    reason_code: str

    @property
    def value(self) -> bool | str:
        """What posthog-js' `getFeatureFlag` returns: the variant, else whether the flag is on."""
        return self.variant if self.variant is not None else self.enabled


_REASONS = {
    "condition_match": "Matched condition set 1",
    "out_of_rollout_bound": "Out of rollout bound",
    "no_condition_match": "No matching condition set",
}


def evaluate_flag(
    flag: FlagDefinition, distinct_id: str, person_properties: Mapping[str, Any] | None = None
) -> FlagResult:
    """PostHog's evaluation of a one-condition flag (posthog-python `is_condition_match`)."""

    def result(enabled: bool, reason: str, variant: str | None = None) -> FlagResult:
        payload = None
        if enabled and flag.payloads is not None:
            payload = flag.payloads.get(variant if variant is not None else "true")
        return FlagResult(flag.key, enabled, variant, payload, reason)

    if flag.person_properties:
        props = person_properties or {}
        if any(props.get(k) != v for k, v in flag.person_properties.items()):
            return result(False, "no_condition_match")
    # PostHog: `_hash(key, id) > rollout / 100` is outside; 100 % skips the hash entirely.
    if flag.rollout_percentage < 100 and flag_hash(flag.key, distinct_id) > flag.rollout_percentage / 100:
        return result(False, "out_of_rollout_bound")
    if not flag.variants:
        return result(True, "condition_match")
    bucket = flag_hash(flag.key, distinct_id, _VARIANT_SALT)
    low = 0.0
    for variant in flag.variants:
        high = low + variant.rollout_percentage / 100
        if low <= bucket < high:
            return result(True, "condition_match", variant.key)
        low = high
    # Only reachable through float rounding at the very top: PostHog then gives the flag no variant.
    return result(True, "condition_match")


@dataclass(frozen=True, slots=True)
class FlagSet:
    flags: tuple[FlagDefinition, ...] = ()
    source: str = "<none>"

    @classmethod
    def empty(cls) -> FlagSet:
        return cls((), "<empty>")

    def evaluate(
        self, distinct_id: str, person_properties: Mapping[str, Any] | None = None
    ) -> dict[str, FlagResult]:
        return {f.key: evaluate_flag(f, distinct_id, person_properties) for f in self.flags if f.active}

    def response(
        self, distinct_id: str | None, person_properties: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The flag part of a `/flags?v=2` answer (v2 `flags` plus v1 `featureFlags`/payloads)."""
        if not distinct_id:
            return {"flags": {}, "featureFlags": {}, "featureFlagPayloads": {}}
        results = self.evaluate(distinct_id, person_properties)
        ids = {f.key: i + 1 for i, f in enumerate(self.flags)}
        descriptions = {f.key: f.description for f in self.flags}
        details: dict[str, Any] = {}
        payloads: dict[str, str] = {}
        for key, r in results.items():
            # PostHog sends payloads JSON-encoded; posthog-js `getFeatureFlagResult` JSON.parses them.
            encoded = orjson.dumps(r.payload).decode() if r.payload is not None else None
            if encoded is not None:
                payloads[key] = encoded
            details[key] = {
                "key": key,
                "enabled": r.enabled,
                "variant": r.variant,
                "reason": {
                    "code": r.reason_code,
                    "condition_index": 0 if r.reason_code != "no_condition_match" else None,
                    "description": _REASONS[r.reason_code],
                },
                "metadata": {
                    "id": ids[key],
                    "version": 1,
                    "payload": encoded,
                    "description": descriptions[key],
                },
            }
        return {
            "flags": details,
            "featureFlags": {k: r.value for k, r in results.items()},
            "featureFlagPayloads": payloads,
        }


def load_flags(path: Path | str) -> FlagSet:
    """Parse and validate a flag file; `FlagsError("<file>: <problem>")` on anything wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise FlagsError(f"{p}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FlagsError(f"{p}: not UTF-8 text") from None
    return parse_flags(text, str(p))


def default_flags() -> FlagSet:
    """The flags and experiments the real HogFlix app reads (`analytics/flags.toml`)."""
    resource = resources.files("analytics").joinpath(DEFAULT_FLAGS_RESOURCE)
    return parse_flags(resource.read_text(encoding="utf-8"), f"analytics/{DEFAULT_FLAGS_RESOURCE}")


def parse_flags(text: str, source: str) -> FlagSet:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FlagsError(f"{source}: invalid TOML: {exc}") from None
    extra = set(doc) - {"flags"}
    if extra:
        raise FlagsError(f"{source}: unknown top-level key(s) {sorted(extra)}; flags go in [[flags]]")
    raw = doc.get("flags", [])
    if not isinstance(raw, list):
        raise FlagsError(f"{source}: 'flags' must be an array of tables ([[flags]])")
    flags: list[FlagDefinition] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        flag = _parse_flag(entry, f"{source}: flag #{i + 1}")
        if flag.key in seen:
            raise FlagsError(f"{source}: flag key {flag.key!r} is defined twice")
        seen.add(flag.key)
        flags.append(flag)
    return FlagSet(tuple(flags), source)


def _percentage(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FlagsError(f"{where}: rollout_percentage must be a number, got {value!r}")
    if not 0 <= value <= 100:
        raise FlagsError(f"{where}: rollout_percentage must be within 0..100, got {value}")
    return float(value)


def _parse_flag(entry: Any, where: str) -> FlagDefinition:
    if not isinstance(entry, dict):
        raise FlagsError(f"{where}: must be a table")
    key = entry.get("key")
    if not isinstance(key, str) or not key.strip():
        raise FlagsError(f"{where}: 'key' must be a non-empty string")
    where = f"{where.rsplit(': ', 1)[0]}: flag {key!r}"
    unknown = set(entry) - _FLAG_FIELDS
    if unknown:
        raise FlagsError(f"{where}: unknown field(s) {sorted(unknown)}")
    active = entry.get("active", True)
    if not isinstance(active, bool):
        raise FlagsError(f"{where}: 'active' must be true or false")
    rollout = _percentage(entry.get("rollout_percentage", 100), where)
    variants = _parse_variants(entry.get("variants", []), where)
    payloads = entry.get("payloads")
    if payloads is not None:
        if not isinstance(payloads, dict):
            raise FlagsError(f"{where}: 'payloads' must be a table keyed by variant")
        allowed = {v.key for v in variants} if variants else {"true"}
        stray = set(payloads) - allowed
        if stray:
            raise FlagsError(
                f"{where}: payloads for unknown variant(s) {sorted(stray)}; known: {sorted(allowed)}"
            )
        try:
            orjson.dumps(payloads)
        except TypeError:
            raise FlagsError(f"{where}: payloads must be JSON-like (no dates or times)") from None
    props = entry.get("person_properties")
    if props is not None and not isinstance(props, dict):
        raise FlagsError(f"{where}: 'person_properties' must be a table")
    description = entry.get("description")
    if description is not None and not isinstance(description, str):
        raise FlagsError(f"{where}: 'description' must be a string")
    return FlagDefinition(
        key=key,
        active=active,
        rollout_percentage=rollout,
        variants=variants,
        payloads=payloads,
        person_properties=props,
        description=description,
    )


def _parse_variants(raw: Any, where: str) -> tuple[Variant, ...]:
    if not isinstance(raw, list):
        raise FlagsError(f"{where}: 'variants' must be an array of {{ key, rollout_percentage }}")
    out: list[Variant] = []
    for v in raw:
        if not isinstance(v, dict):
            raise FlagsError(f"{where}: each variant must be a table {{ key, rollout_percentage }}")
        unknown = set(v) - _VARIANT_FIELDS
        if unknown:
            raise FlagsError(f"{where}: variant has unknown field(s) {sorted(unknown)}")
        vkey = v.get("key")
        if not isinstance(vkey, str) or not vkey.strip():
            raise FlagsError(f"{where}: each variant needs a non-empty string 'key'")
        if vkey in {x.key for x in out}:
            raise FlagsError(f"{where}: variant {vkey!r} is listed twice")
        if "rollout_percentage" not in v:
            raise FlagsError(f"{where}: variant {vkey!r} has no rollout_percentage")
        out.append(Variant(vkey, _percentage(v["rollout_percentage"], f"{where}: variant {vkey!r}")))
    total = sum(v.rollout_percentage for v in out)
    # PostHog refuses to save a multivariate flag whose variants do not add up to 100.
    if out and abs(total - 100) > 1e-9:
        raise FlagsError(f"{where}: variant rollout_percentages add up to {total:g}, not 100")
    return tuple(out)
