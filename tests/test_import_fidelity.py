"""What a book says is what the book holds: text that looks like a missing value stays
text, an optional column left out takes its default, and the audit trail of an import that
changes records is plain JSON (no NaN), on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import AuditEntry, Company, Fund
from portfolio.interchange.importing import import_book
from tests.book_files import example_book, write_csv_book, write_xlsx_book


# ("#N/A" typed in Excel is an error value, not text; openpyxl writes it as one too)
@pytest.mark.parametrize("text", ["NA", "N/A", "null", "None", "nan", "NaN"])
def test_text_that_looks_missing_is_kept_as_written(db, tmp_path, text):
    book = example_book()
    book["companies"][0]["name"] = text
    path = write_xlsx_book(tmp_path / "book.xlsx", book)
    result = import_book(db.session, path, username="u")
    assert result.ok, [str(e) for e in result.errors]
    code = book["companies"][0]["code"]
    assert db.session.get(Company, code).name == text


def test_an_optional_column_left_out_takes_its_default(db, tmp_path):
    book = example_book()
    for row in book["funds"]:
        row.pop("currency", None)
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="u")
    assert result.ok, [str(e) for e in result.errors]
    assert {f.currency for f in db.session.execute(select(Fund)).scalars()} == {"CNY"}


def test_an_import_that_changes_records_audits_plain_json(db, tmp_path):
    book = example_book()
    assert import_book(db.session, write_csv_book(tmp_path / "a", book), username="u").ok
    book["funds"][0]["name"] = book["funds"][0]["name"] + "（更名）"
    book["investments"][0]["round"] = "Pre-A轮"
    result = import_book(db.session, write_csv_book(tmp_path / "b", book), username="u")
    assert result.ok, [str(e) for e in result.errors]
    updates = db.session.execute(select(AuditEntry).where(AuditEntry.action == "import_update")).scalars().all()
    assert {u.entity for u in updates} >= {"funds", "investments"}
    for entry in updates:
        text = json.dumps({"before": entry.before, "after": entry.after}, allow_nan=False)  # NaN would raise
        assert "NaN" not in text
    fund = next(u for u in updates if u.entity == "funds")
    assert fund.before["parent_code"] is None and fund.after["name"].endswith("（更名）")


def test_an_xlsx_with_a_blank_optional_cell_still_imports(db, tmp_path):
    book = example_book()
    book["funds"][0]["currency"] = ""
    result = import_book(db.session, write_xlsx_book(tmp_path / "book.xlsx", book), username="u")
    assert result.ok, [str(e) for e in result.errors]
    assert db.session.get(Fund, book["funds"][0]["code"]).currency == "CNY"


def test_a_name_that_begins_with_equals_is_exported_as_text_and_imports_back(db, tmp_path):
    from openpyxl import load_workbook

    from portfolio.interchange.exporting import export_book

    book = example_book()
    formula = '=HYPERLINK("http://evil.example","点击")'
    book["companies"][0]["name"] = formula
    assert import_book(db.session, write_csv_book(tmp_path / "a", book), username="u").ok
    path = tmp_path / "out.xlsx"
    export_book(db.session, path)
    sheet = load_workbook(path)["companies"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value == formula]
    assert cells and all(c.data_type == "s" for c in cells)  # text, not a formula
    again = import_book(db.session, path, username="u")
    assert again.ok and all(c["changed"] == 0 for c in again.counts.values())


def test_the_history_filter_import_shows_the_rows_an_import_updated(db, tmp_path, as_role):
    import re

    book = example_book()
    assert import_book(db.session, write_csv_book(tmp_path / "a", book), username="u").ok
    book["funds"][0]["name"] = "改名后的基金"
    assert import_book(db.session, write_csv_book(tmp_path / "b", book), username="u").ok
    client = as_role("viewer")
    page = client.get("/history?action=import&entity=funds").get_data(as_text=True)
    assert len(re.findall(r"<tr data-entry=", page)) == 2  # the first import's row and the update
    assert "导入更新" in page and "改名后的基金" in page
