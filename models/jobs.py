"""Long work done off the request (jobs), and the reports computed once for every worker
(the shared report cache)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import AuditEntry, Base, utcnow

__all__ = ["JOB_STATES", "CachedReport", "Job"]

JOB_STATES = ("queued", "running", "done", "failed")


class Job(Base):
    """One piece of long work: who asked for it, what, how far it got, and what came of it.

    The row is the job's truth; the queue (Huey) only carries its id. A job is finished
    (acknowledged) only when this row says done or failed: a job whose worker died is
    found by its stale heartbeat and queued again."""

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # quarterly_report, …
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # kind + params + book version: the same work on the same book is done once
    key: Mapped[str] = mapped_column(String(64), index=True)
    started_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    unit: Mapped[str] = mapped_column(String(32), default="")  # what is counted: a vocabulary code
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class CachedReport(Base):
    """A computed report (JSON, or a quarterly report's html/xlsx/pdf), kept for the book
    version it was computed on: every worker and host reads the same entry, and a write
    to the book moves the version, so a stale entry is never looked up again."""

    __tablename__ = "report_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of what, fund, date, version
    what: Mapped[str] = mapped_column(String(32))
    fund_code: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))  # an as-of date or a quarter
    version: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# The book version is the latest audit entry of a write to the book: found through this
# index without scanning the log (users' logins and locks are audited too, not the book).
Index("ix_audit_log_entity_id", AuditEntry.entity, AuditEntry.id)
