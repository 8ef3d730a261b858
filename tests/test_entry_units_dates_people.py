"""How the screens take and show entries (issue 15, items 3 and 6, and display names):
every amount field of every form in 万元 with its unit beside it (元 selectable); every
date a YYYY-MM-DD text box with a calendar beside it; times in Asia/Shanghai; people by
their names, never their user names (but on the admin's list of users)."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AuditEntry, CashFlow, User, Valuation
from portfolio.book import records
from portfolio.book.users import create_user
from portfolio.committee import meetings, proposals
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, PASSWORD, login


@pytest.fixture
def book(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    return db.session


def person(db, username: str, role: str, name: str) -> None:
    create_user(db.session, username, role, PASSWORD, by="test", display_name=name)


def form_pages(db) -> list[str]:
    """Every page with a form that takes an amount or a date."""
    flow = db.session.execute(select(CashFlow.id).order_by(CashFlow.id)).scalars().first()
    valuation = db.session.execute(select(Valuation.id).order_by(Valuation.id)).scalars().first()
    draft = proposals.create_proposal(db.session, {
        "title": "单位测试", "fund_code": "QY", "mode": "direct", "target_code": "C3", "planned_date": "2025-12-15",
        "amount_cny": "30000000"}, username="mgr")
    return ["/book/investments/new", "/book/cash-flows/new", "/book/valuations/new", "/book/companies/new",
            "/book/sub-funds/new", f"/book/cash-flows/{flow}/correct", f"/book/valuations/{valuation}/correct",
            "/book/investments/QY-D1/correct", "/committee/proposals/new", f"/committee/proposals/{draft.id}/edit",
            "/committee/meetings/new", "/funds/QY/settings", "/funds/QY", "/history"]


def test_every_amount_field_of_every_form_is_in_wan_with_its_unit_beside_it(db, book, client):
    person(db, "mgr", "admin", "王经理")  # an admin reaches the manager's forms and the settings too
    login(client, "mgr")
    amounts = 0
    for url in form_pages(db):
        page = client.get(url).get_data(as_text=True)
        assert "（元）" not in page, url  # no label asks for 元 any more
        for name in re.findall(r'<input[^>]*name="(\w+_cny)"', page):
            amounts += 1
            unit = re.search(rf'<select name="{name}_unit"[^>]*>(.*?)</select>', page, re.S)
            assert unit, (url, name)
            assert re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', unit.group(1)) == [
                ("wan", " selected", "万元"), ("yuan", "", "元")], (url, name)
    assert amounts >= 20
    # the proposal's own amount is shown back in 万元, exactly: 30,000,000 元 = 3000 万元
    draft = db.session.execute(select(AuditEntry.entity_key).where(AuditEntry.entity == "proposals")).scalar()
    edit = client.get(f"/committee/proposals/{draft}/edit").get_data(as_text=True)
    assert re.search(r'name="amount_cny"[^>]* value="3000"', edit), re.findall(r'<input[^>]*amount[^>]*>', edit)


def test_every_date_is_typed_as_yyyy_mm_dd_with_a_calendar_beside_it(db, book, client):
    """The browser's own date input would show the reader's locale (mm/dd/yyyy in en-US):
    every date a form sends is a text box showing and checking YYYY-MM-DD; the only date
    inputs are the calendars beside them, which send nothing (no name)."""
    person(db, "mgr", "admin", "王经理")
    login(client, "mgr")
    boxes = 0
    for url in form_pages(db):
        for lang in ("zh", "en"):
            client.get(f"/lang/{lang}")
            page = client.get(url).get_data(as_text=True)
            pickers = re.findall(r'<input type="date"[^>]*>', page)
            for picker in pickers:
                assert 'class="date-picker"' in picker and "name=" not in picker, (url, picker)
                target = re.search(r'data-date-for="([\w-]+)"', picker).group(1)
                box = re.search(rf'<input[^>]*id="{target}"[^>]*>', page).group(0)
                assert 'type="text"' in box and 'placeholder="YYYY-MM-DD"' in box, (url, box)
                assert r'pattern="\d{4}-\d{2}-\d{2}"' in box, (url, box)
                boxes += 1
            assert 'type="date"' not in page.replace('<input type="date" class="date-picker"', ""), url
    client.get("/lang/zh")
    assert boxes >= 2 * 14  # every form page has at least one (the as-of box or a form's date)


def test_history_shows_people_by_name_and_times_in_beijing(db, book, client):
    person(db, "mgr", "manager", "王经理")
    person(db, "chk", "admin", "李审核")
    draft = records.record_valuation(db.session, {"investment_id": "QY-CO1", "as_of": "2025-12-31",
                                                  "fair_value_cny": "1000", "method": "cost"}, username="mgr")
    records.approve_valuation(db.session, draft.id, username="chk")
    with pytest.raises(FieldErrors, match="该估值已由 李审核 审批"):  # a message names people as pages do
        records.approve_valuation(db.session, draft.id, username="mgr")
    db.session.rollback()
    # an entry at 20:30 UTC on New Year's Eve happened on 1 January in Ningbo
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "approve")).scalar_one()
    entry.at = dt.datetime(2025, 12, 31, 20, 30)
    db.session.commit()
    login(client, "chk")
    page = client.get(f"/history/valuations/{draft.id}").get_data(as_text=True)
    rows = re.findall(r'<tr data-entry="\d+">\s*<td>([^<]*)</td><td>([^<]*)</td>', page)
    assert [who for _at, who in rows] == ["李审核", "王经理"]  # newest first, by name
    assert rows[0][0] == "2026-01-01 04:30:00"
    # who entered and who approved, inside the record, by name too
    assert re.search(r'<tr class="changed"><td>审批人</td><td>—</td><td>李审核</td></tr>', page)
    assert re.search(r"<tr><td>录入人</td><td>王经理</td><td>王经理</td></tr>", page)
    assert ">mgr<" not in page and ">chk<" not in page
    # the filter takes the name people see, and days are Ningbo's days
    listed = client.get("/history?user=李审核").get_data(as_text=True)
    assert len(re.findall(r'<tr data-entry=', listed)) == 1 and 'value="李审核"' in listed
    assert '<datalist id="people">' in listed and '<option value="王经理">' in listed
    assert len(re.findall(r'<tr data-entry=', client.get("/history?user=chk&since=2026-01-01").get_data(
        as_text=True))) == 1
    assert len(re.findall(r'<tr data-entry=', client.get("/history?user=chk&until=2025-12-31").get_data(
        as_text=True))) == 0


def test_the_admin_list_keeps_the_user_name_it_manages_and_dates_are_beijing_days(db, book, client):
    person(db, "boss", "admin", "赵主任")
    user = db.session.execute(select(User).where(User.username == "boss")).scalar_one()
    user.created_at = dt.datetime(2025, 12, 31, 17, 0)  # 2026-01-01 01:00 in Ningbo
    db.session.commit()
    login(client, "boss")
    page = client.get("/admin/users").get_data(as_text=True)
    row = re.search(r'<tr data-user="boss">(.*?)</tr>', page, re.S).group(1)
    assert "<td>boss</td>" in row and "赵主任" in row and "2026-01-01" in row and "2025-12-31" not in row


def test_a_resolution_is_timed_in_beijing(db, book, client):
    from models import Proposal, Resolution

    person(db, "mgr", "manager", "王经理")
    draft = proposals.create_proposal(db.session, {
        "title": "时间测试", "fund_code": "QY", "mode": "direct", "target_code": "C3", "planned_date": "2025-12-15",
        "amount_cny": Decimal("30000000")}, username="mgr")
    person(db, "m1", "committee", "陈委员")
    meeting = meetings.create_meeting(db.session, {"fund_code": "QY", "date": "2025-12-10"}, username="mgr")
    proposal = db.session.get(Proposal, draft.id)
    proposal.meeting_id, proposal.status = meeting.id, "decided"  # the record as a decision leaves it
    proposal.decided_at, proposal.decided_by, proposal.decision = dt.datetime(2025, 12, 15, 2, 5), "mgr", "approved"
    db.session.add(Resolution(  # and the decision's record, with the count it was made on, as decide() keeps it
        proposal_id=draft.id, meeting_id=meeting.id, decision="approved", decided_by="mgr",
        decided_at=dt.datetime(2025, 12, 15, 2, 5), attendance={"m1": True},
        tally={"eligible": ["m1"], "recused": [], "approve": 1, "reject": 0, "abstain": 0, "not_voted": 0,
               "quorum": 1, "pass_ratio": "2/3", "votes": {"m1": "approve"}}))
    db.session.commit()
    login(client, "mgr")
    page = client.get(f"/committee/proposals/{draft.id}/resolution").get_data(as_text=True)
    assert "2025-12-15 10:05:00（北京时间）" in page and "UTC" not in page
    assert "王经理" in page and "陈委员" in page and ">m1<" not in page


def test_the_gp_form_takes_its_screens_unit_with_wan_selectable_and_shows_a_package_back_exactly(db, book, client):
    """The GP's screens (the package page, the tie-out, the 元 workbook) show 元: the portal's
    form takes 元 unless 万元 is chosen in its unit select; a saved package is shown back in the
    chosen unit exactly, and a tenth of a fen in 万元 is refused, never rounded."""
    from models import GpPackage
    from portfolio.gp import packages

    packages.invite_gp(db.session, "gp1", PASSWORD, ["SF1"], by="test")
    login(client, "gp1")
    page = client.get("/gp/packages/new?investment=QY-SF1").get_data(as_text=True)
    assert re.search(r'<select id="unit" name="unit"[^>]*><option value="wan">万元</option>'
                     r'<option value="yuan" selected>元</option></select>', page)
    assert "（元）" not in page
    typed = {"investment_id": "QY-SF1", "quarter_end": "2025-12-31", "unit": "wan",
             "acc-opening_nav": "31,000", "acc-contributions": "10000", "acc-closing_nav": "41,000.000001",
             "n-0-date": "2025-11-15", "n-0-type": "contribution", "n-0-amount": "10000", "n-0-ref": ""}
    response = client.post("/gp/packages/new", data=typed)
    assert response.status_code == 302, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.get_data(as_text=True))
    package = db.session.execute(select(GpPackage)).scalar_one()
    account = package.content["account"]
    assert (account["opening_nav"], account["contributions"], account["closing_nav"]) == (
        31_000 * 1_000_000, 10_000 * 1_000_000, 41_000 * 1_000_000 + 1)  # in fen: 1 万元 = 1,000,000 分
    assert package.content["notices"][0]["amount"] == 10_000 * 1_000_000
    shown = client.get(f"/gp/packages/{package.id}/edit?unit=wan").get_data(as_text=True)
    assert 'value="41000.000001"' in shown and 'value="31000"' in shown
    shown = client.get(f"/gp/packages/{package.id}/edit").get_data(as_text=True)
    assert 'value="410000000.01"' in shown  # in 元, the GP's default
    refused = client.post(f"/gp/packages/{package.id}/edit", data={**typed, "acc-closing_nav": "0.0000001"})
    assert "以万元填写时最多六位小数" in refused.get_data(as_text=True) and '<option value="wan" selected>' in \
        refused.get_data(as_text=True)


def test_a_stale_correction_names_who_changed_it_and_when_in_beijing(db, book):
    from portfolio.book import corrections

    person(db, "mgr", "manager", "王经理")
    flow = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-D1",
                                                     CashFlow.type == "distribution")).scalars().first()
    shown = corrections.version_of(flow)
    fields = {"date": flow.date.isoformat(), "type": "distribution", "amount_cny": "4000000", "version": shown,
              "correction_reason": "改为 400 万"}
    corrections.correct_cash_flow(db.session, flow.id, fields, username="asker")
    corrections.approve_correction(db.session, flow.id, username="mgr", entity="cash_flows")  # the change: mgr's
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "correct")).scalar_one()
    entry.at = dt.datetime(2025, 12, 31, 20, 30)
    db.session.commit()
    with pytest.raises(FieldErrors, match=r"最近一次由 王经理 于 2026-01-01 04:30（北京时间）修改") as refused:
        corrections.correct_cash_flow(db.session, flow.id, {**fields, "amount_cny": "4500000"}, username="other")
    # in English: the person by name, the time in Beijing, the rest in English
    assert "(last by 王经理 at 2026-01-01 04:30 (Beijing time))" in refused.value.shown("en")[0][1]


@pytest.mark.parametrize("typed, day, refusal", [
    ("2025-12-31", dt.date(2025, 12, 31), None),
    (" 2025-12-31 ", dt.date(2025, 12, 31), None),
    ("２０２５-１２-３１", dt.date(2025, 12, 31), None),  # full-width digits, as an input method types them
    ("２０２５－１２－３１", dt.date(2025, 12, 31), None),  # and the full-width dash
    ("2025-02-30", None, "date_no_such_day"),
    ("２０２５-０２-３０", None, "date_no_such_day"),
    ("2025/12/31", None, "date_format"),
    ("20251231", None, "date_format"),
    ("2025-1a-31", None, "date_format"),
    ("٢٠٢٥-١٢-٣١", None, "date_format"),  # Arabic-Indic digits are no date's format here
    ("1899-12-31", None, "date_range"),
])
def test_one_reading_of_a_typed_date(typed, day, refusal):
    from portfolio.formatting import DateError, parse_date

    if refusal is None:
        assert parse_date(typed) == day
    else:
        with pytest.raises(DateError) as caught:
            parse_date(typed)
        assert caught.value.reason.key == refusal
        assert typed.strip() in str(caught.value)  # named as it was typed


@pytest.mark.parametrize("today, on_or_before, over", [
    (dt.date(2026, 12, 7), dt.date(2026, 9, 30), dt.date(2026, 9, 30)),
    (dt.date(2026, 9, 30), dt.date(2026, 9, 30), dt.date(2026, 6, 30)),  # its last day: the quarter is under way
    (dt.date(2026, 10, 1), dt.date(2026, 9, 30), dt.date(2026, 9, 30)),
    (dt.date(2026, 1, 1), dt.date(2025, 12, 31), dt.date(2025, 12, 31)),
    (dt.date(2025, 12, 31), dt.date(2025, 12, 31), dt.date(2025, 9, 30)),
    (dt.date(2024, 3, 31), dt.date(2024, 3, 31), dt.date(2023, 12, 31)),
])
def test_the_last_quarter_end_on_or_before_a_day_and_the_last_quarter_over(today, on_or_before, over):
    """One function for both: the screens' default date (on or before today) and the quarter the
    GP portal asks for and the demo tells (strictly: over by today)."""
    from portfolio.formatting import last_quarter_end

    assert last_quarter_end(today) == on_or_before
    assert last_quarter_end(today, strictly=True) == over == last_quarter_end(today - dt.timedelta(days=1))


@pytest.mark.parametrize(("typed", "kept", "refusal"), [
    ("12.3456", Decimal("12.3456"), None), ("12.3456%", Decimal("12.3456"), None), ("２３．３３", Decimal("23.33"), None),
    ("23.33333333", Decimal("23.33333333"), None), ("23.333333333", None, "pct_places"),
    ("100.5", None, "ownership_range"), ("五成", None, "pct_not_number"),
])
def test_an_ownership_is_typed_as_the_import_reads_it(db, book, typed, kept, refusal):
    """The investment form read an ownership with the money parser: 12.3456 % (which the import
    takes) was refused as '金额最多两位小数'. One reading of a typed percentage for both, kept
    exactly to 8 places (a formula's 23.33333333), refused beyond."""
    fields = {"id": "QY-NEW", "fund_code": "QY", "mode": "direct", "target_code": "C3", "date": "2025-06-30",
              "commitment_cny": "1000000", "ownership_pct": typed}
    if refusal is None:
        assert records.record_investment(db.session, fields, username="m").ownership_pct == kept
    else:
        with pytest.raises(FieldErrors) as refused:
            records.record_investment(db.session, fields, username="m")
        assert [(f, m.key) for f, m in refused.value.errors] == [("ownership_pct", refusal)]


def test_the_percentage_type_and_the_typed_percentage_keep_the_same_places():
    from models.types import Percent
    from portfolio.record_rules import PCT_PLACES

    assert Percent().places == Percent.PLACES == PCT_PLACES == 8


def test_an_ownership_to_eight_places_goes_in_from_a_book_and_back_out_exactly(db, tmp_path):
    """interchange.md asks only 0–100: an ownership computed by a formula (33.33333333) had been
    refused as more than four places, the whole book with it."""
    import shutil

    from models import Investment
    from portfolio.interchange.exporting import export_book

    book = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, book)
    path = book / "investments.csv"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    header = lines[0].split(",")
    column = header.index("ownership_pct")
    row = next(i for i, line in enumerate(lines) if line.split(",")[column] == "8")
    cells = lines[row].split(",")
    cells[column] = "8.12345678"
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_book(db.session, book, username="loader").ok
    investment = db.session.get(Investment, cells[0])
    assert investment.ownership_pct == Decimal("8.12345678")
    out = tmp_path / "out.xlsx"
    export_book(db.session, out)
    from openpyxl import load_workbook

    sheet = load_workbook(out)["investments"]
    exported = {r[0].value: r[column].value for r in sheet.iter_rows(min_row=2)}
    assert Decimal(str(exported[cells[0]])) == Decimal("8.12345678")
