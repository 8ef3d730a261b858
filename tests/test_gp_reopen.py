"""Reopening an accepted GP package (portfolio/gp/reopening.py), maker-checker: a fund manager
asks with a reason, another approves; the valuation the package booked is voided, the sub-fund's
schedule put back as it was before the acceptance (from the acceptance's audit entries), the
package returned to the GP, who edits, resubmits, and it is accepted again. Refused where a later
quarter is accepted, where what the acceptance booked changed since, or where the package is not
accepted; two approvals at once apply it once.

SF1's schedule at 2025-12-31 comes in by an import first (C3 300/900, C4 200/450, C1 10/10
million): the package (test_gp_portal.clean_content) leaves C3 as it is, updates C4 to 200/500,
removes C1 and creates the new company at 250/280 million. Before the package, QY-SF1's NAV at
2025-12-31 is the 2025-09-30 value rolled forward by the 100 million call: 410 million.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AuditEntry, Company, GpPackage, GpPackageEvent, PendingCorrection, SubFundHolding, Valuation
from portfolio.book import cache
from portfolio.errors import FieldErrors
from portfolio.gp import reopening
from portfolio.messages import render
from tests.conftest import login, void_in_force
from tests.races import race, slowed
from tests.test_gp_portal import NEW_COMPANY, Q4, _accepted, _schedule, _submitted, _upload, clean_content
from tests.test_gp_portal import book as book  # noqa: F401  (the fixture)
from tests.test_gp_portal import imported as imported  # noqa: F401  (the fixture)

M = 1_000_000  # yuan


def _in_force(db) -> list[Valuation]:
    db.session.expire_all()
    return list(db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-SF1", Valuation.as_of == Q4,
                                                           Valuation.voided_at.is_(None))).scalars())


def _flashes(page: str) -> str:
    import html

    return html.unescape(" ".join(re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', page, re.S)) or page)


def _nav(db) -> Decimal:
    cache.clear()
    report = cache.fund_report(db.session, "QY", Q4)
    return Decimal(str(next(i for i in report["investments"] if i["id"] == "QY-SF1")["nav"]))


def _earlier_valuation(db) -> int:
    """A valuation of QY-SF1 at the quarter end, approved before the package: acceptance voids it."""
    valuation = Valuation(investment_id="QY-SF1", as_of=Q4, fair_value_cny=Decimal(415 * M), method="cost",
                          entered_by="manager1", approved_by="manager2", approved_at=dt.datetime(2026, 1, 5))
    db.session.add(valuation)
    db.session.commit()
    return valuation.id


def _accepted_by_the_screens(db, client, package_id: int) -> GpPackage:
    """The package's draft submitted by the GP logged in, reviewed by manager1 and accepted by
    manager2, each by a click on the package's page; the package as the book then holds it."""
    client.post(f"/gp/packages/{package_id}/submit")
    db.session.expire_all()
    assert db.session.get(GpPackage, package_id).status == "submitted"
    login(client, "manager1")
    client.post(f"/gp/packages/{package_id}/review")
    login(client, "manager2")
    client.post(f"/gp/packages/{package_id}/accept")
    db.session.expire_all()
    return db.session.get(GpPackage, package_id)


