"""End-to-end: the fund managers' screens in a real browser (headless Chromium), on the
example book of the spec. Screenshots go to tests/artifacts/."""
from __future__ import annotations

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from models import AuditEntry, CashFlow, Investment, Valuation
from portfolio.book import cache
from portfolio.interchange.importing import import_book
from tests.browser import screenshot
from tests.conftest import EXAMPLE_BOOK, approved_investment

pytestmark = pytest.mark.browser


@pytest.fixture
def book(db):
    cache.clear()
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok


def test_log_in_and_read_the_dashboard(book, logged_in_page, live_server):
    page = logged_in_page("manager")
    page.goto(live_server + "/?as_of=2025-12-31")
    assert page.locator('tr[data-fund="QY"]').count() == 1
    screenshot(page, "screens-home")
    page.click('tr[data-fund="QY"] a >> nth=0')
    page.wait_for_selector("#compliance")
    assert "穿透" in page.inner_text("#lookthrough h2")
    assert page.locator("svg.chart").count() >= 3
    first_check = page.locator("#compliance tbody tr").first.get_attribute("data-status")
    assert first_check in ("fail", "warn")  # failures (then warnings) come first
    screenshot(page, "screens-dashboard")


def test_log_a_direct_investment(db, book, logged_in_page, live_server):
    page = logged_in_page("manager")
    page.goto(live_server + "/book/investments/new")
    page.fill("#id", "QY-D7")
    page.select_option("#fund_code", "QY")
    page.select_option("#mode", "direct")
    page.fill("#target_code", "C3")
    # the date: a YYYY-MM-DD text box (never the locale's mm/dd/yyyy), filled from its calendar
    assert page.get_attribute("#date", "placeholder") == "YYYY-MM-DD" and page.get_attribute("#date", "type") == "text"
    page.fill('input.date-picker[data-date-for="date"]', "2025-10-20")
    assert page.input_value("#date") == "2025-10-20"
    # amounts are typed in 万元, the unit shown beside the field, unless 元 is chosen there
    assert page.locator("#commitment_cny_unit option:checked").inner_text() == "万元"
    page.fill("#commitment_cny", "abc")  # a typing slip: shown beside the field, the rest kept
    page.fill("#round", "A轮")
    page.click("#investment-form button[type=submit]")
    page.wait_for_selector('.error[data-field="commitment_cny"]')
    assert page.input_value("#round") == "A轮" and page.input_value("#target_code") == "C3"
    screenshot(page, "screens-investment-form-error")
    page.fill("#commitment_cny", "800")  # 万元
    page.fill("#ownership_pct", "5")
    page.click("#investment-form button[type=submit]")
    page.wait_for_url("**/book/investments/new?fund=QY#waiting-new-investments")  # asked: another person books it
    assert "QY-D7" in page.inner_text("#waiting-new-investments")
    db.session.expire_all()
    assert db.session.get(Investment, "QY-D7") is None
    approved_investment(db.session, "QY-D7")
    investment = db.session.get(Investment, "QY-D7")
    assert investment.company_code == "C3" and investment.mode == "direct"
    assert investment.commitment_cny == 8_000_000 and investment.date.isoformat() == "2025-10-20"
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity_key == "QY-D7",
                                                        AuditEntry.action == "request_create")).scalar_one()
    assert entry.username == "manager_e2e"


def test_record_and_approve_a_valuation_by_two_people(db, book, logged_in_page, live_server):
    maker = logged_in_page("manager", "maker")
    maker.goto(live_server + "/investments/QY-CO1")
    maker.click("text=记录估值")
    maker.fill("#as_of", "2025-12-31")
    maker.fill("#fair_value_cny", "45000000")
    maker.select_option("#fair_value_cny_unit", "yuan")  # typed in 元, chosen beside the field
    maker.select_option("#method", "last_round")
    maker.click("#record-form button[type=submit]")
    maker.wait_for_url("**/investments/QY-CO1")
    assert "草稿，待审批" in maker.inner_text("#valuations")
    assert maker.locator("#valuations button.approve").count() == 0  # not by the maker
    valuation = db.session.execute(select(Valuation).where(Valuation.entered_by == "maker")).scalar_one()
    assert valuation.fair_value_cny == 45_000_000

    checker = logged_in_page("admin", "checker")
    checker.goto(live_server + "/book/pending")
    checker.click(f'tr[data-valuation="{valuation.id}"] button.approve')
    checker.wait_for_selector(".flash")
    checker.goto(live_server + "/investments/QY-CO1")
    row = checker.inner_text(f'tr[data-valuation="{valuation.id}"]')
    assert "已审批" in row and "checker" in row
    screenshot(checker, "screens-valuation-approved")
    db.session.expire_all()
    assert db.session.get(Valuation, valuation.id).approved_by == "checker"
    checker.goto(live_server + f"/history/valuations/{valuation.id}")
    assert checker.locator("#audit tr[data-entry]").count() == 2  # create, approve: who and when
    assert "checker" in checker.inner_text("#audit tr[data-entry] >> nth=0")
    screenshot(checker, "screens-history")


