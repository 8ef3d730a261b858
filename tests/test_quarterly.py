"""The quarterly report object, its .xlsx and its PDF (issue 5).

Reference values: spec/example/README.md (worked by hand) and
example/expected.json (computed independently of the product).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portfolio.book.reading import load_book
from portfolio.figures.report import compute_report, to_json
from portfolio.formatting import parse_quarter
from portfolio.interchange.importing import import_book
from portfolio.reports.quarterly import QuarterlyError, bridge_row, build_quarterly
from portfolio.reports.xlsx import write_quarterly_xlsx
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv
from tests.rules_factories import SyntheticBook

EXPECTED = json.loads((EXAMPLE_BOOK.parent / "expected.json").read_text(encoding="utf-8"))
FUND_NAME = "宁波千亿科技创新基金"
QUARTERS = ["2023Q1", "2023Q2", "2024Q1", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]


@pytest.fixture
def book(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="test")
    assert result.ok, result.errors
    return load_book(db.session)


@pytest.fixture(scope="module")
def csv_book():
    return book_from_csv(EXAMPLE_BOOK)


def _flows_from_csv(mode_of: dict[str, str], lo: dt.date | None, hi: dt.date) -> dict[tuple[str, str], Decimal]:
    """Contributions and distributions straight from the example CSV, by (mode, type): an
    independent sum to check the bridge against."""
    import csv

    out: dict[tuple[str, str], Decimal] = {}
    with (EXAMPLE_BOOK / "cash_flows.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["date"])
            if (lo is None or day > lo) and day <= hi:
                key = (mode_of[row["investment_id"]], row["type"])
                out[key] = out.get(key, Decimal(0)) + Decimal(row["amount_cny"])
    return out


def _mode_of() -> dict[str, str]:
    import csv

    with (EXAMPLE_BOOK / "investments.csv").open(encoding="utf-8") as handle:
        return {row["id"]: row["mode"] for row in csv.DictReader(handle)}


@pytest.mark.parametrize("quarter", QUARTERS)
def test_bridge_adds_up_to_the_fen_for_every_period_and_mode(csv_book, quarter):
    report = build_quarterly(csv_book, "QY", quarter)
    mode_of = _mode_of()
    end = report["as_of"]
    for bridge in report["bridge"]:
        rows = [*bridge["rows"].values(), bridge["total"]]
        for row in rows:
            assert row["opening"] + row["contributions"] - row["distributions"] + row["change"] == row["closing"]
            assert all(isinstance(v, Decimal) and v == v.quantize(Decimal("0.01")) for v in row.values())
        # the modes add up to the total, column by column
        for key in ("opening", "contributions", "distributions", "change", "closing"):
            assert sum((r[key] for r in bridge["rows"].values()), Decimal(0)) == bridge["total"][key]
        # the flows are those dated in (opening date, end], summed from the CSV itself
        flows = _flows_from_csv(mode_of, bridge["opening_date"], end)
        for mode, row in bridge["rows"].items():
            assert row["contributions"] == flows.get((mode, "contribution"), Decimal(0))
            assert row["distributions"] == flows.get((mode, "distribution"), Decimal(0))
        # closing NAV is the engine's at the quarter end; opening its NAV at the opening date
        closing = compute_report(csv_book, "QY", end)
        assert bridge["total"]["closing"] == closing["summary"]["nav"]
        if bridge["opening_date"] is None:
            assert bridge["total"]["opening"] == 0
        else:
            opening = compute_report(csv_book, "QY", bridge["opening_date"])
            assert bridge["total"]["opening"] == opening["summary"]["nav"]
            for mode, row in bridge["rows"].items():
                assert row["opening"] == opening["by_mode"].get(mode, {}).get("nav", Decimal("0.00"))


def test_bridge_2025q4_worked_by_hand(csv_book):
    # README.md: SF1 called 100,000,000 on 2025-11-15; NAV 459,000,000 on 2025-09-30
    # (expected.json) → 594,000,000 on 2025-12-31; QY-D1 revalued 125,000,000 → 160,000,000.
    quarter = build_quarterly(csv_book, "QY", "2025Q4")["bridge"][0]
    assert quarter["opening_date"] == dt.date(2025, 9, 30)
    assert quarter["total"] == {"opening": Decimal("459000000.00"), "contributions": Decimal("100000000.00"),
                                "distributions": Decimal("0.00"), "change": Decimal("35000000.00"),
                                "closing": Decimal("594000000.00")}
    assert quarter["rows"]["direct"]["change"] == Decimal("35000000.00")
    assert quarter["rows"]["sub_fund"]["change"] == Decimal("0.00")  # roll-forward only


def test_bridge_row_from_zero():
    row = bridge_row(None, {"paid_in": Decimal("10.00"), "distributed": Decimal("3.00"), "nav": Decimal("8.50")},
                     from_zero=True)
    assert row == {"opening": Decimal("0.00"), "contributions": Decimal("10.00"), "distributions": Decimal("3.00"),
                   "change": Decimal("1.50"), "closing": Decimal("8.50")}


@pytest.mark.parametrize("as_of", ["2025-09-30", "2025-12-31"])
def test_figures_equal_the_json_report(book, as_of):
    quarter = {"2025-09-30": "2025Q3", "2025-12-31": "2025Q4"}[as_of]
    report = build_quarterly(book, "QY", quarter)
    engine = to_json(compute_report(book, "QY", dt.date.fromisoformat(as_of)))
    mine = to_json(report)
    for key in ("summary", "by_mode", "by_sector", "lookthrough_by_sector", "by_vintage", "by_region",
                "concentration", "sub_funds", "compliance"):
        if key == "compliance":  # the report lists failures first: same items
            assert sorted(map(json.dumps, mine[key])) == sorted(map(json.dumps, engine[key]))
        else:
            assert mine[key] == engine[key], key
    schedule = {row["id"]: row for row in mine["schedule"]}
    for row in engine["investments"]:
        for key, value in row.items():
            assert schedule[row["id"]][key] == value, (row["id"], key)
    # and the independent reference (expected.json): amounts ±0.01, ratios 1e-7, IRR 1e-6
    expected = EXPECTED[as_of]["summary"]
    for key, value in expected.items():
        tolerance = 0.01 if key in ("commitment", "paid_in", "unfunded", "distributed", "nav") else (
            1e-6 if key == "irr" else 1e-7 * abs(value))
        assert abs(float(report["summary"][key]) - value) <= tolerance, key
    # highlights: this quarter's value and last quarter's, from the engine
    previous = to_json(compute_report(book, "QY", parse_quarter(quarter)[0] - dt.timedelta(days=1)))
    for h in to_json(report["highlights"]):
        assert h["value"] == engine["summary"][h["key"]]
        assert h["previous"] == previous["summary"][h["key"]]


@pytest.mark.parametrize("as_of", ["2023-06-30", "2024-12-31", "2025-09-30", "2025-12-31"])
def test_an_opening_s_figures_are_the_full_report_s(csv_book, as_of):
    """The openings (figures_only) skip each investment's ratios and IRR and the other
    breakdowns; what they give is the full report's, to the fen."""
    day = dt.date.fromisoformat(as_of)
    full = compute_report(csv_book, "QY", day)
    opening = compute_report(csv_book, "QY", day, figures_only=True)
    assert opening["summary"] == full["summary"] and opening["by_mode"] == full["by_mode"]
    amounts = ("commitment", "paid_in", "unfunded", "distributed", "nav")
    assert opening["investments"] == [{"id": row["id"], **{key: row[key] for key in amounts}}
                                      for row in full["investments"]]
    assert opening["investments"] and all(isinstance(row["nav"], Decimal) for row in opening["investments"])
    assert set(opening) == {"fund", "fund_name", "as_of", "currency", "summary", "by_mode", "investments"}


