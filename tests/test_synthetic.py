"""The synthetic book's option of holdings called within their commitments
(portfolio.interchange.synthetic, `within_commitment`): the benchmarks' heavy book calls every
holding past its commitment, so a forecast on it has no call to simulate; this one's sub-funds
still call."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from portfolio.book.reading import load_book
from portfolio.figures.forecast_book import forecast
from portfolio.interchange.importing import import_book, plan_import
from portfolio.interchange.synthetic import generate_heavy_book
from portfolio.money import fen

# as many flows a holding as the benchmarks' heavy book (100,000 for 2,000 holdings)
SIZES = {"investments": 40, "flows": 2000, "valuations": 160, "holdings": 80}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    base = tmp_path_factory.mktemp("synthetic")
    return (generate_heavy_book(base / "drawn", seed=4, **SIZES),
            generate_heavy_book(base / "within", seed=4, within_commitment=True, **SIZES))


def _sums(folder) -> pd.DataFrame:
    flows = pd.read_csv(folder / "cash_flows.csv", dtype=str, keep_default_na=False)
    investments = pd.read_csv(folder / "investments.csv", dtype=str, keep_default_na=False)
    flows["fen"] = flows["amount_cny"].map(fen)
    sums = flows.pivot_table(index="investment_id", columns="type", values="fen", aggfunc="sum", fill_value=0)
    commitment = investments.set_index("id")["commitment_cny"].astype("int64") * 100
    return sums.assign(commitment=commitment.reindex(sums.index),
                       mode=investments.set_index("id")["mode"].reindex(sums.index),
                       flows=flows.groupby("investment_id").size().reindex(sums.index))


def test_the_drawn_book_calls_past_its_commitments_and_the_option_within_them(books):
    drawn, within = (_sums(folder) for folder in books)
    assert (drawn["contribution"] > drawn["commitment"]).mean() > 0.9  # why the option exists

    assert (within["contribution"] <= within["commitment"]).all()
    sub_fund, other = within[within["mode"] == "sub_fund"], within[within["mode"] != "sub_fund"]
    share = sub_fund["contribution"] / sub_fund["commitment"]
    assert share.min() >= 0.3 - 1e-6 and share.max() <= 1 and (share < 0.95).sum() >= len(share) // 2
    # a direct or co-investment is called in full, to the fen
    assert (other["contribution"] == other["commitment"]).all() and len(other) > len(sub_fund)
    # distributions: 0-1.5x what was called, to the fen (a fen each where that rounds to nothing)
    assert (within.get("distribution", 0) <= 1.5 * within["contribution"] + within["flows"]).all()


def test_the_option_changes_only_the_amounts(books):
    drawn, within = books
    for name in ("funds", "sub_funds", "companies", "investments", "valuations", "sub_fund_holdings"):
        assert (drawn / f"{name}.csv").read_bytes() == (within / f"{name}.csv").read_bytes(), name
    a, b = (pd.read_csv(folder / "cash_flows.csv", dtype=str, keep_default_na=False) for folder in books)
    assert a.drop(columns="amount_cny").equals(b.drop(columns="amount_cny"))
    assert (b["amount_cny"].map(fen) >= 1).all() and not a["amount_cny"].equals(b["amount_cny"])


def test_it_imports_with_no_call_past_a_commitment_and_its_forecast_has_calls_to_simulate(db, books):
    within = books[1]
    planned = plan_import(db.session, within, username="u")
    assert planned.ok
    kinds = {m.key for doubt in planned.doubts for m in doubt["doubts"]}
    assert "over_commitment" not in kinds, kinds
    db.session.rollback()
    assert import_book(db.session, within, username="u", confirm_reason="生成的账本").ok
    book = load_book(db.session)
    as_of = dt.date(2023, 12, 31)
    result = forecast(book, "QY", as_of, paths=200, details=False)
    assert result["expected"]["calls_next_year"] > 0
    assert result["outlook"]["calls_next_year"]["p90"] > 0
