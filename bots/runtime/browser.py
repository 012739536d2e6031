"""Which Chromium the fleet drives, and how to get one onto a fresh machine.

Order: Playwright's own build, then a system Chromium (``HOGFLEET_CHROMIUM``,
Debian's real binary, ``chromium``/``google-chrome`` on PATH), then a remote browser given
with ``--browser-endpoint``. ``python -m bots.runtime.browser ensure`` is what ``make`` calls: it tries
Playwright's installer first and falls back to Debian's package when running as root.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from personas.errors import HogfleetError

# Debian's /usr/bin/chromium is a shell wrapper that adds its own flags; the real binary is here.
DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"
PATH_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Flags that make a system Chromium behave in a sandboxed CI box with no network: without the
# background-networking ones it keeps dialling Google hosts that this machine refuses.
SYSTEM_CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
_DOWNLOAD_FAILED_MARK = ".playwright-download-failed"

# Full Chromium (the system build, or Playwright's own build when headed) preloads the omnibox
# popup as a WebUI page in every window, and Playwright opens a window per context: one extra
# ~60-80 MB renderer per concurrent context that no session ever looks at (measured on Chromium
# 156: 80 → 43 MB PSS per extra context on the demo homepage). Playwright's headless shell has
# no omnibox, so there the switch changes nothing.
LEAN_DISABLED_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup")
# Where Playwright's driver keeps its own --disable-features list, newest layout first.
_PLAYWRIGHT_SWITCH_SOURCES = ("lib/coreBundle.js", "lib/server/chromium/chromiumSwitches.js")

BrowserKind = Literal["playwright", "system", "remote"]


@dataclass(frozen=True)
class BrowserChoice:
    kind: BrowserKind
    executable: str | None = None
    endpoint: str | None = None
    args: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        if self.kind == "remote":
            return f"remote browser at {self.endpoint}"
        return f"{self.kind} chromium at {self.executable}"


def playwright_chromium_path() -> str | None:
    """Path of Playwright's own Chromium build when it is installed, else None."""
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:  # a broken driver install means "not available", not a crash
        return None
    return path if path and Path(path).exists() else None


def system_chromium_path() -> tuple[str | None, list[str]]:
    """First usable system Chromium, and the list of places that were tried."""
    tried: list[str] = []
    env = os.environ.get("HOGFLEET_CHROMIUM")
    if env:
        tried.append(f"HOGFLEET_CHROMIUM={env}")
        if Path(env).is_file() and os.access(env, os.X_OK):
            return env, tried
    tried.append(DEBIAN_CHROMIUM)
    if Path(DEBIAN_CHROMIUM).is_file():
        return DEBIAN_CHROMIUM, tried
    for name in PATH_CANDIDATES:
        tried.append(f"{name} on PATH")
        found = shutil.which(name)
        if found:
            return found, tried
    return None, tried


