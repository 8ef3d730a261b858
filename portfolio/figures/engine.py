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
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import pandas as pd
import pyxirr

from portfolio.errors import AmountRangeError
from portfolio.figures.bookdata import BookData
from portfolio.figures.scope import UnknownFund, holdings_of  # noqa: F401  (UnknownFund: re-exported)
from portfolio.figures.settings import HOME_REGION_PREFIX, MIRR_FINANCE_RATE, MIRR_REINVEST_RATE
from portfolio.money import yuan

SUMMARY_KEYS = ("commitment", "paid_in", "unfunded", "distributed", "nav", "tvpi", "dpi", "rvpi", "irr")
AMOUNT_KEYS = ("commitment", "paid_in", "unfunded", "distributed", "nav")
MODE_ORDER = ("sub_fund", "direct", "co_invest")
_AMOUNT_COLUMNS = ("commitment_fen", "paid_in_fen", "unfunded_fen", "distributed_fen", "nav_fen")




# ---------------------------------------------------------------- small helpers
def ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def ratio(numerator, denominator) -> float | None:
    """A float ratio of two exact ints (correctly rounded), None when the denominator is 0."""
    denominator = int(denominator)
    if denominator == 0:
        return None
    return int(numerator) / denominator


def none_if_nan(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def xirr(dates, amounts) -> float | None:
    """pyxirr's XIRR (actual/365, from its default guess) of amounts in yuan; None when no
    rate exists (no sign change) or pyxirr finds none (metrics.md: "or it cannot be found";
    never a made-up number).

    The amounts go in as yuan, the book's unit, as a person checking the figure with pyxirr
    or Excel would enter them, and the rate is the one pyxirr gives them (metrics.md defines
    the figure by pyxirr's xirr from its default guess). Where it finds none, there is none:
    this happens for deep losses over long histories (a rate of about −50 % a year and
    below, with many flows), although pyxirr may find one for the same flows in other
    units; a rate asked for in other units would not be the one a reader of the book gets.
    pyxirr stops on an absolute NPV tolerance, so on small amounts it may return a rate
    that solves nothing (NPV 0.0005 yuan on flows of 0.01): each rate it returns is checked
    against the equation (`solves`), and one that does not hold is asked for once more
    with the amounts scaled to a largest of 1, kept only if that one solves the equation.
    """
    amounts = np.asarray(amounts, dtype="float64")
    if len(amounts) < 2 or not ((amounts < 0).any() and (amounts > 0).any()):
        return None
    rate = _pyxirr(dates, amounts)
    if rate is None or solves(rate, dates, amounts):
        return rate
    return _asked_again(dates, amounts)


def _asked_again(dates, amounts: np.ndarray) -> float | None:
    """For flows where pyxirr's rate on yuan does not solve the equation (it stopped short
    on small amounts): pyxirr on the amounts scaled to a largest of 1, if that rate solves
    it; else None."""
    rate = _pyxirr(dates, amounts / np.abs(amounts).max())
    return rate if rate is not None and solves(rate, dates, amounts) else None


def _pyxirr(dates, amounts) -> float | None:
    try:
        return none_if_nan(pyxirr.xirr(dates, amounts, silent=True))
    except (pyxirr.InvalidPaymentsError, ValueError, OverflowError):
        return None


ROOT_TOLERANCE = 1e-9  # |NPV| at the rate, as a share of Σ|discounted flows|
ROOT_ULPS = 4          # how many floats from the rate the NPV may change sign (near −100 %)


def solves(rate: float, dates, amounts) -> bool:
    """The rate solves Σ cf_i (1 + r)^(−t_i) = 0: the NPV is nought to ROOT_TOLERANCE of
    the discounted flows' size, or, near −100 % where a float rate cannot come closer, the
    NPV changes sign within 1e-6 of log(1 + r) either side, or within ROOT_ULPS floats of r
    either side. (1 + r of 3e-11 is known to a few parts in a million; of 7e-13, a 90 % loss
    within a month, to a part in ten thousand: the floats next to r are the closest any
    rate can come.) A rate of −1.0 is pyxirr's float for a root closer to −100 % than any
    other float (`_root_below_the_least_float`). Computed in logs, so huge rates do not overflow."""
    days = np.asarray(dates, dtype="datetime64[D]")
    t = (days - days.min()).astype("float64") / 365.0
    amounts = np.asarray(amounts, dtype="float64")

    def npv(log_growth: float) -> tuple[float, float]:
        with np.errstate(over="ignore", invalid="ignore"):
            terms = amounts * np.exp(-t * log_growth)
        return float(terms.sum()), float(np.abs(terms).sum())

    if rate == -1.0:
        return _root_below_the_least_float(t, amounts)
    if not rate > -1.0:
        return False
    log_growth = math.log1p(rate)
    value, size = npv(log_growth)
    if math.isfinite(value) and math.isfinite(size) and abs(value) <= ROOT_TOLERANCE * size:
        return True
    for below_log, above_log in ((log_growth * (1 - 1e-6), log_growth * (1 + 1e-6)),
                                 (math.log1p(max(rate - ROOT_ULPS * math.ulp(rate), math.nextafter(-1.0, 0.0))),
                                  math.log1p(rate + ROOT_ULPS * math.ulp(rate)))):
        below, above = npv(below_log)[0], npv(above_log)[0]
        if math.isfinite(below) and math.isfinite(above) and (below < 0) != (above < 0):
            return True
    return False


def _root_below_the_least_float(t: np.ndarray, amounts: np.ndarray) -> bool:
    """pyxirr's −1.0 is a root when one lies between −100 % and the least float rate above it,
    r₀ = −1 + 2⁻⁵³: whose float is −1.0 (100,000 paid and 1 left a month on: 1 + r ≈ 1e-60).
    As r falls to −100 % the NPV takes the sign of the latest day's net flow (its discount
    factor grows fastest); a root lies below r₀ when the NPV at r₀ has the other sign.
    Each day's flows are netted first, to the fen (0.10 + 0.20 − 0.30 is no flow, not a float's
    5.6e-17), and days that net to nothing left out; the NPV is scaled by (1 + r₀)^t of the
    latest day left, so that day's term is its net and no term overflows, and a sum of exactly
    nought is a true cancellation, never older terms underflowing."""
    days, index = np.unique(t, return_inverse=True)
    net = np.round(np.bincount(index, weights=amounts, minlength=len(days)), 2)
    keep = net != 0.0
    days, net = days[keep], net[keep]
    if len(net) < 2 or not ((net < 0).any() and (net > 0).any()):
        return False
    limit = net[-1]
    log_least = math.log1p(math.nextafter(-1.0, 0.0))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        value = float((net * np.exp((days[-1] - days) * log_least)).sum())
    return math.isfinite(value) and (value == 0.0 or (value < 0) != (limit < 0))


def fund_investment_ids(book: BookData, fund_code: str, as_of: dt.date) -> list[str]:
    """The investments rolled up into the fund and dated on or before D, ordered by (date, id)."""
    return holdings_of(book, fund_code, as_of).ids


# ---------------------------------------------------------------- positions
@dataclass(frozen=True)
class Positions:
    """Per-investment figures as of D (int fen) and the flows they come from.

    rows:  one row per investment (report order), with the book's investment columns plus
           paid_in_fen, distributed_fen, unfunded_fen, nav_fen, valuation_as_of,
           valuation_method, sector, region_code, region, vintage, target_name.
    The fund-view flows for IRR (contributions negative; each investment's NAV added as a
    flow on D) are kept as three aligned arrays: flow_row (the row of `rows` each flow
    belongs to), flow_day (datetime64[D]) and flow_amount (int64 fen). `flows` gives
    them as a DataFrame (investment_id, day, amount, is_nav) for readers who want one.
    """

    as_of: pd.Timestamp
    rows: pd.DataFrame
    flow_row: np.ndarray
    flow_day: np.ndarray
    flow_amount: np.ndarray

    @cached_property
    def flows(self) -> pd.DataFrame:
        n = len(self.rows)
        is_nav = np.zeros(len(self.flow_row), dtype=bool)
        is_nav[len(is_nav) - n:] = True  # the NAV flows come last, one per row
        return pd.DataFrame({"investment_id": self.rows["id"].to_numpy()[self.flow_row],
                             "day": self.flow_day, "amount": self.flow_amount, "is_nav": is_nav})

    @cached_property
    def daily_flows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, day, amount): each investment's flows added up by day, in date order."""
        order = np.lexsort((self.flow_row, self.flow_day))
        row, day, amount = self.flow_row[order], self.flow_day[order], self.flow_amount[order]
        if len(order):
            first = np.flatnonzero(np.r_[True, (row[1:] != row[:-1]) | (day[1:] != day[:-1])])
            row, day, amount = row[first], day[first], np.add.reduceat(amount, first)  # exact int fen
        return row, day, amount


