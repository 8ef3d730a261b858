"""The fund report of metrics.md, as one plain object, and the use case that builds it.

`compute_report(book, fund_code, as_of)` is pure (BookData in, dict out): amounts are
Decimal yuan quantized to 0.01, ratios and rates floats or None. `to_json` turns it
into plain JSON types. `portfolio.book.reading.build_report(session, ...)` loads the book and
computes. Every screen, export and the API take their figures from here.

Keys beyond metrics.md's (it allows added keys): fund_name, by_vintage, by_region,
concentration, sub_funds, periodic, pme (with an index), and per investment its
descriptive columns, valuation_as_of/valuation_method and moic.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pandas as pd

from portfolio.errors import ReportError, UnknownIndex
from portfolio.figures import engine as fg
from portfolio.figures.bookdata import BookData, records
from portfolio.figures.scope import UnknownFund, holdings_of, scope_of
from portfolio.messages import Message, render

__all__ = ["compute_report", "pme_of", "to_json", "worded", "UnknownFund", "ReportError", "UnknownIndex"]


# report key → column of Positions.rows, for each investment
_INVESTMENT_COLUMNS = {
    "id": "id", "mode": "mode", "target": "target_code", "sector": "sector", "fund": "fund_code",
    "target_name": "target_name", "date": "date", "round": "round", "ownership_pct": "ownership_pct",
    "instrument": "instrument", "stage": "stage", "region": "region", "valuation_as_of": "valuation_as_of",
    "valuation_method": "valuation_method",
}


def _plain_list(column: pd.Series) -> list:
    """The column as plain Python values (dates for timestamps), missing cells (None, NaN,
    NaT, <NA>) as None."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return [None if v is pd.NaT else v.date() for v in column.tolist()]
    values = column.tolist()
    missing = column.isna().to_numpy()
    return [None if gone else v for v, gone in zip(values, missing)]


def compute_report(book: BookData, fund_code: str, as_of: dt.date, index_name: str | None = None, *,
                   figures_only: bool = False) -> dict:
    """The metrics.md report of one fund (with its descendants) as of D. With figures_only,
    the summary, the modes' figures and each investment's id and amounts alone (no ratio or
    IRR of an investment, no other breakdown, look-through, concentration, sub-funds,
    periodic figures or compliance checks): all the quarterly report reads of its openings."""
    scope = scope_of(book, fund_code)
    fund, settings = scope.row, scope.settings
    prefix = str(settings["home_region_prefix"])
    holdings = holdings_of(book, fund_code, as_of)
    pos = holdings.positions
    rows = pos.rows

    summary = fg.summarise(pos)
    modes = fg.summarise(pos, "mode")
    by_mode = {m: modes[m] for m in fg.MODE_ORDER if m in modes}
    by_mode.update({m: v for m, v in modes.items() if m not in by_mode})
    if figures_only:
        return {"fund": fund_code, "fund_name": fund["name"], "as_of": fg.ts(as_of).date(), "currency": "CNY",
                "summary": summary, "by_mode": by_mode, "investments": fg.amounts_per_investment(pos)}
    total_nav = int(rows["nav_fen"].sum())
    by_sector = fg.with_nav_share(fg.summarise(pos, "sector"), total_nav)
    by_vintage = fg.with_nav_share(fg.summarise(pos, "vintage"), total_nav)
    by_vintage = {int(k): v for k, v in by_vintage.items()}
    by_region = fg.with_nav_share(fg.summarise(pos, "region"), total_nav)

    # the descriptive columns, column by column as plain Python values
    columns = {key: _plain_list(rows[name]) for key, name in _INVESTMENT_COLUMNS.items()}
    investments = []
    for i, figures in enumerate(fg.per_investment(pos)):
        item = {key: columns[key][i] for key in ("id", "mode", "target", "sector")}
        item.update(figures)
        item["moic"] = figures["tvpi"]
        item.update({key: columns[key][i] for key in _INVESTMENT_COLUMNS if key not in item})
        investments.append(item)

    report: dict[str, Any] = {
        "fund": fund_code, "fund_name": fund["name"], "as_of": fg.ts(as_of).date(), "currency": "CNY",
        "summary": summary, "by_mode": by_mode, "by_sector": by_sector,
        "lookthrough_by_sector": fg.lookthrough_by_sector(book, pos),
        "investments": investments,
        "by_vintage": by_vintage, "by_region": by_region,
        "concentration": fg.concentration(pos),
        "sub_funds": _sub_funds(book, fund_code, pos, prefix),
        "periodic": fg.periodic_figures(pos, float(settings["mirr_finance_rate"]),
                                        float(settings["mirr_reinvest_rate"])),
    }
    if index_name:
        report["pme"] = pme_of(book, fund_code, as_of, index_name)
    report["compliance"] = _compliance(book, fund_code, as_of)
    return report


