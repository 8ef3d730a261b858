"""One fund scope (portfolio/figures/scope.py): the one walk of the fund tree, and a fund's
row and settings resolved once per book however many figures ask for them."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from portfolio.figures import scope as scope_module
from portfolio.figures.rules import paid_in_fen
from portfolio.figures.scope import FundTree, UnknownFund, holdings_of, scope_of
from portfolio.reports.quarterly import build_quarterly
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv

TREE = FundTree.of([("QY", None), ("QY-CL", "QY"), ("QY-CL-1", "QY-CL"), ("QY-X", "QY"), ("TS", float("nan")),
                    ("A", "B"), ("B", "A")])  # A and B: a cycle in bad data


@pytest.mark.parametrize("code, family", [("QY", ["QY", "QY-X", "QY-CL", "QY-CL-1"]), ("QY-CL", ["QY-CL", "QY-CL-1"]),
                                          ("TS", ["TS"]), ("A", ["A", "B"])])
def test_descendants(code, family):
    assert sorted(TREE.descendants(code)) == sorted(family) and TREE.descendants(code)[0] == code


@pytest.mark.parametrize("code, chain", [("QY-CL-1", ["QY-CL-1", "QY-CL", "QY"]), ("QY", ["QY"]), ("TS", ["TS"]),
                                         ("A", ["A", "B"])])
def test_ancestors(code, chain):
    assert TREE.ancestors(code) == chain


def test_a_scope_is_resolved_once_per_book_and_afresh_for_a_copy():
    book = book_from_csv(EXAMPLE_BOOK)
    first = scope_of(book, "QY")
    assert scope_of(book, "QY") is first
    assert first.settings["home_region_prefix"] and first.kind == "innovation_fund" and first.family[0] == "QY"
    copy = book.with_(flows=book.flows)
    assert scope_of(copy, "QY") is not first and scope_of(copy, "QY") == first
    with pytest.raises(UnknownFund):
        scope_of(book, "NOPE")


def test_a_quarterly_report_looks_its_fund_up_once(monkeypatch):
    calls = []
    real = scope_module.resolve

    def counting(book, code):
        calls.append(code)
        return real(book, code)

    monkeypatch.setattr(scope_module, "resolve", counting)
    report = build_quarterly(book_from_csv(EXAMPLE_BOOK), "QY", "2025Q4")
    assert report["compliance"] and report["indicators"]
    assert calls == ["QY"], calls


def test_a_quarterly_report_resolves_each_date_s_holdings_once(monkeypatch):
    """The report, its rules and its indicators share one Holdings per (fund, date): the
    positions are computed once for each of the three dates a quarterly report reads."""
    from portfolio.figures import engine

    calls = []
    real = engine.positions

    def counting(book, ids, as_of, *args):
        calls.append(pd.Timestamp(as_of).date().isoformat())
        return real(book, ids, as_of, *args)

    monkeypatch.setattr(engine, "positions", counting)
    report = build_quarterly(book_from_csv(EXAMPLE_BOOK), "QY", "2025Q4")
    assert report["compliance"] and report["indicators"]
    assert sorted(calls) == ["2024-12-31", "2025-09-30", "2025-12-31"], calls


def test_holdings_are_the_investments_as_of_d_with_their_paid_in():
    book = book_from_csv(EXAMPLE_BOOK)
    day = dt.date(2025, 6, 30)
    holdings = holdings_of(book, "QY", day)
    assert holdings_of(book, "QY", pd.Timestamp(day)) is holdings
    assert holdings.scope is scope_of(book, "QY")
    inv = book.investments
    expected = inv[inv["fund_code"].isin(scope_of(book, "QY").family) & (inv["date"] <= pd.Timestamp(day))]
    assert sorted(holdings.ids) == sorted(expected["id"]) and holdings.ids
    assert list(holdings.investments["date"]) == sorted(holdings.investments["date"])
    # paid_in: the engine's positions agree with the plain sum of contributions (rules.paid_in_fen)
    assert holdings.paid_in == paid_in_fen(book, holdings.ids, day)
    assert holdings_of(book.with_(flows=book.flows), "QY", day) is not holdings
