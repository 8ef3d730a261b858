"""The figures engine (metrics.md): pure computation on a BookData, as of a date D.

Everything here is vectorised pandas over int64 fen; amounts leave as exact Decimal
yuan (quantized to 0.01) only at the end, ratios and rates as floats (None where
undefined). IRRs come from `pyxirr.xirr`, one call per investment or group.

The one trick used throughout: every investment's NAV is appended to the flows as a
positive flow on D. A group's pooled IRR is then simply the XIRR of the union of its
members' augmented flows (same-day flows add up), whatever the grouping.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Iterable

import numpy as np
import pandas as pd
import pyxirr

from portfolio.data import BookData

SUMMARY_KEYS = ("commitment", "paid_in", "unfunded", "distributed", "nav", "tvpi", "dpi", "rvpi", "irr")
AMOUNT_KEYS = ("commitment", "paid_in", "unfunded", "distributed", "nav")
MODE_ORDER = ("sub_fund", "direct", "co_invest")
_AMOUNT_COLUMNS = ("commitment_fen", "paid_in_fen", "unfunded_fen", "distributed_fen", "nav_fen")


class UnknownFund(KeyError):
    """The fund code is not in the book."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else "unknown fund"


# ---------------------------------------------------------------- small helpers
def ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def yuan(fen) -> Decimal:
    """Exact int fen → Decimal yuan with exactly two places."""
    return Decimal(int(fen)).scaleb(-2)


def ratio(numerator, denominator) -> float | None:
    """A float ratio of two exact ints (correctly rounded), None when the denominator is 0."""
    denominator = int(denominator)
    if denominator == 0:
        return None
    return int(numerator) / denominator


