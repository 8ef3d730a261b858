"""A request waiting that its approval would refuse as stale (the record or the settings changed
since it was asked for) says so on its card, in the checker's language, and has no approve
button: the checker declines it. The server's refusal stays. On the example book (QY: QY-D1)."""
from __future__ import annotations

import pytest

from models import Investment
from portfolio.book import corrections, fund_settings, new_investments, records
from portfolio.book.audit import audit
from portfolio.book.unit import commit
from portfolio.errors import FieldErrors
from tests.conftest import make_user
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)
from tests.visible_text import problems, visible_text

DEAL = {"id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C3", "date": "2025-10-01",
        "commitment_cny": "1000000", "ownership_pct": "2", "round": "A"}


def _card(page: str, marker: str) -> str:
    start = page.rindex("<div", 0, page.index(marker))
    return page[start:page.index("</div>\n", page.index(marker))]


def _ask_correction(db):
    investment = db.session.get(Investment, "QY-D1")
    corrections.correct_investment(db.session, "QY-D1", {
        "date": investment.date.isoformat(), "commitment_cny": "130000000", "round": investment.round,
        "ownership_pct": str(investment.ownership_pct), "version": corrections.version_of(investment),
        "correction_reason": "补充协议增资"}, username="mgr")


def test_requests_gone_stale_say_so_and_have_no_approve_button(db, book, as_role):
    make_user(db, "loader2", "admin").display_name = "李会计"
    db.session.commit()
    _ask_correction(db)
    fund_settings.request_fund_settings(db.session, "QY", {"ownership_cap": "25%"}, reason="集中度", username="mgr")
    new_investments.ask_investment(db.session, DEAL, username="mgr")
    checker = as_role("manager", "checker1")
    page = checker.get("/book/pending").get_data(as_text=True)
    for marker, approve in (('data-correction="QY-D1"', "/book/investments/QY-D1/correction/approve"),
                            ('data-settings-request="QY"', "/funds/QY/settings/approve"),
                            ('data-new-investment="QY-D9"', "/book/investment-requests/QY-D9/approve")):
        card = _card(page, marker)
        assert approve in card and "data-stale" not in card, marker  # fresh: approvable
    # meanwhile the investment's terms, the fund's settings change, and QY-D9 is booked another way
    investment = db.session.get(Investment, "QY-D1")
    was, investment.round = investment.round, "Pre-IPO 轮"
    audit(db.session, "loader2", "update", "investments", "QY-D1", before={"round": was}, after={"round": investment.round})
    commit(db.session)
    fund_settings.update_fund_settings(db.session, "QY", {"committee_quorum": "4"}, username="loader2")
    records.add_investment(db.session, DEAL, username="loader2")
    commit(db.session)

    for lang, words in (("zh", ("已过时，不能批准：该投资在申请更正之后已被修改（最近一次由 李会计",
                                "已过时，不能批准：该基金的设置在申请之后已被修改（最近一次由 李会计",
                                "已过时，不能批准：投资编号 QY-D9 在申请之后已由 李会计")),
                        ("en", ("Out of date, cannot be approved: the investment has changed since",
                                "Out of date, cannot be approved: the fund's settings have changed since",
                                "Out of date, cannot be approved: investment QY-D9 has been booked"))):
        checker.get(f"/lang/{lang}")
        page = checker.get("/book/pending").get_data(as_text=True)
        for marker, approve, said in zip(('data-correction="QY-D1"', 'data-settings-request="QY"',
                                          'data-new-investment="QY-D9"'),
                                         ("/correction/approve", "/settings/approve", "/QY-D9/approve"), words):
            card = _card(page, marker)
            assert "data-stale" in card and said in visible_text(card), (lang, marker, visible_text(card))
            assert approve not in card and "/reject" in card, (lang, marker)  # declined, not approved
            allowed = ("宁波千亿科技创新基金", "李会计", "补充协议增资", "集中度", "Pre-IPO 轮")
            assert problems(visible_text(card), lang, allowed) == [], (lang, marker, visible_text(card))
        home = checker.get("/").get_data(as_text=True)
        todo = _card(home, 'id="todo-settings"')
        assert "data-stale" in todo and "/funds/QY/settings/approve" not in todo
    investment_page = checker.get("/investments/QY-D1").get_data(as_text=True)
    assert "data-stale" in investment_page and "/correction/approve" not in investment_page
    # the server still refuses each, and a decline takes it off
    for approve in (lambda: corrections.approve_correction(db.session, "QY-D1", username="checker1"),
                    lambda: fund_settings.approve_fund_settings(db.session, "QY", username="checker1"),
                    lambda: new_investments.approve_investment(db.session, "QY-D9", username="checker1")):
        with pytest.raises(FieldErrors):
            approve()
    assert checker.post("/funds/QY/settings/reject", data={"reason": "已过时"}).status_code == 302
    assert fund_settings.pending_settings(db.session, "QY") is None


