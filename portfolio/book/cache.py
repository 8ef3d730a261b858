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

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, event, func, select, union_all
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
_drawn: OrderedDict[tuple, object] = OrderedDict()  # charts by their inputs' digest (see `drawn`)
MAX_DRAWN = 64
_families: OrderedDict[tuple, frozenset[str]] = OrderedDict()  # (fund, version): its investments (`_carried`)
_fragments: OrderedDict[tuple, object] = OrderedDict()  # rendered pieces of pages (see `fragment`)
MAX_FRAGMENTS = 64

_redis_url: str | None = None
_redis_prefix = "fundbook:report:"
REDIS_TTL_SECONDS = 7 * 24 * 3600


def configure(*, redis_url: str | None = None, prefix: str | None = None) -> None:
    """Keep the shared entries in Redis (every host sees them) instead of the database."""
    global _redis_url, _redis_prefix
    _redis_url = redis_url or None
    if prefix:
        _redis_prefix = prefix


_VERSION = "portfolio.book.cache.version"  # the session's memo of the version (session.info)


# The latest book entry (made once: the statement's SQL and cache key are reused by every
# request). Each entity's latest id is one seek of the index on (entity, id), and the version
# the greatest of them: `entity IN (…) ORDER BY id DESC LIMIT 1` had SQLite read and sort every
# book entry (24 ms a page at 150,000 entries, growing with the log), and PostgreSQL walk the
# log back past every entry of another kind (votes, users, change sets).
_LATEST_IDS = union_all(*(select(func.max(AuditEntry.id).label("id")).where(AuditEntry.entity == entity)
                          for entity in BOOK_ENTITIES)).subquery("latest_ids")
_LATEST_ENTRY = (select(AuditEntry.id, AuditEntry.at)
                 .where(AuditEntry.id == select(func.max(_LATEST_IDS.c.id)).scalar_subquery()))
LATEST_ENTRY = _LATEST_ENTRY.subquery("book_version")
"""The latest book entry as a subquery (columns `id`, `at`), for a query that reads something
else anyway to read the version with it (`LEFT JOIN … ON true`) and hand it to `know_version`:
the login's user query does, so a page's version costs no round trip of its own."""


def know_version(session: Session, entry_id: int | None, at: dt.datetime | None) -> None:
    """The book version as just read, in this transaction, through `LATEST_ENTRY`."""
    session.info[_VERSION] = (0, None) if entry_id is None else (entry_id, at)


def _version_key(session: Session) -> tuple:
    """The latest book entry's id, and its time: a database emptied and refilled (tests, a
    restore) can reuse an id, never with the same time.

    Read once per transaction (a page asks for it a dozen times): the memo is forgotten when
    the session flushes (its own write may move the version) and when its transaction ends."""
    known = session.info.get(_VERSION)
    if known is not None:
        return known
    row = session.execute(_LATEST_ENTRY).first()
    key = (0, None) if row is None else (row.id, row.at)
    session.info[_VERSION] = key
    return key


