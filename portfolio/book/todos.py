"""Use case: what waits for the logged-in user (the home page's to-dos), by what their role may do.

- `approve` (a checker): valuation drafts someone else entered (maker-checker: never one's own),
  staged change sets someone else uploaded, GP packages submitted and waiting for review
  (or reviewed by someone else and waiting for the second pair of eyes);
- `vote` (a committee member): proposals on the agenda of a meeting held today or before that
  the member may still vote on (not the proposer, not recused, not recorded absent, not voted
  yet at that meeting), and the meetings coming (with how many proposals are on each agenda);
- `configure` or `schedule` (who runs the meetings): the meetings coming, and the submitted
  proposals not yet on an agenda.

Read only: lists of the rows themselves (the screen links to each), oldest first.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models import ChangeSet, GpPackage, Meeting, MeetingAttendance, Proposal, Recusal, Valuation, Vote

__all__ = ["Todos", "todos", "SHOWN"]

SHOWN = 10  # rows shown per kind; the count says how many there are


@dataclass
class Todos:
    drafts: list[Valuation] = field(default_factory=list)
    change_sets: list[ChangeSet] = field(default_factory=list)
    gp_packages: list[GpPackage] = field(default_factory=list)
    votes: list[tuple[Proposal, Meeting]] = field(default_factory=list)
    meetings: list[tuple[Meeting, int]] = field(default_factory=list)  # (meeting, proposals on its agenda)
    to_schedule: list[Proposal] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _listed(session: Session, stmt, name: str, todo: Todos) -> list:
    """The first SHOWN rows, and how many there are, in one query (a window count: the home
    page asks this of each kind for every visit)."""
    rows = session.execute(stmt.add_columns(func.count().over().label("total")).limit(SHOWN)).all()
    todo.counts[name] = int(rows[0][-1]) if rows else 0
    return [tuple(row[:-1]) for row in rows] if name in ("votes", "meetings") else [row[0] for row in rows]


def drafts_waiting(username: str):
    """Valuation drafts (not approved, not void) entered by someone else."""
    return (select(Valuation).where(Valuation.approved_at.is_(None), Valuation.voided_at.is_(None),
                                    or_(Valuation.entered_by.is_(None), Valuation.entered_by != username))
            .order_by(Valuation.as_of, Valuation.id))


def change_sets_waiting(username: str):
    return (select(ChangeSet).where(ChangeSet.status == "pending", ChangeSet.uploaded_by != username)
            .order_by(ChangeSet.uploaded_at, ChangeSet.id))


def gp_packages_waiting(username: str):
    """Submitted packages (to review), and reviewed ones someone else reviewed (to accept);
    never one the user submitted."""
    return (select(GpPackage).where(or_(GpPackage.status == "submitted",
                                        and_(GpPackage.status == "reviewed", GpPackage.reviewed_by != username)),
                                    or_(GpPackage.submitted_by.is_(None), GpPackage.submitted_by != username))
            .order_by(GpPackage.submitted_at, GpPackage.id))


def votes_waiting(username: str, today: dt.date):
    """(proposal, meeting) for each scheduled proposal the member may still vote on, at a
    meeting held today or before (a meeting to come is among the meetings coming)."""
    recused = select(Recusal.id).where(Recusal.proposal_id == Proposal.id, Recusal.member == username)
    voted = select(Vote.id).where(Vote.proposal_id == Proposal.id, Vote.meeting_id == Proposal.meeting_id,
                                  Vote.member == username)
    absent = select(MeetingAttendance.id).where(MeetingAttendance.meeting_id == Proposal.meeting_id,
                                                MeetingAttendance.member == username,
                                                MeetingAttendance.present.is_(False))
    return (select(Proposal, Meeting).join(Meeting, Meeting.id == Proposal.meeting_id)
            .where(Proposal.status == "scheduled", Proposal.proposer != username, Meeting.date <= today,
                   ~recused.exists(), ~voted.exists(), ~absent.exists())
            .order_by(Meeting.date, Proposal.id))


def meetings_coming(today: dt.date):
    """(meeting, proposals on its agenda) for each meeting on or after today."""
    on_agenda = (select(func.count(Proposal.id)).where(Proposal.meeting_id == Meeting.id)
                 .correlate(Meeting).scalar_subquery())
    return select(Meeting, on_agenda).where(Meeting.date >= today).order_by(Meeting.date, Meeting.id)


def todos(session: Session, username: str, permissions: frozenset[str] | set[str], today: dt.date) -> Todos:
    """What waits for `username`, who may do `permissions` (web.auth.PERMISSIONS of their role)."""
    todo = Todos()
    if "approve" in permissions:
        todo.drafts = _listed(session, drafts_waiting(username), "drafts", todo)
        todo.change_sets = _listed(session, change_sets_waiting(username), "change_sets", todo)
        todo.gp_packages = _listed(session, gp_packages_waiting(username), "gp_packages", todo)
    if "vote" in permissions:
        todo.votes = [(p, m) for p, m in _listed(session, votes_waiting(username, today), "votes", todo)]
    if permissions & {"vote", "configure", "schedule"}:
        todo.meetings = [(m, int(n or 0)) for m, n in _listed(session, meetings_coming(today), "meetings", todo)]
    if permissions & {"configure", "schedule"}:
        todo.to_schedule = _listed(session, select(Proposal).where(Proposal.status == "submitted")
                                   .order_by(Proposal.submitted_at, Proposal.id), "to_schedule", todo)
    return todo
