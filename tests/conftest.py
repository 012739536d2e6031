"""Shared fixtures: point pytest-playwright at whichever Chromium bots.browser resolves."""

from __future__ import annotations

from typing import Any

import pytest

from bots.browser import resolve


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # pytest-playwright would launch Playwright's own build, which cannot be downloaded here;
    # use the same resolution the fleet uses so the tests exercise the real launch path.
    choice = resolve()
    args = dict(browser_type_launch_args)
    if choice.kind == "system":
        args["executable_path"] = choice.executable
        args["args"] = [*args.get("args", []), *choice.args]
    return args
