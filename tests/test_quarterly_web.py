"""The quarterly report in the app (/reports), its downloads, the dashboard buttons and
the `quarterly-report` command, on the example book imported into the test database."""
from __future__ import annotations

import io
import subprocess
import time

import pytest
from flask import render_template_string
from openpyxl import load_workbook

from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK

FUND_NAME = "宁波千亿科技创新基金"


@pytest.fixture
def example(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="test")
    assert result.ok, result.errors


def test_report_page_shows_every_section(example, as_role):
    client = as_role("viewer")
    response = client.get("/reports/QY/2025Q4")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert FUND_NAME in html and "2025-12-31" in html
    for section in ("cover", "status", "bridge", "performance", "schedule", "activity", "concentration",
                    "sub-funds", "compliance"):
        assert f'id="{section}"' in html
    assert "5.94" in html          # NAV 594,000,000 yuan in 亿元 (README.md)
    assert "59,400.00" in html     # and in 万元 in the bridge
    assert "<svg" in html          # charts inline
    assert "/reports/QY/2025Q4.xlsx" in html and "/reports/QY/2025Q4.pdf" in html


def test_downloads(example, as_role, tmp_path):
    client = as_role("viewer")
    response = client.get("/reports/QY/2025Q4.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    cell = workbook["基金概况"]["E3"]
    assert cell.data_type == "n" and float(cell.value) == 59400.0  # 万元, as on every screen (issue 15)
    response = client.get("/reports/QY/2025Q4.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "r.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert FUND_NAME in text


def test_the_cover_gives_the_funds_name_in_the_other_language_under_the_title(example, as_role):
    import re

    client = as_role("viewer")
    for lang, title, sub in (("zh", FUND_NAME, "Ningbo 100bn S&amp;T Innovation Fund"),
                             ("en", "Ningbo 100bn S&amp;T Innovation Fund", FUND_NAME)):
        client.get(f"/lang/{lang}")
        html = client.get("/reports/QY/2025Q4").get_data(as_text=True)
        cover = re.search(r'<section class="cover" id="cover">(.*?)</section>', html, re.S).group(1)
        assert re.search(r"<h1>\s*(.*?)\s*</h1>", cover).group(1) == title, lang
        assert re.findall(r'<p class="sub">(.*?)</p>', cover) == [sub], lang
    client.get("/lang/zh")


def test_a_quarter_written_any_way_is_one_report(example, as_role):
    """2025q4 or ２０２５Ｑ４ in an address is sent to 2025Q4's (the query kept, nothing else taken
    from it); a job asked for ２０２５ｑ４ is 2025Q4's job, its file QY-2025Q4.xlsx."""
    client = as_role("viewer")
    for asked in ("2025q4", "２０２５Ｑ４"):
        page = client.get(f"/reports/QY/{asked}?index=&quarter=x&_external=1&endpoint=y&a=1&a=2")
        assert page.status_code == 302, asked  # the query as it came, none of it url_for's arguments
        assert page.headers["Location"] == "/reports/QY/2025Q4?index=&quarter=x&_external=1&endpoint=y&a=1&a=2"
        download = client.get(f"/reports/QY/{asked}.xlsx")
        assert download.status_code == 302 and download.headers["Location"] == "/reports/QY/2025Q4.xlsx", asked
    first = client.post("/reports/jobs", data={"fund": "QY", "quarter": "２０２５ｑ４", "format": "xlsx"},
                        headers={"Accept": "application/json"}).get_json()
    again = client.post("/reports/jobs", data={"fund": "QY", "quarter": "2025Q4", "format": "xlsx"},
                        headers={"Accept": "application/json"}).get_json()
    assert first["id"] == again["id"]
    status = first
    for _ in range(600):
        if status["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
        status = client.get(first["status_url"]).get_json()
    assert status["state"] == "done", status
    assert "QY-2025Q4.xlsx" in client.get(status["download_url"]).headers["Content-Disposition"]


def test_downloads_in_english_are_their_own_files(example, as_role):
    """The workbook in the reader's language (issue 15 item 1): English after /lang/en, a
    separate cached file from the Chinese one; the report job keys on the language too."""
    client = as_role("viewer")
    chinese = client.get("/reports/QY/2025Q4.xlsx")
    client.get("/lang/en")
    english = client.get("/reports/QY/2025Q4.xlsx")
    assert english.status_code == 200 and english.data != chinese.data
    assert "<h3>Exits</h3>" in client.get("/reports/QY/2025Q4").get_data(as_text=True)  # not "Log out"
    workbook = load_workbook(io.BytesIO(english.data))
    assert workbook.sheetnames[1] == "Fund status" and workbook["Fund status"]["E2"].value == "NAV (CNY 10k)"
    cell = workbook["Fund status"]["E3"]
    assert cell.data_type == "n" and float(cell.value) == 59400.0 and cell.number_format == "#,##0.00"
    job = client.post("/reports/jobs", data={"fund": "QY", "quarter": "2025Q4", "format": "xlsx"},
                      headers={"Accept": "application/json"})
    assert job.status_code == 202
    status = job.get_json()
    for _ in range(600):  # polled as static/jobs.js does, for up to a minute
        if status["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
        status = client.get(status["status_url"]).get_json()
    assert status["state"] == "done", status
    assert client.get(status["download_url"]).data == english.data
    client.get("/lang/zh")
    assert load_workbook(io.BytesIO(client.get("/reports/QY/2025Q4.xlsx").data)).sheetnames[1] == "基金概况"


def test_bad_requests_and_login(example, client, as_role):
    assert client.get("/reports/QY/2025Q4").status_code == 302  # login first
    as_role("viewer")
    assert client.get("/reports/QY/2025Q9").status_code == 404
    assert client.get("/reports/NOPE/2025Q4").status_code == 404
    assert client.get("/reports/QY/2025Q4?index=NOINDEX").status_code == 302
    assert client.get("/reports/QY/2025Q4.xlsx?index=NOINDEX").status_code == 404
    assert client.get("/reports/").status_code == 200
    response = client.get("/reports/choose?fund=QY&quarter=2025q3")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/QY/2025Q3")
    response = client.get("/reports/choose?fund=QY&quarter=bad")  # the screen again, refused, the fund kept
    assert response.status_code == 400 and "季度格式应为 2025Q4" in response.get_data(as_text=True)


def test_a_quarter_refused_keeps_the_fund_it_was_asked_for(example, db, client, as_role, monkeypatch):
    """From a fund's report, a quarter typed wrong or not ended yet sent the reader to the
    reports screen with the first fund chosen (QY), not the one they were reading."""
    import datetime as dt
    import re
    from decimal import Decimal

    import web.reports
    from models import Fund

    db.session.add(Fund(code="ZZ", name="另一基金", kind="innovation_fund", size_cny=Decimal(10**9),
                        vintage_year=2025, settings={}))  # a fund after QY in the list
    db.session.commit()
    monkeypatch.setattr(web.reports, "local_today", lambda: dt.date(2026, 12, 5))
    client = as_role("viewer")
    for url in ("/reports/choose?fund=ZZ&quarter=2025Q9", "/reports/choose?fund=ZZ&quarter=2026Q4",
                "/reports/ZZ/2026Q4", "/reports/ZZ/2026Q4.pdf"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, url
        chosen = re.findall(r'<option value="([^"]+)" selected>', html)
        assert chosen == ["ZZ", "ZZ"], (url, chosen)
    page = client.post("/reports/jobs", data={"fund": "ZZ", "quarter": "2026Q4", "format": "xlsx"})
    assert page.status_code == 400 and re.findall(r'<option value="([^"]+)" selected>',
                                                  page.get_data(as_text=True)) == ["ZZ", "ZZ"]


def test_the_quarter_is_chosen_from_the_book_s_quarters(example, client, as_role):
    """Issue 15: the quarter was a free-text box. Now both forms offer the quarters from the
    book's first investment to the last quarter end, newest first, the last one chosen; and
    the funds are named in the reader's language."""
    import datetime as dt
    import re

    from portfolio.formatting import last_quarter_end, quarter

    as_role("viewer")
    html = client.get("/reports/").get_data(as_text=True)
    for select_id in ("quarter", "job-quarter"):
        block = html[html.index(f'<select id="{select_id}"'):]
        options = re.findall(r"<option( selected)?>(\d{4}Q[1-4])</option>", block[:block.index("</select>")])
        quarters = [q for _, q in options]
        first_investment = "2023Q1"  # spec/example/book: the first deal, QY-SF1, is dated 2023-03-31
        assert quarters[0] == quarter(last_quarter_end(dt.date.today())) and quarters[-1] == first_investment
        assert [q for chosen, q in options if chosen] == [quarters[0]]
        assert len(quarters) == len(set(quarters)) and quarters == sorted(quarters, reverse=True)
    client.get("/lang/en")
    english = client.get("/reports/").get_data(as_text=True)
    job_funds = english[english.index('<select id="job-fund"'):]
    assert "宁波" not in job_funds[:job_funds.index("</select>")]


def test_dashboard_buttons(app):
    import datetime as dt

    with app.test_request_context("/"):
        html = render_template_string('{% include "main/_report_buttons.html" %}', fund_code="QY",
                                      as_of=dt.date(2025, 11, 15))
    # the last complete quarter on or before the dashboard's date
    assert "/reports/QY/2025Q3.xlsx" in html and "/reports/QY/2025Q3.pdf" in html


@pytest.mark.parametrize("fmt", ["html", "xlsx", "pdf"])
def test_cli(example, runner, tmp_path, fmt):
    out = tmp_path / f"q.{fmt}"
    result = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if fmt == "html":
        assert FUND_NAME in data.decode("utf-8") and "@page" in data.decode("utf-8")
    elif fmt == "xlsx":
        assert load_workbook(io.BytesIO(data))["基金概况"]["E3"].data_type == "n"
    else:
        assert data.startswith(b"%PDF")


def test_cli_in_english(example, runner, tmp_path):
    """--lang en: the workbook (and the report job it runs as) in English; Chinese by default."""
    out = tmp_path / "q-en.xlsx"
    result = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "xlsx", "--lang", "en",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    assert workbook.sheetnames[1] == "Fund status" and workbook["Fund status"]["E2"].value == "NAV (CNY 10k)"
    assert float(workbook["Fund status"]["E3"].value) == 59400.0
    chinese = tmp_path / "q-zh.xlsx"
    assert runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "xlsx", "-o", str(chinese)]).exit_code == 0
    assert load_workbook(chinese).sheetnames[1] == "基金概况"


def test_cli_unknown_fund(example, runner, tmp_path):
    result = runner.invoke(args=["quarterly-report", "NOPE", "2025Q4", "-o", str(tmp_path / "x.html")])
    assert result.exit_code != 0 and "NOPE" in result.output


from tests.browser import log_in, screenshot  # noqa: E402
from tests.conftest import make_user  # noqa: E402


@pytest.mark.browser
def test_report_in_a_browser_from_the_menu(example, db, live_server, new_page):
    """From the menu to the report, its download links work, the charts are drawn."""
    make_user(db, "viewer_q", "viewer")
    page = new_page(timeout_ms=30_000, accept_downloads=True)
    log_in(page, live_server, "viewer_q")
    page.click("nav.mainnav >> text=季度报告")
    page.select_option("select[name=fund]", "QY")
    page.select_option("select[name=quarter]", "2025Q4")  # a list of the book's quarters
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/reports/QY/2025Q4")
    assert FUND_NAME in page.locator("h1").first.inner_text()
    assert page.locator("#bridge table.bridge").count() == 3
    assert page.locator("figure.chart svg").count() >= 3
    with page.expect_download() as info:
        page.click("text=下载 Excel")
    assert info.value.suggested_filename == "QY-2025Q4.xlsx"
    with page.expect_download() as info:
        page.click("text=下载 PDF")
    assert info.value.suggested_filename == "QY-2025Q4.pdf"
    screenshot(page, "quarterly_report")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()  # printable: no app chrome


def test_fund_dashboard_offers_the_report(example, as_role):
    client = as_role("viewer")
    html = client.get("/funds/QY?as_of=2025-12-31").get_data(as_text=True)
    assert "/reports/QY/2025Q4.pdf" in html and "/reports/QY/2025Q4.xlsx" in html


def _index(db, name: str, first: str):
    """A generated index series (metrics.md: real index data cannot be downloaded here)."""
    import datetime as dt
    from decimal import Decimal

    from models import IndexLevel

    day, level = dt.date.fromisoformat(first), Decimal("3000")
    while day <= dt.date(2026, 3, 31):
        db.session.add(IndexLevel(name=name, date=day, level=level))
        day += dt.timedelta(days=30)
        level = (level * Decimal("1.004")).quantize(Decimal("0.000001"))
    db.session.commit()


def test_pme_against_a_loaded_index(example, db, as_role, runner, tmp_path):
    _index(db, "GEN300", "2022-12-31")
    client = as_role("viewer")
    html = client.get("/reports/QY/2025Q4?index=GEN300").get_data(as_text=True)
    assert "GEN300" in html and "KS-PME" in html and "ks_pme" not in html  # named, not coded (issue 15)
    assert "/reports/QY/2025Q4.pdf?index=GEN300" in html
    sheet = load_workbook(io.BytesIO(client.get("/reports/QY/2025Q4.xlsx?index=GEN300").data))["业绩分析"]
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert isinstance(values["KS-PME（倍数）"], float)
    out = tmp_path / "q.xlsx"
    result = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "xlsx", "--index", "GEN300",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output


def test_index_starting_after_the_first_flow_is_refused(example, db, as_role):
    _index(db, "LATE", "2024-06-30")  # QY's first flow is 2023-03-31
    client = as_role("viewer")
    response = client.get("/reports/QY/2025Q4?index=LATE")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/QY/2025Q4")
    html = client.get("/reports/QY/2025Q4").get_data(as_text=True)
    assert "LATE" in html  # the flashed reason, then the report without the index
    assert client.get("/reports/QY/2025Q4.pdf?index=LATE").status_code == 404


def _distribute_in_the_quarter(db) -> None:
    """A new, audited distribution of 1,234,567.89 yuan to QY-D1 on 2025-12-01: a write to the book."""
    import datetime as dt
    from decimal import Decimal

    from models import CashFlow
    from portfolio.book.audit import audit

    flow = CashFlow(investment_id="QY-D1", date=dt.date(2025, 12, 1), type="distribution",
                    amount_cny=Decimal("1234567.89"), approved_by="chair", approved_at=dt.datetime(2025, 12, 2))
    db.session.add(flow)
    db.session.flush()
    audit(db.session, "manager1", "create", "cash_flows", str(flow.id), after={"amount_cny": "1234567.89"})
    db.session.commit()


def test_a_write_to_the_book_shows_in_the_next_report(example, db, as_role):
    """The report is cached by book version: a new (audited) cash flow changes it."""
    client = as_role("manager")
    assert "本季度无分配" in client.get("/reports/QY/2025Q4").get_data(as_text=True)
    _distribute_in_the_quarter(db)
    html = client.get("/reports/QY/2025Q4").get_data(as_text=True)
    assert "本季度无分配" not in html and "123.46" in html  # 1,234,567.89 yuan in 万元


def test_the_report_body_is_rendered_once_per_book_version_and_language(example, db, as_role, monkeypatch):
    """The page's body (tables and charts) is the same for every reader in a language: it is
    rendered once per book version, the page around it (the menu, the user) each time."""
    import web.reports as reports

    rendered = []
    charts = reports.report_charts
    monkeypatch.setattr(reports, "report_charts", lambda report, lang: rendered.append(lang) or charts(report, lang))
    viewer = as_role("viewer").get("/reports/QY/2025Q4").get_data(as_text=True)
    manager = as_role("manager").get("/reports/QY/2025Q4").get_data(as_text=True)
    assert rendered == ["zh"]
    assert "viewer1" in viewer and "manager1" in manager and "viewer1" not in manager
    body = viewer[viewer.index('id="cover"'):viewer.index("</main>")]
    assert body in manager  # the same body, under another user's page
    client = as_role("manager")
    client.get("/lang/en")
    assert "Forward look" in client.get("/reports/QY/2025Q4").get_data(as_text=True)
    client.get("/lang/zh")
    assert rendered == ["zh", "en"]
    _distribute_in_the_quarter(db)  # a write to the book: a new version, a new body
    assert "123.46" in client.get("/reports/QY/2025Q4").get_data(as_text=True)
    assert rendered == ["zh", "en", "zh"]


def test_forward_look_on_the_page_in_the_pdf_and_in_english(example, as_role, db, tmp_path):
    from models import Investment
    from portfolio.book.forecast_parameters import set_forecast_parameters
    from portfolio.formatting import wan

    client = as_role("viewer")
    html = client.get("/reports/QY/2025Q4").get_data(as_text=True)
    assert 'id="forward-look"' in html and "展望：预计出资与分配" in html and 'id="forward-ccar"' in html
    assert "2026Q1–2026Q4" in html
    pdf = client.get("/reports/QY/2025Q4.pdf").data
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "展望" in text and "CCaR95" in text
    client.get("/lang/en")
    english = client.get("/reports/QY/2025Q4").get_data(as_text=True)
    assert "Forward look: expected calls and distributions" in english and "Next quarter" in english
    client.get("/lang/zh")
    # an override of the forecast parameters reaches the report although the book did not change
    from web.reports import quarterly_report
    before = quarterly_report("QY", "2025Q4")["forward_look"]
    for inv in db.session.query(Investment).filter(Investment.fund_code == "QY").all():
        set_forecast_parameters(db.session, inv.id, {"rc_early": "0", "rc_late": "0"}, username="admin")
    after = quarterly_report("QY", "2025Q4")["forward_look"]
    assert after["rows"][0]["e"] == 0 and before["rows"][1]["e"] > 0
    assert wan(after["rows"][1]["e"]) in client.get("/reports/QY/2025Q4").get_data(as_text=True)


def test_the_funds_default_index_is_used_and_a_failing_one_dropped_once(example, db, as_role):
    """Issue 15: with no ?index the report compares with the fund's pme_index; when that index
    cannot price the flows the report is shown without it (no redirect loop)."""
    from tests.conftest import settings_in_force

    _index(db, "GEN300", "2022-12-31")
    _index(db, "LATE", "2024-06-30")
    settings_in_force(db.session, "QY", {"pme_index": "GEN300"}, username="admin")
    client = as_role("viewer")
    html = client.get("/reports/QY/2025Q4").get_data(as_text=True)
    assert "GEN300" in html and "KS-PME" in html
    settings_in_force(db.session, "QY", {"pme_index": "LATE"}, username="admin")
    response = client.get("/reports/QY/2025Q4")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/QY/2025Q4?index=")
    html = client.get("/reports/QY/2025Q4?index=").get_data(as_text=True)
    assert "LATE" in html and "KS-PME" not in html


def test_the_command_compares_with_the_funds_index_as_the_screen_does(example, db, as_role, runner, tmp_path):
    """`flask quarterly-report` without --index had shown 未选择比较指数 where the screen's report
    of the same quarter compared with the fund's pme_index: one report, two answers. Now both
    start from the fund's setting; --index '' asks for none."""
    from tests.conftest import settings_in_force

    _index(db, "GEN300", "2022-12-31")
    settings_in_force(db.session, "QY", {"pme_index": "GEN300"}, username="admin")
    out = tmp_path / "q.html"
    done = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "html", "-o", str(out), "--no-progress"])
    assert done.exit_code == 0, done.output
    written = out.read_text(encoding="utf-8")
    assert "GEN300" in written and "KS-PME" in written
    screen = as_role("viewer").get("/reports/QY/2025Q4").get_data(as_text=True)
    assert "GEN300" in screen and "KS-PME" in screen
    none = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "html", "-o", str(out), "--index", "",
                               "--no-progress"])
    assert none.exit_code == 0 and "KS-PME" not in out.read_text(encoding="utf-8")