def test_the_whole_path_through_the_screens(db, client, imported):
    earlier = _earlier_valuation(db)
    before_acceptance = _schedule(db)
    assert before_acceptance == {"C3": (Decimal(300 * M), Decimal(900 * M)), "C4": (Decimal(200 * M), Decimal(450 * M)),
                                 "C1": (Decimal(10 * M), Decimal(10 * M))}
    login(client, "gp1")
    assert _upload(client, clean_content()).status_code == 302
    package_id = db.session.execute(select(GpPackage.id)).scalar_one()
    package = _accepted_by_the_screens(db, client, package_id)
    assert package.status == "accepted"
    booked_valuation = package.valuation_id
    assert [v.id for v in _in_force(db)] == [booked_valuation] and _nav(db) == Decimal(420 * M)
    new_code = db.session.execute(select(Company.code).where(Company.credit_code == NEW_COMPANY)).scalar_one()
    assert set(_schedule(db)) == {"C3", "C4", new_code}

    # manager1 asks: a reason is required, then the request waits; the package stays accepted
    login(client, "manager1")
    page = client.get(f"/gp/packages/{package_id}").get_data(as_text=True)
    assert 'id="reopen-form"' in page and "重新打开" in page
    refused = client.post(f"/book/gp-packages/{package_id}/reopen", data={"reason": "  "})
    assert refused.status_code == 200  # the page again, what is wrong beside the reason
    assert re.search(r'<span class="error" data-field="reason">必填</span>', refused.get_data(as_text=True))
    assert reopening.pending_reopen(db.session, package_id) is None
    too_long = "理" * (reopening.REASON_MAX_LEN + 1)
    refused = client.post(f"/book/gp-packages/{package_id}/reopen", data={"reason": too_long})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and too_long in page  # kept as typed, not lost to a redirect
    assert re.search(rf'data-field="reason">不能超过 {reopening.REASON_MAX_LEN} 个字符</span>', page)
    assert reopening.pending_reopen(db.session, package_id) is None
    client.post(f"/book/gp-packages/{package_id}/reopen", data={"reason": "C4 的公允价值报错了"})
    assert reopening.pending_reopen(db.session, package_id) is not None
    page = client.get(f"/gp/packages/{package_id}").get_data(as_text=True)
    assert f'data-reopen-request="{package_id}"' in page and 'id="approve-reopen"' not in page and "须由他人批准" in page

    assert f'data-reopen-request="{package_id}"' not in client.get("/").get_data(as_text=True)  # not one's own to-do
    # the asker cannot approve it
    page = client.post(f"/book/gp-packages/{package_id}/reopen/approve", follow_redirects=True).get_data(as_text=True)
    assert "申请重新打开的人不能批准自己的申请" in _flashes(page)
    db.session.expire_all()
    assert db.session.get(GpPackage, package_id).status == "accepted"
    assert reopening.pending_reopen(db.session, package_id) is not None

    # it waits for manager2 on the home page and the pending list
    login(client, "manager2")
    assert f'data-reopen-request="{package_id}"' in client.get("/").get_data(as_text=True)
    pending = client.get("/book/pending").get_data(as_text=True)
    card = pending[pending.index('id="pending-gp-reopenings"'):]
    assert f'data-reopen-request="{package_id}"' in card and "C4 的公允价值报错了" in card and 'id="approve-reopen"' in card
    client.post(f"/book/gp-packages/{package_id}/reopen/approve", data={"next": "/book/pending"})

    db.session.expire_all()
    package = db.session.get(GpPackage, package_id)
    assert package.status == "returned" and package.accepted_by is None and package.valuation_id is None
    assert reopening.pending_reopen(db.session, package_id) is None
    voided = db.session.get(Valuation, booked_valuation)
    assert voided.voided_at is not None and voided.voided_by == "manager2"
    void_entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.entity == "valuations", AuditEntry.entity_key == str(booked_valuation),
        AuditEntry.action == "void")).scalar_one()
    assert void_entry.reason_said["key"] == "why_gp_package_reopened"
    assert f"#{package_id}" in void_entry.reason and "C4 的公允价值报错了" in void_entry.reason
    assert db.session.get(Valuation, earlier).voided_at is not None  # not revived
    assert _in_force(db) == []
    assert _schedule(db) == before_acceptance
    restored = {(e.action, e.entity_key) for e in db.session.execute(select(AuditEntry).where(
        AuditEntry.entity == "sub_fund_holdings", AuditEntry.batch == f"gp-package-{package_id}-reopen")).scalars()}
    assert restored == {("create", "SF1:2025-12-31:C1"), ("update", "SF1:2025-12-31:C4"),
                        ("void", f"SF1:2025-12-31:{new_code}")}
    assert db.session.get(Company, new_code) is not None  # the company stays
    assert _nav(db) == Decimal(410 * M)  # the figures move back: the 2025-09-30 value rolled forward
    event = db.session.execute(select(GpPackageEvent).where(GpPackageEvent.package_id == package_id)
                               .order_by(GpPackageEvent.id.desc()).limit(1)).scalar_one()
    assert (event.action, event.comment) == ("reopen", "C4 的公允价值报错了")

    # the GP sees it returned with the reason, edits and resubmits; it is accepted again
    login(client, "gp1")
    page = client.get(f"/gp/packages/{package_id}").get_data(as_text=True)
    assert 'data-status="returned"' in page and "C4 的公允价值报错了" in page and 'id="edit-package"' in page
    assert 'id="reopen-form"' not in page
    content = clean_content()
    content["narrative"] = "更正后的报告。"
    assert _upload(client, content).status_code == 302
    package = _accepted_by_the_screens(db, client, package_id)
    assert package.status == "accepted" and package.content["narrative"] == "更正后的报告。"
    assert [v.id for v in _in_force(db)] == [package.valuation_id] and package.valuation_id != booked_valuation
    assert set(_schedule(db)) == {"C3", "C4", new_code} and _nav(db) == Decimal(420 * M)
    # and reopened again, the second acceptance's rows are what is put back
    reopening.ask_reopen(db.session, package_id, {"reason": "再次更正"}, username="manager1")
    reopening.approve_reopen(db.session, package_id, username="manager2")
    assert _schedule(db) == before_acceptance and _in_force(db) == []


