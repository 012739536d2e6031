"""``hogfleet smoke`` end to end: the real console script runs the suite against the real demo.

The full matrix runs once here (the suite ships in ``bots/smoke_suite`` and a plain ``pytest``
of ``tests/`` does not collect it), then once more
with an event removed from the demo's instrumentation, which must fail the cases that owe it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bots.cli import main
from bots.records.ledger import LedgerRecord, Verdict
from bots.runtime.target import free_port
from bots.smoke_suite.cases import PERSONAS, matrix, problems, video_unavailable
from flows import registry

HOGFLEET = str(Path(sys.executable).parent / "hogfleet")


def hogfleet(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HOGFLEET, *args],
        env={**os.environ, **(env or {})},
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=900,
    )


def cases(junit: Path) -> dict[str, ET.Element]:
    root = ET.parse(junit).getroot()
    return {case.attrib["name"]: case for case in root.iter("testcase")}


def failure_text(case: ET.Element) -> str:
    failure = case.find("failure")
    assert failure is not None, f"{case.attrib['name']} did not fail"
    return failure.attrib.get("message", "") + "\n" + (failure.text or "")


def test_help_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--target", "--flow", "--junit", "--headed", "--slowmo", "--output", "--tracing", "--video"):
        assert flag in out
    assert "Example:" in out


def test_unknown_flow_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", "--flow", "no-such-flow"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown flow(s) no-such-flow (known: ") and "\n" not in err


def test_a_url_target_is_guarded_like_a_fleet_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", "--target", "http://10.255.255.1:8000"]) == 2
    assert "not loopback and not in allowed_hosts" in capsys.readouterr().err
    assert main(["smoke", "--target", f"http://127.0.0.1:{free_port()}"]) == 2
    assert capsys.readouterr().err.strip().endswith("refuses connections")


@pytest.mark.e2e
def test_video_without_playwrights_ffmpeg_is_a_one_line_error() -> None:
    # Own loops in their own thread and process: pytest-playwright's sync fixtures may hold this
    # thread's event loop for the whole session.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        why = pool.submit(lambda: asyncio.run(video_unavailable())).result()
    if why is None:
        pytest.skip("Playwright's ffmpeg is installed: videos can be recorded here")
    done = subprocess.run(
        [HOGFLEET, "smoke", "--video", "retain-on-failure"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    err = "\n".join(line for line in done.stderr.strip().splitlines() if not line.startswith("WARNING "))
    assert err.startswith("error: --video retain-on-failure cannot record here: ") and "\n" not in err


def test_suite_ships_inside_the_package_as_a_pytest_plugin() -> None:
    from importlib.metadata import entry_points

    import bots.smoke_suite.plugin

    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("hogfleet_smoke") == "bots.smoke_suite.plugin"
    assert (Path(bots.smoke_suite.plugin.__file__).parent / "test_flows.py").is_file()


@pytest.mark.e2e
@pytest.mark.slow
def test_smoke_passes_on_the_demo_and_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "smoke.xml"
    done = hogfleet(tmp_path, "smoke", "--junit", str(junit), "--output", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    root = ET.parse(junit).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    assert int(suite.attrib["failures"]) == 0 and int(suite.attrib["errors"]) == 0
    assert int(suite.attrib["skipped"]) == 0
    expected = {f"test_flow[{flow}-{persona}]" for flow, persona in matrix(registry.names(), explicit=False)}
    assert {p for name in expected for p in PERSONAS if name.endswith(f"-{p}]")} == set(PERSONAS)
    assert set(cases(junit)) == expected


@pytest.mark.e2e
@pytest.mark.slow
def test_a_removed_event_fails_the_cases_that_owe_it_and_names_it(tmp_path: Path) -> None:
    junit = tmp_path / "smoke.xml"
    out = tmp_path / "out"
    done = hogfleet(
        tmp_path,
        "smoke",
        "--flow",
        "search",
        "--junit",
        str(junit),
        "--output",
        str(out),
        env={"HOGFLEET_DEMO_DISABLE_EVENTS": "rating_submitted"},
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    found = cases(junit)
    assert set(found) == {f"test_flow[search-{persona}]" for persona in PERSONAS}
    for case in found.values():
        text = failure_text(case)
        missing = re.search(r"expected analytics events missing: ([^;(]+)", text)
        # Only the removed event is named: the rest of the instrumentation still works.
        assert missing is not None and missing.group(1).split(", ") == ["rating_submitted "], text
    # retain-on-failure: each failed case keeps its trace under --output.
    assert len(list(out.rglob("trace.zip"))) == len(PERSONAS)


def _record(
    steps: list[str], missing: tuple[str, ...] = (), capture_requests: int = 3, **extra: object
) -> LedgerRecord:
    now = dt.datetime(2026, 11, 21, 20, 0, tzinfo=dt.UTC)
    return LedgerRecord.model_validate(
        {
            "date": now.date(),
            "run_id": "smoke-x",
            "persona": "smoke_x",
            "session_id": "smoke_x-homepage",
            "started_at": now,
            "ended_at": now,
            "outcome": "ok",
            "steps": steps,
            "events": {"$pageview": 2},
            "verdict": Verdict(ok=not missing, capture_requests=capture_requests, missing=list(missing)),
            **extra,
        }
    )


def test_problems_name_what_failed() -> None:
    full = ["home", "signup", "open_title", "play", "watch", "rate"]
    assert problems(_record(full), "homepage", "new") == []
    assert problems(_record(full, ["rating_submitted"]), "homepage", "new") == [
        "expected analytics events missing: rating_submitted"
    ]
    assert problems(_record(full), "homepage", "returning") == [
        "the returning persona was not logged in from its storage state"
    ]
    assert problems(_record(["home", "open_title", "play", "watch"]), "homepage", "returning") == [
        "steps never done: rate"
    ]
    assert problems(_record(["home", "signup"]), "some_plugin", "mobile") == [
        "the flow did no step of its own"
    ]
    silent = problems(_record(full, capture_requests=0), "homepage", "new")
    assert len(silent) == 1 and silent[0].startswith("no capture request")
    failed = _record(
        ["home", "signup"],
        outcome="failed",
        error_step="open_title",
        error_class="selector_timeout",
        error_message="Timeout 10000ms exceeded",
    )
    assert problems(failed, "homepage", "new") == [
        "UI path failed at step 'open_title': selector_timeout: Timeout 10000ms exceeded"
    ]