@event.listens_for(Session, "after_flush")
def _forget_version_after_flush(session: Session, _context) -> None:
    session.info.pop(_VERSION, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_version_after_transaction(session: Session, _transaction) -> None:
    session.info.pop(_VERSION, None)


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
    """The book of `version`: kept; or this process's latest older book with the cash flows and
    valuations the writes since touched read again, when those were the only writes
    (`_written_investments`: a flow, a valuation, its approval, correction or void); else read whole."""
    from portfolio.book.reading import load_book, refreshed

    def load():
        with _lock:
            older = [key for key in _books if key[1] is not None and key[0] < version[0]]
            latest = max(older, key=lambda key: key[0]) if older else None
            book = None if latest is None else _books.get(latest)
        if book is not None:
            touched = _written_investments(session, latest, version)
            if touched is not None:
                return refreshed(session, book, touched)
        return load_book(session)

    return _remember(version, load, _books, MAX_BOOKS)


def book(session: Session):
    """The book in force (portfolio.figures.bookdata.load_book), cached by book version."""
    return _book(session, _version_key(session))


# -- carried forward: what a write to another fund's records leaves as it was ----------------------

CARRY_LIMIT = 100  # more book writes than this since the entry: computed afresh, not examined


def _day(state: object, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(state[name])[:10])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return dt.date.min  # no date known: taken as touching every date


_touched: OrderedDict[tuple, dict[str, dt.date] | None] = OrderedDict()  # (older, version): `_written_investments`


def _written_investments(session: Session, older: tuple, version: tuple) -> dict[str, dt.date] | None:
    """`_touched_since`, kept per (older, version): a page after a write asks it for each fund's
    report, trend and alerts, and the log between two versions never changes (the versions'
    times are in the key: a database emptied and refilled has others)."""
    key = (older, version)
    with _lock:
        if key in _touched:
            return _touched[key]
    touched = _touched_since(session, older, version)
    with _lock:
        _touched[key] = touched
        while len(_touched) > MAX_ENTRIES:
            _touched.popitem(last=False)
    return touched


def _touched_since(session: Session, older: tuple, version: tuple) -> dict[str, dt.date] | None:
    """The investments whose cash flows or valuations the book writes after `older` (up to
    `version`) touched, each with the earliest date touched (the record's date before and
    after the write); None when another kind of write is among them (an investment, a fund,
    a company, holdings, an import of those: anything may have moved), when there are too many,
    or when `older` is not in this database's history (a database emptied and refilled)."""
    if older[1] is None or older[0] >= version[0]:
        return None
    at = session.execute(select(AuditEntry.at).where(AuditEntry.id == older[0])).scalar()
    if at != older[1]:
        return None
    rows = session.execute(select(AuditEntry.entity, AuditEntry.before, AuditEntry.after).where(
        AuditEntry.id > older[0], AuditEntry.id <= version[0], AuditEntry.entity.in_(BOOK_ENTITIES))
        .limit(CARRY_LIMIT + 1)).all()
    if len(rows) > CARRY_LIMIT:
        return None
    touched: dict[str, dt.date] = {}
    for entity, before, after in rows:
        if entity not in ("cash_flows", "valuations"):
            return None
        states = [state for state in (before, after) if isinstance(state, dict) and state.get("investment_id")]
        if not states:
            return None
        date_field = "date" if entity == "cash_flows" else "as_of"
        for state in states:
            key = str(state["investment_id"])
            touched[key] = min(touched.get(key, dt.date.max), _day(state, date_field))
    return touched


def _since_older(session: Session, kind: str, fund_code: str, as_of: dt.date, version: tuple,
                 stored: Callable[[bytes], object] | None = None):
    """This process's latest entry (kind, fund, D) of an older book version, the fund's
    investments, and what the book writes since touched (`_written_investments`: flows and
    valuations only); None when there is no such entry or anything else was written.

    With `stored` (how to read the entry's bytes), a kind kept in the shared cache too: when
    this process has no older entry (another worker computed it, or served the page from the
    shared cache), the shared cache's latest one of an older version is taken instead."""
    with _lock:
        older = [key for key in _cache if key[:3] == (kind, fund_code, as_of) and key[3] != version]
    older = [key for key in older if key[3][1] is not None and key[3][0] < version[0]]
    if not older:
        return _since_stored(session, kind, fund_code, as_of, version, stored) if stored else None
    key = max(older, key=lambda k: k[3][0])
    with _lock:
        ours = _families.get((fund_code, key[3]))
        value = _cache.get(key)
    if ours is None or value is None:
        return None
    touched = _written_investments(session, key[3], version)
    if touched is None:
        return None
    return value, ours, touched


def _since_stored(session: Session, kind: str, fund_code: str, as_of: dt.date, version: tuple,
                  stored: Callable[[bytes], object]):
    """`_since_older` from the shared cache's latest entry (kind, fund, D): its version read off
    the entry (`book_version`'s text, of this code), the fund's investments those of the book in
    force (only flows and valuations were written since, which move no investment)."""
    latest = shared_latest(session, kind, fund_code, as_of.isoformat())
    if latest is None:
        return None
    older = _parse_book_version(latest[0])
    if older is None or older[0] >= version[0]:
        return None
    touched = _written_investments(session, older, version)
    if touched is None:
        return None
    return stored(latest[1]), _family_investments(session, fund_code, version), touched


def _parse_book_version(text: str) -> tuple | None:
    """`book_version`'s text back into the version key, None for an empty book's, another
    release's (its figures may differ) or a text that is not one."""
    book, _, code = text.rpartition("-")
    number, _, at = book.partition(".")
    if code != code_version() or not number.isdigit() or not at:
        return None
    try:
        return int(number), dt.datetime.strptime(at, "%Y%m%d%H%M%S%f")
    except ValueError:
        return None


def _carried(found: tuple | None, as_of: dt.date):
    """The older entry and the fund's investments (`found`, as `_since_older` gives it) when
    the writes since touched none of them (nor its descendants') on or before D (the figures
    as of D count flows and valuations dated up to D only): the fund's figures are what they
    were. Else None."""
    if found is None:
        return None
    value, ours, touched = found
    if any(day <= as_of for investment, day in touched.items() if investment in ours):
        return None
    return value, ours


def _family_investments(session: Session, fund_code: str, version: tuple) -> frozenset[str]:
    from portfolio.figures.scope import scope_of

    book = _book(session, version)
    family = scope_of(book, fund_code).family
    return frozenset(book.investments.loc[book.investments["fund_code"].isin(family), "id"].astype(str))


def _fund_entry(session: Session, kind: str, fund_code: str, as_of: dt.date,
                compute: Callable[[tuple, tuple | None], object], *,
                stored: Callable[[bytes], object] | None = None):
    """(kind, fund, D) for the book version in force: kept, carried forward from an older
    version the writes since left alone (`_carried`), or computed by `compute(version,
    found)`, which may reuse what of the older entry (`found`) the writes left as it was.
    `stored`: the kind is in the shared cache too, read by it (`_since_older`)."""
    version = _version_key(session)

    def fresh():
        found = _since_older(session, kind, fund_code, as_of, version, stored)  # the audit log read once
        carried = _carried(found, as_of)
        if carried is not None:
            value, ours = carried
        else:
            value = compute(version, found)  # raises UnknownFund before the family is looked for
            ours = _family_investments(session, fund_code, version)
        with _lock:
            _families[(fund_code, version)] = ours
            while len(_families) > MAX_ENTRIES:
                _families.popitem(last=False)
        return value

    return _remember((kind, fund_code, as_of, version), fresh)


def fund_report(session: Session, fund_code: str, as_of: dt.date, index_name: str | None = None) -> dict:
    """`portfolio.figures.report.compute_report` for the fund and date, cached by book version
    (carried forward past writes to other funds' flows and valuations, or to ones dated after D);
    with `index_name`, with its PME against that index (`fund_pme`). Computed with the garbage
    collector paused (the whole book in frames: portfolio.memory).
    Raises portfolio.figures.engine.UnknownFund for a fund not in the book."""
    from portfolio.figures.report import compute_report
    from portfolio.memory import collections_paused

    with collections_paused():
        report = _fund_entry(session, "report", fund_code, as_of,
                             lambda version, _found: compute_report(_book(session, version), fund_code, as_of))
        if index_name:  # the report with its PME: compute_report's key, before the checks
            pme = fund_pme(session, fund_code, as_of, index_name)
            checks = {"compliance": report["compliance"]} if "compliance" in report else {}
            report = {**{k: v for k, v in report.items() if k not in checks}, "pme": pme, **checks}
    return report


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

    def compute(version: tuple, found: tuple | None) -> list[dict]:
        def fresh() -> bytes:
            # after a write to the fund's flows or valuations, its points before the earliest
            # date written are what they were: only the quarters from that date are computed
            known = None
            if found is not None:
                points, ours, touched = found
                cut = min((day for investment, day in touched.items() if investment in ours), default=dt.date.max)
                known = [point for point in points if point["as_of"] < cut]
            return _trend_bytes(trend(_book(session, version), fund_code, as_of, known=known))

        return _trend_points(shared(session, "trend", fund_code, as_of.isoformat(), fresh))

    return _fund_entry(session, "trend", fund_code, as_of, compute, stored=_trend_points)


def fund_alerts(session: Session, fund_code: str, as_of: dt.date) -> dict:
    """`portfolio.figures.alerts.fund_alerts` on the cached report, cached the same way."""
    from portfolio.figures.alerts import fund_alerts as alerts

    # what the alerts read (the report, the family's flows and positions on D) is what the
    # report is carried forward past: the alerts are carried with it
    return _fund_entry(session, "alerts", fund_code, as_of, lambda version, _found: alerts(
        _book(session, version), fund_report(session, fund_code, as_of), as_of))


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
        _drawn.clear()
        _families.clear()
        _fragments.clear()
        _touched.clear()


def memo(session: Session, key: tuple, compute):
    """Anything derived from the book (a chart, a list) cached under `key` + the book version."""
    return _remember(("memo", *key, _version_key(session)), compute)


# -- shared entries --------------------------------------------------------------------------

def shared_key(what: str, fund_code: str, period: str, version: str) -> str:
    return hashlib.sha256("\x1f".join((what, fund_code, period, version)).encode()).hexdigest()


def _redis():
    import redis

    return redis.Redis.from_url(str(_redis_url))


def _on_redis(work: Callable, unavailable=None):
    """`work(client)`; when Redis cannot be reached, `unavailable`, logged: the shared cache
    only spares work, so a report asked for while it is down is computed and served (a page,
    the API, the `report` command never fail for it)."""
    import redis

    try:
        return work(_redis())
    except redis.RedisError as error:
        log.warning("report cache: Redis unavailable (%s)", error.__class__.__name__)
        return unavailable


def shared_get(session: Session, what: str, fund_code: str, period: str, version: str | None = None) -> bytes | None:
    """The stored report for the book version in force (or `version`), or None."""
    key = shared_key(what, fund_code, period, version or book_version(session))
    if _redis_url:
        return _on_redis(lambda client: client.get(_redis_prefix + key))
    return session.execute(select(CachedReport.body).where(CachedReport.key == key)).scalar()


def shared_has(session: Session, what: str, fund_code: str, period: str, version: str) -> bool:
    """Whether the report of that book version is stored (without reading its bytes)."""
    key = shared_key(what, fund_code, period, version)
    if _redis_url:
        return bool(_on_redis(lambda client: client.exists(_redis_prefix + key), False))
    return session.execute(select(CachedReport.key).where(CachedReport.key == key)).first() is not None


def shared_put(session: Session, what: str, fund_code: str, period: str, version: str, body: bytes) -> None:
    """Store a report for a book version, and drop the same report's older versions. On a
    connection of its own, so that the caller's unit of work is neither committed nor
    spoiled; a failure to store is logged, never raised (the report was computed)."""
    key = shared_key(what, fund_code, period, version)
    if _redis_url:
        def store(client) -> None:
            client.set(_redis_prefix + key, body, ex=REDIS_TTL_SECONDS)
            client.set(_latest_key(what, fund_code, period), version, ex=REDIS_TTL_SECONDS)  # shared_latest

        _on_redis(store)
        return
    try:
        with session.get_bind().engine.connect() as conn, _waiting_briefly(conn), conn.begin():
            conn.execute(delete(CachedReport).where(CachedReport.what == what, CachedReport.fund_code == fund_code,
                                                    CachedReport.period == period))
            conn.execute(CachedReport.__table__.insert().values(  # type: ignore[attr-defined]
                key=key, what=what, fund_code=fund_code, period=period, version=version, body=body,
                created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    except SQLAlchemyError as error:  # another worker stored it first, or the database is busy
        log.info("report cache: not stored (%s)", error.__class__.__name__)


STORE_WAIT_MS = 25  # SQLite: how long storing a report waits for the file's write lock


@contextlib.contextmanager
def _waiting_briefly(conn) -> Iterator[None]:
    """SQLite: the store waits STORE_WAIT_MS for the write lock, not the connection's busy
    timeout. The file has one writer at a time, and an import holds it for as long as it
    writes: a page that computed a report reads beside the import (WAL), and would otherwise
    wait the whole BOOK_LOCK_WAIT at each report it stores (a fund's page stores several) only
    to skip storing it. A report not stored is computed again when next asked for. PostgreSQL:
    the cache's rows are no part of the book's lock; nothing changes."""
    if conn.dialect.name != "sqlite":
        yield
        return
    waited = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {STORE_WAIT_MS}")
    conn.commit()  # the pragma is at once; the store's own transaction follows
    try:
        yield
    finally:  # the pooled connection's wait as it was, for its next user
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {waited}")
        conn.commit()


def shared_latest(session: Session, what: str, fund_code: str, period: str) -> tuple[str, bytes] | None:
    """The latest stored (version, body) of the report, whatever its version (storing one
    drops the older: there is one), or None."""
    if _redis_url:
        def latest(client) -> tuple[str, bytes] | None:
            version = client.get(_latest_key(what, fund_code, period))
            body = None if version is None else client.get(_redis_prefix + shared_key(what, fund_code, period,
                                                                                      version.decode()))
            return None if body is None else (version.decode(), body)

        return _on_redis(latest)
    row = session.execute(select(CachedReport.version, CachedReport.body).where(
        CachedReport.what == what, CachedReport.fund_code == fund_code, CachedReport.period == period)
        .order_by(CachedReport.created_at.desc()).limit(1)).first()
    return None if row is None else (row.version, row.body)


def _latest_key(what: str, fund_code: str, period: str) -> str:
    return _redis_prefix + "latest:" + shared_key(what, fund_code, period, "")


def shared(session: Session, what: str, fund_code: str, period: str, compute: Callable[[], bytes]) -> bytes:
    """The report stored for the book version in force, else computed now and stored."""
    version = book_version(session)
    body = shared_get(session, what, fund_code, period, version)
    if body is None:
        body = compute()
        shared_put(session, what, fund_code, period, version, body)
    return body


def kept(session: Session, what: str, fund_code: str, period: str, compute: Callable[[], bytes]) -> bytes:
    """`shared`, and kept in this process too: a report served again and again (the API's
    JSON) costs one version check, not a read of the stored bytes each time."""
    return _remember(("kept", what, fund_code, period, _version_key(session)),
                     lambda: shared(session, what, fund_code, period, compute))


def drawn(session: Session, what: str, fund_code: str, period: str, inputs: object,
          draw: Callable[[], str | None]) -> str | None:
    """A chart made from `inputs` alone (plain values: dicts, lists, Decimals, dates, text),
    kept under a digest of them and the code's fingerprint, not under the book version: a
    write that leaves the chart's inputs as they were (another fund's flow, a draft, a date
    after D) serves the chart already drawn; drawing one costs more than the rest of a page.
    Kept in this process and in the shared cache, where (what, fund, period) holds the latest
    drawing only."""
    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()[:32]
    version = f"{digest}-{code_version()}"

    def compute() -> str | None:
        body = shared_get(session, what, fund_code, period, version)
        if body is None:
            body = (draw() or "").encode()
            shared_put(session, what, fund_code, period, version, body)
        return body.decode() or None

    return _remember((what, fund_code, period, version), compute, _drawn, MAX_DRAWN)


def fragment(session: Session, what: str, fund_code: str, period: str, render: Callable[[], str]) -> str:
    """A piece of a page rendered from the book alone (HTML: a fund's figures, the home page's
    tables and charts), kept under (what, fund, period, book version) in this process and in the
    shared cache: rendering the same figures again for every visit cost most of a page. Whatever
    else the piece shows must be in `period` (the date, the language, a role's permission):
    nothing of a request (its user, CSRF token, flashed messages, query) may be in it."""
    return _remember(("fragment", what, fund_code, period, _version_key(session)),
                     lambda: shared(session, what, fund_code, period, lambda: render().encode()).decode(),
                     _fragments, MAX_FRAGMENTS)
