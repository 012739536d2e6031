"""The smoke suite's pytest plugin (entry point ``hogfleet_smoke`` in the ``pytest11`` group).

Shipped inside the package with its one test module (``bots/smoke_suite/test_flows.py``), so it runs
wherever hogfleet is installed, a wheel or the Docker image included: ``hogfleet smoke`` runs it, and
so does plain pytest::

    pytest -p hogfleet_smoke --pyargs bots.smoke_suite --flow search

Every registered flow (plugins included) × representative personas, in real Chromium. Installed,
the plugin is loaded by every pytest session of that environment but stays inert there: it only adds
options and fixtures, and its cases are collected only when ``bots.smoke_suite`` is named.

Built on pytest-playwright's options: ``--headed``, ``--slowmo`` and the launch arguments reach the
launch through its ``browser_type_launch_args`` fixture, with the Chromium the fleet resolves
(bots/runtime/browser.py); ``--base-url`` picks the target, and without it one embedded demo is
started for the whole session; ``--tracing``, ``--video`` and ``--output`` decide which artifacts a
case keeps and where (``<output>/<test id>/``). A failure includes an analytics-only one, so with
``retain-on-failure`` every case records a trace and a passing case drops it. A case whose UI path
fails also keeps the runtime's screenshot, whatever ``--screenshot`` says. The runtime is the one
``hogfleet run`` builds from ``hogfleet.toml`` (``--hogfleet-config``), with the smoke overrides of
bots/smoke_suite/cases.py.

The flows are async, so the cases drive them on pytest-asyncio's session loop through the fleet's
own runtime (``bots.smoke_suite.cases``); pytest-playwright's sync ``page`` fixtures are not used.

The matrix is every flow × new, returning and mobile personas, except that the mobile variant of
the built-in journeys runs for homepage and search only (``bots.smoke_suite.cases.MOBILE_BUILTINS``);
flows picked with ``--flow`` and plugin flows get all three.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Playwright, async_playwright

from bots.config.settings import FleetSettings, load_settings
from bots.runtime.browser import launch_args
from bots.runtime.plugins import check_plugins
from bots.runtime.target import DemoProcess, check_reachable, guard
from bots.smoke_suite.cases import (
    describe,
    matrix,
    run_once,
    smoke_devices,
    smoke_env,
    smoke_identity,
    smoke_plan,
    video_unavailable,
)
from flows import registry
from flows.profile import SiteProfile, load_profile
from personas.errors import HogfleetError
from personas.plans import Identity, VideoStep


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
    group.addoption(
        "--hogfleet-frontend",
        default=None,
        metavar="DIR",
        help="a HogFlix build for the embedded demo to serve (the profile then defaults to hogflix)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "smoke: one flow × persona against a live target (hogfleet smoke)")
    config.addinivalue_line("markers", "e2e: drives real Chromium against a real site")


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
    frontend = pytestconfig.getoption("hogfleet_frontend", default=None)
    return load_profile(Path(path) if path else None, frontend=Path(frontend) if frontend else None)


@pytest.fixture(scope="session")
def smoke_settings(pytestconfig: pytest.Config) -> FleetSettings:
    """``hogfleet.toml``'s ``[fleet]`` settings, read by the same reader ``hogfleet run`` uses."""
    config = pytestconfig.getoption("hogfleet_config", default=None)
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def warn(line: str) -> None:
        # Once, at the start of the suite, on the real stderr (not a case's captured output).
        with capture.global_and_fixture_disabled():
            print(line, file=sys.stderr, flush=True)

    try:
        settings = load_settings(Path(config) if config else None)
        check_plugins(settings.broken_plugins, warn)
    except HogfleetError as exc:
        pytest.exit(f"error: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    return settings


@pytest.fixture(scope="session")
def smoke_base_url(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    smoke_profile: SiteProfile,
    smoke_settings: FleetSettings,
) -> Iterator[str]:
    """``--base-url`` (guarded like a fleet target), else one embedded demo for the whole session.

    Not pytest-playwright's ``base_url`` fixture: two plugins defining one fixture name would make
    which one wins depend on their load order."""
    given = pytestconfig.getoption("base_url", default=None)
    if given:
        settings = smoke_settings
        try:
            url = guard(given, smoke_profile, settings.allowed_hosts, settings.allow_unmarked_traffic)
            check_reachable(url)
        except HogfleetError as exc:
            raise pytest.UsageError(str(exc)) from None
        yield url
        return
    # The demo inherits this environment: HOGFLEET_DEMO_DISABLE_EVENTS reaches its frontend.
    frontend = pytestconfig.getoption("hogfleet_frontend", default=None)
    demo = DemoProcess(tmp_path_factory.mktemp("smoke-demo"), frontend=Path(frontend) if frontend else None)
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
    browser = await smoke_playwright.chromium.launch(**launch_args(browser_type_launch_args))
    try:
        video = pytestconfig.getoption("--video", default="off")
        why = await video_unavailable(browser) if video != "off" else None
        if why is not None:
            pytest.exit(f"--video {video} cannot record here: {why}", returncode=pytest.ExitCode.USAGE_ERROR)
        yield browser
    finally:
        await browser.close()


@pytest.fixture(scope="session")
def returning_identity(
    smoke_browser: Browser,
    smoke_playwright: Playwright,
    smoke_base_url: str,
    smoke_settings: FleetSettings,
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
            smoke_settings,
            base_url=smoke_base_url,
            profile=smoke_profile,
            storage_dir=smoke_storage_dir,
            artifacts_dir=tmp_path_factory.mktemp("smoke-setup"),
            run_id=f"smoke-{smoke_tag}",
            day=smoke_day,
            flow="homepage",
            save_state=True,
        )
        record = await run_once(smoke_browser, env, smoke_devices(smoke_playwright.devices), setup)
        if record.outcome == "ok" and env.storage.load(identity.distinct_id) is not None:
            return ""
        return "setting up the returning persona failed: " + describe(record, "homepage", "new")

    return get
