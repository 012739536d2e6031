from __future__ import annotations

from pathlib import Path

import pytest

from flows.profile import DEMO_PROFILE, load_profile, validate_base_url
from personas.errors import HogfleetError


def test_demo_profile_loads_and_names_step_events() -> None:
    profile = load_profile()
    assert profile.selectors.play_button == "[data-testid=play-button]"
    assert profile.expected("play") == ("video_started",)
    assert profile.capture_regex().search("http://127.0.0.1:8000/e/?compression=gzip-js")
    assert not profile.capture_regex().search("http://127.0.0.1:8000/title/e")


def test_missing_selector_key_is_named(tmp_path: Path) -> None:
    text = DEMO_PROFILE.read_text().replace('play_button = "[data-testid=play-button]"\n', "")
    broken = tmp_path / "site.toml"
    broken.write_text(text)
    with pytest.raises(HogfleetError, match=r"selectors\.play_button"):
        load_profile(broken)


def test_unknown_key_and_bad_toml_are_one_line_errors(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(DEMO_PROFILE.read_text() + "\nsurprise = 1\n")
    with pytest.raises(HogfleetError, match="surprise"):
        load_profile(extra)
    garbage = tmp_path / "garbage.toml"
    garbage.write_text("name = [unclosed")
    with pytest.raises(HogfleetError) as info:
        load_profile(garbage)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "http://", "127.0.0.1:8000"])
def test_invalid_target_urls(url: str) -> None:
    with pytest.raises(HogfleetError, match="invalid target URL"):
        validate_base_url(url)


def test_selector_names_are_exactly_the_selectors_keys() -> None:
    from typing import get_args

    from flows.profile import SelectorName, Selectors

    assert list(get_args(SelectorName)) == list(Selectors.model_fields)