def test_a_cash_flow_and_a_void_each_take_two_people(db, book, logged_in_page, live_server):
    """The book's money under maker-checker in the browser: a manager records a capital call
    (a draft) and asks to void a booked distribution; another approves both on 待审批记录."""
    maker = logged_in_page("manager", "maker")
    maker.goto(live_server + "/investments/QY-SF1")
    maker.click("text=记录现金流")
    maker.fill("#date", "2025-11-03")
    maker.select_option("#type", "contribution")
    maker.fill("#amount_cny", "300")  # 万元
    maker.fill("#ref", "CALL-E2E")
    maker.click("#record-form button[type=submit]")
    maker.wait_for_url("**/investments/QY-SF1")
    flow = db.session.execute(select(CashFlow).where(CashFlow.ref == "CALL-E2E")).scalar_one()
    assert "草稿，待审批" in maker.inner_text(f'tr[data-flow="{flow.id}"]')
    assert maker.locator("#flows button.approve").count() == 0  # not by the maker
    booked = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-SF1",
                                                       CashFlow.type == "distribution")).scalars().first()
    maker.goto(live_server + f"/book/cash-flows/{booked.id}/void")
    maker.fill("#reason", "银行退回")
    maker.click("#void-form button[type=submit]")
    maker.wait_for_url("**/investments/QY-SF1")
    assert "作废待批准" in maker.inner_text(f'tr[data-flow="{booked.id}"]')
    screenshot(maker, "screens-flow-draft-and-void-asked")

    checker = logged_in_page("admin", "checker")
    checker.goto(live_server + "/book/pending")
    checker.click(f'#pending-flows tr[data-flow="{flow.id}"] button.approve')
    checker.wait_for_selector(".flash")
    checker.click(f'#pending-voids tr[data-flow-void="{booked.id}"] button.approve')
    checker.wait_for_selector(".flash")
    screenshot(checker, "screens-pending-done")
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).approved_by == "checker"
    assert db.session.get(CashFlow, booked.id).voided_by == "checker"
    checker.goto(live_server + "/investments/QY-SF1")
    assert "已审批" in checker.inner_text(f'tr[data-flow="{flow.id}"]')
    assert "已作废" in checker.inner_text(f'tr[data-flow="{booked.id}"]')


def test_a_correction_of_an_investment_s_terms_takes_two_people(db, book, logged_in_page, live_server):
    maker = logged_in_page("manager", "maker")
    maker.goto(live_server + "/book/investments/QY-D1/correct")
    maker.fill("#commitment_cny", "13000")  # 万元
    maker.fill("#correction_reason", "补充协议增资")
    maker.click("#record-form button[type=submit]")
    maker.wait_for_url("**/investments/QY-D1")
    card = maker.inner_text("#corrections")
    assert "更正待批准" in card and "13,000.00" in card and "补充协议增资" in card  # exactly, in 万元
    assert maker.locator("#corrections button.approve").count() == 0  # not by whoever asked
    db.session.expire_all()
    assert db.session.get(Investment, "QY-D1").commitment_cny != 130_000_000  # the terms stay until approved

    checker = logged_in_page("admin", "checker")
    checker.goto(live_server + "/investments/QY-D1")
    screenshot(checker, "screens-correction-waiting")
    checker.click("#corrections button.approve")
    checker.wait_for_selector(".flash")
    assert checker.locator("#corrections").count() == 0
    db.session.expire_all()
    assert db.session.get(Investment, "QY-D1").commitment_cny == 130_000_000


def test_upload_a_bad_book_and_read_its_errors(db, book, logged_in_page, live_server, tmp_path):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in {"funds": [["code", "name", "kind", "size_cny", "vintage_year"],
                                 ["NB9", "测试基金", "rocket", "100", "2024"]],
                       "companies": [["code", "name", "credit_code", "sector", "region_code"],
                                     ["C9", "坏代码企业", "913302067JH4BXKF5Z", "digital", "330206"]],
                       "investments": [["id", "fund_code", "mode", "target_code", "date", "commitment_cny"]]}.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "bad-book.xlsx"
    workbook.save(path)
    page = logged_in_page("manager")
    before = db.session.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc())).first()
    page.goto(live_server + "/book/upload")
    page.set_input_files("#book", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#import-errors")
    errors = page.inner_text("#import-errors")
    assert "未写入任何数据" in errors and "kind" in errors and "credit_code" in errors
    screenshot(page, "screens-upload-errors")
    assert db.session.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc())).first() == before


def test_switch_to_english(book, logged_in_page, live_server):
    page = logged_in_page("viewer")
    page.goto(live_server + "/funds/QY?as_of=2025-12-31")
    page.click("#lang-en")
    page.wait_for_selector("#lang-zh")
    assert "Compliance" in page.inner_text("#compliance h2")
    assert "look-through" in page.inner_text("#lookthrough h2").lower()
    screenshot(page, "screens-dashboard-en")


def test_no_page_breaks_the_content_security_policy(book, logged_in_page, live_server):
    """Every screen a manager reads, the quarterly report and the resolution page included,
    in a real browser: no CSP violation reported, and the print button (static/app.js) works."""
    page = logged_in_page("manager")
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    for path in ("/?as_of=2025-12-31", "/funds/QY", "/funds/QY/compliance", "/investments", "/investments/QY-D1",
                 "/sub-funds", "/companies", "/history", "/book/", "/book/upload", "/book/cash-flows/new",
                 "/reports/", "/reports/QY/2025Q4", "/committee/", "/account/password"):
        response = page.goto(live_server + path)
        assert response is not None and response.status < 400, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.goto(live_server + "/reports/QY/2025Q4")
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.click("[data-print]")
    assert page.evaluate("window.__printed === true")
    assert violations == [], violations
