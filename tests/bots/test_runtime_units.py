"""Units of the runtime that need no browser: storage states, ledger, verdicts, the guard."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections import Counter
from pathlib import Path

import orjson
import pytest

from bots.records.ledger import Ledger, LedgerRecord
from bots.records.storage import StorageStates, posthog_distinct_id, safe_after_failure
from bots.runtime.target import guard
from bots.runtime.verdict import NO_CAPTURE_HINT, judge
from flows.profile import load_profile
from personas.errors import HogfleetError


def _state(distinct_id: str, cookies: tuple[str, ...] = ("session",)) -> dict[str, object]:
    blob = orjson.dumps({"distinct_id": distinct_id, "$device_id": "d1"}).decode()
    return {
        "cookies": [
            {
                "name": n,
                "value": "secret",
                "domain": "127.0.0.1",
                "path": "/",
                "expires": -1,
                "httpOnly": True,
                "secure": False,
                "sameSite": "Lax",
            }
            for n in cookies
        ],
        "origins": [
            {"origin": "http://127.0.0.1", "localStorage": [{"name": "ph_tok_posthog", "value": blob}]}
        ],
    }


def test_storage_state_roundtrip_is_private(tmp_path: Path) -> None:
    store = StorageStates(tmp_path / "ss")
    store.save("p_00001_1", _state("usr_1"))
    path = store.path("p_00001_1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert posthog_distinct_id(store.load("p_00001_1")) == "usr_1"


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"cookies": [{"name": "x"}], "origins": []}'])
def test_corrupt_storage_state_is_moved_aside_not_deleted(tmp_path: Path, content: bytes) -> None:
    store = StorageStates(tmp_path)
    store.path("p_00002_1").write_bytes(content)
    assert store.load("p_00002_1") is None
    aside = tmp_path / "p_00002_1.json.corrupt"
    assert aside.read_bytes() == content
    assert not store.path("p_00002_1").exists()


def test_failure_never_logs_out_or_changes_identity() -> None:
    old = _state("usr_1", ("session", "csrf"))
    assert safe_after_failure(old, _state("usr_1", ("session", "csrf", "new")))
    assert not safe_after_failure(old, _state("usr_1", ("csrf",)))  # session cookie gone
    assert not safe_after_failure(old, _state("usr_2", ("session", "csrf")))  # new identity
    assert safe_after_failure(None, _state("usr_9"))


def _record(session_id: str, outcome: str) -> LedgerRecord:
    now = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    return LedgerRecord(
        date=now.date(),
        run_id="r",
        persona="p",
        session_id=session_id,
        started_at=now,
        ended_at=now,
        outcome=outcome,  # type: ignore[arg-type]
    )


def test_ledger_skips_a_torn_last_line_and_knows_done_sessions(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "runs" / "ledger.jsonl")
    ledger.append(_record("s1", "ok"))
    ledger.append(_record("s2", "failed"))
    ledger.append(_record("s3", "abandoned"))
    with open(ledger.path, "ab") as fh:
        fh.write(b'{"date": "2026-11-21", "run_id": "r", "pers')
    assert [r.session_id for r in ledger.records()] == ["s1", "s2", "s3"]
    assert ledger.done_sessions() == {"s1", "s3"}
    assert stat.S_IMODE(os.stat(ledger.path).st_mode) == 0o600


def test_verdicts() -> None:
    profile = load_profile()
    none_seen = judge(profile, {"video_started"}, Counter(), 0, 0)
    assert not none_seen.ok and none_seen.message == NO_CAPTURE_HINT
    missing = judge(profile, {"video_started", "title_opened"}, Counter({"title_opened": 1}), 2, 0)
    assert missing.missing == ["video_started"] and not missing.ok
    fine = judge(profile, {"title_opened"}, Counter({"title_opened": 1, "$pageview": 3, "odd": 1}), 2, 0)
    assert fine.ok and fine.unexpected == ["odd"]
    lost = judge(profile, {"title_opened"}, Counter({"title_opened": 1}), 2, 3)
    assert not lost.ok and "lost" in lost.message
    why = judge(
        profile, set(), Counter({"$pageview": 1}), 2, 3, Counter({"HTTP 500": 2, "net::ERR_ABORTED": 1})
    )
    assert not why.ok and why.message.endswith(
        "lost in failed capture requests (2 HTTP 500, 1 net::ERR_ABORTED)"
    )


def test_target_guard() -> None:
    profile = load_profile()
    assert guard("http://127.0.0.1:9/", profile, [], False) == "http://127.0.0.1:9"
    assert guard("http://localhost:9", profile, [], False) == "http://localhost:9"
    with pytest.raises(HogfleetError, match="not in allowed_hosts"):
        guard("https://hogflix.example.com", profile, [], False)
    assert guard("https://hogflix.example.com", profile, ["hogflix.example.com"], False)
    unmarked = profile.model_copy(
        update={"synthetic": profile.synthetic.model_copy(update={"enabled": False})}
    )
    with pytest.raises(HogfleetError, match="no synthetic marking"):
        guard("https://hogflix.example.com", unmarked, ["hogflix.example.com"], False)


def test_third_parties_are_matched_and_the_target_is_not() -> None:
    from bots.runtime.attempt import third_party_pattern

    pattern = third_party_pattern("http://127.0.0.1:8000", ("cdn.example.com",))
    assert pattern.search("https://fonts.googleapis.com/css2?family=x")
    assert pattern.search("http://127.0.0.1:80001/x")  # another port is another origin
    for url in ("http://127.0.0.1:8000/", "http://127.0.0.1:8000", "http://127.0.0.1:8000?x=1"):
        assert not pattern.search(url), url
    assert not pattern.search("https://cdn.example.com/lib.js")


def test_marking_fails_only_events_after_the_marker() -> None:
    import datetime as dt

    from analytics.events import CapturedEvent
    from bots.runtime.verdict import marking

    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def ev(n: int, name: str, marked: bool) -> CapturedEvent:
        props = {"is_synthetic": True} if marked else {}
        return CapturedEvent(
            uuid=f"u{n}",
            event=name,
            distinct_id="d",
            timestamp=t0 + dt.timedelta(seconds=n),
            properties=props,
        )

    marks = marking(
        [ev(2, "b", True), ev(1, "$set", False), ev(3, "c", False), ev(4, "d", True)], "is_synthetic"
    )
    assert (marks.marked, marks.total, marks.unmarked_after_marker) == (2, 4, ("c",))
    assert marks.share == 0.5


def test_a_capture_request_cut_off_by_leaving_is_unconfirmed_not_lost() -> None:
    import datetime as dt
    import re
    from typing import cast

    from playwright.async_api import Request

    from analytics.events import CapturedEvent
    from bots.runtime.observer import CaptureObserver

    class Cut:
        failure = "net::ERR_ABORTED"

    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    event = CapturedEvent(uuid="u1", event="x", distinct_id="d", timestamp=t0, properties={})
    mid, last = cast(Request, Cut()), cast(Request, Cut())
    observer = CaptureObserver(re.compile("/e/"))
    observer._pending[mid] = [event]
    observer._on_failed(mid)  # mid-session: the events are lost, and say why
    assert observer.lost_reasons() == Counter({"net::ERR_ABORTED": 1})
    observer.leaving = True
    observer._pending[last] = [event]
    observer._on_failed(last)  # on the way out: sent, answer unseen
    assert "u1" in observer.delivered and "u1" in observer.unconfirmed and not observer.lost
