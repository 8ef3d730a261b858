"""Meetings (投委会会议): create, schedule a proposal on the agenda, attendance, recusals,
votes, and the tally of a proposal's votes under its fund's settings."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    Fund,
    Meeting,
    MeetingAttendance,
    Proposal,
    Recusal,
    Resolution,
    Vote,
    utcnow,
)
from portfolio.book.audit import audit, person, snapshot
from portfolio.book.records import Fields
from portfolio.book.unit import commit, take
from portfolio.commands import MeetingCommand
from portfolio.committee.voting import Tally, count_votes, tally_from_json
from portfolio.committee.workflow import (
    IllegalTransition,
    active_members,
    fund_committee_settings,
    get_meeting,
    move,
    take_proposal,
)
from portfolio.errors import FieldErrors
from portfolio.messages import Message
from portfolio.record_rules import CODE_LENGTH, NAME_LENGTH

RECUSAL_REASON_MAX_LEN = 2000  # a recusal's reason (the recusal form's limit too)
VOTE_COMMENT_MAX_LEN = 4000  # a vote's comment (the vote form's limit too)

# =============================================================== meetings

def check_meeting(session: Session, fields: MeetingCommand | Mapping[str, Any]) -> Meeting:
    """Every check `create_meeting` makes, nothing written: the meeting it would add (not in the
    session)."""
    f = Fields(fields)
    fund_code = f.text("fund_code", required=True, max_len=CODE_LENGTH)
    date = f.date("date", required=True)
    title = f.text("title", max_len=NAME_LENGTH)
    if fund_code and session.get(Fund, fund_code) is None:
        f.errors.append(("fund_code", Message("fund_unknown", code=fund_code)))
    f.check()
    return Meeting(fund_code=fund_code, date=date, title=title)


def create_meeting(session: Session, fields: MeetingCommand | Mapping[str, Any], *, username: str) -> Meeting:
    meeting = check_meeting(session, fields)
    meeting.created_by = username
    session.add(meeting)
    session.flush()
    audit(session, username, "create", "meetings", str(meeting.id), after=snapshot(meeting))
    commit(session)
    return meeting


def schedule_proposal(session: Session, proposal_id, meeting_id, *, username: str) -> Proposal:
    """Put a submitted proposal on a meeting's agenda (same fund), or a deferred one (暂缓)
    on a later meeting's: it is voted on afresh there (the earlier votes stay on record,
    with their meeting). The proposal's own decision is cleared, audited like every move; the
    deferral stays on record as the earlier meeting's resolution (`resolutions`)."""
    proposal = take_proposal(session, proposal_id)
    meeting = get_meeting(session, meeting_id, "meeting_id")
    if meeting.fund_code != proposal.fund_code:
        raise FieldErrors([("meeting_id", Message("meeting_other_fund", meeting_fund=meeting.fund_code,
                                                       proposal_fund=proposal.fund_code))])
    changes: dict[str, Any] = {"meeting_id": meeting.id}
    if proposal.status == "decided":
        if proposal.decision != "deferred":
            raise IllegalTransition(proposal, "schedule")
        deferred_at = session.get(Meeting, proposal.meeting_id)
        if meeting.id == proposal.meeting_id or (deferred_at is not None and meeting.date < deferred_at.date):
            raise FieldErrors([("meeting_id", Message("deferred_later_meeting"))])
        changes.update(decision=None, conditions=None, decided_by=None, decided_at=None)
    move(session, proposal, "schedule", username, **changes)
    commit(session)
    return proposal


def is_deferred(proposal: Proposal) -> bool:
    """Deferred (暂缓): decided so, and waiting for a later meeting."""
    return proposal.status == "decided" and proposal.decision == "deferred"


def agenda(session: Session, meeting_id) -> list[Proposal]:
    """The proposals on a meeting's agenda: those it holds now, and those voted on there
    and deferred to a later meeting since."""
    voted_here = select(Vote.proposal_id).where(Vote.meeting_id == int(meeting_id))
    return list(session.execute(select(Proposal).where(
        (Proposal.meeting_id == int(meeting_id)) | Proposal.id.in_(voted_here)).order_by(Proposal.id)).scalars())