def test_english_screens_say_it_in_english(db, client, book):  # noqa: F811
    package = _accepted(db, "QY-SF1", Q4, clean_content())
    reopening.ask_reopen(db.session, package.id, {"reason": "wrong marks"}, username="manager1")
    login(client, "manager2")
    client.get("/lang/en")
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    assert "Reopen" in page and "重新打开" not in page
    pending = client.get("/book/pending").get_data(as_text=True)
    assert "重新打开" not in pending
    login(client, "manager1")
    client.get("/lang/en")
    page = client.post(f"/book/gp-packages/{package.id}/reopen/approve", follow_redirects=True).get_data(as_text=True)
    assert "Whoever asked to reopen a report cannot approve it" in page


def _q1_after_q4() -> dict:
    """2026Q1 of QY-SF1 after 2025Q4 is accepted at 420 million: no flows, it opens and closes there."""
    content = clean_content()
    content["account"].update(opening_nav=420 * M * 100, contributions=0, management_fees=0, other_income_expenses=0,
                              unrealised_gain=0, opening_unfunded=100 * M * 100)
    content["notices"] = []
    return content


def _key(errors: FieldErrors) -> str:
    (_field, message), = errors.errors
    return message.key


def test_only_an_accepted_package_is_reopened(db, book):  # noqa: F811
    package = _submitted(db)
    with pytest.raises(FieldErrors) as refused:
        reopening.ask_reopen(db.session, package.id, {"reason": "x"}, username="manager1")
    assert _key(refused.value) == "gp_reopen_not_accepted"
    db.session.rollback()
    assert db.session.execute(select(PendingCorrection)).first() is None


def test_only_the_latest_accepted_quarter_is_reopened(db, book):  # noqa: F811
    q4 = _accepted(db, "QY-SF1", Q4, clean_content())
    q4_id = q4.id
    _accepted(db, "QY-SF1", dt.date(2026, 3, 31), _q1_after_q4())
    with pytest.raises(FieldErrors) as refused:
        reopening.ask_reopen(db.session, q4_id, {"reason": "x"}, username="manager1")
    assert _key(refused.value) == "gp_reopen_later_accepted"
    assert refused.value.errors[0][1].shown("en").startswith("The report for 2026Q1 of this investment")
    db.session.rollback()
    assert db.session.get(GpPackage, q4_id).status == "accepted"


def test_a_valuation_voided_since_is_left_voided_and_the_package_reopened(db, book):  # noqa: F811
    """Voided since, the package's value is out of the figures already: refusing would leave the
    package accepted for good and the GP no way to send the quarter again."""
    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id, valuation_id = package.id, package.valuation_id
    void_in_force(db.session, "valuation", valuation_id, "录入错误", username="manager1", checker="manager2")
    voided = db.session.get(Valuation, valuation_id)
    voided_at, voided_by = voided.voided_at, voided.voided_by
    reopening.ask_reopen(db.session, package_id, {"reason": "季报数字有误"}, username="manager1")
    reopening.approve_reopen(db.session, package_id, username="manager2")
    db.session.expire_all()
    assert db.session.get(GpPackage, package_id).status == "returned"
    kept = db.session.get(Valuation, valuation_id)
    assert (kept.voided_at, kept.voided_by) == (voided_at, voided_by)  # as the void left it
    assert db.session.execute(select(AuditEntry).where(
        AuditEntry.entity == "valuations", AuditEntry.entity_key == str(valuation_id),
        AuditEntry.batch == f"gp-package-{package_id}-reopen")).first() is None


