"""Each record-level rule is defined once (portfolio/record_rules.py) and every way in —
the form use case, the committee's proposal and the workbook import — refuses the same
record with the same message."""
from __future__ import annotations

from decimal import Decimal

import pytest

from models import SubFund
from portfolio import record_rules as rr
from portfolio.book import records
from portfolio.committee import proposals
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book
from tests.book_files import example_book, write_csv_book
from tests.conftest import EXAMPLE_BOOK


@pytest.mark.parametrize("code, ok", [("330206", True), ("33020", False), ("3302061", False), ("33020a", False),
                                      ("３３０２０６", False), ("", False), (None, False)])
def test_region_code(code, ok):
    assert rr.region_code_ok(code) is ok


def test_region_code_mask_means_the_same_as_the_predicate():
    import pandas as pd

    values = ["330206", "33020", "3302061", "33020a", "３３０２０６", "", None]
    assert rr.region_code_mask(pd.Series(values, dtype=object)).tolist() == [rr.region_code_ok(v) for v in values]


@pytest.mark.parametrize("pct, ok", [(None, True), (Decimal(0), True), (Decimal(100), True),
                                     (Decimal("100.0001"), False), (Decimal("-0.01"), False)])
def test_ownership(pct, ok):
    assert rr.ownership_ok(pct) is ok


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    # a sub-fund in the book that fund QY does not hold
    db.session.add(SubFund(code="SF2", name="另一只子基金", manager="某资本", size_cny=Decimal(10**9),
                           vintage_year=2024, sector="digital", region_code="330201", term_years=8))
    db.session.commit()
    return db.session


def _messages(error: FieldErrors, field: str) -> list[str]:
    return [m for f, m in error.errors if f == field]


def test_co_investing_alongside_a_sub_fund_the_fund_does_not_hold_is_refused_everywhere(book, tmp_path):
    deal = {"id": "QY-CO9", "fund_code": "QY", "mode": "co_invest", "target_code": "C1", "alongside_code": "SF2",
            "date": "2025-10-15", "commitment_cny": "1000000", "lead_amount_cny": "2000000"}
    with pytest.raises(FieldErrors) as form:
        records.record_investment(book, deal, username="mgr")
    assert _messages(form.value, "alongside_code") == [rr.COINVEST_NOT_HELD]

    proposal = {"title": "跟投", "fund_code": "QY", "mode": "co_invest", "target_code": "C1",
                "alongside_code": "SF2", "planned_date": "2025-12-15", "amount_cny": "1000000",
                "lead_amount_cny": "2000000", "lead_name": "某资本"}
    with pytest.raises(FieldErrors) as committee:
        proposals.create_proposal(book, proposal, username="mgr")
    assert _messages(committee.value, "alongside_code") == [rr.COINVEST_NOT_HELD]

    workbook = example_book()
    workbook["sub_funds"].append({**workbook["sub_funds"][0], "code": "SF2"})
    workbook["investments"].append({**{k: "" for k in workbook["investments"][0]}, **deal})
    result = import_book(book, write_csv_book(tmp_path / "book", workbook), username="loader")
    assert [(e.sheet, e.column, e.message) for e in result.errors] == \
        [("investments", "alongside_code", rr.COINVEST_NOT_HELD)]


def test_a_bad_region_code_has_one_message_on_the_form_the_proposal_and_the_import(book, tmp_path):
    with pytest.raises(FieldErrors) as form:
        records.record_company(book, {"code": "C9", "name": "企业", "credit_code": "", "sector": "digital",
                                      "region_code": "33020"}, username="mgr")
    assert _messages(form.value, "region_code") == [rr.REGION_CODE_MESSAGE]

    proposal = {"title": "新企业", "fund_code": "QY", "mode": "direct", "target_code": "C9", "new_target": "y",
                "target_name": "新企业", "target_sector": "digital", "target_region_code": "33020",
                "planned_date": "2025-12-15", "amount_cny": "1000000"}
    with pytest.raises(FieldErrors) as committee:
        proposals.create_proposal(book, proposal, username="mgr")
    assert _messages(committee.value, "target_region_code") == [rr.REGION_CODE_MESSAGE]

    workbook = example_book()
    workbook["companies"][0]["region_code"] = "33020"
    result = import_book(book, write_csv_book(tmp_path / "book", workbook), username="loader")
    assert [(e.sheet, e.column, e.message) for e in result.errors] == \
        [("companies", "region_code", rr.REGION_CODE_MESSAGE)]