def test_schedule_flags_lagging_valuations_and_activity(book):
    report = build_quarterly(book, "QY", "2025Q4")
    flags = {row["id"]: row["stale"] for row in report["schedule"]}
    # SF1's latest GP report is 2025-09-30 and CO1's 2025-06-30: before the quarter; D1 valued 2025-12-31
    assert flags == {"QY-SF1": True, "QY-D1": False, "QY-CO1": True}
    activity = report["activity"]
    assert [(f["id"], f["date"], f["amount"]) for f in activity["contributions"]] == [
        ("QY-SF1", dt.date(2025, 11, 15), Decimal("100000000.00"))]
    assert activity["distributions"] == [] and activity["exits"] == [] and activity["new_investments"] == []
    # D1: 125,000,000 → 160,000,000 is +28 % > 20 % (the default threshold), valued by comparables
    changes = activity["valuation_changes"]
    assert [c["id"] for c in changes] == ["QY-D1"]
    assert changes[0]["valuation_method"] == "comparables"
    assert changes[0]["change_ratio"] == pytest.approx(0.28)
    assert activity["threshold"] == Decimal("0.20")
    assert report["indicators"] and all("label" in i for i in report["indicators"])
    assert "compliance" in report and report["compliance_by_rule"]
    statuses = [c["status"] for c in report["compliance"]]
    order = {"fail": 0, "warn": 1, "pass": 2}
    assert statuses == sorted(statuses, key=order.get)


