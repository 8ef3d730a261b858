"""A small cache of computed fund reports, so that the dashboard does not recompute the
figures on every request while the book has not changed.

The key is (fund, as_of, book version); the book version is the latest audit entry's id,
which moves on every write because every write is audited. Each process (gunicorn
worker) keeps its own few entries; a stale entry is never served because a write
changes the key.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEntry

MAX_ENTRIES = 32

_lock = threading.Lock()
_cache: OrderedDict[tuple, dict] = OrderedDict()
_books: OrderedDict[tuple, object] = OrderedDict()  # whole books are large: keep only the latest two
MAX_BOOKS = 2


def book_version(session: Session) -> int:
    """The latest audit entry's id (0 for an empty book)."""
    return session.execute(select(func.max(AuditEntry.id))).scalar() or 0


def _version_key(session: Session) -> tuple:
    # the latest entry's id, and its time: a database emptied and refilled (tests, a
    # restore) can reuse an id, never with the same time
    row = session.execute(select(AuditEntry.id, AuditEntry.at).order_by(AuditEntry.id.desc()).limit(1)).first()
    return (0, None) if row is None else (row.id, row.at)


def _remember(key: tuple, compute, cache: OrderedDict = _cache, size: int = MAX_ENTRIES):
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = compute()  # outside the lock: two threads may compute the same entry once each
    with _lock:
        cache[key] = value
        while len(cache) > size:
            cache.popitem(last=False)
    return value


def _book(session: Session, version: tuple):
    from portfolio.book.reading import load_book

    return _remember(version, lambda: load_book(session), _books, MAX_BOOKS)


def book(session: Session):
    """The book in force (portfolio.figures.bookdata.load_book), cached by book version."""
    return _book(session, _version_key(session))


def fund_report(session: Session, fund_code: str, as_of: dt.date) -> dict:
    """`portfolio.figures.report.compute_report` for the fund and date, cached by book version.
    Raises portfolio.figures.engine.UnknownFund for a fund not in the book."""
    from portfolio.figures.report import compute_report

    version = _version_key(session)
    return _remember(("report", fund_code, as_of, version),
                     lambda: compute_report(_book(session, version), fund_code, as_of))


def fund_indicators(session: Session, fund_code: str, as_of: dt.date, checks: list | None = None) -> dict:
    """绩效评价 indicators (portfolio.figures.indicators), cached the same way."""
    from portfolio.figures.indicators import performance_indicators

    version = _version_key(session)
    return _remember(("indicators", fund_code, as_of, version),
                     lambda: performance_indicators(_book(session, version), fund_code, as_of, checks=checks))


def clear() -> None:
    with _lock:
        _cache.clear()
        _books.clear()


def memo(session: Session, key: tuple, compute):
    """Anything derived from the book (a chart, a list) cached under `key` + the book version."""
    return _remember(("memo", *key, _version_key(session)), compute)