def _none_if_nan(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def xirr(dates, amounts) -> float | None:
    """pyxirr's XIRR (actual/365, default guess); None when no rate exists or none is found."""
    if len(amounts) < 2:
        return None
    amounts = np.asarray(amounts, dtype="float64")
    biggest = float(np.abs(amounts).max())
    if biggest == 0:
        return None
    try:
        # pyxirr stops on an absolute NPV tolerance: scale to 1 so that the rate found does not
        # depend on the unit (yuan or fen) or the size of the fund
        return _none_if_nan(pyxirr.xirr(dates, amounts / biggest, silent=True))
    except (pyxirr.InvalidPaymentsError, ValueError, OverflowError):
        return None


def fund_family(book: BookData, fund_code: str) -> list[str]:
    """The fund and every fund whose parent_code leads up to it (metrics.md roll-up)."""
    funds = book.funds
    if not (funds["code"] == fund_code).any():
        raise UnknownFund(f"没有基金 {fund_code}（unknown fund {fund_code!r}）")
    children: dict[str, list[str]] = {}
    for code, parent in zip(funds["code"], funds["parent_code"]):
        if parent is not None and not (isinstance(parent, float) and math.isnan(parent)) and str(parent):
            children.setdefault(str(parent), []).append(str(code))
    family, todo = [fund_code], [fund_code]
    while todo:  # a cycle in bad data cannot loop forever
        for child in children.get(todo.pop(), []):
            if child not in family:
                family.append(child)
                todo.append(child)
    return family


def fund_investment_ids(book: BookData, fund_code: str, as_of: dt.date) -> list[str]:
    """The investments rolled up into the fund and dated on or before D, ordered by (date, id)."""
    inv = book.investments
    chosen = inv[inv["fund_code"].isin(fund_family(book, fund_code)) & (inv["date"] <= ts(as_of))]
    return list(chosen.sort_values(["date", "id"], kind="stable")["id"])


# ---------------------------------------------------------------- positions
@dataclass(frozen=True)
class Positions:
    """Per-investment figures as of D (int fen) and the flows they come from.

    rows:  one row per investment (report order), with the book's investment columns plus
           paid_in_fen, distributed_fen, unfunded_fen, nav_fen, valuation_as_of,
           valuation_method, sector, region_code, region, vintage, target_name.
    flows: the fund-view flows for IRR: investment_id, day (datetime64[D]), amount (float
           fen; contributions negative), is_nav; each investment's NAV is a row on D.
    """

    as_of: pd.Timestamp
    rows: pd.DataFrame
    flows: pd.DataFrame


def positions(book: BookData, investment_ids: Iterable[str], as_of: dt.date,
              home_region_prefix: str = "3302") -> Positions:
    """Per-investment paid_in, distributed, unfunded and rolled-forward NAV as of D."""
    d = ts(as_of)
    ids = list(investment_ids)
    inv = book.investments
    rows = inv[inv["id"].isin(ids) & (inv["date"] <= d)].sort_values(["date", "id"], kind="stable")
    rows = rows.reset_index(drop=True)
    id_index = pd.Index(rows["id"])

    flows = book.flows
    flows = flows[flows["investment_id"].isin(id_index) & (flows["date"] <= d)]
    is_contribution = (flows["type"] == "contribution").to_numpy()
    amount = flows["amount_fen"].to_numpy(dtype="int64")
    # paid_in / distributed per investment: exact int64 sums
    pos = id_index.get_indexer(flows["investment_id"])
    n = len(rows)
    paid = _int_sums(pos[is_contribution], amount[is_contribution], n)
    distributed = _int_sums(pos[~is_contribution], amount[~is_contribution], n)

    # latest valuation on or before D, per investment
    vals = book.valuations
    vals = vals[vals["investment_id"].isin(id_index) & (vals["as_of"] <= d)]
    latest = vals.sort_values("as_of", kind="stable").drop_duplicates("investment_id", keep="last")
    latest = latest.set_index("investment_id").reindex(id_index)
    has_val = latest["as_of"].notna().to_numpy()
    val_as_of = latest["as_of"].to_numpy(dtype="datetime64[ns]")
    fair_value = latest["fair_value_fen"].fillna(0).to_numpy(dtype="int64")

    # roll-forward: flows dated after V.as_of (and on or before D); flows on V.as_of are inside V
    signed = np.where(is_contribution, amount, -amount)
    after = np.zeros(len(pos), dtype=bool)
    if len(pos):
        flow_dates = flows["date"].to_numpy(dtype="datetime64[ns]")
        v_dates = val_as_of[pos]
        after = has_val[pos] & (flow_dates > v_dates)
    roll = _int_sums(pos[after], signed[after], n)
    nav = np.where(has_val, np.maximum(fair_value + roll, 0), np.maximum(paid - distributed, 0))
    commitment = rows["commitment_fen"].to_numpy(dtype="int64")

    rows = rows.assign(
        paid_in_fen=paid, distributed_fen=distributed, nav_fen=nav.astype("int64"),
        unfunded_fen=np.maximum(commitment - paid, 0),
        valuation_as_of=latest["as_of"].to_numpy(),
        valuation_method=latest["method"].to_numpy(dtype=object),
    )
    rows = _with_targets(book, rows, home_region_prefix)

    # fund-view flows for IRR, with each NAV added on D
    day = d.to_datetime64().astype("datetime64[D]")
    irr_flows = pd.DataFrame({
        "investment_id": flows["investment_id"].to_numpy(),
        "day": flows["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"),
        "amount": (-signed).astype("float64"),
        "is_nav": np.zeros(len(signed), dtype=bool),
    })
    nav_flows = pd.DataFrame({"investment_id": rows["id"].to_numpy(),
                              "day": np.full(n, day, dtype="datetime64[D]"),
                              "amount": rows["nav_fen"].to_numpy().astype("float64"),
                              "is_nav": np.ones(n, dtype=bool)})
    irr_flows = pd.concat([irr_flows, nav_flows], ignore_index=True)
    return Positions(as_of=d, rows=rows, flows=irr_flows)


def _int_sums(positions_: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums of values by position (np.bincount would go through floats)."""
    out = np.zeros(n, dtype="int64")
    if len(positions_):
        np.add.at(out, positions_, values.astype("int64"))
    return out


def _with_targets(book: BookData, rows: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Sector, region, target name and vintage of each investment's target."""
    companies = book.companies.set_index("code")
    sub_funds = book.sub_funds.set_index("code")
    is_sf = (rows["mode"] == "sub_fund").to_numpy()
    target = rows["target_code"]

    def pick(column: str) -> np.ndarray:
        from_sf = target.map(sub_funds[column]) if column in sub_funds else pd.Series(None, index=rows.index)
        from_co = target.map(companies[column]) if column in companies else pd.Series(None, index=rows.index)
        return np.where(is_sf, from_sf.to_numpy(dtype=object), from_co.to_numpy(dtype=object))

    region_code = pick("region_code")
    local = np.array([isinstance(r, str) and r.startswith(prefix) for r in region_code], dtype=bool)
    return rows.assign(
        sector=pick("sector"), region_code=region_code, target_name=pick("name"),
        region=np.where(local, "local", "outside"),
        vintage=rows["date"].dt.year.astype("int64"),
    )


# ---------------------------------------------------------------- groups
def _irr_by(flows: pd.DataFrame, keys: pd.Series) -> dict:
    """Pooled XIRR per key; `keys` gives the group of each flow row (NaN rows are skipped)."""
    frame = pd.DataFrame({"key": keys.to_numpy(), "day": flows["day"].to_numpy(),
                          "amount": flows["amount"].to_numpy()})
    frame = frame[frame["key"].notna()]
    out = {}
    if frame.empty:
        return out
    order = np.argsort(frame["key"].to_numpy(), kind="stable")
    key_arr = frame["key"].to_numpy()[order]
    days = frame["day"].to_numpy()[order]
    amounts = frame["amount"].to_numpy()[order]
    bounds = np.flatnonzero(key_arr[1:] != key_arr[:-1]) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(key_arr)]])
    for s, e in zip(starts, ends):
        out[key_arr[s]] = xirr(days[s:e], amounts[s:e])
    return out


