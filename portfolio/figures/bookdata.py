"""The book as plain data: one pandas DataFrame per table, read set-based.

This is what the figures, the rules and the reports compute on. Amounts are int64
numbers of fen (exact; a sum of them is exact); dates are pandas Timestamps
(datetime64[ns], no time part). Only records in force count: voided cash flows and
valuations, and valuations not yet approved, are left out here, in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the frames come from the loader; the dataclass itself needs no pandas
    import pandas as pd

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
    # each fund's scope, resolved once (portfolio.figures.scope.scope_of), and its holdings per
    # date (keyed (code, date): scope.holdings_of); not copied by with_()
    scopes: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def with_(self, **tables: pd.DataFrame) -> BookData:
        """A copy with some tables replaced (e.g. pro forma, with a proposed deal added)."""
        return replace(self, **tables)


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows as dicts (what `to_dict("records")` gives, built column by column: faster)."""
    import pandas as pd

    columns = list(frame.columns)

    def values(column: pd.Series) -> list:
        if isinstance(column.dtype, pd.Int64Dtype):  # to_dict gives None for <NA>
            return [None if v is pd.NA else v for v in column.tolist()]
        return column.tolist()

    return [dict(zip(columns, row)) for row in zip(*(values(frame[c]) for c in columns))]
