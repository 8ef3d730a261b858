"""The quarterly report's figures tie out across its formats (helper D's hunt).

Each test proves one defect found by rendering the example book (spec/example) and a
second small book (a parent fund, a co-investment, a write-off, a holding under a year, a
fund with no investments) in HTML/PDF and .xlsx, and comparing what a reader sees with the
JSON report's figure at the unit shown.

How Excel shows a number (the workbook's cells hold the unrounded figure, its number
format rounds it): the double read at 15 significant digits (Excel's precision, ECMA-376
Part 1 §18.17.5.1 "numbers… 15 digits of precision"), then rounded half away from zero to
the format's places.
"""
from __future__ import annotations

import html as html_module
import io
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from portfolio import formatting
from portfolio.reports.quarterly import build_quarterly
from portfolio.reports.xlsx import write_quarterly_xlsx
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv
from tests.rules_factories import SyntheticBook


@pytest.fixture(scope="module")
def example():
    return book_from_csv(EXAMPLE_BOOK)


def second_book():
    """A parent fund P over an angel fund K; a fund E with no investments; a fund W whose
    one holding is written off (no IRR exists). P: a sub-fund commitment valued after its
    last flow, a co-investment and a direct investment with ownerships typed to three
    decimals (1.125 %, 2.385 %: half-up ties); K: a holding at a loss (negative IRR) and one
    made in the quarter (under a year). No flow of P's own in 2025Q4 (the voided call of
    the book this was taken from is not in force)."""
    b = SyntheticBook()
    b.fund("P", size_cny="10000000000").fund("K", kind="angel_guidance", parent_code="P", vintage_year=2024)
    b.fund("E", kind="industry_guidance", vintage_year=2025).fund("W", kind="other", vintage_year=2024)
    b.sub_fund("SF1", size_cny="2000000000")
    for code, sector, region in (("C1", "robotics", "330206"), ("C2", "life_health", "310115"),
                                 ("C3", "materials", "330203"), ("C4", "digital", "440305")):
        b.company(code, region_code=region, sector=sector)
    b.investment("P-SF1", "SF1", fund="P", mode="sub_fund", date="2023-03-31", commitment_cny="400000000",
                 ownership_pct=20)
    b.investment("P-CO1", "C3", fund="P", mode="co_invest", alongside="SF1", date="2023-09-30",
                 commitment_cny="20000000.50", ownership_pct="1.125", lead_amount_cny="40000000", round="A轮")
    b.investment("P-D1", "C1", fund="P", date="2024-06-30", commitment_cny="10000000", ownership_pct="2.385")
    b.investment("K-D1", "C2", fund="K", date="2024-02-01", commitment_cny="5000000", ownership_pct=5)
    b.investment("K-D2", "C4", fund="K", date="2025-11-20", commitment_cny="3000000", ownership_pct=3)
    b.investment("W-D1", "C3", fund="W", date="2024-03-01", commitment_cny="1000000", ownership_pct=1)
    b.flow("P-SF1", "2023-03-31", "100000000").flow("P-SF1", "2024-03-31", "100000000.05")
    b.flow("P-SF1", "2025-03-31", "12345678.90", type="distribution")
    b.flow("P-CO1", "2023-09-30", "20000000.50").flow("P-D1", "2024-06-30", "10000000")
    b.flow("K-D1", "2024-02-01", "5000000").flow("K-D2", "2025-11-20", "3000000").flow("W-D1", "2024-03-01", "1000000")
    b.valuation("P-SF1", "2025-09-30", "230000000", "gp_nav").valuation("P-CO1", "2025-12-31", "22500000.75", "comparables")
    b.valuation("P-D1", "2025-06-30", "11250000", "last_round").valuation("K-D1", "2025-12-31", "3100000", "dcf")
    b.valuation("W-D1", "2025-06-30", "0", "write_off")
    b.holding("SF1", "2025-09-30", "C3", "150000000", "180000000").holding("SF1", "2025-09-30", "C4", "50000000", "60000000")
    return b.book()


@pytest.fixture(scope="module")
def second():
    return second_book()


class _Rows(HTMLParser):
    """Every table row of a page as the texts of its cells."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "svg"):
            self._skip += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "script", "svg"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def html_rows(html: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def document(app, report, lang: str = "zh") -> str:
    from web.i18n import request_in
    from web.reports import render_document

    with app.app_context(), request_in(lang):
        return render_document(report)


def excel_shows(value, number_format: str) -> str:
    """What Excel shows of a number cell in the report's ratio formats."""
    number = Decimal(format(float(value), ".15g"))
    if number_format == '0.00"x"':
        return f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}x"
    if number_format == "0.0%":
        return f"{(number * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
    if number_format == "0.00%":
        return f"{(number * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
    raise AssertionError(number_format)


