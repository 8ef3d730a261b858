"""The fund managers' screens through the test client, on the example book of the spec
(spec/example/book). Figures shown are checked against the engine's own
report (portfolio.figures.report), formatted by portfolio.formatting: the screens compute none."""
from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from models import AuditEntry, CashFlow, Company, Investment, Valuation
from portfolio.book import cache
from portfolio.book.reading import build_report
from portfolio.formatting import last_quarter_end, multiple, percent, wan, yi
from portfolio.interchange.importing import import_book
from portfolio.vocabulary import credit_code_check_char
from tests.conftest import EXAMPLE_BOOK, approved_investment

AS_OF = dt.date(2025, 12, 31)


@pytest.fixture
def book(db):
    cache.clear()
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    return result


@pytest.fixture
def manager(book, as_role):
    client = as_role("manager")
    client.get(f"/?as_of={AS_OF.isoformat()}")
    return client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_home_shows_each_fund_with_headline_figures(db, manager):
    report = build_report(db.session, "QY", AS_OF)
    html = text(manager.get("/"))
    row = re.search(r'<tr data-fund="QY">(.*?)</tr>', html, re.S).group(1)
    s = report["summary"]
    for shown in (yi(s["paid_in"]), yi(s["unfunded"]), yi(s["nav"]), multiple(s["tvpi"]), multiple(s["dpi"]),
                  percent(s["irr"])):
        assert shown in row
    assert "宁波千亿科技创新基金" in row


def test_as_of_defaults_to_last_quarter_end_and_is_kept(book, as_role):
    client = as_role("viewer")
    assert f'value="{last_quarter_end(dt.date.today()).isoformat()}"' in text(client.get("/"))
    client.get("/?as_of=2024-12-31")
    assert 'value="2024-12-31"' in text(client.get("/funds/QY"))  # kept in the session
    assert 'value="2024-12-31"' in text(client.get("/investments"))


def test_fund_dashboard(db, as_role, book):
    client = as_role("admin")
    client.get(f"/?as_of={AS_OF.isoformat()}")
    report = build_report(db.session, "QY", AS_OF)
    html = text(client.get("/funds/QY"))
    for section in ("summary", "by-mode", "by-sector", "lookthrough", "concentration", "by-vintage", "by-region",
                    "compliance", "indicators", "activity"):
        assert f'id="{section}"' in html
    assert wan(report["summary"]["nav"]) in html
    assert "穿透" in html  # the look-through view says what it is
    assert html.count("<svg") >= 3 and "先进材料" in html  # charts with Chinese labels
    assert wan(report["lookthrough_by_sector"]["materials"]["nav"]) in html
    assert percent(report["concentration"]["top10_share"]) in html
    assert 'id="settings-link"' in html  # admins may reach the fund's settings
    # compliance: failures, then warnings, each with figure and limit; passes counted by rule
    statuses = re.findall(r'data-status="(\w+)"', html)
    checks = report["compliance"]
    assert statuses == sorted(r["status"] for r in checks if r["status"] != "pass")
    assert "reinvestment_multiple" in html and multiple(0.75) in html and multiple(1.5) in html
    passes = sum(1 for r in checks if r["status"] == "pass")
    # rules by their names, never their codes (the code stays in the cell's title)
    assert f"单一企业投资上限 {sum(1 for r in checks if r['rule'] == 'single_company_cap')}" in html
    # every check, passes included, on the compliance page of the fund
    full = text(client.get("/funds/QY/compliance"))
    statuses = re.findall(r'data-status="(\w+)"', full)
    assert len(statuses) == len(checks) and statuses.count("pass") == passes
    assert statuses == sorted(statuses, key={"fail": 0, "warn": 1, "pass": 2}.get)
    only = text(client.get("/funds/QY/compliance?status=pass&rule=ownership_cap"))
    assert re.findall(r'data-status="(\w+)"', only) == ["pass", "pass"]


def test_dashboard_shows_a_new_failure_first_and_the_settings_link_only_to_admins(db, manager):
    # a deal logged with a reason that breaks the ownership cap shows up, failing, at the top
    manager.post("/book/investments/new", data={
        "id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C1", "date": "2025-10-01",
        "commitment_cny": "100", "ownership_pct": "40", "override_reason": "特批"})  # 100 万元
    approved_investment(db.session, "QY-D9")  # by another person
    html = text(manager.get("/funds/QY"))
    first = re.search(r'<tr class="check-(\w+)" data-status="\w+">\s*<td[^>]*>[^<]*</td>\s*'
                      r'<td title="(\w+)">持股比例上限</td>\s*<td>([^<]+)</td>',
                      html)
    assert first.groups() == ("fail", "ownership_cap", "QY-D9")
    assert percent(0.40) in html and percent(0.30) in html  # its figure and its limit
    assert 'id="settings-link"' not in html


