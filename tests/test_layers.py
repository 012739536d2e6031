"""The house's rules, read from the source: imports point one way, and module names say one thing.

- ``personas`` imports none of the other packages;
- ``flows`` imports only ``personas``;
- ``analytics`` and ``demo`` import no fleet code (``demo`` may use ``analytics``);
- ``bots`` may import all of them, and no module imports the CLI (``bots.cli``) but the CLI itself;
- no two modules of ``bots``, ``flows`` and ``personas`` share a name.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("personas", "flows", "bots", "analytics", "demo")
ALLOWED: dict[str, frozenset[str]] = {
    "personas": frozenset(),
    "flows": frozenset({"personas"}),
    "analytics": frozenset(),
    "demo": frozenset({"analytics"}),
    "bots": frozenset({"personas", "flows", "analytics", "demo"}),
}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth (lazy imports in functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    forbidden = set(PACKAGES) - ALLOWED[package] - {package}
    offences = [
        f"{module_name(path)} imports {name}"
        for path in modules(package)
        for name in sorted(imported(path))
        if name.split(".")[0] in forbidden
    ]
    assert offences == []


def test_no_module_imports_the_cli() -> None:
    offences = [
        f"{module_name(path)} imports {name}"
        for package in PACKAGES
        for path in modules(package)
        if not module_name(path).startswith("bots.cli")
        for name in sorted(imported(path))
        if name == "bots.cli" or name.startswith("bots.cli.")
    ]
    assert offences == []


def test_no_two_modules_share_a_name() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for package in ("bots", "flows", "personas"):
        for path in modules(package):
            if path.stem not in ("__init__", "__main__"):
                by_name[path.stem].append(module_name(path))
    assert {name: where for name, where in by_name.items() if len(where) > 1} == {}


def test_the_checker_sees_a_lazy_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f() -> None:\n    from bots.cli import main\n    import flows.registry\n")
    assert {"bots.cli", "bots.cli.main", "flows.registry"} <= imported(source)
