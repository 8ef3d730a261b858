"""Stale-write protection: has a record been written since the version a user saw?

The mark a user saw is the latest audit entry's id (`write_mark`): every write to the
book leaves one, so "changed since mark V" is "has an audit entry after V". (The report
cache's `cache.book_version` is text and moves only with the book's tables; a mark here
must be a number to compare.) An export
carries V (its `_meta` sheet); a form can carry it too (a hidden field filled when the
form is drawn). The answer names who wrote the record and when, for the user to decide.

A record's entries name it by its id (forms: cash flows, valuations) or by its natural key
(imports, master records): pass every name it goes by.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEntry
from portfolio.book.audit import written_by
from portfolio.errors import FieldErrors
from portfolio.messages import Message

# every action that writes a record of the book, as the audit trail names it
WRITES = ("create", "update", "void", "approve", "import", "import_update", "correct")
CHUNK = 500  # keys per IN list


def write_mark(session: Session) -> int:
    """The latest audit entry's id (0 for none): what an export or a form was drawn at."""
    return int(session.execute(select(func.max(AuditEntry.id))).scalar() or 0)


def latest_writes(session: Session, entity: str, keys: Iterable[str], since: int) -> dict[str, AuditEntry]:
    """{key: the latest audit entry after `since` that wrote the record of that name}."""
    keys = list(dict.fromkeys(keys))
    latest: dict[str, AuditEntry] = {}
    for start in range(0, len(keys), CHUNK):
        entries = session.execute(select(AuditEntry).where(
            AuditEntry.id > since, AuditEntry.entity == entity, AuditEntry.action.in_(WRITES),
            AuditEntry.entity_key.in_(keys[start:start + CHUNK])).order_by(AuditEntry.id)).scalars()
        for entry in entries:
            latest[entry.entity_key] = entry
    return latest


def refuse_stale(session: Session, entity: str, keys: Iterable[str], since: int | None) -> None:
    """For a form drawn at book version `since`: FieldErrors when its record was written after."""
    if since is None:
        return
    written = latest_writes(session, entity, keys, since)
    if written:
        entry = max(written.values(), key=lambda e: e.id)
        raise FieldErrors([("", Message("stale_form", who=written_by(session, entry)))])


__all__ = ["WRITES", "latest_writes", "refuse_stale", "write_mark"]
