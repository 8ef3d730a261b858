"""The investment committee end to end through the test client, on a real database
(SQLite, or PostgreSQL with DATABASE_URL), on the spec's example book: propose, submit,
schedule, attend, vote, decide, find the investment in the book, fund it."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from models import AuditEntry, CashFlow, Company, Investment, Meeting, Proposal, ProposalAttachment, SubFund, Vote
from portfolio.committee import attachments, decisions, meetings, proposals, voting
from portfolio.committee.review import review
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book
from portfolio.vocabulary import credit_code_check_char
from tests.conftest import EXAMPLE_BOOK, login, make_user

MEMBERS = [f"m{i}" for i in range(1, 8)]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

DEAL = {"title": "甬材新材料 B 轮", "fund_code": "QY", "mode": "direct", "target_code": "C3",
        "planned_date": "2025-12-15", "amount_cny": "30000000", "pre_money_cny": "570000000",
        "post_money_cny": "600000000", "instrument": "equity", "round": "B轮", "stage": "growth",
        "ownership_pct": "5", "thesis": "新材料国产替代", "market": "市场规模百亿", "team": "院士团队",
        "risks": "量产不及预期", "valuation_method": "可比公司法", "comparables": "A、B、C",
        "bear_case": "量产延迟", "bear_moic": "0.8", "bear_irr": "-5", "base_case": "按计划",
        "base_moic": "2.5", "base_irr": "22", "bull_case": "提前量产", "bull_moic": "5", "bull_irr": "45"}
# the same deal as a manager types it in the proposal form: amounts in 万元, the forms' unit
DEAL_FORM = {**DEAL, "amount_cny": "3000", "pre_money_cny": "57000", "post_money_cny": "60000"}


@pytest.fixture
def book(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    make_user(db, "mgr", "manager")
    make_user(db, "chair", "admin")
    make_user(db, "viewer", "viewer")
    for name in MEMBERS:
        make_user(db, name, "committee")
    return db.session


def as_user(client, name):
    client.post("/logout")
    response = login(client, name)
    assert response.status_code == 302, f"login failed for {name}"
    return client


def proposal_id_from(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def propose(client, **changes) -> int:
    as_user(client, "mgr")
    return proposal_id_from(client.post("/committee/proposals/new", data={**DEAL_FORM, **changes}))


def to_meeting(client, book, pid: int, present: list[str]) -> int:
    as_user(client, "mgr")
    assert client.post(f"/committee/proposals/{pid}/submit").status_code == 302
    as_user(client, "chair")
    response = client.post("/committee/meetings/new", data={"fund_code": "QY", "date": "2025-12-10",
                                                            "title": "第 12 次投委会"})
    assert response.status_code == 302
    meeting_id = book.execute(select(Meeting.id).order_by(Meeting.id.desc())).scalars().first()
    client.post(f"/committee/proposals/{pid}/schedule", data={"meeting_id": str(meeting_id)})
    client.post(f"/committee/meetings/{meeting_id}/attendance", data={"present": present})
    return meeting_id


def vote(client, member: str, pid: int, choice: str, comment: str = ""):
    as_user(client, member)
    return client.post(f"/committee/proposals/{pid}/vote", data={"choice": choice, "comment": comment},
                       follow_redirects=True)


def fresh(book, pid: int) -> Proposal:
    book.expire_all()
    return book.get(Proposal, pid)


def test_the_whole_flow_from_proposal_to_funded_investment(client, book):
    pid = propose(client)
    proposal = fresh(book, pid)
    assert proposal.status == "draft" and proposal.proposer == "mgr" and proposal.amount_cny == Decimal("30000000.00")
    assert proposal.base_irr == pytest.approx(0.22) and proposal.bull_moic == 5

    page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    assert "合规检查" in page and "sector-effect" in page and "<svg" in page and "新材料国产替代" in page
    assert "本提案不会新增不通过的检查" in page

    meeting_id = to_meeting(client, book, pid, MEMBERS[:6])
    assert fresh(book, pid).status == "scheduled" and fresh(book, pid).meeting_id == meeting_id
    meeting_page = client.get(f"/committee/meetings/{meeting_id}").get_data(as_text=True)
    assert DEAL["title"] in meeting_page

    # m6 declares a conflict and is recused: cannot vote
    as_user(client, "m6")
    client.post(f"/committee/proposals/{pid}/recuse", data={"reason": "配偶在标的公司任职"})
    refused = vote(client, "m6", pid, "approve").get_data(as_text=True)
    assert "回避" in refused
    # four approve, one rejects: 4 ≥ 2/3 × 5
    for member in MEMBERS[:4]:
        vote(client, member, pid, "approve", "同意投资")
    vote(client, "m5", pid, "reject", "估值偏高")
    again = vote(client, "m1", pid, "reject").get_data(as_text=True)
    assert "不能重复表决" in again
    assert book.execute(select(Vote.choice).where(Vote.member == "m1")).scalar_one() == "approve"
    assert len(book.execute(select(Vote).where(Vote.proposal_id == pid)).all()) == 5

    # the chair cannot record a decision the votes do not allow
    as_user(client, "chair")
    page = client.post(f"/committee/proposals/{pid}/decide", data={"decision": "rejected"},
                       follow_redirects=True).get_data(as_text=True)
    assert "只能作出" in page and fresh(book, pid).status == "scheduled"
    client.post(f"/committee/proposals/{pid}/decide",
                data={"decision": "approved_with_conditions", "conditions": "完成工商变更后出资"})
    proposal = fresh(book, pid)
    assert proposal.status == "decided" and proposal.decision == "approved_with_conditions"
    assert proposal.conditions == "完成工商变更后出资" and proposal.decided_by == "chair"

    # the investment is in the book, linked both ways
    investment = book.get(Investment, proposal.investment_id)
    assert investment is not None and investment.company_code == "C3" and investment.fund_code == "QY"
    assert investment.commitment_cny == Decimal("30000000.00") and investment.date == dt.date(2025, 12, 15)
    assert decisions.proposal_for_investment(book, investment.id).id == pid
    from flask import render_template_string
    assert render_template_string("{{ committee_proposal_for(i).id }}", i=investment.id) == str(pid)
    response = client.get(f"/committee/by-investment/{investment.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/committee/proposals/{pid}")
    assert investment.id in client.get("/investments?fund=QY").get_data(as_text=True)
    page = client.get(f"/investments/{investment.id}")
    assert page.status_code == 200 and f'href="/committee/proposals/{pid}"' in page.get_data(as_text=True)
    assert investment.id in client.get("/committee/").get_data(as_text=True)

    # the decision record, printable and as PDF
    resolution = client.get(f"/committee/proposals/{pid}/resolution").get_data(as_text=True)
    for text in ("投资决策委员会决议", "附条件通过", "完成工商变更后出资", "配偶在标的公司任职", "估值偏高", "m7"):
        assert text in resolution
    assert f"已登记为投资 {investment.id}。" in resolution
    client.get("/lang/en")
    english = client.get(f"/committee/proposals/{pid}/resolution").get_data(as_text=True)
    assert f"Entered in the book as investment {investment.id}." in english and "。" not in english.split("<body")[-1]
    client.get("/lang/zh")
    pdf = client.get(f"/committee/proposals/{pid}/resolution.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "committee_resolution.pdf").write_bytes(pdf.data)

    # the money moves: its first contribution
    as_user(client, "mgr")
    response = client.post(f"/committee/proposals/{pid}/fund", data={"date": "2025-12-15",
                                                                    "amount_cny": "3000", "ref": "ZJ-1"})
    assert response.status_code == 302
    flow = book.execute(select(CashFlow).where(CashFlow.investment_id == investment.id)).scalar_one()
    assert flow.type == "contribution" and flow.amount_cny == Decimal("30000000.00")
    assert decisions.is_funded(book, fresh(book, pid))

    # every step audited, with who
    actions = book.execute(select(AuditEntry.action, AuditEntry.username).where(
        AuditEntry.entity == "proposals", AuditEntry.entity_key == str(pid)).order_by(AuditEntry.id)).all()
    assert [a for a, _ in actions] == ["create", "submit", "schedule", "decide", "link"]
    assert actions[0][1] == "mgr" and actions[2][1] == "chair"
    assert book.execute(select(AuditEntry).where(AuditEntry.entity == "votes")).scalars().all()
    assert book.execute(select(AuditEntry).where(AuditEntry.entity == "investments",
                                                 AuditEntry.entity_key == investment.id)).scalar_one()


def test_quorum_not_met_means_no_decision(client, book):
    pid = propose(client)
    to_meeting(client, book, pid, MEMBERS[:4])
    for member in MEMBERS[:4]:
        vote(client, member, pid, "approve")
    as_user(client, "chair")
    page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    assert "未达法定人数" in page and 'id="record-decision"' not in page
    for decision in ("approved", "rejected", "deferred"):
        text = client.post(f"/committee/proposals/{pid}/decide", data={"decision": decision},
                           follow_redirects=True).get_data(as_text=True)
        assert "未达法定人数" in text
    proposal = fresh(book, pid)
    assert proposal.status == "scheduled" and proposal.decision is None and proposal.investment_id is None


def test_a_recused_or_absent_member_and_the_proposer_cannot_vote(client, book):
    pid = propose(client)
    to_meeting(client, book, pid, MEMBERS[:5])
    with pytest.raises(FieldErrors, match="未登记出席"):
        meetings.cast_vote(book, pid, "approve", None, username="m7")
    meetings.declare_recusal(book, pid, "m2", "持有标的公司股份", username="chair")
    with pytest.raises(FieldErrors, match="回避"):
        meetings.cast_vote(book, pid, "approve", None, username="m2")
    meetings.cast_vote(book, pid, "approve", None, username="m1")
    with pytest.raises(FieldErrors, match="已对本提案表决"):
        meetings.declare_recusal(book, pid, "m1", "后来发现", username="m1")
    # a proposal of a member's own: they cannot vote on it
    own = proposals.create_proposal(book, {**DEAL, "title": "委员自己的提案"}, username="m3")
    proposals.submit_proposal(book, own.id, username="m3")
    meeting = book.execute(select(Meeting)).scalars().first()
    meetings.schedule_proposal(book, own.id, meeting.id, username="chair")
    with pytest.raises(FieldErrors, match="提案人不能"):
        meetings.cast_vote(book, own.id, "approve", None, username="m3")
    assert "m3" not in meetings.tally(book, fresh(book, own.id)).eligible


def test_illegal_transitions_are_refused_with_a_clear_error(client, book):
    pid = propose(client)
    as_user(client, "chair")
    meeting = meetings.create_meeting(book, {"fund_code": "QY", "date": "2025-12-10"}, username="chair")
    page = client.post(f"/committee/proposals/{pid}/schedule", data={"meeting_id": str(meeting.id)},
                       follow_redirects=True).get_data(as_text=True)
    assert "当前状态为「草稿」，不能排会" in page
    with pytest.raises(FieldErrors, match="不能作出决议"):
        decisions.decide(book, pid, "approved", None, username="chair")
    with pytest.raises(FieldErrors, match="不能表决"):
        meetings.cast_vote(book, pid, "approve", None, username="m1")
    proposals.withdraw_proposal(book, pid, username="mgr")
    with pytest.raises(FieldErrors, match="已撤回"):
        proposals.submit_proposal(book, pid, username="mgr")
    with pytest.raises(FieldErrors, match="未获通过，不能出资"):
        decisions.record_funding(book, pid, {"date": "2025-12-15", "amount_cny": "1"}, username="mgr")
    assert fresh(book, pid).status == "withdrawn"


def test_a_rejected_proposal_never_reaches_the_book(client, book):
    pid = propose(client)
    to_meeting(client, book, pid, MEMBERS[:6])
    for member in MEMBERS[:3]:
        vote(client, member, pid, "approve")
    for member in MEMBERS[3:6]:
        vote(client, member, pid, "reject")
    as_user(client, "chair")
    assert "approved" not in voting.allowed_decisions(meetings.tally(book, fresh(book, pid)))
    client.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"})
    assert fresh(book, pid).status == "scheduled"
    client.post(f"/committee/proposals/{pid}/decide", data={"decision": "rejected"})
    proposal = fresh(book, pid)
    assert proposal.decision == "rejected" and proposal.investment_id is None
    as_user(client, "mgr")
    page = client.post(f"/committee/proposals/{pid}/fund", data={"date": "2025-12-15", "amount_cny": "100"},
                       follow_redirects=True).get_data(as_text=True)
    assert "未获通过，不能出资" in page
    assert book.execute(select(Investment).where(Investment.company_code == "C3",
                                                 Investment.date == dt.date(2025, 12, 15))).first() is None


def test_a_viewer_can_do_none_of_it(client, book):
    pid = propose(client)
    meeting = meetings.create_meeting(book, {"fund_code": "QY", "date": "2025-12-10"}, username="chair")
    as_user(client, "viewer")
    assert client.get("/committee/").status_code == 200
    assert client.get("/committee/proposals/new").status_code == 403
    posts = [("/committee/proposals/new", DEAL_FORM), (f"/committee/proposals/{pid}/edit", DEAL_FORM),
             (f"/committee/proposals/{pid}/submit", {}), (f"/committee/proposals/{pid}/withdraw", {}),
             (f"/committee/proposals/{pid}/schedule", {"meeting_id": str(meeting.id)}),
             (f"/committee/proposals/{pid}/vote", {"choice": "approve"}),
             (f"/committee/proposals/{pid}/recuse", {"reason": "x"}),
             (f"/committee/proposals/{pid}/recusals", {"member": "m1", "reason": "x"}),
             (f"/committee/proposals/{pid}/decide", {"decision": "approved"}),
             (f"/committee/proposals/{pid}/fund", {"date": "2025-12-15", "amount_cny": "1"}),
             (f"/committee/proposals/{pid}/attachments", {}),
             ("/committee/meetings/new", {"fund_code": "QY", "date": "2025-12-10"}),
             (f"/committee/meetings/{meeting.id}/attendance", {"present": MEMBERS})]
    for url, form in posts:
        assert client.post(url, data=form).status_code == 403, url
    assert fresh(book, pid).status == "draft"
    # a committee member proposes nothing, a manager votes on nothing, an admin does not vote
    as_user(client, "m1")
    assert client.post("/committee/proposals/new", data=DEAL).status_code == 403
    as_user(client, "mgr")
    assert client.post(f"/committee/proposals/{pid}/vote", data={"choice": "approve"}).status_code == 403
    assert client.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"}).status_code == 403
    as_user(client, "chair")
    assert client.post(f"/committee/proposals/{pid}/vote", data={"choice": "approve"}).status_code == 403


def test_the_form_keeps_what_was_typed_and_shows_errors_beside_fields(client, book):
    as_user(client, "mgr")
    bad = {**DEAL_FORM, "amount_cny": "abc", "target_code": "NOPE", "post_money_cny": "1", "ownership_pct": "120"}
    response = client.post("/committee/proposals/new", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-field="amount_cny"' in page and 'data-field="target_code"' in page
    assert 'data-field="post_money_cny"' in page and 'data-field="ownership_pct"' in page
    assert 'value="abc"' in page and "新材料国产替代" in page
    assert book.execute(select(Proposal)).first() is None


def credit_code(body: str = "91330206MA2CCCCC0") -> str:
    return body + credit_code_check_char(body)


def test_a_new_company_is_verified_and_created_on_approval(client, book):
    new = {**DEAL, "target_code": "C9", "new_target": "y", "target_name": "甬芯半导体有限公司",
           "target_credit_code": "91330206MA2CCCCC0X", "target_sector": "digital",
           "target_region_code": "330206", "target_founded": "2023-04-01"}
    as_user(client, "mgr")
    page = client.post("/committee/proposals/new", data=new).get_data(as_text=True)
    assert 'data-field="target_credit_code"' in page
    pid = proposal_id_from(client.post("/committee/proposals/new",
                                       data={**new, "target_credit_code": credit_code()}))
    assert fresh(book, pid).new_target["credit_code"] == credit_code() and book.get(Company, "C9") is None
    # the history shows the new target field by field, in words (never the stored dict)
    history = client.get(f"/history/proposals/{pid}").get_data(as_text=True)
    assert "{'name'" not in history and "'sector'" not in history, history
    assert "甬芯半导体有限公司" in history and "数字创新" in history and "2023-04-01" in history
    # the review runs on the book with the new company in it
    effect = review(book, fresh(book, pid))
    assert "digital" in {r["sector"] for r in effect["sectors"]}
    to_meeting(client, book, pid, MEMBERS[:5])
    for member in MEMBERS[:5]:
        vote(client, member, pid, "approve")
    as_user(client, "chair")
    client.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"})
    company = book.get(Company, "C9")
    assert company is not None and company.credit_code == credit_code() and company.region_code == "330206"
    assert book.get(Investment, fresh(book, pid).investment_id).company_code == "C9"


def test_the_review_highlights_the_checks_the_deal_would_newly_fail(client, book):
    pid = propose(client, ownership_pct="40", instrument="debt")
    effect = review(book, fresh(book, pid))
    new = {c["rule"] for c in effect["new_failures"]}
    assert {"ownership_cap", "prohibited_instrument"} <= new
    assert effect["effect"]["ownership"]["after"]["status"] == "fail"
    page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    assert 'id="new-failures"' in page and 'class="new-failure"' in page
    # by default only the checks the deal changes or that do not pass; all on request
    shown = page.count("<tr class=")
    assert 0 < shown < len(effect["checks"])
    assert client.get(f"/committee/proposals/{pid}?checks=all").get_data(as_text=True).count("<tr class=") \
        == len(effect["checks"])
    # a sub-fund proposal shows its share of the sub-fund and its local reinvestment
    sub = propose(client, mode="sub_fund", target_code="SF1", amount_cny="10000", ownership_pct="",
                  first_call_cny="5000")
    effect = review(book, fresh(book, sub))
    share = effect["effect"]["sub_fund_share"]["after"]
    assert share["value"] == pytest.approx(0.05)  # 1 亿 / 20 亿 (sub_funds.csv)
    assert [r["code"] for r in effect["reinvestment"]] == ["SF1"]
    # the whole commitment (1 亿), not the first call (5,000 万): every pro-forma figure counts the same deal
    assert effect["reinvestment"][0]["after"]["paid_in"] - effect["reinvestment"][0]["before"]["paid_in"] \
        == Decimal("100000000.00")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_due_diligence_files_are_stored_safely(client, book, app):
    import io

    pid = propose(client)
    response = client.post(f"/committee/proposals/{pid}/attachments",
                           data={"file": (io.BytesIO(PDF), "../../etc/尽调报告.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    record = book.execute(select(ProposalAttachment)).scalar_one()
    assert record.original_name == "尽调报告.pdf" and record.kind == "pdf"
    assert record.stored_name != record.original_name and len(record.stored_name) == 36
    stored = Path(app.config["UPLOAD_FOLDER"]) / record.stored_name
    assert stored.read_bytes() == PDF
    download = client.get(f"/committee/attachments/{record.id}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    # the extension and the content must agree; only the listed types; size limited
    for name, data, message in [("report.pdf", PNG, "不符"), ("tool.exe", b"MZ\x90\x00", "只接受"),
                                ("photo.png", PNG * 1000, "上限")]:
        with pytest.raises(FieldErrors, match=message):
            attachments.add_attachment(book, pid, name, data, folder=app.config["UPLOAD_FOLDER"], username="mgr",
                              max_bytes=10_000)
    page = client.post(f"/committee/proposals/{pid}/attachments",
                       data={"file": (io.BytesIO(b"not a pdf"), "x.pdf")}, content_type="multipart/form-data",
                       follow_redirects=True).get_data(as_text=True)
    assert "不符" in page
    assert len(book.execute(select(ProposalAttachment)).all()) == 1
    # downloading needs a login
    client.post("/logout")
    response = client.get(f"/committee/attachments/{record.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_draft_is_edited_by_its_proposer_only_and_frozen_once_submitted(client, book, db):
    pid = propose(client)
    page = client.get(f"/committee/proposals/{pid}/edit").get_data(as_text=True)
    assert 'value="3000"' in page and 'value="22"' in page  # the amount in 万元, base IRR in %, as typed
    response = client.post(f"/committee/proposals/{pid}/edit", data={**DEAL_FORM, "amount_cny": "2500"})
    assert response.status_code == 302 and fresh(book, pid).amount_cny == Decimal("25000000.00")
    make_user(db, "mgr2", "manager")
    as_user(client, "mgr2")
    assert client.post(f"/committee/proposals/{pid}/submit").status_code == 403
    assert client.post(f"/committee/proposals/{pid}/withdraw").status_code == 403
    with pytest.raises(FieldErrors, match="只有提案人"):
        proposals.update_proposal(book, pid, DEAL, username="mgr2")
    proposals.submit_proposal(book, pid, username="mgr")
    with pytest.raises(FieldErrors, match="不能修改"):
        proposals.update_proposal(book, pid, DEAL, username="mgr")
    updates = book.execute(select(AuditEntry).where(AuditEntry.entity == "proposals",
                                                    AuditEntry.action == "update")).scalars().all()
    assert len(updates) == 1 and updates[0].before["amount_cny"] == "30000000.00"
    assert updates[0].after["amount_cny"] == "25000000.00" and updates[0].username == "mgr"


def test_a_co_investment_shows_its_lead_ratio_and_the_sub_fund_alongside(client, book):
    pid = propose(client, mode="co_invest", target_code="C1", alongside_code="SF1", lead_name="甬新资本",
                  lead_amount_cny="2000", amount_cny="3000")
    effect = review(book, fresh(book, pid))
    lead = effect["effect"]["lead_ratio"]["after"]
    assert lead["value"] == pytest.approx(1.5) and lead["status"] == "fail"  # 3000 万 / 2000 万 > 1.0
    assert "coinvest_lead_ratio" in {c["rule"] for c in effect["new_failures"]}
    assert "SF1" in [r["code"] for r in effect["reinvestment"]]
    as_user(client, "mgr")
    page = client.post("/committee/proposals/new", data={**DEAL_FORM, "mode": "co_invest", "target_code": "C1"})
    assert 'data-field="alongside_code"' in page.get_data(as_text=True)
    assert 'data-field="lead_amount_cny"' in page.get_data(as_text=True)


def test_a_deferred_proposal_is_voted_on_afresh_at_a_later_meeting(client, book):
    pid = propose(client)
    first = to_meeting(client, book, pid, MEMBERS[:6])
    for member in MEMBERS[:3]:
        vote(client, member, pid, "approve", "先看量产数据")
    for member in MEMBERS[3:6]:
        vote(client, member, pid, "abstain")
    as_user(client, "chair")
    assert client.post(f"/committee/proposals/{pid}/decide", data={"decision": "deferred"}).status_code == 302
    assert fresh(book, pid).decision == "deferred"

    # not the same meeting again, nor an earlier one; nor may an approved proposal come back
    earlier = meetings.create_meeting(book, {"fund_code": "QY", "date": "2025-11-01", "title": "更早"}, username="chair")
    for meeting in (first, earlier.id):
        with pytest.raises(FieldErrors, match="之后的另一次会议"):
            meetings.schedule_proposal(book, pid, meeting, username="chair")
    later = meetings.create_meeting(book, {"fund_code": "QY", "date": "2026-01-20", "title": "第 13 次投委会"},
                              username="chair")
    page = client.get(f"/committee/meetings/{later.id}").get_data(as_text=True)
    assert f"/committee/proposals/{pid}/schedule" in page  # offered for the later meeting's agenda
    assert client.post(f"/committee/proposals/{pid}/schedule", data={"meeting_id": str(later.id)}).status_code == 302
    proposal = fresh(book, pid)
    assert proposal.status == "scheduled" and proposal.meeting_id == later.id and proposal.decision is None
    moves = book.execute(select(AuditEntry).where(AuditEntry.entity == "proposals", AuditEntry.entity_key == str(pid),
                                                  AuditEntry.action == "schedule").order_by(AuditEntry.id)).scalars().all()
    assert moves[-1].before["decision"] == "deferred" and moves[-1].after["decision"] is None

    # the new meeting counts only its own votes; those who voted before vote again
    client.post(f"/committee/meetings/{later.id}/attendance", data={"present": MEMBERS[:6]})
    assert meetings.tally(book, fresh(book, pid)).approve == 0
    for member in MEMBERS[:5]:
        assert "您已对本提案表决" not in vote(client, member, pid, "approve").get_data(as_text=True)
    assert meetings.tally(book, fresh(book, pid)).approve == 5
    as_user(client, "chair")
    page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    assert 'id="earlier-votes"' in page and "先看量产数据" in page
    assert client.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"}).status_code == 302
    proposal = fresh(book, pid)
    assert proposal.decision == "approved" and proposal.investment_id
    assert len(meetings.votes(book, pid)) == 11 and len(meetings.votes(book, pid, later.id)) == 5
    # both meetings keep it on their agenda, and the decision record lists the deciding votes only
    assert [p.id for p in meetings.agenda(book, first)] == [pid] == [p.id for p in meetings.agenda(book, later.id)]
    resolution = client.get(f"/committee/proposals/{pid}/resolution").get_data(as_text=True)
    assert "先看量产数据" not in resolution
    with pytest.raises(FieldErrors):
        meetings.schedule_proposal(book, pid, later.id, username="chair")


def test_an_approval_with_a_new_company_is_one_commit(client, book, db):
    """The decision, the new company, the investment, its audit and the link: one transaction."""
    from sqlalchemy import event

    new = {**DEAL, "target_code": "C9", "new_target": "y", "target_name": "甬芯半导体有限公司",
           "target_credit_code": credit_code(), "target_sector": "digital",
           "target_region_code": "330206", "target_founded": "2023-04-01"}
    pid = propose(client, **new)
    to_meeting(client, book, pid, MEMBERS[:5])
    for member in MEMBERS[:5]:
        vote(client, member, pid, "approve")
    as_user(client, "chair")
    commits = []

    def count(connection):
        commits.append(connection)

    event.listen(db.engine, "commit", count)
    try:
        response = client.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"})
    finally:
        event.remove(db.engine, "commit", count)
    assert response.status_code == 302
    proposal = fresh(book, pid)
    assert proposal.decision == "approved" and proposal.investment_id
    assert book.get(Company, "C9") is not None
    assert len(commits) == 1, f"{len(commits)} commits in one decision request"


def test_every_pro_forma_figure_counts_the_whole_commitment(client, book):
    """3,000 万 into C3 (materials, new to QY) with a first call of 1,000 万, reviewed at
    2025-12-15. By hand from spec/example/book: QY's NAV then is SF1 31,000 万 (2025-09-30)
    + 10,000 万 paid 2025-11-15 = 41,000 万, D1 13,000 万 − 500 万 distributed = 12,500 万,
    CO1 2,400 万: 55,900 万, of which materials (SF1) 41,000 万. The deal adds 3,000 万 to
    materials (not the 1,000 万 first call), the fund's NAV becomes 58,900 万, and C3 holds
    3,000 / 58,900 of it; direct and co-investment commitments go from 13,000 万 to
    16,000 万 of a 10,000,000 万 fund."""
    pid = propose(client, first_call_cny="1000")  # 万元, the form's unit
    effect = review(book, fresh(book, pid))
    materials = next(r for r in effect["sectors"] if r["sector"] == "materials")
    assert materials["before"]["nav"] == Decimal("410000000.00")
    assert materials["after"]["nav"] == Decimal("440000000.00")
    assert effect["after"]["summary"]["nav"] == Decimal("589000000.00")
    share = effect["effect"]["target_nav_share"]
    assert share["before"] is None  # QY holds nothing in C3 yet
    assert share["after"]["nav"] == Decimal("30000000.00")
    assert share["after"]["nav_share"] == pytest.approx(30 / 589, abs=1e-12)
    direct = effect["effect"]["direct_share"]
    assert direct["before"]["value"] == pytest.approx(130 / 100_000) and \
        direct["after"]["value"] == pytest.approx(160 / 100_000)
    # the row is filled on the screen: 30 / 589 = 5.1 %
    page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    row = page[page.index("该标的占基金剩余价值"):]
    row = row[:row.index("</tr>")]
    assert "5.1%" in row

    # a target the fund already holds: C1 (D1, 12,500 万) plus 3,000 万 = 15,500 万 of 58,900 万
    pid = propose(client, target_code="C1", ownership_pct="2")
    share = review(book, fresh(book, pid))["effect"]["target_nav_share"]
    assert share["before"]["nav"] == Decimal("125000000.00")
    assert share["before"]["nav_share"] == pytest.approx(125 / 559, abs=1e-12)
    assert share["after"]["nav"] == Decimal("155000000.00")
    assert share["after"]["nav_share"] == pytest.approx(155 / 589, abs=1e-12)


def _angel_fund(book):
    from models import Fund
    book.add(Fund(code="TS", name="宁波天使投资引导基金", kind="angel_guidance", size_cny=Decimal("1000000000"),
                  vintage_year=2025, settings={}))
    book.add(Company(code="C8", name="甬启智能科技有限公司", credit_code=credit_code("91330206MA2DDDDD0"),
                     sector="digital", region_code="330206", founded=None))
    book.commit()


ANGEL_DEAL = {**DEAL_FORM, "title": "甬启智能天使轮", "fund_code": "TS", "target_code": "C8", "amount_cny": "2000",
              "pre_money_cny": "38000", "post_money_cny": "40000", "stage": "seed", "round": "天使轮"}
ANGEL_INPUTS = {"target_founded": "2022-06-30", "headcount": "45", "revenue_cny": "1,200",
                "total_assets_cny": "3000"}  # 万元


def test_an_angel_proposal_with_its_inputs_passes_the_angel_rules(client, book):
    """By hand: founded 2022-06-30, reviewed at 2025-12-15: 3 years to 2025-06-30 with one
    29 February (1,096 days) + 168 days = 1,264 days = 3.46 years ≤ 5; 45 people ≤ 300;
    the larger of revenue 1,200 万 and assets 3,000 万 is 3,000 万 ≤ 10,000 万."""
    _angel_fund(book)
    angel_rules = ("angel_company_age", "angel_headcount", "angel_company_size")

    without = propose(client, **ANGEL_DEAL)
    statuses = {c["rule"]: c["status"] for c in review(book, fresh(book, without))["checks"]}
    assert [statuses[r] for r in angel_rules] == ["warn", "warn", "warn"]

    pid = propose(client, **ANGEL_DEAL, **ANGEL_INPUTS)
    proposal = fresh(book, pid)
    assert (proposal.founded, proposal.headcount, proposal.revenue_cny, proposal.total_assets_cny) == \
        (dt.date(2022, 6, 30), 45, Decimal("12000000.00"), Decimal("30000000.00"))
    checks = {c["rule"]: c for c in review(book, proposal)["checks"]}
    assert [checks[r]["status"] for r in angel_rules] == ["pass", "pass", "pass"]
    assert checks["angel_company_age"]["value"] == pytest.approx(1264 / 365.25)
    assert checks["angel_headcount"]["value"] == 45
    assert checks["angel_company_size"]["value"] == Decimal("30000000")
    page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    assert "missing" not in page and 'id="angel-inputs"' in page and "2022-06-30 / 45" in page
    assert "1,200.00 / 3,000.00" in page  # revenue and assets in 万元

    # approved: the investment carries the inputs, the company gets the founding date it lacked
    as_user(client, "mgr")
    assert client.post(f"/committee/proposals/{pid}/submit").status_code == 302
    as_user(client, "chair")
    assert client.post("/committee/meetings/new", data={"fund_code": "TS", "date": "2025-12-10"}).status_code == 302
    meeting_id = book.execute(select(Meeting.id).order_by(Meeting.id.desc())).scalars().first()
    client.post(f"/committee/proposals/{pid}/schedule", data={"meeting_id": str(meeting_id)})
    client.post(f"/committee/meetings/{meeting_id}/attendance", data={"present": MEMBERS[:5]})
    for member in MEMBERS[:5]:
        vote(client, member, pid, "approve")
    as_user(client, "chair")
    client.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"})
    investment = book.get(Investment, fresh(book, pid).investment_id)
    assert (investment.headcount, investment.revenue_cny, investment.total_assets_cny) == \
        (45, Decimal("12000000.00"), Decimal("30000000.00"))
    assert book.get(Company, "C8").founded == dt.date(2022, 6, 30)
    assert book.execute(select(AuditEntry).where(AuditEntry.entity == "companies",
                                                 AuditEntry.entity_key == "C8")).scalars().first() is not None


def test_the_angel_inputs_are_checked(client, book):
    _angel_fund(book)
    as_user(client, "mgr")
    page = client.post("/committee/proposals/new", data={
        **ANGEL_DEAL, "headcount": "四十", "revenue_cny": "-1", "total_assets_cny": "1,5"}).get_data(as_text=True)
    for name in ("headcount", "revenue_cny", "total_assets_cny"):
        assert f'data-field="{name}"' in page
    # a founding date that contradicts the book's is refused; the book's own is accepted
    page = client.post("/committee/proposals/new", data={**DEAL_FORM, "target_founded": "2020-01-01"}).get_data(as_text=True)
    assert 'data-field="target_founded"' in page and "2019-03-20" in page
    pid = propose(client, target_founded="2019-03-20")
    assert fresh(book, pid).founded == dt.date(2019, 3, 20)
    # a sub-fund commitment has no company to describe: the inputs are not kept
    sub = propose(client, mode="sub_fund", target_code="SF1", ownership_pct="", **ANGEL_INPUTS)
    assert (fresh(book, sub).founded, fresh(book, sub).headcount) == (None, None)


@pytest.mark.parametrize(("field", "typed", "kept"), [
    ("base_moic", "99999999999999999999999999", None), ("base_moic", "1000", 1000.0), ("base_moic", "1000.5", None),
    ("base_irr", "100000000000000000", None), ("base_irr", "10000", 100.0), ("base_irr", "-100", -1.0),
    ("base_irr", "-150", None), ("bear_moic", "-1", None),
])
def test_a_scenarios_multiple_and_irr_are_refused_beside_the_field_when_beyond_any_case(book, field, typed, kept):
    """A MOIC of 10²⁶ and an IRR of 10¹⁷ % had been saved and shown as '100000000000000004764729344.00x'."""
    from portfolio.committee.proposals import create_proposal
    from portfolio.errors import FieldErrors

    if kept is None:
        with pytest.raises(FieldErrors) as refused:
            create_proposal(book, {**DEAL, field: typed}, username="mgr")
        assert [f for f, _m in refused.value.errors] == [field]
    else:
        assert getattr(create_proposal(book, {**DEAL, field: typed}, username="mgr"), field) == pytest.approx(kept)


# -- a resolution on record (决议): frozen once made, one per meeting ---------------------------

def _on_meeting(book, present: list[str], date: str = "2025-12-10", pid: int | None = None) -> tuple[int, int]:
    """A proposal (the given one, deferred, or a new one submitted) on a new meeting's agenda, `present` attending."""
    if pid is None:
        pid = proposals.create_proposal(book, DEAL, username="mgr").id
        proposals.submit_proposal(book, pid, username="mgr")
    meeting_id = meetings.create_meeting(book, {"fund_code": "QY", "date": date}, username="chair").id
    meetings.schedule_proposal(book, pid, meeting_id, username="chair")
    meetings.record_attendance(book, meeting_id, present, username="chair")
    return pid, meeting_id


