"""The home page's alerts (portfolio.figures.alerts.fund_alerts): the idle commitments are
those the forecast's histories give (forecast_book.idle_units on `histories(...).units`),
read off the positions the report already holds, on books and dates where units are idle,
called recently and never called."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from portfolio.figures import forecast_book as fb
from portfolio.figures.alerts import fund_alerts
from portfolio.figures.report import compute_report
from tests.forecast_books import demo_book_data, generated_book


def _idle_by_histories(book, fund: str, as_of: dt.date) -> list[dict]:
    units = fb.histories(book, fund, as_of).units
    return sorted((u for u in fb.idle_units(book, units, pd.Timestamp(as_of)) if u["status"] != "ok"),
                  key=lambda u: (-u["months"], u["id"]))


@pytest.mark.parametrize("fund, as_of", [
    ("QY", dt.date(2025, 12, 31)), ("QY", dt.date(2024, 6, 30)), ("QY", dt.date(2027, 3, 31)),
    ("TS", dt.date(2025, 12, 31)), ("TS", dt.date(2023, 9, 30)), ("QY-CL", dt.date(2025, 12, 31)),
])
def test_idle_units_are_the_forecasts_on_the_demo_book(fund, as_of):
    book = demo_book_data()
    alerts = fund_alerts(book, compute_report(book, fund, as_of), as_of)
    assert alerts["idle"] == _idle_by_histories(book, fund, as_of)


@pytest.mark.parametrize("as_of", [dt.date(2016, 3, 31), dt.date(2020, 12, 31), dt.date(2026, 6, 30)])
def test_idle_units_are_the_forecasts_on_a_generated_book(as_of):
    book = generated_book(call_zero=0.6)  # lumpy calls: units idle for a year or more
    alerts = fund_alerts(book, compute_report(book, "G", as_of), as_of)
    expected = _idle_by_histories(book, "G", as_of)
    assert alerts["idle"] == expected
    if as_of.year == 2026:
        assert any(u["status"] == "trigger" for u in expected)  # the case is exercised, not empty