def sheet_rows(workbook, name: str) -> list[list]:
    return [list(row) for row in workbook[name].iter_rows()]


# ---------------------------------------------------------------- ratios round as Excel shows them
def test_ratios_in_the_document_are_the_workbook_s_rounded_half_up(app, example):
    """The example's sub-fund has TVPI 1.075 and RVPI 1.025 (expected.json): the workbook
    shows 1.08x and 1.03x; the HTML/PDF had shown 1.07x and 1.02x (a float's own rounding,
    half to even on the binary value), so the signed formats disagreed."""
    report = build_quarterly(example, "QY", "2025Q4")
    rows = [r for r in html_rows(document(app, report))
            if len(r) == 10 and r[0] in ("子基金", "直投", "跟投", "合计") and r[6].endswith("x")]
    shown = {r[0]: r[6:10] for r in rows[:4]}  # the first table: by mode
    assert shown["子基金"][:3] == ["1.08x", "0.05x", "1.03x"]
    workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
    for row in sheet_rows(workbook, "业绩分析"):
        if row[0].value in shown and len([c for c in row if c.value is not None]) == 10:
            assert [excel_shows(c.value, c.number_format) for c in row[6:10]] == shown[row[0].value], row[0].value


# ---------------------------------------------------------------- ownership to the same places
def test_ownership_in_the_workbook_to_the_places_the_document_shows(app, second):
    """A holding's ownership is shown to two decimals in the HTML/PDF (2.385 % → 2.39 %);
    the workbook's cell was formatted to one (2.4 %), so the two disagreed."""
    report = build_quarterly(second, "P", "2025Q4")
    shown = {r[0]: r[7] for r in html_rows(document(app, report)) if len(r) == 16 and r[0] != "编号"}
    assert shown["P-D1"] == "2.39%" and shown["P-CO1"] == "1.13%"
    workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
    rows = sheet_rows(workbook, "投资明细表")
    column = [c.value for c in rows[1]].index("持股比例")
    cells = {row[0].value: row[column] for row in rows[2:] if row[0].value}
    assert {key: excel_shows(cell.value, cell.number_format) for key, cell in cells.items()} == shown


# ---------------------------------------------------------------- an IRR without an answer, said plainly
def _cell(rows: list[list[str]], first: str, width: int, column: int) -> str:
    return next(r[column] for r in rows if len(r) == width and r[0] == first)


@pytest.mark.parametrize("lang, no_rate, short", [("zh", "—（无解）", "— 无解"), ("en", "— (no rate)", "no rate")])
def test_an_irr_with_no_answer_is_said_so_in_every_format(app, second, lang, no_rate, short):
    """W's one holding is written off: no sign change, no IRR (metrics.md: null). The HTML and
    PDF had printed a bare '—' (and the workbook an empty cell) with nothing saying why."""
    for fund in ("W", "E"):  # written off; no investment at all
        report = build_quarterly(second, fund, "2025Q4")
        assert report["summary"]["irr"] is None
        html = document(app, report, lang)
        rows = html_rows(html)
        head = next(i for i, r in enumerate(rows) if len(r) == 9 and r[8] == "IRR")  # 1. the fund's status
        assert rows[head + 1][8] == no_rate, fund
        assert next(r for r in rows if r and r[0] == "IRR")[1:3] == [no_rate, no_rate]  # the highlights
        assert ("IRR“无解”" if lang == "zh" else 'IRR "no rate"') in html
        workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report, lang=lang)))
        fund_sheet = workbook.worksheets[1]
        assert [c.value for c in fund_sheet[3]][8] == short
    report = build_quarterly(second, "W", "2025Q4")
    assert _cell(html_rows(document(app, report, lang)), "W-D1", 16, 13) == short
    workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report, lang=lang)))
    schedule = sheet_rows(workbook, workbook.sheetnames[4])
    assert [row[13].value for row in schedule[2:] if row[0].value == "W-D1"] == [short]


def _sections(html: str) -> dict[str, str]:
    """The report's sections by id, each its HTML up to the next."""
    parts = html.split('<section ')[1:]
    return {part.split('id="', 1)[1].split('"', 1)[0]: part for part in parts}


