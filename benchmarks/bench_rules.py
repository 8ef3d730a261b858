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

from benchmarks.heavy_book import imported_heavy_book, timed
from portfolio.book.reading import load_book
from portfolio.figures.indicators import performance_indicators
from portfolio.figures.proforma import failures_introduced, with_investment
from portfolio.figures.rules import check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--investments", type=int, default=2000)
    parser.add_argument("--as-of", default="2025-12-31")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    with imported_heavy_book(args.investments) as session:
        book = timed("load_book", lambda: load_book(session))
    print(f"  book: {len(book.investments)} investments, {len(book.flows)} flows, "
          f"{len(book.holdings)} holdings rows")
    for fund in ("QY", "TS"):
        results = timed(f"{fund}: check", lambda fund=fund: check(book, fund, as_of))
        company = book.investments[book.investments["mode"] == "direct"].iloc[0]["target_code"]
        deal = {"id": "BENCH-1", "fund_code": fund, "mode": "direct", "target_code": company,
                "date": as_of, "commitment_cny": "5000000000", "ownership_pct": 45}

        def proforma(deal=deal, fund=fund, results=results):
            after = check(with_investment(book, deal, contribution_fen=500_000_000_000), fund, as_of)
            return failures_introduced(results, after)

        new = timed(f"{fund}: pro forma (with_investment+check+diff)", proforma)
        timed(f"{fund}: performance_indicators (+check)", lambda fund=fund: performance_indicators(book, fund, as_of))
        statuses = {s: sum(r["status"] == s for r in results) for s in ("pass", "warn", "fail")}
        print(f"  {fund}: {len(results)} results {statuses}; the deal introduces {len(new)} failures")


if __name__ == "__main__":
    main()