def test_unknown_records_are_404(manager):
    for url in ("/funds/NOPE", "/investments/NOPE", "/companies/NOPE", "/sub-funds/NOPE", "/investments?fund=NOPE"):
        assert manager.get(url).status_code == 404


def test_investment_list_filters_sorts_and_searches(manager):
    html = text(manager.get("/investments?mode=direct"))
    assert re.findall(r'<tr data-id="([^"]+)"', html) == ["QY-D1"]
    html = text(manager.get("/investments?sector=life_health"))
    assert re.findall(r'<tr data-id="([^"]+)"', html) == ["QY-CO1"]
    html = text(manager.get("/investments?sort=-commitment"))
    assert re.findall(r'<tr data-id="([^"]+)"', html) == ["QY-SF1", "QY-D1", "QY-CO1"]
    html = text(manager.get("/investments?q=甬智"))
    assert re.findall(r'<tr data-id="([^"]+)"', html) == ["QY-D1"]


def test_sub_fund_list_has_its_figures(db, manager):
    line = build_report(db.session, "QY", AS_OF)["sub_funds"][0]
    html = text(manager.get("/sub-funds"))
    row = re.search(r'<tr data-code="SF1">(.*?)</tr>', html, re.S).group(1)
    for shown in (wan(line["commitment"]), wan(line["paid_in"]), wan(line["unfunded"]), wan(line["nav"]),
                  "2025-09-30", multiple(line["reinvestment_multiple"])):
        assert shown in row


def test_company_list_paginates_and_filters(db, manager):
    for n in range(60):
        body = f"9133020{n:02d}MA2BBBBB"[:17]
        db.session.add(Company(code=f"X{n:02d}", name=f"测试企业{n:02d}", credit_code=body + credit_code_check_char(body),
                               sector="digital", region_code="330201"))
    db.session.commit()
    first = text(manager.get("/companies"))
    assert len(re.findall(r'<tr data-code=', first)) == 50 and 'rel="next"' in first
    second = text(manager.get("/companies?page=2"))
    assert len(re.findall(r'<tr data-code=', second)) == 64 - 50
    html = text(manager.get("/companies?sector=robotics"))
    assert re.findall(r'<tr data-code="([^"]+)"', html) == ["C1"]
    html = text(manager.get("/companies?q=913302067JH4BXKF5Y"))
    assert re.findall(r'<tr data-code="([^"]+)"', html) == ["C1"]
    html = text(manager.get("/companies?region=3101&sort=-code"))
    assert re.findall(r'<tr data-code="([^"]+)"', html) == ["C2"]


def test_company_and_sub_fund_pages(manager):
    html = text(manager.get("/companies/C2"))
    assert "QY-CO1" in html and "91310115LJ2K0XTF16" in html
    html = text(manager.get("/sub-funds/SF1"))
    assert "QY-SF1" in html and "QY-CO1" in html and "2025-09-30" in html
    # its term with its unit, as the English 'Term (years)' (it read '存续期 8')
    assert re.search(r"<dt>存续期（年）</dt><dd>\d+</dd>", html), html


def test_investment_page_marks_void_flows_and_draft_valuations(db, manager):
    from tests.conftest import login, make_user

    flow = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-D1")).scalars().first()
    asked = manager.post(f"/book/cash-flows/{flow.id}/void", data={"reason": "录错了"}, follow_redirects=True)
    assert "作废申请已提交" in text(asked)
    manager.post("/book/valuations/new", data={"investment_id": "QY-D1", "as_of": "2026-03-31",
                                               "fair_value_cny": "17000", "method": "comparables"})
    html = text(manager.get("/investments/QY-D1"))
    row = re.search(rf'<tr data-flow="{flow.id}">(.*?)</tr>', html, re.S).group(1)  # asked for: still in force
    assert "作废待批准" in row and "录错了" in row and "更正" not in row
    assert "草稿，待审批" in html
    assert html.count("<svg") == 1  # the valuation history chart
    # the maker sees no approve button for their own draft, nor for the void they asked for
    assert 'class="approve"' not in html
    make_user(db, "checker", "admin")
    login(manager, "checker")
    html = text(manager.get("/investments/QY-D1"))
    assert f'action="/book/cash-flows/{flow.id}/void/approve"' in html
    assert f'data-flow-void="{flow.id}"' in text(manager.get("/"))  # on the checker's home page
    done = manager.post(f"/book/cash-flows/{flow.id}/void/approve", follow_redirects=True)
    assert "作废已批准" in text(done)
    html = text(manager.get("/investments/QY-D1"))
    row = re.search(rf'<tr data-flow="{flow.id}" class="void">(.*?)</tr>', html, re.S).group(1)
    assert "已作废" in row and "录错了" in row and "申请人" in row


