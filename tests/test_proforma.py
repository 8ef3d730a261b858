"""Pro forma: the book as it would be after a proposed deal, and the failures it introduces."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portfolio.book.reading import load_book
from portfolio.figures.proforma import failures_introduced, with_investment
from portfolio.figures.rules import check
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv

D = dt.date(2025, 12, 31)
NEW_COMPANY = {"code": "C9", "name": "甬新科技有限公司", "credit_code": "91330206MA2H0000X0",
               "sector": "digital", "region_code": "330201", "founded": "2024-01-01"}


def _dtypes(frame):
    return {k: str(v) for k, v in frame.dtypes.items()}



@pytest.fixture(params=["csv", "database"])
def book(request):
    if request.param == "csv":
        return book_from_csv(EXAMPLE_BOOK)
    db = request.getfixturevalue("db")
    assert not import_book(db.session, EXAMPLE_BOOK, username="test").errors
    return load_book(db.session)


def test_with_investment_adds_rows_to_copies_keeping_dtypes(book):
    before = {n: (len(getattr(book, n)), _dtypes(getattr(book, n))) for n in ("investments", "flows", "companies")}
    after = with_investment(book, {"id": "QY-D2", "fund_code": "QY", "mode": "direct", "target_code": "C9",
                                   "date": dt.date(2025, 12, 1), "commitment_cny": Decimal("20000000"),
                                   "ownership_pct": "12.5", "stage": "startup"},
                            contribution_fen=1_000_000_000, company=NEW_COMPANY)
    for name, (rows, dtypes) in before.items():
        assert len(getattr(book, name)) == rows          # the book passed in is untouched
        assert len(getattr(after, name)) == rows + 1
        assert _dtypes(getattr(after, name)) == dtypes
    row = after.investments[after.investments["id"] == "QY-D2"].iloc[0]
    assert row["commitment_fen"] == 2_000_000_000 and row["ownership_pct"] == Decimal("12.5")
    assert row["date"] == dt.datetime(2025, 12, 1) and row["stage"] == "startup"
    flow = after.flows[after.flows["investment_id"] == "QY-D2"].iloc[0]
    assert (flow["type"], int(flow["amount_fen"]), flow["date"]) == ("contribution", 1_000_000_000,
                                                                     dt.datetime(2025, 12, 1))
    # the pro-forma book is checked like any other: a new pass for C9, nothing else changes
    results = check(after, "QY", D)
    c9 = [r for r in results if r["subject"] == "C9"][0]
    assert c9["rule"] == "single_company_cap" and c9["value"] == pytest.approx(10_000_000 / 100_000_000_000)
    assert failures_introduced(check(book, "QY", D), results) == []


def test_a_deal_that_breaks_rules_lists_exactly_the_new_failures(book):
    before = check(book, "QY", D)
    # a 6,000,000,000 debt deal for 40 % of an existing company (C1, already held by QY-D1)
    after = check(with_investment(book, {"id": "QY-D2", "fund_code": "QY", "mode": "direct", "target_code": "C1",
                                         "date": "2025-12-01", "commitment_fen": 600_000_000_000,
                                         "ownership_pct": 40, "instrument": "debt"},
                                  contribution_fen=600_000_000_000), "QY", D)
    new = failures_introduced(before, after)
    assert {(r["rule"], r["subject"]) for r in new} == {
        ("prohibited_instrument", "QY-D2"), ("ownership_cap", "QY-D2"), ("single_company_cap", "C1")}
    c1 = [r for r in new if r["subject"] == "C1"][0]
    assert c1["value"] == pytest.approx((100_000_000 + 6_000_000_000) / 100_000_000_000)


def test_a_new_sub_fund_target_is_added():
    book = book_from_csv(EXAMPLE_BOOK)
    after = with_investment(book, {"id": "QY-SF2", "fund_code": "QY", "mode": "sub_fund", "target_code": "SF2",
                                   "date": "2025-12-01", "commitment_cny": "350000000"},
                            sub_fund={"code": "SF2", "name": "甬芯基金", "manager": "GP", "size_cny": "1000000000",
                                      "vintage_year": 2025, "sector": "digital", "region_code": "330201"})
    assert len(after.sub_funds) == len(book.sub_funds) + 1
    assert _dtypes(after.sub_funds) == _dtypes(book.sub_funds)
    new = failures_introduced(check(book, "QY", D), check(after, "QY", D))
    assert [(r["rule"], r["subject"], r["value"]) for r in new] == [("subfund_share_cap", "QY-SF2", 0.35)]
    # no report and nothing paid in yet: the sub-fund's own checks warn, they do not fail
    statuses = {r["rule"]: r["status"] for r in check(after, "QY", D) if r["subject"] == "SF2"}
    assert statuses == {"subfund_single_company_cap": "warn", "reinvestment_multiple": "warn"}


def test_an_existing_target_is_not_duplicated_and_an_existing_id_is_refused():
    book = book_from_csv(EXAMPLE_BOOK)
    after = with_investment(book, {"id": "QY-D2", "fund_code": "QY", "mode": "direct", "company_code": "C1",
                                   "date": "2025-12-01", "commitment_cny": "1"}, company={**NEW_COMPANY, "code": "C1"})
    assert len(after.companies) == len(book.companies)
    assert after.investments.iloc[-1]["target_code"] == "C1"
    with pytest.raises(ValueError):
        with_investment(book, {"id": "QY-D1", "fund_code": "QY", "mode": "direct", "target_code": "C1",
                               "date": "2025-12-01", "commitment_cny": "1"})


def test_failures_introduced_matches_by_rule_and_subject():
    f = lambda rule, subject, status: {"rule": rule, "subject": subject, "status": status}  # noqa: E731
    before = [f("ownership_cap", "I1", "fail"), f("ownership_cap", "I2", "warn"), f("single_company_cap", "C1", "pass")]
    after = [f("ownership_cap", "I1", "fail"), f("ownership_cap", "I2", "fail"), f("single_company_cap", "C1", "fail"),
             f("ownership_cap", "I3", "fail"), f("ownership_cap", "I4", "pass")]
    assert failures_introduced(before, after) == after[1:4]


def test_pro_forma_on_a_database_book_with_empty_tables(db):
    # a new fund's first deal: every table but funds is empty in the database
    from models import Fund

    db.session.add(Fund(code="NEW", name="新基金", kind="angel_guidance", size_cny=Decimal("1000000000"),
                        vintage_year=2025, settings={}))
    db.session.commit()
    book = load_book(db.session)
    assert check(book, "NEW", D) == [{"rule": "direct_share_cap", "subject": "NEW", "status": "pass", "value": 0.0,
                                      "limit": 0.3, "message": check(book, "NEW", D)[0]["message"]}]
    after = with_investment(book, {"id": "NEW-1", "fund_code": "NEW", "mode": "direct", "target_code": "C9",
                                   "date": "2025-06-30", "commitment_cny": "60000000", "headcount": 20,
                                   "revenue_cny": "5000000", "total_assets_cny": "8000000", "ownership_pct": 10},
                            contribution_fen=6_000_000_000, company=NEW_COMPANY)
    assert len(after.investments) == 1 and len(after.flows) == 1 and len(after.companies) == 1
    statuses = {r["rule"]: r["status"] for r in check(after, "NEW", D)}
    assert statuses == {"prohibited_instrument": "pass", "ownership_cap": "pass", "angel_company_age": "pass",
                        "angel_headcount": "pass", "angel_company_size": "pass", "direct_share_cap": "pass",
                        "single_company_cap": "fail"}   # 60m paid into C9 is 6 % of a 1bn fund
