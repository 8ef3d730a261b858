"""Forms applied at most once: the idempotency key each rendered form carries, recorded in
the same transaction as the write it caused (portfolio/book/idempotency.py)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from models import Base, utcnow

__all__ = ["FormSubmission"]


class FormSubmission(Base):
    """One form applied: its key (the primary key, so a second commit of it fails in the
    database, however close the two requests), who sent it and what it wrote first."""

    __tablename__ = "form_submissions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    entity: Mapped[str | None] = mapped_column(String(64))  # the table of the first audited write
    entity_key: Mapped[str | None] = mapped_column(String(200))
