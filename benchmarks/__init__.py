"""Benchmarks: one command per row of issue 14's table (benchmarks/README.md)."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compiled() -> None:
    """The app's modules compiled to bytecode as scripts/install.sh leaves them (its
    scripts/compile.sh), before any process is timed: each then reads them as a deployed
    one does, even when this shell has PYTHONDONTWRITEBYTECODE set (as this machine's
    sessions do), where every process would compile about a hundred modules again."""
    subprocess.run(["bash", str(ROOT / "scripts" / "compile.sh")], check=True)
