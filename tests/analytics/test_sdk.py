"""analytics.sdk: installing posthog-js into the cache, with a stand-in npm (no network needed)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import sdk

ROOT = Path(__file__).resolve().parents[2]

# Writes what `npm install --prefix P posthog-js@V` would, then behaves as $FAKE_NPM_MODE says.
FAKE_NPM = """#!/bin/sh
prefix=""
while [ $# -gt 0 ]; do
  case "$1" in --prefix) prefix="$2"; shift;; esac
  shift
done
mkdir -p "$prefix/node_modules/posthog-js/dist"
echo "npm run" >> "$FAKE_NPM_LOG"
case "$FAKE_NPM_MODE" in
  fail) echo "npm ERR! 404 Not Found - GET https://registry.npmjs.org/posthog-js" >&2; exit 1;;
  half) echo "partial" > "$prefix/node_modules/posthog-js/dist/recorder.js"; exit 137;;
esac
echo "// sdk" > "$prefix/node_modules/posthog-js/dist/array.full.js"
echo "// rec" > "$prefix/node_modules/posthog-js/dist/lazy-recorder.js"
"""


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("npm", FAKE_NPM), ("node", "#!/bin/sh\nexit 0\n")):
        exe = bin_dir / name
        exe.write_text(text)
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    # Our npm and node first; the shell tools (mkdir) the stand-in uses after.
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("HOGFLEET_NPM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_NPM_LOG", str(tmp_path / "npm.log"))
    return tmp_path


def test_cache_dir_from_env_or_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOGFLEET_NPM_CACHE", str(tmp_path))
    assert sdk.cache_dir() == tmp_path
    monkeypatch.delenv("HOGFLEET_NPM_CACHE")
    assert sdk.cache_dir() == Path.home() / ".cache" / "hogfleet" / "npm"


def test_installs_once_then_reuses(fake_npm: Path) -> None:
    path = sdk.ensure_posthog_js("1.347.2")
    assert path == fake_npm / "cache" / "posthog-js-1.347.2" / "node_modules" / "posthog-js"
    assert (path / "dist" / "array.full.js").is_file()
    assert sdk.ensure_posthog_js("1.347.2") == path
    assert (fake_npm / "npm.log").read_text().count("npm run") == 1
    # Nothing but the finished install is left in the cache.
    assert [p.name for p in (fake_npm / "cache").iterdir()] == ["posthog-js-1.347.2"]


@pytest.mark.parametrize("mode", ["fail", "half"])
def test_a_failed_or_killed_install_leaves_nothing(
    fake_npm: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("FAKE_NPM_MODE", mode)
    with pytest.raises(sdk.SdkError) as info:
        sdk.ensure_posthog_js("1.347.2")
    assert "\n" not in str(info.value)
    assert "posthog-js@1.347.2" in str(info.value)
    assert list((fake_npm / "cache").iterdir()) == []
    assert not sdk.is_installed("1.347.2")


def test_a_leftover_half_dir_is_replaced(fake_npm: Path) -> None:
    half = fake_npm / "cache" / "posthog-js-1.347.2" / "node_modules" / "posthog-js" / "dist"
    half.mkdir(parents=True)
    (half / "recorder.js").write_text("partial")
    path = sdk.ensure_posthog_js("1.347.2")
    assert (path / "dist" / "array.full.js").is_file()
    assert not (path / "dist" / "recorder.js").exists()


def test_bad_version_is_refused(fake_npm: Path) -> None:
    for bad in ("", "../x", "latest; rm -rf /", "1.0/../../x"):
        with pytest.raises(sdk.SdkError, match="not a posthog-js version"):
            sdk.ensure_posthog_js(bad)


def test_missing_npm_as_non_root_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOGFLEET_NPM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(sdk.SdkError, match=r"install Node\.js 20 \(with npm\)"):
        sdk.ensure_posthog_js("1.347.2")


def test_cli_prints_the_dir_or_one_error_line(fake_npm: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "analytics", "sdk", "ensure"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("posthog-js-1.347.2/node_modules/posthog-js")
    failed = subprocess.run(
        [sys.executable, "-m", "analytics", "sdk", "ensure", "--version", "9.9.9"],
        capture_output=True,
        text=True,
        env={**env, "FAKE_NPM_MODE": "fail"},
        cwd=ROOT,
    )
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("error: npm install posthog-js@9.9.9")
    assert "Traceback" not in failed.stderr


def test_temps_of_killed_installs_are_swept_once_stale(fake_npm: Path) -> None:
    cache = fake_npm / "cache"
    old, young = cache / ".posthog-js-1.347.2.old", cache / ".posthog-js-1.347.2.young"
    for d in (old, young):
        (d / "node_modules").mkdir(parents=True)
    os.utime(old, (0, 0))
    sdk.ensure_posthog_js("1.347.2")
    assert not old.exists() and young.exists()
