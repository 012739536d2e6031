"""Smoke suite: every registered flow (plugins included) × representative personas, in real Chromium.

Built on pytest-playwright's options: ``--headed``, ``--slowmo`` and the Chromium resolution reach
the launch through its ``browser_type_launch_args`` fixture (which ``tests/conftest.py`` points at
Debian's Chromium); ``--base-url`` picks the target, and without it one embedded demo is started
for the whole session; ``--tracing``, ``--video`` and ``--output`` decide which artifacts a case
keeps and where (``<output>/<test id>/``). A failure includes an analytics-only one, so with
``retain-on-failure`` every case records a trace and a passing case drops it. A case whose UI
path fails also keeps the runtime's screenshot, whatever ``--screenshot`` says.

The flows are async, so the cases drive them on pytest-asyncio's session loop through the fleet's
own runtime (``bots.smoke``); pytest-playwright's sync ``page`` fixtures are not used.

The matrix is every flow × new, returning and mobile personas, except that the mobile variant of
the built-in journeys runs for homepage and search only (``bots.smoke.MOBILE_BUILTINS``); flows
picked with ``--flow`` and plugin flows get all three.

The suite is not part of a plain ``pytest`` run (its cases are deselected unless ``tests/smoke``
is named on the command line or HOGFLEET_SMOKE=1): ``hogfleet smoke`` runs it, and
``tests/bots/test_smoke_cli.py`` runs that once.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Playwright, async_playwright

from bots.settings import load_settings
from bots.smoke import (
    describe,
    matrix,
    run_once,
    smoke_devices,
    smoke_env,
    smoke_identity,
    smoke_plan,
    video_unavailable,
)
from bots.target import DemoProcess, check_reachable, guard
from flows import registry
from flows.profile import SiteProfile, load_profile
from personas.errors import HogfleetError
from personas.plans import Identity, VideoStep

SMOKE_DIR = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hogfleet-smoke", "hogfleet smoke suite")
    group.addoption(
        "--flow",
        action="append",
        default=[],
        metavar="NAME",
        help="only smoke-test this registered flow (repeatable; default: every flow, plugins included)",
    )
    group.addoption("--site-profile", default=None, metavar="PATH", help="site profile TOML (default: demo)")
    group.addoption(
        "--hogfleet-config",
        default=None,
        metavar="PATH",
        help="hogfleet.toml whose [fleet] allowed_hosts guard a --base-url (default: ./hogfleet.toml)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "smoke: one flow × persona against a live target (hogfleet smoke)")


def _requested(config: pytest.Config) -> bool:
    if os.environ.get("HOGFLEET_SMOKE") == "1":
        return True
    here = Path(config.invocation_params.dir)
    for arg in config.args:
        path = (here / arg.split("::", 1)[0]).resolve()
        if path == SMOKE_DIR or SMOKE_DIR in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A plain `pytest` would run the whole matrix a second time (test_smoke_cli runs it once).
    if _requested(config):
        return
    ours = [item for item in items if SMOKE_DIR in Path(item.path).resolve().parents]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item not in ours]


def selected_flows(config: pytest.Config) -> tuple[list[str], bool]:
    """The flows to smoke-test, and whether they were picked by name."""
    known = registry.names()
    wanted: list[str] = config.getoption("flow", default=None) or []
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise pytest.UsageError(f"unknown flow(s) {', '.join(unknown)} (known: {', '.join(known)})")
    return [name for name in known if not wanted or name in wanted], bool(wanted)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"flow", "persona"} <= set(metafunc.fixturenames):
        cases = matrix(*selected_flows(metafunc.config))
        metafunc.parametrize(("flow", "persona"), cases, ids=[f"{f}-{p}" for f, p in cases])


@pytest.fixture(scope="session")
def smoke_profile(pytestconfig: pytest.Config) -> SiteProfile:
    path = pytestconfig.getoption("site_profile", default=None)
    return load_profile(Path(path) if path else None)


@pytest.fixture(scope="session")
def base_url(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, smoke_profile: SiteProfile
) -> Iterator[str]:
    """``--base-url`` (guarded like a fleet target), else one embedded demo for the whole session."""
    given = pytestconfig.getoption("base_url", default=None)
    if given:
        config = pytestconfig.getoption("hogfleet_config", default=None)
        settings = load_settings(Path(config) if config else None)
        try:
            url = guard(given, smoke_profile, settings.allowed_hosts, settings.allow_unmarked_traffic)
            check_reachable(url)
        except HogfleetError as exc:
            raise pytest.UsageError(str(exc)) from None
        yield url
        return
    # The demo inherits this environment: HOGFLEET_DEMO_DISABLE_EVENTS reaches its frontend.
    demo = DemoProcess(tmp_path_factory.mktemp("smoke-demo"))
    try:
        yield demo.start()
    finally:
        demo.stop()


@pytest.fixture(scope="session")
def smoke_tag() -> str:
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def smoke_day() -> dt.date:
    return dt.date.today()


@pytest.fixture(scope="session")
def smoke_storage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Never the fleet's storage_states/: smoke personas are throwaway accounts.
    return tmp_path_factory.mktemp("smoke-storage")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def smoke_playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as pw:
        yield pw


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def smoke_browser(
    smoke_playwright: Playwright, browser_type_launch_args: dict[str, Any], pytestconfig: pytest.Config
) -> AsyncIterator[Browser]:
    """One Chromium for the session, launched with pytest-playwright's arguments."""
    browser = await smoke_playwright.chromium.launch(**browser_type_launch_args)
    try:
        video = pytestconfig.getoption("--video", default="off")
        why = await video_unavailable(browser) if video != "off" else None
        if why is not None:
            pytest.exit(f"--video {video} cannot record here: {why}", returncode=pytest.ExitCode.USAGE_ERROR)
        yield browser
    finally:
        await browser.close()


