"""``hogfleet smoke``: run the smoke suite (``bots/smoke_suite/``, a pytest plugin) over every flow.

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

import pytest
import typer

from bots.cli.options import ConfigOpt, FrontendOpt, SiteProfileOpt
from bots.config.settings import load_settings
from bots.runtime.target import DEMO, check_reachable, guard, resolve_frontend
from bots.smoke_suite.cases import video_unavailable
from flows import registry
from flows.profile import load_profile, profile_path
from personas.errors import HogfleetError

PLUGIN = "hogfleet_smoke"  # the pytest11 entry point (pyproject.toml) of bots/smoke_suite/plugin.py
SUITE = "bots.smoke_suite"
Artifacts = Literal["on", "off", "retain-on-failure"]


def pytest_args(
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
    frontend: Path | None = None,
) -> list[str]:
    # The suite ships in the package: named by module, it runs from a wheel or the Docker image alike.
    args = [sys.executable, "-m", "pytest", "-p", PLUGIN, "--pyargs", SUITE, "-p", "no:cacheprovider", "-rfE"]
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
    if frontend is not None:
        args += ["--hogfleet-frontend", str(frontend)]
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
    site_profile: SiteProfileOpt = None,
    frontend: FrontendOpt = None,
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="one line per case")] = False,
) -> None:
    """Smoke-test every registered flow (plugins included) as a new, a returning (logged-in) and a
    mobile persona: each case runs the flow once in real Chromium and fails when the UI path breaks
    or an analytics event the flow's steps owe was not emitted (the failure names it).

    Exits with pytest's code: 0 all passed, 1 some case failed; 2 when nothing could be run.

    Example: hogfleet smoke --flow search --junit smoke.xml
    """
    settings = load_settings(config)
    build = resolve_frontend(frontend, target)
    profile_file = profile_path(site_profile, frontend=build)
    # A broken plugin is named by the suite itself, once, when it starts (bots/smoke_suite/plugin.py).
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
        base_url = guard(
            target, load_profile(profile_file), settings.allowed_hosts, settings.allow_unmarked_traffic
        )
        check_reachable(base_url)
    args = pytest_args(
        base_url=base_url,
        flows=list(flow or []),
        junit=junit,
        headed=headed,
        slowmo=slowmo,
        output=output,
        tracing=tracing,
        video=video,
        site_profile=profile_file.resolve(),
        frontend=build,
        config=config,
        verbose=verbose,
    )
    code = subprocess.call(args)
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise HogfleetError(f"no smoke tests were collected from {SUITE}")
    if code:
        raise typer.Exit(code)
