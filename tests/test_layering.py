"""The layers and the wings (docs/architecture.md), enforced on the source.

- app → web → portfolio → models, never back: portfolio/ imports no Flask and no web;
  models/ imports neither Flask, nor portfolio, nor web.
- The pure wings of portfolio/ (the figures engine, the reports, vote counting, and the
  shared money, vocabulary, formatting and errors modules) import neither Flask, nor
  SQLAlchemy, nor models, nor any wing that does: checked on each file's own imports,
  and again at run time, where importing them all must not load SQLAlchemy.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PORTFOLIO = ROOT / "portfolio"

PURE_PACKAGES = ("figures", "reports")
PURE_MODULES = ("money.py", "vocabulary.py", "formatting.py", "messages.py", "error_texts.py", "errors.py",
                "record_rules.py", "filetypes.py", "memory.py",
                "commands.py", "figures/aside.py", "committee/voting.py", "gp/samples.py", "gp/template.py")
IMPURE_WINGS = ("portfolio.book", "portfolio.interchange", "portfolio.committee.workflow",
                "portfolio.committee.proposals", "portfolio.committee.attachments", "portfolio.committee.meetings",
                "portfolio.committee.decisions", "portfolio.committee.review", "portfolio.gp.packages")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, dotted, absolute (relative imports resolved)."""
    names = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _top(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def pure_files() -> list[Path]:
    files = [p for pkg in PURE_PACKAGES for p in sorted((PORTFOLIO / pkg).rglob("*.py"))]
    return files + [PORTFOLIO / m for m in PURE_MODULES]


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", sorted(PORTFOLIO.rglob("*.py")), ids=_id)
def test_portfolio_imports_no_flask(path):
    bad = {n for n in _top(_imports(path)) if n == "flask" or n.startswith("flask_") or n == "web"}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", sorted((ROOT / "models").rglob("*.py")), ids=_id)
def test_models_import_no_flask_nor_portfolio(path):
    bad = {n for n in _top(_imports(path)) if n in ("flask", "portfolio", "web") or n.startswith("flask_")}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", pure_files(), ids=_id)
def test_pure_wings_import_no_flask_sqlalchemy_models_or_use_cases(path):
    imports = _imports(path)
    bad = {n for n in _top(imports) if n in ("flask", "sqlalchemy", "models", "web") or n.startswith("flask_")}
    bad |= {n for n in imports if any(n == w or n.startswith(w + ".") for w in IMPURE_WINGS)}
    assert not bad, f"{_id(path)} is in a pure wing but imports {sorted(bad)}"


def test_pure_wings_load_no_sqlalchemy_at_run_time():
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
               for p in pure_files()]
    script = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
              + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'flask', 'models', 'web'))\n"
              + "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing the pure wings loaded {out.stdout.strip()}"


def test_every_portfolio_module_is_in_a_wing():
    """portfolio/ holds only the wings and the shared pure modules: a new module goes in one."""
    loose = sorted(p.name for p in PORTFOLIO.glob("*.py")
                   if p.name != "__init__.py" and p.name not in PURE_MODULES)
    assert loose == [], f"modules outside a wing: {loose} (see docs/architecture.md)"
