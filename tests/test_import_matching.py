"""Matching an imported book against the records in force (interchange.md, rules of an import):
changed rows are updated and audited, flows without a ref match as a multiset, voided records are
ignored, references resolve against the database, and the workbook's forms (Chinese headers, column
order, numeric codes, date cells, uploads) all read the same."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from sqlalchemy import func, select, update

from models import AuditEntry, CashFlow, Company, Investment, Valuation
from portfolio.interchange.importing import import_book
from tests.book_files import example_book, write_csv_book, write_xlsx_book
from tests.conftest import EXAMPLE_BOOK


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_changed_rows_are_updated_and_audited(db, tmp_path):
    assert import_book(db.session, EXAMPLE_BOOK, username="first").ok
    book = example_book()
    book["valuations"][3]["fair_value_cny"] = "165000000.50"  # QY-D1 2025-12-31
    book["companies"][0]["name"] = "甬智机器人股份有限公司"
    book["cash_flows"][0]["note"] = "第一期实缴（更正）"
    result = import_book(db.session, write_csv_book(tmp_path / "b", book), username="second")
    assert result.ok
    assert result.counts["valuations"] == {"new": 0, "unchanged": 4, "changed": 1}
    assert result.counts["companies"] == {"new": 0, "unchanged": 3, "changed": 1}
    assert result.counts["cash_flows"] == {"new": 0, "unchanged": 6, "changed": 1}
    value = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-D1",
                                                       Valuation.as_of == dt.date(2025, 12, 31))).scalar_one()
    assert value.fair_value_cny == Decimal("165000000.50") and value.approved_by == "second"
    assert db.session.get(Company, "C1").name == "甬智机器人股份有限公司"
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.batch == result.batch)).scalars().all()
    assert len(entries) == 3
    val_entry = next(e for e in entries if e.entity == "valuations")
    assert val_entry.entity_key == "QY-D1/2025-12-31"
    assert val_entry.before["fair_value_cny"] == "160000000.00"
    assert val_entry.after["fair_value_cny"] == "165000000.50"
    assert _count(db, CashFlow) == 7  # updated in place, nothing added


def test_import_never_deletes(db, tmp_path):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    book = example_book()
    book["cash_flows"] = book["cash_flows"][:2]
    book["valuations"] = []
    result = import_book(db.session, write_csv_book(tmp_path / "b", book), username="u")
    assert result.ok and result.counts["cash_flows"] == {"new": 0, "unchanged": 2, "changed": 0}
    assert _count(db, CashFlow) == 7 and _count(db, Valuation) == 5


def test_identical_flows_without_ref_match_as_a_multiset(db, tmp_path):
    book = example_book()
    twin = {"investment_id": "QY-D1", "date": "2024-05-20", "type": "contribution", "amount_cny": "1000",
            "note": "费用"}
    book["cash_flows"] += [dict(twin), dict(twin)]
    path = write_csv_book(tmp_path / "b", book)
    assert import_book(db.session, path, username="u").counts["cash_flows"]["new"] == 9
    again = import_book(db.session, path, username="u")
    assert again.counts["cash_flows"] == {"new": 0, "unchanged": 9, "changed": 0}
    book["cash_flows"].append(dict(twin))  # a third identical one is new
    third = import_book(db.session, write_csv_book(tmp_path / "c", book), username="u")
    assert third.counts["cash_flows"] == {"new": 1, "unchanged": 9, "changed": 0}
    assert _count(db, CashFlow, CashFlow.investment_id == "QY-D1", CashFlow.amount_cny == Decimal(1000)) == 3


def test_flows_with_ref_match_by_ref(db, tmp_path):
    book = example_book()
    book["cash_flows"][0]["ref"] = "CALL-1"
    assert import_book(db.session, write_csv_book(tmp_path / "a", book), username="u").ok
    book["cash_flows"][0]["amount_cny"] = "150000000.01"  # a corrected amount, same call notice
    result = import_book(db.session, write_csv_book(tmp_path / "b", book), username="u")
    assert result.counts["cash_flows"] == {"new": 0, "unchanged": 6, "changed": 1}
    flow = db.session.execute(select(CashFlow).where(CashFlow.ref == "CALL-1")).scalar_one()
    assert flow.amount_cny == Decimal("150000000.01")


def test_voided_records_are_ignored_for_matching(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    now = dt.datetime(2026, 1, 5)
    db.session.execute(update(CashFlow).where(CashFlow.investment_id == "QY-D1")
                       .values(voided_at=now, voided_by="m", void_reason="entered twice"))
    db.session.execute(update(Valuation).where(Valuation.investment_id == "QY-D1")
                       .values(voided_at=now, voided_by="m", void_reason="wrong"))
    db.session.commit()
    result = import_book(db.session, EXAMPLE_BOOK, username="u")
    assert result.counts["cash_flows"]["new"] == 2 and result.counts["valuations"]["new"] == 2
    assert _count(db, CashFlow, CashFlow.voided_at.is_(None)) == 7


def test_unapproved_valuation_matched_is_approved_by_the_import(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    db.session.execute(update(Valuation).values(approved_at=None, approved_by=None))
    db.session.commit()
    result = import_book(db.session, EXAMPLE_BOOK, username="checker")
    assert result.counts["valuations"] == {"new": 0, "unchanged": 0, "changed": 5}
    assert _count(db, Valuation, Valuation.approved_by == "checker") == 5


def test_a_book_may_refer_to_records_in_the_database(db, tmp_path):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    later = {"funds": [], "companies": [], "investments": [
        {"id": "QY-CO2", "fund_code": "QY", "mode": "co_invest", "target_code": "C4", "alongside_code": "SF1",
         "date": "2025-03-01", "commitment_cny": "8000000"}],
        "cash_flows": [{"investment_id": "QY-CO2", "date": "2025-03-01", "type": "contribution",
                        "amount_cny": "8000000"},
                       {"investment_id": "QY-D1", "date": "2025-10-01", "type": "distribution",
                        "amount_cny": "1000000.25"}]}
    path = write_csv_book(tmp_path / "later", later)
    result = import_book(db.session, path, username="u")
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts["investments"]["new"] == 1 and result.counts["cash_flows"]["new"] == 2


def test_flow_before_an_investment_in_the_database(db, tmp_path):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    book = {"funds": [], "companies": [], "investments": [],
            "cash_flows": [{"investment_id": "QY-D1", "date": "2023-06-29", "type": "contribution",
                            "amount_cny": "1"}]}
    path = write_csv_book(tmp_path / "b", book)
    result = import_book(db.session, path, username="u")
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("cash_flows", 2, "date")]


def test_xlsx_with_chinese_headers_reversed_columns_numeric_codes_and_date_cells(db, tmp_path):
    book = example_book()
    for c in book["companies"]:
        c["region_code"] = int(c["region_code"])  # Excel keeps 330206 as a number
        c["founded"] = dt.date.fromisoformat(c["founded"])  # a date cell
    book["companies"][0]["code"] = 330206  # a numeric company code
    book["investments"][1]["target_code"] = 330206
    for f in book["cash_flows"]:
        f["date"] = dt.datetime.fromisoformat(f["date"])
        f["amount_cny"] = float(f["amount_cny"])
    book["valuations"][0]["fair_value_cny"] = 1234.56
    path = write_xlsx_book(tmp_path / "b.xlsx", book, chinese=True, reverse_columns=True)
    result = import_book(db.session, path, username="u")
    assert result.ok, [str(e) for e in result.errors]
    company = db.session.get(Company, "330206")
    assert company.region_code == "330206" and company.founded == dt.date(2020, 5, 1)
    assert db.session.get(Investment, "QY-D1").company_code == "330206"
    assert _count(db, Valuation, Valuation.fair_value_cny == Decimal("1234.56")) == 1
    # the same workbook as an upload (file object) is the same book: all unchanged
    upload = import_book(db.session, io.BytesIO(path.read_bytes()), username="u", filename="b.xlsx")
    assert upload.ok and all(c["new"] == c["changed"] == 0 for c in upload.counts.values())


def test_unknown_sheet_is_an_error_but_an_empty_extra_sheet_is_not(db, tmp_path):
    book = example_book()
    book["cashflows"] = [{"investment_id": "QY-D1"}]  # a typo of cash_flows must not be dropped silently
    result = import_book(db.session, write_xlsx_book(tmp_path / "a.xlsx", book), username="u")
    assert [(e.sheet, e.message[:6]) for e in result.errors] == [("cashflows", "未知的工作表")]
    del book["cashflows"]
    book["Sheet1"] = None  # Excel's empty default sheet
    book["sub_fund_holdings"] = None  # a known sheet with no header row is an error
    result = import_book(db.session, write_xlsx_book(tmp_path / "b.xlsx", book), username="u")
    assert [(e.sheet, e.row) for e in result.errors] == [("sub_fund_holdings", 1)]


def test_chinese_sheet_names_and_chinese_codes_are_accepted(db, tmp_path):
    book = example_book()
    book["companies"][0]["sector"] = "机器人和高端装备"  # the Chinese name of `robotics`
    path = write_xlsx_book(tmp_path / "a.xlsx", {("被投企业" if k == "companies" else k): v for k, v in book.items()})
    result = import_book(db.session, path, username="u")
    assert result.ok, [str(e) for e in result.errors]
    assert db.session.get(Company, "C1").sector == "robotics"
