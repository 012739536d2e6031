"""The real posthog-js, installed from the npm registry into a per-user cache at set-up time.

HogFlix pins posthog-js 1.347.2 (`/work/shared/hogflix/source/package-lock.json`); the capture endpoint
serves that version's lazily loaded extensions (`/static/recorder.js`, ...) from the installed package,
and the contract tests load its `array.full.js`. Nothing here runs at import time: `ensure_posthog_js`
is the set-up step (`python -m analytics sdk ensure`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

POSTHOG_JS_VERSION = "1.347.2"
CACHE_ENV = "HOGFLEET_NPM_CACHE"
# npm resolves and unpacks posthog-js (one package, ~30 MB) in well under a minute on a normal link.
INSTALL_TIMEOUT_S = 300.0
APT_TIMEOUT_S = 900.0


class SdkError(Exception):
    """posthog-js cannot be installed or found; the message is one line and says what to do."""


def cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hogfleet" / "npm"


def prefix_dir(version: str = POSTHOG_JS_VERSION) -> Path:
    return cache_dir() / f"posthog-js-{version}"


def package_dir(version: str = POSTHOG_JS_VERSION) -> Path:
    """Where `ensure_posthog_js(version)` puts the package (it may not be there yet)."""
    return prefix_dir(version) / "node_modules" / "posthog-js"


def dist_dir(version: str = POSTHOG_JS_VERSION) -> Path:
    return package_dir(version) / "dist"


def is_installed(version: str = POSTHOG_JS_VERSION) -> bool:
    # array.full.js is the file every consumer needs; a package dir without it is not usable.
    return (dist_dir(version) / "array.full.js").is_file()


def _valid_version(version: str) -> bool:
    # The version becomes part of a path and an npm spec: only plain semver-ish text is allowed.
    return bool(version) and all(c.isalnum() or c in ".-+" for c in version) and version[0].isdigit()


def _ensure_npm() -> str:
    npm = shutil.which("npm")
    if npm is not None and shutil.which("node") is not None:
        return npm
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get") is not None:
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "nodejs", "npm"]):
            try:
                proc = subprocess.run(
                    cmd,
                    capture_output=True,
                    text=True,
                    timeout=APT_TIMEOUT_S,
                    env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                )
            except subprocess.TimeoutExpired:
                raise SdkError(f"{' '.join(cmd)} timed out; install nodejs and npm by hand") from None
            if proc.returncode != 0:
                raise SdkError(f"{' '.join(cmd)} failed: {_last_line(proc.stderr or proc.stdout)}")
        npm = shutil.which("npm")
        if npm is not None and shutil.which("node") is not None:
            return npm
    raise SdkError("node and npm are required to install posthog-js: install Node.js 20 (with npm)")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _sweep_stale_temps(final: Path) -> None:
    """Remove temp prefixes of installs killed outright (SIGKILL skips our cleanup).

    Only ones older than twice the install timeout: a younger one may belong to a running install.
    """
    cutoff = time.time() - 2 * INSTALL_TIMEOUT_S
    for stale in final.parent.glob(f".{final.name}.*"):
        try:
            if stale.is_dir() and stale.stat().st_mtime < cutoff:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            continue


def ensure_posthog_js(version: str = POSTHOG_JS_VERSION) -> Path:
    """The installed package dir of posthog-js `version`, installing it from npm when missing.

    The install goes into a temporary prefix beside the final one and is renamed into place only once
    complete, so an interrupted install never leaves a half-populated package behind.
    """
    if not _valid_version(version):
        raise SdkError(f"not a posthog-js version: {version!r}")
    if is_installed(version):
        return package_dir(version)
    npm = _ensure_npm()
    final = prefix_dir(version)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale_temps(final)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    except OSError as exc:
        raise SdkError(f"cannot create the npm cache {final.parent}: {exc.strerror or exc}") from None
    try:
        cmd = [npm, "install", "--prefix", str(tmp), "--no-audit", "--no-fund", "--ignore-scripts"]
        try:
            proc = subprocess.run(
                [*cmd, f"posthog-js@{version}"], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise SdkError(
                f"npm install posthog-js@{version} timed out after {INSTALL_TIMEOUT_S:.0f}s "
                "(is the npm registry reachable?)"
            ) from None
        if proc.returncode != 0:
            raise SdkError(
                f"npm install posthog-js@{version} failed: {_last_line(proc.stderr or proc.stdout)}"
            )
        if not (tmp / "node_modules" / "posthog-js" / "dist" / "array.full.js").is_file():
            raise SdkError(f"npm install posthog-js@{version} produced no dist/array.full.js")
        if final.exists():
            # A broken leftover (from before installs were atomic) or a concurrent installer's result.
            if is_installed(version):
                return package_dir(version)
            shutil.rmtree(final, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:
            # Another process finished first: its complete install is as good as ours.
            if not is_installed(version):
                raise SdkError(f"cannot move the installed posthog-js into {final}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return package_dir(version)