def test_corrections_of_flows_and_valuations_gone_stale_say_so_and_have_no_approve_button(db, book, as_role):
    """A correction of an approved cash flow whose flow was then voided (left waiting, as in a
    book kept before an approved void took it off), and of an approved valuation that changed
    meanwhile, show why they cannot be approved; the server refuses them and a checker declines
    them."""
    from sqlalchemy import select, update

    from models import CashFlow, Valuation, utcnow

    flow = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-D1",
                                                     CashFlow.approved_at.is_not(None))).scalars().first()
    valuation = db.session.execute(select(Valuation).where(Valuation.approved_at.is_not(None))).scalars().first()
    corrections.correct_cash_flow(db.session, flow.id, {
        "date": flow.date.isoformat(), "type": flow.type, "amount_cny": str(flow.amount_cny - 1), "note": flow.note,
        "version": corrections.version_of(flow), "correction_reason": "回单金额"}, username="mgr")
    corrections.correct_valuation(db.session, valuation.id, {
        "as_of": valuation.as_of.isoformat(), "fair_value_cny": str(valuation.fair_value_cny + 100),
        "method": valuation.method, "version": corrections.version_of(valuation),
        "correction_reason": "评估报告终稿"}, username="mgr")
    checker = as_role("manager", "checker1")
    page = checker.get("/book/pending").get_data(as_text=True)
    for marker, approve in ((f'data-flow-correction="{flow.id}"', f"/book/cash-flows/{flow.id}/correction/approve"),
                            (f'data-valuation-correction="{valuation.id}"',
                             f"/book/valuations/{valuation.id}/correction/approve")):
        card = _card(page, marker)
        assert approve in card and "data-stale" not in card, marker  # fresh: approvable
    # meanwhile the flow is voided, as a book kept before an approved void took its waiting
    # correction off with it (records.approve_void), and the valuation changed by a load
    db.session.execute(update(CashFlow).where(CashFlow.id == flow.id).values(voided_at=utcnow(), voided_by="checker2",
                                                                             void_reason="重复录入"))
    db.session.execute(update(Valuation).where(Valuation.id == valuation.id).values(method="dcf" if valuation.method !=
                                                                                    "dcf" else "market"))
    db.session.commit()

    for lang, words in (("zh", ("已过时，不能批准：该现金流在申请更正之后已作废",
                                "已过时，不能批准：该估值在申请更正之后已被修改")),
                        ("en", ("Out of date, cannot be approved: the cash flow has been voided",
                                "Out of date, cannot be approved: the valuation has changed since"))):
        checker.get(f"/lang/{lang}")
        page = checker.get("/book/pending").get_data(as_text=True)
        for marker, approve, said in zip((f'data-flow-correction="{flow.id}"',
                                          f'data-valuation-correction="{valuation.id}"'),
                                         ("/correction/approve", "/correction/approve"), words):
            card = _card(page, marker)
            assert "data-stale" in card and said in visible_text(card), (lang, marker, visible_text(card))
            assert approve not in card and "/correction/reject" in card, (lang, marker)
    for entity, key in (("cash_flows", flow.id), ("valuations", valuation.id)):
        with pytest.raises(FieldErrors):
            corrections.approve_correction(db.session, key, username="checker1", entity=entity)
    assert checker.post(f"/book/cash-flows/{flow.id}/correction/reject", data={"reason": "已作废"}).status_code == 302
    assert corrections.pending_correction(db.session, str(flow.id), "cash_flows") is None
