"""The forecast of a fund on the book (forecast_book.forecast): it continues the book from
D, its bands are ordered, capital call at risk is consistent, the checks hold."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from portfolio.figures import forecast_book as fb
from tests.forecast_books import demo_book_data

D = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def book():
    return demo_book_data()


@pytest.fixture(scope="module")
def result(book):
    return fb.forecast(book, "QY", D, paths=2000, bureau_share=0.4)


def test_forecast_continues_the_book(book, result):
    h = fb.histories(book, "QY", D)
    assert result["actuals"][-1]["quarter"] == "2025Q4" and result["actuals"][-1]["kind"] == "A"
    assert result["forecast"][0]["quarter"] == "2026Q1" and result["forecast"][0]["kind"] == "E"
    # starts from the actuals: unfunded after the first quarter = unfunded on D − the quarter's calls
    first = result["forecast"][0]
    assert first["unfunded"] + first["call"] == pytest.approx(h.units["unfunded"].sum(), rel=1e-9)
    # the actual NAV on D is the book's
    assert result["actuals"][-1]["nav"] == pytest.approx(h.units["nav"].sum(), abs=0.01)
    # a fund's total called never exceeds its commitment
    called = h.units["paid_in"].sum() + sum(r["call"] for r in result["forecast"])
    assert called <= h.units["commitment"].sum() * (1 + 1e-12)


def test_checks_hold(result):
    assert {c["check"] for c in result["checks"]} == {"nav_roll", "unfunded_non_negative", "calls_within_commitment"}
    assert all(c["ok"] for c in result["checks"])


def test_bands_are_ordered_and_ccar_consistent(result):
    for row in result["forecast"]:
        for name in ("call", "distribution", "nav", "unfunded"):
            assert row[f"{name}_p10"] <= row[f"{name}_p50"] <= row[f"{name}_p90"]
    car = result["call_at_risk"]
    assert car["4"]["0.90"] <= car["4"]["0.95"] <= car["4"]["0.99"]
    assert car["8"]["0.95"] >= car["4"]["0.95"]
    # CCaR above the expected calls of the year, below everything left to call
    assert car["4"]["0.95"] >= result["expected"]["calls_next_year"]
    assert car["8"]["0.99"] <= sum(u["unfunded"] for u in result["units"]) * (1 + 1e-6)
    for h in ("4", "8"):
        for level, value in car[h].items():
            assert result["call_at_risk_bureau"][h][level] == pytest.approx(0.4 * value, rel=1e-12)


def test_one_sub_fund(book):
    one = fb.forecast(book, "QY", D, unit="SF01", paths=500)
    assert [u["target_code"] for u in one["units"]] == ["SF01"] * len(one["units"])
    assert one["actuals"][-1]["nav"] == pytest.approx(sum(u["nav"] for u in one["units"]), abs=0.01)


def test_empty_fund_and_before_the_first_investment(book):
    early = fb.forecast(book, "QY", dt.date(2000, 1, 1), paths=100)
    assert early["units"] == [] and early["actuals"] == []
    assert all(r["call"] == 0 for r in early["forecast"])


def test_reproducible(book):
    a = fb.forecast(book, "TS", D, paths=300, seed=5)
    b = fb.forecast(book, "TS", D, paths=300, seed=5)
    assert a["call_at_risk"] == b["call_at_risk"]
    assert np.isfinite([r["nav_p90"] for r in a["forecast"]]).all()
