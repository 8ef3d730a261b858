"""Export of the book in force, and the round trip (interchange.md): export, import into an empty
database, and the same book comes back; a second import of the export is all unchanged."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from models import CashFlow, Company, Fund, Investment, SubFund, SubFundHolding, Valuation
from portfolio.interchange.demo import write_demo_book
from portfolio.interchange.exporting import export_book, template_workbook
from portfolio.interchange.importing import import_book
from portfolio.interchange.schema import SHEETS
from portfolio.interchange.synthetic import generate_heavy_book
from portfolio.vocabulary import LABELS, MODES
from tests.conftest import EXAMPLE_BOOK


def dump(session) -> dict[str, list[tuple]]:
    """Every table's rows in force, without surrogate ids or approval stamps."""
    def rows(model, cols, *where):
        stmt = select(*[getattr(model, c) for c in cols]).where(*where)
        return sorted(tuple(r) for r in session.execute(stmt).all())

    return {
        "funds": rows(Fund, ["code", "name", "name_en", "kind", "parent_code", "size_cny", "vintage_year",
                             "currency"]),
        "sub_funds": rows(SubFund, [c.name for c in SHEETS["sub_funds"]]),
        "companies": rows(Company, [c.name for c in SHEETS["companies"]]),
        "investments": rows(Investment, ["id", "fund_code", "mode", "sub_fund_code", "company_code",
                                         "alongside_code", "date", "commitment_cny", "round", "ownership_pct",
                                         "instrument", "stage", "headcount", "revenue_cny", "total_assets_cny",
                                         "lead_amount_cny"]),
        "cash_flows": [tuple("" if v is None else v for v in r) for r in rows(
            CashFlow, ["investment_id", "date", "type", "amount_cny", "note", "ref"], CashFlow.voided_at.is_(None))],
        "valuations": rows(Valuation, ["investment_id", "as_of", "fair_value_cny", "method"],
                           Valuation.voided_at.is_(None), Valuation.approved_at.is_not(None)),
        "sub_fund_holdings": rows(SubFundHolding, [c.name for c in SHEETS["sub_fund_holdings"]]),
    }


def _fresh(db):
    db.session.remove()
    db.drop_all()
    db.create_all()


@pytest.fixture(scope="module")
def richer_books(tmp_path_factory):
    base = tmp_path_factory.mktemp("books")
    return {
        "example": EXAMPLE_BOOK,
        "demo": write_demo_book(base / "demo.xlsx"),
        "heavy_small": generate_heavy_book(base / "heavy", investments=60, flows=600, valuations=240,
                                           holdings=300, seed=3),
    }


FORMATS = [("xlsx", False), ("xlsx", True), ("csv", False), ("csv", True)]


@pytest.mark.parametrize("source", ["example", "demo", "heavy_small"])
@pytest.mark.parametrize("fmt,chinese", FORMATS, ids=["xlsx-en", "xlsx-zh", "csv-en", "csv-zh"])
def test_round_trip(db, tmp_path, richer_books, source, fmt, chinese):
    assert import_book(db.session, richer_books[source], username="u").ok
    before = dump(db.session)
    target = tmp_path / ("book.xlsx" if fmt == "xlsx" else "book")
    counts = export_book(db.session, target, chinese_headers=chinese)
    assert counts == {sheet: len(rows) for sheet, rows in before.items()}

    _fresh(db)
    first = import_book(db.session, target, username="u")
    assert first.ok, [str(e) for e in first.errors[:5]]
    assert dump(db.session) == before
    second = import_book(db.session, target, username="u")
    assert all(c["new"] == 0 and c["changed"] == 0 for c in second.counts.values())
    assert sum(c["unchanged"] for c in second.counts.values()) == sum(len(r) for r in before.values())