def trace_mode(config: pytest.Config) -> Any:
    return config.getoption("--tracing", default="retain-on-failure")


@pytest.fixture(scope="session")
def returning_identity(
    smoke_browser: Browser,
    smoke_playwright: Playwright,
    base_url: str,
    smoke_profile: SiteProfile,
    smoke_storage_dir: Path,
    smoke_tag: str,
    smoke_day: dt.date,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Awaitable[Identity]]:
    """Per flow, a persona that signed up in an earlier session: its storage state keeps it logged
    in (and for the watchlist flow, its watchlist holds a title to play).

    One per flow, because the site remembers what an account did (ratings, watchlist): a persona
    shared by the flows would make each case depend on the ones before it. Returned as an
    awaitable getter, so that a broken signup fails only the returning cases, with its message.
    """
    failures: dict[str, str] = {}

    async def get(flow: str) -> Identity:
        identity = smoke_identity(smoke_tag, f"{flow}-returning")
        if flow not in failures:
            failures[flow] = await _set_up(identity, flow)
        if failures[flow]:
            pytest.fail(failures[flow], pytrace=False)
        return identity

    async def _set_up(identity: Identity, flow: str) -> str:
        setup = smoke_plan(
            "homepage",
            identity,
            signup=True,
            day=smoke_day,
            # Only the watchlist flow needs more than an account: a title already on the list.
            videos=(VideoStep(start=False, completion=0.0, add_to_watchlist=True),)
            if flow == "watchlist"
            else (),
            session_id=f"{identity.distinct_id}-setup",
        )
        env = smoke_env(
            base_url=base_url,
            profile=smoke_profile,
            storage_dir=smoke_storage_dir,
            artifacts_dir=tmp_path_factory.mktemp("smoke-setup"),
            run_id=f"smoke-{smoke_tag}",
            day=smoke_day,
            devices=smoke_devices(smoke_playwright.devices),
            flow="homepage",
            save_state=True,
        )
        record = await run_once(smoke_browser, env, setup)
        if record.outcome == "ok" and env.storage.load(identity.distinct_id) is not None:
            return ""
        return "setting up the returning persona failed: " + describe(record, "homepage", "new")

    return get