@functools.cache
def playwright_disabled_features() -> tuple[str, ...] | None:
    """The feature list Playwright's driver passes as ``--disable-features``, or None if unknown.

    Chromium honours only the *last* ``--disable-features`` switch (checked: two switches do not
    merge), and Playwright appends user args after its own. A switch of ours must therefore carry
    Playwright's list too, or it would silently re-enable HttpsUpgrades, PaintHolding and the rest.
    """
    import playwright

    package = Path(playwright.__file__).parent / "driver" / "package"
    for rel in _PLAYWRIGHT_SWITCH_SOURCES:
        try:
            source = (package / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found = re.search(r"disabledFeatures\s*=\s*\[(.*?)\]", source, re.S)
        if found:
            body = re.sub(r"//[^\n]*", "", found.group(1))  # comments name features too
            names = tuple(re.findall(r"[\"']([A-Za-z0-9_]+)[\"']", body))
            return names or None
    return None


def lean_args() -> tuple[str, ...]:
    """Launch switches that drop per-context memory nobody uses; empty when they can't be merged
    safely with Playwright's own (then the fleet pays the memory rather than lose Playwright's)."""
    ours = playwright_disabled_features()
    if ours is None:
        return ()
    return ("--disable-features=" + ",".join(dict.fromkeys(ours + LEAN_DISABLED_FEATURES)),)


def resolve(endpoint: str | None = None) -> BrowserChoice:
    """Pick the browser for this process; raise a one-line HogfleetError when none works."""
    if os.environ.get("HOGFLEET_BROWSER") != "system":
        own = playwright_chromium_path()
        if own:
            return BrowserChoice("playwright", executable=own, args=lean_args())
    system, tried = system_chromium_path()
    if system:
        return BrowserChoice("system", executable=system, args=SYSTEM_CHROMIUM_ARGS + lean_args())
    if endpoint:
        return BrowserChoice("remote", endpoint=endpoint)
    raise HogfleetError(
        "no Chromium found (tried Playwright's build, "
        + ", ".join(tried)
        + "): run `playwright install chromium`, or `apt-get install chromium`, "
        "or set HOGFLEET_CHROMIUM, or pass --browser-endpoint ws://host:port/"
    )


def launch_args(base: Mapping[str, Any]) -> dict[str, Any]:
    """``chromium.launch`` keyword arguments: ``base`` (e.g. pytest-playwright's) with the browser
    :func:`resolve` picks and its switches, each once; for launches outside the fleet's own
    (bots/runtime/launcher.py), such as the smoke suite's and the test suite's."""
    choice = resolve()
    args = dict(base)
    if choice.kind == "system":
        args["executable_path"] = choice.executable
    extra = [a for a in choice.args if a not in args.get("args", [])]
    args["args"] = [*args.get("args", []), *extra]
    return args


def pinned_chromium_version() -> str | None:
    """The Chromium build this Playwright release was made for (from its driver's browsers.json)."""
    import json

    import playwright

    path = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    try:
        browsers = json.loads(path.read_text())["browsers"]
    except (OSError, ValueError, KeyError):
        return None
    for browser in browsers:
        if browser.get("name") == "chromium":
            return str(browser.get("browserVersion"))
    return None


def version_warning(actual: str) -> str | None:
    """A warning when a system Chromium's major version differs from the pinned build's."""
    pinned = pinned_chromium_version()
    if not pinned or not actual:
        return None
    if pinned.split(".")[0] != actual.split(".")[0]:
        return f"Chromium {actual} differs from the build Playwright pins ({pinned}); most flows still work"
    return None


def chromium_version(executable: str) -> str:
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _venv_mark() -> Path:
    return Path(sys.prefix) / _DOWNLOAD_FAILED_MARK


def _try_playwright_install() -> bool:
    if _venv_mark().exists():
        return False  # this venv already learned the download host is unreachable
    print("browser: trying Playwright's own Chromium (playwright install chromium)…", flush=True)
    try:
        rc = subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"],
            timeout=300,
            capture_output=True,
        ).returncode
    except subprocess.TimeoutExpired:
        rc = -1
    if rc == 0 and playwright_chromium_path():
        return True
    _venv_mark().touch()
    print("browser: Playwright's download failed; falling back to a system Chromium", flush=True)
    return False


def _apt_install(*packages: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    print(f"browser: installing {' '.join(packages)} with apt-get…", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, capture_output=True)
    return done.returncode == 0


def ensure() -> BrowserChoice:
    """Make sure some Chromium is available, installing one if we can."""
    if playwright_chromium_path() or _try_playwright_install():
        return resolve()
    system, _ = system_chromium_path()
    if system is None:
        _apt_install("chromium")
    return resolve()


def ensure_xvfb() -> None:
    """Headed-mode tests need a virtual display; install Debian's xvfb when we can."""
    if shutil.which("Xvfb") or _apt_install("xvfb"):
        return
    print("browser: Xvfb not found; headed tests will be skipped (apt-get install xvfb)", flush=True)


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "ensure"
    try:
        if cmd == "ensure":
            choice = ensure()
            version = chromium_version(choice.executable) if choice.executable else "remote"
            print(f"browser: {choice.describe()} ({version})")
        elif cmd == "ensure-xvfb":
            ensure_xvfb()
        elif cmd == "which":
            print(resolve().describe())
        else:
            print(f"error: unknown command {cmd!r} (ensure, ensure-xvfb, which)", file=sys.stderr)
            return 2
    except HogfleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
