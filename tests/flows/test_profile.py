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


def test_the_shipped_hogflix_profile_loads_by_name_and_declares_what_the_app_lacks() -> None:
    from flows.profile import HOGFLIX_PROFILE, SelectorSpec, profile_path

    assert profile_path(Path("hogflix")) == HOGFLIX_PROFILE
    profile = load_profile(Path("hogflix"))
    assert not profile.supports("search_page") and profile.supports("instant_search")
    assert not profile.supports("account_deletion") and profile.supports("logout")
    assert profile.player.mode == "media" and profile.in_app_navigation
    assert isinstance(profile.selectors.search_input, SelectorSpec)
    assert profile.synthetic.query_param == "synthetic=1"
    # A demo run without --frontend keeps the demo's profile; with one, HogFlix's.
    assert profile_path(None) == DEMO_PROFILE
    assert profile_path(None, frontend=Path("dist")) == HOGFLIX_PROFILE


def test_a_selector_table_names_exactly_one_kind(tmp_path: Path) -> None:
    text = DEMO_PROFILE.read_text().replace(
        'play_button = "[data-testid=play-button]"', 'play_button = { role = "button", text = "Play" }'
    )
    broken = tmp_path / "two-kinds.toml"
    broken.write_text(text)
    with pytest.raises(HogfleetError, match=r"selectors\.play_button.*exactly one of"):
        load_profile(broken)


def test_an_unsupported_feature_needs_none_of_its_selectors(tmp_path: Path) -> None:
    text = DEMO_PROFILE.read_text().replace('delete_account = "[data-testid=delete-account]"\n', "")
    missing = tmp_path / "no-delete.toml"
    missing.write_text(text)
    with pytest.raises(
        HogfleetError, match=r"selectors\.delete_account is required \(or declare 'account_deletion'"
    ):
        load_profile(missing)
    missing.write_text('unsupported = ["account_deletion"]\n' + text)
    assert not load_profile(missing).supports("account_deletion")
