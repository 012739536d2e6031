"""Compare what a session's frontend emitted with what its steps should have produced."""

from __future__ import annotations

from collections import Counter

from bots.records.ledger import Verdict
from flows.profile import SiteProfile

NO_CAPTURE_HINT = (
    "no capture request at all was seen: either the site does not honour the synthetic flag, "
    "or a bot filter like posthog-js' (HeadlessChrome / navigator.webdriver) drops headless traffic"
)


def judge(
    profile: SiteProfile,
    expected: set[str],
    observed: Counter[str],
    capture_requests: int,
    lost: int,
    lost_reasons: Counter[str] | None = None,
) -> Verdict:
    if capture_requests == 0:
        return Verdict(ok=False, capture_requests=0, missing=sorted(expected), message=NO_CAPTURE_HINT)
    missing = sorted(name for name in expected if observed[name] == 0)
    allowed = expected | set(profile.ambient_events)
    unexpected = sorted(name for name in observed if name not in allowed)
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if lost:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted((lost_reasons or Counter()).items()))
        parts.append(f"{lost} event(s) lost in failed capture requests" + (f" ({why})" if why else ""))
    return Verdict(
        ok=not missing and not lost,
        capture_requests=capture_requests,
        missing=missing,
        unexpected=unexpected,
        lost=lost,
        message="; ".join(parts),
    )
