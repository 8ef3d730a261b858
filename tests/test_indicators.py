"""绩效评价 indicators on a small synthetic book whose figures are worked by hand below,
and on the worked example (spec/example/README.md's figures)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portfolio.figures.indicators import LABELS, performance_indicators
from portfolio.figures.rules import check
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv
from tests.rules_factories import SyntheticBook

D = dt.date(2025, 12, 31)


def hand_book():
    return (SyntheticBook().fund("F", size_cny="10000000000")
            .sub_fund("SF1", size_cny="1000000000", vintage_year=2023)
            .sub_fund("SF2", size_cny="500000000", vintage_year=2024)
            .company("C1", region_code="330206").company("C2", region_code="310115")
            .company("C3", region_code="330203").company("C4", region_code="330106")
            .company("C5", region_code="330212").company("C6", region_code="440305")
            .investment("S1", "SF1", mode="sub_fund", date="2023-03-01", commitment_cny="200000000")
            .investment("S2", "SF2", mode="sub_fund", date="2024-03-01", commitment_cny="100000000")
            .investment("D1", "C1", date="2023-05-01", commitment_cny="50000000", stage="seed", ownership_pct=10)
            .investment("D2", "C2", date="2023-06-01", commitment_cny="60000000", stage="growth", ownership_pct=10)
            .investment("CO1", "C3", mode="co_invest", alongside="SF1", date="2024-01-01",
                        commitment_cny="20000000", stage="startup", ownership_pct=5, lead_amount_cny="40000000")
            .investment("D3", "C4", date="2024-02-01", commitment_cny="10000000", ownership_pct=50)
            .investment("LATE", "C1", date="2026-01-05", commitment_cny="999000000", stage="seed")
            .flow("S1", "2023-03-01", "100000000").flow("S2", "2024-03-01", "50000000")
            .flow("D1", "2023-05-01", "40000000").flow("D2", "2023-06-01", "60000000")
            .flow("CO1", "2024-01-01", "20000000").flow("D3", "2024-02-01", "10000000")
            .flow("S1", "2026-01-10", "100000000")                       # after D
            .flow("D1", "2025-06-01", "5000000", type="distribution")    # paid_in is gross
            .valuation("D2", "2025-06-30", "0", method="write_off")
            .valuation("D1", "2025-03-31", "0", method="write_off")
            .valuation("D1", "2025-09-30", "30000000", method="last_round")  # written back: not a loss
            .holding("SF1", "2025-09-30", "C1", "120000000").holding("SF1", "2025-09-30", "C5", "80000000")
            .holding("SF1", "2025-09-30", "C6", "100000000")
            .holding("SF1", "2025-06-30", "C5", "999000000")             # an older report: not used
            .book())


def test_indicators_worked_by_hand():
    ind = performance_indicators(hand_book(), "F", D)
    # sub-funds 1,000m + 500m over our commitments 200m + 100m
    assert ind["leverage_multiple"]["value"] == pytest.approx(5.0)
    assert ind["leverage_multiple"]["sub_fund_size"] == Decimal("1500000000.00")
    # local cost: SF1 120m (C1) + 80m (C5), SF2 no report (0); required 1.5 × (100m + 50m) = 225m
    assert ind["reinvestment_completion"]["value"] == pytest.approx(200 / 225)
    assert ind["reinvestment_completion"]["required"] == Decimal("225000000.00")
    sf = {row["sub_fund"]: row for row in ind["sub_funds"]}
    assert sf["SF1"]["reinvestment_completion"] == pytest.approx(200 / 150)
    assert sf["SF1"]["reinvestment_multiple"] == pytest.approx(2.0)
    assert sf["SF2"]["reinvestment_completion"] is None and sf["SF2"]["investment_progress"] is None
    # paid_in 100+50+40+60+20+10 = 280m over commitments 200+100+50+60+20+10 = 440m
    assert ind["paid_in_ratio"]["value"] == pytest.approx(280 / 440)
    assert ind["paid_in_ratio"]["paid_in"] == Decimal("280000000.00")
    # SF1 invested 300m of 1,000m; total 300m of 1,500m
    assert sf["SF1"]["investment_progress"] == pytest.approx(0.3)
    assert ind["sub_fund_investment_progress"]["value"] == pytest.approx(0.2)
    # seed D1 40m + startup CO1 20m over direct & co-invest paid_in 40+60+20+10 = 130m
    assert ind["early_stage_share"]["value"] == pytest.approx(60 / 130)
    # local: directly C1, C3; through SF1's latest report C1, C5 → 3 distinct
    assert (ind["local_companies"]["value"], ind["local_companies"]["direct"],
            ind["local_companies"]["through_sub_funds"]) == (3, 2, 2)
    # written off at D: D2 (paid 60m) only, D1 was revalued after its write-off
    assert ind["realised_loss_ratio"]["value"] == pytest.approx(60 / 280)
    assert ind["realised_loss_ratio"]["investments"] == ["D2"]
    # exceptions: D3's 50 % ownership only (SF1/SF2 returns are within their investment period)
    fails = [r for r in check(hand_book(), "F", D) if r["status"] == "fail"]
    assert [(r["rule"], r["subject"]) for r in fails] == [("ownership_cap", "D3")]
    assert ind["compliance_exceptions"]["value"] == 1
    for key, text in LABELS.items():
        assert ind[key]["label"] == text


def test_indicators_undefined_are_none_not_zero():
    book = SyntheticBook().fund("F").company("C1").investment("D1", "C1", commitment_cny="0").book()
    ind = performance_indicators(book, "F", D)
    for key in ("leverage_multiple", "reinvestment_completion", "paid_in_ratio", "sub_fund_investment_progress",
                "early_stage_share", "realised_loss_ratio"):
        assert ind[key]["value"] is None, key
    assert ind["local_companies"]["value"] == 1 and ind["compliance_exceptions"]["value"] == 0


def test_indicators_on_the_example_book():
    # README: SF1 local cost 300m over our paid_in 400m, required 1.5 → 0.5; leverage 2,000m / 500m
    ind = performance_indicators(book_from_csv(EXAMPLE_BOOK), "QY", D)
    assert ind["leverage_multiple"]["value"] == pytest.approx(4.0)
    assert ind["reinvestment_completion"]["value"] == pytest.approx(0.5)
    assert ind["paid_in_ratio"]["value"] == pytest.approx(530 / 630)
    assert ind["sub_fund_investment_progress"]["value"] == pytest.approx(500 / 2000)
    assert ind["compliance_exceptions"]["value"] == 0


def test_checks_passed_in_are_used():
    book = hand_book()
    fake_fails = [{"rule": "x", "subject": "y", "status": "fail"}] * 4
    assert performance_indicators(book, "F", D, checks=fake_fails)["compliance_exceptions"]["value"] == 4
