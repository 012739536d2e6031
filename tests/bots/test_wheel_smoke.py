"""The smoke suite ships: built as a wheel, installed into a fresh venv outside the repo, it runs.

The wheel is built from the tracked sources (copied out, so the checkout gets no build/ dir), then
installed with ``--no-deps`` into a new venv whose dependencies come from this environment's
site-packages through a ``.pth`` line: the packages under test are the wheel's, imported from the
new venv, while the test installs nothing from the network but the build backend. ``hogfleet smoke``
then runs from that venv's console script, in a scratch directory, against the embedded demo the
wheel itself starts.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _copy_sources(dest: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.split(b"\0")
    for raw in filter(None, tracked):
        rel = Path(raw.decode())
        if not (ROOT / rel).is_file():
            continue  # deleted in the working tree
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    # Modules added but not yet committed belong to the package too.
    for pkg in ("personas", "flows", "bots", "analytics", "demo"):
        for path in (ROOT / pkg).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                target = dest / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    _copy_sources(src)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if built.returncode != 0 and "Could not find a version" in built.stderr:
        pytest.skip("the build backend (setuptools, wheel) cannot be fetched from the package index")
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("hogfleet-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    new_site = next((venv / "lib").glob("python3*/site-packages"))
    # Dependencies from this environment, after the new venv's own site-packages on sys.path.
    (new_site / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def test_hogfleet_smoke_runs_from_an_installed_wheel(wheel_venv: Path, tmp_path: Path) -> None:
    python = wheel_venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import bots.smoke_suite.plugin as p, demo; print(p.__file__); print(demo.__file__)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert Path(path).is_relative_to(wheel_venv), f"{path} is not the wheel's"
    junit = tmp_path / "smoke.xml"
    done = subprocess.run(
        [str(wheel_venv / "bin" / "hogfleet"), "smoke", "--flow", "homepage", "--junit", str(junit)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    names = {case.attrib["name"] for case in ET.parse(junit).getroot().iter("testcase")}
    assert names == {f"test_flow[homepage-{persona}]" for persona in ("new", "returning", "mobile")}
