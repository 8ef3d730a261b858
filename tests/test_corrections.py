"""Correction instead of void-and-retype (issue 12, Deliver 8): a record in force is
corrected through its form shown filled in, audited before/after with a reason; a correction
of an approved cash flow, valuation or investment waits for a second person, the record in
force as it was meanwhile; a draft is corrected in place; a correction of a record changed
meanwhile (a stale version, or a change racing the correction) is refused with a clear
message. On the example book."""
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
    """Asked for by one person, in force as it was until another approves it."""
    client = as_role("manager", "mgr")
    flow = _flow(db)  # QY-D1 2025-03-31 distribution 5,000,000 分红, approved
    approved_by = flow.approved_by
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
    asked = db.session.get(CashFlow, flow.id)  # in force as it was
    assert (asked.amount_cny, asked.note, asked.approved_by) == (Decimal("5000000.00"), flow.note, approved_by)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "request_correction")).scalar_one()
    assert (entry.entity, entry.entity_key, entry.username) == ("cash_flows", str(flow.id), "mgr")
    assert entry.before["amount_cny"] == "5000000.00" and entry.after["amount_cny"] == "5000000.50"
    assert entry.after["investment_id"] == "QY-D1" and entry.reason == "银行回单金额为 5,000,000.50"
    # the asker sees it waiting on the form, old → new in 万元 (to the fen: the change is finer than 0.01)
    page = client.get(f"/book/cash-flows/{flow.id}/correct").get_data(as_text=True)
    assert f'data-flow-correction="{flow.id}"' in page and "500.000000" in page and "500.000050" in page
    assert f'action="/book/cash-flows/{flow.id}/correction/approve"' not in page
    # one waiting per record: the same form sent again is refused
    again = client.post(f"/book/cash-flows/{flow.id}/correct", data={
        "date": "2025-03-31", "type": "distribution", "amount_cny": "600", "version": version,
        "correction_reason": "再改"}, follow_redirects=True).get_data(as_text=True)
    assert "该现金流已有待批准的更正" in again
    # the asker cannot approve it; a checker sees it on the pending page and approves it
    refused = as_role("admin", "mgr").post(f"/book/cash-flows/{flow.id}/correction/approve", follow_redirects=True)
    assert "申请更正的人不能批准自己的申请" in refused.get_data(as_text=True)
    checker = as_role("admin", "chk")
    pending = checker.get("/book/pending").get_data(as_text=True)
    assert f'data-flow-correction="{flow.id}"' in pending and "分红（更正）" in pending
    done = checker.post(f"/book/cash-flows/{flow.id}/correction/approve", data={"next": "/book/pending"},
                        follow_redirects=True)
    assert "更正已批准并生效" in done.get_data(as_text=True)
    db.session.expire_all()
    corrected = db.session.get(CashFlow, flow.id)
    assert corrected.amount_cny == Decimal("5000000.50") and corrected.note == "分红（更正）"
    assert corrected.approved_by == "chk" and corrected.approved_at is not None and corrected.voided_at is None
    applied = db.session.execute(select(AuditEntry).where(AuditEntry.action == "correct")).scalar_one()
    assert applied.username == "chk" and applied.after["amount_cny"] == "5000000.50"
    assert "mgr" in applied.reason and "银行回单金额为 5,000,000.50" in applied.reason
    # the form shown before the correction carries the old version now: refused, nothing changed
    stale = client.post(f"/book/cash-flows/{flow.id}/correct", data={
        "date": "2025-03-31", "type": "distribution", "amount_cny": "600", "version": version,
        "correction_reason": "再改"}, follow_redirects=True).get_data(as_text=True)
    assert "已被修改" in stale and "chk" in stale
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).amount_cny == Decimal("5000000.50")


