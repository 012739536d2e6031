"""SIGTERM and Ctrl-C: the current step finishes, state is saved, the ledger written, nothing left behind.

``kill <pid>`` (and CI cancellation, ``docker stop`` through tini) sends SIGTERM to the fleet alone;
Ctrl-C in a terminal sends SIGINT to the whole foreground process group, Playwright's driver and
the demo included. Both must end the same way: sessions in flight stop between steps
(outcome failed, error class ``interrupted``), their storage states are saved, every Chromium and
the demo are gone, and the next run resumes the interrupted sessions.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from bots.records.storage import StorageStates, posthog_distinct_id
from tests.reliability.conftest import DAY2, Fleet, alive, cmdline, descendants, processes_marked

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _identities(fleet: Fleet) -> dict[str, str | None]:
    store = StorageStates(fleet.storage)
    return {p.stem: posthog_distinct_id(store.load(p.stem)) for p in fleet.storage.glob("*.json")}


@pytest.mark.parametrize("how", ["sigterm-pid", "sigint-group"])
def test_signal_stops_cleanly_and_leaves_no_chromium(
    seeded: Fleet, tmp_path_factory: pytest.TempPathFactory, how: str
) -> None:
    fleet = seeded.clone(tmp_path_factory.mktemp(how))
    before = _identities(fleet)
    proc = fleet.popen("run", "--date", DAY2.isoformat(), "--json")
    tree: set[int] = set()
    deadline = time.monotonic() + 120
    in_flight_since: float | None = None
    # Signal while a session is in flight: a renderer exists and a page has been up for a moment.
    while time.monotonic() < deadline and proc.poll() is None:
        tree |= descendants(proc.pid)
        if in_flight_since is None and any("--type=renderer" in cmdline(p) for p in tree):
            in_flight_since = time.monotonic()
        if in_flight_since is not None and time.monotonic() - in_flight_since > 3:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be signalled"
    tree |= descendants(proc.pid)
    chromium = {p for p in tree if "chrom" in cmdline(p)}
    assert chromium, "no Chromium under the run"
    if how == "sigterm-pid":
        os.kill(proc.pid, signal.SIGTERM)
        name = "SIGTERM"
    else:
        os.killpg(proc.pid, signal.SIGINT)
        name = "SIGINT"
    _, err = proc.communicate(timeout=180)

    assert proc.returncode == {"SIGTERM": 143, "SIGINT": 130}[name]
    assert "Traceback" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last == f"error: stopped by {name}", err[-2000:]

    # Nothing left behind: no Chromium, no driver, no demo (its --db path names the state dir).
    time.sleep(0.5)
    left = {p for p in tree if alive(p)}
    assert not left, [(p, cmdline(p)[:100]) for p in left]
    assert not processes_marked(str(fleet.state)), "the demo outlived the run"

    records = fleet.ledger(DAY2)
    assert records, "the ledger has no line for the session in flight"
    interrupted = [r for r in records if r.error_class == "interrupted"]
    for record in records:
        assert record.outcome in ("ok", "abandoned") or record.error_class == "interrupted", record
    for record in interrupted:
        assert record.outcome == "failed" and record.error_message
    # Every storage state is valid and no persona lost its analytics identity.
    after = _identities(fleet)
    for persona, distinct_id in before.items():
        assert after.get(persona) == distinct_id, persona
    planned = {r.session_id for r in records}
    done = {r.session_id for r in records if r.outcome in ("ok", "abandoned")}

    if how == "sigterm-pid" and interrupted:
        # The next run resumes the interrupted session and never repeats a done one.
        victim = interrupted[0]
        again = fleet.run("run", "--date", DAY2.isoformat(), "--persona", victim.persona, "--json")
        assert again.returncode == 0, again.stderr[-2000:]
        final = [r for r in fleet.ledger(DAY2) if r.session_id == victim.session_id]
        assert final[-1].outcome in ("ok", "abandoned"), final[-1]
        oks = [r.session_id for r in fleet.ledger(DAY2) if r.outcome in ("ok", "abandoned")]
        assert len(oks) == len(set(oks)) and done <= set(oks) and planned >= done