def _counted(client, url: str) -> str:
    from tests.visible_text import visible_text
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    text = visible_text(response.get_data(as_text=True))
    return text[text.index("表决结果"):text.index("记录人")]


def test_a_recorded_resolution_keeps_the_count_it_was_made_on(client, book):
    from tests.conftest import settings_in_force
    pid, meeting_id = _on_meeting(book, MEMBERS[:6])
    for member, choice in zip(MEMBERS[:6], ["approve"] * 4 + ["reject", "abstain"], strict=True):
        meetings.cast_vote(book, pid, choice, None, username=member)
    decisions.decide(book, pid, "approved_with_conditions", "先签对赌", username="chair")
    as_user(client, "chair")
    made_on = _counted(client, f"/committee/proposals/{pid}/resolution")
    assert "出席且未回避的委员 6 法定人数 5 同意 4 通过需同意票 4" in " ".join(made_on.split())

    # the meeting's attendance is closed: the decision was made on it
    with pytest.raises(FieldErrors, match="出席情况不能再修改"):
        meetings.record_attendance(book, meeting_id, MEMBERS, username="chair")
    page = client.post(f"/committee/meetings/{meeting_id}/attendance", data={"present": MEMBERS},
                       follow_redirects=True).get_data(as_text=True)
    assert "出席情况不能再修改" in page and 'id="attendance-form"' not in page
    assert meetings.attendance(book, meeting_id) == {m: m in MEMBERS[:6] for m in MEMBERS}

    # the fund's quorum and pass ratio changed since: the resolution reads as it was made
    settings_in_force(book, "QY", {"committee_pass_ratio": "1", "committee_quorum": "7"}, username="chair")
    assert _counted(client, f"/committee/proposals/{pid}/resolution") == made_on
    kept = meetings.tally(book, fresh(book, pid))
    assert (len(kept.eligible), kept.quorum, kept.approve, kept.needed, kept.passes) == (6, 5, 4, 4, True)
    assert book.execute(select(AuditEntry).where(AuditEntry.entity == "resolutions")).scalars().one().after[
        "decision"] == "approved_with_conditions"