def test_exits_and_new_investments():
    b = SyntheticBook().fund("F").company("C1").company("C2", region_code="310115")
    b.investment("F-1", "C1", date="2024-02-01", commitment_cny="1000000")
    b.flow("F-1", "2024-02-01", "1000000")
    b.investment("F-2", "C2", date="2025-05-10", commitment_cny="500000")
    b.flow("F-2", "2025-05-10", "300000")
    b.valuation("F-1", "2025-06-20", "0", method="exited")
    b.flow("F-1", "2025-06-20", "1800000", type="distribution")
    report = build_quarterly(b.book(), "F", "2025Q2")
    activity = report["activity"]
    assert [i["id"] for i in activity["new_investments"]] == ["F-2"]
    assert [(e["id"], e["exit_date"], e["distributed_in_quarter"]) for e in activity["exits"]] == [
        ("F-1", dt.date(2025, 6, 20), Decimal("1800000.00"))]
    quarter = report["bridge"][0]
    assert quarter["total"]["contributions"] == Decimal("300000.00")
    assert quarter["total"]["distributions"] == Decimal("1800000.00")


def test_quarter_without_activity_and_fund_without_valuations_render(app):
    from web.reports import render_document

    b = SyntheticBook().fund("F").company("C1")
    b.investment("F-1", "C1", date="2024-02-01", commitment_cny="1000000")
    b.flow("F-1", "2024-02-01", "400000")
    book = b.book()
    for quarter in ("2024Q3", "2023Q4"):  # nothing happens; before the first investment
        report = build_quarterly(book, "F", quarter)
        assert report["activity"]["contributions"] == [] and report["activity"]["new_investments"] == []
        for bridge in report["bridge"]:
            t = bridge["total"]
            assert t["opening"] + t["contributions"] - t["distributions"] + t["change"] == t["closing"]
        html = render_document(report)
        assert "本季度无出资" in html
        workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
        assert "投资明细表" in workbook.sheetnames
    report = build_quarterly(book, "F", "2024Q3")
    assert [row["unvalued"] for row in report["schedule"]] == [True]
    assert report["summary"]["nav"] == Decimal("400000.00")  # at cost


def test_unknown_fund_and_bad_quarter(csv_book):
    with pytest.raises(QuarterlyError):
        build_quarterly(csv_book, "NOPE", "2025Q4")
    with pytest.raises(QuarterlyError):
        build_quarterly(csv_book, "QY", "2025Q5")


def test_xlsx_holds_numbers_with_formats(book):
    report = build_quarterly(book, "QY", "2025Q4")
    workbook = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
    assert workbook.sheetnames == ["封面与要点", "基金概况", "净值变动表", "业绩分析", "投资明细表", "本季度活动",
                                   "集中度与敞口", "子基金", "合规与绩效评价", "展望"]
    status = workbook["基金概况"]
    headers = [c.value for c in status[2]]
    values = {h: c for h, c in zip(headers, status[3])}
    # amounts in 万元 as on every screen (issue 15): 594,000,000 yuan = 59,400 万元
    assert values["剩余价值（万元）"].value == 59400
    assert values["剩余价值（万元）"].data_type == "n" and values["剩余价值（万元）"].number_format == "#,##0.00"
    assert values["TVPI"].data_type == "n" and abs(values["TVPI"].value - 619 / 530) < 1e-9
    assert values["IRR"].number_format == "0.0%"
    # every cell under an amount header (万元) is a number, never text
    for ws in workbook.worksheets:
        header_cols: dict[int, str] = {}
        for row in ws.iter_rows():
            texts = [c.value for c in row]
            if any(isinstance(t, str) and "（万元）" in t for t in texts):
                header_cols = {c.column: c.value for c in row if isinstance(c.value, str) and "（万元）" in c.value}
                continue
            for cell in row:
                if cell.column in header_cols and cell.value is not None and cell.value != "无":
                    if isinstance(cell.value, str) and not cell.value.strip():
                        continue
                    if isinstance(cell.value, str):
                        header_cols = {}  # a new block without amounts
                        break
                    assert cell.data_type == "n", (ws.title, cell.coordinate, cell.value)
    schedule = workbook["投资明细表"]
    heads = [c.value for c in schedule[2]]
    nav_col = heads.index("剩余价值（万元）")
    navs = {r[0].value: r[nav_col].value for r in schedule.iter_rows(min_row=3) if r[0].value}
    assert navs == {"QY-SF1": 41000, "QY-D1": 16000, "QY-CO1": 2400}
    date_cell = schedule.cell(row=3, column=heads.index("投资日期") + 1)
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    bridge = workbook["净值变动表"]
    for row in bridge.iter_rows(min_row=3, values_only=True):
        if row[0] is None:
            continue
        opening, contributions, distributions, change, closing = (Decimal(str(v)) for v in row[3:8])
        assert opening + contributions - distributions + change == closing