def test_export_leaves_out_voided_and_unapproved(db, tmp_path):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    db.session.execute(update(CashFlow).where(CashFlow.investment_id == "QY-D1")
                       .values(voided_at=dt.datetime(2026, 1, 2), voided_by="m", void_reason="duplicate"))
    db.session.execute(update(Valuation).where(Valuation.investment_id == "QY-D1",
                                               Valuation.as_of == dt.date(2025, 12, 31))
                       .values(approved_at=None, approved_by=None))
    db.session.commit()
    export_book(db.session, tmp_path / "out")
    with open(tmp_path / "out" / "cash_flows.csv", encoding="utf-8") as fh:
        flows = list(csv.DictReader(fh))
    with open(tmp_path / "out" / "valuations.csv", encoding="utf-8") as fh:
        values = list(csv.DictReader(fh))
    assert len(flows) == 5 and all(f["investment_id"] != "QY-D1" for f in flows)
    assert ("QY-D1", "2025-12-31") not in {(v["investment_id"], v["as_of"]) for v in values}
    assert len(values) == 4


def test_csv_amounts_are_plain_decimals_and_dates_iso(db, tmp_path):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    db.session.add(CashFlow(investment_id="QY-D1", date=dt.date(2025, 1, 2), type="contribution",
                            amount_cny=Decimal("1234.56"), note="费用", approved_at=dt.datetime(2025, 1, 3)))
    db.session.commit()
    export_book(db.session, tmp_path / "out")
    text = (tmp_path / "out" / "cash_flows.csv").read_text(encoding="utf-8")
    assert "2023-03-31,contribution,150000000," in text
    assert ",1234.56," in text and "e+" not in text and ".0," not in text
    inv = (tmp_path / "out" / "investments.csv").read_text(encoding="utf-8")
    assert "QY-SF1,QY,sub_fund,SF1,,2023-03-31,500000000,,25," in inv


def test_xlsx_amounts_are_numeric_cells_and_chinese_headers(db, tmp_path):
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    out = io.BytesIO()
    export_book(db.session, out, chinese_headers=True)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    # the book's sheets, and the hidden version stamp an upload is checked against (stale writes)
    assert wb.sheetnames == list(SHEETS) + ["_meta"] and wb["_meta"].sheet_state == "hidden"
    ws = wb["cash_flows"]
    assert [c.value for c in ws[1]] == ["投资编号", "日期", "类型", "金额", "备注", "凭证号"]
    amounts = [row[3] for row in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "n" for c in amounts) and 150000000 in [c.value for c in amounts]
    assert all(c.number_format == "#,##0.00" for c in amounts)  # 元, with separators (interchange.md)
    # dates are date cells shown as YYYY-MM-DD (interchange.md: Excel date cells are accepted too)
    dates = [row[1] for row in ws.iter_rows(min_row=2)]
    assert all(isinstance(c.value, dt.datetime) and c.number_format == "yyyy-mm-dd" for c in dates)
    assert dt.datetime(2023, 3, 31) in [c.value for c in dates]
    assert wb["companies"]["E2"].value == "330206"  # codes stay text


@pytest.mark.parametrize("chinese", [True, False])
def test_xlsx_sheets_have_frozen_headers_widths_and_drop_downs(db, tmp_path, chinese):
    """Every sheet: header frozen, columns wide enough for their header, a drop-down of the
    allowed values on each coded column (every value of it imports: codes and Chinese names)."""
    assert import_book(db.session, EXAMPLE_BOOK, username="u").ok
    out = io.BytesIO()
    export_book(db.session, out, chinese_headers=chinese)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    for sheet, cols in SHEETS.items():
        ws = wb[sheet]
        assert ws.freeze_panes == "A2", sheet
        for index in range(1, len(cols) + 1):
            letter = ws.cell(row=1, column=index).column_letter
            head = ws.cell(row=1, column=index).value
            assert ws.column_dimensions[letter].width >= len(head) + 2, (sheet, head)
        lists = {str(v.sqref): v for v in ws.data_validations.dataValidation}
        coded = [(i, c) for i, c in enumerate(cols, start=1) if c.kind == "vocab"]
        assert len(lists) == len(coded), sheet
        for index, col in coded:
            letter = ws.cell(row=1, column=index).column_letter
            validation = lists[f"{letter}2:{letter}1048576"]
            assert validation.type == "list" and validation.showErrorMessage
            allowed = validation.formula1.strip('"').split(",")
            assert set(col.vocab) <= set(allowed), (sheet, col.name)
    # every value a drop-down offers imports: a book written in the Chinese names of the codes
    investments = wb["investments"]
    mode_col = [c.name for c in SHEETS["investments"]].index("mode") + 1
    validation = next(v for v in investments.data_validations.dataValidation
                      if str(v.sqref).startswith(investments.cell(row=1, column=mode_col).column_letter))
    assert set(validation.formula1.strip('"').split(",")) == {*MODES, *(LABELS["mode"][m] for m in MODES)}
    for row in range(2, investments.max_row + 1):
        cell = investments.cell(row=row, column=mode_col)
        cell.value = LABELS["mode"][cell.value]
    changed = io.BytesIO()
    wb.save(changed)
    _fresh(db)
    result = import_book(db.session, io.BytesIO(changed.getvalue()), username="u", filename="book.xlsx")
    assert result.ok, [str(e) for e in result.errors[:5]]
    assert {m for (m,) in db.session.execute(select(Investment.mode))} == {"sub_fund", "direct", "co_invest"}


