"""`hogfleet report`: real state (simulation + ledgers + real traces), opened offline in real Chromium."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bots.reporting.report import PLOTS

ROOT = Path(__file__).resolve().parents[2]
END = dt.date(2026, 3, 1)


def _sample() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "report_screenshot", ROOT / "scripts" / "report_screenshot.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hogfleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Path:
    root = tmp_path_factory.mktemp("report") / "state"
    _sample().build_state(root, browser, end=END, days=14, pool=80)
    return root


@pytest.fixture(scope="module")
def report(state: Path) -> Path:
    out = state.parent / "out" / "report.html"
    out.parent.mkdir()
    proc = _hogfleet(
        "report", "--state-dir", str(state), "--date", END.isoformat(), "--days", "14", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert "14 days of metrics" in proc.stdout
    return out


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    # No CDN: no external script or stylesheet, and plotly.js is in the file exactly once.
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"https?:", html)
    assert html.count("plotly.js v") == 1
    for plot_id, _ in PLOTS:
        assert f'id="plot-{plot_id}"' in html


@pytest.mark.e2e
@pytest.mark.slow
def test_report_renders_offline_in_chromium(page: Any, report: Path, tmp_path: Path) -> None:
    outside: list[str] = []

    def only_files(route: Any) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", only_files)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(report.as_uri())
    page.wait_for_selector("#plot-flixbuddy-usage .main-svg")

    sizes = page.eval_on_selector_all(
        ".plot .js-plotly-plot",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [e.id, r.width, r.height]; })",
    )
    drawn = [chart_id for chart_id, w, h in sizes if w > 100 and h > 100]
    assert len(drawn) >= 6, sizes
    assert len(drawn) == len(PLOTS)
    # Rendered means plotly drew marks, not just an empty frame.
    bars = page.locator("#plot-session-outcomes .main-svg .bars .point path").count()
    assert bars >= 3
    area_traces = page.locator("#plot-state-mix .main-svg .scatterlayer .trace").count()
    assert area_traces == 5
    assert errors == []
    assert outside == []

    # The failures table lists the day's final failures and links to files that exist, relative to the report.
    rows = page.locator("#failures tr.failure")
    assert rows.count() >= 3
    hrefs = page.eval_on_selector_all("#failures a.trace", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(not h.startswith("/") for h in hrefs)
    for href in hrefs:
        assert (report.parent / href).resolve().is_file(), href

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    target = os.environ.get("HOGFLEET_REPORT_SCREENSHOT")
    if target:
        _sample().screenshot(page, report, Path(target))


def test_report_on_an_empty_state_dir(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    proc = _hogfleet(
        "report", "--state-dir", str(tmp_path / "nothing"), "--date", "2026-01-05", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert sum(f'id="plot-{plot_id}"' in html for plot_id, _ in PLOTS) == len(PLOTS)
    assert "No failed sessions" in html
    assert "0 days of metrics, 0 sessions" in proc.stdout


def test_report_rejects_a_bad_date(tmp_path: Path) -> None:
    proc = _hogfleet("report", "--state-dir", str(tmp_path), "--date", "2026-13-01")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --date must be a date as YYYY-MM-DD (got '2026-13-01')"
    assert not (tmp_path / "report.html").exists()