def positions(book: BookData, investment_ids: Iterable[str], as_of: dt.date,
              home_region_prefix: str = HOME_REGION_PREFIX) -> Positions:
    """Per-investment paid_in, distributed, unfunded and rolled-forward NAV as of D."""
    d = ts(as_of)
    d64 = d.to_datetime64()
    inv = book.investments
    rows = inv[inv["id"].isin(list(investment_ids)) & (inv["date"] <= d)].sort_values(["date", "id"], kind="stable")
    rows = rows.reset_index(drop=True)
    id_index = pd.Index(rows["id"])
    n = len(rows)

    # the flows of these investments dated on or before D; row = their investment's row
    flows = book.flows
    row = id_index.get_indexer(flows["investment_id"])
    flow_dates = flows["date"].to_numpy(dtype="datetime64[ns]")
    keep = (row >= 0) & (flow_dates <= d64)
    row, flow_dates = row[keep], flow_dates[keep]
    amount = flows["amount_fen"].to_numpy(dtype="int64")[keep]
    is_contribution = flows["type"].to_numpy(dtype=object)[keep] == "contribution"
    # paid_in / distributed per investment: exact int64 sums
    paid = int_sums(row[is_contribution], amount[is_contribution], n)
    distributed = int_sums(row[~is_contribution], amount[~is_contribution], n)

    # latest valuation on or before D, per investment (the later book row on a tie)
    vals = book.valuations
    v_row = id_index.get_indexer(vals["investment_id"])
    v_dates = vals["as_of"].to_numpy(dtype="datetime64[ns]")
    v_keep = np.flatnonzero((v_row >= 0) & (v_dates <= d64))
    order = v_keep[np.lexsort((v_dates[v_keep], v_row[v_keep]))]
    last = order[np.r_[v_row[order][1:] != v_row[order][:-1], True]] if len(order) else order
    has_val = np.zeros(n, dtype=bool)
    has_val[v_row[last]] = True
    val_as_of = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    val_as_of[v_row[last]] = v_dates[last]
    fair_value = np.zeros(n, dtype="int64")
    fair_value[v_row[last]] = vals["fair_value_fen"].to_numpy(dtype="int64")[last]
    method = np.full(n, None, dtype=object)
    method[v_row[last]] = vals["method"].to_numpy(dtype=object)[last]

    # roll-forward: flows dated after V.as_of (and on or before D); flows on V.as_of are inside V
    signed = np.where(is_contribution, amount, -amount)
    after = has_val[row] & (flow_dates > val_as_of[row])
    roll = int_sums(row[after], signed[after], n)
    nav = np.where(has_val, np.maximum(fair_value + roll, 0), np.maximum(paid - distributed, 0))
    commitment = rows["commitment_fen"].to_numpy(dtype="int64")
    _check_exact_range(amount, fair_value, commitment)

    rows = rows.assign(
        paid_in_fen=paid, distributed_fen=distributed, nav_fen=nav.astype("int64"),
        unfunded_fen=np.maximum(commitment - paid, 0),
        valuation_as_of=val_as_of, valuation_method=method,
    )
    rows = _with_targets(book, rows, home_region_prefix)

    # fund-view flows for IRR, each NAV appended as a flow on D (NAV flows last)
    return Positions(
        as_of=d, rows=rows,
        flow_row=np.concatenate([row, np.arange(n)]).astype("int64"),
        flow_day=np.concatenate([flow_dates.astype("datetime64[D]"),
                                 np.full(n, d64.astype("datetime64[D]"))]),
        flow_amount=np.concatenate([-signed, nav]).astype("int64"),
    )