def test_export_of_one_fund_takes_its_descendants_and_what_they_reference(db, tmp_path):
    path = write_demo_book(tmp_path / "demo.xlsx")
    assert import_book(db.session, path, username="u").ok
    counts = export_book(db.session, tmp_path / "qy.xlsx", fund_code="QY")
    funds = {r[0] for r in db.session.execute(select(Fund.code))}
    assert funds == {"QY", "QY-CL", "TS"} and counts["funds"] == 2
    inv_qy = db.session.execute(select(Investment).where(Investment.fund_code.in_(["QY", "QY-CL"]))).scalars().all()
    assert counts["investments"] == len(inv_qy)
    used_sf = {i.sub_fund_code for i in inv_qy} | {i.alongside_code for i in inv_qy}
    assert counts["sub_funds"] == len(used_sf - {None})
    _fresh(db)
    result = import_book(db.session, tmp_path / "qy.xlsx", username="u")
    assert result.ok, [str(e) for e in result.errors[:5]]  # the part is a complete book by itself
    assert {r[0] for r in db.session.execute(select(Fund.code))} == {"QY", "QY-CL"}


def test_export_of_a_child_fund_carries_its_parent_and_imports_on_its_own(db, tmp_path):
    """QY-CL's book names its parent QY: the export carries QY's row (and none of QY's own
    holdings), so it imports into an empty database (it had failed: unknown parent fund), and
    back into the book it came from unchanged."""
    path = write_demo_book(tmp_path / "demo.xlsx")
    assert import_book(db.session, path, username="u").ok
    counts = export_book(db.session, tmp_path / "cl.xlsx", fund_code="QY-CL")
    assert counts["funds"] == 2
    child = db.session.execute(select(Investment).where(Investment.fund_code == "QY-CL")).scalars().all()
    assert counts["investments"] == len(child) > 0
    again = import_book(db.session, tmp_path / "cl.xlsx", username="u")
    assert again.ok and all(c["changed"] == 0 and c["new"] == 0 for c in again.counts.values())
    _fresh(db)
    result = import_book(db.session, tmp_path / "cl.xlsx", username="u")
    assert result.ok, [str(e) for e in result.errors[:5]]
    assert dict(db.session.execute(select(Fund.code, Fund.parent_code)).all()) == {"QY": None, "QY-CL": "QY"}
    assert {i for (i,) in db.session.execute(select(Investment.fund_code))} == {"QY-CL"}


def test_template_workbook(db, tmp_path):
    data = template_workbook(chinese_headers=True)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == list(SHEETS)
    assert [c.value for c in wb["funds"][1]] == [c.zh for c in SHEETS["funds"]]
    result = import_book(db.session, io.BytesIO(data), username="u", filename="template.xlsx")
    assert result.ok and all(sum(c.values()) == 0 for c in result.counts.values())
    english = load_workbook(io.BytesIO(template_workbook(chinese_headers=False)))
    assert [c.value for c in english["investments"][1]] == [c.name for c in SHEETS["investments"]]


def test_export_to_an_unknown_suffix_is_refused(db, tmp_path):
    with pytest.raises(ValueError):
        export_book(db.session, tmp_path / "book.ods")
