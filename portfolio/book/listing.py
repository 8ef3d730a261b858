"""The reads behind the list screens that come straight from tables (companies, history,
cash flows, valuations): one filtered select() each, shared by the screen (which pages it)
and its Excel export (which takes every row the filter selects)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from models import AuditEntry, CashFlow, ChangeSet, Company, Fund, Investment, User, Valuation
from portfolio.figures.scope import FundTree
from portfolio.formatting import LOCAL_TZ

COMPANY_SORTS = {"code": Company.code, "name": Company.name, "sector": Company.sector,
                 "region_code": Company.region_code, "founded": Company.founded}
IMPORT_ACTIONS = ("import", "import_update")


def companies_query(q: str = "", sector: str = "", region: str = "", sort: str = "code",
                    desc: bool = False) -> Select:
    """Companies whose code, name or credit code contains `q`, of `sector`, registered in a
    region whose code starts with `region`; ordered by `sort` (then code)."""
    stmt = select(Company)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Company.code.ilike(like), Company.name.ilike(like), Company.credit_code.ilike(like)))
    if sector:
        stmt = stmt.where(Company.sector == sector)
    if region:
        stmt = stmt.where(Company.region_code.startswith(region))
    column = COMPANY_SORTS.get(sort, Company.code)
    return stmt.order_by(column.desc() if desc else column, Company.code)


def investment_counts(session: Session, codes: list[str] | None = None) -> dict[str, int]:
    """Investments per company (of the given companies, or of all)."""
    stmt = select(Investment.company_code, func.count()).where(Investment.company_code.is_not(None))
    if codes is not None:
        if not codes:
            return {}
        stmt = stmt.where(Investment.company_code.in_(codes))
    return {code: n for code, n in session.execute(stmt.group_by(Investment.company_code)).all() if code}


def company_rows(session: Session, **filters) -> list[dict]:
    """Every company the filter selects, with its number of investments, as plain rows."""
    counts = investment_counts(session)
    return [{"code": c.code, "name": c.name, "credit_code": c.credit_code, "sector": c.sector,
             "region_code": c.region_code, "founded": c.founded, "investments": counts.get(c.code, 0)}
            for c in session.execute(companies_query(**filters)).scalars()]


@dataclass(frozen=True)
class HistoryFilter:
    user: str = ""
    entity: str = ""
    action: str = ""
    key: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    change_set: str = ""


def history_query(session: Session, f: HistoryFilter) -> Select:
    """Audit entries by user (user name or display name), entity, action ("import" takes the
    updates an import wrote too), key (contains), change set, and day (since ≤ day ≤ until,
    days in Asia/Shanghai); newest first."""
    stmt = select(AuditEntry)
    if f.user:  # a user name or a person's name as the screens show it
        stmt = stmt.where(or_(AuditEntry.username == f.user, AuditEntry.username.in_(
            select(User.username).where(User.display_name == f.user))))
    if f.entity:
        stmt = stmt.where(AuditEntry.entity == f.entity)
    if f.action:
        actions = IMPORT_ACTIONS if f.action == "import" else (f.action,)
        stmt = stmt.where(AuditEntry.action.in_(actions))
    if f.key:
        stmt = stmt.where(AuditEntry.entity_key.ilike(f"%{f.key}%"))
    if f.change_set:  # a staged import: its own entries and every row it applied
        from portfolio.interchange.staging import history_filter

        # its id and batch only: the ChangeSet row holds the file and a preview of tens of megabytes
        found = session.execute(select(ChangeSet.id, ChangeSet.batch).where(ChangeSet.id == int(f.change_set))).first() \
            if f.change_set.isdigit() and len(f.change_set) < 10 else None
        stmt = stmt.where(history_filter(found)) if found is not None else stmt.where(AuditEntry.id.is_(None))
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= _utc_start(f.since))
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at < _utc_start(f.until + dt.timedelta(days=1)))
    return stmt.order_by(AuditEntry.id.desc())


def count(session: Session, stmt: Select) -> int:
    """How many rows a select gives, counted by the database (none of them read)."""
    return session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar() or 0


def _entries(session: Session, ids: Sequence[int]) -> Iterator[AuditEntry]:
    """The entries of these ids, newest first, read whole (the ids were ordered alone)."""
    return session.execute(select(AuditEntry).where(AuditEntry.id.in_(ids)).order_by(AuditEntry.id.desc())).scalars()


def history_entries(session: Session, f: HistoryFilter, *, chunk: int = 1_000) -> Iterator[AuditEntry]:
    """Every entry history_query selects, newest first: the ids ordered, then the entries read
    a chunk at a time (as history_page does, for the same reason: SQLite would sort them whole)."""
    ids = session.execute(history_query(session, f).with_only_columns(AuditEntry.id)).scalars().all()
    for start in range(0, len(ids), chunk):
        yield from _entries(session, ids[start:start + chunk])


def history_page(session: Session, f: HistoryFilter, page: int, size: int) -> tuple[list[AuditEntry], int]:
    """One page of history_query, newest first, and how many entries match in all.

    The page's ids are found first, then only their rows read: ordering whole entries by id
    made SQLite sort every matching entry, before and after included (a change set's 150,000
    took minutes), where ordering their ids alone takes a fraction of a second."""
    stmt = history_query(session, f)  # built once: a change set's filter looks the change set up
    ids = session.execute(stmt.with_only_columns(AuditEntry.id).limit(size).offset((page - 1) * size)).scalars().all()
    return list(_entries(session, ids)), count(session, stmt)


def _utc_start(day: dt.date) -> dt.datetime:
    """The start of a day in Ningbo (Asia/Shanghai) as stored times are kept: UTC, naive."""
    return dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(dt.UTC).replace(tzinfo=None)


def fund_codes(session: Session, fund_code: str | None) -> list[str] | None:
    """The fund and its descendants (None: every fund)."""
    if not fund_code:
        return None
    funds = [(r.code, r.parent_code) for r in session.execute(select(Fund.code, Fund.parent_code))]
    return list(FundTree.of(funds).descendants(fund_code))


@dataclass(frozen=True)
class FlowFilter:
    fund: str = ""
    investment: str = ""
    type: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    voided: bool = False  # voided ones too


def cash_flow_rows(session: Session, stmt: Select) -> list[dict]:
    """The rows of `cash_flow_query`'s select, by date."""
    return [dict(r) for r in session.execute(stmt.order_by(CashFlow.date, CashFlow.id)).mappings()]


