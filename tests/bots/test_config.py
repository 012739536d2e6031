"""One way to configure a run: one TOML reader, one table of environment variables, one RunEnv."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from bots.config.envvars import ENV_VARS, markdown_table, names
from bots.config.settings import FleetSettings, load_settings, with_overrides
from bots.records.storage import StorageStates
from bots.runtime.runenv import Runtime, build_run_env
from flows.profile import load_profile
from personas.config import load_config
from personas.errors import HogfleetError

ROOT = Path(__file__).resolve().parents[2]
READ_BY_CODE = ("personas", "flows", "bots", "analytics", "demo")
VAR = re.compile(r"HOGFLEET_[A-Z0-9_]+")


def _vars_in(paths: list[Path]) -> set[str]:
    # A name ending in "_" is a prefix in prose ("HOGFLEET_DEMO_* variables"), not a variable.
    return {m for p in paths for m in VAR.findall(p.read_text(encoding="utf-8")) if not m.endswith("_")}


def test_every_variable_the_code_reads_is_in_the_table() -> None:
    sources = [p for pkg in READ_BY_CODE for p in (ROOT / pkg).rglob("*.py")]
    assert _vars_in(sources) - names() == set()


def test_every_variable_in_the_table_is_read_where_it_says() -> None:
    for var in ENV_VARS:
        assert var.name in (ROOT / var.read_by).read_text(encoding="utf-8"), var


def test_the_readme_shows_the_table() -> None:
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_one_error_wording_for_every_toml_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[fleet\nx=")
    messages = []
    for load in (load_settings, load_config, load_profile):
        with pytest.raises(HogfleetError) as info:
            load(bad)
        messages.append(str(info.value))
    prefixes = {m.split(" ", 1)[0] for m in messages}
    assert prefixes <= {"config", "site"}
    assert all(f"{bad}: not valid TOML (" in m and "\n" not in m for m in messages), messages
    missing = tmp_path / "missing.toml"
    for load in (load_settings, load_config, load_profile):
        with pytest.raises(HogfleetError, match=f"{missing}: file not found$"):
            load(missing)


def test_fleet_settings_errors_name_the_key(tmp_path: Path) -> None:
    conf = tmp_path / "hogfleet.toml"
    conf.write_text('[fleet]\ntrace = "sometimes"\n')
    with pytest.raises(HogfleetError, match=r"^config .*hogfleet.toml: fleet\.trace: "):
        load_settings(conf)
    conf.write_text("[fleet]\nconcurrncy = 4\n")
    with pytest.raises(HogfleetError, match=r"unknown key fleet\.concurrncy"):
        load_settings(conf)


def test_a_flag_is_validated_like_the_file() -> None:
    settings = FleetSettings()
    assert with_overrides(settings, {"dwell_scale": None}) is settings  # an absent flag changes nothing
    assert with_overrides(settings, {"dwell_scale": 0.5}).dwell_scale == 0.5
    with pytest.raises(HogfleetError, match="session_retries out of range"):
        with_overrides(settings, {"session_retries": 99})


def test_the_run_env_is_frozen_and_derived_from_the_settings(tmp_path: Path) -> None:
    settings = FleetSettings(dwell_scale=0.5, flixbuddy_interval_s=4.0, http_retries=5, restore="playwright")
    env = build_run_env(
        settings,
        overrides={"trace": "off"},
        base_url="http://127.0.0.1:1",
        profile=load_profile(None),
        storage=StorageStates(tmp_path),
        artifacts_dir=tmp_path,
        run_id="r",
        date=dt.date(2026, 1, 1),
    )
    assert env.runtime == Runtime.from_settings(settings.model_copy(update={"trace": "off"}))
    assert env.runtime.retry.attempts == 5 and env.runtime.restore == "playwright"
    assert env.throttle.min_interval_s == {"flixbuddy": 2.0}  # the interval scales with dwell
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.run_id = "other"  # type: ignore[misc]
