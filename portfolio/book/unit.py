"""One commit per request: the use cases' single way to end their unit of work.

A public use case composes uncommitted steps (`add_…(session, …)`: add, flush, audit)
and ends with `commit(session)`, once. A database failure at that point (a unique key
another request took first, a constraint, a lost connection) is rolled back and comes
back as a domain error the form can show, never as a server error.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from models import CashFlow, Company, Fund, Investment, SubFund, SubFundHolding, Valuation
from portfolio.errors import FieldErrors
from portfolio.messages import Message

CONFLICT = Message("conflict")
BUSY = Message("book_busy")
# session.info: how long (milliseconds) a writer waits for the book's import lock before it is
# refused (BookBusy); set by the web for a request's session (its answer must come well within
# the server's timeout); unset (jobs, commands), a writer waits for the import to end
LOCK_WAIT = "book_lock_wait_ms"


class CommitFailed(FieldErrors):
    """The database refused the unit of work; nothing of it was saved."""


class BookBusy(CommitFailed):
    """Another transaction held the book (an import, a change set being applied) for longer
    than this one would wait; nothing of it was saved, and sent again later it is."""

    def __init__(self) -> None:
        super().__init__([("", BUSY)])


def is_busy(error: BaseException) -> bool:
    """The database gave up waiting for a lock: SQLite's busy timeout ("database is locked")
    or PostgreSQL's lock_timeout (SQLSTATE 55P03), as against any other failure."""
    orig = getattr(error, "orig", error)
    if str(getattr(orig, "sqlstate", "") or "") == "55P03":
        return True
    return str(getattr(orig, "sqlite_errorname", "") or "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def _refused(session: Session, error: SQLAlchemyError) -> CommitFailed:
    """The form's error for a database refusal, the transaction rolled back."""
    session.rollback()
    if isinstance(error, IntegrityError):
        return CommitFailed([("", CONFLICT)])
    if isinstance(error, OperationalError) and is_busy(error):
        return BookBusy()
    return CommitFailed([("", Message("db_unavailable"))])


def claim(session: Session, record: Any, *conditions: Any, **values: Any) -> bool:
    """Change `record` only if `conditions` still hold in the database, in one UPDATE.

    Two requests that both read a draft and both approve it (or decide a proposal twice)
    race: the database serialises their UPDATEs, and the second finds its condition gone
    (rowcount 0) and is refused, never overwriting the first. The record's written fields are
    read back (only those: a change set's stored preview runs to tens of megabytes)."""
    model = type(record)
    result = session.execute(update(model).where(model.id == record.id, *conditions).values(**values)
                             .execution_options(synchronize_session=False))
    session.refresh(record, attribute_names=list(values))
    return getattr(result, "rowcount", 0) == 1


def serialise(session: Session, record: Any) -> None:
    """Take `record`'s row for the rest of this transaction: a second request doing the same
    waits here until the first commits, and then reads what the first wrote (a no-op UPDATE:
    PostgreSQL's row lock, SQLite's write lock). For checks of a total, such as the funding
    of a proposal, that a read alone cannot make safe."""
    model = type(record)
    key = inspect(model).primary_key[0]  # id, or a code (a fund's)
    session.execute(update(model).where(key == getattr(record, key.key)).values({key.key: key})
                    .execution_options(synchronize_session=False))


def take(session: Session, record: Any) -> Any:
    """Take `record`'s row for the rest of the transaction (serialise) and read it again: a
    request that judges a record's state and then writes waits here for another doing the
    same to the same record, and judges the state that one left."""
    serialise(session, record)
    session.refresh(record)
    return record


def flush(session: Session) -> None:
    """Flush a step's rows, with a refusal of the database (another request took the same
    unique key a moment ago, the book held by an import longer than a request waits) turned
    into the same form error as at commit."""
    try:
        session.flush()
    except (IntegrityError, OperationalError) as error:
        raise _refused(session, error) from error


def commit(session: Session) -> None:
    try:
        session.commit()
    except SQLAlchemyError as error:
        raise _refused(session, error) from error


# -- imports read and write the book alone ------------------------------------------------------

IMPORT_LOCK = 0x66756E64  # "fund": the one advisory lock key of book imports (PostgreSQL)
# the tables an import writes (its sheets'): another writer of one of them waits while it runs
BOOK_TABLES = frozenset(model.__tablename__ for model in (Fund, SubFund, Company, Investment, CashFlow,
                                                          Valuation, SubFundHolding))
_SHARED = "import_lock_shared"  # session.info: the transaction that holds the lock shared


def serialise_imports(session: Session) -> None:
    """Take the book's import lock for the rest of the transaction, before reading the book.

    Two imports at once would each read the book, each find a ref-less flow missing and
    each insert it. With the lock the second waits, then reads the first one's rows and
    finds them unchanged. PostgreSQL: a transaction-scoped advisory lock, which every other
    writer of the book takes shared before its first row (`_book_written`); SQLite: the
    database write lock (BEGIN IMMEDIATE), which keeps every other writer out. BookBusy when
    the wait ran out (a request's, or SQLite's busy timeout), the transaction rolled back."""
    _locked(session, "SELECT pg_advisory_xact_lock(:key)", {"key": IMPORT_LOCK})


def serialise_key(session: Session, namespace: int, key: str) -> None:
    """Take a lock named by (namespace, key) for the rest of the transaction, where there is
    no row to take (unit.serialise): the tries of a login from one address, say. PostgreSQL:
    a transaction-scoped advisory lock on the key's hash (two keys that share a hash wait for
    each other, which costs a moment, never a wrong answer); SQLite: the database write lock.
    BookBusy as serialise_imports."""
    _locked(session, "SELECT pg_advisory_xact_lock(:namespace, hashtext(:key))", {"namespace": namespace, "key": key})


def _locked(session: Session, advisory: str, params: dict[str, Any]) -> None:
    """PostgreSQL: the advisory lock `advisory` takes, a request's wait bounded; SQLite: the
    database write lock. A wait that ran out: BookBusy, the transaction rolled back."""
    connection = session.connection()
    try:
        if connection.dialect.name == "postgresql":
            _bounded(session, connection)
            connection.execute(text(advisory), params)
        elif connection.dialect.name == "sqlite":
            raw = connection.connection.dbapi_connection
            # pysqlite opens a transaction only at the first write: none is open after reads alone
            if raw is not None and not raw.in_transaction:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as error:  # another held it past this one's wait
        if not is_busy(error):
            raise
        session.rollback()
        raise BookBusy() from error


def _bounded(session: Session, connection: Any) -> None:
    """A request's wait for a lock, bounded for the rest of its transaction (SET LOCAL)."""
    if session.info.get(LOCK_WAIT):
        connection.execute(text("SELECT set_config('lock_timeout', :wait, true)"),
                           {"wait": f"{int(session.info[LOCK_WAIT])}ms"})


def _book_written(session: Session, tables: Iterable[str]) -> None:
    """Before a transaction's first write to the book's tables (PostgreSQL): the import lock,
    shared. An import (or a change set's apply) plans from the book as it reads it and writes
    whole rows; a form's write landing between its read and its write would be overwritten
    unseen (a valuation voided meanwhile, say). With the lock a form waits for a running
    import, and an import for the forms already writing; readers never wait. SQLite needs
    none: an import holds its write lock, which every writer waits for.

    A request's session waits at most session.info[LOCK_WAIT] ms, then the database refuses
    (BookBusy at flush or commit): an import of a million rows must not hold a form past the
    server's timeout. SQLite's wait is its busy timeout (the web sets it on the engine)."""
    if BOOK_TABLES.isdisjoint(tables):
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql" or session.info.get(_SHARED) is session.get_transaction():
        return
    _bounded(session, connection)
    connection.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": IMPORT_LOCK})
    session.info[_SHARED] = session.get_transaction()


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    _book_written(session, {getattr(type(record), "__tablename__", "")
                            for record in (*session.new, *session.dirty, *session.deleted)})


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    # an UPDATE or DELETE (or INSERT) by statement: a claim, a package's holdings replaced
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _book_written(state.session, {getattr(table, "name", "")})
