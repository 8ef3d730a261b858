"""Use case: what waits for the logged-in user (the home page's to-dos), by what their role may do.

- `approve` (a checker): cash flow and valuation drafts someone else entered, voids of them,
  corrections of approved cash flows and valuations and of investments' terms, changes of
  funds' settings, new investments and reopenings of accepted GP packages someone else asked
  for (maker-checker: never one's own),
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

from sqlalchemy import Date, Select, String, and_, bindparam, func, literal, or_, select
from sqlalchemy.orm import Session

from models import (
    CashFlow,
    ChangeSet,
    GpPackage,
    Meeting,
    MeetingAttendance,
    PendingCorrection,
    Proposal,
    Recusal,
    Valuation,
    Vote,
)
from portfolio.book.corrections import RECORD_KINDS

__all__ = ["Todos", "todos", "SHOWN"]

SHOWN = 10  # rows shown per kind; the count says how many there are


@dataclass
class Todos:
    flow_drafts: list[CashFlow] = field(default_factory=list)
    drafts: list[Valuation] = field(default_factory=list)
    flow_voids: list[CashFlow] = field(default_factory=list)
    valuation_voids: list[Valuation] = field(default_factory=list)
    corrections: list[PendingCorrection] = field(default_factory=list)
    record_corrections: list[PendingCorrection] = field(default_factory=list)
    settings: list[PendingCorrection] = field(default_factory=list)
    new_investments: list[PendingCorrection] = field(default_factory=list)
    gp_reopenings: list[PendingCorrection] = field(default_factory=list)
    change_sets: list[ChangeSet] = field(default_factory=list)
    gp_packages: list[GpPackage] = field(default_factory=list)
    votes: list[tuple[Proposal, Meeting]] = field(default_factory=list)
    meetings: list[tuple[Meeting, int]] = field(default_factory=list)  # (meeting, proposals on its agenda)
    to_schedule: list[Proposal] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


USERNAME, TODAY = bindparam("username", type_=String), bindparam("today", type_=Date)


def drafts_waiting(model, day, username=USERNAME):
    """Drafts of `model` (cash flows, valuations: not approved, not void) entered by someone
    else than `username` (None: everyone's, the drafts page), by `day` (the record's date)."""
    query = select(model).where(model.approved_at.is_(None), model.voided_at.is_(None))
    if username is not None:
        query = query.where(or_(model.entered_by.is_(None), model.entered_by != username))
    return query.order_by(day, model.id)


def voids_waiting(model, username=USERNAME):
    """Voids of `model`'s records (cash flows, valuations) someone else than `username` asked
    for (None: everyone's), not yet approved or declined."""
    query = select(model).where(model.void_requested_at.is_not(None), model.voided_at.is_(None))
    if username is not None:
        query = query.where(or_(model.void_requested_by.is_(None), model.void_requested_by != username))
    return query.order_by(model.void_requested_at, model.id)


def corrections_waiting(username=USERNAME, entity: str | tuple[str, ...] = "investments"):
    """Corrections of investments' terms someone else asked for (or, by `entity`: `funds`,
    changes of funds' settings; `new_investments`, new investments; `gp_packages`, reopenings
    of accepted GP packages; a tuple, any of them:
    `corrections.RECORD_KINDS`, corrections of cash flows and valuations)."""
    which = PendingCorrection.entity.in_(entity) if isinstance(entity, tuple) else PendingCorrection.entity == entity
    return (select(PendingCorrection).where(which, PendingCorrection.asked_by != username)
            .order_by(PendingCorrection.asked_at, PendingCorrection.id))



def change_sets_waiting(username=USERNAME):
    return (select(ChangeSet).where(ChangeSet.status == "pending", ChangeSet.uploaded_by != username)
            .order_by(ChangeSet.uploaded_at, ChangeSet.id))


def gp_packages_waiting(username=USERNAME):
    """Submitted packages (to review), and reviewed ones someone else reviewed (to accept);
    never one the user submitted."""
    return (select(GpPackage).where(or_(GpPackage.status == "submitted",
                                        and_(GpPackage.status == "reviewed", GpPackage.reviewed_by != username)),
                                    or_(GpPackage.submitted_by.is_(None), GpPackage.submitted_by != username))
            .order_by(GpPackage.submitted_at, GpPackage.id))


def votes_waiting(username=USERNAME, today=TODAY):
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


def meetings_coming(today=TODAY):
    """(meeting, proposals on its agenda) for each meeting on or after today."""
    on_agenda = (select(func.count(Proposal.id)).where(Proposal.meeting_id == Meeting.id)
                 .correlate(Meeting).scalar_subquery())
    return select(Meeting, on_agenda).where(Meeting.date >= today).order_by(Meeting.date, Meeting.id)


def to_schedule():
    return select(Proposal).where(Proposal.status == "submitted").order_by(Proposal.submitted_at, Proposal.id)


# Each kind's list, made once (the user and the day are bound parameters): (its name, who may
# see it, the statement). The home page asks for every visit.
KINDS: tuple[tuple[str, frozenset[str], Select], ...] = (
    ("flow_drafts", frozenset({"approve"}), drafts_waiting(CashFlow, CashFlow.date)),
    ("drafts", frozenset({"approve"}), drafts_waiting(Valuation, Valuation.as_of)),
    ("flow_voids", frozenset({"approve"}), voids_waiting(CashFlow)),
    ("valuation_voids", frozenset({"approve"}), voids_waiting(Valuation)),
    ("record_corrections", frozenset({"approve"}), corrections_waiting(entity=RECORD_KINDS)),
    ("corrections", frozenset({"approve"}), corrections_waiting()),
    ("settings", frozenset({"approve"}), corrections_waiting(entity="funds")),
    ("new_investments", frozenset({"approve"}), corrections_waiting(entity="new_investments")),
    ("gp_reopenings", frozenset({"approve"}), corrections_waiting(entity="gp_packages")),
    ("change_sets", frozenset({"approve"}), change_sets_waiting()),
    ("gp_packages", frozenset({"approve"}), gp_packages_waiting()),
    ("votes", frozenset({"vote"}), votes_waiting()),
    ("meetings", frozenset({"vote", "configure", "schedule"}), meetings_coming()),
    ("to_schedule", frozenset({"configure", "schedule"}), to_schedule()),
)
_LISTS = {name: stmt.limit(SHOWN) for name, _who, stmt in KINDS}
_COUNTS: dict[tuple[str, ...], Select] = {}  # by the kinds a role sees: one statement counting them all


def _counting(names: tuple[str, ...]) -> Select:
    stmt = _COUNTS.get(names)
    if stmt is None:
        lists = {name: listed for name, _who, listed in KINDS}
        stmt = _COUNTS[names] = select(*(
            select(func.count()).select_from(
                lists[name].with_only_columns(literal(1), maintain_column_froms=True).order_by(None).subquery())
            .scalar_subquery().label(name)
            for name in names))
    return stmt


def todos(session: Session, username: str, permissions: frozenset[str] | set[str], today: dt.date) -> Todos:
    """What waits for `username`, who may do `permissions` (web.auth.PERMISSIONS of their role).

    Every kind the role sees is counted in one query; only the kinds with something waiting
    are then read (their first SHOWN rows): most visits find nothing and cost one query."""
    todo = Todos()
    names = tuple(name for name, who, _stmt in KINDS if who & set(permissions))
    if not names:
        return todo
    params = {"username": username, "today": today}
    counts = session.execute(_counting(names), params).one()
    for name, count in zip(names, counts):
        todo.counts[name] = int(count or 0)
        if not count:
            continue
        rows = session.execute(_LISTS[name], params).all()
        if name == "votes":
            todo.votes = [(p, m) for p, m in rows]
        elif name == "meetings":
            todo.meetings = [(m, int(n or 0)) for m, n in rows]
        else:
            setattr(todo, name, [row[0] for row in rows])
    return todo
