"""Computed reports kept while the book has not changed, at two levels.

The book version is the latest audit entry of a write *to the book* (the tables
`load_book` reads, and the funds' settings): every such write is audited in the same
transaction, so the version moves exactly when the book does, and never for a login,
a lock, a token or a vote.

- In this process: the whole book and report objects (dicts), a few of each, keyed by
  (…, book version). Fast, but each gunicorn worker has its own.
- Shared (`shared`): rendered reports (the JSON report, a quarterly report's html, xlsx,
  pdf), stored as bytes keyed by (what, fund, date or quarter, book version) in the
  database table `report_cache`, or in Redis when `configure(redis_url=…)` was called.
  Every worker and host sees the same entry, so a report is built once per book version;
  storing an entry removes the same report's entries of older versions.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import AuditEntry, CachedReport

log = logging.getLogger(__name__)

MAX_ENTRIES = 32

# the audit log's entities that are the book: what load_book reads (and fund settings)
BOOK_ENTITIES = ("funds", "funds.settings", "sub_funds", "companies", "investments", "cash_flows",
                 "valuations", "sub_fund_holdings", "index_levels")

_lock = threading.Lock()
_cache: OrderedDict[tuple, object] = OrderedDict()
_books: OrderedDict[tuple, object] = OrderedDict()  # whole books are large: keep only the latest two
MAX_BOOKS = 2

_redis_url: str | None = None
_redis_prefix = "fundbook:report:"
REDIS_TTL_SECONDS = 7 * 24 * 3600


def configure(*, redis_url: str | None = None, prefix: str | None = None) -> None:
    """Keep the shared entries in Redis (every host sees them) instead of the database."""
    global _redis_url, _redis_prefix
    _redis_url = redis_url or None
    if prefix:
        _redis_prefix = prefix


def _version_key(session: Session) -> tuple:
    # the latest book entry's id, and its time: a database emptied and refilled (tests, a
    # restore) can reuse an id, never with the same time
    row = session.execute(select(AuditEntry.id, AuditEntry.at).where(AuditEntry.entity.in_(BOOK_ENTITIES))
                          .order_by(AuditEntry.id.desc()).limit(1)).first()
    return (0, None) if row is None else (row.id, row.at)


_CODE_ROOTS = ("portfolio", "static", "templates", "translations", "web")
_CODE_SUFFIXES = {".py", ".html", ".po", ".css", ".js"}


@functools.cache
def code_version() -> str:
    """A fingerprint of the code and templates that compute and render reports: a stored
    report (or a finished job) built by an earlier release is not served by this one, though
    the book did not change. Computed once per process from the files' contents."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for top in _CODE_ROOTS:
        for path in sorted((root / top).rglob("*")):
            if path.suffix in _CODE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def book_version(session: Session) -> str:
    """The book version as text: '0' for an empty book, else '<audit id>.<its time>'; both
    followed by the code's fingerprint, so a new release computes its reports afresh."""
    number, at = _version_key(session)
    book = "0" if at is None else f"{number}.{at:%Y%m%d%H%M%S%f}"
    return f"{book}-{code_version()}"


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


_TREND_DATES = ("as_of", "since")
_TREND_AMOUNTS = ("commitment", "paid_in", "unfunded", "distributed", "nav", "calls", "distributions")


def _trend_bytes(points: list[dict]) -> bytes:
    return json.dumps(points, default=str, ensure_ascii=False).encode()  # Decimals and dates as text


def _trend_points(body: bytes) -> list[dict]:
    points = json.loads(body)
    for point in points:
        for key in _TREND_DATES:
            point[key] = None if point.get(key) is None else dt.date.fromisoformat(point[key])
        for key in _TREND_AMOUNTS:
            point[key] = None if point.get(key) is None else Decimal(point[key])
    return points


def fund_trend(session: Session, fund_code: str, as_of: dt.date) -> list[dict]:
    """`portfolio.figures.trend.trend`: the report's summary at each quarter end up to D,
    computed once per book version for every worker (kept in the shared cache, exactly:
    amounts as Decimal text, dates as ISO text) and kept in this process too."""
    from portfolio.figures.trend import trend

    version = _version_key(session)

    def compute() -> list[dict]:
        return _trend_points(shared(session, "trend", fund_code, as_of.isoformat(),
                                    lambda: _trend_bytes(trend(_book(session, version), fund_code, as_of))))

    return _remember(("trend", fund_code, as_of, version), compute)


