"""Every list screen exports to Excel (issue 15, item 9): the workbook holds exactly the rows
the screen's filter selects, over all its pages, in the screen's order; amounts in 万元 with
a number format, date cells, codes in words, a frozen header, widths, a dated file name
(RFC 5987), headers in the reader's language; a hostile name stays text."""
from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from models import AuditEntry, CashFlow, Company, Fund, Investment, Valuation
from portfolio.filetypes import MIME_XLSX
from portfolio.formatting import XLSX_FORMATS
from portfolio.interchange.importing import import_book
from portfolio.interchange.synthetic import generate_heavy_book
from portfolio.vocabulary import INSTRUMENTS, label

AS_OF = "2030-12-31"  # after every record of the book: every investment is on the lists


@pytest.fixture(scope="module")
def heavy(tmp_path_factory):
    # more than a page (50 rows) of investments, companies, flows
    return generate_heavy_book(tmp_path_factory.mktemp("lists") / "heavy", investments=120, flows=600,
                               valuations=240, holdings=300, seed=3)


@pytest.fixture
def viewer(db, as_role, heavy):
    assert import_book(db.session, heavy, username="loader").ok
    client = as_role("viewer")
    client.get(f"/?as_of={AS_OF}")
    return client


def sheet(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == MIME_XLSX
    return load_workbook(io.BytesIO(response.data)).active


def records(ws) -> list[dict]:
    header = [c.value for c in ws[3]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=4)]


def screen(client, url: str, attr: str) -> list[str]:
    """The `data-<attr>` of every row the screen lists, page after page."""
    seen: list[str] = []
    page = 1
    while True:
        html = client.get(f"{url}{'&' if '?' in url else '?'}page={page}").get_data(as_text=True)
        seen += re.findall(rf'<tr[^>]* data-{attr}="([^"]+)"', html)
        if 'rel="next"' not in html:
            return seen
        page += 1


def is_laid_out(ws, columns: int) -> None:
    """The header frozen with the title rows above it, every column wide enough to read."""
    assert ws.freeze_panes == "A4"
    assert ws["A1"].value and ws["A2"].value  # what and the filter
    for col in range(1, columns + 1):
        letter = ws.cell(row=3, column=col).column_letter
        assert ws.column_dimensions[letter].width >= 8


def test_investments_export_is_every_row_the_filter_selects(viewer, db):
    url = "/investments?fund=QY&sort=-commitment"
    shown = screen(viewer, url, "id")
    assert len(shown) > 50  # more than the screen's one page
    ws = sheet(viewer.get(url.replace("/investments", "/investments/export.xlsx")))
    rows = records(ws)
    assert [r["投资编号"] for r in rows] == shown  # all of them, in the screen's order
    is_laid_out(ws, 13)
    # a value: the amount in 万元, exact, with the number format; the date a date cell
    first = db.session.get(Investment, shown[0])
    assert Decimal(str(rows[0]["认缴（万元）"])) == first.commitment_cny / 10000
    assert ws["H4"].number_format == XLSX_FORMATS["amount"] and ws["H4"].data_type == "n"
    assert isinstance(ws["G4"].value, dt.datetime) and ws["G4"].value.date() == first.date
    assert ws["G4"].number_format == XLSX_FORMATS["date"]
    assert ws["L4"].number_format == XLSX_FORMATS["multiple"] and ws["M4"].number_format == XLSX_FORMATS["percent"]
    assert rows[0]["方式"] == label("mode", first.mode)  # codes in words

    # a narrower filter: the direct investments of one sector
    sector = db.session.execute(select(Company.sector).join(Investment, Investment.company_code == Company.code)
                                .where(Investment.mode == "direct").limit(1)).scalar()
    narrow = f"/investments?mode=direct&sector={sector}"
    shown = screen(viewer, narrow, "id")
    expected = db.session.execute(select(func.count()).select_from(Investment).join(
        Company, Investment.company_code == Company.code).where(Investment.mode == "direct",
                                                                Company.sector == sector)).scalar()
    ws = sheet(viewer.get(narrow.replace("/investments", "/investments/export.xlsx")))
    assert [r["投资编号"] for r in records(ws)] == shown and len(shown) == expected > 0
    assert {r["方式"] for r in records(ws)} == {label("mode", "direct")}
    assert label("mode", "direct") in ws["A2"].value and label("sector", sector) in ws["A2"].value


