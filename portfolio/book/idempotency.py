"""A form rendered once is applied at most once.

Every form carries a random key (web/forms.py BaseForm.idempotency_key). Before the use case
runs, the caller `expect`s the key on the session; when the use case commits, the key is
written in the same transaction as the write, with the first record the write audited (every
write is audited, so that names its result). The key is the table's primary key, so of two
requests that carry it at once the database lets one commit and refuses the other (PostgreSQL
makes the second wait on the key, SQLite on its write lock); the loser rolls back entirely
and answers with the winner's result (`first_result`), as does any later replay. A form whose
use case refused records no key, so the corrected form can be sent again.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import AuditEntry, Base, FormSubmission

_KEY = "idempotency"
_AUDITS = "idempotency_audits"
MAX_KEY = 64


def _clean(key: Any) -> str | None:
    key = str(key or "").strip()
    return key if 16 <= len(key) <= MAX_KEY else None


def expect(session: Session, key: Any, username: str) -> None:
    """The next commit on this session applies the form with `key` (no key: nothing to do)."""
    key = _clean(key)
    if key is not None:
        session.info[_KEY] = (key, username)
        session.info[_AUDITS] = []


def forget(session: Session) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_AUDITS, None)


def first_result(session: Session, key: Any, username: str) -> FormSubmission | None:
    """The submission this key already applied, if any (only the user's own)."""
    key = _clean(key)
    if key is None:
        return None
    found = session.execute(select(FormSubmission).where(FormSubmission.key == key)).scalar_one_or_none()
    if found is not None and found.username != username:
        session.expunge(found)  # another's key: not an answer (and its commit will be refused)
        return None
    return found


def record_of(session: Session, submission: FormSubmission) -> Any:
    """The record the first application wrote (its first audited record), or None."""
    if not submission.entity or submission.entity_key is None:
        return None
    for mapper in Base.registry.mappers:
        if getattr(mapper.local_table, "name", None) == submission.entity:
            column = mapper.primary_key[0]
            value: Any = submission.entity_key
            if column.type.python_type is int:
                if not str(value).lstrip("-").isdigit():  # kept by another key (a user by name): not found here
                    return None
                value = int(value)
            return session.get(mapper.class_, value)
    return None


@event.listens_for(Session, "before_flush")
def _collect_audits(session: Session, _context, _instances) -> None:
    if _KEY in session.info:
        session.info[_AUDITS].extend(o for o in session.new if isinstance(o, AuditEntry))


@event.listens_for(Session, "before_commit")
def _write_key(session: Session) -> None:
    if _KEY not in session.info:
        return
    session.flush()  # collects the audits still pending
    expected = session.info.pop(_KEY)
    audits = sorted(session.info.pop(_AUDITS, []), key=lambda a: a.id or 0)
    if not audits:
        return  # nothing was written: nothing to apply once
    key, username = expected
    first = audits[0]
    session.add(FormSubmission(key=key, username=username, entity=first.entity, entity_key=first.entity_key))
    session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _drop_key(session: Session, _previous) -> None:
    forget(session)
