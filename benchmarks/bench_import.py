"""Time the import of the heavy book into a fresh SQLite file and into PostgreSQL.

    .venv/bin/python -m benchmarks.bench_import [--pg URL] [--xlsx] [--no-pg] [--again]

PostgreSQL: --pg URL, else DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/bench_import
(created when missing). Targets (issue 14): ≥ 30,000 rows/s on SQLite, ≥ 20,000 on PostgreSQL.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.heavy_book import generate_heavy_book
from models import Base
from portfolio.interchange.importing import import_book

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_import"
TARGET_ROWS_PER_S = {"sqlite": 30_000, "postgresql": 20_000}


def _pg_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _ensure_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("select 1 from pg_database where datname = :n"), {"n": u.database}).first():
            conn.execute(text(f'create database "{u.database}"'))
    admin.dispose()


def bench(url: str, source: Path, again: bool) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        start = time.perf_counter()
        result = import_book(session, source, username="bench")
        seconds = time.perf_counter() - start
    if not result.ok:
        raise SystemExit("import failed:\n" + "\n".join(str(e) for e in result.errors[:20]))
    rows = sum(sum(c.values()) for c in result.counts.values())
    name = engine.dialect.name
    rate, target = rows / seconds, TARGET_ROWS_PER_S.get(name, 0)
    print(f"{name:10s} import  {seconds:7.2f} s  {rows:7d} rows  {rate:9.0f} rows/s  "
          f"(target ≥ {target:,}: {rate / target:.2f}× it) {'ok' if rate >= target else 'UNDER TARGET'}")
    if again:
        with Session(engine) as session:
            start = time.perf_counter()
            result = import_book(session, source, username="bench")
            seconds = time.perf_counter() - start
        unchanged = sum(c["unchanged"] for c in result.counts.values())
        print(f"{name:10s} re-import {seconds:5.2f} s  {unchanged:7d} unchanged  {rows / seconds:9.0f} rows/s")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", default=os.environ.get("DATABASE_URL") or DEFAULT_PG)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--xlsx", action="store_true", help="import the .xlsx instead of the CSV folder")
    parser.add_argument("--again", action="store_true", help="also time a second, all-unchanged import")
    args = parser.parse_args()
    folder = generate_heavy_book(xlsx=args.xlsx)
    source = folder / "book.xlsx" if args.xlsx else folder
    print(f"book: {source}")
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite:///" + str(Path(tmp) / "bench.sqlite"), source, args.again)
    if not args.no_pg:
        url = _pg_url(args.pg)
        _ensure_database(url)
        bench(url, source, args.again)


if __name__ == "__main__":
    main()
