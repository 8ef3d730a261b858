"""Benchmarks: one command per row of issue 14's table (benchmarks/README.md), and
`python -m benchmarks.issue14` running them all, one after the other, into one table."""
from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each benchmark takes `--summary FILE`: then it appends its rows of the table to FILE as
# JSON lines, the whole-table run (benchmarks.issue14) reads them. These are the rows'
# keys, in the order; the texts are the issue's own.
ROWS = {
    "pdf": ("quarterly PDF of 千亿, whole process", "≤ 10 s, ≤ 600 MB"),
    "xlsx": ("quarterly xlsx, whole process", "≤ 2 s"),
    "html": ("quarterly HTML, whole process", "≤ 2 s"),
    "report": ("`flask report QY --format json` against bare pandas + pyxirr", "≤ 1.2×"),
    "import_sqlite": ("import of the whole book, SQLite", "≥ 30,000 rows/s"),
    "import_postgresql": ("import of the whole book, PostgreSQL", "≥ 20,000 rows/s"),
    "users_10": ("dashboard and report API, gunicorn, PostgreSQL, 10 users", "p95 ≤ 150 ms"),
    "users_50": ("the same, 50 users", "p95 ≤ 400 ms"),
    "after_write": ("the first request after a write", "p95 ≤ 300 ms"),
    "cached_pdf": ("the demo book's quarterly PDF from the cache", "≤ 100 ms (warm p95)"),
}


def compiled() -> None:
    """The app's modules compiled to bytecode as scripts/install.sh leaves them (its
    scripts/compile.sh), before any process is timed: each then reads them as a deployed
    one does, even when this shell has PYTHONDONTWRITEBYTECODE set (as this machine's
    sessions do), where every process would compile about a hundred modules again."""
    subprocess.run(["bash", str(ROOT / "scripts" / "compile.sh")], check=True)


def summary_option(parser: argparse.ArgumentParser) -> None:
    """The `--summary FILE` option every benchmark of the table takes (see ROWS)."""
    parser.add_argument("--summary", help="append this command's rows of issue 14's table to this file "
                                          "(as benchmarks.issue14 does)")


def record(summary: str | None, row: str, figure: str, met: bool) -> None:
    """One row of issue 14's table (a key of ROWS) with its figure as printed and whether
    it met the target, appended to the summary file when the run was given one."""
    if row not in ROWS:
        raise ValueError(f"not a row of the table: {row}")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(json.dumps({"row": row, "figure": figure, "met": met}, ensure_ascii=False) + "\n")


def empty_database(pg: str | None, prefix: str):
    """(engine, url): the PostgreSQL database `pg`, emptied, or a fresh SQLite file in a new
    temporary folder named `prefix`; the tables made. SQLAlchemy imported here, not with the
    package (the bare script of bench_report imports the package too)."""
    import tempfile

    from sqlalchemy import create_engine

    from models import Base

    url = pg or f"sqlite:///{tempfile.mkdtemp(prefix=prefix)}/heavy.sqlite"
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return engine, url
