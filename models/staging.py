"""Staged imports (导入变更集): an uploaded book waits here, checked and previewed, until a
second person with approval rights applies it to the book or rejects it.

The uploaded file itself is kept (`content`), so that the apply runs the very same import
on the very same bytes; `preview` is what the approver was shown (per sheet: new, changed
with before/after, unchanged), and the apply refuses when the book has moved since.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import Base, _in, utcnow

__all__ = ["CHANGE_SET_STATUSES", "ChangeSet"]

CHANGE_SET_STATUSES = ("pending", "applied", "rejected")


class ChangeSet(Base):
    """One uploaded book awaiting (or past) its approval."""

    __tablename__ = "change_sets"
    __table_args__ = (CheckConstraint(_in("status", CHANGE_SET_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    filename: Mapped[str] = mapped_column(String(255))
    # "xlsx": the workbook's bytes; "csv-zip": a folder of CSV files, zipped
    kind: Mapped[str] = mapped_column(String(16), default="xlsx")
    # the file and the preview are read when asked for, not with the row: a heavy book's are
    # megabytes (the preview of 150,000 rows, 54 MB of JSON)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # the book version the file was exported at (its _meta sheet), when it says so
    base_version: Mapped[int | None] = mapped_column(Integer)
    # the book version the preview was computed at
    staged_version: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    preview: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    conflicts: Mapped[list[Any]] = mapped_column(JSON)
    # the uploader's choice for each conflicting row: {row id: "mine" | "theirs"}
    choices: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    batch: Mapped[str | None] = mapped_column(String(64))  # the audit batch of the rows it applied