def test_a_declined_correction_leaves_the_record_as_it_was(db, book, as_role):
    from portfolio.book.reading import build_report

    as_of = __import__("datetime").date(2025, 12, 31)
    flow = _flow(db)
    before = (flow.amount_cny, flow.approved_by, flow.approved_at)
    distributions = build_report(db.session, "QY", as_of)["summary"]["distributed"]
    corrections.correct_cash_flow(db.session, flow.id, {
        "date": "2025-03-31", "type": "distribution", "amount_cny": "4000000", "note": flow.note,
        "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}, username="mgr")
    assert build_report(db.session, "QY", as_of)["summary"]["distributed"] == distributions
    checker = as_role("admin", "chk")
    home = checker.get("/?as_of=2025-12-31").get_data(as_text=True)
    assert f'data-flow-correction="{flow.id}"' in home and "500.00" in home and "400.00" in home
    assert "没有待批准的更正" not in checker.post(f"/book/cash-flows/{flow.id}/correction/reject",
                                           data={"reason": ""}, follow_redirects=True).get_data(as_text=True)
    assert corrections.pending_correction(db.session, str(flow.id), "cash_flows") is not None  # a reason is needed
    done = checker.post(f"/book/cash-flows/{flow.id}/correction/reject", data={"reason": "回单无误"},
                        follow_redirects=True).get_data(as_text=True)
    assert "更正申请已驳回" in done
    db.session.expire_all()
    kept = db.session.get(CashFlow, flow.id)
    assert (kept.amount_cny, kept.approved_by, kept.approved_at) == before
    assert corrections.waiting_record_corrections(db.session) == []
    last = db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert (last.action, last.entity, last.username, last.reason) == ("reject_correction", "cash_flows", "chk", "回单无误")
    assert last.before == {"asked_by": "mgr", "amount_cny": "4000000.00", "investment_id": "QY-D1",
                           "date": "2025-03-31"}
    assert build_report(db.session, "QY", as_of)["summary"]["distributed"] == distributions


def _entries(db, entity, key):
    return db.session.execute(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_key == str(key))
                              .order_by(AuditEntry.id)).scalars().all()


def test_a_void_approved_takes_off_the_waiting_correction_of_the_cash_flow(db, book, as_role):
    """A correction of a cash flow waiting when its void is approved goes with it, in the same
    transaction: declined by the void's approver, its terms as asked, the reason saying (in the
    reader's language) that the flow was voided; no stale card is left for a checker to decline."""
    import html

    flow = _flow(db)
    corrections.correct_cash_flow(db.session, flow.id, {
        "date": "2025-03-31", "type": "distribution", "amount_cny": "4000000", "note": flow.note,
        "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}, username="mgr")
    records.void_cash_flow(db.session, flow.id, {"reason": "重复录入"}, username="mgr2")
    checker = as_role("manager", "chk")
    done = checker.post(f"/book/cash-flows/{flow.id}/void/approve", data={"next": "/book/pending"},
                        follow_redirects=True).get_data(as_text=True)
    assert "作废已批准" in done and f'data-flow-correction="{flow.id}"' not in done
    db.session.expire_all()
    voided = db.session.get(CashFlow, flow.id)
    assert voided.voided_at is not None and voided.voided_by == "chk"
    assert corrections.pending_correction(db.session, str(flow.id), "cash_flows") is None
    assert corrections.waiting_record_corrections(db.session) == []
    assert f'data-flow-correction="{flow.id}"' not in checker.get("/investments/QY-D1").get_data(as_text=True)
    *_, void, withdrawn = _entries(db, "cash_flows", flow.id)
    assert (void.action, void.username, void.reason) == ("void", "chk", "重复录入")
    assert (withdrawn.action, withdrawn.username) == ("reject_correction", "chk")
    assert withdrawn.before == {"asked_by": "mgr", "amount_cny": "4000000.00", "investment_id": "QY-D1",
                                "date": "2025-03-31"}
    assert withdrawn.reason_said["key"] == "why_correction_withdrawn_voided"
    assert withdrawn.reason == "该现金流已作废，待批准的更正申请随之撤回"
    for lang, said in (("zh", "该现金流已作废，待批准的更正申请随之撤回"),
                       ("en", "The cash flow was voided, so the correction asked for was withdrawn")):
        checker.get(f"/lang/{lang}")
        page = html.unescape(checker.get(f"/history/cash_flows/{flow.id}").get_data(as_text=True))
        assert said in page, lang
        assert "why_correction_withdrawn_voided" not in page


def test_a_void_approved_takes_off_the_waiting_correction_of_the_valuation(db, book):
    """As for a cash flow; a void refused (approved by its asker) leaves the correction waiting,
    and a void with no correction waiting declines nothing."""
    valuation = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-CO1")).scalar_one()
    corrections.correct_valuation(db.session, valuation.id, {
        "as_of": valuation.as_of.isoformat(), "fair_value_cny": "25000000", "method": "dcf",
        "version": corrections.version_of(valuation), "correction_reason": "模型参数更正"}, username="mgr")
    records.void_valuation(db.session, valuation.id, {"reason": "估值基准日错误"}, username="mgr2")
    with pytest.raises(FieldErrors):
        records.approve_void(db.session, "valuation", valuation.id, username="mgr2")
    db.session.rollback()
    assert corrections.pending_correction(db.session, str(valuation.id), "valuations") is not None
    records.approve_void(db.session, "valuation", valuation.id, username="chk")
    db.session.expire_all()
    assert db.session.get(Valuation, valuation.id).voided_by == "chk"
    assert corrections.pending_correction(db.session, str(valuation.id), "valuations") is None
    *_, void, withdrawn = _entries(db, "valuations", valuation.id)
    assert void.action == "void"
    assert (withdrawn.action, withdrawn.username, withdrawn.reason_said) == (
        "reject_correction", "chk", {"key": "why_correction_withdrawn_voided", "args": {"record": "valuation"}})
    assert withdrawn.before == {"asked_by": "mgr", "fair_value_cny": "25000000.00",
                                "investment_id": "QY-CO1", "as_of": valuation.as_of.isoformat()}
    # a void with no correction waiting: no decline written
    other = db.session.execute(select(Valuation).where(Valuation.approved_at.is_not(None),
                                                       Valuation.voided_at.is_(None))).scalars().first()
    void_in_force(db.session, "valuation", other.id, "重复", username="mgr", checker="chk")
    assert [e.action for e in _entries(db, "valuations", other.id)][-2:] == ["request_void", "void"]


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


def test_a_correction_of_an_approved_valuation_waits_and_a_draft_is_corrected_in_place(db, book):
    from portfolio.book.reading import build_report

    as_of = __import__("datetime").date(2025, 12, 31)
    valuation = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-CO1")).scalar_one()
    assert valuation.approved_at is not None
    nav = build_report(db.session, "QY", as_of)["summary"]["nav"]
    fields = {"as_of": "2025-06-30", "fair_value_cny": "25000000", "method": "dcf",
              "version": corrections.version_of(valuation), "correction_reason": "模型参数更正"}
    corrections.correct_valuation(db.session, valuation.id, fields, username="mgr")
    db.session.expire_all()
    kept = db.session.get(Valuation, valuation.id)
    assert kept.approved_at is not None and kept.fair_value_cny != Decimal("25000000")
    assert build_report(db.session, "QY", as_of)["summary"]["nav"] == nav
    with pytest.raises(FieldErrors, match="申请更正的人不能批准"):
        corrections.approve_correction(db.session, valuation.id, username="mgr", entity="valuations")
    db.session.rollback()
    approved = corrections.approve_correction(db.session, valuation.id, username="mgr2", entity="valuations")
    assert (approved.fair_value_cny, approved.method, approved.approved_by) == (Decimal("25000000"), "dcf", "mgr2")
    assert build_report(db.session, "QY", as_of)["summary"]["nav"] != nav
    with pytest.raises(FieldErrors, match="该估值没有待批准的更正"):
        corrections.approve_correction(db.session, valuation.id, username="mgr2", entity="valuations")
    db.session.rollback()
    # a draft (in no figure) is corrected in place and stays a draft, for someone else to approve
    draft = records.record_valuation(db.session, {"investment_id": "QY-CO1", "as_of": "2025-12-31",
                                                  "fair_value_cny": "30000000", "method": "dcf"}, username="mgr")
    corrections.correct_valuation(db.session, draft.id, {
        "as_of": "2025-12-31", "fair_value_cny": "31000000", "method": "dcf",
        "version": corrections.version_of(draft), "correction_reason": "录错"}, username="mgr3")
    db.session.expire_all()
    draft = db.session.get(Valuation, draft.id)
    assert draft.fair_value_cny == Decimal("31000000") and draft.approved_at is None and draft.entered_by == "mgr3"
    assert corrections.pending_correction(db.session, str(draft.id), "valuations") is None
    with pytest.raises(FieldErrors, match="录入人不能审批"):
        records.approve_valuation(db.session, draft.id, username="mgr3")
    db.session.rollback()
    assert records.approve_valuation(db.session, draft.id, username="mgr").approved_by == "mgr"


def test_a_record_changed_between_the_read_and_the_write_is_not_overwritten(db, book, monkeypatch):
    """The race the version alone cannot see: another user's change lands after the check.
    The conditional UPDATE (WHERE the columns still hold what was read) refuses it."""
    flow = _flow(db)
    fields = {"date": "2025-03-31", "type": "distribution", "amount_cny": "4000000",
              "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}
    real_decided = corrections.decided

    def someone_else_first(session, waiting):  # the approval has read the flow, not yet written
        with db.engine.begin() as other:  # another connection commits a change in between
            other.execute(update(CashFlow).where(CashFlow.id == flow.id).values(amount_cny=Decimal("4500000")))
        return real_decided(session, waiting)

    corrections.correct_cash_flow(db.session, flow.id, fields, username="mgr")  # asked for
    monkeypatch.setattr(corrections, "decided", someone_else_first)
    with pytest.raises(FieldErrors, match="已被修改"):
        corrections.approve_correction(db.session, flow.id, username="chk", entity="cash_flows")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(CashFlow, flow.id).amount_cny == Decimal("4500000.00")
    assert corrections.pending_correction(db.session, str(flow.id), "cash_flows") is not None  # still waiting


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


def test_a_correction_of_an_investments_terms_shows_its_amounts_in_wan(db, book, as_role):
    """The checker reads the commitment now and as asked in 万元, as every screen writes amounts."""
    investment = db.session.get(Investment, "QY-D1")
    now = investment.commitment_cny
    corrections.correct_investment(db.session, "QY-D1", {
        "date": investment.date.isoformat(), "commitment_cny": "123456789.12", "round": investment.round,
        "ownership_pct": str(investment.ownership_pct), "version": corrections.version_of(investment),
        "correction_reason": "补充协议增资"}, username="mgr")
    checker = as_role("manager", "chk")
    for lang, unit in (("zh", "金额单位：万元"), ("en", "amounts in CNY 10k")):
        checker.get(f"/lang/{lang}")
        page = checker.get("/book/pending").get_data(as_text=True)
        start = page.index('data-correction="QY-D1"')
        card = page[start:page.index("</div>", start)]
        assert "12,345.68" in card and f"{now / 10000:,.2f}" in card, card
        assert "123,456,789.12" not in card and unit in card, card


def test_a_correction_card_names_its_one_record_in_the_singular_in_english(db, book, as_role):
    """The card of a correction waiting names one record: "Cash flow" / "Valuation" in English
    (the pending page's headings, plural, had been used: "Cash flows · QY-D1")."""
    from tests.visible_text import visible_text

    flow = _flow(db)
    corrections.correct_cash_flow(db.session, flow.id, {
        "date": "2025-03-31", "type": "distribution", "amount_cny": "4000000", "note": flow.note,
        "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}, username="mgr")
    valuation = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-CO1")).scalar_one()
    corrections.correct_valuation(db.session, valuation.id, {
        "as_of": "2025-06-30", "fair_value_cny": "25000000", "method": "dcf",
        "version": corrections.version_of(valuation), "correction_reason": "模型参数更正"}, username="mgr")
    checker = as_role("admin", "chk")
    zh = visible_text(checker.get("/book/pending").get_data(as_text=True))
    assert "现金流 · QY-D1" in zh and "估值 · QY-CO1" in zh
    checker.get("/lang/en")
    en = visible_text(checker.get("/book/pending").get_data(as_text=True))
    assert "Cash flow · QY-D1" in en and "Valuation · QY-CO1" in en
    assert "Cash flows · QY-D1" not in en and "Valuations · QY-CO1" not in en


def test_correction_cards_of_two_flows_alike_are_told_apart_by_their_date(db, book, as_role):
    """Two approved contributions of one amount to QY-SF1 (2023-03-31, 2024-03-31), each asked
    to be corrected: each card names its record as it stands, by date, type (its label, not the
    code), amount in 万元 and reference, in Chinese and in English; a valuation's card by its date
    and method. The cards had read "现金流 · QY-SF1" alike, and only the fields changed."""
    from portfolio.vocabulary import label
    from tests.visible_text import visible_text

    flows = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-SF1",
                                                      CashFlow.amount_cny == Decimal("150000000"))
                               .order_by(CashFlow.date)).scalars().all()
    assert [f.date.isoformat() for f in flows] == ["2023-03-31", "2024-03-31"]
    for flow, ref in zip(flows, ("PZ-2023-017", "PZ-2024-009")):
        db.session.execute(update(CashFlow).where(CashFlow.id == flow.id).values(ref=ref))
    db.session.commit()
    for flow in flows:
        db.session.refresh(flow)
        corrections.correct_cash_flow(db.session, flow.id, {
            "date": flow.date.isoformat(), "type": "contribution", "amount_cny": "150000000.50",
            "note": flow.note, "ref": flow.ref, "version": corrections.version_of(flow),
            "correction_reason": "银行回单金额"}, username="mgr")
    valuation = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-CO1")).scalar_one()
    corrections.correct_valuation(db.session, valuation.id, {
        "as_of": valuation.as_of.isoformat(), "fair_value_cny": "25000000", "method": valuation.method,
        "version": corrections.version_of(valuation), "correction_reason": "模型参数更正"}, username="mgr")
    as_of, method = valuation.as_of.isoformat(), valuation.method
    checker = as_role("admin", "chk")

    def cards(lang_page: str) -> dict[str, str]:
        found = {}
        for key in [str(f.id) for f in flows]:
            match = re.search(rf'data-flow-correction="{key}">(.*?)</p>', lang_page, re.S)
            assert match, key
            found[key] = visible_text(match.group(1))
        match = re.search(rf'data-valuation-correction="{valuation.id}">(.*?)</p>', lang_page, re.S)
        assert match
        found["valuation"] = visible_text(match.group(1))
        return found

    zh = cards(checker.get("/book/pending").get_data(as_text=True))
    first, second = zh[str(flows[0].id)], zh[str(flows[1].id)]
    assert "QY-SF1 · 2023-03-31 · 出资 · 15,000.00 万元 · 凭证号：PZ-2023-017" in first, first
    assert "QY-SF1 · 2024-03-31 · 出资 · 15,000.00 万元 · 凭证号：PZ-2024-009" in second, second
    assert "2024-03-31" not in first and "2023-03-31" not in second and "contribution" not in first
    assert f"估值 · QY-CO1 · {as_of} · {label('method', method)} · " in zh["valuation"], zh["valuation"]
    checker.get("/lang/en")
    en = cards(checker.get("/book/pending").get_data(as_text=True))
    first, second = en[str(flows[0].id)], en[str(flows[1].id)]
    assert "Cash flow · QY-SF1 · 2023-03-31 · Contribution · 15,000.00 (CNY 10k) · Reference: PZ-2023-017" in first, first
    assert "Cash flow · QY-SF1 · 2024-03-31 · Contribution · 15,000.00 (CNY 10k) · Reference: PZ-2024-009" in second, second
    assert f"Valuation · QY-CO1 · {as_of} · {label('method', method, lang='en')} · " in en["valuation"], en["valuation"]


def test_a_decline_with_only_spaces_for_a_reason_says_a_reason_is_needed(db, book, as_role):
    """A reason of spaces passes the browser's `required`: the flash says the decline needs a
    reason, not a bare 必填 / Required that names no field."""
    import html

    flow = _flow(db)
    corrections.correct_cash_flow(db.session, flow.id, {
        "date": "2025-03-31", "type": "distribution", "amount_cny": "4000000", "note": flow.note,
        "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}, username="mgr")
    other = db.session.execute(select(CashFlow).where(CashFlow.id != flow.id, CashFlow.voided_at.is_(None),
                                                      CashFlow.approved_at.is_not(None))).scalars().first()
    records.void_cash_flow(db.session, other.id, {"reason": "录错了"}, username="mgr")
    checker = as_role("admin", "chk")
    for lang, needed, bare in (("zh", "驳回须填写理由", "必填"), ("en", "Rejecting needs a reason", "Required")):
        checker.get(f"/lang/{lang}")
        for url in (f"/book/cash-flows/{flow.id}/correction/reject", f"/book/cash-flows/{other.id}/void/reject"):
            page = checker.post(url, data={"reason": "   "}, follow_redirects=True).get_data(as_text=True)
            flashes = [html.unescape(m) for m in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', page, re.S)]
            assert any(needed in m for m in flashes) and bare not in flashes, (lang, url, flashes)
    assert corrections.pending_correction(db.session, str(flow.id), "cash_flows") is not None
    db.session.expire_all()
    assert db.session.get(CashFlow, other.id).void_requested_at is not None


@pytest.mark.parametrize(("typed", "kept"), [("12.3456", Decimal("12.3456")), ("5.5%", Decimal("5.5"))])
def test_an_investments_ownership_is_corrected_as_a_percentage_not_an_amount(db, book, as_role, typed, kept):
    """The correction read 持股比例（%） as an amount in 元: 12.3456 (a percentage the new-investment
    form and the import take, to eight places) was refused as 金额最多两位小数, 5.5% as 应为金额（元）, and
    an ownership held to more than two places could not be carried through any correction."""
    client = as_role("manager", "mgr")
    page = client.get("/book/investments/QY-D1/correct").get_data(as_text=True)
    response = client.post("/book/investments/QY-D1/correct", data={
        "date": "2023-06-30", "commitment_cny": "10000", "round": "B轮", "ownership_pct": typed,
        "version": _hidden(page, "version"), "correction_reason": "以协议为准"})
    assert response.status_code == 302, response.get_data(as_text=True)
    checker = as_role("admin", "chk")
    checker.post("/book/investments/QY-D1/correction/approve")
    db.session.expire_all()
    assert db.session.get(Investment, "QY-D1").ownership_pct == kept
    page = client.get("/book/investments/QY-D1/correct").get_data(as_text=True)
    refused = client.post("/book/investments/QY-D1/correct", data={
        "date": "2023-06-30", "commitment_cny": "10000", "round": "B轮", "ownership_pct": "abc",
        "version": _hidden(page, "version"), "correction_reason": "x"}).get_data(as_text=True)
    assert "不是数字" in refused, refused
    assert "应为金额" not in refused


def test_a_flow_corrected_into_a_copy_of_another_asks_before_it_is_counted_twice(db, book):
    """A correction that makes a cash flow the same as another of its investment (date, type and
    amount, one without a reference) asks, as the new-flow form does; a correction of its note
    alone, or back to its own terms, asks nothing."""
    from portfolio.book import sanity

    first = _flow(db)  # QY-D1 2025-03-31 distribution 5,000,000
    other = records.record_cash_flow(db.session, {"investment_id": "QY-D1", "date": "2025-04-01", "type": "distribution",
                                                  "amount_cny": "5000000"}, username="mgr")
    fields = {"date": "2025-03-31", "type": "distribution", "amount_cny": "5000000",
              "version": corrections.version_of(other), "correction_reason": "日期录错"}
    with pytest.raises(sanity.Unconfirmed) as refused:
        corrections.correct_cash_flow(db.session, other.id, fields, username="mgr")
    # the flow it would copy named as the investment's page shows it: by its reference, or as without one
    named = f"（凭证号 {first.ref}）" if first.ref else "（未填凭证号）"
    assert "已有同日、同类型、同金额的现金流" in refused.value.errors[0][1] and named in refused.value.errors[0][1]
    db.session.rollback()
    corrections.correct_cash_flow(db.session, other.id, {**fields, "confirm_reason": "同日两笔分红"}, username="mgr")
    db.session.expire_all()
    assert db.session.get(CashFlow, other.id).date.isoformat() == "2025-03-31"
    # the two alike now: a note corrected on one asks nothing more
    again = db.session.get(CashFlow, other.id)
    corrections.correct_cash_flow(db.session, other.id, {**fields, "note": "第二笔", "version": corrections.version_of(again)},
                                  username="mgr")