def test_pdf_embeds_chinese_with_page_numbers_and_as_of(app, book, tmp_path):
    from web.reports import render_pdf

    report = build_quarterly(book, "QY", "2025Q4")
    pdf = render_pdf(report)
    path = tmp_path / "q.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert FUND_NAME in text
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert "截至 2025-12-31" in page
        assert f"第 {number} 页 / 共 {len(pages)} 页" in page.replace("第", "第 ").replace("  ", " ") or \
            f"第{number}页/共{len(pages)}页" in page.replace(" ", "")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    assert "Noto-Sans-CJK-SC" in fonts and " yes " in fonts  # embedded
    # charts are vector: no raster image in the PDF
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True).stdout
    assert len(images.strip().splitlines()) <= 2


def test_long_schedule_prints_as_listing_with_every_row(app, tmp_path):
    """Over LISTING_ROWS rows the PDF's schedule is a fixed-width listing (for speed):
    every investment is still there, and the header repeats on each block."""
    from web.reports import LISTING_ROWS, render_document, render_pdf

    b = SyntheticBook().fund("F", size_cny="100000000000").company("C1")
    n = LISTING_ROWS + 20
    for k in range(n):
        b.company(f"C{k:04d}", region_code="330206" if k % 2 else "310115")
        b.investment(f"F-{k:04d}", f"C{k:04d}", date="2024-01-01", commitment_cny="1000000")
        b.flow(f"F-{k:04d}", "2024-01-01", "1000000")
        b.valuation(f"F-{k:04d}", "2025-06-30", str(1000000 + k * 1000), method="dcf")
    report = build_quarterly(b.book(), "F", "2025Q4")
    html = render_document(report)
    assert 'class="listing schedule"' in html
    path = tmp_path / "long.pdf"
    path.write_bytes(render_pdf(report))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    for k in (0, n // 2, n - 1):
        assert f"F-{k:04d}" in text
    assert text.count("估值日期") >= 1 + n // 46  # the header of every block
    assert "滞后" in text  # valued 2025-06-30, before 2025Q4


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_long_quarter_s_flows_print_as_a_listing_with_every_flow_and_the_total(app, tmp_path, lang):
    """Over LISTING_ROWS contributions in the quarter, the PDF lists them as a fixed-width
    listing (a table's cells were most of the heavy book's layout time): every flow on its
    line with its date, investment, target, mode and amount, the header on every block, and
    the total (the bridge's) closing the last block; a short list of distributions stays a table."""
    from web.i18n import request_in
    from web.reports import LISTING_BLOCK, LISTING_ROWS, render_document, render_pdf

    b = SyntheticBook().fund("F", size_cny="100000000000")
    n = LISTING_ROWS + 5
    for k in range(n):
        b.company(f"C{k:04d}")
        b.investment(f"F-{k:04d}", f"C{k:04d}", date="2024-01-01", commitment_cny="1000000")
        b.flow(f"F-{k:04d}", f"2025-{10 + k % 3}-{1 + k % 28:02d}", str(1000 + k))
    b.flow("F-0000", "2025-11-15", "700", type="distribution")
    report = build_quarterly(b.book(), "F", "2025Q4")
    assert len(report["activity"]["contributions"]) == n
    with app.app_context(), request_in(lang):
        html = render_document(report)
        path = tmp_path / "flows.pdf"
        path.write_bytes(render_pdf(report))
    assert 'class="listing activity"' in html and html.count('class="listing activity"') == 1
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    lines = [line for line in text.splitlines() if re.match(r"\s*2025-1[0-2]-\d\d +F-\d{4} ", line)]
    assert len(lines) == n + 1  # every contribution, and the one distribution (its table's row)
    for k in (0, n // 2, n - 1):
        amount = f"{(1000 + k) / 10000:,.2f}"  # in 万元
        assert any(f"F-{k:04d}" in line and f"C{k:04d}" in line and line.rstrip().endswith(amount)
                   for line in lines), k
    total = "合计（与净值变动表一致）" if lang == "zh" else "Total (as in the NAV bridge)"
    expected = f"{sum(1000 + k for k in range(n)) / 10000:,.2f}"
    assert [line for line in text.splitlines() if total in line and line.rstrip().endswith(" " + expected)]
    head = "金额（万元）" if lang == "zh" else "Amount"
    assert sum(head in line and ("编号" in line or "Key" in line) for line in text.splitlines()) >= -(-n // LISTING_BLOCK)


def test_the_long_listing_s_labels_and_headers_fit_their_columns_in_both_languages():
    """The long schedule's columns were sized for Chinese: in English the sector printed
    'Robotics & high-end e~', the mode 'Co-in~', the method 'GP-reported N~' and the headers
    'Investmen~' and 'Owners~'. Each label its vocabulary writes now fits its column, a
    header too wide goes onto a second line, and a line stays within the page."""
    from portfolio.reports.pdf import display_width, listing_head
    from portfolio.vocabulary import LABELS, label
    from web.reports import LISTING_COLUMNS, LISTING_WIDTHS

    for lang, widths in LISTING_WIDTHS.items():
        for column, vocabulary in (("mode", "mode"), ("sector", "sector"), ("region", "region"),
                                   ("method", "method")):
            for code in LABELS[vocabulary]:
                shown = label(vocabulary, code, lang=lang, short=True)
                assert display_width(shown) <= widths[column], (lang, column, shown)
        flag = "滞后" if lang == "zh" else "Lagging"
        line = sum(widths.values()) + 3 * widths["amount"] + widths["date"] + 16 + display_width(flag)
        assert line <= LISTING_COLUMNS, (lang, line)
    head = listing_head([("Investment date", 10, "left"), ("Ownership", 9, "right"), ("Flag", None, "left")])
    assert head == "Investment Ownership Flag\ndate"
    assert listing_head([("投资日期", 10, "left"), ("标记", None, "left")]) == "投资日期   标记"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_long_listing_in_the_pdf_cuts_no_label_or_header(app, tmp_path, lang):
    """The PDF of a schedule printed as a listing, read back with pdftotext -layout: every
    mode, sector and valuation method whole, the headers whole, nothing cut but the
    targets' long names; the Chinese listing as it was."""
    from codelists import SECTORS
    from portfolio.vocabulary import label
    from web.i18n import request_in
    from web.reports import LISTING_ROWS, render_pdf

    b = SyntheticBook().fund("F", size_cny="100000000000")
    for sector in SECTORS:
        b.sub_fund(f"SF-{sector}", sector=sector)
    modes, methods = ("direct", "co_invest", "sub_fund"), ("gp_nav", "last_round", "comparables", "dcf", "cost")
    for k in range(LISTING_ROWS + 1):
        mode, sector = modes[k % 3], SECTORS[k % len(SECTORS)]
        b.company(f"C{k:04d}", sector=sector)
        b.investment(f"F-{k:04d}", f"SF-{sector}" if mode == "sub_fund" else f"C{k:04d}", mode=mode,
                     ownership_pct="12.3456", round="A")
        b.flow(f"F-{k:04d}", "2024-01-01", "1000000")
        b.valuation(f"F-{k:04d}", "2025-06-30", "1000000", method=methods[k % len(methods)])
    report = build_quarterly(b.book(), "F", "2025Q4")
    with app.app_context(), request_in(lang):
        path = tmp_path / "long.pdf"
        path.write_bytes(render_pdf(report))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    rows = [line for line in text.splitlines() if re.match(r"\s*F-\d{4} ", line)]
    assert len(rows) == LISTING_ROWS + 1
    assert not [row for row in rows if "~" in row]
    listing = "\n".join(rows)
    for vocabulary, codes in (("mode", modes), ("sector", SECTORS), ("method", methods)):
        for code in codes:
            assert label(vocabulary, code, lang=lang, short=True) in listing, (vocabulary, code)
    heads = [line for line in text.splitlines() if re.match(r"\s*(编号|Key) ", line)]
    assert heads and not [head for head in heads if "~" in head]
    if lang == "en":
        assert re.search(r"Investment +Round +Ownership", heads[0])
        assert "Robotics & equipment" in listing and "Co-investment" in listing and "GP-reported NAV" in listing
    else:
        assert re.search(r"投资日期 +轮次 +持股", heads[0]) and "机器人和高端装备" in listing


def test_the_exceptions_listing_s_results_and_rules_fit_their_columns_in_both_languages():
    """Over LISTING_ROWS exceptions the compliance section is a fixed-width listing too, its
    result and rule columns sized for Chinese: English printed 'Warni~' and 'Sub-fund single
    company c~', and its explanation was cut at 70 characters where Chinese ones take twice the
    room. Each result and rule name now fits its column in both languages, and an English
    explanation has the room a Chinese one has."""
    from portfolio.reports.pdf import display_width
    from portfolio.vocabulary import LABELS, label
    from web.reports import EXCEPTION_WIDTHS, LISTING_COLUMNS

    for lang, widths in EXCEPTION_WIDTHS.items():
        for column, vocabulary in (("status", "check_status"), ("rule", "rule")):
            for code in LABELS[vocabulary]:
                assert display_width(label(vocabulary, code, lang=lang)) <= widths[column], (lang, code)
        # result, rule, subject 14, value 10, limit 8, their spaces, then the explanation (cut
        # after up to 5 more characters than asked, each two columns wide in Chinese)
        explain = (widths["explain"] + 5) * (2 if lang == "zh" else 1)
        assert widths["status"] + widths["rule"] + 14 + 10 + 8 + 6 + explain <= LISTING_COLUMNS, lang
    assert EXCEPTION_WIDTHS["zh"] == {"status": 6, "rule": 26, "explain": 70}  # the Chinese listing as it was


def test_xlsx_keeps_every_compliance_result(book):
    report = build_quarterly(book, "QY", "2025Q4")
    sheet = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))["合规与绩效评价"]
    rules = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0] in ("通过", "提示", "不通过")]
    assert len(rules) == len(compute_report(book, "QY", dt.date(2025, 12, 31))["compliance"])


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _book_words(book) -> set[str]:
    """The book's own texts (names, managers, rounds): data, which has no English."""
    texts: set[str] = set()
    for frame, columns in ((book.funds, ["name"]), (book.sub_funds, ["name", "manager"]),
                           (book.companies, ["name"]), (book.investments, ["round"])):
        for column in columns:
            texts.update(str(v) for v in frame[column].dropna())
    return texts


