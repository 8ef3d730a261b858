"""The quarterly workbook's fast path (portfolio/reports/xlsx.py: cells put straight into
XlsxWriter's table, each row's XML in one step) writes the very file XlsxWriter's own path
writes, byte for byte, and is used only with the XlsxWriter it was written against."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import numpy as np
import pytest
import xlsxwriter
from openpyxl import load_workbook

from portfolio.reports import xlsx
from portfolio.reports.quarterly import build_quarterly
from portfolio.reports.xlsx import AMOUNT, DATE, MULTIPLE, PERCENT, TEXT, Formatted, write_quarterly_xlsx
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv
from tests.forecast_books import demo_book_data

# the only difference allowed: when each file was made (docProps/core.xml's timestamps)
_MADE = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:(created|modified)>")


def _parts(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {name: _MADE.sub(b"", z.read(name)) for name in z.namelist()}


def _same_file(fast: bytes, plain: bytes) -> None:
    a, b = _parts(fast), _parts(plain)
    assert list(a) == list(b)
    differ = [name for name in a if a[name] != b[name]]
    assert differ == [], differ


def _cells(body: bytes) -> list:
    wb = load_workbook(io.BytesIO(body))
    return [(ws.title, c.coordinate, c.value, c.number_format, c.font.b, c.fill.fgColor.rgb)
            for ws in wb for row in ws.iter_rows() for c in row if c.value is not None or c.has_style]


@pytest.fixture(scope="module")
def reports():
    example = book_from_csv(EXAMPLE_BOOK)
    demo = demo_book_data()
    return [build_quarterly(example, "QY", "2025Q4"), build_quarterly(example, "QY", "2024Q1"),
            build_quarterly(demo, "QY", "2025Q4")]


def test_the_installed_xlsxwriter_takes_the_fast_path():
    """The guard is on for the version requirements.txt pins: the fast path is the one in use
    (after an upgrade, check the row writer against the new XlsxWriter, then move FAST_FOR)."""
    assert xlsxwriter.__version__ == xlsx.FAST_FOR and xlsx.fast_path()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fast_and_plain_write_the_same_file(reports, lang):
    for report in reports:
        fast = write_quarterly_xlsx(report, lang=lang, fast=True)
        plain = write_quarterly_xlsx(report, lang=lang, fast=False)
        _same_file(fast, plain)
        assert len(_cells(fast)) > 100 and _cells(fast) == _cells(plain)


def _one_table(fast: bool, columns, rows) -> bytes:
    book = xlsx._Book(fast)
    sheet = xlsx._Sheet(book, "封面与要点", "zh")
    sheet.title("投资明细表")
    sheet.table(columns, rows)
    sheet.table(columns, [])  # an empty table: its "无"
    sheet.note("未选择比较指数。")
    sheet.finish()
    return book.close()


ODD_ROWS = [
    ["", None, Decimal("1234567.89"), dt.date(1900, 2, 28), 0.125, Formatted(Decimal("1.5"), MULTIPLE), True],
    [None, "x" * 20_000, Decimal("-0.01"), dt.date(1900, 3, 1), np.float64(0.3), Formatted("文字", None), False],
    ["字 & <b>\"'\n", np.int64(7), 10**13, dt.datetime(2025, 12, 31, 15, 30), float("nan"), Formatted(None, PERCENT),
     dt.date(2025, 12, 31)],
    ["\x01控制\x1f", Decimal("0"), None, None, 1e-320, Formatted(dt.date(2024, 2, 29), DATE), Decimal("2.5")],
]
ODD_COLUMNS = [("编号", TEXT), ("投资标的", TEXT), ("认缴（万元）", AMOUNT), ("投资日期", DATE), ("IRR", PERCENT),
               ("数值", None), ("说明", TEXT)]


def test_odd_cells_are_written_the_same_either_way():
    """Empty text, None, long text (past half of Excel's limit), numpy scalars, booleans,
    datetimes, NaN (an error cell, as XlsxWriter's option says), control characters, dates
    around Excel's phantom 29 February 1900: each goes the way XlsxWriter's own writers
    take it."""
    rows = [row for row in ODD_ROWS if not any(isinstance(v, float) and v != v for v in row)]
    _same_file(_one_table(True, ODD_COLUMNS, rows), _one_table(False, ODD_COLUMNS, rows))
    with pytest.raises(TypeError) as fast:
        _one_table(True, ODD_COLUMNS, ODD_ROWS)
    with pytest.raises(TypeError) as plain:
        _one_table(False, ODD_COLUMNS, ODD_ROWS)
    assert str(fast.value) == str(plain.value)  # NaN: XlsxWriter's own refusal, either way


def test_dates_are_excel_serial_numbers_in_a_date_format():
    body = _one_table(True, [("投资日期", DATE)], [[dt.date(1900, 1, 1)], [dt.date(1900, 3, 1)],
                                                  [dt.date(2025, 12, 31)]])
    sheet = _parts(body)["xl/worksheets/sheet1.xml"].decode()
    assert re.findall(r'<c r="A[345]" s="\d+"><v>(\d+)</v></c>', sheet) == ["1", "61", "46022"]
    ws = load_workbook(io.BytesIO(body)).active
    assert ws["A5"].value == dt.datetime(2025, 12, 31) and ws["A5"].number_format == "yyyy-mm-dd"


def test_another_xlsxwriter_takes_xlsxwriter_s_own_path(reports, monkeypatch):
    monkeypatch.setattr(xlsxwriter, "__version__", "9.9.9")
    assert not xlsx.fast_path()
    book = xlsx._Book()
    assert not book.fast
    sheet = xlsx._Sheet(book, "封面与要点", "zh")
    assert type(sheet.ws) is xlsxwriter.worksheet.Worksheet  # not the row writer
    book.close()
    seen = []
    plain_put = xlsx._Sheet.put

    def put(self, *args, **kwargs):
        seen.append(args)
        return plain_put(self, *args, **kwargs)

    monkeypatch.setattr(xlsx._Sheet, "put", put)
    body = write_quarterly_xlsx(reports[0])
    assert len(seen) > 100  # every cell through XlsxWriter's public writers
    _same_file(body, write_quarterly_xlsx(reports[0], fast=False))


def test_a_sheet_with_row_options_is_written_by_xlsxwriter(monkeypatch):
    """A row with options (here a height) is outside what the row writer knows: XlsxWriter's
    own `_write_rows` writes that sheet, the same file as the plain path."""
    def with_a_row_option(fast: bool) -> bytes:
        book = xlsx._Book(fast)
        sheet = xlsx._Sheet(book, "封面与要点", "zh")
        sheet.table(ODD_COLUMNS[:3], [["a", "b", Decimal(1)], ["c", "d", Decimal(2)]])
        sheet.ws.set_row(1, 30)
        sheet.ws.write_formula(5, 0, "=1+1")
        return book.close()

    _same_file(with_a_row_option(True), with_a_row_option(False))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fast", [True, False])
def test_the_workbook_in_two_steps_is_the_workbook_in_one(reports, fast, lang):
    """QuarterlyWorkbook.start writes the sheets before the forward look's from a report whose
    forward look is not in yet (None), and on the fast path their rows' XML (the cell styles
    numbered as the closing numbers them); finish the rest: the file write_quarterly_xlsx
    writes, and so the plain path's."""
    for report in reports:
        assert report["forward_look"]
        workbook = xlsx.QuarterlyWorkbook(lang, fast)
        workbook.start({**report, "forward_look": None})
        sheets = workbook.book.wb.worksheets()
        assert len(sheets) == xlsx.BEFORE_FORWARD_LOOK
        made = [sheet.rows_xml for sheet in sheets if isinstance(sheet, xlsx._RowWorksheet)]
        assert len(made) == (len(sheets) if fast else 0) and all(made)
        _same_file(workbook.finish(report), write_quarterly_xlsx(report, lang=lang, fast=False))


def test_rows_of_every_width_across_blocks_of_16_rows():
    """The <row spans> of each block of 16 rows (its cells' first and last column), for
    rows that fill different columns, some none."""
    rows = [[("x" if col == i % 9 else None) if i % 5 else None for col in range(9)] for i in range(70)]
    columns = [(f"列{col}", TEXT) for col in range(9)]
    _same_file(_one_table(True, columns, rows), _one_table(False, columns, rows))