@pytest.mark.parametrize("lang, note", [("zh", "IRR“无解”"), ("en", 'IRR "no rate"')])
def test_the_no_rate_note_is_under_the_tables_that_have_one(app, lang, note):
    """The note explaining 无解 was printed under the fund's status table whenever any holding
    had no rate, though that table's IRR was a rate; now it is printed under each table that
    has a 无解 figure, and nowhere else."""
    b = SyntheticBook().fund("M", vintage_year=2023).company("C1").company("C2", sector="digital")
    b.investment("M-D1", "C1", fund="M", date="2023-01-02").flow("M-D1", "2023-01-02", "1000000")
    b.valuation("M-D1", "2025-12-31", "1500000", "last_round")
    b.investment("M-D2", "C2", fund="M", date="2023-06-30").flow("M-D2", "2023-06-30", "1000000")
    b.valuation("M-D2", "2025-06-30", "0", "write_off")  # no rate: no sign change
    report = build_quarterly(b.book(), "M", "2025Q4")
    assert report["summary"]["irr"] is not None
    assert [i["irr"] is None for i in report["schedule"]] == [False, True]
    sections = _sections(document(app, report, lang))
    assert note not in sections["status"] and note not in sections["cover"]
    assert sections["schedule"].count(note) == 1
    performance = sections["performance"]  # by mode: both direct, a rate; by sector: digital has none
    assert performance.count(note) == 1
    assert performance.index(note) > performance.index("Digital innovation" if lang == "en" else "数字创新")


@pytest.mark.parametrize("lang, note", [("zh", "IRR“无解”"), ("en", 'IRR "no rate"')])
def test_a_report_with_every_irr_a_rate_has_no_no_rate_note(app, example, lang, note):
    """The example fund's IRRs are all rates (or under a year): nothing to explain."""
    report = build_quarterly(example, "QY", "2025Q4")
    assert report["summary"]["irr"] is not None and all(i["irr"] is not None for i in report["schedule"])
    assert note not in document(app, report, lang)


def test_an_irr_under_a_year_is_the_same_words_in_the_workbook_and_the_highlights(app, second):
    """K-D2 was made on 2025-11-20: the document prints '— 不足一年' (GIPS 5.A.4), the workbook
    had held the annualised rate; the highlights (要点) had printed a young fund's IRR as an
    annual rate while the status table under them said it was not annualised."""
    report = build_quarterly(second, "P", "2025Q4")
    rows = html_rows(document(app, report))
    assert _cell(rows, "K-D2", 16, 13) == "— 不足一年"
    workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
    schedule = sheet_rows(workbook, "投资明细表")
    assert [row[13].value for row in schedule[2:] if row[0].value == "K-D2"] == ["— 不足一年"]
    digital = [row for row in sheet_rows(workbook, "业绩分析") if row[0].value == "数字创新"][0]
    assert digital[10].value == "— 不足一年"

    young = SyntheticBook().fund("Y").company("C1")
    young.investment("Y-1", "C1", fund="Y", date="2025-06-30").flow("Y-1", "2025-06-30", "1000000")
    young.valuation("Y-1", "2025-12-31", "1500000", "last_round")
    report = build_quarterly(young.book(), "Y", "2025Q4")
    assert report["summary"]["irr"] > 1  # annualised over half a year
    rows = html_rows(document(app, report))
    assert next(r for r in rows if r and r[0] == "IRR")[1:] == ["—（不足一年，不年化）", "—（不足一年，不年化）", "—"]
    cover = [row for row in sheet_rows(load_workbook(io.BytesIO(write_quarterly_xlsx(report))), "封面与要点")
             if row[0].value == "IRR"][0]
    assert [c.value for c in cover[1:4]] == ["— 不足一年", "— 不足一年", "—"]


