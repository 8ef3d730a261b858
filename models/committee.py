"""The investment committee's tables (投委会): proposals with their due-diligence files,
meetings, attendance, votes and recusals. Plain SQLAlchemy 2, no Flask.

A proposal's result is never stored as typed: it is counted from the votes
(portfolio/committee.py); only the decision type the votes allow is recorded, with the count
it was made on (a Resolution per proposal and meeting).
An approved proposal points at the investment it became (`investment_id`); the
investments table is left as it is.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models import INSTRUMENTS, MODES, STAGES, Base, Code, _in, utcnow
from models.types import Money, Percent

__all__ = ["PROPOSAL_STATUSES", "DECISIONS", "VOTE_CHOICES", "Proposal", "ProposalAttachment", "Meeting",
           "MeetingAttendance", "Vote", "Recusal", "Resolution"]

PROPOSAL_STATUSES = ("draft", "submitted", "scheduled", "decided", "withdrawn")
DECISIONS = ("approved", "approved_with_conditions", "rejected", "deferred")
VOTE_CHOICES = ("approve", "reject", "abstain")  # 同意 / 反对 / 弃权


class Proposal(Base):
    """One deal put to the committee (立项), with its memo."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(_in("status", PROPOSAL_STATUSES), name="status"),
        CheckConstraint("decision IS NULL OR " + _in("decision", DECISIONS), name="decision"),
        CheckConstraint(_in("mode", MODES), name="mode"),
        CheckConstraint("instrument IS NULL OR " + _in("instrument", INSTRUMENTS), name="instrument"),
        CheckConstraint("stage IS NULL OR " + _in("stage", STAGES), name="stage"),
        CheckConstraint("amount_cny > 0", name="amount_positive"),
        CheckConstraint("ownership_pct IS NULL OR (ownership_pct >= 0 AND ownership_pct <= 10000000000)",
                        name="ownership_range"),
        CheckConstraint("headcount IS NULL OR headcount >= 0", name="headcount_nonnegative"),
        CheckConstraint("revenue_cny IS NULL OR revenue_cny >= 0", name="revenue_nonnegative"),
        CheckConstraint("total_assets_cny IS NULL OR total_assets_cny >= 0", name="assets_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_code: Mapped[str] = mapped_column(ForeignKey("funds.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))
    # the target's code: an existing company / sub-fund, or the code the new one will get
    target_code: Mapped[str] = mapped_column(Code)
    # a target new to the book: its fields (name, credit_code, sector, region_code, founded;
    # or name, manager, size_cny, vintage_year, sector, region_code), created on approval
    new_target: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    alongside_code: Mapped[str | None] = mapped_column(ForeignKey("sub_funds.code"))
    planned_date: Mapped[dt.date] = mapped_column(Date)
    amount_cny: Mapped[Decimal] = mapped_column(Money())
    first_call_cny: Mapped[Decimal | None] = mapped_column(Money())
    pre_money_cny: Mapped[Decimal | None] = mapped_column(Money())
    post_money_cny: Mapped[Decimal | None] = mapped_column(Money())
    instrument: Mapped[str | None] = mapped_column(String(16))
    round: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(16))
    ownership_pct: Mapped[Decimal | None] = mapped_column(Percent())
    lead_name: Mapped[str | None] = mapped_column(String(200))
    lead_amount_cny: Mapped[Decimal | None] = mapped_column(Money())
    # the angel-eligibility inputs (rules.md angel_*): the company's headcount, revenue and
    # total assets at the deal (they become the investment's), and its founding date when
    # the book has none (a target new to the book keeps it in new_target too)
    founded: Mapped[dt.date | None] = mapped_column(Date)
    headcount: Mapped[int | None] = mapped_column(Integer)
    revenue_cny: Mapped[Decimal | None] = mapped_column(Money())
    total_assets_cny: Mapped[Decimal | None] = mapped_column(Money())
    # the memo
    thesis: Mapped[str | None] = mapped_column(Text)
    market: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(Text)
    risks: Mapped[str | None] = mapped_column(Text)
    valuation_method: Mapped[str | None] = mapped_column(Text)
    comparables: Mapped[str | None] = mapped_column(Text)
    bear_case: Mapped[str | None] = mapped_column(Text)
    bear_moic: Mapped[float | None] = mapped_column(Float)
    bear_irr: Mapped[float | None] = mapped_column(Float)
    base_case: Mapped[str | None] = mapped_column(Text)
    base_moic: Mapped[float | None] = mapped_column(Float)
    base_irr: Mapped[float | None] = mapped_column(Float)
    bull_case: Mapped[str | None] = mapped_column(Text)
    bull_moic: Mapped[float | None] = mapped_column(Float)
    bull_irr: Mapped[float | None] = mapped_column(Float)
    # the workflow
    status: Mapped[str] = mapped_column(String(16), default="draft")
    proposer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    decision: Mapped[str | None] = mapped_column(String(32))
    conditions: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    investment_id: Mapped[str | None] = mapped_column(ForeignKey("investments.id"), unique=True)


class ProposalAttachment(Base):
    """A due-diligence file: stored under a random name, never the user's path."""

    __tablename__ = "proposal_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # pdf, docx, xlsx, png, jpg
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Meeting(Base):
    """A committee meeting of one fund; its agenda is the proposals scheduled for it."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_code: Mapped[str] = mapped_column(ForeignKey("funds.code"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class MeetingAttendance(Base):
    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    member: Mapped[str] = mapped_column(ForeignKey("users.username"))
    present: Mapped[bool] = mapped_column(default=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Vote(Base):
    """One member's vote on a proposal at a meeting (a deferred proposal is voted on again
    at a later meeting: one vote per member per proposal per meeting)."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("meeting_id", "proposal_id", "member"),
        CheckConstraint(_in("choice", VOTE_CHOICES), name="choice"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    member: Mapped[str] = mapped_column(ForeignKey("users.username"))
    choice: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    cast_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Recusal(Base):
    """A member's declared conflict of interest: they do not vote on that proposal."""

    __tablename__ = "recusals"
    __table_args__ = (UniqueConstraint("proposal_id", "member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    member: Mapped[str] = mapped_column(ForeignKey("users.username"))
    reason: Mapped[str] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Resolution(Base):
    """A decision recorded on a proposal at a meeting (决议), kept for good: a deferred proposal
    decided again at a later meeting has one per meeting. The count it was made on is kept as
    it stood then (`tally`: voting.tally_as_json; `attendance`: member → present), so that a
    later change of the fund's quorum or pass ratio, or of who is a member, leaves it as it was.
    The proposal's own decision columns say where it stands now (its latest decision)."""

    __tablename__ = "resolutions"
    __table_args__ = (
        UniqueConstraint("proposal_id", "meeting_id"),
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    conditions: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    tally: Mapped[dict[str, Any]] = mapped_column(JSON)
    attendance: Mapped[dict[str, Any]] = mapped_column(JSON)