def test_a_checker_declines_a_void_beside_it_with_a_reason(db, manager):
    from tests.conftest import login, make_user

    flow = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-D1")).scalars().first()
    manager.post(f"/book/cash-flows/{flow.id}/void", data={"reason": "录错了"})
    make_user(db, "checker", "admin")
    login(manager, "checker")
    assert f'data-flow-void="{flow.id}"' in text(manager.get("/book/pending"))
    refused = text(manager.post(f"/book/cash-flows/{flow.id}/void/reject", data={"reason": ""}, follow_redirects=True))
    assert "驳回须填写理由" in refused
    declined = manager.post(f"/book/cash-flows/{flow.id}/void/reject", data={"reason": "款项确已支付",
                                                                             "next": "/book/pending"})
    assert declined.status_code == 302 and declined.headers["Location"].endswith("/book/pending")
    db.session.expire_all()
    stored = db.session.get(CashFlow, flow.id)
    assert stored.voided_at is None and stored.void_requested_at is None
    assert f'data-flow-void="{flow.id}"' not in text(manager.get("/book/pending"))
    html = text(manager.get(f"/history/cash_flows/{flow.id}"))
    assert "驳回作废申请" in html and "款项确已支付" in html and "reject_void" not in html


def test_forms_keep_what_was_typed_and_show_errors_beside_fields(manager, db):
    data = {"id": "QY-D1", "fund_code": "QY", "mode": "sub_fund", "target_code": "C1", "date": "2025-10-01",
            "commitment_cny": "12,345.678", "commitment_cny_unit": "yuan", "round": "天使轮"}  # 元: two places
    html = text(manager.post("/book/investments/new", data=data))
    for field in ("id", "target_code", "commitment_cny"):
        assert f'data-field="{field}"' in html
    assert 'value="12,345.678"' in html and 'value="天使轮"' in html and '<option value="yuan" selected>' in html
    assert db.session.execute(select(func.count()).select_from(Investment)).scalar() == 3


def test_a_failing_deal_asks_for_a_reason(manager, db):
    data = {"id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C1", "date": "2025-10-01",
            "commitment_cny": "100", "ownership_pct": "40"}  # 万元
    html = text(manager.post("/book/investments/new", data=data))
    assert 'id="rule-failures"' in html and "持股比例上限" in html and 'data-field="override_reason"' in html
    assert db.session.get(Investment, "QY-D9") is None
    response = manager.post("/book/investments/new", data={**data, "override_reason": "投委会特批"})
    assert response.status_code == 302  # back to the form, the request among those waiting
    assert response.headers["Location"].endswith("/book/investments/new?fund=QY#waiting-new-investments")
    asked = db.session.execute(select(AuditEntry).where(AuditEntry.entity_key == "QY-D9")).scalar_one()
    assert asked.action == "request_create" and asked.reason == "投委会特批"
    approved_investment(db.session, "QY-D9")  # by another person: booked with the asker's reason
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity_key == "QY-D9",
                                                        AuditEntry.action == "create")).scalar_one()
    assert entry.reason == "投委会特批"


def test_maker_checker_through_the_screens(db, book, client):
    from tests.conftest import login, make_user

    make_user(db, "maker", "manager")
    make_user(db, "checker", "admin")
    login(client, "maker")
    client.post("/book/valuations/new", data={"investment_id": "QY-CO1", "as_of": "2025-12-31",
                                              "fair_value_cny": "4500", "method": "last_round"})  # 万元
    valuation = db.session.execute(select(Valuation).where(Valuation.entered_by == "maker")).scalar_one()
    client.post(f"/book/valuations/{valuation.id}/approve")
    db.session.expire_all()
    assert db.session.get(Valuation, valuation.id).approved_at is None
    login(client, "checker")
    assert f'data-valuation="{valuation.id}"' in text(client.get("/book/pending"))
    client.post(f"/book/valuations/{valuation.id}/approve")
    db.session.expire_all()
    assert db.session.get(Valuation, valuation.id).approved_by == "checker"