# ---------------------------------------------------------------- a change that rounds to nothing has no sign
def test_a_change_that_rounds_to_nothing_is_printed_without_a_sign(app, second):
    """P's TVPI moved by +0.0002 and its DPI by −0.0007 in 2025Q4: the highlights printed
    '+0.00x' and '-0.00x' (the sign taken from the unrounded change), a rise and a fall
    that the figures beside them (1.19x and 1.19x) do not show; and a change was rounded
    half to even ('%.2f') where every other figure rounds half up."""
    report = build_quarterly(second, "P", "2025Q4")
    changes = {r[0]: r[3] for r in html_rows(document(app, report)) if len(r) == 4 and r[0] in ("TVPI", "DPI", "RVPI")}
    assert changes == {"TVPI": "0.00x", "DPI": "0.00x", "RVPI": "0.00x"}
    assert {r[0]: r[3] for r in html_rows(document(app, report)) if len(r) == 4}["IRR"] == "-0.9 个百分点"
    report = {**report, "highlights": [{**h, "change": 0.045 if h["key"] == "tvpi" else h["change"]}
                                       for h in report["highlights"]]}
    assert [r[3] for r in html_rows(document(app, report)) if len(r) == 4 and r[0] == "TVPI"] == ["+0.05x"]


# ---------------------------------------------------------------- the English document says it is English
@pytest.mark.parametrize("lang, declared", [("zh", "zh-CN"), ("en", "en")])
def test_the_printable_document_and_its_pdf_declare_the_reader_s_language(app, example, lang, declared):
    """The printable HTML (the PDF's source) had `<html lang="zh-CN">` in English too, and
    WeasyPrint writes it as the PDF's /Lang: an English report declared itself Chinese (a
    screen reader reads it in a Chinese voice; CJK glyph forms chosen for Latin punctuation)."""
    from weasyprint import HTML

    html = document(app, build_quarterly(example, "QY", "2025Q4"), lang)
    assert f'<html lang="{declared}">' in html
    assert HTML(string=html).render().metadata.lang == declared


@pytest.mark.parametrize("lang, footer", [("zh", "第1页/共9页"), ("en", "Page1of9")])  # spaces left out
def test_the_pdf_page_footer_reads_in_the_reader_s_language(app, example, lang, footer, tmp_path):
    """The footer was put together from the Chinese words one by one ('第', '页', '/', '共'),
    which in English printed 'Page 1 / of 9'."""
    import subprocess

    from web.reports import render_pdf

    report = build_quarterly(example, "QY", "2025Q4")
    with app.app_context():
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(render_pdf(report, document=document(app, report, lang)))
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert footer in "".join(text.split())


# ---------------------------------------------------------------- totals and the rows as shown
def test_a_total_that_is_not_the_sum_of_its_rows_as_shown_is_footnoted(app):
    """Two holdings paid 10,000,050 and 20,000,050 yuan: each row prints 1,000.01 and
    2,000.01 万元 (half up), their total 30,000,100 yuan prints 3,000.01, not the 3,000.02 a
    reader adds up. The total is right (it ties to the JSON report); the report did not say
    why it is not the sum of the rows shown."""
    b = SyntheticBook().fund("T").sub_fund("SF1").company("C1")
    b.investment("T-D1", "C1", fund="T", date="2024-01-02", commitment_cny="10000050")
    b.investment("T-S1", "SF1", fund="T", mode="sub_fund", date="2024-01-02", commitment_cny="20000050")
    b.flow("T-D1", "2025-11-02", "10000050").flow("T-S1", "2025-11-02", "20000050")
    report = build_quarterly(b.book(), "T", "2025Q4")
    for lang, note in (("zh", "可能与所列各项相加减的结果有 0.01 的尾差"), ("en", "may differ by 0.01 from")):
        html = document(app, report, lang)
        quarter = [r for r in html_rows(html) if len(r) == 6][:4]  # the quarter's bridge: head, 2 modes, total
        assert [r[2] for r in quarter[1:]] == ["2,000.01", "1,000.01", "3,000.01"]
        assert note in html
        workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report, lang=lang)))
        assert any(note in str(c.value) for row in workbook.worksheets[0].iter_rows() for c in row)


@pytest.mark.parametrize("fund, quarter", [("E", "2025Q4"), ("P", "2022Q4")])  # no investment; before the first
def test_multiples_without_paid_in_are_explained(app, second, fund, quarter):
    """With nothing paid in, TVPI, DPI and RVPI do not exist (metrics.md: null when paid_in is
    0): the report printed bare dashes with nothing saying why."""
    report = build_quarterly(second, fund, quarter)
    assert report["summary"]["paid_in"] == 0 and report["summary"]["tvpi"] is None
    assert "尚无实缴出资，TVPI、DPI、RVPI 无从计算，以“—”表示。" in document(app, report)
    assert "Nothing paid in yet: TVPI, DPI and RVPI do not exist and are shown as" in document(app, report, "en")
    workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
    assert [c.value for c in workbook["基金概况"][3]][5:8] == ["—", "—", "—"]
    cover = {row[0].value: [c.value for c in row[1:4]] for row in workbook["封面与要点"].iter_rows() if row[0].value}
    assert cover["TVPI"] == cover["DPI"] == cover["RVPI"] == ["—", "—", "—"]