def test_xlsx_in_english_says_everything_in_english_with_the_same_figures():
    """Issue 15 item 1: the workbook in English: sheet names, headers, labels, codes and
    messages; the fund's English name; every figure and date the same as the Chinese
    workbook's, in the same format. Only the book's own names stay as the book has them."""
    from tests.forecast_books import demo_book_data

    book = demo_book_data()
    report = build_quarterly(book, "QY", "2025Q4")
    zh = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
    en = load_workbook(io.BytesIO(write_quarterly_xlsx(report, lang="en")))
    assert len(en.sheetnames) == len(zh.sheetnames) == 10
    assert [n for n in en.sheetnames if CJK.search(n) or len(n) > 31] == []  # Excel's limit: 31
    assert en.sheetnames[:5] == ["Cover", "Fund status", "NAV bridge", "Performance", "Schedule of investments"]
    data = _book_words(book)
    kept = 0
    for zs, es in zip(zh.worksheets, en.worksheets):
        assert (zs.max_row, zs.max_column) == (es.max_row, es.max_column), es.title
        for zrow, erow in zip(zs.iter_rows(), es.iter_rows()):
            for z, e in zip(zrow, erow):
                if isinstance(e.value, str) and CJK.search(e.value):
                    assert e.value in data and e.value == z.value, (es.title, e.coordinate, e.value)
                    kept += 1
                elif not isinstance(z.value, str):
                    # the same format, but for a unit word it says in the reader's language (the
                    # IRR's change in percentage points: 个百分点 / pp)
                    assert (e.value, e.number_format) == (z.value, z.number_format.replace("个百分点", "pp")), \
                        (es.title, e.coordinate)
    assert kept > 0  # the companies' and managers' names, which the book has only in Chinese
    cover = {row[0]: row[1] for row in en["Cover"].iter_rows(values_only=True) if row[0]}
    assert cover["Fund name"] == "Ningbo 100bn S&T Innovation Fund"
    assert cover["Currency"] == "CNY (amounts in CNY 10k)"
    heads = [c.value for c in en["Fund status"][2]]
    assert heads[:5] == ["Commitment (CNY 10k)", "Paid-in (CNY 10k)", "Unfunded (CNY 10k)",
                         "Distributed (CNY 10k)", "NAV (CNY 10k)"]
    schedule = en["Schedule of investments"]
    heads = [c.value for c in schedule[2]]
    modes = {row[heads.index("Mode")] for row in schedule.iter_rows(min_row=3, values_only=True) if row[0]}
    assert modes == {"Sub-fund", "Direct", "Co-investment"}
    checks = en["Compliance and evaluation"]
    results = {row[0] for row in checks.iter_rows(min_row=3, values_only=True) if row[0]}
    assert {"Pass", "Warning"} <= results
    look = [row for row in en["Forward look"].iter_rows(values_only=True)]
    assert any(r[0] == "Expected calls" and str(r[1]).startswith("Next year") for r in look)
    assert any(r[0] == "Next 4 quarters" for r in look)