def resolution(session: Session, proposal_id, meeting_id=None) -> Resolution | None:
    """The decision recorded on a proposal at a meeting; without a meeting, its latest."""
    stmt = select(Resolution).where(Resolution.proposal_id == int(proposal_id))
    if meeting_id is not None:
        stmt = stmt.where(Resolution.meeting_id == int(meeting_id))
    return session.execute(stmt.order_by(Resolution.decided_at.desc(), Resolution.id.desc()).limit(1)).scalar()


def resolutions(session: Session, proposal_id) -> list[Resolution]:
    """Every decision recorded on a proposal, the first first (a deferral, then the later meeting's)."""
    return list(session.execute(select(Resolution).where(Resolution.proposal_id == int(proposal_id))
                                .order_by(Resolution.decided_at, Resolution.id)).scalars())


def decided_here(session: Session, meeting_id) -> dict[int, Resolution]:
    """The decisions recorded at a meeting, by proposal."""
    return {r.proposal_id: r for r in session.execute(select(Resolution).where(
        Resolution.meeting_id == int(meeting_id))).scalars()}


def attendance(session: Session, meeting_id) -> dict[str, bool]:
    rows = session.execute(select(MeetingAttendance.member, MeetingAttendance.present)
                           .where(MeetingAttendance.meeting_id == int(meeting_id))).all()
    return {m: bool(p) for m, p in rows}


def record_attendance(session: Session, meeting_id, present: Iterable[str], *, username: str) -> dict[str, bool]:
    """Who of the committee's members attend (the others are recorded absent).

    A member who has voted at this meeting cannot be marked absent afterwards, and once a
    decision is recorded at the meeting its attendance is closed: the decision was made on it."""
    meeting = take(session, get_meeting(session, meeting_id))  # a vote or a decision at it waits, or is waited for
    if session.execute(select(Resolution.id).where(Resolution.meeting_id == meeting.id).limit(1)).first():
        raise FieldErrors([("present", Message("attendance_decided"))])
    members = active_members(session)
    present_set = set(present)
    unknown = sorted(present_set - set(members))
    if unknown:
        raise FieldErrors([("present", Message("not_members", people=unknown))])
    voted = set(session.execute(select(Vote.member).where(Vote.meeting_id == meeting.id)).scalars())
    leaving = sorted(voted - present_set)
    if leaving:
        raise FieldErrors([("present", Message("voted_not_absent", people=[person(session, m) for m in leaving]))])
    before = attendance(session, meeting.id)
    rows = {r.member: r for r in session.execute(select(MeetingAttendance)
                                                 .where(MeetingAttendance.meeting_id == meeting.id)).scalars()}
    for member in members:
        row = rows.get(member)
        if row is None:
            session.add(MeetingAttendance(meeting_id=meeting.id, member=member, present=member in present_set,
                                          recorded_by=username))
        elif row.present != (member in present_set):
            row.present, row.recorded_by, row.recorded_at = member in present_set, username, utcnow()
    session.flush()
    after = attendance(session, meeting.id)
    audit(session, username, "attendance", "meetings", str(meeting.id), before=before, after=after)
    commit(session)
    return after


# =============================================================== recusals and votes

def recusals(session: Session, proposal_id) -> list[Recusal]:
    return list(session.execute(select(Recusal).where(Recusal.proposal_id == int(proposal_id))
                                .order_by(Recusal.id)).scalars())


def votes(session: Session, proposal_id, meeting_id=None) -> list[Vote]:
    """A proposal's votes: at one meeting when given (a deferred proposal is voted on again
    at a later meeting), else at every meeting."""
    stmt = select(Vote).where(Vote.proposal_id == int(proposal_id))
    if meeting_id is not None:
        stmt = stmt.where(Vote.meeting_id == int(meeting_id))
    return list(session.execute(stmt.order_by(Vote.id)).scalars())


