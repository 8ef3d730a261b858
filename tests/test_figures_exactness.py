"""The exact arithmetic behind the figures: sums of fractions rounded half up to the fen,
HHI from exact ints, IRR independent of booking order, and the set-based helpers
agreeing with their plain definitions."""
from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.figures import engine as fg
from portfolio.figures.bookdata import records
from portfolio.figures.rules import is_local, paid_in_fen
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv


def _exact(terms, fund_nav):
    total = sum((Fraction(a, b) for a, b in terms), Fraction(0))
    return fg._round_half_up(total), (None if fund_nav == 0 else float(total / fund_nav))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**26), st.integers(1, 10**14)), max_size=40),
       st.integers(0, 10**16))
def test_sum_of_fractions_is_the_exact_sum_rounded_half_up(terms, fund_nav):
    fen, share = fg._sum_of_fractions(terms, fund_nav)
    exact_fen, exact_share = _exact(terms, fund_nav)
    assert fen == exact_fen
    assert share == exact_share or share == pytest.approx(exact_share, rel=1e-14)


@pytest.mark.parametrize("terms, fen", [
    ([(1, 2)], 1),                          # exactly half a fen rounds up
    ([(1, 6), (1, 3)], 1),                  # 1/6 + 1/3 = 1/2 exactly, though neither float says so
    ([(1, 6), (1, 3), (-1, 10**15)], 0),    # a hair under a half rounds down
    ([(5, 2), (1, 3), (1, 6)], 3),          # 2.5 + 0.5 = 3 exactly
    ([(10**20 + 1, 2)], 5 * 10**19 + 1),    # big numerators stay exact
])
def test_sum_of_fractions_on_rounding_boundaries(terms, fen):
    assert fg._sum_of_fractions(terms, 1)[0] == fen == _exact(terms, 1)[0]


def test_irr_does_not_depend_on_booking_order():
    book = book_from_csv(EXAMPLE_BOOK)
    shuffled = list(range(len(book.flows)))
    random.Random(7).shuffle(shuffled)
    reordered = book.with_(flows=book.flows.iloc[shuffled].reset_index(drop=True))
    for as_of in (dt.date(2024, 12, 31), dt.date(2025, 12, 31)):
        ids = fg.fund_investment_ids(book, "QY", as_of)
        a = fg.summarise(fg.positions(book, ids, as_of), "mode")
        b = fg.summarise(fg.positions(reordered, ids, as_of), "mode")
        assert {k: v["irr"] for k, v in a.items()} == {k: v["irr"] for k, v in b.items()}


def test_records_are_to_dict_records():
    book = book_from_csv(EXAMPLE_BOOK)
    for frame in (book.investments, book.companies, book.flows, book.valuations):
        assert records(frame) == frame.to_dict("records")


def test_is_local_by_prefix_missing_and_blank_are_not_local():
    book = book_from_csv(EXAMPLE_BOOK)
    companies = pd.concat([book.companies, pd.DataFrame([
        {"code": "BLANK", "region_code": "  "}, {"code": "NONE", "region_code": None}])], ignore_index=True)
    book = book.with_(companies=companies)
    codes = pd.Series(["C1", "C2", "BLANK", "NONE", "NOT-A-COMPANY"])
    assert is_local(book, codes, "3302").tolist() == [True, False, False, False, False]


def test_paid_in_counts_contributions_to_d_and_lists_every_investment():
    book = book_from_csv(EXAMPLE_BOOK)
    ids = list(book.investments["id"]) + ["NO-SUCH"]
    paid = paid_in_fen(book, ids, dt.date(2025, 12, 31))
    flows = book.flows
    for inv_id in ids:
        mine = flows[(flows["investment_id"] == inv_id) & (flows["type"] == "contribution")
                     & (flows["date"] <= pd.Timestamp("2025-12-31"))]
        assert paid[inv_id] == int(mine["amount_fen"].sum())
    assert paid["NO-SUCH"] == 0


def test_hhi_is_the_exact_sum_of_squared_shares():
    book = book_from_csv(EXAMPLE_BOOK)
    pos = fg.positions(book, list(book.investments["id"]), dt.date(2025, 12, 31))
    navs = pos.rows.groupby("target_code")["nav_fen"].sum().tolist()
    total = sum(navs)
    assert fg.concentration(pos)["hhi"] == float(sum(Fraction(v, total) ** 2 for v in navs))
    assert np.isclose(sum((v / total) ** 2 for v in navs), fg.concentration(pos)["hhi"])
