"""``hogfleet smoke``: run the smoke suite (``tests/smoke/``) over every registered flow.

A team adding a feature adds a flow (in hogfleet or as a plugin) and runs this one command: each
flow runs once per representative persona in real Chromium, and a case fails when its UI path or
its analytics instrumentation is broken.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

import bots
from bots.settings import load_settings
from bots.smoke import video_unavailable
from bots.target import DEMO, check_reachable, guard
from flows import registry
from flows.profile import load_profile
from personas.errors import HogfleetError

PYTEST_NO_TESTS = 5
Artifacts = Literal["on", "off", "retain-on-failure"]


def smoke_dir() -> Path:
    """The suite ships beside the package in a source checkout (``pip install -e``)."""
    return Path(bots.__file__).resolve().parent.parent / "tests" / "smoke"


def pytest_args(
    suite: Path,
    *,
    base_url: str | None,
    flows: list[str],
    junit: Path | None,
    headed: bool,
    slowmo: int,
    output: Path,
    tracing: Artifacts,
    video: Artifacts,
    site_profile: Path | None,
    config: Path | None,
    verbose: bool,
) -> list[str]:
    args = [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-rfE"]
    args += ["-v"] if verbose else ["-q"]
    args += ["--output", str(output.resolve()), "--tracing", tracing, "--video", video]
    args += ["--screenshot", "only-on-failure"]
    if base_url is not None:
        args += ["--base-url", base_url]
    for flow in flows:
        args += ["--flow", flow]
    if junit is not None:
        args += ["--junitxml", str(junit.resolve())]
    if headed:
        args.append("--headed")
    if slowmo:
        args += ["--slowmo", str(slowmo)]
    if site_profile is not None:
        args += ["--site-profile", str(site_profile.resolve())]
    if config is not None:
        args += ["--hogfleet-config", str(config.resolve())]
    return args


def smoke(
    target: Annotated[
        str, typer.Option(help="'demo' (start the embedded site for the suite) or a base URL")
    ] = DEMO,
    flow: Annotated[
        list[str] | None,
        typer.Option(help="only this registered flow (repeatable; default: all, plugins included)"),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="write a JUnit XML report to PATH (for CI)")] = None,
    headed: Annotated[bool, typer.Option(help="show the browser")] = False,
    slowmo: Annotated[int, typer.Option(min=0, help="slow every Playwright action by MS")] = 0,
    output: Annotated[
        Path,
        typer.Option(help="artifacts dir: traces, screenshots, videos of failed cases (emptied first)"),
    ] = Path("test-results"),
    tracing: Annotated[
        Artifacts, typer.Option(help="Playwright traces: on|off|retain-on-failure")
    ] = "retain-on-failure",
    video: Annotated[Artifacts, typer.Option(help="record videos: on|off|retain-on-failure")] = "off",
    site_profile: Annotated[
        Path | None, typer.Option(help="site profile TOML of the target (default: the demo's)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="hogfleet.toml whose [fleet] allowed_hosts guard a URL target")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="one line per case")] = False,
) -> None:
    """Smoke-test every registered flow (plugins included) as a new, a returning (logged-in) and a
    mobile persona: each case runs the flow once in real Chromium and fails when the UI path breaks
    or an analytics event the flow's steps owe was not emitted (the failure names it).

    Exits with pytest's code: 0 all passed, 1 some case failed; 2 when nothing could be run.

    Example: hogfleet smoke --flow search --junit smoke.xml
    """
    suite = smoke_dir()
    if not (suite / "test_flows.py").is_file():
        raise HogfleetError(f"smoke suite not found at {suite} (needs a source checkout of hogfleet)")
    known = registry.names()
    unknown = [name for name in flow or [] if name not in known]
    if unknown:
        raise HogfleetError(f"unknown flow(s) {', '.join(unknown)} (known: {', '.join(known)})")
    if video != "off":
        why = asyncio.run(video_unavailable())
        if why is not None:
            raise HogfleetError(f"--video {video} cannot record here: {why[:160]}")
    base_url: str | None = None
    if target != DEMO:
        settings = load_settings(config)
        base_url = guard(
            target, load_profile(site_profile), settings.allowed_hosts, settings.allow_unmarked_traffic
        )
        check_reachable(base_url)
    args = pytest_args(
        suite,
        base_url=base_url,
        flows=list(flow or []),
        junit=junit,
        headed=headed,
        slowmo=slowmo,
        output=output,
        tracing=tracing,
        video=video,
        site_profile=site_profile,
        config=config,
        verbose=verbose,
    )
    code = subprocess.call(args)
    if code == PYTEST_NO_TESTS:
        raise HogfleetError(f"no smoke tests were collected from {suite}")
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("smoke")(smoke)
