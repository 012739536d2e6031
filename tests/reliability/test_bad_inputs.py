"""Bad input, table-driven: each gets one line naming the problem, exit 2, no traceback, no state change.

The state dir starts from a real ``hogfleet plan`` (personas, metrics, the day's plan); each case
breaks one thing (a file, a flag, a config value, the target) and runs the real console script.
Corrupt *storage states* are different by design (the persona starts fresh and the file is kept
aside): see ``test_corrupt_storage_state_starts_fresh`` below.
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.runtime.target import free_port
from flows.profile import DEMO_PROFILE
from tests.reliability.conftest import DAY1, DAY2, Fleet, tree_hashes

Setup = Callable[[Fleet], None]


def _rewrite(name: str, change: Callable[[bytes], bytes]) -> Setup:
    def setup(fleet: Fleet) -> None:
        path = fleet.state / name
        path.write_bytes(change(path.read_bytes()))

    return setup


def _json_edit(name: str, edit: Callable[[dict[str, object]], None]) -> Setup:
    def change(raw: bytes) -> bytes:
        data = json.loads(raw)
        edit(data)
        return json.dumps(data).encode()

    return _rewrite(name, change)


def _unknown_state(data: dict[str, object]) -> None:
    personas = data["personas"]
    assert isinstance(personas, list)
    personas[0]["state"] = "zombie"


def _profile(fleet: Fleet, text: str) -> str:
    path = fleet.root / "profile.toml"
    path.write_text(text)
    return str(path)


def _config(fleet: Fleet, text: str) -> str:
    path = fleet.root / "bad.toml"
    path.write_text(text)
    return str(path)


@dataclass
class Case:
    id: str
    args: Callable[[Fleet, str], list[str]]  # (fleet, url of a 404 server) -> argv after `hogfleet`
    expect: str  # a fragment of the one-line error
    setup: Setup | None = None
    config: bool = True  # pass the sandbox's --config
    state: bool = True  # pass the sandbox's --state-dir


def _run(*extra: str) -> Callable[[Fleet, str], list[str]]:
    return lambda fleet, url: ["run", "--date", DAY1.isoformat(), *extra]


PLAN = DAY1.isoformat()
CASES = [
    Case(
        "personas-malformed",
        _run(),
        "personas.json is not valid JSON",
        _rewrite("personas.json", lambda b: b"{nope"),
    ),
    Case(
        "personas-truncated",
        _run(),
        "personas.json is not valid JSON",
        _rewrite("personas.json", lambda b: b[: len(b) // 2]),
    ),
    Case(
        "personas-empty", _run(), "personas.json is not valid JSON", _rewrite("personas.json", lambda b: b"")
    ),
    Case(
        "personas-future-schema",
        _run("--date", DAY2.isoformat()),
        "has schema_version 99",
        _json_edit("personas.json", lambda d: d.update(schema_version=99)),
    ),
    Case(
        "personas-no-schema",
        _run("--date", DAY2.isoformat()),
        "has no schema_version",
        _rewrite("personas.json", lambda b: b"{}"),
    ),
    Case(
        "persona-unknown-state",
        _run("--date", DAY2.isoformat()),
        "wrong shape at personas.0.state",
        _json_edit("personas.json", _unknown_state),
    ),
    Case(
        "metrics-malformed",
        _run("--date", DAY2.isoformat()),
        "daily_metrics.json is not valid JSON",
        _rewrite("daily_metrics.json", lambda b: b"["),
    ),
    Case(
        "plan-truncated",
        _run(),
        f"{PLAN}.json is not valid JSON",
        _rewrite(f"plans/{PLAN}.json", lambda b: b[:100]),
    ),
    Case(
        "plan-future-schema",
        _run(),
        "has schema_version 99",
        _json_edit(f"plans/{PLAN}.json", lambda d: d.update(schema_version=99)),
    ),
    Case(
        "invalid-date", _run("--date", "2026-13-01"), "--date must be a date as YYYY-MM-DD (got '2026-13-01')"
    ),
    Case("invalid-date-word", lambda f, u: ["plan", "--date", "yesterday"], "YYYY-MM-DD (got 'yesterday')"),
    Case("simulate-days-0", lambda f, u: ["simulate", "--days", "0"], "--days", config=False, state=False),
    Case("concurrency-0", _run("--concurrency", "0"), "--concurrency"),
    Case("max-sessions-0", _run("--max-sessions", "0"), "--max-sessions"),
    Case("dwell-negative", _run("--dwell-scale", "-1"), "--dwell-scale"),
    Case("fail-over-2", _run("--fail-over", "2"), "--fail-over"),
    Case("trace-bogus", _run("--trace", "bogus"), "--trace"),
    Case("unknown-option", _run("--dayz", "3"), "No such option: --dayz"),
    Case("shard-3-of-2", _run("--shard", "3/2"), "shard"),
    Case("shard-on-embedded-demo", _run("--shard", "1/2", "--target", "demo"), "needs one target shared"),
    Case("unknown-flow", _run("--flow", "nope"), "unknown flow 'nope'"),
    Case("unknown-persona", _run("--persona", "nope"), "unknown persona(s)"),
    Case(
        "profile-missing-selector",
        lambda f, u: [
            "run",
            "--date",
            PLAN,
            "--site-profile",
            _profile(f, DEMO_PROFILE.read_text().replace('play_button = "[data-testid=play-button]"\n', "")),
        ],
        "selectors.play_button is required (or declare 'title_page' unsupported)",
    ),
    Case(
        "profile-not-toml",
        lambda f, u: ["run", "--date", PLAN, "--site-profile", _profile(f, "name = [")],
        "site profile",
    ),
    Case("profile-missing-file", _run("--site-profile", "/nonexistent/profile.toml"), "file not found"),
    Case("target-not-a-url", _run("--target", "not a url"), "invalid target URL 'not a url'"),
    Case("target-ftp", _run("--target", "ftp://127.0.0.1/"), "invalid target URL"),
    Case(
        "target-not-allowed", _run("--target", "https://example.com"), "not loopback and not in allowed_hosts"
    ),
    Case(
        "target-refuses",
        lambda f, u: ["run", "--date", PLAN, "--target", f"http://127.0.0.1:{free_port()}"],
        "refuses connections",
    ),
    Case("target-404", lambda f, u: ["run", "--date", PLAN, "--target", u], "answers 404 on /"),
    Case(
        "config-out-of-range",
        lambda f, u: ["run", "--date", PLAN, "--config", _config(f, "[fleet]\nconcurrency = 0\n")],
        "fleet.concurrency",
        config=False,
    ),
    Case(
        "config-unknown-key",
        lambda f, u: ["run", "--date", PLAN, "--config", _config(f, "[fleet]\nconcurency = 2\n")],
        "fleet.concurency",
        config=False,
    ),
    Case(
        "config-breaker-0",
        lambda f, u: ["run", "--date", PLAN, "--config", _config(f, "[fleet]\ncircuit_breaker = 0\n")],
        "fleet.circuit_breaker",
        config=False,
    ),
    Case(
        "config-not-toml",
        lambda f, u: ["run", "--date", PLAN, "--config", _config(f, "[fleet\n")],
        "bad.toml",
        config=False,
    ),
    Case("config-missing", _run("--config", "/nonexistent/hogfleet.toml"), "file not found", config=False),
    Case(
        "seed-mismatch",
        lambda f, u: ["plan", "--date", DAY2.isoformat(), "--seed", "8"],
        "was created with seed 7",
    ),
]


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def not_found_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    fleet = Fleet(tmp_path_factory.mktemp("planned"), pool=6)
    done = fleet.run("plan", "--date", DAY1.isoformat())
    assert done.returncode == 0, done.stderr
    return fleet


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 25


PARAMS = [pytest.param(c, id=c.id) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input(
    case: Case,
    planned: Fleet,
    not_found_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process through the CLI root (the console script's own entry point), for speed: an
    # exception escaping main() fails the test just as a traceback would.
    from bots.cli import main

    fleet = planned.clone(tmp_path / "sandbox")
    if case.setup is not None:
        case.setup(fleet)
    for key, value in fleet.env().items():
        if key.startswith(("HOGFLEET_", "POSTHOG_")):
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(fleet.root)
    # Build the argv first: some cases write their bad profile or config file while doing so.
    argv = fleet.argv(*case.args(fleet, not_found_url), config=case.config, state=case.state)[1:]
    before = {k: v for k, v in tree_hashes(fleet.root).items() if not k.endswith(".lock")}
    code = main(argv)
    err = capsys.readouterr().err
    after = {k: v for k, v in tree_hashes(fleet.root).items() if not k.endswith(".lock")}
    # Log warnings (e.g. the system Chromium's version) are not the error; the error is one line.
    lines = [line for line in err.strip().splitlines() if not line.startswith("WARNING ")]
    assert code == 2, (code, err[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert case.expect in lines[0], lines[0]
    assert after == before, "the state dir changed"
    shutil.rmtree(fleet.root)


def test_console_script_bad_input_is_one_line(planned: Fleet, tmp_path: Path) -> None:
    fleet = planned.clone(tmp_path / "sandbox")
    (fleet.state / "personas.json").write_bytes(b"{truncated")
    done = fleet.run("run", "--date", DAY1.isoformat(), timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip() == f"error: {fleet.state / 'personas.json'} is not valid JSON; fix or remove it"
    )
