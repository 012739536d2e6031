"""analytics/ stands apart from the fleet: it imports none of its packages."""

from __future__ import annotations

import ast
from pathlib import Path

import analytics

FORBIDDEN = {"personas", "flows", "bots", "demo"}


def test_analytics_imports_no_fleet_package() -> None:
    root = Path(analytics.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