def test_a_deferral_stays_on_record_at_its_meeting_when_decided_again_later(client, book):
    pid, first = _on_meeting(book, MEMBERS[:6])
    for member, choice in zip(MEMBERS[:6], ["approve"] * 3 + ["abstain"] * 3, strict=True):
        meetings.cast_vote(book, pid, choice, "先看量产数据" if choice == "approve" else None, username=member)
    decisions.decide(book, pid, "deferred", None, username="chair")
    _pid, later = _on_meeting(book, MEMBERS[:6], date="2026-01-20", pid=pid)
    assert fresh(book, pid).status == "scheduled" and fresh(book, pid).decision is None

    as_user(client, "chair")
    for url in (f"/committee/proposals/{pid}/resolution", f"/committee/proposals/{pid}/resolution/{first}"):
        page = client.get(url).get_data(as_text=True)
        assert "决议：暂缓" in page and "2025-12-10" in page and "先看量产数据" in page, url
    for url in (f"/committee/proposals/{pid}/resolution.pdf", f"/committee/proposals/{pid}/resolution/{first}.pdf"):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/committee/proposals/{pid}/resolution/{later}").status_code == 404
    assert f"/committee/proposals/{pid}/resolution/{first}" in client.get(f"/committee/proposals/{pid}").get_data(
        as_text=True)

    for member in MEMBERS[:5]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    decisions.decide(book, pid, "approved", None, username="chair")
    assert [(r.meeting_id, r.decision) for r in meetings.resolutions(book, pid)] == [(first, "deferred"),
                                                                                     (later, "approved")]
    latest = client.get(f"/committee/proposals/{pid}/resolution").get_data(as_text=True)
    assert "决议：通过" in latest and "2026-01-20" in latest and "先看量产数据" not in latest
    earlier = client.get(f"/committee/proposals/{pid}/resolution/{first}").get_data(as_text=True)
    assert "决议：暂缓" in earlier and "已登记为投资" not in earlier
    assert f"/committee/proposals/{pid}/resolution/{first}" in client.get(f"/committee/meetings/{first}").get_data(
        as_text=True)