def test_a_correction_and_a_void_of_the_valuation_waiting_are_taken_off_when_it_is_reopened(db, book):  # noqa: F811
    """The reopening voids the package's valuation: a correction of it waiting and a void of it
    asked for are moot and go with it, each declined by the approver with a reason that says why
    (the void's asker's reason not left as the void's), in the reopening's transaction and batch."""
    from portfolio.book import corrections, records

    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id, valuation = package.id, db.session.get(Valuation, package.valuation_id)
    key = str(valuation.id)
    corrections.correct_valuation(db.session, valuation.id, {
        "as_of": valuation.as_of.isoformat(), "fair_value_cny": str(valuation.fair_value_cny - 1000),
        "method": valuation.method, "version": corrections.version_of(valuation),
        "correction_reason": "审计调整"}, username="manager1")
    records.void_valuation(db.session, valuation.id, {"reason": "季报有误"}, username="manager3")
    reopening.ask_reopen(db.session, package_id, {"reason": "季报数字有误"}, username="manager1")
    reopening.approve_reopen(db.session, package_id, username="manager2")
    db.session.expire_all()
    assert db.session.get(GpPackage, package_id).status == "returned"
    voided = db.session.get(Valuation, valuation.id)
    assert voided.voided_at is not None and voided.voided_by == "manager2"
    assert (voided.void_requested_by, voided.void_requested_at) == (None, None)
    assert "季报数字有误" in voided.void_reason
    assert corrections.pending_correction(db.session, key, "valuations") is None
    assert db.session.execute(select(PendingCorrection)).first() is None
    entries = db.session.execute(select(AuditEntry).where(
        AuditEntry.entity == "valuations", AuditEntry.entity_key == key,
        AuditEntry.batch == f"gp-package-{package_id}-reopen").order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.username) for e in entries] == [("reject_void", "manager2"), ("void", "manager2"),
                                                         ("reject_correction", "manager2")]
    declined_void, void, declined = entries
    assert declined_void.reason_said == {"key": "why_void_withdrawn_reopened", "args": {"id": package_id}}
    assert declined_void.before["void_requested_by"] == "manager3" and declined_void.after["void_requested_by"] is None
    assert void.reason_said["key"] == "why_gp_package_reopened"
    assert declined.reason_said == {"key": "why_correction_withdrawn_voided", "args": {"record": "valuation"}}
    assert declined.before["asked_by"] == "manager1"


def test_a_valuation_corrected_since_refuses_it(db, book):  # noqa: F811
    from portfolio.book import corrections

    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id, valuation = package.id, db.session.get(Valuation, package.valuation_id)
    corrections.correct_valuation(db.session, valuation.id, {
        "as_of": valuation.as_of.isoformat(), "fair_value_cny": str(valuation.fair_value_cny - 1000),
        "method": valuation.method, "version": corrections.version_of(valuation),
        "correction_reason": "审计调整"}, username="manager1")
    reopening.ask_reopen(db.session, package_id, {"reason": "x"}, username="manager1")  # the correction only asked
    reopening.decline_reopen(db.session, package_id, {"reason": "先批更正"}, username="manager1")
    corrections.approve_correction(db.session, valuation.id, username="manager2", entity="valuations")
    with pytest.raises(FieldErrors) as refused:
        reopening.ask_reopen(db.session, package_id, {"reason": "x"}, username="manager1")
    assert _key(refused.value) == "gp_reopen_valuation_changed_by"
    (_field, zh), = refused.value.shown("zh")
    (_field, en), = refused.value.shown("en")
    assert zh.startswith(f"管理人季度报告 #{package_id} 记入台账的估值此后已由 ") and "作废" not in zh.split("；")[0]
    assert zh.endswith("更正，该报告不能再重新打开；更正后的估值继续有效。如需改变该季度的价值，请更正或作废该估值")
    assert en.startswith(f"The valuation that GP quarterly package #{package_id} booked has since been corrected by ")
    assert en.endswith(", so the package can no longer be reopened; the corrected valuation stands. To change the "
                       "quarter's value, correct or void that valuation instead")
    assert render("gp_reopen_valuation_changed", {"id": 7}, "en") == (
        "The valuation that GP quarterly package #7 booked has since been corrected, so the package can no longer be "
        "reopened; the corrected valuation stands. To change the quarter's value, correct or void that valuation instead")
    assert render("gp_reopen_valuation_changed", {"id": 7}, "zh") == (
        "管理人季度报告 #7 记入台账的估值此后已被更正，该报告不能再重新打开；更正后的估值继续有效。"
        "如需改变该季度的价值，请更正或作废该估值")
    db.session.rollback()
    assert db.session.get(GpPackage, package_id).status == "accepted"


