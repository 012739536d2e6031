"""Compare what a session's frontend emitted with what its steps should have produced."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from analytics.events import CapturedEvent
from bots.records.ledger import Verdict
from flows.profile import SiteProfile

NO_CAPTURE_HINT = (
    "no capture request at all was seen: either the site does not honour the synthetic flag, "
    "or a bot filter like posthog-js' (HeadlessChrome / navigator.webdriver) drops headless traffic"
)


@dataclass(frozen=True)
class Marking:
    """How a session's events carried the site's synthetic flag."""

    marked: int = 0
    total: int = 0
    unmarked_after_marker: tuple[str, ...] = ()  # events, in order, sent after a marked one without it

    @property
    def share(self) -> float | None:
        return round(self.marked / self.total, 4) if self.total else None


def marking(events: Iterable[CapturedEvent], prop: str) -> Marking:
    """Count the events that carry ``prop`` = true, and list those sent after a marked one without it.

    Before the first marked event the site may not have registered its marker yet. After an identity
    reset (a logout's ``reset()``: a new distinct id) the site itself has cleared the marker until
    its next page load registers it again; those events are counted, not failed. An unmarked event
    under the same identity as the marked ones is the site losing its marker: a failure.
    """
    ordered = sorted(events, key=lambda e: e.timestamp)
    marked, after = 0, []
    marked_id: str | None = None  # the distinct id of the last marked event, while the marker holds
    for event in ordered:
        if event.properties.get(prop) is True:
            marked, marked_id = marked + 1, event.distinct_id
        elif marked_id is not None and event.distinct_id == marked_id:
            after.append(event.event)
        elif marked_id is not None:
            marked_id = None  # reset: the marker is off until the site registers it again
    return Marking(marked, len(ordered), tuple(after))


def judge(
    profile: SiteProfile,
    expected: set[str],
    observed: Counter[str],
    capture_requests: int,
    lost: int,
    lost_reasons: Counter[str] | None = None,
    marks: Marking | None = None,
) -> Verdict:
    if capture_requests == 0:
        return Verdict(ok=False, capture_requests=0, missing=sorted(expected), message=NO_CAPTURE_HINT)
    marks = marks or Marking()
    missing = sorted(name for name in expected if observed[name] == 0)
    allowed = expected | set(profile.ambient_events)
    unexpected = sorted(name for name in observed if name not in allowed)
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if lost:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted((lost_reasons or Counter()).items()))
        parts.append(f"{lost} event(s) lost in failed capture requests" + (f" ({why})" if why else ""))
    unmarked = list(marks.unmarked_after_marker)
    if unmarked:
        names = ", ".join(sorted(set(unmarked)))
        parts.append(
            f"{len(unmarked)} event(s) after the synthetic marker lack {profile.synthetic.property}: {names}"
        )
    return Verdict(
        ok=not missing and not lost and not unmarked,
        capture_requests=capture_requests,
        missing=missing,
        unexpected=unexpected,
        lost=lost,
        synthetic_share=marks.share,
        unmarked=unmarked,
        message="; ".join(parts),
    )