def test_a_member_present_who_then_left_the_committee_counts_no_more_unless_they_voted(book):
    from models import User
    from portfolio.book import records
    pid, _meeting = _on_meeting(book, MEMBERS)
    meetings.cast_vote(book, pid, "reject", None, username=MEMBERS[5])
    for member in (MEMBERS[5], MEMBERS[6]):  # one has voted, the other not
        records.deactivate_user(book, book.execute(select(User.id).where(User.username == member)).scalar_one(),
                                username="chair")
    for member in MEMBERS[:4]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    meetings.cast_vote(book, pid, "reject", None, username=MEMBERS[4])
    with pytest.raises(FieldErrors):
        meetings.cast_vote(book, pid, "approve", None, username=MEMBERS[6])
    count = meetings.tally(book, fresh(book, pid))
    # m7 can no longer vote: not counted; m6's vote, cast while a member, still is
    assert count.eligible == tuple(MEMBERS[:6]) and (count.approve, count.reject, count.not_voted) == (4, 2, 0)
    assert count.needed == 4 and count.passes
    assert meetings.attendance(book, _meeting)[MEMBERS[6]] is True  # the record of who attended is left as it was
    decisions.decide(book, pid, "approved", None, username="chair")
    assert fresh(book, pid).decision == "approved"


