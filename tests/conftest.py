"""Shared fixtures: the Chromium pytest-playwright launches, the CLI harness and the embedded demo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from bots.cli import build_app, main
from bots.runtime.browser import launch_args
from bots.runtime.target import DemoProcess
from personas.enums import State
from personas.store import StateStore


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # pytest-playwright would launch Playwright's own build, which cannot be downloaded here;
    # use the same resolution the fleet uses so the tests exercise the real launch path.
    return launch_args(browser_type_launch_args)


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def hogfleet(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """The one in-process CLI harness: ``hogfleet("plan", "--date", ...)`` → exit code, stdout, stderr."""

    def run(*argv: str) -> CliResult:
        capsys.readouterr()  # what earlier set-up printed is not this call's output
        code = main(list(argv))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture(scope="session")
def cli_group() -> Any:
    """Every command loaded (bots/cli/__init__.py loads only the invoked one), for checks that walk
    the whole command tree: workflows, manifests and docs name only commands and flags that exist."""
    return build_app(load_all=True)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One embedded demo (a real server on 127.0.0.1, its own SQLite files) per test module."""
    demo = DemoProcess(tmp_path_factory.mktemp("demo"))
    try:
        yield demo.start()
    finally:
        demo.stop()


def churn_persona(state_dir: Path, persona: str, churned_at: dt.date) -> None:
    """Churn one persona as the simulation does with most churners: it waits for account deletion."""
    store = StateStore(state_dir)
    with store.lock():
        population = store.load_population()
        victim = next(p for p in population.personas if p.distinct_id == persona)
        victim = victim.model_copy(
            update={"state": State.CHURNED, "churned_at": churned_at, "delete_pending": True}
        )
        population = population.model_copy(
            update={
                "personas": [p for p in population.personas if p.distinct_id != persona],
                "pending_deletions": [*population.pending_deletions, victim],
            }
        )
        store.save_population(population)
