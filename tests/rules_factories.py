"""Small builders of BookData for the rule, pro-forma and indicator tests.

`SyntheticBook` builds a BookData row by row, with the dtypes of
`portfolio.figures.bookdata.load_book` (amounts int fen, dates datetime64[ns]), for tests that need
a particular shape (a boundary value, a missing cell, a parent fund). The example book
is read with the shared `tests.factories.book_from_csv`.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from portfolio.figures.bookdata import (
    COMPANY_COLUMNS,
    FLOW_COLUMNS,
    FUND_COLUMNS,
    HOLDING_COLUMNS,
    INVESTMENT_COLUMNS,
    SUB_FUND_COLUMNS,
    VALUATION_COLUMNS,
    BookData,
)

_INT_FEN = ("size_fen", "commitment_fen", "amount_fen", "fair_value_fen", "cost_fen")
_NULLABLE = ("headcount", "revenue_fen", "total_assets_fen", "lead_amount_fen")
_DATES = ("date", "as_of", "founded")


def fen(yuan) -> int | None:
    """Yuan (str, int or Decimal) → exact int fen; blank → None."""
    if yuan is None or (isinstance(yuan, float) and pd.isna(yuan)) or str(yuan).strip() == "":
        return None
    return int(Decimal(str(yuan)) * 100)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records([{c: r.get(c) for c in columns} for r in rows], columns=columns)
    for name in columns:
        if name in _DATES:
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
        elif name in _INT_FEN:
            frame[name] = frame[name].astype("int64")
        elif name in _NULLABLE:
            frame[name] = frame[name].astype("Int64")
        elif name == "vintage_year":
            frame[name] = frame[name].astype("int64")
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


_TABLE_COLUMNS = {"funds": FUND_COLUMNS, "sub_funds": SUB_FUND_COLUMNS, "companies": COMPANY_COLUMNS,
                  "investments": INVESTMENT_COLUMNS, "flows": FLOW_COLUMNS, "valuations": VALUATION_COLUMNS,
                  "holdings": HOLDING_COLUMNS}


def book_from_rows(**tables: list[dict]) -> BookData:
    """A BookData from lists of row dicts (amounts already in int fen), with load_book's
    dtypes; a table not given is empty, a column not given is None."""
    unknown = set(tables) - set(_TABLE_COLUMNS)
    assert not unknown, f"no such tables: {unknown}"
    return BookData(**{name: _frame(tables.get(name, []), columns) for name, columns in _TABLE_COLUMNS.items()})


class SyntheticBook:
    """Rows added one at a time; `.book()` gives the BookData."""

    def __init__(self):
        self.funds: list[dict] = []
        self.sub_funds: list[dict] = []
        self.companies: list[dict] = []
        self.investments: list[dict] = []
        self.flows: list[dict] = []
        self.valuations: list[dict] = []
        self.holdings: list[dict] = []

    def fund(self, code="F", kind="innovation_fund", size_cny="1000000000", parent_code=None,
             vintage_year=2023, settings=None):
        self.funds.append({"code": code, "name": code, "name_en": None, "kind": kind, "parent_code": parent_code,
                           "size_fen": fen(size_cny), "vintage_year": vintage_year, "settings": settings or {}})
        return self

    def sub_fund(self, code="SF", size_cny="1000000000", vintage_year=2023, sector="materials",
                 region_code="330212"):
        self.sub_funds.append({"code": code, "name": code, "manager": "GP", "size_fen": fen(size_cny),
                               "vintage_year": vintage_year, "sector": sector, "region_code": region_code,
                               "term_years": 8})
        return self

    def company(self, code="C", region_code="330206", founded="2020-01-01", sector="robotics"):
        self.companies.append({"code": code, "name": code, "credit_code": None, "sector": sector,
                               "region_code": region_code, "founded": founded})
        return self

    def investment(self, id, target, *, fund="F", mode="direct", date="2024-01-01", commitment_cny="1000000",
                   alongside=None, ownership_pct=None, instrument=None, stage=None, headcount=None,
                   revenue_cny=None, total_assets_cny=None, lead_amount_cny=None, round=None):
        self.investments.append({
            "id": id, "fund_code": fund, "mode": mode, "target_code": target, "alongside_code": alongside,
            "date": date, "commitment_fen": fen(commitment_cny), "round": round,
            "ownership_pct": None if ownership_pct is None else Decimal(str(ownership_pct)),
            "instrument": instrument, "stage": stage, "headcount": headcount,
            "revenue_fen": fen(revenue_cny), "total_assets_fen": fen(total_assets_cny),
            "lead_amount_fen": fen(lead_amount_cny)})
        return self

    def flow(self, investment_id, date, amount_cny, type="contribution"):
        self.flows.append({"investment_id": investment_id, "date": date, "type": type,
                           "amount_fen": fen(amount_cny)})
        return self

    def valuation(self, investment_id, as_of, fair_value_cny, method="cost"):
        self.valuations.append({"investment_id": investment_id, "as_of": as_of,
                                "fair_value_fen": fen(fair_value_cny), "method": method})
        return self

    def holding(self, sub_fund_code, as_of, company_code, cost_cny, fair_value_cny=None):
        self.holdings.append({"sub_fund_code": sub_fund_code, "as_of": as_of, "company_code": company_code,
                              "cost_fen": fen(cost_cny), "fair_value_fen": fen(fair_value_cny or cost_cny)})
        return self

    def book(self) -> BookData:
        return book_from_rows(funds=self.funds, sub_funds=self.sub_funds, companies=self.companies,
                              investments=self.investments, flows=self.flows, valuations=self.valuations,
                              holdings=self.holdings)
