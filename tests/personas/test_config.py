from __future__ import annotations

from pathlib import Path

import pytest

from personas.config import DEFAULT_CONFIG, config_from_mapping, load_config
from personas.enums import Pattern
from personas.errors import HogfleetError


def test_defaults_are_the_seed_numbers() -> None:
    c = DEFAULT_CONFIG
    assert c.return_probability[Pattern.DAILY] == 0.85
    assert c.peak_return_probability[Pattern.WEEKEND] == 0.85
    assert c.lifecycle.churn_chance == 0.03
    assert c.lifecycle.delete_share == 0.9
    assert [round(v, 2) for v in c.entry_points.values()] == [0.40, 0.15, 0.20, 0.15, 0.10]
    assert c.flixbuddy.max_per_day == 50
    assert len(c.flixbuddy_templates) == 8
    # The planner's genres must be the ones the demo site offers (and its profile names): a query or
    # category the site doesn't know would send every such session to an empty page.
    from demo.catalog import GENRES as SITE_GENRES
    from flows.profile import load_profile

    assert set(c.genres) == set(SITE_GENRES) == set(load_profile().genres)


def test_override_merges_key_by_key() -> None:
    c = config_from_mapping(
        {"interactions": {"abandon_rate": 0.25}, "pattern_mix": {"Basic": {"DAILY": 0.5}}}
    )
    assert c.interactions.abandon_rate == 0.25
    assert c.interactions.rate_video == 0.20  # untouched sibling
    assert c.pattern_mix["Basic"][Pattern.DAILY] == 0.5  # type: ignore[index]
    assert c.pattern_mix["Basic"][Pattern.REGULAR] == 0.30  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"interactions": {"rate_vidoe": 0.1}}, "unknown key interactions.rate_vidoe"),
        ({"bogus": 1}, "unknown key bogus"),
        ({"return_probability": {"HOURLY": 0.5}}, "return_probability.HOURLY"),
        ({"interactions": {"rate_video": 1.5}}, "interactions.rate_video"),
        ({"life_events": {"SICK": {"chance": -0.1}}}, "life_events.SICK.chance"),
        ({"locales": [{"locale": "en-US", "timezone": "Mars/Olympus", "weight": 1}]}, "Mars/Olympus"),
    ],
)
def test_bad_values_name_the_key(data: dict[str, object], needle: str) -> None:
    with pytest.raises(HogfleetError) as exc:
        config_from_mapping(data, "hogfleet.toml")
    assert needle in str(exc.value)
    assert "\n" not in str(exc.value)


def test_fleet_table_is_ignored_and_nothing_else(tmp_path: Path) -> None:
    f = tmp_path / "hogfleet.toml"
    f.write_text("[fleet]\nconcurrency = 4\n[interactions]\nsupport_ticket = 0.05\n")
    assert load_config(f).interactions.support_ticket == 0.05
    # No part of hogfleet reads a [site] table: it is an unknown key like any other.
    f.write_text('[site]\nurl = "http://x"\n')
    with pytest.raises(HogfleetError, match="unknown key site"):
        load_config(f)


def test_cwd_file_is_picked_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None) is DEFAULT_CONFIG
    (tmp_path / "hogfleet.toml").write_text("[flixbuddy]\nmax_per_day = 7\n")
    assert load_config(None).flixbuddy.max_per_day == 7


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[interactions\nx=")
    with pytest.raises(HogfleetError) as exc:
        load_config(f)
    assert str(f) in str(exc.value) and "\n" not in str(exc.value)


def test_plan_weighted_mix_sums_to_one() -> None:
    mix = DEFAULT_CONFIG.plan_weighted_pattern_mix()
    assert abs(sum(mix.values()) - 1) < 1e-9
    assert mix[Pattern.REGULAR] > mix[Pattern.MONTHLY]