def test_a_schedule_changed_since_refuses_it_and_a_request_gone_stale_waits_to_be_declined(db, client, imported):
    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id = package.id
    reopening.ask_reopen(db.session, package_id, {"reason": "报错了"}, username="manager1")
    row = db.session.execute(select(SubFundHolding).where(SubFundHolding.sub_fund_code == "SF1",
                                                          SubFundHolding.as_of == Q4,
                                                          SubFundHolding.company_code == "C4")).scalar_one()
    row.fair_value_cny = Decimal(460 * M)  # e.g. an import since
    db.session.commit()
    login(client, "manager2")
    page = client.get(f"/gp/packages/{package_id}").get_data(as_text=True)
    assert "data-stale" in page and 'id="approve-reopen"' not in page and "投资明细此后已有改动" in page
    with pytest.raises(FieldErrors) as refused:
        reopening.approve_reopen(db.session, package_id, username="manager2")
    assert _key(refused.value) == "gp_reopen_schedule_changed"
    db.session.rollback()
    assert reopening.pending_reopen(db.session, package_id) is not None  # still waiting, to be declined
    assert db.session.get(GpPackage, package_id).status == "accepted"
    client.post(f"/book/gp-packages/{package_id}/reopen/reject", data={"reason": "明细已另行更正"})
    assert reopening.pending_reopen(db.session, package_id) is None
    declined = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages",
                                                           AuditEntry.action == "reject_reopen")).scalar_one()
    assert declined.reason == "明细已另行更正" and declined.before["asked_by"] == "manager1"
    with pytest.raises(FieldErrors) as asked_again:
        reopening.ask_reopen(db.session, package_id, {"reason": "x"}, username="manager1")
    assert _key(asked_again.value) == "gp_reopen_schedule_changed"
    db.session.rollback()


def test_a_schedule_another_interests_accepted_package_stands_on_refuses_it(db, book):  # noqa: F811
    """QY-SF1's package booked SF1's schedule at the quarter end; QY-SF1B's, accepted after, reported
    the same and left it: putting the schedule back would pull it from under QY-SF1B's."""
    import copy

    from models import Investment

    db.session.add(Investment(id="QY-SF1B", fund_code="QY", mode="sub_fund", sub_fund_code="SF1",
                              date=dt.date(2025, 6, 30), commitment_cny=Decimal(100 * M), ownership_pct=Decimal(10)))
    db.session.commit()
    first = _accepted(db, "QY-SF1", Q4, clean_content())
    first_id = first.id
    second = {"account": {"opening_nav": 0, "contributions": 0, "distributions": 0, "management_fees": 0,
                          "other_income_expenses": 0, "realised_gain": 0, "unrealised_gain": 168 * M * 100,
                          "closing_nav": 168 * M * 100, "commitment": 100 * M * 100,
                          "opening_unfunded": 100 * M * 100, "recallable_distributions": 0,
                          "closing_unfunded": 100 * M * 100},
              "holdings": copy.deepcopy(clean_content()["holdings"]), "notices": []}
    other = _accepted(db, "QY-SF1B", Q4, second)
    assert other.status == "accepted"
    with pytest.raises(FieldErrors) as refused:
        reopening.ask_reopen(db.session, first_id, {"reason": "x"}, username="manager1")
    assert _key(refused.value) == "gp_reopen_schedule_shared"
    db.session.rollback()
    # the second booked no schedule row of its own: it may be reopened, the schedule left as it is
    before = _schedule(db)
    reopening.ask_reopen(db.session, other.id, {"reason": "x"}, username="manager1")
    reopening.approve_reopen(db.session, other.id, username="manager2")
    assert _schedule(db) == before and db.session.get(GpPackage, other.id).status == "returned"