def test_the_file_is_named_by_what_and_the_day_in_beijing(viewer):
    response = viewer.get("/investments/export.xlsx?fund=QY")
    day = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    name = f"投资清单_QY_{day}.xlsx"
    disposition = response.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert disposition.startswith("attachment; filename=\"") and disposition.isascii()


def test_sub_funds_export(viewer):
    url = "/sub-funds?q=SF&sort=-nav"
    shown = screen(viewer, url, "code")
    assert shown
    ws = sheet(viewer.get("/sub-funds/export.xlsx?q=SF&sort=-nav"))
    rows = records(ws)
    assert [r["子基金代码"] for r in rows] == shown
    is_laid_out(ws, 10)
    assert ws["E4"].number_format == XLSX_FORMATS["amount"]


def test_companies_export_takes_every_page(viewer, db):
    everyone = screen(viewer, "/companies?sort=-code", "code")
    ws = sheet(viewer.get("/companies/export.xlsx?sort=-code"))
    rows = records(ws)
    assert [r["企业代码"] for r in rows] == everyone
    assert len(everyone) == db.session.execute(select(func.count()).select_from(Company)).scalar() > 50
    region = rows[0]["注册地区划代码"][:4]
    shown = screen(viewer, f"/companies?region={region}", "code")
    ws = sheet(viewer.get(f"/companies/export.xlsx?region={region}"))
    assert [r["企业代码"] for r in records(ws)] == shown and 0 < len(shown) < len(everyone)
    assert all(r["注册地区划代码"].startswith(region) for r in records(ws))  # codes stay text
    company = db.session.get(Company, shown[0])
    count = db.session.execute(select(func.count()).where(Investment.company_code == company.code)).scalar()
    assert records(ws)[0]["投资笔数"] == count
    assert records(ws)[0]["所属领域"] == label("sector", company.sector)
    is_laid_out(ws, 7)


def test_compliance_export(viewer):
    statuses = screen(viewer, "/funds/QY/compliance?status=pass", "status")
    ws = sheet(viewer.get("/funds/QY/compliance/export.xlsx?status=pass"))
    rows = records(ws)
    assert len(rows) == len(statuses) > 0
    assert {r["状态"] for r in rows} == {label("check_status", "pass")}
    assert all(r["规则"] and "_" not in r["规则"] for r in rows)  # rules in words, not codes
    instrument = label("rule", "prohibited_instrument")
    values = [(row[1].value, row[3]) for row in ws.iter_rows(min_row=4) if row[3].value is not None]
    numbers = [c for rule, c in values if rule != instrument]  # shares, multiples, years, amounts
    assert numbers and all(c.data_type == "n" and c.number_format != "General" for c in numbers)
    words = {c.value for rule, c in values if rule == instrument}  # the instrument, in words
    assert words <= {label("instrument", code) for code in INSTRUMENTS}
    assert viewer.get("/funds/NOPE/compliance/export.xlsx").status_code == 404


def test_history_export(viewer, db):
    shown = screen(viewer, "/history?entity=companies", "entry")
    ws = sheet(viewer.get("/history/export.xlsx?entity=companies"))
    rows = records(ws)
    assert len(rows) == len(shown) > 50
    keys = db.session.execute(select(AuditEntry.entity_key).where(AuditEntry.entity == "companies")
                              .order_by(AuditEntry.id.desc())).scalars().all()
    assert [r["编号"] for r in rows] == keys
    assert {r["对象"] for r in rows} == {label("entity", "companies")}
    first = db.session.get(AuditEntry, int(shown[0]))
    local = first.at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(ws["A4"].value - local) < dt.timedelta(seconds=1)  # a time cell, in Beijing time
    assert ws["A4"].number_format == "yyyy-mm-dd hh:mm:ss"
    is_laid_out(ws, 7)