# Every sum the engine makes (per investment, per group, per fund) is bounded by the sum of
# the absolute amounts it could add up. Below 2^62 fen (about 4.6e16 yuan) every such sum,
# and the difference of two, fits an int64 exactly; above it a sum could wrap round, so the
# engine refuses rather than answer a wrong figure (one typed amount is at most 1e15 yuan).
EXACT_LIMIT_FEN = 2 ** 62


def _check_exact_range(*amounts: np.ndarray) -> None:
    # the bound in floating point: a relative error of 1e-16 cannot carry 2^62 across 2^63
    scale = sum(float(np.abs(a.astype(np.float64)).sum()) for a in amounts)
    if scale >= EXACT_LIMIT_FEN:
        raise AmountRangeError(
            f"账簿金额的合计（约 {scale / 100:.3g} 元）超出了能精确计算的范围（{EXACT_LIMIT_FEN / 100:.3g} 元），无法出具报告")


def int_sums(positions_: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums of values by position (np.bincount would go through floats)."""
    out = np.zeros(n, dtype="int64")
    if len(positions_):
        np.add.at(out, positions_, values.astype("int64"))
    return out


def _with_targets(book: BookData, rows: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Sector, region, target name and vintage of each investment's target."""
    is_sf = (rows["mode"] == "sub_fund").to_numpy()
    target = rows["target_code"]
    sf_at = pd.Index(book.sub_funds["code"]).get_indexer(target)
    co_at = pd.Index(book.companies["code"]).get_indexer(target)

    def pick(column: str) -> np.ndarray:
        out = np.full(len(rows), None, dtype=object)
        for frame, at, where in ((book.sub_funds, sf_at, is_sf), (book.companies, co_at, ~is_sf)):
            if column in frame:
                found = where & (at >= 0)
                out[found] = frame[column].to_numpy(dtype=object)[at[found]]
        return out

    region_code = pick("region_code")
    local = pd.Series(region_code, dtype=object).str.startswith(prefix).fillna(False).to_numpy(dtype=bool)
    return rows.assign(
        sector=pick("sector"), region_code=region_code, target_name=pick("name"),
        region=np.where(local, "local", "outside"),
        vintage=rows["date"].dt.year.astype("int64"),
    )


# ---------------------------------------------------------------- groups
def _irr_of_groups(pos: Positions, codes: np.ndarray, n_groups: int) -> list[float | None]:
    """Pooled XIRR of each group 0..n_groups-1; codes gives each row's group (-1: none).

    Each group's flows go to pyxirr in date order with same-day flows added up (its
    members' NAVs become one flow on D): the XIRR equation is the same, and pyxirr's
    answer then does not depend on the order the flows were booked in.
    """
    row, day, amount = pos.daily_flows
    flow_codes = codes[row]
    # a stable sort by group keeps each group's flows in date order (radix sort on int16)
    small = flow_codes.astype("int16") if n_groups < 2**15 else flow_codes
    order = np.argsort(small, kind="stable")
    group, day, amount = flow_codes[order], day[order], amount[order]
    if len(order):
        first = np.flatnonzero(np.r_[True, (group[1:] != group[:-1]) | (day[1:] != day[:-1])])
        group, day, amount = group[first], day[first], np.add.reduceat(amount, first)
    bounds = np.searchsorted(group, np.arange(n_groups + 1))
    yuan_amounts = amount / 100.0
    # a rate exists only where the flows change sign: known for every group at once
    filled = np.flatnonzero(bounds[1:] > bounds[:-1])
    signed = np.zeros(n_groups, dtype=bool)
    if len(filled):
        starts = bounds[:-1][filled]
        signed[filled] = (np.minimum.reduceat(amount, starts) < 0) & (np.maximum.reduceat(amount, starts) > 0)
    rates = np.full(n_groups, np.nan)
    for g in np.flatnonzero(signed):
        s, e = bounds[g], bounds[g + 1]
        rate = _pyxirr(day[s:e], yuan_amounts[s:e])
        rates[g] = np.nan if rate is None else rate
    # every rate pyxirr gave is checked against the equation at once; the few that fail go
    # the long way, one group at a time (`solves`, then asked again: `xirr`); where it found
    # none there is none
    found = signed & ~np.isnan(rates)
    for g in np.flatnonzero(found & ~_solved_at_once(group, day, yuan_amounts, bounds, rates)):
        s, e = bounds[g], bounds[g + 1]
        if not solves(rates[g], day[s:e], yuan_amounts[s:e]):
            rate = _asked_again(day[s:e], yuan_amounts[s:e])
            rates[g] = np.nan if rate is None else rate
    _irr_of_netted_out(pos, codes, signed, rates)
    return [None if math.isnan(r) else float(r) for r in rates]


def _irr_of_netted_out(pos: Positions, codes: np.ndarray, signed: np.ndarray, rates: np.ndarray) -> None:
    """The groups whose flows change sign only before each day's flows are added up: every
    day nets to nought (a deal paid on D and held at cost: −X and +X on D). Every rate then
    solves the equation, and the rate is pyxirr's on the flows as they are (metrics.md: the
    one it finds from its default guess; 0.0), kept where it solves them. Into `rates`."""
    group = codes[pos.flow_row]
    amount = pos.flow_amount
    n = len(rates)
    paid_out = np.bincount(group[(group >= 0) & (amount < 0)], minlength=n)[:n] > 0
    paid_in = np.bincount(group[(group >= 0) & (amount > 0)], minlength=n)[:n] > 0
    for g in np.flatnonzero(paid_out & paid_in & ~signed):
        members = np.flatnonzero(group == g)
        members = members[np.argsort(pos.flow_day[members], kind="stable")]
        days, yuan_amounts = pos.flow_day[members], amount[members] / 100.0
        rate = _pyxirr(days, yuan_amounts)
        rates[g] = rate if rate is not None and solves(rate, days, yuan_amounts) else np.nan


def _solved_at_once(group: np.ndarray, day: np.ndarray, amount: np.ndarray, bounds: np.ndarray,
                    rates: np.ndarray) -> np.ndarray:
    """`solves`' first test for every group's rate in one pass over the flows (True where
    the NPV at the rate is nought to ROOT_TOLERANCE of the discounted flows' size)."""
    n = len(rates)
    members = slice(bounds[0], bounds[-1])
    group, day, amount = group[members], day[members], amount[members]
    if not len(group):
        return np.zeros(n, dtype=bool)
    first_day = day[bounds[:-1].clip(max=bounds[-1] - 1) - bounds[0]]
    t = (day - first_day[group]).astype("float64") / 365.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        log_growth = np.log1p(np.where(rates > -1, rates, np.nan))
        terms = amount * np.exp(-t * log_growth[group])
        value = np.bincount(group, weights=terms, minlength=n)
        size = np.bincount(group, weights=np.abs(terms), minlength=n)
        return np.isfinite(value) & np.isfinite(size) & (np.abs(value) <= ROOT_TOLERANCE * size)


def _summary_from_sums(sums: dict, irr: float | None) -> dict:
    paid, dist, nav = sums["paid_in_fen"], sums["distributed_fen"], sums["nav_fen"]
    return {
        "commitment": yuan(sums["commitment_fen"]), "paid_in": yuan(paid),
        "unfunded": yuan(sums["unfunded_fen"]), "distributed": yuan(dist), "nav": yuan(nav),
        "tvpi": ratio(dist + nav, paid), "dpi": ratio(dist, paid), "rvpi": ratio(nav, paid), "irr": irr,
    }


def _summaries(pos: Positions, codes: np.ndarray, n_groups: int) -> list[dict]:
    """The summary of each group: exact int sums of the members, pooled ratios and IRR."""
    rows = pos.rows
    member = codes >= 0
    sums = {c: int_sums(codes[member], rows[c].to_numpy(dtype="int64")[member], n_groups).tolist()
            for c in _AMOUNT_COLUMNS}
    irrs = _irr_of_groups(pos, codes, n_groups)
    return [_summary_from_sums({c: sums[c][g] for c in _AMOUNT_COLUMNS}, irrs[g]) for g in range(n_groups)]


def summarise(pos: Positions, by: str | None = None) -> dict:
    """Summary figures of all the positions (by=None) or of each value of column `by`
    (keys sorted; rows without a value are left out).

    Amounts are exact sums of the members' int fen; ratios pooled; IRR pooled.
    """
    n = len(pos.rows)
    if by is None:
        return _summaries(pos, np.zeros(n, dtype="int64"), 1)[0]
    if n == 0:
        return {}
    codes, keys = pd.factorize(pos.rows[by], sort=True)
    keys = [k.item() if hasattr(k, "item") else k for k in keys]
    return dict(zip(keys, _summaries(pos, codes.astype("int64"), len(keys))))


def per_investment(pos: Positions) -> list[dict]:
    """One summary per investment (report order), with its IRR."""
    n = len(pos.rows)
    return _summaries(pos, np.arange(n, dtype="int64"), n)


def amounts_per_investment(pos: Positions) -> list[dict]:
    """Each investment's id and amounts (report order), Decimal yuan, as per_investment gives
    them, without its ratios or IRR: all the quarterly report reads of its openings (an
    XIRR and the ratios of each of a big fund's thousands of investments, twice, for nothing)."""
    rows = pos.rows
    keys = [c.removesuffix("_fen") for c in _AMOUNT_COLUMNS]
    amounts = ([yuan(v) for v in rows[c].to_numpy(dtype="int64").tolist()] for c in _AMOUNT_COLUMNS)
    return [{"id": code, **dict(zip(keys, values))} for code, *values in zip(rows["id"].tolist(), *amounts)]


def with_nav_share(groups: dict, total_nav_fen: int) -> dict:
    """Adds nav_share = group nav / fund nav (unrounded; None when the fund's nav is 0)."""
    for figures in groups.values():
        nav_fen = int(figures["nav"].scaleb(2))
        figures["nav_share"] = ratio(nav_fen, total_nav_fen)
    return groups


def group_figures(book: BookData, investment_ids: Iterable[str], as_of: dt.date,
                  home_region_prefix: str = HOME_REGION_PREFIX) -> dict:
    """The summary keys for any set of investments (dated on or before D), Decimal amounts."""
    return summarise(positions(book, investment_ids, as_of, home_region_prefix))


# ---------------------------------------------------------------- look-through
def latest_reports(book: BookData, sub_fund_codes: Iterable[str], as_of: dt.date) -> pd.DataFrame:
    """The rows of each sub-fund's latest holdings report dated on or before D."""
    h = book.holdings
    h = h[h["sub_fund_code"].isin(list(sub_fund_codes)) & (h["as_of"] <= ts(as_of))]
    if h.empty:
        return h
    codes, uniques = pd.factorize(h["sub_fund_code"])
    days = h["as_of"].to_numpy(dtype="datetime64[ns]").view("int64")
    latest = np.full(len(uniques), np.iinfo("int64").min)
    np.maximum.at(latest, codes, days)
    return h[days == latest[codes]]


def lookthrough_by_sector(book: BookData, pos: Positions) -> dict:
    """Our NAV spread over sectors, sub-fund NAV in proportion to its holdings' fair values.

    Allocation is exact (fractions of a fen); each sector total is rounded to the fen
    (half up) at the end only. A sub-fund without a report (or whose report's fair values
    sum to 0) stays whole in its own sector.
    """
    rows = pos.rows
    # per sector, the exact shares as (numerator, denominator) pairs of ints
    shares: dict[str, list[tuple[int, int]]] = {}
    is_sf = (rows["mode"] == "sub_fund").to_numpy()
    for sector, nav in zip(rows["sector"].to_numpy(dtype=object)[~is_sf],
                           rows["nav_fen"].to_numpy(dtype="int64")[~is_sf].tolist()):
        shares.setdefault(sector, []).append((nav, 1))
    sf_rows = rows[is_sf]
    if not sf_rows.empty:
        nav_by_sf = sf_rows.groupby("target_code", sort=False)["nav_fen"].sum()
        own_sector = dict(zip(sf_rows["target_code"], sf_rows["sector"]))
        reports = latest_reports(book, nav_by_sf.index, pos.as_of)
        sector_of = pd.Index(book.companies["code"]).get_indexer(reports["company_code"])
        company_sector = book.companies["sector"].to_numpy(dtype=object)
        fv = (pd.DataFrame({"sub_fund_code": reports["sub_fund_code"].to_numpy(dtype=object),
                            "sector": np.where(sector_of >= 0, company_sector[sector_of], None),
                            "fair_value_fen": reports["fair_value_fen"].to_numpy(dtype="int64")})
              .groupby(["sub_fund_code", "sector"])["fair_value_fen"].sum())
        by_sf: dict[str, list[tuple[str, int]]] = {}
        for (sf, sector), value in zip(fv.index.tolist(), fv.tolist()):
            by_sf.setdefault(sf, []).append((sector, value))
        for sf, nav in zip(nav_by_sf.index.tolist(), nav_by_sf.tolist()):
            parts = by_sf.get(sf, [])
            total = sum(value for _, value in parts)
            if total <= 0:
                shares.setdefault(own_sector[sf], []).append((nav, 1))
                continue
            for sector, value in parts:
                shares.setdefault(sector, []).append((nav * value, total))
    fund_nav = int(rows["nav_fen"].sum())
    out = {}
    for sector in sorted(shares, key=str):
        fen, share = _sum_of_fractions(shares[sector], fund_nav)
        if fen == 0 and share in (0, None):
            continue  # a sector whose share is 0 may be left out (metrics.md)
        out[sector] = {"nav": yuan(fen), "nav_share": share}
    return out


def _sum_of_fractions(terms: list[tuple[int, int]], fund_nav: int) -> tuple[int, float | None]:
    """Σ a/b (b > 0) rounded half up to an int, and Σ a/b / fund_nav as a float; exact.

    Each a/b is split into its whole part and a remainder in [0, 1); the remainders are
    summed as floats (error far below 1e-9 for any count we meet) and, only when that sum
    lies too near a rounding boundary to decide, again as exact Fractions.
    """
    whole, remainders = 0, []
    for a, b in terms:
        q, r = divmod(a, b)
        whole += q
        if r:
            remainders.append((r, b))
    approx = math.fsum(r / b for r, b in remainders)
    tolerance = 1e-12 * (len(remainders) + 1)
    if abs((approx + 0.5) - round(approx + 0.5)) > tolerance:
        fen = whole + math.floor(approx + 0.5)
        share = None if fund_nav == 0 else (whole + approx) / fund_nav
        return fen, share
    exact = whole + sum((Fraction(r, b) for r, b in remainders), Fraction(0))
    return _round_half_up(exact), (None if fund_nav == 0 else float(exact / fund_nav))


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


# ---------------------------------------------------------------- concentration
def concentration(pos: Positions, top_n: int = 10) -> dict:
    """Over the fund's companies and sub-funds by NAV: top-10 share, largest share, HHI."""
    rows = pos.rows
    fund_nav = int(rows["nav_fen"].sum())
    kind = np.where(rows["mode"].to_numpy(dtype=object) == "sub_fund", "sub_fund", "company")
    targets = pd.DataFrame({"kind": kind, "target_code": rows["target_code"].to_numpy(dtype=object),
                            "nav_fen": rows["nav_fen"].to_numpy(dtype="int64")})
    by_target = targets.groupby(["kind", "target_code"], sort=True)["nav_fen"].sum().reset_index()
    by_target = by_target.sort_values(["nav_fen", "target_code"], ascending=[False, True], kind="stable")
    navs = by_target["nav_fen"].tolist()
    if fund_nav == 0:
        top10 = largest = hhi = None
    else:
        top10 = sum(navs[:top_n]) / fund_nav
        largest = navs[0] / fund_nav if navs else None
        # Σ (v / nav)² = Σ v² / nav², exact ints divided once (correctly rounded)
        hhi = sum(v * v for v in navs) / (fund_nav * fund_nav)
    names = dict(zip(zip(kind, targets["target_code"]), rows["target_name"].to_numpy(dtype=object)))
    top = [{"code": code, "name": names[(k, code)], "kind": k, "nav": yuan(nav), "nav_share": ratio(nav, fund_nav)}
           for k, code, nav in by_target.head(top_n).itertuples(index=False)]
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


def periodic_figures(pos: Positions, finance_rate: float = MIRR_FINANCE_RATE,
                     reinvest_rate: float = MIRR_REINVEST_RATE) -> dict:
    """Quarterly IRR and MIRR (numpy-financial), both annualised as (1 + q)^4 − 1.

    The annual finance and reinvestment rates are turned into the equivalent compound
    quarterly rates (1 + r)^(1/4) − 1, so that a whole year at the quarterly rate equals
    the annual rate; MIRR is computed per quarter on those and annualised like the IRR.
    """
    import numpy_financial as npf

    values = quarterly_flows(pos)
    if len(values) < 2 or not ((values < 0).any() and (values > 0).any()):
        return {"quarterly_irr": None, "mirr": None}
    q = none_if_nan(npf.irr(values))
    fq = (1 + finance_rate) ** 0.25 - 1
    rq = (1 + reinvest_rate) ** 0.25 - 1
    m = none_if_nan(npf.mirr(values, fq, rq))
    return {"quarterly_irr": None if q is None else (1 + q) ** 4 - 1,
            "mirr": None if m is None else (1 + m) ** 4 - 1}