# ---------------------------------------------------------------- the forward look (issue 16)
def test_forward_look_is_the_forecast_from_the_quarter_end():
    from portfolio.figures.forecast_book import forecast
    from tests.forecast_books import demo_book_data

    demo = demo_book_data()
    report = build_quarterly(demo, "QY", "2025Q4")
    fl = report["forward_look"]
    assert fl["as_of"] == dt.date(2025, 12, 31) and fl["next_quarter"] == "2026Q1" and fl["next_year"] == "2026Q1–2026Q4"
    # the same engine, the same paths: the forecast's own figures, to the fen
    result = forecast(demo, "QY", dt.date(2025, 12, 31), paths=fl["paths"], quarters=8)
    by_key = {row["key"]: row for row in fl["rows"]}
    assert set(by_key) == {"calls_next_quarter", "calls_next_year", "distributions_next_quarter",
                           "distributions_next_year"}
    for key, row in by_key.items():
        band = result["outlook"][key]
        for level in ("e", "p10", "p50", "p90"):
            assert isinstance(row[level], Decimal)
            assert abs(row[level] - Decimal(str(band[level]))) <= Decimal("0.01")
        assert row["p10"] <= row["p50"] <= row["p90"]
    assert by_key["calls_next_year"]["e"] == pytest.approx(Decimal(str(result["expected"]["calls_next_year"])),
                                                           abs=Decimal("0.01"))
    # a year holds its first quarter; CCaR95 over 4 quarters lies above the year's P90
    assert by_key["calls_next_year"]["p50"] >= by_key["calls_next_quarter"]["p50"]
    assert fl["ccar95"]["4"] >= by_key["calls_next_year"]["p90"]
    assert fl["ccar95"]["8"] >= fl["ccar95"]["4"]
    assert fl["ccar95_bureau"]["4"] == pytest.approx(fl["ccar95"]["4"] * Decimal(str(fl["bureau_share"])),
                                                     abs=Decimal("0.02"))
    assert fl["checks_ok"]
    # an override moves it: every sub-fund told to call nothing more
    ids = {u["id"]: {"rc_early": 0.0, "rc_late": 0.0} for u in result["units"]}
    still = build_quarterly(demo, "QY", "2025Q4", forecast_overrides=ids)["forward_look"]
    assert all(row["e"] == 0 for row in still["rows"] if row["kind"] == "calls")