def test_a_cash_flow_typed_in_a_form_counts_once_another_person_approves_it(db, book, client):
    """The same maker-checker as a staged upload's: a manager's form gives a draft, shown as one
    on the investment's page and the checker's home and pending pages; the maker is offered
    no approval (and is refused one); the figures move when the checker approves."""
    from tests.conftest import login, make_user

    as_of = dt.date(2025, 12, 31)
    paid_before = build_report(db.session, "QY", as_of)["summary"]["paid_in"]
    make_user(db, "maker", "manager")
    make_user(db, "checker", "admin")
    login(client, "maker")
    response = client.post("/book/cash-flows/new", data={"investment_id": "QY-SF1", "date": "2025-11-03",
                                                         "type": "contribution", "amount_cny": "300",  # 万元
                                                         "ref": "CALL-77"})
    assert response.status_code == 302
    flow = db.session.execute(select(CashFlow).where(CashFlow.ref == "CALL-77")).scalar_one()
    assert flow.entered_by == "maker" and flow.approved_at is None
    page = text(client.get(response.headers["Location"]))
    assert "已记录为草稿" in page and "草稿，待审批" in page
    assert f'action="/book/cash-flows/{flow.id}/approve"' not in page  # not offered to its maker
    refused = text(client.post(f"/book/cash-flows/{flow.id}/approve", follow_redirects=True))
    assert "录入人不能审批自己录入的现金流" in refused
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).approved_at is None
    assert build_report(db.session, "QY", as_of)["summary"]["paid_in"] == paid_before
    login(client, "checker")
    assert f'data-flow="{flow.id}"' in text(client.get("/"))  # waiting on the checker's home page
    pending = text(client.get("/book/pending"))
    assert f'data-flow="{flow.id}"' in pending and f'action="/book/cash-flows/{flow.id}/approve"' in pending
    done = client.post(f"/book/cash-flows/{flow.id}/approve", data={"next": "/book/pending"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/book/pending")
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).approved_by == "checker"
    assert build_report(db.session, "QY", as_of)["summary"]["paid_in"] - paid_before == Decimal("3000000.00")
    assert f'data-flow="{flow.id}"' not in text(client.get("/book/pending"))


def test_history_shows_before_and_after(db, manager):
    flow = db.session.execute(select(CashFlow)).scalars().first()
    manager.post(f"/book/cash-flows/{flow.id}/void", data={"reason": "重复"})
    html = text(manager.get(f"/history/cash_flows/{flow.id}"))
    # the operation, the object and each field in words, never their codes; the time in Beijing
    assert "作废" in html and "重复" in html and "修改前" in html and "修改后" in html
    assert re.search(r'<tr class="changed"><td>作废理由</td><td>—</td><td>重复</td></tr>', html)
    assert "void_reason" not in html and ">void<" not in html and "现金流 " in html
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "request_void")).scalar_one()
    beijing = (entry.at + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert beijing in html and "北京时间" in html
    # in 万元 with separators and the unit, as the screens (it read 150,000,000.00, in 元 with no unit)
    assert flow.amount_cny >= 1000 and f"<td>金额</td><td>{flow.amount_cny / 10000:,.2f} 万元</td>" in html
    html = text(manager.get("/history?action=request_void&user=manager1"))
    assert len(re.findall(r'<tr data-entry=', html)) == 1
    html = text(manager.get("/history?entity=investments"))
    assert len(re.findall(r'<tr data-entry=', html)) == 3


def _xlsx(path_or_rows) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in path_or_rows.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_upload_a_bad_book_lists_errors_and_writes_nothing(db, manager):
    count = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar()
    bad = _xlsx({"funds": [["code", "name", "kind", "size_cny", "vintage_year"], ["NB2", "测试基金", "rocket", "-1", "2024"]],
                 "companies": [["code", "name", "credit_code", "sector", "region_code"]],
                 "investments": [["id", "fund_code", "mode", "target_code", "date", "commitment_cny"]]})
    html = text(manager.post("/book/upload", data={"book": (io.BytesIO(bad), "bad.xlsx")},
                             content_type="multipart/form-data"))
    assert 'id="import-errors"' in html
    rows = re.findall(r"<tr><td>funds</td><td class=\"num\">(\d+)</td><td>(\w+)</td>", html)
    assert ("2", "kind") in rows and ("2", "size_cny") in rows
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar() == count


def test_upload_checks_the_file_type(manager):
    html = text(manager.post("/book/upload", data={"book": (io.BytesIO(b"a,b\n1,2\n"), "book.csv")},
                             content_type="multipart/form-data"))
    assert 'data-field="book"' in html
    html = text(manager.post("/book/upload", data={"book": (io.BytesIO(b"not a zip"), "book.xlsx")},
                             content_type="multipart/form-data"))
    assert 'data-field="book"' in html and "xlsx" in html


def test_download_then_upload_round_trip(manager):
    response = manager.get("/book/download")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook["investments"].max_row == 4  # header + the 3 investments
    html = text(manager.post("/book/upload", data={"book": (io.BytesIO(response.data), "book.xlsx")},
                             content_type="multipart/form-data"))
    assert 'id="import-counts"' in html  # re-importing the same book: all unchanged
    fund = load_workbook(io.BytesIO(manager.get("/book/download?fund=QY").data))
    assert fund["funds"].max_row == 2
    template = load_workbook(io.BytesIO(manager.get("/book/template").data))
    assert template["funds"]["A1"].value == "基金代码"
    manager.get("/lang/en")  # the English reader's template has the English names, which import as well
    english = load_workbook(io.BytesIO(manager.get("/book/template").data))
    assert english["funds"]["A1"].value == "code" and english["cash_flows"]["B1"].value == "date"
    page = text(manager.get("/book/upload"))  # and the upload page says which headers it has
    assert "Download an empty template (English headers)" in page and "Chinese headers" not in page
    manager.get("/lang/zh")
    assert "下载空白模板（中文表头）" in text(manager.get("/book/upload"))


def test_english_switch(manager):
    manager.get("/lang/en")
    html = text(manager.get("/funds/QY"))
    assert "Look-through" in html or "look-through" in html
    assert "Compliance" in html


def test_admin_creates_a_user_and_never_sees_passwords(db, as_role):
    client = as_role("admin")
    html = text(client.post("/admin/users/new", data={"username": "new1", "role": "viewer", "password": "short"}))
    assert 'data-field="password"' in html and 'value="short"' not in html
    client.post("/admin/users/new", data={"username": "new1", "role": "committee", "password": "long-enough-1",
                                          "display_name": "张三"})
    html = text(client.get("/admin/users"))
    assert "new1" in html and "张三" in html and "pbkdf2" not in html and "scrypt" not in html


@pytest.mark.parametrize("lang, said", [("zh", "不在可选范围内，请从列表中选择"),
                                         ("en", "Not one of the choices offered: choose from the list")])
def test_a_choice_not_offered_is_refused_in_the_app_s_words(db, as_role, lang, said):
    """Every form's selects say one sentence, by key, for a value not among their choices
    (web/forms.ChoiceWords): a tampered role read WTForms' own '不是有效的选择。' /
    'Not a valid choice.', its multiple selects English in Chinese too."""
    client = as_role("admin")
    client.get(f"/lang/{lang}")
    page = text(client.post("/admin/users/new", data={"username": "new1", "role": "superuser",
                                                      "password": "long-enough-1"}))
    assert f'<span class="error" data-field="role">{said}</span>' in page
    assert "不是有效的选择" not in page and "Not a valid choice" not in page


@pytest.mark.parametrize("lang, required, too_long", [("zh", "必填", "不能超过 100 个字符"),
                                                       ("en", "Required", "At most 100 characters")])
def test_a_form_says_required_and_too_long_as_the_use_cases_do(db, as_role, lang, required, too_long):
    """A field left empty, or a text over its form's Length, reads as the use cases' refusal of
    the same (error_texts required, too_long: 必填, 不能超过 N 个字符), not WTForms' own
    '该字段是必填字段。' / '字段长度不能超过 100 个字符。', so that the wording does not depend on
    which of the two caught it (web/forms.ChoiceWords)."""
    client = as_role("admin")
    client.get(f"/lang/{lang}")
    page = text(client.post("/admin/users/new", data={"username": "", "display_name": "张" * 101, "role": "viewer",
                                                      "password": "long-enough-1"}))
    assert f'<span class="error" data-field="username">{required}</span>' in page
    assert f'<span class="error" data-field="display_name">{too_long}</span>' in page
    assert "该字段" not in page and "字段长度" not in page and "This field is required" not in page


def test_csrf_protects_every_form(app, db, manager):
    from tests.conftest import csrf_token

    app.config["WTF_CSRF_ENABLED"] = True
    data = {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution", "amount_cny": "100",
            "amount_cny_unit": "yuan"}
    assert manager.post("/book/cash-flows/new", data=data).status_code == 400  # no token
    assert db.session.execute(select(func.count()).select_from(CashFlow)).scalar() == 7
    token = csrf_token(text(manager.get("/book/cash-flows/new")))
    assert manager.post("/book/cash-flows/new", data={**data, "csrf_token": token}).status_code == 302
    assert db.session.execute(select(func.count()).select_from(CashFlow)).scalar() == 8
    for url in ("/book/investments/new", "/book/valuations/new", "/book/companies/new", "/book/sub-funds/new",
                "/book/upload", "/investments/QY-D1"):
        assert 'name="csrf_token"' in text(manager.get(url)), url


def test_a_form_typed_for_hours_is_still_taken(app, db, manager, monkeypatch):
    """The CSRF token lives as long as the session (8 hours idle): a form opened, then sent after
    a three-hour meeting, is saved (Flask-WTF's default hour had refused it, what was typed lost);
    after a logout the old page's token is refused."""
    import itsdangerous.timed

    from tests.conftest import csrf_token

    app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_token(text(manager.get("/book/cash-flows/new")))
    later = itsdangerous.timed.time.time() + 3 * 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    data = {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution", "amount_cny": "100",
            "amount_cny_unit": "yuan", "csrf_token": token}
    assert manager.post("/book/cash-flows/new", data=data).status_code == 302
    assert db.session.execute(select(func.count()).select_from(CashFlow)).scalar() == 8
    manager.post("/logout", data={"csrf_token": csrf_token(text(manager.get("/book/cash-flows/new")))})
    assert manager.post("/book/cash-flows/new", data=data).status_code in (302, 400)
    assert db.session.execute(select(func.count()).select_from(CashFlow)).scalar() == 8


def test_upload_is_size_limited(manager, monkeypatch):
    import web.book

    monkeypatch.setattr(web.book, "MAX_BOOK_BYTES", 1000)
    big = b"PK\x03\x04" + b"0" * 2000
    html = text(manager.post("/book/upload", data={"book": (io.BytesIO(big), "big.xlsx")},
                             content_type="multipart/form-data"))
    assert 'data-field="book"' in html and "32 MB" in html


def test_the_cash_flow_export_writes_each_flow_s_state_in_words(db, manager):
    """A draft, an approved flow and one with a void asked for, each with its state as the
    investment's page shows it (the list's filter keeps the records not voided)."""
    from openpyxl import load_workbook

    from portfolio.book import records

    draft = records.record_cash_flow(db.session, {"investment_id": "QY-SF1", "date": "2025-11-03",
                                                  "type": "contribution", "amount_cny": "1000"}, username="m2")
    asked = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-SF1",
                                                      CashFlow.approved_at.is_not(None))).scalars().first()
    records.void_cash_flow(db.session, asked.id, {"reason": "重复"}, username="m2")
    ws = load_workbook(io.BytesIO(manager.get("/cash-flows/export.xlsx?investment=QY-SF1").data)).active
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(cells) if "状态" in row)
    status = cells[header].index("状态")
    dates = cells[header].index("日期")
    states = {(row[dates].date() if row[dates] else None): row[status] for row in cells[header + 1:] if row[status]}
    assert states[draft.date] == "待审批" and states[asked.date] == "作废待批准"
    assert set(states.values()) == {"待审批", "作废待批准", "已审批"}


def test_an_amount_beside_its_words_reads_with_the_unit_in_brackets_in_english(manager):
    """An investment's commitment and a sub-fund's size read '… CNY 10k' with the unit loose
    after the figure in English (the home page's idle commitments too), where every other
    amount with its unit reads '1,234.00 (CNY 10k)'; Chinese '… 万元' as before."""
    manager.get("/lang/en")
    for url in ("/investments/QY-SF1", "/sub-funds/SF1"):
        html = text(manager.get(url))
        assert re.search(r"<dd>[\d,]+\.\d\d \(CNY 10k\)</dd>", html), url
        assert not re.search(r"\d CNY 10k", html), url
    manager.get("/lang/zh")
    assert re.search(r"<dd>[\d,]+\.\d\d 万元</dd>", text(manager.get("/investments/QY-SF1")))
