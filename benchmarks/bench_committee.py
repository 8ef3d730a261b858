"""Time the committee's review screen figures on the heavy book.

    .venv/bin/python -m benchmarks.bench_committee [--investments 2000]

The heavy book (benchmarks.heavy_book) is imported into a fresh SQLite file; a direct
proposal and a sub-fund proposal are made for QY, and `portfolio.committee.review.review`
(load_book, the report before and after the deal, every check before and after) is
timed for each, with the sector chart. Target: ≤ 3 s per review page.
"""
from __future__ import annotations

import argparse

from sqlalchemy import select

from benchmarks.heavy_book import imported_heavy_book, timed
from models import Investment
from portfolio.committee.proposals import create_proposal
from portfolio.committee.review import review
from portfolio.reports.committee_charts import before_after_sector_chart


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--investments", type=int, default=2000)
    args = parser.parse_args()
    with imported_heavy_book(args.investments) as session:
        company, sub_fund = (session.execute(select(col).where(Investment.fund_code == "QY",
                                                               Investment.mode == mode).limit(1)).scalar_one()
                             for col, mode in ((Investment.company_code, "direct"),
                                               (Investment.sub_fund_code, "sub_fund")))
        base = {"fund_code": "QY", "planned_date": "2025-12-31", "amount_cny": "50000000",
                "ownership_pct": "5"}
        for label, fields in (("direct", {**base, "mode": "direct", "target_code": company}),
                              ("sub_fund", {**base, "mode": "sub_fund", "target_code": sub_fund,
                                            "ownership_pct": ""})):
            proposal = create_proposal(session, fields, username="bench")
            effect = timed(f"QY {label}: review (pro forma)", lambda proposal=proposal: review(session, proposal))
            timed(f"QY {label}: sector chart", lambda effect=effect: before_after_sector_chart(effect["sectors"]))
            print(f"    {len(effect['checks'])} checks, {len(effect['new_failures'])} newly failing")


if __name__ == "__main__":
    main()