def test_the_asker_withdraws_and_the_package_stays_accepted(db, book):  # noqa: F811
    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id = package.id
    reopening.ask_reopen(db.session, package_id, {"reason": "x" * 2000}, username="manager1")
    with pytest.raises(FieldErrors) as twice:
        reopening.ask_reopen(db.session, package_id, {"reason": "again"}, username="manager2")
    assert _key(twice.value) == "gp_reopen_pending_by"
    db.session.rollback()
    with pytest.raises(FieldErrors):
        reopening.decline_reopen(db.session, package_id, {"reason": " "}, username="manager1")
    db.session.rollback()
    reopening.decline_reopen(db.session, package_id, {"reason": "不需要了"}, username="manager1")
    assert reopening.pending_reopen(db.session, package_id) is None
    assert db.session.get(GpPackage, package_id).status == "accepted" and len(_in_force(db)) == 1
    with pytest.raises(FieldErrors) as too_long:
        reopening.ask_reopen(db.session, package_id, {"reason": "x" * 2001}, username="manager1")
    assert too_long.value.errors[0][0] == "reason"
    db.session.rollback()


def test_two_approvals_at_once_apply_it_once(app, db, book, monkeypatch):  # noqa: F811
    from tests.conftest import make_user

    make_user(db, "manager3", "manager")
    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id = package.id
    reopening.ask_reopen(db.session, package_id, {"reason": "报错了"}, username="manager1")
    started = threading.Event()
    slowed(monkeypatch, reopening, "_undo", started)
    outcome = race(app, db, lambda s: reopening.approve_reopen(s, package_id, username="manager2"),
                   lambda s: reopening.approve_reopen(s, package_id, username="manager3"), started)
    assert isinstance(outcome[0], GpPackage), outcome
    assert isinstance(outcome[1], FieldErrors) and _key(outcome[1]) in ("gp_reopen_raced", "gp_reopen_not_pending")
    db.session.expire_all()
    assert db.session.get(GpPackage, package_id).status == "returned"
    reopens = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages",
                                                          AuditEntry.action == "reopen")).scalars().all()
    assert len(reopens) == 1
    voids = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "valuations",
                                                        AuditEntry.action == "void")).scalars().all()
    assert len(voids) == 1


def test_the_asker_withdrawing_is_flashed_as_withdrawn_and_a_checker_declining_as_declined(db, client, book):  # noqa: F811
    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id = package.id
    for lang, withdrawn, declined in (("zh", "重新打开的申请已撤回，该报告仍为已接受。",
                                       "重新打开的申请已驳回，该报告仍为已接受。"),
                                      ("en", "The reopening request is withdrawn: the report stays accepted.",
                                       "The reopening is declined: the report stays accepted.")):
        for who, said, unsaid in (("manager1", withdrawn, declined), ("manager2", declined, withdrawn)):
            reopening.ask_reopen(db.session, package_id, {"reason": "报错了"}, username="manager1")
            login(client, who)  # the asker withdraws, a checker declines
            client.get(f"/lang/{lang}")
            page = client.post(f"/book/gp-packages/{package_id}/reopen/reject", data={"reason": "不需要了"},
                               follow_redirects=True).get_data(as_text=True)
            assert said in _flashes(page) and unsaid not in _flashes(page), (who, lang)


def test_an_approved_reopenings_history_entry_says_it_was_accepted_before(db, client, book):  # noqa: F811
    package = _accepted(db, "QY-SF1", Q4, clean_content())
    package_id = package.id
    reopening.ask_reopen(db.session, package_id, {"reason": "报错了"}, username="manager1")
    reopening.approve_reopen(db.session, package_id, username="manager2")
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages",
                                                        AuditEntry.entity_key == str(package_id),
                                                        AuditEntry.action == "reopen")).scalar_one()
    assert entry.before["status"] == "accepted" and entry.after["status"] == "returned"
    assert {n for n in entry.before if entry.before[n] != entry.after.get(n)} == {"status"}
