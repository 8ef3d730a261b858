"""The committee's workflow, shared by its use cases: finding a proposal or a meeting,
the moves between a proposal's statuses (one conditional UPDATE each, audited), the
committee's members and the fund's quorum and pass ratio.

The workflow: draft → submitted → scheduled → decided (approved,
approved_with_conditions, rejected, deferred), or withdrawn before a decision. A
decision is only ever one the votes allow (portfolio.committee.voting, pure).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Fund, Meeting, Proposal, User
from portfolio.book.audit import audit, snapshot
from portfolio.book.unit import claim, take
from portfolio.errors import FieldErrors
from portfolio.figures.settings import fund_settings
from portfolio.messages import Message

MEMBER_ROLE = "committee"
PROPOSAL_ENTITY = "proposals"


def _get(session: Session, model, key, what: str, field_name: str):
    """The row of `model` with the integer id `key` (as typed), or a FieldErrors saying so."""
    try:
        row = session.get(model, int(key))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise FieldErrors([(field_name, Message("record_unknown", record=what, id=key))])
    return row


def get_proposal(session: Session, proposal_id) -> Proposal:
    return _get(session, Proposal, proposal_id, "proposal", "")


def get_meeting(session: Session, meeting_id, field_name: str = "") -> Meeting:
    return _get(session, Meeting, meeting_id, "meeting", field_name)


def take_proposal(session: Session, proposal_id, *, with_meeting: bool = False) -> Proposal:
    """The proposal, its row taken for the rest of the transaction and read again (unit.take),
    and its meeting's too when asked (always after the proposal's: no two requests wait for
    each other). Every step that judges a proposal's state and then writes starts here: a vote,
    a recusal, an edit, an attachment or a decision landing at the same moment waits, and then
    sees what the other left. Without it a decision was recorded from a tally a vote had just
    changed, a vote stored on a decided proposal, a member both recused and voted, and a
    submitted proposal edited."""
    proposal = take(session, get_proposal(session, proposal_id))
    if with_meeting and proposal.meeting_id is not None:
        take(session, get_meeting(session, proposal.meeting_id))
    return proposal


# Which action may start from which status, and where it leads.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft",), "submitted"),
    "schedule": (("submitted", "decided"), "scheduled"),  # decided: only when deferred (暂缓)
    "decide": (("scheduled",), "decided"),
    "withdraw": (("draft", "submitted", "scheduled"), "withdrawn"),
}
ACTION_NAMES = {"submit": "提交", "schedule": "排会", "decide": "作出决议", "withdraw": "撤回", "edit": "修改",
                "vote": "表决", "recuse": "回避", "attach": "上传附件"}


class IllegalTransition(FieldErrors):
    def __init__(self, proposal: Proposal, action: str):
        super().__init__([("", Message("illegal_transition", id=proposal.id, state=("proposal_status", proposal.status),
                                       action=(action, ACTION_NAMES.get(action, action))))])


def move(session: Session, proposal: Proposal, action: str, username: str, **changes) -> None:
    sources, target = TRANSITIONS[action]
    if proposal.status not in sources:
        raise IllegalTransition(proposal, action)
    before = snapshot(proposal)
    # one UPDATE that holds only while the proposal is still where it was: a second request
    # doing the same at the same moment (a double-submitted decision) finds it moved on
    if not claim(session, proposal, Proposal.status.in_(sources), status=target, **changes):
        session.rollback()
        raise FieldErrors([("", Message("proposal_raced"))])
    audit(session, username, action, PROPOSAL_ENTITY, str(proposal.id), before=before, after=snapshot(proposal))


def active_members(session: Session) -> dict[str, User]:
    rows = session.execute(select(User).where(User.role == MEMBER_ROLE, User.active.is_(True))
                           .order_by(User.username)).scalars().all()
    return {u.username: u for u in rows}


def committee_members(session: Session) -> list[User]:
    return list(active_members(session).values())


def fund_committee_settings(session: Session, fund_code: str) -> dict[str, Any]:
    fund = session.get(Fund, fund_code)
    if fund is None:
        raise FieldErrors([("fund_code", Message("no_fund", code=fund_code))])
    settings = fund_settings(fund.kind, fund.settings or {})
    return {"quorum": int(settings["committee_quorum"]), "pass_ratio": settings["committee_pass_ratio"]}
