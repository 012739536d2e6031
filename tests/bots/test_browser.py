"""Browser resolution: the order bots/runtime/browser.py documents, and one clear line when nothing works."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bots.runtime import browser
from personas.errors import HogfleetError


def test_env_override_wins_over_debian(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\necho 'Chromium 1.2.3'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("HOGFLEET_CHROMIUM", str(fake))
    monkeypatch.setenv("HOGFLEET_BROWSER", "system")
    choice = browser.resolve()
    assert choice.kind == "system" and choice.executable == str(fake)
    assert "--no-sandbox" in choice.args and "--disable-background-networking" in choice.args
    assert browser.chromium_version(str(fake)) == "Chromium 1.2.3"


def test_nothing_found_says_what_was_tried_and_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOGFLEET_BROWSER", "system")
    monkeypatch.setenv("HOGFLEET_CHROMIUM", "/nonexistent/chrome")
    monkeypatch.setattr(browser, "DEBIAN_CHROMIUM", "/nonexistent/debian-chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(HogfleetError) as info:
        browser.resolve()
    message = str(info.value)
    assert "\n" not in message
    assert "/nonexistent/chrome" in message and "apt-get install chromium" in message
    assert "--browser-endpoint" in message


def test_remote_endpoint_is_the_last_resort(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOGFLEET_BROWSER", "system")
    monkeypatch.delenv("HOGFLEET_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "DEBIAN_CHROMIUM", "/nonexistent/debian-chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    choice = browser.resolve(endpoint="ws://127.0.0.1:3000/")
    assert choice.kind == "remote" and choice.endpoint == "ws://127.0.0.1:3000/"


def test_this_machine_resolves_a_working_chromium() -> None:
    choice = browser.resolve()
    assert choice.executable and os.access(choice.executable, os.X_OK)
    assert browser.chromium_version(choice.executable).startswith(("Chromium", "Google Chrome"))


def test_version_warning_compares_majors() -> None:
    pinned = browser.pinned_chromium_version()
    assert pinned and pinned[0].isdigit()
    assert browser.version_warning(pinned) is None
    assert browser.version_warning("1.0.0.0") is not None