def fund_alerts(session: Session, fund_code: str, as_of: dt.date) -> dict:
    """`portfolio.figures.alerts.fund_alerts` on the cached report, cached the same way."""
    from portfolio.figures.alerts import fund_alerts as alerts

    version = _version_key(session)
    return _remember(("alerts", fund_code, as_of, version),
                     lambda: alerts(_book(session, version), fund_report(session, fund_code, as_of), as_of))


def index_names(session: Session) -> list[str]:
    """The names of the book's index series (for PME), cached by book version."""
    from models import IndexLevel

    return memo(session, ("index_names",), lambda: list(session.execute(
        select(IndexLevel.name).distinct().order_by(IndexLevel.name)).scalars()))


def fund_pme(session: Session, fund_code: str, as_of: dt.date, index_name: str) -> dict:
    """The report's PME of the fund on D against the index series (portfolio.figures.report.pme_of),
    cached by book version (the index levels are part of the book's version)."""
    from portfolio.book.reading import load_index
    from portfolio.figures.report import UnknownIndex, pme_of
    from portfolio.messages import Message

    version = _version_key(session)

    def compute() -> dict:
        series = load_index(session, index_name)
        if series.empty:
            raise UnknownIndex(Message("index_no_levels", name=index_name))
        book = _book(session, version)
        return pme_of(book.with_(indexes={**(book.indexes or {}), index_name: series}), fund_code, as_of, index_name)

    return _remember(("pme", fund_code, as_of, index_name, version), compute)


def clear() -> None:
    """Forget this process's entries (the shared ones stay: they are keyed by version)."""
    with _lock:
        _cache.clear()
        _books.clear()


def memo(session: Session, key: tuple, compute):
    """Anything derived from the book (a chart, a list) cached under `key` + the book version."""
    return _remember(("memo", *key, _version_key(session)), compute)


# -- shared entries --------------------------------------------------------------------------

def shared_key(what: str, fund_code: str, period: str, version: str) -> str:
    return hashlib.sha256("\x1f".join((what, fund_code, period, version)).encode()).hexdigest()


def _redis():
    import redis

    return redis.Redis.from_url(str(_redis_url))


def shared_get(session: Session, what: str, fund_code: str, period: str, version: str | None = None) -> bytes | None:
    """The stored report for the book version in force (or `version`), or None."""
    key = shared_key(what, fund_code, period, version or book_version(session))
    if _redis_url:
        return _redis().get(_redis_prefix + key)
    return session.execute(select(CachedReport.body).where(CachedReport.key == key)).scalar()


def shared_put(session: Session, what: str, fund_code: str, period: str, version: str, body: bytes) -> None:
    """Store a report for a book version, and drop the same report's older versions. On a
    connection of its own, so that the caller's unit of work is neither committed nor
    spoiled; a failure to store is logged, never raised (the report was computed)."""
    key = shared_key(what, fund_code, period, version)
    if _redis_url:
        _redis().set(_redis_prefix + key, body, ex=REDIS_TTL_SECONDS)
        return
    try:
        with session.get_bind().engine.connect() as conn, conn.begin():
            conn.execute(delete(CachedReport).where(CachedReport.what == what, CachedReport.fund_code == fund_code,
                                                    CachedReport.period == period))
            conn.execute(CachedReport.__table__.insert().values(  # type: ignore[attr-defined]
                key=key, what=what, fund_code=fund_code, period=period, version=version, body=body,
                created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    except SQLAlchemyError as error:  # another worker stored it first, or the database is busy
        log.info("report cache: not stored (%s)", error.__class__.__name__)


def shared(session: Session, what: str, fund_code: str, period: str, compute: Callable[[], bytes]) -> bytes:
    """The report stored for the book version in force, else computed now and stored."""
    version = book_version(session)
    body = shared_get(session, what, fund_code, period, version)
    if body is None:
        body = compute()
        shared_put(session, what, fund_code, period, version, body)
    return body