def declare_recusal(session: Session, proposal_id, member: str, reason: str | None, *,
                    username: str) -> Recusal:
    """A member's conflict of interest on a proposal: recorded; they cannot vote on it."""
    proposal = take_proposal(session, proposal_id)
    if proposal.status not in ("submitted", "scheduled"):
        raise IllegalTransition(proposal, "recuse")
    errors = []
    reason = (reason or "").strip()
    if not reason:
        errors.append(("reason", Message("recusal_needs_reason")))
    elif len(reason) > RECUSAL_REASON_MAX_LEN:
        errors.append(("reason", Message("too_long", max_len=RECUSAL_REASON_MAX_LEN)))
    if member not in active_members(session):
        errors.append(("member", Message("not_member", member=member)))
    if session.execute(select(Recusal.id).where(Recusal.proposal_id == proposal.id,
                                                Recusal.member == member)).first():
        errors.append(("member", Message("already_recused", member=person(session, member))))
    if session.execute(select(Vote.id).where(Vote.proposal_id == proposal.id, Vote.member == member,
                                             Vote.meeting_id == proposal.meeting_id)).first():
        errors.append(("member", Message("voted_cannot_recuse", member=person(session, member))))
    if errors:
        raise FieldErrors(errors)
    recusal = Recusal(proposal_id=proposal.id, member=member, reason=reason, declared_by=username)
    session.add(recusal)
    try:
        session.flush()
    except IntegrityError:  # the same declaration racing the first: the unique key refuses it
        session.rollback()
        raise FieldErrors([("member", Message("already_recused", member=member))]) from None
    audit(session, username, "recuse", "recusals", str(recusal.id), after=snapshot(recusal))
    commit(session)
    return recusal


def cast_vote(session: Session, proposal_id, choice: str, comment: str | None, *, username: str) -> Vote:
    """A member's vote (同意/反对/弃权) on a scheduled proposal, at its meeting, once."""
    proposal = take_proposal(session, proposal_id, with_meeting=True)  # attendance is the meeting's
    if proposal.status != "scheduled":
        raise IllegalTransition(proposal, "vote")
    errors = []
    if choice not in ("approve", "reject", "abstain"):
        errors.append(("choice", Message("choose_vote")))
    comment = (comment or "").strip() or None
    if comment and len(comment) > VOTE_COMMENT_MAX_LEN:
        errors.append(("comment", Message("too_long", max_len=VOTE_COMMENT_MAX_LEN)))
    if username not in active_members(session):
        errors.append(("", Message("only_members_vote")))
    elif username == proposal.proposer:
        errors.append(("", Message("proposer_cannot_vote")))
    elif session.execute(select(Recusal.id).where(Recusal.proposal_id == proposal.id,
                                                  Recusal.member == username)).first():
        errors.append(("", Message("recused_cannot_vote")))
    elif not attendance(session, proposal.meeting_id).get(username):
        errors.append(("", Message("absent_cannot_vote")))
    elif session.execute(select(Vote.id).where(Vote.proposal_id == proposal.id, Vote.member == username,
                                               Vote.meeting_id == proposal.meeting_id)).first():
        errors.append(("", Message("already_voted")))
    if errors:
        raise FieldErrors(errors)
    vote = Vote(proposal_id=proposal.id, meeting_id=proposal.meeting_id, member=username, choice=choice,
                comment=comment)
    session.add(vote)
    try:
        session.flush()
    except IntegrityError:  # a second vote racing the first: the unique key refuses it
        session.rollback()
        raise FieldErrors([("", Message("already_voted"))]) from None
    audit(session, username, "vote", "votes", str(vote.id), after=snapshot(vote))
    commit(session)
    return vote


def tally(session: Session, proposal: Proposal) -> Tally:
    """The count of a proposal's votes at its meeting, under its fund's settings; once decided
    there, the count the decision was made on, as it was kept with it.

    A member recorded present who has since left the committee (deactivated, or given another
    role) and has not voted on it counts no more: they can no longer vote, so they would only
    raise the 同意 votes needed. Their attendance stays on record; a vote they cast counts."""
    if proposal.status == "decided" and proposal.meeting_id is not None:
        kept = resolution(session, proposal.id, proposal.meeting_id)
        if kept is not None:
            return tally_from_json(kept.tally)
    settings = fund_committee_settings(session, proposal.fund_code)
    cast = {v.member: v.choice for v in votes(session, proposal.id, proposal.meeting_id)}
    members = active_members(session)
    present = [m for m, p in attendance(session, proposal.meeting_id).items()
               if p and (m in members or m in cast)] if proposal.meeting_id else []
    return count_votes(present, [r.member for r in recusals(session, proposal.id)], cast,
                       quorum=settings["quorum"], pass_ratio=settings["pass_ratio"], proposer=proposal.proposer)