def test_forward_look_in_the_xlsx():
    from tests.forecast_books import demo_book_data

    report = build_quarterly(demo_book_data(), "QY", "2025Q4")
    wb = load_workbook(io.BytesIO(write_quarterly_xlsx(report)))
    ws = wb["展望"]
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    calls_year = next(r for r in cells if r[0] == "预计出资" and str(r[1]).startswith("未来一年"))
    row = next(x for x in report["forward_look"]["rows"] if x["key"] == "calls_next_year")
    assert calls_year[2] == pytest.approx(float(row["e"] / 10_000), abs=0.005)  # 万元, a number
    assert any(r[0] == "未来 4 个季度" for r in cells)


def test_pdf_keeps_headings_with_their_tables_badges_in_cells_and_columns_that_fit(app, tmp_path):
    """Issue 15: '4. 投资明细表' was stranded at the foot of a page, the 滞后 badge clipped and
    子基金 wrapped in its cell. Now no page ends with a heading, the schedule starts a page
    of its own with its rows, and a row's mode and its lag badge stay on its line."""
    import re

    from web.reports import render_document, render_pdf

    b = SyntheticBook().fund("F", size_cny="100000000000")
    for k in range(24):
        sub = k % 2 == 0
        target = f"SF{k:02d}" if sub else f"C{k:02d}"
        (b.sub_fund(target, size_cny="2000000000") if sub else b.company(target))
        b.investment(f"F-{k:02d}", target, mode="sub_fund" if sub else "direct", date="2023-06-30",
                     commitment_cny="300000000", round=None if sub else "B轮", ownership_pct="10")
        b.flow(f"F-{k:02d}", "2023-06-30", "200000000")
        # every fourth lags: its latest valuation is before the quarter (滞后)
        b.valuation(f"F-{k:02d}", "2025-06-30" if k % 4 == 0 else "2025-12-31", str(210000000 + k * 1000000),
                    method="gp_nav" if sub else "dcf")
    report = build_quarterly(b.book(), "F", "2025Q4")
    html = render_document(report)
    headings = {re.sub(r"<[^>]+>|\s+", "", h) for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html, re.S)}
    path = tmp_path / "layout.pdf"
    path.write_bytes(render_pdf(report))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]

    def content(page: str) -> list[str]:  # without the running header and the page number
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        return [line for line in lines if "截至 2025-12-31" not in line and not re.search(r"第\s*\d+\s*页", line)]

    for number, page in enumerate(pages, start=1):
        lines = content(page)
        assert lines and re.sub(r"\s+", "", lines[-1]) not in headings, (number, lines[-1])
    schedule = next(i for i, page in enumerate(pages) if "4. 投资明细表" in page)
    assert content(pages[schedule])[0].startswith("4. 投资明细表")  # a page of its own, its rows on it
    assert len(re.findall(r"F-\d\d", pages[schedule])) >= 10
    rows = {m.group(1): line for page in pages[schedule:schedule + 3] for line in page.splitlines()
            if (m := re.match(r"\s*(F-\d\d)\s", line))}
    assert len(rows) == 24
    for k in range(24):
        line = rows[f"F-{k:02d}"]
        assert ("子基金" if k % 2 == 0 else "直投") in line, line
        if k % 4 == 0:
            assert re.search(r"2025-06-30\s*滞后", line), line


