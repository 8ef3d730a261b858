"""The book as plain data: one pandas DataFrame per table, read set-based.

This is what the figures, the rules and the reports compute on. Amounts are int64
numbers of fen (exact; a sum of them is exact); dates are pandas Timestamps
(datetime64[ns], no time part). Only records in force count: voided cash flows and
valuations, and valuations not yet approved, are left out here, in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd
from sqlalchemy import BigInteger, Select, String, select, type_coerce
from sqlalchemy.orm import Session

from models import CashFlow, Company, Fund, Investment, SubFund, SubFundHolding, Valuation


def _fen(column, name: str):
    # Read the stored integer fen as it is, bypassing the Decimal conversion.
    return type_coerce(column, BigInteger).label(name)


FUND_COLUMNS = ["code", "name", "name_en", "kind", "parent_code", "size_fen", "vintage_year", "settings"]
SUB_FUND_COLUMNS = ["code", "name", "manager", "size_fen", "vintage_year", "sector", "region_code", "term_years"]
COMPANY_COLUMNS = ["code", "name", "credit_code", "sector", "region_code", "founded"]
INVESTMENT_COLUMNS = ["id", "fund_code", "mode", "target_code", "alongside_code", "date", "commitment_fen",
                      "round", "ownership_pct", "instrument", "stage", "headcount", "revenue_fen",
                      "total_assets_fen", "lead_amount_fen"]
FLOW_COLUMNS = ["investment_id", "date", "type", "amount_fen"]
VALUATION_COLUMNS = ["investment_id", "as_of", "fair_value_fen", "method"]
HOLDING_COLUMNS = ["sub_fund_code", "as_of", "company_code", "cost_fen", "fair_value_fen"]


@dataclass(frozen=True)
class BookData:
    """The whole book (or a pro-forma copy of it) as DataFrames.

    funds:        code, name, name_en, kind, parent_code, size_fen, vintage_year, settings (dict)
    sub_funds:    code, name, manager, size_fen, vintage_year, sector, region_code, term_years
    companies:    code, name, credit_code, sector, region_code, founded (Timestamp or NaT)
    investments:  id, fund_code, mode, target_code, alongside_code, date, commitment_fen, round,
                  ownership_pct (Decimal or None), instrument, stage, headcount (Int64),
                  revenue_fen, total_assets_fen, lead_amount_fen (Int64, <NA> when missing)
    flows:        investment_id, date, type ('contribution'|'distribution'), amount_fen
    valuations:   investment_id, as_of, fair_value_fen, method   (approved and in force only)
    holdings:     sub_fund_code, as_of, company_code, cost_fen, fair_value_fen
    """

    funds: pd.DataFrame
    sub_funds: pd.DataFrame
    companies: pd.DataFrame
    investments: pd.DataFrame
    flows: pd.DataFrame
    valuations: pd.DataFrame
    holdings: pd.DataFrame
    indexes: dict[str, pd.Series] = field(default_factory=dict)

    def with_(self, **tables: pd.DataFrame) -> "BookData":
        """A copy with some tables replaced (e.g. pro forma, with a proposed deal added)."""
        return replace(self, **tables)


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows as dicts (what `to_dict("records")` gives, built column by column: faster)."""
    columns = list(frame.columns)

    def values(column: pd.Series) -> list:
        if isinstance(column.dtype, pd.Int64Dtype):  # to_dict gives None for <NA>
            return [None if v is pd.NA else v for v in column.tolist()]
        return column.tolist()

    return [dict(zip(columns, row)) for row in zip(*(values(frame[c]) for c in columns))]


def _frame(session: Session, stmt: Select, columns: list[str], *, plain: bool = False) -> pd.DataFrame:
    """One query into a DataFrame, through Core (no ORM processing of each row).

    plain=True, for the big tables whose every column comes back from the driver as it
    is wanted (text, integer fen, dates left to pandas): the driver's own tuples are
    taken, without SQLAlchemy building a Row for each.
    """
    result = session.connection().execute(stmt)
    rows = result.cursor.fetchall() if plain else [tuple(row) for row in result]
    if plain:
        result.close()
    if not rows:  # no rows: object columns, as a frame of rows would start
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}, columns=columns)
    return pd.DataFrame(rows, columns=columns)


def _day(column, name: str):
    # Read a date as the database gives it (ISO text on SQLite, a date on PostgreSQL) and let
    # pandas parse the whole column at once, rather than SQLAlchemy one value at a time.
    return type_coerce(column, String).label(name)


