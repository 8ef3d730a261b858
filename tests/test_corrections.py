"""Correction instead of void-and-retype (issue 12, Deliver 8): a record in force is
corrected through its form shown filled in, audited before/after with a reason; a corrected
valuation is a draft again; a correction of a record changed meanwhile (a stale version, or a
change racing the correction) is refused with a clear message. On the example book."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from models import AuditEntry, CashFlow, Investment, Valuation
from portfolio.book import corrections, records
from portfolio.errors import FieldErrors
from tests.conftest import void_in_force
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)


def _flow(db, investment_id="QY-D1", type_="distribution"):
    return db.session.execute(select(CashFlow).where(CashFlow.investment_id == investment_id,
                                                     CashFlow.type == type_)).scalars().first()


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'value="([^"]*)"[^>]*name="{name}"', page)
    assert match, name
    return match.group(1)


def test_a_cash_flow_is_corrected_through_its_form_filled_in(db, book, as_role):
    client = as_role("manager", "mgr")
    flow = _flow(db)  # QY-D1 2025-03-31 distribution 5,000,000 分红
    page = client.get(f"/book/cash-flows/{flow.id}/correct").get_data(as_text=True)
    assert 'value="2025-03-31"' in page and "分红" in page
    # the stored amount filled in, in the forms' unit (万元), exactly
    assert _hidden(page, "amount_cny") == "500" and '<option value="wan" selected>' in page
    version = _hidden(page, "version")
    response = client.post(f"/book/cash-flows/{flow.id}/correct", data={
        "date": "2025-03-31", "type": "distribution", "amount_cny": "500.00005", "note": "分红（更正）",
        "version": version, "correction_reason": "银行回单金额为 5,000,000.50"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    db.session.expire_all()
    corrected = db.session.get(CashFlow, flow.id)
    assert corrected.amount_cny == Decimal("5000000.50") and corrected.voided_at is None
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "correct")).scalar_one()
    assert entry.before["amount_cny"] == "5000000.00" and entry.after["amount_cny"] == "5000000.50"
    assert entry.reason == "银行回单金额为 5,000,000.50" and entry.username == "mgr"
    # the same form sent again carries the old version: refused, nothing changed
    again = client.post(f"/book/cash-flows/{flow.id}/correct", data={
        "date": "2025-03-31", "type": "distribution", "amount_cny": "600", "version": version,
        "correction_reason": "再改"}, follow_redirects=True).get_data(as_text=True)
    assert "已被修改" in again and "mgr" in again
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).amount_cny == Decimal("5000000.50")


def test_a_correction_form_shows_the_stored_amount_in_wan_exactly_and_round_trips(db, book, as_role):
    """12,345.67 元 is shown as 1.234567 万元 (no rounding to the 万元 the screens show) and
    the form sent back with only a reason stores exactly what was there."""
    client = as_role("manager", "mgr")
    flow = _flow(db)
    db.session.execute(update(CashFlow).where(CashFlow.id == flow.id).values(amount_cny=Decimal("12345.67")))
    db.session.commit()
    page = client.get(f"/book/cash-flows/{flow.id}/correct").get_data(as_text=True)
    assert _hidden(page, "amount_cny") == "1.234567"
    sent_back = {"date": "2025-03-31", "type": "distribution", "amount_cny": _hidden(page, "amount_cny"),
                 "amount_cny_unit": "wan", "note": flow.note, "version": _hidden(page, "version"),
                 "correction_reason": "备注补全"}
    unchanged = client.post(f"/book/cash-flows/{flow.id}/correct", data=sent_back, follow_redirects=True)
    assert "没有需要更正的内容" in unchanged.get_data(as_text=True)  # 1.234567 万元 is the stored fen exactly
    response = client.post(f"/book/cash-flows/{flow.id}/correct", data={**sent_back, "note": "分红（补全）"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).amount_cny == Decimal("12345.67")
    # the same amount typed in 元 is the same fen; finer than the fen in 万元 is refused beside the field
    page = client.get(f"/book/cash-flows/{flow.id}/correct").get_data(as_text=True)
    refused = client.post(f"/book/cash-flows/{flow.id}/correct", data={
        "date": "2025-03-31", "type": "distribution", "amount_cny": "1.2345671", "note": "分红",
        "version": _hidden(page, "version"), "correction_reason": "试"}).get_data(as_text=True)
    assert 'data-field="amount_cny"' in refused and "六位小数" in refused
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).amount_cny == Decimal("12345.67")


def test_a_corrected_valuation_goes_back_to_draft(db, book):
    valuation = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-CO1")).scalar_one()
    assert valuation.approved_at is not None
    fields = {"as_of": "2025-06-30", "fair_value_cny": "25000000", "method": "dcf",
              "version": corrections.version_of(valuation), "correction_reason": "模型参数更正"}
    corrections.correct_valuation(db.session, valuation.id, fields, username="mgr")
    db.session.expire_all()
    valuation = db.session.get(Valuation, valuation.id)
    assert valuation.approved_at is None and valuation.approved_by is None and valuation.entered_by == "mgr"
    with pytest.raises(FieldErrors, match="录入人不能审批"):
        records.approve_valuation(db.session, valuation.id, username="mgr")
    db.session.rollback()
    assert records.approve_valuation(db.session, valuation.id, username="mgr2").approved_by == "mgr2"


def test_a_record_changed_between_the_read_and_the_write_is_not_overwritten(db, book, monkeypatch):
    """The race the version alone cannot see: another user's change lands after the check.
    The conditional UPDATE (WHERE the columns still hold what was read) refuses it."""
    flow = _flow(db)
    fields = {"date": "2025-03-31", "type": "distribution", "amount_cny": "4000000",
              "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}
    real_claim = corrections.claim

    def someone_else_first(session, record, *conditions, **values):
        with db.engine.begin() as other:  # another connection commits a change in between
            other.execute(update(CashFlow).where(CashFlow.id == record.id).values(amount_cny=Decimal("4500000")))
        return real_claim(session, record, *conditions, **values)

    monkeypatch.setattr(corrections, "claim", someone_else_first)
    with pytest.raises(FieldErrors, match="已被修改"):
        corrections.correct_cash_flow(db.session, flow.id, fields, username="mgr")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).amount_cny == Decimal("4500000.00")


def test_an_investment_is_corrected_but_not_its_identity(db, book, as_role):
    client = as_role("manager", "mgr")
    page = client.get("/book/investments/QY-D1/correct").get_data(as_text=True)
    assert 'name="fund_code"' not in page and 'value="B轮"' in page
    response = client.post("/book/investments/QY-D1/correct", data={
        "date": "2023-06-30", "commitment_cny": "10000", "round": "B+轮", "ownership_pct": "8",
        "version": _hidden(page, "version"), "correction_reason": "轮次名称以协议为准", "fund_code": "TS"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Investment, "QY-D1").round == "B轮"  # asked for: the terms stay until approved
    page = client.get("/investments/QY-D1").get_data(as_text=True)
    assert "更正待批准" in page and "B+轮" in page and "轮次名称以协议为准" in page
    assert 'action="/book/investments/QY-D1/correction/approve"' not in page  # not to whoever asked
    checker = as_role("admin", "chk")
    assert 'data-correction="QY-D1"' in checker.get("/book/pending").get_data(as_text=True)
    done = checker.post("/book/investments/QY-D1/correction/approve", follow_redirects=True)
    assert "更正已批准并生效" in done.get_data(as_text=True)
    db.session.expire_all()
    investment = db.session.get(Investment, "QY-D1")
    assert investment.round == "B+轮" and investment.fund_code == "QY"


def test_a_correction_of_an_investment_waits_for_a_second_person(db, book):
    """Maker-checker on an investment's terms (its commitment moves unfunded, exposure and the
    rules): asked for, it changes nothing; one at a time; not approved by whoever asked;
    stale if the investment changed since; declined with a reason."""
    from portfolio.book.reading import build_report

    def ask(commitment: str, username: str = "mgr"):
        investment = db.session.get(Investment, "QY-D1")
        return corrections.correct_investment(db.session, "QY-D1", {
            "date": investment.date.isoformat(), "commitment_cny": commitment, "round": investment.round,
            "ownership_pct": str(investment.ownership_pct), "version": corrections.version_of(investment),
            "correction_reason": "补充协议增资"}, username=username)

    as_of = __import__("datetime").date(2025, 12, 31)
    commitment = build_report(db.session, "QY", as_of)["summary"]["commitment"]
    before = db.session.get(Investment, "QY-D1").commitment_cny
    ask("130000000")
    assert build_report(db.session, "QY", as_of)["summary"]["commitment"] == commitment
    with pytest.raises(FieldErrors) as caught:  # one at a time
        ask("140000000", username="mgr2")
    assert "已有待批准的更正" in str(caught.value.errors[0][1])
    with pytest.raises(FieldErrors) as caught:
        corrections.approve_correction(db.session, "QY-D1", username="mgr")
    assert str(caught.value.errors[0][1]) == "申请更正的人不能批准自己的申请，须由另一人批准"
    corrections.approve_correction(db.session, "QY-D1", username="chk")
    moved = build_report(db.session, "QY", as_of)["summary"]["commitment"] - commitment
    assert before != Decimal("130000000") and moved == Decimal("130000000") - before  # in force, in the figures
    assert db.session.get(Investment, "QY-D1").commitment_cny == Decimal("130000000")
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "investments",
                                                          AuditEntry.entity_key == "QY-D1")
                                 .order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.username) for e in entries[-2:]] == [("request_correction", "mgr"), ("correct", "chk")]
    assert entries[-2].after == {"commitment_cny": "130000000.00"}
    # asked for, then the investment changed by another way in: the correction is stale
    ask("150000000")
    db.session.execute(update(Investment).where(Investment.id == "QY-D1").values(round="C轮"))
    db.session.commit()
    with pytest.raises(FieldErrors) as caught:
        corrections.approve_correction(db.session, "QY-D1", username="chk")
    assert "已被修改" in str(caught.value.errors[0][1])
    assert db.session.get(Investment, "QY-D1").commitment_cny == Decimal("130000000")
    with pytest.raises(FieldErrors) as caught:  # a decline says why
        corrections.decline_correction(db.session, "QY-D1", {"reason": ""}, username="chk")
    corrections.decline_correction(db.session, "QY-D1", {"reason": "协议未生效"}, username="chk")
    assert corrections.waiting_corrections(db.session) == []
    with pytest.raises(FieldErrors) as caught:
        corrections.approve_correction(db.session, "QY-D1", username="chk")
    assert str(caught.value.errors[0][1]) == "该投资没有待批准的更正"
    last = db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert (last.action, last.reason) == ("reject_correction", "协议未生效")
    # the declined terms as the request's entry wrote them (yuan to the fen), not as typed
    asked = db.session.execute(select(AuditEntry).where(AuditEntry.action == "request_correction")
                               .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert asked.after == {"commitment_cny": "150000000.00"}
    assert last.before == {"asked_by": "mgr", "commitment_cny": "150000000.00"}


def test_a_voided_or_unknown_record_cannot_be_corrected(db, book, as_role):
    client = as_role("manager", "mgr")
    flow = _flow(db)
    void_in_force(db.session, "cash_flow", flow.id, "重复", username="mgr", checker="chair")
    assert client.get(f"/book/cash-flows/{flow.id}/correct").status_code == 404
    assert client.get("/book/valuations/999999/correct").status_code == 404
    assert client.get("/book/investments/NOPE/correct").status_code == 404
    viewer = as_role("viewer", "v1")
    assert viewer.get("/book/investments/QY-D1/correct").status_code in (302, 403)
