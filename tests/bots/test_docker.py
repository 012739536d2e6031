"""The Dockerfile (Docker cannot build here): its Playwright tag agrees with the pin, it runs unprivileged
under an init, and the documented `docker run` calls commands and flags that exist."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.bots.test_workflows import check_call

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
INITS = {"tini", "/usr/bin/tini", "/sbin/tini", "dumb-init", "/usr/bin/dumb-init"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    out = []
    for line in logical.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def one(name: str) -> str:
    found = [rest for word, rest in instructions(DOCKERFILE) if word == name]
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def pinned_minor() -> tuple[int, int]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [m for d in deps if (m := re.fullmatch(r"playwright==(\d+)\.(\d+)\.\*", d.replace(" ", "")))]
    assert len(pins) == 1, f"expected one `playwright==X.Y.*` pin, got {deps}"
    return int(pins[0].group(1)), int(pins[0].group(2))


def test_from_tag_matches_the_playwright_pin_and_the_installed_version() -> None:
    froms = [rest for word, rest in instructions(DOCKERFILE) if word == "FROM"]
    assert len(froms) == 1
    m = re.fullmatch(r"mcr\.microsoft\.com/playwright/python:v(\d+)\.(\d+)\.(\d+)-(noble|jammy)", froms[0])
    assert m, froms[0]
    tag = (int(m.group(1)), int(m.group(2)))
    assert tag == pinned_minor()
    installed = importlib.metadata.version("playwright").split(".")
    assert tag == (int(installed[0]), int(installed[1]))


def test_runs_as_a_non_root_user() -> None:
    user = one("USER").split(":")[0]
    assert user not in ("root", "0")
    assert user == "pwuser"  # the Playwright image's own unprivileged user


def test_entrypoint_is_hogfleet_under_an_init() -> None:
    entrypoint = json.loads(one("ENTRYPOINT"))
    assert entrypoint[0] in INITS
    assert entrypoint[-1] == "hogfleet"
    if entrypoint[0].endswith("tini"):
        # The Playwright image has no init of its own: the Dockerfile must install it.
        runs = " ".join(rest for word, rest in instructions(DOCKERFILE) if word == "RUN")
        assert re.search(r"apt-get install[^&]*\btini\b", runs)


def test_state_volumes_and_default_command(cli: Any) -> None:
    volumes = json.loads(one("VOLUME"))
    assert "/app/.hogfleet" in volumes and "/app/storage_states" in volumes
    env = " ".join(rest for word, rest in instructions(DOCKERFILE) if word == "ENV")
    assert "HOGFLEET_STATE_DIR=/app/.hogfleet" in env and "HOGFLEET_STORAGE_DIR=/app/storage_states" in env
    assert one("WORKDIR") == "/app"
    cmd = json.loads(one("CMD"))
    check_call(cli, cmd[0], cmd[1:])
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".hogfleet", "storage_states", ".venv", ".git"} <= set(ignored)


@pytest.fixture(scope="module")
def cli(cli_group: Any) -> Any:
    assert isinstance(getattr(cli_group, "commands", None), dict)
    return cli_group


def test_documented_docker_run_uses_real_commands(cli: Any) -> None:
    doc = (ROOT / "docs" / "docker.md").read_text(encoding="utf-8")
    assert "docker build -t hogfleet ." in doc
    blocks = re.findall(r"```bash\n(.*?)```", doc, re.S)
    runs = [b for b in blocks if "docker run" in b]
    assert runs
    tokens = shlex.split(runs[0].replace("\\\n", " "))
    volumes = [tokens[i + 1] for i, t in enumerate(tokens) if t == "-v"]
    assert any(v.endswith(":/app/.hogfleet") for v in volumes)
    assert any(v.endswith(":/app/storage_states") for v in volumes)
    envs = [tokens[i + 1] for i, t in enumerate(tokens) if t == "-e"]
    assert "HOGFLEET_PERSONA_SECRET" in envs
    image = tokens.index("hogfleet")
    args = tokens[image + 1 :]
    check_call(cli, args[0], args[1:])
    assert args[0] == "run" and "--target" in args and "--fail-over" in args