def test_xlsx_amounts_to_the_fen_and_formats_from_xlsxwriter():
    """The workbook is written by XlsxWriter: each amount, read back, is the report's exact
    Decimal yuan / 10,000 to the fen; dates are dates in yyyy-mm-dd; each cell keeps its
    own number format where a column mixes kinds (a figure's value column)."""
    import datetime as dt
    import io
    from decimal import Decimal

    import openpyxl

    from portfolio.reports.xlsx import AMOUNT, DATE, Formatted, _Book, _Sheet

    book = _Book()
    sheet = _Sheet(book, "封面与要点", "zh")
    amounts = [Decimal("753146299247.24"), Decimal("0.01"), Decimal("-1234567.89"), Decimal("99999999999.99")]
    sheet.table([("金额（万元）", AMOUNT), ("日期", DATE), ("数值", None)],
                [[a, dt.date(2025, 12, 31), Formatted(Decimal("0.0523"), "0.0%")] for a in amounts])
    ws = openpyxl.load_workbook(io.BytesIO(book.close())).worksheets[0]
    for n, amount in enumerate(amounts, start=2):
        cell = ws.cell(row=n, column=1)
        assert cell.number_format == AMOUNT
        assert Decimal(repr(cell.value)).quantize(Decimal("0.000001")) == amount / 10_000
        assert ws.cell(row=n, column=2).value == dt.datetime(2025, 12, 31)
        assert ws.cell(row=n, column=2).number_format == DATE
        assert ws.cell(row=n, column=3).number_format == "0.0%"
