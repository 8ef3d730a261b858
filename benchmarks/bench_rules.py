"""Time the rule checks, a pro-forma check and the 绩效评价 indicators on the heavy book.

    .venv/bin/python -m benchmarks.bench_rules [--investments 2000] [--as-of 2025-12-31]

The heavy book (benchmarks.heavy_book) is imported once into a fresh SQLite file and
loaded set-based (load_book); then, for each fund (QY, TS), it times `rules.check`,
the committee's pro-forma round (with_investment + check + failures_introduced) and
`performance_indicators`. Target: each ≤ 2 s (they run on every dashboard and review page).
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from benchmarks.heavy_book import generate_heavy_book
from models import Base
from portfolio.data import load_book
from portfolio.importing import import_book
from portfolio.indicators import performance_indicators
from portfolio.proforma import failures_introduced, with_investment
from portfolio.rules import check


def _timed(label, func):
    start = time.perf_counter()
    value = func()
    print(f"  {label:40s} {time.perf_counter() - start:7.2f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--investments", type=int, default=2000)
    parser.add_argument("--as-of", default="2025-12-31")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    folder = generate_heavy_book(investments=args.investments)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            result = _timed("import heavy book (SQLite)", lambda: import_book(session, folder, username="bench"))
            assert not result.errors, result.errors[:3]
            book = _timed("load_book", lambda: load_book(session))
        engine.dispose()
    print(f"  book: {len(book.investments)} investments, {len(book.flows)} flows, "
          f"{len(book.holdings)} holdings rows")
    for fund in ("QY", "TS"):
        results = _timed(f"{fund}: check", lambda: check(book, fund, as_of))
        company = book.investments[book.investments["mode"] == "direct"].iloc[0]["target_code"]
        deal = {"id": "BENCH-1", "fund_code": fund, "mode": "direct", "target_code": company,
                "date": as_of, "commitment_cny": "5000000000", "ownership_pct": 45}

        def proforma():
            after = check(with_investment(book, deal, contribution_fen=500_000_000_000), fund, as_of)
            return failures_introduced(results, after)

        new = _timed(f"{fund}: pro forma (with_investment+check+diff)", proforma)
        _timed(f"{fund}: performance_indicators (+check)", lambda: performance_indicators(book, fund, as_of))
        statuses = {s: sum(r["status"] == s for r in results) for s in ("pass", "warn", "fail")}
        print(f"  {fund}: {len(results)} results {statuses}; the deal introduces {len(new)} failures")


if __name__ == "__main__":
    main()