def pme_of(book: BookData, fund_code: str, as_of: dt.date, index_name: str) -> dict:
    """The report's `pme`: the fund's flows and NAV on D against an index series of the book
    (portfolio.figures.pme; PMEError when the series cannot price them)."""
    from portfolio.figures.pme import pme_figures

    series = (book.indexes or {}).get(index_name)
    if series is None:
        raise UnknownIndex(Message("index_unknown", name=index_name))
    return {"index": index_name, **pme_figures(book, holdings_of(book, fund_code, as_of).ids, as_of, series)}


def _compliance(book: BookData, fund_code: str, as_of: dt.date) -> list[dict]:
    from portfolio.figures import rules
    return rules.check(book, fund_code, fg.ts(as_of).date())  # on the same holdings (kept with the book)


def _sub_funds(book: BookData, fund_code: str, pos: fg.Positions, prefix: str) -> list[dict]:
    """One line per sub-fund the fund (with its descendants) commits to, in first-commitment order."""
    from portfolio.figures.rules import local_reinvestments  # the one implementation of 返投 (rules.md)

    rows = pos.rows[pos.rows["mode"] == "sub_fund"]
    if rows.empty:
        return []
    sums = rows.groupby("target_code", sort=False)[["commitment_fen", "paid_in_fen", "unfunded_fen",
                                                    "nav_fen"]].sum()
    codes = [str(code) for code in sums.index]  # in first-commitment order
    fen = {column: dict(zip(codes, map(int, sums[column]))) for column in sums.columns}
    info = {str(r["code"]): r for r in records(book.sub_funds[book.sub_funds["code"].isin(codes)])}
    reinvestment = local_reinvestments(book, fund_code, codes, pos.as_of.date(), prefix,
                                       paid_in_by_sub_fund=fen["paid_in_fen"])
    out = []
    for code in codes:
        lr = reinvestment[code]
        known = info.get(code, {})
        out.append({
            "code": code,
            "name": known.get("name"),
            "manager": known.get("manager"),
            "size": fg.yuan(known["size_fen"]) if known else None,
            "commitment": fg.yuan(fen["commitment_fen"][code]),
            "paid_in": fg.yuan(fen["paid_in_fen"][code]),
            "unfunded": fg.yuan(fen["unfunded_fen"][code]),
            "nav": fg.yuan(fen["nav_fen"][code]),
            "latest_report_as_of": None if lr.report_as_of is None else pd.Timestamp(lr.report_as_of).date(),
            "local_reinvestment_cost": fg.yuan(lr.local_cost_fen) if lr.has_report else None,
            "reinvestment_multiple": fg.ratio(lr.local_cost_fen, lr.paid_in_fen) if lr.has_report else None,
        })
    return out


def worded(report: dict[str, Any], lang: str) -> dict[str, Any]:
    """The report with its checks' sentences in `lang`: in Chinese the report as made; in
    English each `compliance` message rendered from its key, `missing: FIELD` kept as rules.md
    asks of the JSON. The figures are the same objects (nothing is copied but the checks)."""
    if str(lang).startswith("zh"):
        return report
    return report | {"compliance": [
        item | {"message": render(item["message"].key, item["message"].args, lang, codes=True)}
        if isinstance(item["message"], Message) else item
        for item in report["compliance"]]}


def to_json(value):
    """Plain JSON types: Decimal → float, dates → ISO text, non-text keys → text, NaN → None."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: as they are
        return value
    if kind is float:
        return None if math.isnan(value) or math.isinf(value) else value
    if kind is dict:
        return {k if type(k) is str else str(k): to_json(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_json(v) for v in value]
    if kind is Decimal:
        return float(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return to_json(value.item())
    return value
