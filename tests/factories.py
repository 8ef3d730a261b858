"""Test helpers for the figures: an interchange folder of CSVs read with pandas straight
into BookData (the dtypes of `portfolio.figures.bookdata.load_book`: int64 fen, datetime64[ns]),
with no database in between — the pure tests of the figures engine run on it.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

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


def _fen(series: pd.Series) -> pd.Series:
    """Yuan as text → exact int fen (via Decimal, never a float)."""
    return series.map(lambda v: None if pd.isna(v) or str(v).strip() == "" else int(Decimal(str(v)) * 100))


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = Path(folder) / f"{name}.csv"
    if not path.exists():
        return pd.DataFrame()
    return pd.read_csv(path, dtype=str, keep_default_na=False).replace({"": None})


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).astype("datetime64[ns]")


def book_from_csv(folder: Path | str) -> BookData:
    folder = Path(folder)
    f = _read(folder, "funds")
    funds = pd.DataFrame({
        "code": f["code"], "name": f["name"], "name_en": _col(f, "name_en"), "kind": f["kind"],
        "parent_code": _col(f, "parent_code"), "size_fen": _fen(f["size_cny"]).astype("int64"),
        "vintage_year": f["vintage_year"].astype("int64"), "settings": [{} for _ in range(len(f))],
    })[FUND_COLUMNS]
    s = _read(folder, "sub_funds")
    sub_funds = pd.DataFrame({
        "code": s["code"], "name": s["name"], "manager": s["manager"],
        "size_fen": _fen(s["size_cny"]).astype("int64"), "vintage_year": s["vintage_year"].astype("int64"),
        "sector": s["sector"], "region_code": s["region_code"],
        "term_years": _col(s, "term_years").astype("Int64"),
    }, columns=SUB_FUND_COLUMNS)
    c = _read(folder, "companies")
    companies = pd.DataFrame({
        "code": c["code"], "name": c["name"], "credit_code": c["credit_code"], "sector": c["sector"],
        "region_code": c["region_code"], "founded": _dates(_col(c, "founded")),
    }, columns=COMPANY_COLUMNS)
    i = _read(folder, "investments")
    investments = pd.DataFrame({
        "id": i["id"], "fund_code": i["fund_code"], "mode": i["mode"], "target_code": i["target_code"],
        "alongside_code": _col(i, "alongside_code"), "date": _dates(i["date"]),
        "commitment_fen": _fen(i["commitment_cny"]).astype("int64"), "round": _col(i, "round"),
        "ownership_pct": _col(i, "ownership_pct").map(lambda v: None if v is None else Decimal(v)),
        "instrument": _col(i, "instrument"), "stage": _col(i, "stage"),
        "headcount": _col(i, "headcount").astype("Int64"),
        "revenue_fen": _fen(_col(i, "revenue_cny")).astype("Int64"),
        "total_assets_fen": _fen(_col(i, "total_assets_cny")).astype("Int64"),
        "lead_amount_fen": _fen(_col(i, "lead_amount_cny")).astype("Int64"),
    }, columns=INVESTMENT_COLUMNS)
    cf = _read(folder, "cash_flows")
    flows = pd.DataFrame({"investment_id": cf["investment_id"], "date": _dates(cf["date"]), "type": cf["type"],
                          "amount_fen": _fen(cf["amount_cny"]).astype("int64")}, columns=FLOW_COLUMNS)
    v = _read(folder, "valuations")
    valuations = pd.DataFrame({"investment_id": v["investment_id"], "as_of": _dates(v["as_of"]),
                               "fair_value_fen": _fen(v["fair_value_cny"]).astype("int64"),
                               "method": v["method"]}, columns=VALUATION_COLUMNS)
    h = _read(folder, "sub_fund_holdings")
    if h.empty:
        holdings = pd.DataFrame({"sub_fund_code": pd.Series(dtype=object), "as_of": pd.Series(dtype="datetime64[ns]"),
                                 "company_code": pd.Series(dtype=object), "cost_fen": pd.Series(dtype="int64"),
                                 "fair_value_fen": pd.Series(dtype="int64")})
    else:
        holdings = pd.DataFrame({"sub_fund_code": h["sub_fund_code"], "as_of": _dates(h["as_of"]),
                                 "company_code": h["company_code"], "cost_fen": _fen(h["cost_cny"]).astype("int64"),
                                 "fair_value_fen": _fen(h["fair_value_cny"]).astype("int64")},
                                columns=HOLDING_COLUMNS)
    return BookData(funds=funds, sub_funds=sub_funds, companies=companies, investments=investments,
                    flows=flows, valuations=valuations, holdings=holdings)
