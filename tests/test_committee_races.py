"""The committee's steps that judge a proposal's state and then write, two at the worst moment
(the first held inside its transaction: tests/races.py), on SQLite and PostgreSQL. Each step
takes the proposal's row (and a vote, a decision or the attendance the meeting's) before it
judges (workflow.take_proposal); before, every one of these pairs left a state the rules
forbid: found by a probe with these very interleavings."""
from __future__ import annotations

import threading

from sqlalchemy import select

from models import AuditEntry, MeetingAttendance, Proposal, ProposalAttachment, Recusal, Vote
from portfolio.committee import attachments, decisions, meetings, proposals
from portfolio.errors import FieldErrors
from tests.races import race, slowed
from tests.test_committee import DEAL, MEMBERS, propose, to_meeting, vote
from tests.test_committee import book as book  # noqa: F401  (the fixture)


def test_an_edit_of_a_draft_lands_in_the_proposal_submitted_meanwhile(app, db, book, client, monkeypatch):
    pid = propose(client)
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, proposals, "_proposal_values", started, after=True)  # the edit has seen 'draft'
    edited, submitted = race(app, db,
                             lambda s: proposals.update_proposal(s, pid, {**DEAL, "title": "改过的标题",
                                                                         "amount_cny": "40000000"}, username="mgr"),
                             lambda s: proposals.submit_proposal(s, pid, username="mgr"), started)
    p = db.session.get(Proposal, pid)
    acts = db.session.execute(select(AuditEntry.action).where(AuditEntry.entity == "proposals",
                                                              AuditEntry.entity_key == str(pid))
                              .order_by(AuditEntry.id)).scalars().all()
    # the edit either landed before the submission (and was submitted) or was refused
    edited_first = acts == ["create", "update", "submit"] and p.title == "改过的标题"
    refused = acts == ["create", "submit"] and isinstance(edited, FieldErrors) and p.title != "改过的标题"
    assert p.status == "submitted" and (edited_first or refused), f"audit {acts}, title {p.title}"


def _scheduled(client, book, db):
    pid = propose(client)
    mid = to_meeting(client, book, pid, MEMBERS[:6])  # 6 present: 4 approvals needed
    for m in MEMBERS[:3]:
        vote(client, m, pid, "approve")
    vote(client, MEMBERS[4], pid, "reject")
    db.session.remove()
    return pid, mid


def test_a_vote_cast_while_the_chair_decides_is_not_counted_but_kept(app, db, book, client, monkeypatch):
    """decide counts 3 of 6 (rejected allowed); m4's 同意 lands while it decides: the proposal
    is 'rejected' with 4 approvals of 6 on record at that meeting (which would have passed)."""
    pid, mid = _scheduled(client, book, db)
    started = threading.Event()
    slowed(monkeypatch, decisions, "tally", started, after=True)  # the count made, the chair held
    decided, voted = race(app, db,
                          lambda s: decisions.decide(s, pid, "rejected", None, username="chair"),
                          lambda s: meetings.cast_vote(s, pid, "approve", None, username=MEMBERS[3]), started)
    p = db.session.get(Proposal, pid)
    approvals = db.session.execute(select(Vote.member).where(Vote.proposal_id == pid, Vote.meeting_id == mid,
                                                             Vote.choice == "approve")).scalars().all()
    tally = meetings.tally(db.session, p)
    assert not (p.decision == "rejected" and tally.passes), \
        f"the recorded decision is one the votes on record do not allow: approvals {approvals}"


def test_a_vote_checked_before_the_decision_is_stored_after_it(app, db, book, client, monkeypatch):
    pid, mid = _scheduled(client, book, db)
    started = threading.Event()
    slowed(monkeypatch, meetings, "active_members", started, after=True)  # the vote has seen 'scheduled'
    voted, decided = race(app, db,
                          lambda s: meetings.cast_vote(s, pid, "approve", None, username=MEMBERS[3]),
                          lambda s: decisions.decide(s, pid, "rejected", None, username="chair"), started)
    p = db.session.get(Proposal, pid)
    late = db.session.execute(select(Vote).where(Vote.proposal_id == pid, Vote.member == MEMBERS[3])).scalars().all()
    assert not (p.status == "decided" and late), "a vote stored on a proposal already decided"


def test_a_recusal_and_a_vote_of_the_same_member_at_once_both_land(app, db, book, client, monkeypatch):
    pid, mid = _scheduled(client, book, db)
    started = threading.Event()
    slowed(monkeypatch, meetings, "snapshot", started, after=True)  # the recusal checked 'no vote'
    recused, voted = race(app, db,
                          lambda s: meetings.declare_recusal(s, pid, MEMBERS[3], "近亲属任职", username="chair"),
                          lambda s: meetings.cast_vote(s, pid, "approve", None, username=MEMBERS[3]), started)
    r = db.session.execute(select(Recusal).where(Recusal.proposal_id == pid, Recusal.member == MEMBERS[3])).scalars().all()
    v = db.session.execute(select(Vote).where(Vote.proposal_id == pid, Vote.member == MEMBERS[3])).scalars().all()
    assert not (r and v), "a member both recused and voted on the same proposal"


def test_a_member_marked_absent_while_voting_keeps_the_vote(app, db, book, client, monkeypatch):
    """record_attendance refuses to mark absent a member who has voted; here it checks, m4
    votes, and it marks m4 absent anyway."""
    pid, mid = _scheduled(client, book, db)
    started = threading.Event()
    slowed(monkeypatch, meetings, "attendance", started, after=True)  # attendance checked the votes
    present = [m for m in MEMBERS[:6] if m != MEMBERS[3]]
    marked, voted = race(app, db,
                         lambda s: meetings.record_attendance(s, mid, present, username="chair"),
                         lambda s: meetings.cast_vote(s, pid, "approve", None, username=MEMBERS[3]), started)
    row = db.session.execute(select(MeetingAttendance).where(MeetingAttendance.meeting_id == mid,
                                                             MeetingAttendance.member == MEMBERS[3])).scalar_one()
    v = db.session.execute(select(Vote).where(Vote.proposal_id == pid, Vote.member == MEMBERS[3])).scalars().all()
    assert not (v and not row.present), "a member who voted is recorded absent"


def test_an_attachment_checked_before_the_decision_lands_after_it(app, db, book, client, monkeypatch, tmp_path):
    pid, mid = _scheduled(client, book, db)
    started = threading.Event()
    slowed(monkeypatch, attachments, "_display_name", started, after=True)  # the attach saw 'scheduled'
    pdf = b"%PDF-1.4\n%hunt\n"
    attached, decided = race(app, db,
                             lambda s: attachments.add_attachment(s, pid, "late.pdf", pdf, folder=str(tmp_path),
                                                                  username="mgr"),
                             lambda s: decisions.decide(s, pid, "rejected", None, username="chair"), started)
    p = db.session.get(Proposal, pid)
    a = db.session.execute(select(ProposalAttachment).where(ProposalAttachment.proposal_id == pid)).scalars().all()
    acts = db.session.execute(select(AuditEntry.action).where(AuditEntry.action.in_(["attach", "decide"]))
                              .order_by(AuditEntry.id)).scalars().all()
    # the file came before the decision, or was refused for it
    assert p.status == "decided" and (acts == ["attach", "decide"] and len(a) == 1
                                      or acts == ["decide"] and not a and isinstance(attached, FieldErrors)), acts