def test_cash_flows_and_valuations_export(viewer, db):
    ws = sheet(viewer.get("/cash-flows/export.xlsx?fund=QY&type=distribution"))
    rows = records(ws)
    flows = db.session.execute(select(CashFlow.amount_cny).join(Investment).where(
        Investment.fund_code == "QY", CashFlow.type == "distribution", CashFlow.voided_at.is_(None))).scalars().all()
    assert len(rows) == len(flows) > 0
    assert sum(Decimal(str(r["金额（万元）"])) for r in rows) == sum(flows) / 10000
    assert {r["类型"] for r in rows} == {label("type", "distribution")}
    assert ws["E4"].number_format == XLSX_FORMATS["amount"] and isinstance(ws["C4"].value, dt.datetime)
    is_laid_out(ws, 7)

    inv = db.session.execute(select(Valuation.investment_id).limit(1)).scalar()
    ws = sheet(viewer.get(f"/valuations/export.xlsx?investment={inv}&since=2000-01-01"))
    rows = records(ws)
    count = db.session.execute(select(func.count()).where(Valuation.investment_id == inv,
                                                          Valuation.voided_at.is_(None))).scalar()
    assert len(rows) == count > 0 and {r["投资编号"] for r in rows} == {inv}
    assert viewer.get("/cash-flows/export.xlsx?fund=NOPE").status_code == 404


def test_headers_in_english(viewer):
    viewer.get("/lang/en")
    ws = sheet(viewer.get("/investments/export.xlsx"))
    header = [c.value for c in ws[3]]
    assert header[:3] == ["Investment id", "Fund", "Mode"] and "Commitment (CNY 10k)" in header
    assert not re.search(r"[\u4e00-\u9fff]", "".join(header))
    response = viewer.get("/companies/export.xlsx")
    assert "Portfolio%20companies_" in response.headers["Content-Disposition"]


def test_a_column_or_filter_of_one_fund_reads_fund_in_english(viewer):
    """Every list export headed its column of one fund per row, and its filter naming one
    fund, with the menu's plural 'Funds'; they read 'Fund'."""
    viewer.get("/lang/en")
    for url in ("/investments/export.xlsx?fund=QY", "/sub-funds/export.xlsx?fund=QY",
                "/cash-flows/export.xlsx?fund=QY", "/valuations/export.xlsx?fund=QY&since=2000-01-01"):
        ws = sheet(viewer.get(url))
        header = [c.value for c in ws[3]]
        assert "Fund" in header and "Funds" not in header, (url, header)
        assert "Filter: Fund QY " in ws["A2"].value and "Funds" not in ws["A2"].value, (url, ws["A2"].value)


def test_hostile_names_stay_text(viewer, db):
    hostile = '=HYPERLINK("http://evil.example","点击")'
    code = db.session.execute(select(Company.code).limit(1)).scalar()
    db.session.execute(update(Company).where(Company.code == code).values(name=hostile))
    db.session.commit()
    ws = sheet(viewer.get(f"/companies/export.xlsx?q={code}"))
    cells = [row[1] for row in ws.iter_rows(min_row=4) if row[0].value == code]
    assert cells and cells[0].value == hostile and cells[0].data_type == "s"
    ws = sheet(viewer.get("/companies/export.xlsx?q=%3DHYPERLINK"))  # the filter itself is hostile too
    assert ws["A2"].data_type == "s" and ws["A2"].value.endswith("=HYPERLINK")


def test_book_downloads_are_named_by_fund_and_day(viewer, db):
    day = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    fund = db.session.get(Fund, "QY")
    response = viewer.get("/book/download?fund=QY")
    assert response.status_code == 200
    name = f"{fund.name}台账_{day}.xlsx"
    assert f"filename*=UTF-8''{quote(name, safe='')}" in response.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.data))["funds"]["A2"].value == "QY"
    everything = viewer.get("/book/download?headers=zh").headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote(f'全部基金台账_{day}.xlsx', safe='')}" in everything
    assert "book.xlsx" not in everything
    viewer.get("/lang/en")
    english = viewer.get("/book/download?fund=QY").headers["Content-Disposition"]
    assert quote(f"{fund.name_en or fund.name} book_{day}.xlsx", safe="") in english
    assert viewer.get("/book/download?fund=NOPE").status_code == 404


