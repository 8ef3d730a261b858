"""Time the committee's review screen figures on the heavy book.

    .venv/bin/python -m benchmarks.bench_committee [--investments 2000]

The heavy book (benchmarks.heavy_book) is imported into a fresh SQLite file; a direct
proposal and a sub-fund proposal are made for QY, and `portfolio.committee.review`
(load_book, the report before and after the deal, every check before and after) is
timed for each, with the sector chart. Target: ≤ 3 s per review page.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from benchmarks.heavy_book import generate_heavy_book
from models import Base, Investment
from portfolio import committee
from portfolio.committee_charts import before_after_sector_chart
from portfolio.importing import import_book


def _timed(label, func):
    start = time.perf_counter()
    value = func()
    print(f"  {label:44s} {time.perf_counter() - start:7.2f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--investments", type=int, default=2000)
    args = parser.parse_args()
    folder = generate_heavy_book(investments=args.investments)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            result = _timed("import heavy book (SQLite)", lambda: import_book(session, folder, username="bench"))
            assert not result.errors, result.errors[:3]
            company, sub_fund = (session.execute(select(col).where(Investment.fund_code == "QY",
                                                                   Investment.mode == mode).limit(1)).scalar_one()
                                 for col, mode in ((Investment.company_code, "direct"),
                                                   (Investment.sub_fund_code, "sub_fund")))
            base = {"fund_code": "QY", "planned_date": "2025-12-31", "amount_cny": "50000000",
                    "ownership_pct": "5"}
            for label, fields in (("direct", {**base, "mode": "direct", "target_code": company}),
                                  ("sub_fund", {**base, "mode": "sub_fund", "target_code": sub_fund,
                                                "ownership_pct": ""})):
                proposal = committee.create_proposal(session, fields, username="bench")
                effect = _timed(f"QY {label}: review (pro forma)", lambda: committee.review(session, proposal))
                _timed(f"QY {label}: sector chart", lambda: before_after_sector_chart(effect["sectors"]))
                print(f"    {len(effect['checks'])} checks, {len(effect['new_failures'])} newly failing")
        engine.dispose()


if __name__ == "__main__":
    main()
