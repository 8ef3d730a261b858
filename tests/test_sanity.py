"""Sanity checks that ask, not refuse (issue 12, Deliver 7): a cash flow or valuation dated
in the future, contributions beyond the commitment, a distribution larger than the NAV plus
the contributions since; the form asks for a confirmation with a reason, and the audit entry
keeps the reason and the doubts it answered. On the spec's example book (spec/example/book):
QY-CO1 has a commitment of 30,000,000 yuan, fully paid on 2024-01-15, valued 24,000,000 on
2025-06-30."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AuditEntry, CashFlow, Valuation
from portfolio.book import records, sanity
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)


def _flow(**changes):
    return {"investment_id": "QY-CO1", "date": "2025-07-01", "type": "distribution", "amount_cny": "1000",
            **changes}


def test_an_ordinary_flow_needs_no_confirmation(db, book):
    flow = records.record_cash_flow(db.session, _flow(), username="mgr")
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "cash_flows",
                                                        AuditEntry.entity_key == str(flow.id))).scalar_one()
    assert entry.reason is None and "confirmed_doubts" not in entry.after


@pytest.mark.parametrize(("changes", "doubt"), [
    ({"date": "tomorrow"}, "晚于今天"),  # worked out when the test runs: a run may cross midnight
    ({"type": "contribution", "amount_cny": "0.01"}, "出资合计 3,000.000001 万元 将超过认缴额 3,000 万元"),
    # 24,000,000 (NAV of 2025-06-30) + no contribution since: 24,000,000.01 is more
    ({"amount_cny": "24000000.01"}, "分配 2,400.000001 万元 大于净值加出资 2,400 万元"),
])
def test_a_doubtful_flow_asks_for_a_reason_and_the_reason_is_audited(db, book, changes, doubt):
    if changes.get("date") == "tomorrow":  # Beijing's tomorrow now, not when the tests were collected
        changes = {**changes, "date": (sanity.today() + dt.timedelta(days=1)).isoformat()}
    with pytest.raises(sanity.Unconfirmed) as refused:
        records.record_cash_flow(db.session, _flow(**changes), username="mgr")
    assert refused.value.errors[0][0] == "confirm_reason" and doubt in refused.value.errors[0][1]
    db.session.rollback()
    flow = records.record_cash_flow(db.session, _flow(**changes, confirm_reason="按协议提前记账"), username="mgr")
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "cash_flows",
                                                        AuditEntry.entity_key == str(flow.id))).scalar_one()
    assert entry.reason == "按协议提前记账" and any(doubt in d for d in entry.after["confirmed_doubts"])


def test_a_distribution_within_nav_plus_later_contributions_is_not_doubted(db, book):
    records.record_cash_flow(db.session, _flow(type="contribution", amount_cny="5000000", date="2025-07-01",
                                               confirm_reason="增资协议"), username="mgr")
    # NAV 24,000,000 + 5,000,000 paid after it
    assert records.record_cash_flow(db.session, _flow(amount_cny="29000000", date="2025-07-02"),
                                    username="mgr").amount_cny == Decimal("29000000.00")


def test_a_future_valuation_asks_too(db, book):
    fields = {"investment_id": "QY-CO1", "as_of": (sanity.today() + dt.timedelta(days=30)).isoformat(),
              "fair_value_cny": "1", "method": "cost"}
    with pytest.raises(sanity.Unconfirmed):
        records.record_valuation(db.session, fields, username="mgr")
    db.session.rollback()
    assert records.record_valuation(db.session, {**fields, "confirm_reason": "预估"}, username="mgr").id


def test_the_form_shows_the_question_and_takes_the_confirmation(db, book, as_role):
    client = as_role("manager", "mgr")
    future = (sanity.today() + dt.timedelta(days=3)).isoformat()
    data = {"investment_id": "QY-CO1", "date": future, "type": "distribution", "amount_cny": "100"}
    page = client.post("/book/cash-flows/new", data=data).get_data(as_text=True)
    assert "请核对" in page and "晚于今天" in page and 'name="confirm_reason"' in page
    assert db.session.execute(select(CashFlow).where(CashFlow.date == dt.date.fromisoformat(future))).first() is None
    assert 'name="confirm_reason"' not in client.get("/book/cash-flows/new").get_data(as_text=True)
    done = client.post("/book/cash-flows/new", data={**data, "confirm_reason": "已收到付款通知"})
    assert done.status_code == 302
    assert db.session.execute(select(CashFlow).where(CashFlow.date == dt.date.fromisoformat(future))).first()
    assert db.session.execute(select(Valuation)).first() is not None


def test_the_same_flow_entered_twice_asks_before_it_is_counted_twice(db, book, as_role):
    """A cash flow typed on the form that the investment already has (same date, type and amount,
    one of them without a reference: what an import would match as the same row) is asked about,
    not silently added a second time; confirmed with a reason, it goes in. A flow with its own
    reference beside another's is a different notice."""
    first = records.record_cash_flow(db.session, _flow(), username="mgr")
    with pytest.raises(sanity.Unconfirmed) as refused:
        records.record_cash_flow(db.session, _flow(), username="mgr2")
    said = refused.value.errors[0][1]
    assert "已有同日、同类型、同金额的现金流" in said and "2025-07-01" in said and "（未填凭证号）" in said
    assert f"#{first.id}" not in said and "(entered without a reference)" in said.shown("en")
    assert "of the same date, type and amount" in said.shown("en") and not re.search(r"[\u4e00-\u9fff]", said.shown("en"))
    db.session.rollback()
    with pytest.raises(sanity.Unconfirmed):  # a reference on one of the two only: maybe the same payment
        records.record_cash_flow(db.session, _flow(ref="D-9"), username="mgr2")
    db.session.rollback()
    # the flow the book has named by its reference, as the investment's page shows it
    records.record_cash_flow(db.session, _flow(date="2025-07-03", ref="DIV-1"), username="mgr")
    with pytest.raises(sanity.Unconfirmed) as refused:
        records.record_cash_flow(db.session, _flow(date="2025-07-03"), username="mgr2")
    said = refused.value.errors[0][1]
    assert "（凭证号 DIV-1）" in said and "(reference DIV-1)" in said.shown("en")
    db.session.rollback()
    second = records.record_cash_flow(db.session, _flow(confirm_reason="同日两笔分配"), username="mgr2")
    assert second.id != first.id
    # both with references of their own: two notices, nothing asked
    a = records.record_cash_flow(db.session, _flow(date="2025-07-02", ref="D-1"), username="mgr")
    b = records.record_cash_flow(db.session, _flow(date="2025-07-02", ref="D-2"), username="mgr")
    assert a.id != b.id
    # the form says it beside the confirmation box, in the reader's language
    client = as_role("manager", "mgr3")
    data = {"investment_id": "QY-CO1", "date": "2025-07-01", "type": "distribution", "amount_cny": "0.1"}
    page = client.post("/book/cash-flows/new", data=data).get_data(as_text=True)
    assert "已有同日、同类型、同金额的现金流" in page and 'name="confirm_reason"' in page
    flows = db.session.execute(select(CashFlow).where(CashFlow.date == dt.date(2025, 7, 1))).scalars().all()
    assert len(flows) == 2


def test_a_copy_doubt_stored_naming_the_flow_by_id_still_reads_beside_the_new_wording():
    """Doubts are stored by key and arguments: one stored with the retired wording (key
    same_flow, the other flow's id) still renders in both languages, as the new ones do."""
    from portfolio.messages import Message, as_json, from_json

    args = {"day": dt.date(2025, 7, 1), "flow_term": ("type", "distribution"), "amount_wan": Decimal("1000")}
    old, by_ref, without = (from_json(as_json(said), "kept text") for said in (
        Message("same_flow", **args, flow_id=6), Message("same_flow_ref", **args, ref="DIV-1"),
        Message("same_flow_unreferenced", **args)))
    assert [said.key for said in (old, by_ref, without)] == ["same_flow", "same_flow_ref", "same_flow_unreferenced"]
    assert "已有同日、同类型、同金额的现金流" in old.shown("zh") and "（#6）" in old.shown("zh")
    assert old.shown("en").startswith("A cash flow of the same date") and "(#6)" in old.shown("en")
    assert "（凭证号 DIV-1）" in by_ref.shown("zh") and "(reference DIV-1)" in by_ref.shown("en")
    assert "（未填凭证号）" in without.shown("zh") and "(entered without a reference)" in without.shown("en")