EXPORTS = ("/investments/export.xlsx", "/sub-funds/export.xlsx", "/companies/export.xlsx",
           "/funds/QY/compliance/export.xlsx", "/history/export.xlsx?entity=investments",
           "/cash-flows/export.xlsx?fund=QY", "/valuations/export.xlsx?fund=QY")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_exports_show_no_code_and_no_raw_number(viewer, db, lang):
    """What test_present asks of every page, of every export's text (the book's own names
    and notes left aside): no code of the vocabularies, no raw float, in English no Chinese."""
    from tests.test_present import _book_texts, _without
    from tests.visible_text import problems

    viewer.get(f"/lang/{lang}")
    data = _book_texts(db)
    found = []
    for url in EXPORTS:
        ws = sheet(viewer.get(url))
        text = "\n".join(c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str))
        found += [(url, p) for p in problems(_without(text, data), lang)]
    assert not found, found[:20]


def _workbook_parts(body: bytes) -> dict[str, bytes]:
    import zipfile

    made = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:(created|modified)>")
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {name: made.sub(b"", z.read(name)) for name in z.namelist()}


def test_the_list_workbook_is_xlsxwriter_s_own_file_and_keeps_text_as_text(monkeypatch):
    """The list's workbook, rows written each in one step (portfolio.reports.xlsx's row
    worksheet), is the file XlsxWriter's own writers make, byte for byte; a text that looks
    like a formula, a number or a link stays a string cell; one past Excel's 32,767 characters
    is cut and says so; the layout (title, filter, frozen header, filter, print titles)."""
    from portfolio.reports import xlsx
    from portfolio.reports.list_xlsx import EXCEL_TEXT_MAX, ListColumn, list_workbook

    columns = [ListColumn("name", "名称"), ListColumn("day", "日期", "date"), ListColumn("at", "时间", "datetime"),
               ListColumn("amount", "金额（万元）", "amount"), ListColumn("share", "占比", "percent"),
               ListColumn("value", "数值", "by_row")]
    rows = [{"name": "=1+2", "day": dt.date(2025, 12, 31), "at": dt.datetime(2025, 12, 31, 9, 30),
             "amount": Decimal("123456789.01"), "share": Decimal("0.125"), "value": Decimal("1.5"), "kind": "multiple"},
            {"name": "00123", "day": None, "amount": Decimal("-0.01"), "value": "http://x.example", "kind": "text"},
            {"name": "长" * (EXCEL_TEXT_MAX + 10), "amount": 0}]
    reported: list[int] = []
    fast = list_workbook("标题", "筛选：无", columns, rows, sheet="名单", progress=reported.append)
    monkeypatch.setattr(xlsx, "fast_path", lambda: False)
    assert _workbook_parts(list_workbook("标题", "筛选：无", columns, rows, sheet="名单")) == _workbook_parts(fast)
    assert reported == [3]

    ws = load_workbook(io.BytesIO(fast)).active
    assert ws.title == "名单" and ws["A1"].value == "标题" and ws["A1"].font.b and ws["A2"].value == "筛选：无"
    assert [c.value for c in ws[3]] == ["名称", "日期", "时间", "金额（万元）", "占比", "数值"] and ws["A3"].font.b
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:F6" and ws.print_title_rows == "$3:$3"
    assert (ws["A4"].value, ws["A4"].data_type) == ("=1+2", "s")
    assert (ws["A5"].value, ws["A5"].data_type) == ("00123", "s") and ws["F5"].data_type == "s"
    assert ws["B4"].value == dt.datetime(2025, 12, 31) and ws["B4"].number_format == XLSX_FORMATS["date"]
    assert ws["C4"].value == dt.datetime(2025, 12, 31, 9, 30) and ws["C4"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["D4"].value == pytest.approx(12345.678901) and ws["D4"].number_format == XLSX_FORMATS["amount"]
    assert ws["E4"].number_format == XLSX_FORMATS["percent"] and ws["F4"].number_format == XLSX_FORMATS["multiple"]
    assert len(ws["A6"].value) == EXCEL_TEXT_MAX and ws["A6"].value.endswith("…")
    assert ws["D6"].value == 0 and 60 <= ws.column_dimensions["A"].width < 61  # MAX_WIDTH (Excel adds its padding)
