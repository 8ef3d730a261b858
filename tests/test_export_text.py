"""Text stays text on export (issue 12, Deliver 6): the interchange CSV escapes a cell that
begins with =, +, -, @ as OWASP's "CSV Injection" page recommends (a leading single quote),
only in text columns, and the import takes exactly that escape off again, so the round trip
gives back the names that went in; the xlsx writes them as string cells."""
from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import CashFlow, Company, SubFund
from portfolio.interchange.exporting import export_book
from portfolio.interchange.importing import import_book
from portfolio.interchange.schema import csv_escape
from tests.book_files import credit_code, example_book, write_csv_book

NAMES = ['=HYPERLINK("http://evil.example","点击")', "+86 宁波电子", "-减号科技", "@提及公司",
         "'=已带引号", "''+两个引号", "'普通引号", "中间=等号", "=1+2"]


@pytest.mark.parametrize(("text", "escaped"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@a", "'@a"), ("\tx", "'\tx"),
    ("'=x", "''=x"), ("'x", "'x"), ("a=b", "a=b"), ("", "")])
def test_the_escape_is_owasp_and_reversible(text, escaped):
    assert csv_escape(text) == escaped


def _book_with_names():
    book = example_book()
    while len(book["companies"]) < len(NAMES) - 1:  # one name is the sub-fund manager's
        n = len(book["companies"])
        book["companies"].append({**book["companies"][0], "code": f"CX{n}", "credit_code": credit_code(n)})
    # written as a CSV must write them: escaped (a bare "'=x" in a CSV means "=x")
    for row, name in zip(book["companies"], NAMES, strict=False):
        row["name"] = csv_escape(name)
    book["sub_funds"][0]["manager"] = csv_escape(NAMES[-1])
    notes = ["-第二期（更正）", "=SUM(A1:A9)", "+补缴"]
    for row, note in zip(book["cash_flows"], notes, strict=False):
        row["note"] = csv_escape(note)
    return book, notes


def test_a_csv_export_escapes_formulas_and_imports_back_the_same_names(db, tmp_path):
    book, notes = _book_with_names()
    assert import_book(db.session, write_csv_book(tmp_path / "in", book), username="u").ok
    names = dict(db.session.execute(select(Company.code, Company.name)).all())
    managers = dict(db.session.execute(select(SubFund.code, SubFund.manager)).all())
    assert set(NAMES) == set(names.values()) | set(managers.values())

    out = tmp_path / "out"
    export_book(db.session, out)
    with open(out / "companies.csv", encoding="utf-8") as fh:
        written = {r["code"]: r["name"] for r in csv.DictReader(fh)}
    for code, name in names.items():
        assert written[code] == csv_escape(name)
        assert written[code] == "" or written[code][0] not in "=+-@"  # no cell starts a formula
    with open(out / "sub_funds.csv", encoding="utf-8") as fh:
        assert {r["code"]: r["manager"] for r in csv.DictReader(fh)} == {
            code: csv_escape(m) for code, m in managers.items()}
    with open(out / "cash_flows.csv", encoding="utf-8") as fh:
        flows = list(csv.DictReader(fh))
    assert all(f["note"] == "" or f["note"][0] not in "=+-@" for f in flows)
    # numbers stay numbers: amounts are written bare, never quoted
    assert all(f["amount_cny"][0].isdigit() for f in flows)

    # into an empty database: the same names and notes come back
    db.session.remove()
    db.drop_all()
    db.create_all()
    result = import_book(db.session, out, username="u")
    assert result.ok, [str(e) for e in result.errors[:5]]
    assert dict(db.session.execute(select(Company.code, Company.name)).all()) == names
    assert dict(db.session.execute(select(SubFund.code, SubFund.manager)).all()) == managers
    assert set(notes) <= set(db.session.execute(select(CashFlow.note)).scalars())
    # and a second import of the export changes nothing
    again = import_book(db.session, out, username="u")
    assert again.ok and all(c["changed"] == 0 and c["new"] == 0 for c in again.counts.values())


def test_an_xlsx_export_writes_every_name_as_a_string_cell(db, tmp_path):
    book, _notes = _book_with_names()
    assert import_book(db.session, write_csv_book(tmp_path / "in", book), username="u").ok
    path = tmp_path / "out.xlsx"
    export_book(db.session, path)
    sheet = load_workbook(path)["companies"]
    cells = {c.value: c for row in sheet.iter_rows(min_row=2) for c in row}
    cells.update({c.value: c for row in load_workbook(path)["sub_funds"].iter_rows(min_row=2) for c in row})
    for name in NAMES:
        assert cells[name].data_type == "s", name
    again = import_book(db.session, path, username="u")
    assert again.ok and all(c["changed"] == 0 for c in again.counts.values())
