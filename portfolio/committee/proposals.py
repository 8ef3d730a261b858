"""Proposals (立项): create, edit (the proposer, while a draft), submit, withdraw.

The proposal's fields are checked with the record rules the forms and the import share
(portfolio.record_rules through portfolio.book.records); a target new to the book is
checked now and created when the proposal is approved (portfolio.committee.decisions).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from models import (
    INSTRUMENTS,
    MODES,
    SECTORS,
    STAGES,
    Company,
    Fund,
    Proposal,
    SubFund,
    utcnow,
)
from portfolio.book.audit import audit, snapshot
from portfolio.book.records import Fields, check_alongside, check_credit_code, check_ownership, check_region
from portfolio.book.unit import commit
from portfolio.commands import ProposalCommand
from portfolio.committee.workflow import (
    PROPOSAL_ENTITY,
    IllegalTransition,
    move,
    take_proposal,
)
from portfolio.errors import FieldErrors
from portfolio.messages import Message
from portfolio.record_rules import CODE_LENGTH, LONG_TEXT_LENGTH, NAME_LENGTH

# =============================================================== proposals

TEXT_FIELDS = ("thesis", "market", "team", "risks", "valuation_method", "comparables",
               "bear_case", "base_case", "bull_case")
CASES = ("bear", "base", "bull")


SCENARIO_MOIC = (0.0, 1000.0)          # times: a venture case's thousandfold is the most anyone writes
SCENARIO_IRR_PCT = (-100.0, 10000.0)   # %: nothing loses more than all of it


def _ratio(f: Fields, name: str, *, percent: bool = False) -> float | None:
    """A MOIC (times) or an IRR typed in % (stored as a fraction): ratios are floats."""
    value = f.raw(name)
    if value is None:
        return None
    try:
        number = float(str(value).replace("%", "").replace("x", "").replace("X", ""))
    except ValueError:
        f.errors.append((name, Message("not_a_number")))
        return None
    if number != number or number in (float("inf"), float("-inf")):
        f.errors.append((name, Message("not_a_number")))
        return None
    if not percent and number < 0:
        f.errors.append((name, Message("multiple_negative")))
        return None
    low, high = SCENARIO_IRR_PCT if percent else SCENARIO_MOIC
    if not low <= number <= high:  # a slip of the keyboard, never a case to put to the committee
        f.errors.append((name, Message("between", low=f"{low:g}", high=f"{high:g}")))
        return None
    return number / 100 if percent else number


def _proposal_values(session: Session, fields: ProposalCommand | Mapping[str, Any]) -> dict[str, Any]:
    f = Fields(fields)
    fund_code = f.text("fund_code", required=True, max_len=CODE_LENGTH)
    mode = f.choice("mode", MODES, required=True)
    target_code = f.text("target_code", required=True, max_len=CODE_LENGTH)
    new_target = bool(fields.get("new_target")) and str(fields.get("new_target")).lower() not in ("0", "false", "")
    values: dict[str, Any] = {
        "fund_code": fund_code, "mode": mode, "target_code": target_code,
        "title": f.text("title", max_len=NAME_LENGTH),
        "alongside_code": f.text("alongside_code", max_len=CODE_LENGTH),
        "planned_date": f.date("planned_date", required=True),
        "amount_cny": f.amount("amount_cny", required=True, positive=True),
        "first_call_cny": f.amount("first_call_cny"),
        "pre_money_cny": f.amount("pre_money_cny"),
        "post_money_cny": f.amount("post_money_cny"),
        "instrument": f.choice("instrument", INSTRUMENTS),
        "round": f.text("round", max_len=CODE_LENGTH),
        "stage": f.choice("stage", STAGES),
        "ownership_pct": f.percent("ownership_pct"),
        "lead_name": f.text("lead_name", max_len=NAME_LENGTH),
        "lead_amount_cny": f.amount("lead_amount_cny"),
        # the angel-eligibility inputs (rules.md angel_*): of a company, not of a sub-fund
        "founded": f.date("target_founded"),
        "headcount": f.integer("headcount"),
        "revenue_cny": f.amount("revenue_cny"),
        "total_assets_cny": f.amount("total_assets_cny"),
    }
    if mode == "sub_fund":
        for name in ("founded", "headcount", "revenue_cny", "total_assets_cny"):
            values[name] = None
    for name in TEXT_FIELDS:
        values[name] = f.text(name, max_len=LONG_TEXT_LENGTH)
    for case in CASES:
        values[f"{case}_moic"] = _ratio(f, f"{case}_moic")
        values[f"{case}_irr"] = _ratio(f, f"{case}_irr", percent=True)
    check_ownership(f, "ownership_pct", values["ownership_pct"])
    pre, post, amount = values["pre_money_cny"], values["post_money_cny"], values["amount_cny"]
    if pre is not None and post is not None and post < pre:
        f.errors.append(("post_money_cny", Message("post_below_pre")))
    if values["first_call_cny"] is not None and amount is not None and values["first_call_cny"] > amount:
        f.errors.append(("first_call_cny", Message("first_call_over")))
    if fund_code and session.get(Fund, fund_code) is None:
        f.errors.append(("fund_code", Message("fund_unknown", code=fund_code)))
    alongside = values["alongside_code"]
    check_alongside(session, f, "alongside_code", mode=mode, fund_code=fund_code, alongside=alongside)
    if mode == "co_invest" and values["lead_amount_cny"] is None:
        f.errors.append(("lead_amount_cny", Message("lead_amount_needed")))
    values["new_target"] = None
    if mode and target_code:
        model, what = (SubFund, "sub_fund") if mode == "sub_fund" else (Company, "company")
        exists = session.get(model, target_code) is not None
        if new_target:
            if exists:
                f.errors.append(("target_code", Message("target_exists", record=what, code=target_code)))
            values["new_target"] = _new_target(session, f, mode, values["founded"])
        elif not exists:
            f.errors.append(("target_code", Message("target_unknown_new", record=what, code=target_code)))
        elif mode != "sub_fund":
            _check_founded(session, f, target_code, values["founded"])
    if not values["title"] and target_code:
        values["title"] = target_code
    f.check()
    return values


def _check_founded(session: Session, f: Fields, company_code: str, founded) -> None:
    """A founding date typed for a company the book knows must be the book's own (the
    proposal supplies one only where the book has none)."""
    company = session.get(Company, company_code)
    if founded is not None and company is not None and company.founded is not None and company.founded != founded:
        f.errors.append(("target_founded", Message("founded_differs", day=company.founded)))


def _new_target(session: Session, f: Fields, mode: str, founded=None) -> dict[str, Any]:
    """The fields of a target new to the book, checked now, created on approval."""
    region = check_region(f, "target_region_code")
    target: dict[str, Any] = {"name": f.text("target_name", required=True),
              "sector": f.choice("target_sector", SECTORS, required=True), "region_code": region}
    if mode == "sub_fund":
        size = f.amount("target_size_cny", required=True, positive=True)
        target.update({"manager": f.text("target_manager", required=True),
                       "size_cny": None if size is None else str(size),
                       "vintage_year": f.integer("target_vintage_year", required=True, minimum=1900)})
    else:
        credit = check_credit_code(session, f, "target_credit_code")
        target.update({"credit_code": credit, "founded": None if founded is None else founded.isoformat()})
    return target


def check_proposal(session: Session, fields: ProposalCommand | Mapping[str, Any]) -> dict[str, Any]:
    """Every check `create_proposal` makes on the fields (and `update_proposal` with them),
    nothing written: the proposal's values."""
    return _proposal_values(session, fields)


