"""Pure computation: `compute_report` on a loaded BookData (the heavy book) against a bare
loop of pyxirr over the same flows: every IRR the report holds (each investment, the
fund, each mode, sector, vintage and region), nothing else. Target ≤ 3×.

    .venv/bin/python -m benchmarks.bench_figures [--as-of 2025-12-31] [--investments 2000] [--repeat 3]

The BookData is read from the heavy book's CSVs (same dtypes as `load_book`); the bare
side is handed its flows already as numpy arrays, so it times nothing but pyxirr.
The best of --repeat runs is kept on each side.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import numpy as np
    import pyxirr

    from benchmarks.heavy_book import generate_heavy_book
    from portfolio.figures import engine as fg
    from portfolio.figures.report import compute_report
    from tests.factories import book_from_csv

    parser = argparse.ArgumentParser()
    parser.add_argument("--as-of", default="2025-12-31")
    parser.add_argument("--investments", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    book = book_from_csv(generate_heavy_book(investments=args.investments))

    def best(func):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            value = func()
            times.append(time.perf_counter() - start)
        return min(times), value

    from portfolio.figures import rules
    engine_s, report = best(lambda: compute_report(book, "QY", as_of))
    rules_s, checks = best(lambda: rules.check(book, "QY", as_of))

    # the same flows (with each NAV on D), prepared outside the timing
    pos = fg.positions(book, fg.fund_investment_ids(book, "QY", as_of), as_of)
    rows = pos.rows.set_index("id")
    flows = pos.flows
    days = flows["day"].to_numpy()
    amounts = flows["amount"].to_numpy() / 100.0  # yuan, as a person would pass them
    ids = flows["investment_id"].to_numpy()
    groups = [np.arange(len(ids))]
    for column in ("mode", "sector", "vintage", "region"):
        keys = flows["investment_id"].map(rows[column]).to_numpy()
        groups += [np.flatnonzero(keys == k) for k in np.unique(keys)]
    order = np.argsort(ids, kind="stable")
    bounds = np.flatnonzero(ids[order][1:] != ids[order][:-1]) + 1
    per_investment = np.split(order, bounds)

    def bare():
        return [pyxirr.xirr(days[i], amounts[i], silent=True) for i in per_investment + groups]

    bare_s, _ = best(bare)
    s = report["summary"]
    print(f"heavy book, QY as of {as_of}: {len(report['investments'])} investments, {len(flows):,} flows "
          f"(with NAVs); irr {s['irr']:.6f}, tvpi {s['tvpi']:.4f}")
    print(f"  compute_report (the whole report)                  {engine_s * 1000:8.1f} ms")
    print(f"    of which the {len(checks)} compliance results (rules.check)  {rules_s * 1000:8.1f} ms")
    print(f"  bare pyxirr loop ({len(per_investment)} investments + {len(groups)} groups)  {bare_s * 1000:8.1f} ms")
    print(f"  ratio, whole report / bare pyxirr          {engine_s / bare_s:6.2f} x   (target <= 3x)")
    print(f"  ratio, figures without compliance / bare   {(engine_s - rules_s) / bare_s:6.2f} x")


if __name__ == "__main__":
    main()
