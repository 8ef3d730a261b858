"""The domain never imports Flask; the models import neither Flask nor the domain."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "portfolio").rglob("*.py")), ids=lambda p: p.name)
def test_portfolio_imports_no_flask(path):
    bad = {n for n in _imports(path) if n == "flask" or n.startswith("flask_") or n == "web"}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", sorted((ROOT / "models").rglob("*.py")), ids=lambda p: p.name)
def test_models_import_no_flask_nor_portfolio(path):
    bad = {n for n in _imports(path) if n in ("flask", "portfolio", "web") or n.startswith("flask_")}
    assert not bad, f"{path.name} imports {bad}"
