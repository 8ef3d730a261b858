"""The fund book's tables, in plain SQLAlchemy 2 (no Flask, no portfolio).

Natural codes (fund code, company code, investment id) are the primary keys: they are
what the interchange workbook and the users speak, and they are never renamed.
Financial records (cash flows, valuations) are never deleted: a wrong one is voided
with a reason and stays in the history.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from codelists import FLOW_TYPES, FUND_KINDS, INSTRUMENTS, MODES, ROLES, SECTORS, STAGES, VALUATION_METHODS  # noqa: F401  (re-exported)
from models.types import IndexLevel as IndexLevelType
from models.types import Money, Percent

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


Code: String = String(64)



def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Fund(Base):
    __tablename__ = "funds"
    __table_args__ = (
        CheckConstraint(_in("kind", FUND_KINDS), name="kind"),
        CheckConstraint("size_cny > 0", name="size_positive"),
        CheckConstraint("currency = 'CNY'", name="currency"),
    )

    code: Mapped[str] = mapped_column(Code, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("funds.code"))
    size_cny: Mapped[Decimal] = mapped_column(Money())
    vintage_year: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    # Per-fund rule limits and settings that differ from the defaults by fund kind
    # (rules.md); edited by an admin, audited.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SubFund(Base):
    __tablename__ = "sub_funds"
    __table_args__ = (
        CheckConstraint(_in("sector", SECTORS), name="sector"),
        CheckConstraint("size_cny > 0", name="size_positive"),
    )

    code: Mapped[str] = mapped_column(Code, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    manager: Mapped[str] = mapped_column(String(200))
    size_cny: Mapped[Decimal] = mapped_column(Money())
    vintage_year: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6))
    term_years: Mapped[int | None] = mapped_column(Integer)


class Company(Base):
    __tablename__ = "companies"
    __table_args__ = (CheckConstraint(_in("sector", SECTORS), name="sector"),)

    code: Mapped[str] = mapped_column(Code, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    sector: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6))
    founded: Mapped[dt.date | None] = mapped_column(Date)


class Investment(Base):
    """One holding of one fund: a sub-fund commitment, a direct or a co-investment.

    The target is a sub-fund for mode `sub_fund` and a company otherwise; it is kept in
    two foreign keys so that the database checks it.
    """

    __tablename__ = "investments"
    __table_args__ = (
        CheckConstraint(_in("mode", MODES), name="mode"),
        CheckConstraint(
            "(mode = 'sub_fund' AND sub_fund_code IS NOT NULL AND company_code IS NULL)"
            " OR (mode <> 'sub_fund' AND company_code IS NOT NULL AND sub_fund_code IS NULL)",
            name="target",
        ),
        CheckConstraint(
            "(mode = 'co_invest' AND alongside_code IS NOT NULL)"
            " OR (mode <> 'co_invest' AND alongside_code IS NULL)",
            name="alongside",
        ),
        CheckConstraint("commitment_cny >= 0", name="commitment_nonnegative"),
        CheckConstraint("ownership_pct IS NULL OR (ownership_pct >= 0 AND ownership_pct <= 10000000000)",
                        name="ownership_range"),  # stored ×10^8: 0–100 %
        CheckConstraint("instrument IS NULL OR " + _in("instrument", INSTRUMENTS), name="instrument"),
        CheckConstraint("stage IS NULL OR " + _in("stage", STAGES), name="stage"),
        CheckConstraint("headcount IS NULL OR headcount >= 0", name="headcount_nonnegative"),
        CheckConstraint("revenue_cny IS NULL OR revenue_cny >= 0", name="revenue_nonnegative"),
        CheckConstraint("total_assets_cny IS NULL OR total_assets_cny >= 0", name="assets_nonnegative"),
        CheckConstraint("lead_amount_cny IS NULL OR lead_amount_cny >= 0", name="lead_nonnegative"),
    )

    id: Mapped[str] = mapped_column(Code, primary_key=True)
    fund_code: Mapped[str] = mapped_column(ForeignKey("funds.code"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    sub_fund_code: Mapped[str | None] = mapped_column(ForeignKey("sub_funds.code"), index=True)
    company_code: Mapped[str | None] = mapped_column(ForeignKey("companies.code"), index=True)
    alongside_code: Mapped[str | None] = mapped_column(ForeignKey("sub_funds.code"))
    date: Mapped[dt.date] = mapped_column(Date)
    commitment_cny: Mapped[Decimal] = mapped_column(Money())
    round: Mapped[str | None] = mapped_column(String(64))
    ownership_pct: Mapped[Decimal | None] = mapped_column(Percent())
    instrument: Mapped[str | None] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(16))
    headcount: Mapped[int | None] = mapped_column(Integer)
    revenue_cny: Mapped[Decimal | None] = mapped_column(Money())
    total_assets_cny: Mapped[Decimal | None] = mapped_column(Money())
    lead_amount_cny: Mapped[Decimal | None] = mapped_column(Money())

    @property
    def target_code(self) -> str | None:
        return self.sub_fund_code if self.mode == "sub_fund" else self.company_code


class CashFlow(Base):
    """A contribution (出资) or distribution (分配) of one holding.

    As a valuation: entered on screen (or by a committee's funding) it is a draft until a
    second person approves it (maker-checker); imported ones count as approved by the
    importing user (a staged upload's by its applier). Only approved flows that are not void
    count in figures; a draft still holds its `ref` and counts against a proposal's amount.
    Voiding an approved flow is asked for by one person and approved by another; a draft is
    withdrawn (voided) at once, as it never counted.
    """

    __tablename__ = "cash_flows"
    __table_args__ = (
        CheckConstraint(_in("type", FLOW_TYPES), name="type"),
        CheckConstraint("amount_cny > 0", name="amount_positive"),
        Index("ix_cash_flows_investment_date", "investment_id", "date"),
        # A reference is unique within an investment among the records in force.
        Index("uq_cash_flows_investment_ref", "investment_id", "ref", unique=True,
              sqlite_where=text("ref IS NOT NULL AND voided_at IS NULL"),
              postgresql_where=text("ref IS NOT NULL AND voided_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investment_id: Mapped[str] = mapped_column(ForeignKey("investments.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(16))
    amount_cny: Mapped[Decimal] = mapped_column(Money())
    note: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(64))
    entered_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # a void asked for (who, when; the reason in void_reason): in force once another approves it
    void_requested_by: Mapped[str | None] = mapped_column(String(64))
    void_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    voided_by: Mapped[str | None] = mapped_column(String(64))
    void_reason: Mapped[str | None] = mapped_column(Text)


class Valuation(Base):
    """A fair value of one holding on one date.

    Entered on screen it is a draft until a second person approves it (maker-checker);
    imported ones count as approved by the importing user. Only approved valuations
    that are not void count in figures. Voiding an approved one is asked for by one person
    and approved by another (`records.void_valuation`, `approve_void`), as for a cash flow.
    """

    __tablename__ = "valuations"
    __table_args__ = (
        CheckConstraint(_in("method", VALUATION_METHODS), name="method"),
        CheckConstraint("fair_value_cny >= 0", name="fair_value_nonnegative"),
        Index("uq_valuations_investment_as_of", "investment_id", "as_of", unique=True,
              sqlite_where=text("voided_at IS NULL"),
              postgresql_where=text("voided_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investment_id: Mapped[str] = mapped_column(ForeignKey("investments.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    fair_value_cny: Mapped[Decimal] = mapped_column(Money())
    method: Mapped[str] = mapped_column(String(16))
    entered_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # a void asked for (who, when; the reason in void_reason): in force once another approves it
    void_requested_by: Mapped[str | None] = mapped_column(String(64))
    void_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    voided_by: Mapped[str | None] = mapped_column(String(64))
    void_reason: Mapped[str | None] = mapped_column(Text)


class SubFundHolding(Base):
    """One line of a sub-fund manager's holdings report."""

    __tablename__ = "sub_fund_holdings"
    __table_args__ = (
        UniqueConstraint("sub_fund_code", "as_of", "company_code"),
        CheckConstraint("cost_cny >= 0", name="cost_nonnegative"),
        CheckConstraint("fair_value_cny >= 0", name="fair_value_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sub_fund_code: Mapped[str] = mapped_column(ForeignKey("sub_funds.code"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    company_code: Mapped[str] = mapped_column(ForeignKey("companies.code"))
    cost_cny: Mapped[Decimal] = mapped_column(Money())
    fair_value_cny: Mapped[Decimal] = mapped_column(Money())


class IndexLevel(Base):
    """A public-market index series (e.g. CSI 300) for PME, one row per date."""

    __tablename__ = "index_levels"
    __table_args__ = (CheckConstraint("level > 0", name="level_positive"),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    level: Mapped[Decimal] = mapped_column(IndexLevelType())


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # part of every session's identity: changed on logout and on a password or role change,
    # which ends every session (and remember-me cookie) the user had, on every worker
    session_token: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A token for another system of the city to read reports through the API: one fund's
    (or all), until it expires or is revoked. Only its SHA-256 is kept; it is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    fund_code: Mapped[str | None] = mapped_column(String(64))  # None: every fund
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class LoginAttempt(Base):
    """One try at logging in, kept for throttling (per account and per address) and review."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(default=False)


class PendingCorrection(Base):
    """A correction of an investment's terms asked for and not yet decided (maker-checker):
    the investment stays as it is until another person approves it. `fields` are the
    corrected terms as the form gave them, `version` the investment as shown when asked (a
    change since makes the correction stale). Decided (applied or declined), the row goes:
    the audit trail keeps the request and the decision."""

    __tablename__ = "pending_corrections"
    __table_args__ = (UniqueConstraint("entity", "entity_key"),)  # one per record at a time

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))  # table name: investments
    entity_key: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(Base):
    """Who changed what, when: every write to the book leaves one of these."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_key", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # create, update, void, approve, import, ...
    entity: Mapped[str] = mapped_column(String(64))  # table name
    entity_key: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    # a reason the application wrote (not a person): its key and arguments (portfolio.messages
    # as_json), so it is shown in the reader's language; `reason` keeps its Chinese text
    reason_said: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    batch: Mapped[str | None] = mapped_column(String(64), index=True)  # one import run


from models.committee import *  # noqa: E402,F401,F403  (the committee tables)
from models.forecast import *  # noqa: E402,F401,F403  (forecast parameter overrides)
from models.gp import *  # noqa: E402,F401,F403  (the GP portal tables)
from models.idempotency import *  # noqa: E402,F401,F403  (form submissions, applied once)
from models.jobs import *  # noqa: E402,F401,F403  (jobs and the shared report cache)
from models.staging import *  # noqa: E402,F401,F403  (staged imports)