def cash_flow_query(session: Session, f: FlowFilter) -> Select:
    """The cash flows the filter selects (of the fund and its descendants), unordered: to count
    them (`count`), or read them (`cash_flow_rows`)."""
    stmt = (select(CashFlow.id, Investment.fund_code, CashFlow.investment_id, CashFlow.date, CashFlow.type,
                   CashFlow.amount_cny, CashFlow.note, CashFlow.ref, CashFlow.approved_at, CashFlow.void_requested_at,
                   CashFlow.voided_at)
            .join(Investment, CashFlow.investment_id == Investment.id))
    codes = fund_codes(session, f.fund)
    if codes is not None:
        stmt = stmt.where(Investment.fund_code.in_(codes))
    if f.investment:
        stmt = stmt.where(CashFlow.investment_id == f.investment)
    if f.type:
        stmt = stmt.where(CashFlow.type == f.type)
    if f.since is not None:
        stmt = stmt.where(CashFlow.date >= f.since)
    if f.until is not None:
        stmt = stmt.where(CashFlow.date <= f.until)
    if not f.voided:
        stmt = stmt.where(CashFlow.voided_at.is_(None))
    return stmt


def valuation_rows(session: Session, stmt: Select) -> list[dict]:
    """The rows of `valuation_query`'s select, by date."""
    return [dict(r) for r in session.execute(stmt.order_by(Valuation.as_of, Valuation.id)).mappings()]


def valuation_query(session: Session, f: FlowFilter) -> Select:
    """The valuations the filter selects (approved and not voided unless `voided`), unordered:
    to count them (`count`), or read them (`valuation_rows`)."""
    stmt = (select(Valuation.id, Investment.fund_code, Valuation.investment_id, Valuation.as_of,
                   Valuation.fair_value_cny, Valuation.method, Valuation.approved_at, Valuation.void_requested_at,
                   Valuation.voided_at)
            .join(Investment, Valuation.investment_id == Investment.id))
    codes = fund_codes(session, f.fund)
    if codes is not None:
        stmt = stmt.where(Investment.fund_code.in_(codes))
    if f.investment:
        stmt = stmt.where(Valuation.investment_id == f.investment)
    if f.type:
        stmt = stmt.where(Valuation.method == f.type)
    if f.since is not None:
        stmt = stmt.where(Valuation.as_of >= f.since)
    if f.until is not None:
        stmt = stmt.where(Valuation.as_of <= f.until)
    if not f.voided:
        stmt = stmt.where(Valuation.voided_at.is_(None))
    return stmt
