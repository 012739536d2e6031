"""The CLI's shape: lazy commands, one exit-code table, and a --help that stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bots.cli import COMMANDS, main
from personas.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


def _imports_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from bots.cli import main\n"
        f"code = main({argv!r})\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.strip().splitlines()[-1].split())


def test_help_imports_neither_playwright_nor_httpx_nor_any_command() -> None:
    loaded = _imports_after(["--help"])
    heavy = {m for m in loaded if m.split(".")[0] in ("playwright", "httpx", "faker")}
    assert heavy == set()
    assert {m for m in loaded if m.startswith("bots.cli.commands.")} == set()


def test_a_command_imports_only_its_own_module() -> None:
    loaded = _imports_after(["plan", "--help"])
    assert {m for m in loaded if m.startswith("bots.cli.commands.")} == {"bots.cli.commands.simulate"}
    assert "playwright" not in loaded


def test_help_lists_every_command_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    positions = [out.index(f" {name} ") for name in COMMANDS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_line_is_the_commands_own_help(name: str, cli_group: Any) -> None:
    # The top-level --help shows COMMANDS' line without importing the command: it must not drift
    # from what `hogfleet <name> --help` says.
    words = " ".join((cli_group.commands[name].help or "").split())
    assert words.startswith(COMMANDS[name].summary.rstrip(".")), name


def test_a_typo_in_a_command_is_one_line_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plna"]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "'plan'" in err and "\n" not in err


def _int_exit_literals(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("Exit", "exit", "SystemExit")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, int)
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_exit_codes_come_from_the_one_table() -> None:
    offences = [hit for path in sorted((ROOT / "bots").rglob("*.py")) for hit in _int_exit_literals(path)]
    assert offences == []
    assert [int(c) for c in ExitCode] == [0, 1, 2, 130, 143]
