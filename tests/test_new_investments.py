"""A new investment typed in the form waits for a second person (maker-checker), as a
correction of one does (portfolio/book/new_investments.py): asked for with every check of
`records.add_investment`, nothing booked meanwhile; approved (checked again, booked as the
approver's create naming the asker) or declined with a reason; never approved by its asker.
On the example book (QY: QY-SF1, QY-D1, QY-CO1)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Investment, PendingCorrection
from portfolio.book import new_investments, records
from portfolio.book.reading import build_report
from portfolio.errors import FieldErrors
from tests.conftest import login, make_user
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)

DEAL = {"id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C3", "date": "2025-10-01",
        "commitment_cny": "1000000", "ownership_pct": "2", "round": "A轮"}
FAILING = {**DEAL, "target_code": "C1", "commitment_cny": "1000000", "ownership_pct": "40"}  # past the ownership cap


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _actions(db, key="QY-D9") -> list[tuple[str, str]]:
    return [(e.action, e.username) for e in db.session.execute(
        select(AuditEntry).where(AuditEntry.entity == "investments", AuditEntry.entity_key == key)
        .order_by(AuditEntry.id)).scalars()]


def test_asked_for_it_is_checked_and_held_until_another_approves(db, book):
    before = build_report(db.session, "QY", dt.date(2025, 12, 31))["summary"]
    investments = _count(db, Investment)
    asked = new_investments.ask_investment(db.session, DEAL, username="mgr")
    assert asked.entity == new_investments.ENTITY and asked.entity_key == "QY-D9" and asked.asked_by == "mgr"
    assert _count(db, Investment) == investments and db.session.get(Investment, "QY-D9") is None
    assert build_report(db.session, "QY", dt.date(2025, 12, 31))["summary"] == before  # no figure moves
    assert _actions(db) == [("request_create", "mgr")]
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "request_create")).scalar_one()
    assert entry.after["company_code"] == "C3" and entry.after["commitment_cny"] == "1000000.00"
    assert [w.entity_key for w, _e in new_investments.waiting_investments(db.session)] == ["QY-D9"]
    with pytest.raises(FieldErrors) as own:
        new_investments.approve_investment(db.session, "QY-D9", username="mgr")
    assert own.value.errors[0][1].key == "investment_request_asker_is_checker"
    assert db.session.get(Investment, "QY-D9") is None
    investment = new_investments.approve_investment(db.session, "QY-D9", username="chk")
    assert investment.id == "QY-D9" and investment.company_code == "C3"
    assert _count(db, PendingCorrection) == 0 and new_investments.waiting_investments(db.session) == []
    assert _actions(db) == [("request_create", "mgr"), ("create", "chk")]
    created = db.session.execute(select(AuditEntry).where(AuditEntry.action == "create",
                                                          AuditEntry.entity_key == "QY-D9")).scalar_one()
    assert created.after["asked_by"] == "mgr"
    with pytest.raises(FieldErrors):  # decided: nothing waits any more
        new_investments.approve_investment(db.session, "QY-D9", username="chk2")


def test_asking_runs_every_check_of_a_booking(db, book):
    for fields, field, key in (
        ({**DEAL, "id": "QY-D1"}, "id", "investment_exists"),  # an id already booked
        ({**DEAL, "fund_code": "NOPE"}, "fund_code", "fund_unknown"),
        ({**DEAL, "target_code": "NOPE"}, "target_code", "target_company_unknown"),
        ({**DEAL, "commitment_cny": "abc"}, "commitment_cny", None),
    ):
        with pytest.raises(FieldErrors) as refused:
            new_investments.ask_investment(db.session, fields, username="mgr")
        assert any(f == field and (key is None or m.key == key) for f, m in refused.value.errors), refused.value.errors
    with pytest.raises(records.RuleFailures):  # a rule it makes fail needs a reason
        new_investments.ask_investment(db.session, FAILING, username="mgr")
    assert _count(db, PendingCorrection) == 0 and _actions(db) == []
    new_investments.ask_investment(db.session, DEAL, username="mgr")
    with pytest.raises(FieldErrors) as twice:  # one request per id
        new_investments.ask_investment(db.session, {**DEAL, "commitment_cny": "2000000"}, username="mgr2")
    assert twice.value.errors[0][1].key == "investment_request_pending_by"
    assert _count(db, PendingCorrection) == 1


def test_a_failing_deal_asked_with_a_reason_is_booked_with_it(db, book):
    new_investments.ask_investment(db.session, {**FAILING, "override_reason": "投委会特批"}, username="mgr")
    asked = db.session.execute(select(AuditEntry).where(AuditEntry.action == "request_create")).scalar_one()
    assert asked.reason == "投委会特批" and asked.after["compliance_failures"]
    new_investments.approve_investment(db.session, "QY-D9", username="chk")
    created = db.session.execute(select(AuditEntry).where(AuditEntry.action == "create",
                                                          AuditEntry.entity_key == "QY-D9")).scalar_one()
    assert created.reason == "投委会特批" and created.after["compliance_failures"] and created.username == "chk"


def test_approval_checks_the_book_as_it_is_then(db, book, monkeypatch):
    """A rule that passed when asked fails by the approval (the book changed meanwhile):
    refused without an override reason, the request still waiting; an id booked meanwhile
    (through the committee) is refused too."""
    new_investments.ask_investment(db.session, DEAL, username="mgr")
    failing = [{"rule": "single_company_cap", "subject": "C3", "message": "单一企业投资上限超限"}]
    with monkeypatch.context() as now:  # the book as it is at the approval: the deal now fails a rule
        now.setattr(records, "pro_forma_failures", lambda _session, _values: failing)
        with pytest.raises(FieldErrors) as refused:
            new_investments.approve_investment(db.session, "QY-D9", username="chk")
    assert refused.value.errors[0][1].key == "investment_request_now_fails"
    assert "单一企业投资上限超限" in str(refused.value.errors[0][1])
    assert db.session.get(Investment, "QY-D9") is None
    new_investments.ask_investment(db.session, {**DEAL, "id": "QY-D6", "override_reason": "特批"}, username="mgr")
    with monkeypatch.context() as now:  # asked with a reason: the reason covers it, booked with it
        now.setattr(records, "pro_forma_failures", lambda _session, _values: failing)
        new_investments.approve_investment(db.session, "QY-D6", username="chk")
    created = db.session.execute(select(AuditEntry).where(AuditEntry.action == "create",
                                                          AuditEntry.entity_key == "QY-D6")).scalar_one()
    assert created.reason == "特批" and created.after["compliance_failures"]
    assert [w.entity_key for w, _e in new_investments.waiting_investments(db.session)] == ["QY-D9"]
    new_investments.ask_investment(db.session, {**DEAL, "id": "QY-D7"}, username="mgr")
    records.record_investment(db.session, {**DEAL, "id": "QY-D7"}, username="committee")
    with pytest.raises(FieldErrors) as booked:
        new_investments.approve_investment(db.session, "QY-D7", username="chk")
    assert booked.value.errors[0][1].key == "investment_exists"


def test_a_decline_needs_a_reason_and_is_audited(db, book):
    new_investments.ask_investment(db.session, DEAL, username="mgr")
    for reason in ("", "   ", "x" * 2001):
        with pytest.raises(FieldErrors):
            new_investments.decline_investment(db.session, "QY-D9", {"reason": reason}, username="chk")
    assert _count(db, PendingCorrection) == 1
    new_investments.decline_investment(db.session, "QY-D9", {"reason": "估值过高"}, username="chk")
    assert _count(db, PendingCorrection) == 0 and db.session.get(Investment, "QY-D9") is None
    declined = db.session.execute(select(AuditEntry).where(AuditEntry.action == "reject_create")).scalar_one()
    assert declined.reason == "估值过高" and declined.username == "chk"
    assert declined.before["asked_by"] == "mgr" and declined.before["company_code"] == "C3"
    with pytest.raises(FieldErrors):
        new_investments.decline_investment(db.session, "QY-D9", {"reason": "再驳回"}, username="chk")


def test_the_form_asks_and_a_checker_approves_through_the_screens(db, book, client):
    make_user(db, "maker", "manager")
    make_user(db, "checker", "admin")
    login(client, "maker")
    response = client.post("/book/investments/new", data={**DEAL, "commitment_cny": "100"})  # 万元
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/book/investments/new?fund=QY#waiting-new-investments")
    assert db.session.get(Investment, "QY-D9") is None
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "须由另一位有审批权限的用户批准后登记" in form  # the flash
    assert 'data-new-investment="QY-D9"' in form.split('id="waiting-new-investments"')[1]
    page = client.get("/book/pending").get_data(as_text=True)
    assert 'data-new-investment="QY-D9"' in page and "须由他人批准" in page
    assert "direct" not in page.split('id="pending-new-investments"')[1]  # the mode in words: 直投
    client.post("/book/investment-requests/QY-D9/approve")
    db.session.expire_all()
    assert db.session.get(Investment, "QY-D9") is None  # not by its asker
    client.post("/logout")
    login(client, "checker")
    home = client.get("/").get_data(as_text=True)
    assert 'id="todo-new-investments"' in home and 'data-new-investment="QY-D9"' in home
    page = client.get("/book/pending").get_data(as_text=True)
    section = page.split('id="pending-new-investments"')[1]
    assert "直投" in section and "投资方式" in section and "100.00" in section, section  # 万元
    response = client.post("/book/investment-requests/QY-D9/approve")
    assert response.status_code == 302 and response.headers["Location"].endswith("/investments/QY-D9")
    db.session.expire_all()
    assert db.session.get(Investment, "QY-D9").commitment_cny == 1000000
    assert 'id="todo-new-investments"' not in client.get("/").get_data(as_text=True)
    assert client.post("/book/investment-requests/NOPE/approve").status_code == 404
    history = client.get("/history?action=request_create").get_data(as_text=True)
    assert "申请新增" in history and "QY-D9" in history


@pytest.mark.parametrize("lang, unit", [("zh", "金额单位：万元"), ("en", "amounts in CNY 10k")])
def test_the_card_writes_its_amounts_in_wan(db, book, client, lang, unit):
    new_investments.ask_investment(db.session, {**DEAL, "commitment_cny": "12345678.90", "revenue_cny": "50000000",
                                                "total_assets_cny": "98765432.10"}, username="mgr")
    make_user(db, "checker", "admin")
    login(client, "checker")
    with client.session_transaction() as session:
        session["lang"] = lang
    section = client.get("/book/pending").get_data(as_text=True).split('id="pending-new-investments"')[1]
    assert "1,234.57" in section and "5,000.00" in section and "9,876.54" in section, section
    assert "12,345,678.90" not in section and "50,000,000" not in section and "98,765,432.10" not in section
    assert unit in section and "金额单位：元" not in section and "Amounts in CNY<" not in section


def test_a_checker_declines_through_the_screens(db, book, client):
    make_user(db, "maker", "manager")
    make_user(db, "checker", "admin")
    login(client, "maker")
    client.post("/book/investments/new", data={**DEAL, "commitment_cny": "100"})
    client.post("/logout")
    login(client, "checker")
    page = client.post("/book/investment-requests/QY-D9/reject", data={"reason": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "驳回须填写理由" in page and _count(db, PendingCorrection) == 1
    page = client.post("/book/investment-requests/QY-D9/reject", data={"reason": "条款未定"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已驳回" in page and _count(db, PendingCorrection) == 0
    assert db.session.get(Investment, "QY-D9") is None


def test_a_writer_who_may_not_approve_sees_the_new_investment_asked_waiting(db, book, client, monkeypatch):
    """After a new investment was typed, its asker was sent to the pending list, which needs
    `approve`: a role that may write but not approve answered 403 there. The asker comes back to
    the form (the fund kept for the next one), the request among those waiting and the flash
    above, with no checker's button."""
    from web.auth import PERMISSIONS

    monkeypatch.setitem(PERMISSIONS, "manager", frozenset({"write", "propose"}))  # writes, does not approve
    make_user(db, "maker", "manager")
    login(client, "maker")
    assert client.get("/book/pending").status_code == 403
    response = client.post("/book/investments/new", data={**DEAL, "commitment_cny": "100"})  # 万元
    assert response.status_code == 302
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert "新增投资 QY-D9 已提交" in page  # the flash
    card = page.split('id="waiting-new-investments"')[1]
    assert 'data-new-investment="QY-D9"' in card and "A轮" in card
    assert "/book/investment-requests/QY-D9/approve" not in card and "/reject" not in card
    assert 'selected value="QY"' in page or 'value="QY" selected' in page  # the fund chosen again
    assert db.session.get(Investment, "QY-D9") is None
