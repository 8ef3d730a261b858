"""The forecast's published accuracy (issue 16): the rolling-origin back-test table on the
demo book and on a generated book with known parameters, and the parameters recovered.

    .venv/bin/python -m benchmarks.backtest_table [--paths 200]

Per book, horizon (1, 4, 8 quarters) and model (calibrated TA beside uncalibrated TA with the
published parameters): comparisons, MAE and bias of the cumulative calls and distributions
(percentage points of commitment), P10–P90 coverage, CCaR95 exceedance
(portfolio.figures.forecast_backtest). Then, for the generated book (tests/forecast_books.py:
TA with RC 40 % / 30 %, B 2.0, L 10, G 8 % plus noise), the median calibrated parameters
against the generating ones and the tolerance the tests assert. Pure: no database.
"""
from __future__ import annotations

import argparse
import datetime as dt

import numpy as np

from portfolio.figures import forecast_backtest as bt
from portfolio.figures import forecast_book as fb
from tests.forecast_books import AS_OF, TRUE, demo_book_data, generated_book

TOLERANCE = {"rc_early": 0.03, "rc_late": 0.03, "growth": 0.02, "bow": 0.25}  # tests/test_forecast_calibration.py


def _f(value, fmt: str = "{:6.2f}") -> str:
    return "     —" if value is None else fmt.format(value)


def table(title: str, result: dict) -> None:
    print(f"\n{title}: {result['origins']} origins, data until {result['data_until']}, {result['paths']} paths")
    print("  h  model        n  callMAE  callBias  distMAE  distBias  callCov  distCov  CCaR95exc")
    for r in result["table"]:
        print(f"  {r['horizon']}  {r['model']:<10} {r['n_calls']:4d}  {_f(r['call_mae'])}   {_f(r['call_bias'], '{:+6.2f}')}"
              f"   {_f(r['distribution_mae'])}   {_f(r['distribution_bias'], '{:+6.2f}')}"
              f"   {_f(r['call_coverage'], '{:6.1%}')}   {_f(r['distribution_coverage'], '{:6.1%}')}"
              f"   {_f(r['ccar95_exceedance'], '{:6.1%}')}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=200)
    args = parser.parse_args()
    table("Demo book, fund QY, as of 2025-12-31",
          bt.backtest(demo_book_data(), "QY", dt.date(2025, 12, 31), paths=args.paths))
    generated = generated_book()
    table("Generated book (24 sub-funds, TA with known parameters + noise), as of 2025-12-31",
          bt.backtest(generated, "G", AS_OF.date(), paths=args.paths))
    table("Generated book, lumpy calls (none in 40 % of quarters)",
          bt.backtest(generated_book(call_zero=0.4), "G", AS_OF.date(), paths=args.paths))
    h = fb.histories(generated, "G", AS_OF)
    cal = fb.calibrate(h).table
    noise = fb.calibrate_noise(h, fb.calibrate(h))
    print("\nGenerated book: parameters recovered (median over the 24 sub-funds)")
    for key, tol in TOLERANCE.items():
        got = float(np.median(cal[key]))
        print(f"  {key:<9} true {TRUE[key]:5.2f}  calibrated {got:5.2f}  |error| {abs(got - TRUE[key]):.3f}"
              f"  tolerance {tol}  {'ok' if abs(got - TRUE[key]) <= tol else 'OUT'}")
    print(f"  noise     σ_c {noise.call_sigma:.3f} (true 0.25, tolerance 0.05)  σ_g {noise.growth_sigma:.3f}"
          f" (true 0.02, tolerance 0.01)  π_c {noise.call_zero:.3f} (true 0)")


if __name__ == "__main__":
    main()