def _summary_from_sums(sums: dict, irr: float | None) -> dict:
    paid, dist, nav = sums["paid_in_fen"], sums["distributed_fen"], sums["nav_fen"]
    return {
        "commitment": yuan(sums["commitment_fen"]), "paid_in": yuan(paid),
        "unfunded": yuan(sums["unfunded_fen"]), "distributed": yuan(dist), "nav": yuan(nav),
        "tvpi": ratio(dist + nav, paid), "dpi": ratio(dist, paid), "rvpi": ratio(nav, paid), "irr": irr,
    }


def summarise(pos: Positions, by: str | None = None) -> dict:
    """Summary figures of all the positions (by=None) or of each value of column `by`.

    Amounts are exact sums of the members' int fen; ratios pooled; IRR pooled.
    """
    rows = pos.rows
    if by is None:
        sums = {c: int(rows[c].sum()) for c in _AMOUNT_COLUMNS}
        return _summary_from_sums(sums, xirr(pos.flows["day"].to_numpy(), pos.flows["amount"].to_numpy()))
    if rows.empty:
        return {}
    grouped = rows.groupby(by, sort=True)[list(_AMOUNT_COLUMNS)].sum()
    key_of = rows.set_index("id")[by]
    irrs = _irr_by(pos.flows, pos.flows["investment_id"].map(key_of))
    return {key: _summary_from_sums({c: int(grouped.at[key, c]) for c in _AMOUNT_COLUMNS}, irrs.get(key))
            for key in grouped.index}


def per_investment(pos: Positions) -> list[dict]:
    """One summary per investment (report order), with its IRR."""
    irrs = _irr_by(pos.flows, pos.flows["investment_id"])
    out = []
    for row in pos.rows.itertuples(index=False):
        sums = {c: getattr(row, c) for c in _AMOUNT_COLUMNS}
        out.append(_summary_from_sums(sums, irrs.get(row.id)))
    return out


def with_nav_share(groups: dict, total_nav_fen: int) -> dict:
    """Adds nav_share = group nav / fund nav (unrounded; None when the fund's nav is 0)."""
    for figures in groups.values():
        nav_fen = int(figures["nav"].scaleb(2))
        figures["nav_share"] = ratio(nav_fen, total_nav_fen)
    return groups


def group_figures(book: BookData, investment_ids: Iterable[str], as_of: dt.date,
                  home_region_prefix: str = "3302") -> dict:
    """The summary keys for any set of investments (dated on or before D), Decimal amounts."""
    return summarise(positions(book, investment_ids, as_of, home_region_prefix))


# ---------------------------------------------------------------- look-through
def latest_reports(book: BookData, sub_fund_codes: Iterable[str], as_of: dt.date) -> pd.DataFrame:
    """The rows of each sub-fund's latest holdings report dated on or before D."""
    h = book.holdings
    h = h[h["sub_fund_code"].isin(list(sub_fund_codes)) & (h["as_of"] <= ts(as_of))]
    if h.empty:
        return h
    last = h.groupby("sub_fund_code")["as_of"].transform("max")
    return h[h["as_of"] == last]


