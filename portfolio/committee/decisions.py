"""The decision and the funding: the decision the votes allow; an approval becomes an
investment in the book (records.add_investment, with a new target if any), linked both
ways (proposals.investment_id), all in one transaction committed once. The funding is the
investment's first contribution (records.record_cash_flow)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    CashFlow,
    Company,
    Investment,
    Proposal,
    Resolution,
    SubFund,
    utcnow,
)
from portfolio.book.audit import audit, snapshot
from portfolio.book.records import Fields
from portfolio.book.unit import commit, serialise
from portfolio.commands import FundingCommand
from portfolio.committee.meetings import attendance, tally
from portfolio.committee.voting import allowed_decisions, tally_as_json
from portfolio.committee.workflow import (
    PROPOSAL_ENTITY,
    IllegalTransition,
    get_proposal,
    move,
    take_proposal,
)
from portfolio.errors import FieldErrors
from portfolio.messages import Message

# =============================================================== decision → investment

def _investment_id(session: Session, proposal: Proposal) -> str:
    base = f"{proposal.fund_code}-P{proposal.id}"
    candidate, n = base, 1
    while session.get(Investment, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _create_target(session: Session, proposal: Proposal, username: str) -> None:
    """The new company / sub-fund of an approved proposal, in the same transaction."""
    target = dict(proposal.new_target or {})
    if proposal.mode == "sub_fund":
        if session.get(SubFund, proposal.target_code) is not None:
            return
        record: SubFund | Company = SubFund(code=proposal.target_code, name=target["name"], manager=target["manager"],
                         size_cny=Decimal(target["size_cny"]), vintage_year=int(target["vintage_year"]),
                         sector=target["sector"], region_code=target["region_code"])
        entity = "sub_funds"
    else:
        if session.get(Company, proposal.target_code) is not None:
            return
        if session.execute(select(Company.code).where(Company.credit_code == target["credit_code"])).first():
            raise FieldErrors([("", Message("credit_code_elsewhere", code=target['credit_code']))])
        founded = target.get("founded")
        record = Company(code=proposal.target_code, name=target["name"], credit_code=target["credit_code"],
                         sector=target["sector"], region_code=target["region_code"],
                         founded=dt.date.fromisoformat(founded) if founded else None)
        entity = "companies"
    session.add(record)
    session.flush()
    audit(session, username, "create", entity, proposal.target_code, after=snapshot(record),
          reason=Message("why_proposal_approved", id=proposal.id))


def _complete_founded(session: Session, proposal: Proposal, username: str) -> None:
    """The founding date the proposal supplied for a company the book knows without one."""
    if proposal.mode == "sub_fund" or proposal.founded is None:
        return
    company = session.get(Company, proposal.target_code)
    if company is None or company.founded is not None:
        return
    before = snapshot(company)
    company.founded = proposal.founded
    session.flush()
    audit(session, username, "update", "companies", company.code, before=before, after=snapshot(company),
          reason=Message("why_proposal_approved", id=proposal.id))


def investment_fields(proposal: Proposal, investment_id: str) -> dict[str, Any]:
    """The proposal as the fields of an investment (records.record_investment's dict)."""
    return {"id": investment_id, "fund_code": proposal.fund_code, "mode": proposal.mode,
            "target_code": proposal.target_code,
            "alongside_code": proposal.alongside_code if proposal.mode == "co_invest" else None,
            "date": proposal.planned_date, "commitment_cny": proposal.amount_cny, "round": proposal.round,
            "ownership_pct": proposal.ownership_pct, "instrument": proposal.instrument, "stage": proposal.stage,
            "lead_amount_cny": proposal.lead_amount_cny if proposal.mode == "co_invest" else None,
            "headcount": proposal.headcount, "revenue_cny": proposal.revenue_cny,
            "total_assets_cny": proposal.total_assets_cny}


def _record_resolution(session: Session, proposal: Proposal, count, username: str) -> Resolution:
    """The decision at this meeting kept for good, with the count and the attendance it was made on."""
    assert proposal.meeting_id is not None and proposal.decision and proposal.decided_by and proposal.decided_at
    record = Resolution(proposal_id=proposal.id, meeting_id=proposal.meeting_id, decision=proposal.decision,
                        conditions=proposal.conditions, decided_by=proposal.decided_by, decided_at=proposal.decided_at,
                        tally=tally_as_json(count), attendance=attendance(session, proposal.meeting_id))
    session.add(record)
    session.flush()
    audit(session, username, "create", "resolutions", str(record.id), after=snapshot(record))
    return record


CONDITIONS_MAX_LEN = 4000  # the decision form's limit on its conditions


def decide(session: Session, proposal_id, decision: str, conditions: str | None, *, username: str) -> Proposal:
    """Record the decision the votes allow; an approval becomes an investment in the book.

    The decision, a new target, the investment and the link are written in one
    transaction, committed once at the end; a failure leaves none of them."""
    from portfolio.book import records
    proposal = take_proposal(session, proposal_id, with_meeting=True)  # the tally holds until the commit
    if proposal.status != "scheduled":
        raise IllegalTransition(proposal, "decide")
    count = tally(session, proposal)
    allowed = allowed_decisions(count)
    if not allowed:
        raise FieldErrors([("decision", Message("no_quorum", n=len(count.eligible), limit_n=count.quorum))])
    if decision not in allowed:
        raise FieldErrors([("decision", Message("decision_not_allowed", approve_n=count.approve,
                                                needed_n=count.needed, decisions=list(allowed)))])
    conditions = (conditions or "").strip() or None
    if decision == "approved_with_conditions" and not conditions:
        raise FieldErrors([("conditions", Message("conditions_needed"))])
    if decision != "approved_with_conditions":
        conditions = None
    if conditions and len(conditions) > CONDITIONS_MAX_LEN:
        raise FieldErrors([("conditions", Message("too_long", max_len=CONDITIONS_MAX_LEN))])
    now = utcnow()
    move(session, proposal, "decide", username, decision=decision, conditions=conditions,
          decided_by=username, decided_at=now)
    _record_resolution(session, proposal, count, username)
    if decision not in ("approved", "approved_with_conditions"):
        commit(session)
        return proposal
    try:
        if proposal.new_target:
            _create_target(session, proposal, username)
        else:
            _complete_founded(session, proposal, username)
        investment_id = _investment_id(session, proposal)
        # The committee's approval is the written reason for any check the deal fails;
        # those failures were shown on the review screen before the vote.
        reason = f"投委会决议通过（提案 #{proposal.id}，会议 #{proposal.meeting_id}）"
        if conditions:
            reason += f"；条件：{conditions}"
        records.add_investment(session, investment_fields(proposal, investment_id), username=username,
                               override_reason=reason)
    except FieldErrors as exc:
        session.rollback()
        raise FieldErrors([("", Message("decision_not_saved", errors=list(exc.errors)))]) from exc
    before = snapshot(proposal)
    proposal.investment_id = investment_id
    audit(session, username, "link", PROPOSAL_ENTITY, str(proposal.id), before=before, after=snapshot(proposal))
    commit(session)
    return proposal


def proposal_for_investment(session: Session, investment_id: str) -> Proposal | None:
    """The committee proposal an investment came from, if any."""
    return session.execute(select(Proposal).where(Proposal.investment_id == investment_id)).scalar_one_or_none()


def is_funded(session: Session, proposal: Proposal) -> bool:
    if not proposal.investment_id:
        return False
    return session.execute(select(CashFlow.id).where(
        CashFlow.investment_id == proposal.investment_id, CashFlow.type == "contribution",
        CashFlow.voided_at.is_(None)).limit(1)).first() is not None


def _funding(session: Session, proposal_id, fields: FundingCommand | Mapping[str, Any], *,
             lock: bool) -> tuple[CashFlow, list[str], str | None]:
    """record_funding's checks, every fault at once (FieldErrors): the proposal approved and an
    investment, the amount within the decision's less what is paid (the payments serialised
    when `lock`: two at once, the second sees the first), and every check of the contribution
    itself (records.check_cash_flow). Nothing is written; returns what check_cash_flow does."""
    from portfolio.book import records
    proposal = get_proposal(session, proposal_id)
    if proposal.decision not in ("approved", "approved_with_conditions") or not proposal.investment_id:
        state = ("decision", proposal.decision) if proposal.decision else ("proposal_status", proposal.status)
        raise FieldErrors([("", Message("not_approved", id=proposal.id, state=state))])
    f = Fields(fields)
    amount = f.amount("amount_cny", required=True, positive=True)
    if amount is not None:
        if lock:
            serialise(session, proposal)
        paid = session.scalar(select(func.sum(CashFlow.amount_cny)).where(
            CashFlow.investment_id == proposal.investment_id, CashFlow.type == "contribution",
            CashFlow.voided_at.is_(None))) or Decimal(0)
        if paid + amount > proposal.amount_cny:
            # in 万元, the unit the funding form takes, exactly (the most allowed can be typed as shown)
            f.errors.append(("amount_cny", Message("funding_over", limit_in_wan=proposal.amount_cny, paid_in_wan=paid,
                                                   most_in_wan=max(proposal.amount_cny - paid, Decimal(0)))))
    contribution = {
        "investment_id": proposal.investment_id, "date": fields.get("date"), "type": "contribution",
        "amount_cny": amount, "ref": fields.get("ref"),
        "note": fields.get("note") or f"投委会提案 #{proposal.id} 出资",
        "confirm_reason": fields.get("confirm_reason")}
    try:
        checked = records.check_cash_flow(session, contribution)
    except FieldErrors as exc:  # the amount's own fault said once, above
        said = {name for name, _message in f.errors}
        f.errors += [(name, message) for name, message in exc.errors if name not in said]
        if not f.errors:  # (a refusal naming nothing: its own)
            raise
    f.check()
    return checked


def check_funding(session: Session, proposal_id, fields: FundingCommand | Mapping[str, Any]) -> None:
    """The funding form's checks (record_funding's), nothing written."""
    _funding(session, proposal_id, fields, lock=False)


def record_funding(session: Session, proposal_id, fields: FundingCommand | Mapping[str, Any], *, username: str):
    """When the money moves: the investment's first contribution (records.record_cash_flow, its
    doubts confirmed by `confirm_reason` as a cash flow's form does). Only an approved proposal
    that became an investment can be funded; every fault is said at once (`_funding`)."""
    from portfolio.book import records
    return records.enter_cash_flow(session, _funding(session, proposal_id, fields, lock=True), username=username)