def test_english_names_one_fund_one_investment_and_a_recused_member_in_the_singular(client, book):
    """A proposal, its meeting, its decision and the investment it booked name their one fund
    and one investment as 'Fund QY' and 'Investment QY-…', and a recused member as 'Recused':
    the English had taken the menu's and the list's plurals ('Funds QY', 'Investments QY-P1',
    'Recusals: …' in a member's row)."""
    from tests.visible_text import visible_text
    pid, meeting_id = _on_meeting(book, MEMBERS[:6])
    meetings.declare_recusal(book, pid, "m6", "持有标的公司股份", username="chair")
    for member in MEMBERS[:5]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    investment_id = decisions.decide(book, pid, "approved", None, username="chair").investment_id
    as_user(client, "viewer")
    client.get("/lang/en")
    pages = {url: visible_text(client.get(url).get_data(as_text=True)) for url in (
        f"/committee/proposals/{pid}", f"/committee/meetings/{meeting_id}", f"/investments/{investment_id}",
        f"/committee/proposals/{pid}/resolution")}
    assert "Fund QY · Proposer" in pages[f"/committee/proposals/{pid}"]
    assert f"Investment {investment_id}" in pages[f"/committee/proposals/{pid}"]
    assert "Fund QY · Created by" in pages[f"/committee/meetings/{meeting_id}"]
    assert f"Investment {investment_id}" in pages[f"/investments/{investment_id}"]
    assert "Fund QY" in pages[f"/investments/{investment_id}"]
    assert "Recused: 持有标的公司股份" in pages[f"/committee/proposals/{pid}/resolution"]
    for url, text in pages.items():
        assert "Funds QY" not in text and f"Investments {investment_id}" not in text and "Recusals:" not in text, url


