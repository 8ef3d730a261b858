"""The GP portal's tables: which sub-funds a GP user speaks for, and the quarterly packages
those managers submit (portfolio/gp). A package's figures are kept as submitted, in one JSON
document whose amounts are integer fen (exact, like the Money columns); the book takes them
over only when a fund manager accepts the package."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from codelists import GP_PACKAGE_STATUSES
from models import Base, _in, utcnow

__all__ = ["GP_PACKAGE_STATUSES", "GpSubFund", "GpPackage", "GpPackageEvent"]


class GpSubFund(Base):
    """A GP user bound to one sub-fund it manages (one row per sub-fund)."""

    __tablename__ = "gp_sub_funds"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    sub_fund_code: Mapped[str] = mapped_column(ForeignKey("sub_funds.code"), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class GpPackage(Base):
    """One quarterly package of one fund's interest (an investment of mode sub_fund)."""

    __tablename__ = "gp_packages"
    __table_args__ = (
        UniqueConstraint("investment_id", "quarter_end"),
        CheckConstraint(_in("status", GP_PACKAGE_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investment_id: Mapped[str] = mapped_column(ForeignKey("investments.id"), index=True)
    sub_fund_code: Mapped[str] = mapped_column(ForeignKey("sub_funds.code"), index=True)
    quarter_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # the package as entered: capital account, holdings, notices, narrative, projection
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the last tie-out: one entry per check (portfolio/figures/tieout.py)
    checks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    blocking: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    valuation_id: Mapped[int | None] = mapped_column(ForeignKey("valuations.id"))


class GpPackageEvent(Base):
    """One step of a package's history: saved, uploaded, submitted, returned (with the
    comments), reviewed, accepted."""

    __tablename__ = "gp_package_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("gp_packages.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    blocking: Mapped[int] = mapped_column(Integer, default=0)
