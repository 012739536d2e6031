"""Flow plugins: a package installed for real adds a flow through the ``hogfleet.flows`` entry points.

The example plugin (tests/fixtures/hogfleet_plugin_example) is installed by pip into a scratch
dir put on PYTHONPATH of subprocesses only, so this test process (and every other test) keeps
the built-in registry.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from bots.smoke_suite.cases import PERSONAS
from flows import registry

PLUGIN_SRC = Path(__file__).resolve().parent.parent / "fixtures" / "hogfleet_plugin_example"
PLUGIN_FLOW = "support_ticket"
PIP_INSTALL = [
    sys.executable,
    "-m",
    "pip",
    "install",
    "-q",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
]
HOGFLEET = str(Path(sys.executable).parent / "hogfleet")


def build_wheel(src: Path, out: Path) -> Path:
    """A PEP 427 wheel of the one-module plugin, from its pyproject.toml.

    The venv's setuptools needs the `wheel` package to build from source without isolation, and
    it is not a hogfleet dependency; writing the few metadata files is what a build backend does.
    """
    project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    modules = tomllib.loads((src / "pyproject.toml").read_text())["tool"]["setuptools"]["py-modules"]
    dist, version = project["name"].replace("-", "_"), project["version"]
    info = f"{dist}-{version}.dist-info"
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{name} = {ref}\n" for name, ref in entries.items()) + "\n"
        for group, entries in project["entry-points"].items()
    )
    files = {f"{m}.py": (src / f"{m}.py").read_bytes() for m in modules}
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: hogfleet-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = entry_points.encode()

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = "".join(f"{name},sha256={digest(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("plugin-site")
    if importlib.util.find_spec("wheel") is not None:
        source = str(PLUGIN_SRC)  # the real backend can build it: install from source
    else:
        source = str(build_wheel(PLUGIN_SRC, tmp_path_factory.mktemp("plugin-wheel")))
    done = subprocess.run(
        [*PIP_INSTALL, "--target", str(target), source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (target / "hogfleet_plugin_example.py").is_file()
    return target


def plugin_env(plugin_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(plugin_path), os.environ.get("PYTHONPATH")])),
    }


def test_installed_plugin_adds_its_flow_to_the_registry(plugin_path: Path) -> None:
    assert PLUGIN_FLOW not in registry.names()  # not installed here: the subprocess sees it only
    code = (
        "from flows import registry; print(','.join(registry.names())); "
        f"print(registry.get({PLUGIN_FLOW!r}).__module__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=plugin_env(plugin_path), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    names, module = done.stdout.split()
    assert set(names.split(",")) == {*registry.names(), PLUGIN_FLOW}
    assert module == "hogfleet_plugin_example"


@pytest.mark.e2e
@pytest.mark.slow
def test_plugin_flow_smoke_tests_in_real_chromium(plugin_path: Path, tmp_path: Path) -> None:
    junit = tmp_path / "smoke.xml"
    done = subprocess.run(
        [
            HOGFLEET,
            "smoke",
            "--flow",
            PLUGIN_FLOW,
            "--junit",
            str(junit),
            "--output",
            str(tmp_path / "out"),
            "-v",
        ],
        env=plugin_env(plugin_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    names = {case.attrib["name"] for case in ET.parse(junit).getroot().iter("testcase")}
    assert names == {f"test_flow[{PLUGIN_FLOW}-{persona}]" for persona in PERSONAS}