def test_a_funding_refused_keeps_what_was_typed(client, book):
    """A payment past the approved amount (or a date missing) is refused beside the form, the
    form still holding the date, amount, voucher number and note typed: a redirect had
    emptied all four."""
    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    for member in MEMBERS[:5]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    decisions.decide(book, pid, "approved", None, username="chair")
    as_user(client, "mgr")
    typed = {"date": "2025-12-16", "amount_cny": "3500", "ref": "ZJ-2025-088", "note": "首期出资，按协议第 3 条"}
    response = client.post(f"/committee/proposals/{pid}/fund", data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "出资合计不能超过决议金额" in page
    form = page[page.index('id="funding-form"'):]
    form = form[:form.index("</form>")]
    for value in ('value="2025-12-16"', 'value="3500', 'value="ZJ-2025-088"', "首期出资，按协议第 3 条"):
        assert value in form, value
    missing = client.post(f"/committee/proposals/{pid}/fund", data={**typed, "date": ""}).get_data(as_text=True)
    form = missing[missing.index('id="funding-form"'):]
    assert 'value="ZJ-2025-088"' in form[:form.index("</form>")]
    assert book.execute(select(CashFlow).where(CashFlow.investment_id == fresh(book, pid).investment_id)).first() is None


def _typed_in(page: str, form_id: str) -> str:
    form = page[page.index(f'id="{form_id}"'):]
    return form[:form.index("</form>")]


def test_a_refused_vote_keeps_its_comment(client, book):
    """A vote refused (no choice made) answers the review screen with the comment as typed and
    the refusal beside the choice: a redirect had emptied the comment, to be typed again."""
    from tests.test_error_texts import _errors

    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    comment = "估值偏高，建议补充可比公司的尽调材料"
    for lang, refusal in (("zh", "请选择 同意、反对 或 弃权"), ("en", "Choose Approve, Reject or Abstain")):
        as_user(client, "m1")
        client.get(f"/lang/{lang}")
        response = client.post(f"/committee/proposals/{pid}/vote", data={"choice": "", "comment": comment})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert comment in _typed_in(page, "vote-form")
        assert _errors(_typed_in(page, "vote-form")) == {"choice": [refusal]}
    assert book.execute(select(Vote).where(Vote.proposal_id == pid)).first() is None


def test_a_refused_decision_keeps_its_conditions(client, book):
    """A decision refused (one the votes do not allow) answers the review screen with the
    conditions as typed and the refusal beside the decision: a redirect had emptied them."""
    from tests.test_error_texts import _errors

    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    for member in MEMBERS[:2]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    for member in MEMBERS[2:6]:
        meetings.cast_vote(book, pid, "reject", None, username=member)
    conditions = "须在交割前完成对赌条款的修订"
    as_user(client, "chair")
    response = client.post(f"/committee/proposals/{pid}/decide",
                           data={"decision": "approved_with_conditions", "conditions": conditions})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    form = _typed_in(page, "decision-form")
    assert conditions in form and list(_errors(form)) == ["decision"]
    assert fresh(book, pid).status == "scheduled"


def test_a_funding_dated_in_the_future_asks_and_a_confirming_reason_books_it(client, book):
    """A funding dated after today is a doubt (book/sanity.py): the form asks, the box for the
    confirming reason beside the question, and nothing is booked; confirmed with a reason, the
    contribution is booked and its audit keeps the reason and the doubt it answered. Before,
    the form had no such box: only changing the date got past the question."""
    from portfolio.book import sanity
    from tests.test_error_texts import _errors

    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    for member in MEMBERS[:5]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    investment_id = decisions.decide(book, pid, "approved", None, username="chair").investment_id
    as_user(client, "mgr")
    assert 'name="confirm_reason"' not in client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    future = sanity.today() + dt.timedelta(days=3)
    typed = {"date": future.isoformat(), "amount_cny": "1000", "ref": "ZJ-2026-001"}
    response = client.post(f"/committee/proposals/{pid}/fund", data=typed)
    assert response.status_code == 200
    form = _typed_in(response.get_data(as_text=True), "funding-form")
    errors = _errors(form)
    assert list(errors) == ["confirm_reason"] and "晚于今天" in errors["confirm_reason"][0], errors
    assert '<textarea' in form and 'name="confirm_reason"' in form and 'value="ZJ-2026-001"' in form
    assert book.execute(select(CashFlow).where(CashFlow.investment_id == investment_id)).first() is None
    done = client.post(f"/committee/proposals/{pid}/fund", data={**typed, "confirm_reason": "按划款通知提前记账"})
    assert done.status_code == 302
    book.expire_all()
    flow = book.execute(select(CashFlow).where(CashFlow.investment_id == investment_id)).scalar_one()
    assert (flow.date, flow.amount_cny, flow.type) == (future, Decimal("10000000.00"), "contribution")
    entry = book.execute(select(AuditEntry).where(AuditEntry.entity == "cash_flows", AuditEntry.action == "create",
                                                  AuditEntry.entity_key == str(flow.id))).scalar_one()
    assert entry.reason == "按划款通知提前记账" and any("晚于今天" in d for d in entry.after["confirmed_doubts"])


def test_the_review_screen_and_the_decision_name_a_target_the_book_holds(client, book):
    """'Target C3' told the committee and the signed decision only a code: a company (or
    sub-fund) the book holds is named beside its code, as a target new to the book was."""
    name = book.get(Company, "C3").name
    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    for member in MEMBERS[:5]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    decisions.decide(book, pid, "approved", None, username="chair")
    as_user(client, "viewer")
    from tests.visible_text import visible_text
    review_page = visible_text(client.get(f"/committee/proposals/{pid}").get_data(as_text=True))
    assert f"投资标的 C3 · {name}" in review_page
    decision = visible_text(client.get(f"/committee/proposals/{pid}/resolution").get_data(as_text=True))
    assert f"投资标的 C3 {name}" in decision
    assert proposals.target_name(book, proposals.create_proposal(
        book, {**DEAL, "mode": "sub_fund", "target_code": "SF1", "ownership_pct": None, "instrument": None,
               "stage": None, "round": None}, username="mgr")) == book.get(SubFund, "SF1").name


def test_a_reader_with_no_action_on_a_proposal_sees_no_empty_box(client, book):
    """A committee member or a viewer on a scheduled proposal had an empty card under its
    heading (the actions box, with no button for them); the proposer still has theirs."""
    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    for reader in ("m1", "viewer"):
        as_user(client, reader)
        page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
        assert 'class="actions card"' not in page, reader
    as_user(client, "mgr")
    page = client.get(f"/committee/proposals/{pid}").get_data(as_text=True)
    assert 'class="actions card"' in page and 'id="withdraw-proposal"' in page


def test_english_lists_head_a_column_of_one_fund_or_one_investment_each_in_the_singular(client, book):
    """The committee's lists, the investments list and a company's page headed their columns
    'Funds' and 'Investments', each cell naming one."""
    import re
    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    for member in MEMBERS[:5]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    decisions.decide(book, pid, "approved", None, username="chair")
    as_user(client, "viewer")
    client.get("/lang/en")
    for url in ("/committee/", "/investments", "/companies/C3", "/sub-funds/SF1", "/sub-funds", "/reports/"):
        page = client.get(url).get_data(as_text=True)
        heads = re.findall(r"<(?:th|label)[^>]*>(?:<a[^>]*>)?\s*([^<]*?)\s*(?:[▲▼↑↓]\s*)?<", page)
        assert "Funds" not in heads and "Investments" not in heads, (url, heads)
        assert "Fund" in heads, (url, heads)


def test_with_nobody_present_the_tally_does_not_say_no_approval_is_needed(client, book):
    """Before the attendance is recorded the tally read '通过需同意 0 票' ('Approvals needed 0
    votes'): none counted, not none needed; the rule beside it says what will be."""
    pid, _meeting = _on_meeting(book, [])
    as_user(client, "viewer")
    from tests.visible_text import visible_text
    page = visible_text(client.get(f"/committee/proposals/{pid}").get_data(as_text=True))
    assert "通过需同意 0 票" not in page and "未达法定人数" in page and "不少于 2/3 同意" in page
    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    page = visible_text(client.get(f"/committee/proposals/{pid}").get_data(as_text=True))
    assert "通过需同意 4 票" in page


def test_decision_conditions_beyond_4000_characters_are_refused_beside_the_field(client, book):
    """The conditions' 4000-character limit was never enforced: a longer text was written.
    Now 4001 characters are refused beside the conditions, nothing written; 4000 are kept."""
    from tests.test_error_texts import _errors

    pid, _meeting = _on_meeting(book, MEMBERS[:6])
    for member in MEMBERS[:6]:
        meetings.cast_vote(book, pid, "approve", None, username=member)
    with pytest.raises(FieldErrors) as refused:
        decisions.decide(book, pid, "approved_with_conditions", "条" * 4001, username="chair")
    assert [field for field, _message in refused.value.errors] == ["conditions"]
    as_user(client, "chair")
    response = client.post(f"/committee/proposals/{pid}/decide",
                           data={"decision": "approved_with_conditions", "conditions": "条" * 4001})
    assert response.status_code == 200
    assert _errors(_typed_in(response.get_data(as_text=True), "decision-form")) == {
        "conditions": ["不能超过 4000 个字符"]}
    book.expire_all()
    proposal = fresh(book, pid)
    assert proposal.status == "scheduled" and proposal.conditions is None and proposal.investment_id is None
    decisions.decide(book, pid, "approved_with_conditions", "条" * 4000, username="chair")
    decided = fresh(book, pid)
    assert decided.status == "decided" and decided.conditions == "条" * 4000
