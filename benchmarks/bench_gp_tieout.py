"""Recall, false positives and speed of the GP package tie-out (portfolio/figures/tieout.py).

    .venv/bin/python -m benchmarks.bench_gp_tieout [--packages 50] [--seed 1]

The demo book (both funds, 20 sub-funds) is imported into a fresh SQLite file. For each of
`--packages` packages (cycling over the book's sub-fund interests, quarter 2025Q4), the generator
(portfolio/gp/samples.py) builds a clean package from what the book says, and one package per
planted error class (≥ 20 classes). Every package goes the real way of an upload: written as the
portal's xlsx template, read back, saved as a draft and tied out against the database
(portfolio/gp/packages.save_package). The few classes whose error lives in the book's history
(a mark unchanged for 4 quarters, a method changed to cost, a NAV move where the book had no
opening) get that history as plain data and go through the pure tie-out.

Prints: recall (planted packages in which one of the checks the class names is Blocking or
Warning; target ≥ 98 %), false positives (clean packages with any check not Passed; target
≤ 2 %), and the median and 95th-percentile time from upload (xlsx bytes) to result (≤ 2 s).
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from models import Base, Investment
from portfolio.errors import FieldErrors
from portfolio.figures import tieout
from portfolio.gp import packages
from portfolio.gp.samples import ERROR_CLASSES, clean_package, planted
from portfolio.gp.template import from_package, read_workbook, workbook
from portfolio.interchange.demo import write_demo_book
from portfolio.interchange.importing import import_book

QUARTER_END = dt.date(2025, 12, 31)
CONTEXT_CLASSES = {"mark_unchanged_4_quarters", "method_changed_to_cost"}


def _upload(session: Session, investment: Investment, package: tieout.Package) -> tuple[set[str], float]:
    data = workbook(from_package(package), investment_id=investment.id, quarter_end=QUARTER_END)
    start = time.perf_counter()
    try:
        content, investment_id, quarter_end = read_workbook(data)
    except FieldErrors:
        # refused at reading, every bad cell listed (e.g. a negative fee): the GP sees the error
        session.rollback()
        return {"amounts_sign"}, time.perf_counter() - start
    saved = packages.save_package(session, investment_id, quarter_end, content, username="bench", allowed=None)
    flagged = {c["key"] for c in saved.checks if c["status"] != tieout.PASSED}
    return flagged, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.xlsx"
        write_demo_book(path)
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            assert import_book(session, path, username="bench").ok
            interests = list(session.execute(select(Investment).where(Investment.mode == "sub_fund",
                                                                      Investment.date <= QUARTER_END)
                                             .order_by(Investment.id)).scalars())
            times: list[float] = []
            clean_flags: list[set[str]] = []
            found: Counter[str] = Counter()
            tried: Counter[str] = Counter()
            missed: list[tuple[str, str, set[str]]] = []
            for n in range(args.packages):
                investment = interests[n % len(interests)]
                context = packages.context_for(session, investment, QUARTER_END)
                clean = clean_package(context, QUARTER_END, rng)
                flagged, seconds = _upload(session, investment, clean)
                times.append(seconds)
                clean_flags.append(flagged)
                for name, (_plant, expected) in ERROR_CLASSES.items():
                    package, planted_context = planted(clean, context, name, rng)
                    if name in CONTEXT_CLASSES or planted_context.prior_nav != context.prior_nav:
                        flagged = {c.key for c in tieout.tie_out(package, planted_context)
                                   if c.status != tieout.PASSED}
                    else:
                        flagged, seconds = _upload(session, investment, package)
                        times.append(seconds)
                    tried[name] += 1
                    if flagged & expected:
                        found[name] += 1
                    else:
                        missed.append((investment.id, name, flagged))
        engine.dispose()

    planted_total, found_total = sum(tried.values()), sum(found.values())
    false_positives = [f for f in clean_flags if f]
    times.sort()
    print(f"{args.packages} packages × {len(ERROR_CLASSES)} error classes on the demo book "
          f"({len(interests)} sub-fund interests, {QUARTER_END.isoformat()})")
    print(f"  recall            {found_total}/{planted_total} = {100 * found_total / planted_total:6.2f} %  (target ≥ 98 %)")
    print(f"  false positives   {len(false_positives)}/{len(clean_flags)} = "
          f"{100 * len(false_positives) / len(clean_flags):6.2f} %  (target ≤ 2 %)")
    print(f"  upload → result   median {statistics.median(times):.3f} s, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.3f} s, max {times[-1]:.3f} s over {len(times)} uploads "
          f"(target ≤ 2 s)")
    for name in ERROR_CLASSES:
        if found[name] < tried[name]:
            print(f"  missed: {name} {tried[name] - found[name]}/{tried[name]}")
    for flags in false_positives[:5]:
        print(f"  false positive on a clean package: {sorted(flags)}")
    for inv, name, flags in missed[:5]:
        print(f"  e.g. {inv} {name}: flagged {sorted(flags)}")


if __name__ == "__main__":
    main()