def lookthrough_by_sector(book: BookData, pos: Positions) -> dict:
    """Our NAV spread over sectors, sub-fund NAV in proportion to its holdings' fair values.

    Allocation is exact (fractions of a fen); each sector total is rounded to the fen
    (half up) at the end only. A sub-fund without a report (or whose report's fair values
    sum to 0) stays whole in its own sector.
    """
    rows = pos.rows
    totals: dict[str, Fraction] = {}
    direct = rows[rows["mode"] != "sub_fund"].groupby("sector")["nav_fen"].sum()
    for sector, nav in direct.items():
        totals[sector] = totals.get(sector, Fraction(0)) + int(nav)
    sf_rows = rows[rows["mode"] == "sub_fund"]
    if not sf_rows.empty:
        nav_by_sf = sf_rows.groupby("target_code")["nav_fen"].sum()
        own_sector = sf_rows.drop_duplicates("target_code").set_index("target_code")["sector"]
        reports = latest_reports(book, nav_by_sf.index, pos.as_of)
        sectors = book.companies.set_index("code")["sector"]
        fv = (reports.assign(sector=reports["company_code"].map(sectors))
              .groupby(["sub_fund_code", "sector"])["fair_value_fen"].sum())
        fv_total = fv.groupby(level=0).sum()
        for sf, nav in nav_by_sf.items():
            nav = int(nav)
            total = int(fv_total.get(sf, 0))
            if total <= 0:
                key = own_sector[sf]
                totals[key] = totals.get(key, Fraction(0)) + nav
                continue
            for sector, value in fv.loc[sf].items():
                totals[sector] = totals.get(sector, Fraction(0)) + Fraction(nav * int(value), total)
    fund_nav = int(rows["nav_fen"].sum())
    out = {}
    for sector in sorted(totals):
        amount = totals[sector]
        if amount == 0:
            continue  # a sector whose share is 0 may be left out (metrics.md)
        share = None if fund_nav == 0 else float(amount / fund_nav)
        out[sector] = {"nav": yuan(_round_half_up(amount)), "nav_share": share}
    return out


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


# ---------------------------------------------------------------- concentration
def concentration(pos: Positions, top_n: int = 10) -> dict:
    """Over the fund's companies and sub-funds by NAV: top-10 share, largest share, HHI."""
    rows = pos.rows
    fund_nav = int(rows["nav_fen"].sum())
    kind = np.where(rows["mode"] == "sub_fund", "sub_fund", "company")
    by_target = (rows.assign(kind=kind).groupby(["kind", "target_code"], sort=True)
                 .agg(nav_fen=("nav_fen", "sum"), name=("target_name", "first")).reset_index())
    by_target = by_target.sort_values(["nav_fen", "target_code"], ascending=[False, True], kind="stable")
    navs = [int(v) for v in by_target["nav_fen"]]
    if fund_nav == 0:
        top10 = largest = hhi = None
    else:
        top10 = sum(navs[:top_n]) / fund_nav
        largest = navs[0] / fund_nav if navs else None
        # HHI from exact fractions, converted once
        hhi = float(sum(Fraction(v, fund_nav) ** 2 for v in navs))
    top = [{"code": r.target_code, "name": r.name, "kind": r.kind, "nav": yuan(r.nav_fen),
            "nav_share": ratio(r.nav_fen, fund_nav)}
           for r in by_target.head(top_n).itertuples(index=False)]
    return {"top10_share": top10, "largest_share": largest, "hhi": hhi, "top": top}


# ---------------------------------------------------------------- periodic
def quarterly_flows(pos: Positions) -> np.ndarray:
    """Net flows (fund view, yuan floats) per calendar quarter, first flow's quarter to D's,
    empty quarters as 0, every NAV in D's quarter (it is on D)."""
    flows = pos.flows
    if flows.empty:
        return np.array([])
    periods = pd.PeriodIndex(pd.to_datetime(flows["day"]), freq="Q")
    sums = pd.Series(flows["amount"].to_numpy(), index=periods).groupby(level=0).sum()
    full = pd.period_range(sums.index.min(), pd.Period(pos.as_of, freq="Q"), freq="Q")
    return (sums.reindex(full, fill_value=0.0) / 100.0).to_numpy()


def periodic_figures(pos: Positions, finance_rate: float = 0.08, reinvest_rate: float = 0.08) -> dict:
    """Quarterly IRR and MIRR (numpy-financial), both annualised as (1 + q)^4 − 1.

    The annual finance and reinvestment rates are turned into the equivalent compound
    quarterly rates (1 + r)^(1/4) − 1, so that a whole year at the quarterly rate equals
    the annual rate; MIRR is computed per quarter on those and annualised like the IRR.
    """
    import numpy_financial as npf

    values = quarterly_flows(pos)
    if len(values) < 2 or not ((values < 0).any() and (values > 0).any()):
        return {"quarterly_irr": None, "mirr": None}
    q = _none_if_nan(npf.irr(values))
    fq = (1 + finance_rate) ** 0.25 - 1
    rq = (1 + reinvest_rate) ** 0.25 - 1
    m = _none_if_nan(npf.mirr(values, fq, rq))
    return {"quarterly_irr": None if q is None else (1 + q) ** 4 - 1,
            "mirr": None if m is None else (1 + m) ** 4 - 1}