def check_proposal_edit(session: Session, proposal: Proposal, fields: ProposalCommand | Mapping[str, Any], *,
                        username: str) -> dict[str, Any]:
    """Every check `update_proposal` makes, nothing written: a draft, edited by its proposer
    (a submitted one is frozen for the committee), and its fields (`check_proposal`)."""
    if proposal.status != "draft":
        raise IllegalTransition(proposal, "edit")
    if proposal.proposer != username:
        raise FieldErrors([("", Message("only_proposer_edits"))])
    return check_proposal(session, fields)


def create_proposal(session: Session, fields: ProposalCommand | Mapping[str, Any], *, username: str) -> Proposal:
    """立项: a draft proposal by its proposer."""
    values = check_proposal(session, fields)
    proposal = Proposal(status="draft", proposer=username, **values)
    session.add(proposal)
    session.flush()
    audit(session, username, "create", PROPOSAL_ENTITY, str(proposal.id), after=snapshot(proposal))
    commit(session)
    return proposal


def update_proposal(session: Session, proposal_id, fields: ProposalCommand | Mapping[str, Any], *,
                    username: str) -> Proposal:
    """A draft is changed by its proposer (`check_proposal_edit`, on the proposal as taken)."""
    proposal = take_proposal(session, proposal_id)
    values = check_proposal_edit(session, proposal, fields, username=username)
    before = snapshot(proposal)
    for name, value in values.items():
        setattr(proposal, name, value)
    session.flush()
    audit(session, username, "update", PROPOSAL_ENTITY, str(proposal.id), before=before, after=snapshot(proposal))
    commit(session)
    return proposal


def submit_proposal(session: Session, proposal_id, *, username: str) -> Proposal:
    proposal = take_proposal(session, proposal_id)
    move(session, proposal, "submit", username, submitted_at=utcnow())
    commit(session)
    return proposal


def withdraw_proposal(session: Session, proposal_id, *, username: str) -> Proposal:
    proposal = take_proposal(session, proposal_id)
    move(session, proposal, "withdraw", username, withdrawn_by=username, withdrawn_at=utcnow())
    commit(session)
    return proposal


def target_name(session: Session, proposal: Proposal) -> str | None:
    """The name of the proposal's target as the book has it (a sub-fund's for a commitment to
    one, else a company's), or as the proposal typed it when it is new to the book; None for a
    code the book does not hold."""
    if proposal.new_target:
        return proposal.new_target.get("name")
    record: SubFund | Company | None = (session.get(SubFund, proposal.target_code) if proposal.mode == "sub_fund"
                                        else session.get(Company, proposal.target_code))
    return record.name if record is not None else None