@pytest.mark.parametrize("lang, unit", [("zh", "个百分点"), ("en", "pp")])
def test_the_workbook_gives_the_irr_s_change_in_percentage_points_as_the_document(app, example, lang, unit):
    """The example's IRR went from 6.0 % to 8.5 % in 2025Q4: the document says '+2.5 个百分点';
    the workbook's cell was formatted '0.0%' and read '2.5%', a relative change to a reader."""
    report = build_quarterly(example, "QY", "2025Q4")
    shown = next(r for r in html_rows(document(app, report, lang)) if r and r[0] == "IRR")[3]
    assert shown == f"+2.5 {unit}"
    cover = load_workbook(io.BytesIO(write_quarterly_xlsx(report, lang=lang))).worksheets[0]
    change = next(row[3] for row in cover.iter_rows() if row[0].value == "IRR")
    assert change.number_format == f'+0.0" {unit}";-0.0" {unit}";0.0" {unit}"'
    assert f"+{Decimal(format(change.value, '.15g')).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} {unit}" == shown


def test_the_required_reinvestment_multiple_reads_as_the_compliance_check_s_limit(app, example):
    """The sub-funds section said '要求的返投倍数：1.5x' (one decimal) above the compliance
    table's limit '1.50x' and the workbook's 1.50x for the same setting."""
    report = build_quarterly(example, "QY", "2025Q4")
    html = document(app, report)
    limit = next(r[4] for r in html_rows(html) if len(r) == 6 and r[1] == "返投倍数")
    assert limit == "1.50x" and f"要求的返投倍数：{limit}" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_irr_s_words_fit_the_pdf_listing_s_irr_column(app, lang):
    """A schedule of more than LISTING_ROWS holdings prints as a fixed-width listing whose IRR
    column was 7 wide: '— 不足一年' (10 wide) printed '— 不~' in the Chinese PDF, and
    'no rate' as '— no rate' would have been cut too; its region column 4 wide printed
    English 'Local' as 'Loc~'. The target's name gives up the width they take."""
    from web.reports import LISTING_ROWS

    b = SyntheticBook().fund("L").company("C1")
    for n in range(LISTING_ROWS + 1):
        b.investment(f"L-{n:03d}", "C1", fund="L", date="2024-01-02").flow(f"L-{n:03d}", "2024-01-02", "1000000")
    b.valuation("L-000", "2025-06-30", "0", "write_off")  # no rate
    b.investment("L-NEW", "C1", fund="L", date="2025-11-20").flow("L-NEW", "2025-11-20", "1000000")  # under a year
    html = document(app, build_quarterly(b.book(), "L", "2025Q4"), lang)
    listing = html.split('<div class="listing schedule">')[1].split("</div>\n  </div>")[0]
    lines = {line.split()[0]: line for line in html_module.unescape(listing.replace('<div class="ln">', "\n")).splitlines()
             if line.startswith("L-")}
    no_rate, short, region = ("— 无解", "— 不足一年", "本地") if lang == "zh" else ("no rate", "— <1 yr", "Local")
    assert no_rate in lines["L-000"] and short in lines["L-NEW"]
    assert f" {region} " in lines["L-000"]  # the region column had been 4 wide: 'Loc~'


@pytest.mark.parametrize("shown, expected", [
    (lambda: formatting.wan(Decimal("-0.4")), "0.00"),          # 0.00004 万元 lost: nothing to show
    (lambda: formatting.wan(Decimal("-50")), "-0.01"),          # half up, away from zero
    (lambda: formatting.yi(Decimal("-1")), "0.00"),
    (lambda: formatting.yuan(Decimal("-0.001")), "0.00"),
    (lambda: formatting.yuan(Decimal("0.125")), "0.13"),       # half up, as money.fen (was half to even)
    (lambda: formatting.multiple(-0.001), "0.00x"),
    (lambda: formatting.percent(-0.00001), "0.0%"),
])
def test_a_figure_that_rounds_to_nothing_is_never_minus_zero(shown, expected):
    """An amount or ratio that rounds to zero reads 0.00, not -0.00: Decimal keeps a negative
    sign through quantize, and a reader takes -0.00 for a loss."""
    assert shown() == expected