def _dates(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    for name in names:
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
    return frame


def _nullable_int(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    for name in names:
        frame[name] = frame[name].astype("Int64")
    return frame


def load_book(session: Session) -> BookData:
    """Read the whole book in force, one query per table."""
    funds = _frame(session, select(Fund.code, Fund.name, Fund.name_en, Fund.kind, Fund.parent_code,
                                   _fen(Fund.size_cny, "size_fen"), Fund.vintage_year, Fund.settings),
                   FUND_COLUMNS)
    funds["settings"] = funds["settings"].map(lambda s: s or {})
    sub_funds = _frame(session, select(SubFund.code, SubFund.name, SubFund.manager,
                                       _fen(SubFund.size_cny, "size_fen"), SubFund.vintage_year,
                                       SubFund.sector, SubFund.region_code, SubFund.term_years),
                       SUB_FUND_COLUMNS)
    companies = _dates(_frame(session, select(Company.code, Company.name, Company.credit_code,
                                              Company.sector, Company.region_code, Company.founded),
                              COMPANY_COLUMNS), "founded")
    investments = _frame(session, select(
        Investment.id, Investment.fund_code, Investment.mode,
        Investment.sub_fund_code,
        Investment.company_code, Investment.alongside_code, _day(Investment.date, "date"),
        _fen(Investment.commitment_cny, "commitment_fen"), Investment.round, Investment.ownership_pct,
        Investment.instrument, Investment.stage, Investment.headcount,
        _fen(Investment.revenue_cny, "revenue_fen"), _fen(Investment.total_assets_cny, "total_assets_fen"),
        _fen(Investment.lead_amount_cny, "lead_amount_fen"),
    ).order_by(Investment.date, Investment.id), [
        "id", "fund_code", "mode", "sub_fund_code", "company_code", "alongside_code", "date",
        "commitment_fen", "round", "ownership_pct", "instrument", "stage", "headcount", "revenue_fen",
        "total_assets_fen", "lead_amount_fen"])
    # target: the sub-fund for a commitment, the company otherwise
    investments["target_code"] = investments["sub_fund_code"].where(
        investments["mode"] == "sub_fund", investments["company_code"])
    investments = _nullable_int(_dates(investments[INVESTMENT_COLUMNS].copy(), "date"),
                                "headcount", "revenue_fen", "total_assets_fen", "lead_amount_fen")
    investments["commitment_fen"] = investments["commitment_fen"].astype("int64")
    flows = _dates(_frame(session, select(CashFlow.investment_id, _day(CashFlow.date, "date"), CashFlow.type,
                                          _fen(CashFlow.amount_cny, "amount_fen"))
                          .where(CashFlow.voided_at.is_(None)), FLOW_COLUMNS, plain=True), "date")
    flows["amount_fen"] = flows["amount_fen"].astype("int64")
    valuations = _dates(_frame(session, select(Valuation.investment_id, _day(Valuation.as_of, "as_of"),
                                               _fen(Valuation.fair_value_cny, "fair_value_fen"),
                                               Valuation.method)
                               .where(Valuation.voided_at.is_(None), Valuation.approved_at.is_not(None)),
                               VALUATION_COLUMNS, plain=True), "as_of")
    valuations["fair_value_fen"] = valuations["fair_value_fen"].astype("int64")
    holdings = _dates(_frame(session, select(SubFundHolding.sub_fund_code, _day(SubFundHolding.as_of, "as_of"),
                                             SubFundHolding.company_code,
                                             _fen(SubFundHolding.cost_cny, "cost_fen"),
                                             _fen(SubFundHolding.fair_value_cny, "fair_value_fen")),
                             HOLDING_COLUMNS, plain=True), "as_of")
    for name in ("cost_fen", "fair_value_fen"):
        holdings[name] = holdings[name].astype("int64")
    for frame in (funds, sub_funds):
        frame["size_fen"] = frame["size_fen"].astype("int64")
    return BookData(funds=funds, sub_funds=sub_funds, companies=companies, investments=investments,
                    flows=flows, valuations=valuations, holdings=holdings)


def load_index(session: Session, name: str) -> pd.Series:
    """One public-market index series (for PME): levels as floats, indexed by date, sorted."""
    from models import IndexLevel

    # stored as an int scaled by 10^6 (models.types.IndexLevel); read it as it is
    rows = session.execute(select(IndexLevel.date, type_coerce(IndexLevel.level, BigInteger))
                           .where(IndexLevel.name == name).order_by(IndexLevel.date)).all()
    dates = pd.to_datetime([r[0] for r in rows]).astype("datetime64[ns]")
    return pd.Series([int(r[1]) / 1_000_000 for r in rows], index=dates, name=name, dtype="float64")
