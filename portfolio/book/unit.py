"""One commit per request: the use cases' single way to end their unit of work.

A public use case composes uncommitted steps (`add_…(session, …)`: add, flush, audit)
and ends with `commit(session)`, once. A database failure at that point (a unique key
another request took first, a constraint, a lost connection) is rolled back and comes
back as a domain error the form can show, never as a server error.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from portfolio.errors import FieldErrors
from portfolio.messages import Message

CONFLICT = Message("conflict")


class CommitFailed(FieldErrors):
    """The database refused the unit of work; nothing of it was saved."""


def claim(session: Session, record: Any, *conditions: Any, **values: Any) -> bool:
    """Change `record` only if `conditions` still hold in the database, in one UPDATE.

    Two requests that both read a draft and both approve it (or decide a proposal twice)
    race: the database serialises their UPDATEs, and the second finds its condition gone
    (rowcount 0) and is refused, never overwriting the first. The record is refreshed."""
    model = type(record)
    result = session.execute(update(model).where(model.id == record.id, *conditions).values(**values)
                             .execution_options(synchronize_session=False))
    session.refresh(record)
    return getattr(result, "rowcount", 0) == 1


def serialise(session: Session, record: Any) -> None:
    """Take `record`'s row for the rest of this transaction: a second request doing the same
    waits here until the first commits, and then reads what the first wrote (a no-op UPDATE:
    PostgreSQL's row lock, SQLite's write lock). For checks of a total, such as the funding
    of a proposal, that a read alone cannot make safe."""
    model = type(record)
    session.execute(update(model).where(model.id == record.id).values(id=model.id)
                    .execution_options(synchronize_session=False))


def flush(session: Session) -> None:
    """Flush a step's rows, with a refusal of the database (another request took the same
    unique key a moment ago) turned into the same form error as at commit."""
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise CommitFailed([("", CONFLICT)]) from error


def commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise CommitFailed([("", CONFLICT)]) from error
    except SQLAlchemyError as error:
        session.rollback()
        raise CommitFailed([("", Message("db_unavailable"))]) from error