def test_a_quarter_not_yet_ended_is_refused_on_the_screen_the_command_line_and_as_json(example, as_role, runner,
                                                                                       monkeypatch):
    """2026Q4 asked for on 2026-12-05 (Asia/Shanghai) had been built and labelled 截至 2026-12-31:
    refused, beside the quarter field on the screen, by the command, and as a 4xx JSON error
    (never a 5xx); the quarter before still reports."""
    import datetime as dt

    import web.reports

    monkeypatch.setattr(web.reports, "local_today", lambda: dt.date(2026, 12, 5))
    client = as_role("viewer")
    for url in ("/reports/choose?fund=QY&quarter=2026Q4", "/reports/QY/2026Q4", "/reports/QY/2026q4",
                "/reports/QY/2026Q4.xlsx", "/reports/QY/2026Q4.pdf"):
        response = client.get(url, follow_redirects=True)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, (url, response.status_code)
        assert '<span class="error" data-field="quarter">2026Q4 尚未结束' in html, url
        assert "截至 2026-12-31" not in html
    client.get("/lang/en")
    english = client.get("/reports/QY/2026Q4").get_data(as_text=True)
    assert '<span class="error" data-field="quarter">2026Q4 has not ended yet' in english  # the reader's language
    client.get("/lang/zh")

    page = client.post("/reports/jobs", data={"fund": "QY", "quarter": "2026Q4", "format": "xlsx"})
    assert page.status_code == 400
    assert '<span class="error" data-field="job-quarter">2026Q4 尚未结束' in page.get_data(as_text=True)
    answer = client.post("/reports/jobs", data={"fund": "QY", "quarter": "2026Q4", "format": "pdf"},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 400 and "2026Q4 尚未结束" in answer.get_json()["error"]

    out = runner.invoke(args=["quarterly-report", "QY", "2026Q4", "--output", "/dev/null"])
    assert out.exit_code != 0 and "2026Q4 尚未结束" in out.output and "Traceback" not in out.output, out.output
    english_cli = runner.invoke(args=["quarterly-report", "QY", "2026Q4", "--output", "/dev/null"],
                                env={"PORTFOLIO_LANG": "en"})
    assert english_cli.exit_code != 0 and "2026Q4 has not ended yet" in english_cli.output, english_cli.output

    # the quarter that has ended still reports, on the screen and as a file
    assert client.get("/reports/QY/2026Q3").status_code == 200
    assert client.get("/reports/choose?fund=QY&quarter=2026Q3").status_code == 302
    assert client.get("/reports/QY/2026Q3.xlsx").status_code == 200
