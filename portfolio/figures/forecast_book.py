"""The forecast on the book: each unit's history, its calibrated TA parameters, and the
forecast of the fund from the actuals on D (issue 16).

A unit is one sub-fund commitment, or one direct / co-investment (the class `direct`:
holdings calibrated as their own class). Its history comes from the book as of D: calls
and distributions per quarter of age (quarter k covers age ((k−1)/4, k/4] years since
the investment's date), and the last valuation in each quarter.

Calibration (least squares on cumulative flows, shrunk when the history is short):
  calls     — the TA call rates (RC in years 1–2, RC thereafter) that best fit the
              cumulative share of the commitment called at each complete quarter; calls
              depend on RC alone, so this is a fit of its own, on a grid of rates;
  NAV       — growth G and bow B that best fit the cumulative distributions and the
              valued NAV (both as shares of the commitment), driving the NAV with the
              calls that actually happened; a grid over (G, B), the life L fixed at the
              sub-fund's term (15 years without one, 10 for direct holdings);
  shrinkage — θ = (n·θ_own + k·θ_pool) / (n + k), n the quarters that inform θ
              (years 1–2 for the early RC, later years for the late RC, all for G, B),
              k = SHRINK_QUARTERS; θ_pool is the fit of all the units of the class and
              sector pooled (of the class where a sector has fewer than 3 units; the
              published parameters where nothing informs θ at all).
An override stored per unit (forecast_parameters; portfolio/book/forecast_parameters)
replaces any calibrated value.

Pure: plain data in (BookData), numbers out.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portfolio.figures import forecast as fc
from portfolio.figures.bookdata import BookData
from portfolio.figures.engine import positions, ts
from portfolio.figures.scope import holdings_of

DAYS_PER_QUARTER = 365.25 / 4
SHRINK_QUARTERS = 8.0
PARAMETERS = ("rc_early", "rc_late", "bow", "life", "growth", "yield")
DEFAULT_LIFE = {"sub_fund": fc.PUBLISHED_LIFE, "direct": 10.0}
RC_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)
GROWTH_GRID = np.round(np.arange(-0.30, 0.5001, 0.01), 2)
BOW_GRID = np.round(np.arange(0.5, 6.001, 0.25), 2)


def published() -> dict[str, float]:
    return {"rc_early": fc.PUBLISHED_RC[0], "rc_late": fc.PUBLISHED_RC[-1], "bow": fc.PUBLISHED_BOW,
            "life": fc.PUBLISHED_LIFE, "growth": fc.PUBLISHED_GROWTH, "yield": fc.PUBLISHED_YIELD}


@dataclass(frozen=True)
class Histories:
    """The units of a fund as of D and their quarterly histories (yuan floats; arrays (n, Q))."""

    as_of: pd.Timestamp
    units: pd.DataFrame      # id, cls, target_code, name, sector, start, commitment, paid_in, distributed,
    #                          nav, unfunded, age, observed, life
    calls: np.ndarray
    distributions: np.ndarray
    navs: np.ndarray         # NaN where no valuation in the quarter

    def __len__(self) -> int:
        return len(self.units)

    def start(self) -> fc.Start:
        u = self.units
        return fc.Start.of(u["commitment"].to_numpy(), u["unfunded"].to_numpy(), u["nav"].to_numpy(),
                           u["age"].to_numpy())


def _quarter_of_age(days: np.ndarray) -> np.ndarray:
    return np.maximum(np.ceil(days / DAYS_PER_QUARTER), 1).astype("int64")


def data_end(book: BookData, ids: list[str], d: pd.Timestamp) -> pd.Timestamp:
    """The end of the quarter of the last flow or valuation of these investments on or
    before D, or D if that is earlier: what happened is known up to there."""
    flows = book.flows.loc[book.flows["investment_id"].isin(ids) & (book.flows["date"] <= d), "date"]
    vals = book.valuations.loc[book.valuations["investment_id"].isin(ids) & (book.valuations["as_of"] <= d), "as_of"]
    days = [x for x in (flows.max(), vals.max()) if pd.notna(x)]
    return min(d, max(days).to_period("Q").end_time.normalize()) if days else d


def histories(book: BookData, fund_code: str, as_of: dt.date) -> Histories:
    """Every unit of the fund (and its descendants) dated on or before D, with its history."""
    d = ts(as_of)
    # the fund's positions as the report's own (kept with the book: a quarterly report works
    # them out before its forward look is forked aside, and the child inherits them); the
    # home region, the one column that differs by fund, is not read here
    rows = holdings_of(book, fund_code, as_of).positions.rows
    n = len(rows)
    start = rows["date"].to_numpy(dtype="datetime64[ns]")
    age_days = (d.to_datetime64() - start).astype("timedelta64[D]").astype("float64") if n else np.zeros(0)
    # the history is observed up to the quarter of the book's last record (a D far beyond the
    # book would otherwise count decades of quarters where nothing was recorded)
    known = data_end(book, list(rows["id"]), d) if n else d
    known_days = (known.to_datetime64() - start).astype("timedelta64[D]").astype("float64") if n else np.zeros(0)
    observed = (np.floor(np.maximum(known_days, 0) / DAYS_PER_QUARTER + 1e-9).astype("int64") if n
                else np.zeros(0, dtype="int64"))
    cls = np.where(rows["mode"].to_numpy(dtype=object) == "sub_fund", "sub_fund", "direct")
    term = np.full(n, np.nan)
    if n and "term_years" in book.sub_funds:
        at = pd.Index(book.sub_funds["code"]).get_indexer(rows["target_code"])
        terms = pd.to_numeric(book.sub_funds["term_years"], errors="coerce").to_numpy(dtype="float64")
        found = (at >= 0) & (cls == "sub_fund")
        term[found] = terms[at[found]]
    life = np.where(np.isfinite(term) & (term > 0), term, np.where(cls == "sub_fund", DEFAULT_LIFE["sub_fund"],
                                                                   DEFAULT_LIFE["direct"]))
    units = pd.DataFrame({
        "id": rows["id"].to_numpy(dtype=object), "cls": cls, "target_code": rows["target_code"].to_numpy(dtype=object),
        "name": rows["target_name"].to_numpy(dtype=object), "sector": rows["sector"].to_numpy(dtype=object),
        "start": rows["date"].to_numpy(), "commitment": rows["commitment_fen"].to_numpy(dtype="float64") / 100,
        "paid_in": rows["paid_in_fen"].to_numpy(dtype="float64") / 100,
        "distributed": rows["distributed_fen"].to_numpy(dtype="float64") / 100,
        "nav": rows["nav_fen"].to_numpy(dtype="float64") / 100,
        "unfunded": rows["unfunded_fen"].to_numpy(dtype="float64") / 100,
        "age": age_days / 365.25, "observed": observed, "life": life,
    })
    width = int(observed.max()) + 1 if n else 1
    calls, dists, navs = np.zeros((n, width)), np.zeros((n, width)), np.full((n, width), np.nan)
    index = pd.Index(units["id"])
    flows = book.flows
    row = index.get_indexer(flows["investment_id"])
    fdates = flows["date"].to_numpy(dtype="datetime64[ns]")
    keep = (row >= 0) & (fdates <= d.to_datetime64())
    if keep.any():
        r = row[keep]
        q = _quarter_of_age((fdates[keep] - start[r]).astype("timedelta64[D]").astype("float64")) - 1
        q = np.minimum(q, width - 1)
        amount = flows["amount_fen"].to_numpy(dtype="float64")[keep] / 100
        is_call = flows["type"].to_numpy(dtype=object)[keep] == "contribution"
        np.add.at(calls, (r[is_call], q[is_call]), amount[is_call])
        np.add.at(dists, (r[~is_call], q[~is_call]), amount[~is_call])
    vals = book.valuations
    vrow = index.get_indexer(vals["investment_id"])
    vdates = vals["as_of"].to_numpy(dtype="datetime64[ns]")
    vkeep = np.flatnonzero((vrow >= 0) & (vdates <= d.to_datetime64()))
    if len(vkeep):
        order = vkeep[np.argsort(vdates[vkeep], kind="stable")]  # later valuations overwrite earlier ones
        r = vrow[order]
        q = np.minimum(_quarter_of_age((vdates[order] - start[r]).astype("timedelta64[D]").astype("float64")) - 1,
                       width - 1)
        navs[r, q] = vals["fair_value_fen"].to_numpy(dtype="float64")[order] / 100
    return Histories(as_of=d, units=units, calls=calls, distributions=dists, navs=navs)


# ---------------------------------------------------------------- calibration
@dataclass(frozen=True)
class Calibration:
    """Each unit's parameters in force (after shrinkage and overrides) and where they came from."""

    table: pd.DataFrame      # id + PARAMETERS + own_*, pooled_*, n_calls_early, n_calls_late, n_nav, source
    pooled: dict[str, dict[str, float]] = field(default_factory=dict)

    def params(self) -> fc.Params:
        t = self.table
        rc = np.stack([t["rc_early"], t["rc_early"], t["rc_late"]], axis=1).astype("float64")
        return fc.Params.of(len(t), rc=rc, bow=t["bow"].to_numpy(dtype="float64"),
                            life=t["life"].to_numpy(dtype="float64"), growth=t["growth"].to_numpy(dtype="float64"),
                            yield_=t["yield"].to_numpy(dtype="float64"))


# ---------------------------------------------------------------- the fits' sums of squares
# Both fits are an argmin over a grid, per unit and per pool (the members' sums). Most grid
# points are far from winning, so they are not worked out: a lower bound on every point of a
# cell of the grid, cheap to compute, proves that none of them can beat a point already
# worked out (branch and bound), and only the cells it cannot rule out are worked out, each
# point with the very arithmetic it always had (the same values to the last bit). A point
# ruled out keeps +inf: the argmins, of each unit and of each pool's sum, are unchanged.
# Every bound is compared with a relative margin (BOUND_MARGIN) far above the rounding of the
# sums (about 1e-14 relative), so no rounding can rule out a point that could win or tie.
BOUND_MARGIN = 1e-9
RC_BOX = 11            # the 99 × 99 RC grid in 9 × 9 cells of 11 × 11 points
GROWTH_STEP = 16       # the 81 growth points in 5 intervals of 16, for each bow
NAV_CHUNK = 1 << 14    # grid points of the NAV fit worked out together


def _ruled_out(lower: np.ndarray, best: np.ndarray, pool_of: np.ndarray, upper: np.ndarray | None = None,
               pool_upper: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cells (units × cells) that can win neither for their unit nor for its pool: the lower
    bound is above a point worked out, the unit's (`best`: unit × point, the same points for
    every unit) and the pool's (the members' sums, point by point), or above `upper` (units)
    and `pool_upper` (pools) where given: the best of more points; and the cells each pool
    keeps (pools × cells)."""
    pools = int(pool_of.max()) + 1
    own_best = best.min(axis=1) if upper is None else np.minimum(best.min(axis=1), upper)
    pool_best = np.zeros((pools, best.shape[1]))
    np.add.at(pool_best, pool_of, best)
    pool_min = pool_best.min(axis=1) if pool_upper is None else np.minimum(pool_best.min(axis=1), pool_upper)
    pool_lower = np.zeros((pools, lower.shape[1]))
    np.add.at(pool_lower, pool_of, lower)
    own = lower * (1 - BOUND_MARGIN) > own_best[:, None] * (1 + BOUND_MARGIN)
    pooled = pool_lower * (1 - BOUND_MARGIN) > pool_min[:, None] * (1 + BOUND_MARGIN)
    return own & pooled[pool_of], ~pooled


@dataclass(frozen=True)
class GridFit:
    """A fit's SSE per unit at the grid points that can win, for the unit or for its pool (the
    others are proven worse than a point worked out): unit i's points (flat indices into the
    grid) and values are points[start[i]:start[i + 1]] (a point may come twice, with the same
    value); a unit with nothing observed has 0 everywhere (no points). pool_points: the
    points worked out for every member of each pool (where the pool's best sum can be)."""

    shape: tuple[int, int]
    start: np.ndarray
    points: np.ndarray
    values: np.ndarray
    fitted: np.ndarray
    pool_points: list[np.ndarray]

    @staticmethod
    def of(shape: tuple[int, int], units: np.ndarray, points: np.ndarray, values: np.ndarray, fitted: np.ndarray,
           pool_points: list[np.ndarray]) -> GridFit:
        order = np.argsort(units, kind="stable")
        start = np.searchsorted(units[order], np.arange(len(fitted) + 1))
        return GridFit(shape, start, points[order], values[order], fitted, pool_points)

    def argmin(self) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's best point (the first of equals in the grid's order, as argmin over the
        whole grid gives)."""
        best = np.zeros(len(self.fitted), dtype="int64")
        fitted = np.flatnonzero(np.diff(self.start) > 0)
        if len(fitted):
            at = self.start[fitted]
            lowest = np.repeat(np.minimum.reduceat(self.values, at), np.diff(np.r_[at, len(self.values)]))
            points = np.where(self.values == lowest, self.points, np.iinfo("int64").max)
            best[fitted] = np.minimum.reduceat(points, at)
        first, second = np.divmod(best, self.shape[1])
        return first, second

    def pooled_argmin(self, members: np.ndarray, pool: int) -> tuple[int, int]:
        """The best point of the members' sum (members: a boolean mask; the sum in the members'
        order, one after another, as numpy sums the units' axis)."""
        if not self.fitted[members].any():  # nothing observed: 0 everywhere, the first point
            return 0, 0
        candidates = self.pool_points[pool]
        rows = np.zeros((int(members.sum()), len(candidates)))
        row = np.empty(self.shape[0] * self.shape[1])
        for r, i in enumerate(np.flatnonzero(members)):
            if self.fitted[i]:
                row.fill(np.nan)
                at = slice(self.start[i], self.start[i + 1])
                row[self.points[at]] = self.values[at]
                rows[r] = row[candidates]
        if np.isnan(rows).any():
            raise AssertionError("a pool's candidate point not worked out for every member")
        total = np.add.accumulate(rows, axis=0)[-1]
        best = int(candidates[int(total.argmin())])
        return int(best // self.shape[1]), int(best % self.shape[1])


def _call_model(width: int) -> np.ndarray:
    """The called share of the TA model at each (early, late) RC and quarter: (G, G, K)."""
    k = np.arange(1, width + 1)
    log_e = np.log1p(-RC_GRID)[:, None, None]
    log_l = np.log1p(-RC_GRID)[None, :, None]
    early_q = np.minimum(k, 8)[None, None, :] / 4.0
    late_q = np.maximum(k - 8, 0)[None, None, :] / 4.0
    return 1.0 - np.exp(early_q * log_e + late_q * log_l)


def _call_sse(h: Histories, pool_of: np.ndarray) -> tuple[GridFit, np.ndarray, np.ndarray]:
    """SSE of the cumulative called share per unit over the (early, late) RC grid (G, G), at
    the points that can win for the unit or its pool (GridFit), and the number of quarters
    informing each rate.

    The model rises with both rates, so over a cell of the grid it lies between the cell's
    lowest and highest model values each quarter: the squared distance of the actual share
    from that band, summed, bounds the SSE of every point of the cell from below. Cells of
    11 × 11 first, then the 3 × 3 parts (4 × 4 at most) of those not ruled out; the points
    of the parts still not ruled out are worked out as before: the differences, then einsum
    over the unit's quarters (units grouped by quarters observed: the same sum whatever the
    rows). Each pool's best sum is also sought among the middles of the parts of the cells it
    keeps, worked out for every member, so that its bound rules out more."""
    n, width = h.calls.shape
    g = len(RC_GRID)
    model3 = _call_model(width)
    model = model3.reshape(g * g, width)
    commitment = np.maximum(h.units["commitment"].to_numpy(), 1e-9)
    actual = np.cumsum(h.calls, axis=1) / commitment[:, None]        # (n, K)
    observed = h.units["observed"].to_numpy()
    n_early = np.minimum(observed, 8)
    n_late = np.maximum(observed - 8, 0)
    fitted = observed > 0
    units: list[np.ndarray] = []
    points: list[np.ndarray] = []
    values: list[np.ndarray] = []
    if not fitted.any():
        return GridFit.of((g, g), np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64"), np.zeros(0), fitted,
                          [np.zeros(0, dtype="int64")] * (int(pool_of.max()) + 1)), n_early, n_late
    cells = g // RC_BOX
    # the parts: each cell's rows and columns split 4 + 4 + 3
    split = np.add.outer(np.arange(cells) * RC_BOX, (0, 4, 8)).ravel()
    parts = len(split)
    low = np.minimum.reduceat(np.minimum.reduceat(model3, split, axis=0), split, axis=1)   # (parts, parts, K)
    high = np.maximum.reduceat(np.maximum.reduceat(model3, split, axis=0), split, axis=1)
    low_cell = low.reshape(cells, 3, cells, 3, width).min(axis=(1, 3)).reshape(cells * cells, width)
    high_cell = high.reshape(cells, 3, cells, 3, width).max(axis=(1, 3)).reshape(cells * cells, width)
    low, high = low.reshape(parts * parts, width), high.reshape(parts * parts, width)
    # a part's points (16 slots; a part of 4 × 3 or 3 × 3 repeats its last row or column)
    ends = np.r_[split[1:], g]
    rows = np.minimum(split[:, None] + np.arange(4)[None, :], ends[:, None] - 1)       # (parts, 4)
    part_points = (rows[:, None, :, None] * g + rows[None, :, None, :]).reshape(parts * parts, 16)
    # each cell's 9 parts (cell-major)
    cell_parts = (np.arange(parts).reshape(cells, 3)[:, None, :, None] * parts
                  + np.arange(parts).reshape(cells, 3)[None, :, None, :]).reshape(cells * cells, 9).ravel()
    middle = part_points[cell_parts.reshape(-1, 9)[:, 4], 5]          # a point in the middle of each cell

    def by_unit_quarters(unit: np.ndarray, sums) -> np.ndarray:
        """sums(pairs, m) over the pairs (of `unit`) of the units with m quarters observed, for
        each m, a chunk at a time: (pairs, m) arrays, so einsum sums each row in the same order."""
        m_of = observed[unit]
        order = np.argsort(m_of, kind="stable")
        bounds = np.searchsorted(m_of[order], np.arange(width + 2))
        out = np.empty(len(unit))
        for m in range(1, width + 1):
            group = order[bounds[m]:bounds[m + 1]]
            step = max(1, (1 << 17) // m)
            for lo in range(0, len(group), step):
                pairs = group[lo:lo + step]
                out[pairs] = sums(pairs, m)
        return out

    def bound(unit: np.ndarray, row: np.ndarray, low_: np.ndarray, high_: np.ndarray) -> np.ndarray:
        def sums(pairs: np.ndarray, m: int) -> np.ndarray:
            y = actual[unit[pairs], :m]
            gap = low_[row[pairs], :m] - y
            np.maximum(gap, 0.0, out=gap)
            y -= high_[row[pairs], :m]
            np.maximum(y, 0.0, out=y)
            gap += y
            return np.einsum("pk,pk->p", gap, gap)
        return by_unit_quarters(unit, sums)

    def work_out(unit: np.ndarray, point: np.ndarray) -> np.ndarray:
        def sums(pairs: np.ndarray, m: int) -> np.ndarray:
            diff = model[point[pairs], :m]
            diff -= actual[unit[pairs], :m]
            return np.einsum("pk,pk->p", diff, diff)
        value = by_unit_quarters(unit, sums)
        units.append(unit)
        points.append(point)
        values.append(value)
        return value

    fitted_units = np.flatnonzero(fitted)
    n_cells = cells * cells
    unit = np.repeat(fitted_units, n_cells)
    cell = np.tile(np.arange(n_cells), len(fitted_units))
    lower = np.zeros((n, n_cells))
    best = np.zeros((n, n_cells))
    lower[unit, cell] = bound(unit, cell, low_cell, high_cell)
    best[unit, cell] = work_out(unit, middle[cell])
    ruled_out, pool_keeps = _ruled_out(lower, best, pool_of)
    keep = ~ruled_out
    keep[~fitted] = False
    # better best sums of each pool: the middles of the parts of the cells the pool keeps,
    # worked out for every member (and so better best points of the units too)
    unit_parts: list[np.ndarray] = []
    point_parts: list[np.ndarray] = []
    slot_parts: list[np.ndarray] = []
    slot_pool: list[int] = []
    for pool, kept in enumerate(pool_keeps):
        members = np.flatnonzero((pool_of == pool) & fitted)
        at = part_points[cell_parts.reshape(-1, 9)[kept].ravel(), 5]
        unit_parts.append(np.repeat(members, len(at)))
        point_parts.append(np.tile(at, len(members)))
        slot_parts.append(np.tile(len(slot_pool) + np.arange(len(at)), len(members)))
        slot_pool.extend([pool] * len(at))
    unit = np.concatenate(unit_parts)
    value = work_out(unit, np.concatenate(point_parts))
    sums = np.zeros(len(slot_pool))
    np.add.at(sums, np.concatenate(slot_parts), value)
    pool_upper = np.full(len(pool_keeps), np.inf)
    np.minimum.at(pool_upper, np.array(slot_pool, dtype="int64"), sums)
    upper = np.full(n, np.inf)
    np.minimum.at(upper, unit, value)
    # the parts of the cells kept: their own bounds (the cell's bound stands for the others)
    lower_parts = np.repeat(lower, 9, axis=1)
    unit, cell = np.nonzero(keep)
    unit = np.repeat(unit, 9)
    column = (cell[:, None] * 9 + np.arange(9)[None, :]).ravel()
    lower_parts[unit, column] = bound(unit, cell_parts[column], low, high)
    ruled_out, pool_keeps = _ruled_out(lower_parts, best, pool_of, upper, pool_upper)
    keep_parts = ~ruled_out
    keep_parts[~fitted] = False
    unit, column = np.nonzero(keep_parts)
    work_out(np.repeat(unit, 16), part_points[cell_parts[column]].ravel())
    pool_points = [np.unique(np.r_[middle, part_points[cell_parts[kept]].ravel()]) for kept in pool_keeps]
    return GridFit.of((g, g), np.concatenate(units), np.concatenate(points), np.concatenate(values), fitted,
                      pool_points), n_early, n_late


def _nav_sse(h: Histories, pool_of: np.ndarray) -> tuple[GridFit, np.ndarray]:
    """SSE of cumulative distributions and valued NAV (shares of commitment) per unit over the
    (growth, bow) grid (Gg, Gb), the NAV driven by the actual calls, at the points that can
    win for the unit or its pool (GridFit).

    For a bow, the NAV and the cumulative distributions of every quarter rise with the growth
    (NAV' = max(NAV·(1 + G_q)(1 − rd) + call, 0), rd in [0, 1] set by the bow and the age):
    between two growth points worked out, every point lies between their paths, so the
    squared distance of the actuals from that band, summed, bounds its SSE from below. The
    growth points every GROWTH_STEP are worked out first for every unit and bow; then the
    points inside the intervals not ruled out.

    The units run sorted by quarters observed (longest first), so those still observed in
    quarter k are a leading slice, worked on in place."""
    n, width = h.calls.shape
    n_growth, n_bow = len(GROWTH_GRID), len(BOW_GRID)
    gg, gb = np.meshgrid(GROWTH_GRID, BOW_GRID, indexing="ij")
    growth_factor = 1.0 + fc.quarterly_growth(gg.ravel())             # (M,)
    bow = gb.ravel()[None, :]
    m_count = len(growth_factor)
    observed = h.units["observed"].to_numpy()
    order = np.argsort(-observed, kind="stable")
    seen = observed[order]
    pools = pool_of[order]
    commitment = np.maximum(h.units["commitment"].to_numpy(), 1e-9)[order][:, None]
    lives, life_of = np.unique(h.units["life"].to_numpy(dtype="float64")[order], return_inverse=True)
    calls = h.calls[order] / commitment
    actual_cum_d = np.cumsum(h.distributions[order], axis=1) / commitment
    navs = h.navs[order] / commitment
    # the distribution rates of a quarter depend on the life only: once per life and quarter
    rates = []
    for k in range(width):
        if not np.any(seen > k):
            break
        age = (k + 1) / 4.0
        ratio = np.clip(age / lives, 0, None)[:, None]
        rates.append(np.where(age >= lives[:, None], 1.0, fc.quarterly_rate(np.minimum(ratio ** bow, 1.0))))

    # 1. the growth points every GROWTH_STEP, every bow, every unit (columns: growth-major)
    ends = np.arange(0, n_growth, GROWTH_STEP)
    n_ends = len(ends)
    coarse = (ends[:, None] * n_bow + np.arange(n_bow)[None, :]).ravel()
    factor = growth_factor[coarse][None, :]
    nav = np.zeros((n, len(coarse)))
    cum_d = np.zeros((n, len(coarse)))
    sse_c = np.zeros((n, len(coarse)))
    lower = np.zeros((n, n_ends - 1, n_bow))
    # the bands are widened by far more than the rounding of any path: a few ulps of its scale
    # a quarter, and no path is larger than the calls grown at the highest growth throughout
    slack = (BOUND_MARGIN * np.abs(calls).sum(axis=1) * float(growth_factor.max()) ** width)[:, None, None]
    rates_coarse = [rate[:, coarse] for rate in rates]
    step = max(1, NAV_CHUNK // len(coarse))
    for lo in range(0, n, step):  # a chunk of units at a time: its arrays stay in the cache
        chunk = slice(lo, lo + step)
        nav_u, cum_u, sse_u, lower_u = nav[chunk], cum_d[chunk], sse_c[chunk], lower[chunk]
        seen_u, life_u, slack_u = seen[chunk], life_of[chunk], slack[chunk]
        calls_u, actual_u, navs_u = calls[chunk], actual_cum_d[chunk], navs[chunk]
        for k, rate in enumerate(rates_coarse):
            rows = int(np.count_nonzero(seen_u > k))
            if rows == 0:
                break
            d = np.take(rate, life_u[:rows], axis=0)
            grown = nav_u[:rows] * factor
            d *= grown
            cum_u[:rows] += d
            grown += calls_u[:rows, k:k + 1]
            grown -= d
            np.maximum(grown, 0.0, out=nav_u[:rows])
            err = cum_u[:rows] - actual_u[:rows, k:k + 1]
            err *= err
            valued = np.flatnonzero(np.isfinite(navs_u[:rows, k]))
            if len(valued):
                err[valued] += (nav_u[valued] - navs_u[valued, k:k + 1]) ** 2
            sse_u[:rows] += err
            # the bound: the squared distance of the actual from each interval's band (fmax:
            # none where the quarter has no valuation)
            for paths, actual in ((cum_u, actual_u), (nav_u, navs_u)):
                ends_k = paths[:rows].reshape(rows, n_ends, n_bow)
                y = actual[:rows, k, None, None]
                gap = ends_k[:, :-1] - (y + slack_u[:rows])
                np.fmax(gap, 0.0, out=gap)
                above = (y - slack_u[:rows]) - ends_k[:, 1:]
                np.fmax(above, 0.0, out=above)
                gap += above
                gap *= gap
                lower_u[:rows] += gap
    ruled_out, pool_keeps = _ruled_out(lower.reshape(n, -1), sse_c, pools)
    keep = ~ruled_out
    keep[seen <= 0] = False

    # 2. the points inside the intervals not ruled out, unit by unit (leading slices again)
    unit, cell = np.nonzero(keep)
    interval, b = np.divmod(cell, n_bow)
    inside = np.arange(1, GROWTH_STEP)
    unit = np.repeat(unit, len(inside))
    point = ((interval * GROWTH_STEP)[:, None] + inside[None, :]).ravel() * n_bow + np.repeat(b, len(inside))
    seen_pair = seen[unit]
    life_point = life_of[unit] * m_count + point
    factor_p = growth_factor[point]
    sse_p = np.zeros(len(unit))
    # each quarter's column of the units' data, contiguous (a take from a row is cheap)
    calls_by_quarter = np.ascontiguousarray(calls.T)
    actual_by_quarter = np.ascontiguousarray(actual_cum_d.T)
    navs_by_quarter = np.ascontiguousarray(navs.T)
    for lo in range(0, len(unit), NAV_CHUNK):  # a chunk of points at a time: its arrays stay in the cache
        chunk = slice(lo, lo + NAV_CHUNK)
        unit_c, seen_c, life_c, factor_c = unit[chunk], seen_pair[chunk], life_point[chunk], factor_p[chunk]
        nav_p, cum_p, sse_c2 = np.zeros(len(unit_c)), np.zeros(len(unit_c)), np.zeros(len(unit_c))
        for k, rate in enumerate(rates):
            rows = int(np.count_nonzero(seen_c > k))
            if rows == 0:
                break
            u = unit_c[:rows]
            d = np.take(rate, life_c[:rows])
            grown = nav_p[:rows] * factor_c[:rows]
            d *= grown
            cum_p[:rows] += d
            grown += np.take(calls_by_quarter[k], u)
            grown -= d
            np.maximum(grown, 0.0, out=nav_p[:rows])
            err = cum_p[:rows] - np.take(actual_by_quarter[k], u)
            err *= err
            target = np.take(navs_by_quarter[k], u)
            valued = np.isfinite(target)
            # where valued, err + (NAV − valued)² as in phase 1; elsewhere err + 0, the same err
            target -= nav_p[:rows]
            target *= target
            err += np.where(valued, target, 0.0)
            sse_c2[:rows] += err
        sse_p[chunk] = sse_c2

    fitted = np.flatnonzero(seen > 0)
    units = np.r_[np.repeat(order[fitted], len(coarse)), order[unit]]
    points = np.r_[np.tile(coarse, len(fitted)), point]
    values = np.r_[sse_c[fitted].ravel(), sse_p]
    pool_points = []
    for kept in pool_keeps:
        interval, b = np.divmod(np.flatnonzero(kept), n_bow)
        inner = ((interval * GROWTH_STEP)[:, None] + inside[None, :]) * n_bow + b[:, None]
        pool_points.append(np.unique(np.r_[coarse, inner.ravel()]))
    return GridFit.of((n_growth, n_bow), units, points, values, observed > 0, pool_points), observed


def _shrink(own: np.ndarray, n: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    return (n * own + SHRINK_QUARTERS * pooled) / (n + SHRINK_QUARTERS)


def calibrate(h: Histories, overrides: dict[str, dict[str, float]] | None = None, *,
              shrink: bool = True) -> Calibration:
    """Each unit's TA parameters fitted to its own history, shrunk toward its pool (see the
    module's docstring), then overridden where a stored override says so."""
    n = len(h)
    base = published()
    t = pd.DataFrame({"id": h.units["id"].to_numpy(dtype=object)})
    if n == 0:
        for key in PARAMETERS:
            t[key] = np.zeros(0)
        t["source"] = np.zeros(0, dtype=object)
        return Calibration(t)
    # pools: class and sector where the sector has ≥ 3 units, else the class
    cls = h.units["cls"].to_numpy(dtype=object)
    sector = h.units["sector"].fillna("").to_numpy(dtype=object)
    pool_key = np.array([f"{c}:{s}" for c, s in zip(cls, sector)], dtype=object)
    keys, counts = np.unique(pool_key, return_counts=True)
    small = set(keys[counts < 3])
    pool_key = np.array([f"{c}:" if k in small else k for c, k in zip(cls, pool_key)], dtype=object)
    pool_of = np.unique(pool_key, return_inverse=True)[1].reshape(-1)
    # the two fits are independent, and numpy lets go of the GIL in their loops: on two
    # cores, side by side (the same figures: each fit is computed as it would be alone)
    if (os.cpu_count() or 1) > 1:
        with ThreadPoolExecutor(max_workers=1) as pool:
            nav_fit = pool.submit(_nav_sse, h, pool_of)
            call_sse, n_early, n_late = _call_sse(h, pool_of)
            nav_sse, n_nav = nav_fit.result()
    else:
        call_sse, n_early, n_late = _call_sse(h, pool_of)
        nav_sse, n_nav = _nav_sse(h, pool_of)
    ie, il = call_sse.argmin()
    ig, ib = nav_sse.argmin()
    own = {"rc_early": RC_GRID[ie], "rc_late": RC_GRID[il], "growth": GROWTH_GRID[ig], "bow": BOW_GRID[ib]}
    informed = {"rc_early": n_early, "rc_late": n_late, "growth": n_nav, "bow": n_nav}
    pooled_value = {p: np.zeros(n) for p in own}
    pooled: dict[str, dict[str, float]] = {}
    for index, key in enumerate(np.unique(pool_key)):
        members = pool_key == key
        values: dict[str, float] = {}
        pe, pl = call_sse.pooled_argmin(members, index)
        pg, pb = nav_sse.pooled_argmin(members, index)
        values["rc_early"] = float(RC_GRID[pe]) if n_early[members].sum() else base["rc_early"]
        values["rc_late"] = float(RC_GRID[pl]) if n_late[members].sum() else base["rc_late"]
        values["growth"] = float(GROWTH_GRID[pg]) if n_nav[members].sum() else base["growth"]
        values["bow"] = float(BOW_GRID[pb]) if n_nav[members].sum() else base["bow"]
        pooled[str(key)] = values
        for p in own:
            pooled_value[p][members] = values[p]
    for p in own:
        t["own_" + p] = np.where(informed[p] > 0, own[p], np.nan)
        t["pooled_" + p] = pooled_value[p]
        t["n_" + p] = informed[p]
        t[p] = _shrink(own[p], informed[p], pooled_value[p]) if shrink else np.where(
            informed[p] > 0, own[p], pooled_value[p])
    t["life"] = h.units["life"].to_numpy(dtype="float64")
    t["yield"] = base["yield"]
    t["pool"] = pool_key
    t["source"] = "calibrated"
    for i, unit_id in enumerate(t["id"]):
        for key, value in (overrides or {}).get(str(unit_id), {}).items():
            if key in PARAMETERS and value is not None:
                t.loc[i, key] = float(value)
                t.loc[i, "source"] = "override"
    return Calibration(t, pooled)


def uncalibrated(h: Histories) -> Calibration:
    """The published parameters for every unit (the back-test's baseline)."""
    base = published()
    t = pd.DataFrame({"id": h.units["id"].to_numpy(dtype=object)})
    for key, value in base.items():
        t[key] = float(value)
    t["source"] = "published"
    return Calibration(t)


# ---------------------------------------------------------------- calendar
def quarter_ends_after(as_of: pd.Timestamp, quarters: int) -> list[pd.Timestamp]:
    """The ends of the forecast's steps: calendar quarter ends, the first the end of D's own
    quarter when D is inside one (a stub: `first_step`), else the next quarter's."""
    d = ts(as_of)
    skip = 1 if first_step(d) == 1.0 else 0  # from a quarter end, the next quarter's end first
    return [(d.to_period("Q") + k).end_time.normalize() for k in range(skip, quarters + skip)]


def first_step(as_of: pd.Timestamp) -> float:
    """The first step's length in quarters: 1 from a quarter end, else the part of D's quarter
    left after D (days after D ÷ the quarter's days), so the steps end on calendar quarter ends."""
    d = ts(as_of)
    period = d.to_period("Q")
    end, begin = period.end_time.normalize(), period.start_time.normalize()
    if d == end:
        return 1.0
    return (end - d).days / ((end - begin).days + 1)


def window_ends(as_of: pd.Timestamp) -> dict[str, dt.date]:
    """Where the next quarter and the next 4 quarters from D end (`fc.window`): quarter ends from
    a quarter end, else 3 and 12 months on (2025-11-15: 2026-02-15 and 2026-11-15)."""
    d = ts(as_of)
    if first_step(d) == 1.0:
        ends = quarter_ends_after(d, 4)
        return {"next_quarter": ends[0].date(), "next_year": ends[3].date()}
    return {"next_quarter": (d + pd.DateOffset(months=3)).date(), "next_year": (d + pd.DateOffset(months=12)).date()}


def horizon_quarters(h: Histories, cap: int = 60, *, life: np.ndarray | None = None) -> int:
    """Quarters to the end of the longest remaining term (at least 4, at most `cap`): each
    unit's `life` in force (a parameter's override), else its term as the book has it."""
    if len(h) == 0:
        return 4
    lives = h.units["life"].to_numpy(dtype="float64") if life is None else np.asarray(life, dtype="float64")
    remaining = float(np.max(lives - h.units["age"].to_numpy(dtype="float64")))
    return int(min(cap, max(4, math.ceil(remaining * 4) + 1)))


# ---------------------------------------------------------------- the forecast of a fund
LEVELS = (0.90, 0.95, 0.99)
CCAR_HORIZONS = (4, 8)


QUIET_QUARTERS = 20  # quarters with no record after the book's last shown each (five years)


def quarter_label(day: pd.Timestamp) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _fen(value: float) -> int:
    return int(round(float(value) * 100))


def actual_quarters(book: BookData, h: Histories) -> list[dict]:
    """The fund's actuals by calendar quarter up to D (marked A): calls, distributions and
    the NAV at each quarter's end (D for the last one), from the book."""
    if len(h) == 0:
        return []
    d = h.as_of
    ids = list(h.units["id"])
    flows = book.flows[book.flows["investment_id"].isin(ids) & (book.flows["date"] <= d)]
    first = pd.Timestamp(h.units["start"].min()).to_period("Q")
    # every quarter to D, quiet ones too (as the dashboard's trend: a D two quarters past the
    # last record had skipped them, 2025Q4 then 2026Q3); a D far beyond the book's last record
    # adds one row for D, not a row for every empty quarter in between
    vals = book.valuations.loc[book.valuations["investment_id"].isin(ids) & (book.valuations["as_of"] <= d), "as_of"]
    records = [x for x in (flows["date"].max(), vals.max()) if pd.notna(x)]
    last = max([first, *(pd.Timestamp(x).to_period("Q") for x in records)])
    periods = list(pd.period_range(first, min(last + QUIET_QUARTERS, d.to_period("Q")), freq="Q"))
    if periods[-1] != d.to_period("Q"):
        periods.append(d.to_period("Q"))
    by_q = flows.assign(q=flows["date"].dt.to_period("Q")).groupby(["q", "type"])["amount_fen"].sum()
    out = []
    for period in periods:
        end = min(period.end_time.normalize(), d)
        nav = int(positions(book, ids, end.date()).rows["nav_fen"].sum())
        call = int(by_q.get((period, "contribution"), 0))
        dist = int(by_q.get((period, "distribution"), 0))
        out.append({"quarter": str(period), "end": end.date(), "kind": "A", "call": call / 100,
                    "distribution": dist / 100, "nav": nav / 100})
    return out


def select_units(h: Histories, unit: str | None) -> Histories:
    """The histories of one sub-fund (its code: every commitment of the fund to it) or one
    investment (its id); all of them for None."""
    if unit is None:
        return h
    u = h.units
    keep = ((u["target_code"] == unit) & (u["cls"] == "sub_fund")) | (u["id"] == unit)
    index = np.flatnonzero(keep.to_numpy())
    return Histories(as_of=h.as_of, units=u.iloc[index].reset_index(drop=True), calls=h.calls[index],
                     distributions=h.distributions[index], navs=h.navs[index])


def forecast(book: BookData, fund_code: str, as_of: dt.date, *, overrides: dict | None = None,
             unit: str | None = None, paths: int = 2000, seed: int = 0, quarters: int | None = None,
             calibrated: bool = True, bureau_share: float | None = None, noise: fc.Noise | None = None,
             details: bool = True) -> dict:
    """The forecast of a fund (or of one of its sub-funds / investments: `unit`) from D.
    With details=False, the actuals by quarter, the units' rows and the policy projections
    are left out (empty): the quarterly report's forward look reads none of them.

    Per quarter: the TA expectation (E) and P10/P50/P90 of calls, distributions, NAV and
    unfunded; capital call at risk over the next 4 and 8 quarters at 90/95/99 %, for the
    fund and for the finance bureau's share of it; each unit's parameters; the checks.
    Amounts in yuan (floats: estimates).
    """
    from portfolio.figures.scope import scope_of

    if bureau_share is None:
        bureau_share = float(scope_of(book, fund_code).settings.get("finance_bureau_share", 1))
    h_all = histories(book, fund_code, as_of)
    cal_all = calibrate(h_all, overrides) if calibrated else uncalibrated(h_all)
    h = select_units(h_all, unit)
    keep = cal_all.table["id"].isin(list(h.units["id"])).to_numpy()
    cal = Calibration(cal_all.table[keep].reset_index(drop=True), cal_all.pooled)
    start, params = h.start(), cal.params()
    horizon = quarters or horizon_quarters(h, life=params.life)  # to the end of the life in force
    if noise is None:
        noise = calibrate_noise(h_all, cal_all) if calibrated else fc.Noise()
    first = first_step(h.as_of)  # from D inside a quarter, a stub to its end: rows are calendar quarters
    det = fc.project(start, params, horizon, first=first)
    sim = fc.simulate(start, params, horizon, paths, seed=seed, noise=noise, first=first)
    q = sim.quantiles()
    ends = quarter_ends_after(h.as_of, horizon)
    rows = []
    for k, end in enumerate(ends):
        row: dict = {"quarter": quarter_label(end), "end": end.date(), "kind": "E"}
        for name in ("call", "distribution", "nav", "unfunded"):
            row[name] = float(getattr(det, name)[:, k].sum())
            for i, level in enumerate(("p10", "p50", "p90")):
                row[f"{name}_{level}"] = float(q[name][i, k])
        rows.append(row)
    car = sim.call_at_risk(CCAR_HORIZONS, LEVELS, first=first)
    quarter, year = (fc.window(n, first, horizon) for n in (1, 4))  # the next 3 and 12 months from D
    checks = forecast_checks(start, det)
    return {
        "fund": fund_code, "unit": unit, "as_of": h.as_of.date(), "quarters": horizon, "paths": paths,
        "calibrated": calibrated, "noise": vars(noise),
        "actuals": actual_quarters(book, h) if details else [], "forecast": rows,
        "call_at_risk": {str(hz): {f"{lv:.2f}": v for lv, v in levels.items()} for hz, levels in car.items()},
        "call_at_risk_bureau": {str(hz): {f"{lv:.2f}": v * bureau_share for lv, v in levels.items()}
                                for hz, levels in car.items()},
        "bureau_share": bureau_share,
        "window_ends": window_ends(h.as_of),
        "expected": {"calls_next_quarter": float((det.call @ quarter).sum()),
                     "calls_next_year": float((det.call @ year).sum()),
                     "distributions_next_quarter": float((det.distribution @ quarter).sum()),
                     "distributions_next_year": float((det.distribution @ year).sum())},
        "outlook": outlook(det, sim, first),
        "units": _unit_rows(h.units.merge(cal.table, on="id", suffixes=("", "_param")), det, first)
        if details else [],
        "checks": checks,
        "policy": policy(book, fund_code, h, det) if details else {},
    }


def outlook(det: fc.Projection, sim: fc.Simulation, first: float = 1.0) -> dict[str, dict[str, float]]:
    """Calls and distributions expected over the next quarter and the next 4 quarters from D
    (`fc.window`): the TA expectation (e) and P10/P50/P90 of the simulated totals over the
    period (not the sum of the quarters' quantiles)."""
    out = {}
    for name, series in (("calls", "call"), ("distributions", "distribution")):
        for period, width in (("next_quarter", 1), ("next_year", 4)):
            shares = fc.window(width, first, getattr(sim, series).shape[1])
            total = getattr(sim, series) @ shares
            p10, p50, p90 = (float(v) for v in np.quantile(total, (0.10, 0.50, 0.90)))
            out[f"{name}_{period}"] = {"e": float((getattr(det, series) @ shares).sum()), "p10": p10, "p50": p50,
                                       "p90": p90}
    return out


def _unit_rows(units: pd.DataFrame, det: fc.Projection, first: float = 1.0) -> list[dict]:
    year = fc.window(4, first, det.call.shape[1])  # the next 4 quarters from D
    out = []
    for i, u in enumerate(units.to_dict("records")):
        parameters = {p: float(u[p + "_param"] if p + "_param" in u else u[p]) for p in PARAMETERS}
        out.append({"id": u["id"], "class": u["cls"], "target_code": u["target_code"], "name": u["name"],
                    "sector": u["sector"], "commitment": float(u["commitment"]), "paid_in": float(u["paid_in"]),
                    "nav": float(u["nav"]), "unfunded": float(u["unfunded"]), "age": float(u["age"]),
                    "parameters": parameters, "source": u["source"],
                    "calls_next_year": float(det.call[i] @ year),
                    "distributions_next_year": float(det.distribution[i] @ year)})
    return out


def forecast_checks(start: fc.Start, det: fc.Projection) -> list[dict]:
    """The checks every forecast must pass: NAV_begin + C − D + growth = NAV_end; UC never
    negative; Σ C ≤ CC (each unit's calls never exceed what it has left to call)."""
    scale = max(1.0, float(np.abs(det.nav).max(initial=0.0)), float(start.commitment.max(initial=0.0)))
    residual = float(np.abs(det.nav_begin + det.call - det.distribution + det.growth - det.nav).max(initial=0.0))
    called = det.call.sum(axis=1)
    return [
        {"check": "nav_roll", "ok": residual <= 1e-9 * scale, "value": residual},
        {"check": "unfunded_non_negative", "ok": bool((det.unfunded >= 0).all()),
         "value": float(det.unfunded.min(initial=0.0))},
        {"check": "calls_within_commitment", "ok": bool((called + (start.commitment - start.unfunded)
                                                          <= start.commitment * (1 + 1e-12) + 1e-6).all()),
         "value": float((called - start.unfunded).max(initial=0.0))},
    ]


# ---------------------------------------------------------------- policy figures projected
IDLE_WARN_MONTHS = 9
IDLE_TRIGGER_MONTHS = 12   # 财预〔2015〕210号: money idle for over a year may be taken back
IDLE_CALL_SHARE = 0.01     # a year's expected calls below 1 % of the commitment: the money lies idle


def whole_months(since: pd.Timestamp, d: pd.Timestamp) -> int:
    """Whole months from `since` to D: the most n with since + n months ≤ D, a month from a month's
    last day ending on the next one's (2024-02-29 → 2025-02-28 is 12, 2024-05-31 → 2025-02-28 is 9),
    as a period in months is counted in China: where the last month has no corresponding day, its
    last day ends the period (民法典 article 202; dateutil's relativedelta would say 11 and 8)."""
    months = (d.year - since.year) * 12 + (d.month - since.month)
    if months > 0 and since + pd.DateOffset(months=months) > d:
        months -= 1
    return months


def idle_units(book: BookData, units: pd.DataFrame, d: pd.Timestamp) -> list[dict]:
    """闲置资金 on D: each unit with money left to call, the months since its last call (or
    since its start, never called) and its status: `trigger` from 12 months (财预〔2015〕210号),
    `warn` from 9, else `ok`. `units` as Histories.units (id, name, start, unfunded)."""
    flows = book.flows[(book.flows["type"] == "contribution") & (book.flows["date"] <= d)]
    last_call = flows.groupby("investment_id")["date"].max()
    out = []
    for u in units.itertuples(index=False):
        if u.unfunded <= 0:
            continue
        since = last_call.get(u.id, pd.Timestamp(u.start))
        months = whole_months(since, d)
        status = "trigger" if months >= IDLE_TRIGGER_MONTHS else "warn" if months >= IDLE_WARN_MONTHS else "ok"
        out.append({"id": u.id, "name": u.name, "unfunded": float(u.unfunded), "months": int(months),
                    "status": status})
    return out


def policy(book: BookData, fund_code: str, h: Histories, det: fc.Projection) -> dict:
    """The policy figures by year end, actual on D (A) and projected (E) from the forecast:

    实缴进度   paid-in ÷ commitment (the fund's units);
    返投       per sub-fund, the local reinvestment multiple (rules.md: local cost in its
               latest holdings report ÷ our paid-in) projected on the assumption that the
               sub-fund invests what it calls, in local companies at the local share of
               its cost so far: local_y = local_D + share × (our paid_y − our paid_D) ÷ our
               share of the sub-fund; and the first year it meets the fund's requirement;
    闲置资金   per unit, months since its last call on D (warning at 9, the 12-month trigger
               of 财预〔2015〕210号), and by year the unfunded of units whose expected calls
               over that year are below 1 % of their commitment;
    放大倍数   Σ sizes of the sub-funds ÷ Σ our commitments to them.
    """
    from portfolio.figures.engine import latest_reports
    from portfolio.figures.rules import is_local
    from portfolio.figures.scope import scope_of

    settings = scope_of(book, fund_code).settings
    requirement = float(settings["reinvestment_multiple"])
    prefix = str(settings["home_region_prefix"])
    units = h.units
    d = h.as_of
    ends = quarter_ends_after(d, det.call.shape[1])
    cum_calls = np.cumsum(det.call, axis=1)
    commitment = units["commitment"].to_numpy()
    paid0 = units["paid_in"].to_numpy()
    years = sorted({e.year for e in ends})
    year_index = {y: max(k for k, e in enumerate(ends) if e.year == y) for y in years}
    year_index = {y: k for y, k in year_index.items() if ends[k] == pd.Timestamp(y, 12, 31) or k == len(ends) - 1}

    def paid_at(k: int | None) -> np.ndarray:
        return paid0 if k is None else paid0 + cum_calls[:, k]

    marks: list[tuple[str, int | None, int | None]] = [("A", d.year if d.month == 12 and d.day == 31 else None, None)]
    marks += [("E", y, k) for y, k in year_index.items()]
    total_cc = float(commitment.sum())
    progress = [{"year": y if y else d.date().isoformat(), "kind": kind,
                 "paid_in": float(paid_at(k).sum()),
                 "progress": float(paid_at(k).sum() / total_cc) if total_cc else None} for kind, y, k in marks]

    # 返投, per sub-fund
    is_sf = (units["cls"] == "sub_fund").to_numpy()
    codes = sorted(set(units.loc[is_sf, "target_code"]))
    reports = latest_reports(book, codes, d.date())
    sizes = dict(zip(book.sub_funds["code"], book.sub_funds["size_fen"].astype("float64") / 100))
    reinvestment = []
    for code in codes:
        mine = is_sf & (units["target_code"] == code).to_numpy()
        ours_cc = float(commitment[mine].sum())
        size = float(sizes.get(code, 0.0) or 0.0)
        share_of_fund = ours_cc / size if size else None
        rep = reports[reports["sub_fund_code"] == code] if len(reports) else reports
        total_cost = float(rep["cost_fen"].sum()) / 100 if len(rep) else 0.0
        local_cost = (float(rep.loc[is_local(book, rep["company_code"], prefix).to_numpy(), "cost_fen"].sum()) / 100
                      if len(rep) else 0.0)
        local_share = local_cost / total_cost if total_cost else 0.0
        by_year = []
        met = None
        for kind, y, k in marks:
            paid = float(paid_at(k)[mine].sum())
            new_calls = paid - float(paid0[mine].sum())
            local = local_cost + (local_share * new_calls / share_of_fund if share_of_fund else 0.0)
            multiple = local / paid if paid else None
            by_year.append({"year": y if y else d.date().isoformat(), "kind": kind, "multiple": multiple})
            if met is None and multiple is not None and multiple >= requirement:
                met = y if y else d.year
        reinvestment.append({"sub_fund": code, "requirement": requirement, "local_share": local_share,
                             "has_report": bool(len(rep)), "by_year": by_year, "year_met": met})

    # 闲置资金
    idle_now = idle_units(book, units, d)
    idle_by_year = []
    # D's own year is judged on the whole of it: the calls booked from 1 January to D as well
    # as those forecast after (a year judged on a one-day stub had read everything as idle)
    flows = book.flows
    this_year = flows[flows["investment_id"].isin(list(units["id"])) & (flows["type"] == "contribution")
                      & (flows["date"] >= pd.Timestamp(d.year, 1, 1)) & (flows["date"] <= d)]
    booked = this_year.groupby("investment_id")["amount_fen"].sum()
    booked_ytd = units["id"].map(booked).fillna(0).to_numpy(dtype="float64") / 100
    for y, k in year_index.items():
        first = 0 if y == d.year else max(0, k - 3)
        before = booked_ytd if y == d.year else 0.0
        calls_year = det.call[:, first:k + 1].sum(axis=1) + before
        uc_start = det.unfunded[:, first] + det.call[:, first] + before
        idle = (uc_start > 0) & (calls_year < IDLE_CALL_SHARE * commitment)
        idle_by_year.append({"year": y, "kind": "E", "idle": float(uc_start[idle].sum()), "units": int(idle.sum())})

    # 放大倍数
    sf_cc = float(commitment[is_sf].sum())
    sf_size = float(sum(float(sizes.get(c, 0.0) or 0.0) for c in codes))
    leverage = sf_size / sf_cc if sf_cc else None
    return {"paid_in_progress": progress, "reinvestment": reinvestment, "reinvestment_requirement": requirement,
            "idle_units": idle_now, "idle_by_year": idle_by_year, "idle_warn_months": IDLE_WARN_MONTHS,
            "idle_trigger_months": IDLE_TRIGGER_MONTHS, "leverage": leverage}


# ---------------------------------------------------------------- pacing
def new_commitment_call_profile(rc_early: float, rc_late: float, years: int) -> np.ndarray:
    """The share of a new commitment called in each year of its age 1..years (annual TA)."""
    rates = np.array([rc_early if a <= 2 else rc_late for a in range(1, years + 1)])
    left = np.cumprod(np.r_[1.0, 1.0 - rates[:-1]])
    return rates * left


def pacing_plan(result: dict, *, yearly_target: float, target_is_budget: bool = False, years: int = 5) -> dict:
    """New commitments by year that bring the fund's calls to a yearly target (yuan), given
    the forecast of the existing portfolio (`forecast`'s result).

    With target_is_budget, the target is the finance bureau's money a year and the fund's
    calls may be budget ÷ its share. A commitment made in year y is called on the pooled
    sub-fund call profile (annual TA with the mean calibrated RC of the fund's sub-funds,
    the published one without any); each year's new commitment is what the target still
    needs after the existing portfolio and the earlier new commitments, ÷ the first year's
    call share (never negative). Split by sector in the mix of the current sub-fund
    commitments. Returns the schedule and the combined projection against the target.

    When D is inside a year, that year is the plan's first row, under way: its existing calls are
    the calls booked in it up to D plus those forecast after D, and the plan commits nothing in
    it (a commitment's first calls would fall in the few months left, so meeting the year's gap
    would take many times the gap, called in full the years after); commitments start the next year.
    A budget target of a fund the finance bureau has no share in is a ValueError (its Message).
    """
    from portfolio.messages import Message

    bureau = result.get("bureau_share")
    share = 1.0 if bureau is None else float(bureau)
    if target_is_budget and not share > 0:
        raise ValueError(Message("pacing_no_bureau_share"))
    target = yearly_target / share if target_is_budget else yearly_target
    sub_funds = [u for u in result["units"] if u["class"] == "sub_fund"]
    rc_early = float(np.mean([u["parameters"]["rc_early"] for u in sub_funds])) if sub_funds else fc.PUBLISHED_RC[0]
    rc_late = float(np.mean([u["parameters"]["rc_late"] for u in sub_funds])) if sub_funds else fc.PUBLISHED_RC[-1]
    profile = new_commitment_call_profile(rc_early, rc_late, years)
    as_of = pd.Timestamp(result["as_of"])
    first_year = as_of.year + 1 if (as_of.month, as_of.day) == (12, 31) else as_of.year
    plan_years = list(range(first_year, first_year + years))
    existing = {y: 0.0 for y in plan_years}
    for row in [*result.get("actuals", []), *result["forecast"]]:  # booked up to D, then forecast
        year = pd.Timestamp(row["end"]).year
        if year in existing:
            existing[year] += float(row["call"])
    under_way = first_year == as_of.year  # D inside the first year: shown, not planned
    mix: dict[str, float] = {}
    for u in sub_funds:
        mix[str(u["sector"] or "")] = mix.get(str(u["sector"] or ""), 0.0) + float(u["commitment"])
    total_mix = sum(mix.values())
    new: list[float] = []
    rows = []
    for i, year in enumerate(plan_years):
        from_new = sum(new[j] * profile[i - j] for j in range(i))
        planned = not (under_way and i == 0)
        commit = max(0.0, (target - existing[year] - from_new) / profile[0]) if planned and profile[0] > 0 else 0.0
        new.append(commit)
        calls_new = from_new + commit * profile[0]
        rows.append({"year": year, "target": target, "existing_calls": existing[year], "new_commitment": commit,
                     "calls_from_new": calls_new, "total_calls": existing[year] + calls_new,
                     "under_way": not planned,
                     "by_sector": {s: commit * v / total_mix for s, v in mix.items()} if total_mix else {}})
    return {"target": target, "target_is_budget": target_is_budget, "bureau_share": share,
            "rc_early": rc_early, "rc_late": rc_late, "profile": profile.tolist(), "years": rows}


# ---------------------------------------------------------------- the noise, from the book
MIN_RESIDUALS = 12
ZERO_RATIO = 1e-6   # a flow under a millionth of what TA expected: none (rounding to the fen)


def calibrate_noise(h: Histories, cal: Calibration, default: fc.Noise | None = None) -> fc.Noise:
    """The stochastic layer's parameters from the book's own residuals (moment matching).

    For each unit and complete quarter, the ratio of what happened to what the calibrated TA
    expected given the actual balances: calls c_k ÷ (r_q · UC_{k−1}), distributions
    d_k ÷ (rd_q · NAV_{k−1}(1 + G_q)), valued NAV ÷ (NAV_{k−1}(1 + G_q) + c_k − d_k).
    Calls and distributions are zero-inflated log-normal under the layer (fc.Noise: lumpy
    calls, quarters without a distribution): π is the share of the ratios that are zero
    (a quarter with no flow where TA expected one), and the others, divided by their mean,
    are log-normal with mean 1, so Var = e^{σ²} − 1 and σ² = ln(1 + Var). NAV ratios are
    log-normal (σ_g the same way). With fewer than MIN_RESIDUALS ratios, the defaults stay.
    The share of each normal common to the fund's units (ρ) comes from the ratios of units in
    the same calendar quarter (`common_share`).
    """
    noise = default or fc.Noise()
    n = len(h)
    if n == 0:
        return noise
    params = cal.params()
    commitment = h.units["commitment"].to_numpy()
    observed = h.units["observed"].to_numpy()
    g_q = fc.quarterly_growth(params.growth)
    uc, nav = commitment.astype("float64").copy(), np.zeros(n)
    calls, dists, navs = [], [], []
    # each (unit, quarter of age)'s calendar quarter, that of its middle day: units are compared
    # within a calendar quarter, and a quarter of age overlaps the one of its middle the most
    middle = (h.units["start"].to_numpy(dtype="datetime64[ns]")[:, None]
              + ((np.arange(h.calls.shape[1]) + 0.5) * DAYS_PER_QUARTER * 86400).astype("timedelta64[s]"))
    calendar = middle.astype("datetime64[M]").astype("int64") // 3
    sides: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"call": [], "distribution": [], "growth": []}
    for k in range(h.calls.shape[1]):
        active = k < observed
        age = np.full(n, (k + 1) / 4.0)
        r_q = fc.quarterly_rate(fc._rc_at(params.rc, fc._year_of_age(age)))
        rd_q = fc._quarterly_distribution_rate(age, params)
        c, d = h.calls[:, k], h.distributions[:, k]
        expect_c = r_q * uc
        grown = nav * (1 + g_q)
        expect_d = rd_q * grown
        ok_c = active & (expect_c > 1e-6 * commitment)
        calls.append(c[ok_c] / expect_c[ok_c])
        sides["call"].append((calendar[ok_c, k], expect_c[ok_c]))
        ok_d = active & (expect_d > 1e-6 * commitment) & (rd_q < 1)
        dists.append(d[ok_d] / expect_d[ok_d])
        sides["distribution"].append((calendar[ok_d, k], expect_d[ok_d]))
        rolled = grown + c - d
        valued = active & np.isfinite(h.navs[:, k]) & (rolled > 1e-6 * commitment)
        navs.append(h.navs[valued, k] / rolled[valued])
        sides["growth"].append((calendar[valued, k], rolled[valued]))
        nav = np.where(active, np.where(np.isfinite(h.navs[:, k]), h.navs[:, k], np.maximum(rolled, 0)), nav)
        uc = np.where(active, np.maximum(uc - c, 0), uc)

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0)

    # each kind's ratios, with their calendar quarters and weights, put together once
    ratio = {"call": joined(calls), "distribution": joined(dists), "growth": joined(navs)}
    quarter = {name: joined([q for q, _ in side]) for name, side in sides.items()}
    weight = {name: joined([w for _, w in side]) for name, side in sides.items()}

    def hurdle(name: str, default_sigma: float, default_zero: float, low: float, high: float) -> tuple[float, float]:
        """(σ, π) of a zero-inflated log-normal ratio with mean 1."""
        ratios = ratio[name][np.isfinite(ratio[name])]
        if len(ratios) < MIN_RESIDUALS:
            return default_sigma, default_zero
        positive = ratios[ratios > ZERO_RATIO]
        zero = float(np.clip(1.0 - len(positive) / len(ratios), 0.0, fc.MAX_ZERO))
        if len(positive) < MIN_RESIDUALS // 2:
            return default_sigma, zero
        sizes = positive / positive.mean()
        return float(np.clip(math.sqrt(math.log1p(float(np.var(sizes)))), low, high)), zero

    def sigma(name: str, default_sigma: float, low: float, high: float) -> float:
        ratios = ratio[name][np.isfinite(ratio[name])]
        if len(ratios) < MIN_RESIDUALS:
            return default_sigma
        return float(np.clip(math.sqrt(math.log1p(float(np.var(ratios)))), low, high))

    def common(name: str, sigma_: float, default_common: float) -> float:
        found = common_share(quarter[name], weight[name], ratio[name], sigma=sigma_)
        return default_common if found is None else found

    call_sigma, call_zero = hurdle("call", noise.call_sigma, noise.call_zero, 0.05, 1.5)
    distribution_sigma, distribution_zero = hurdle("distribution", noise.distribution_sigma, noise.distribution_zero,
                                                   0.05, 1.5)
    growth_sigma = sigma("growth", noise.growth_sigma, 0.01, 0.5)
    return fc.Noise(call_sigma=call_sigma, call_phi=noise.call_phi, distribution_sigma=distribution_sigma,
                    growth_sigma=growth_sigma, call_zero=call_zero, distribution_zero=distribution_zero,
                    call_common=common("call", call_sigma, noise.call_common),
                    distribution_common=common("distribution", distribution_sigma, noise.distribution_common),
                    growth_common=common("growth", growth_sigma, noise.growth_common))


MIN_COMMON_QUARTERS = 8   # calendar quarters with two units or more, to tell a common factor


def common_share(quarter: np.ndarray, weight: np.ndarray, ratio: np.ndarray, *, sigma: float) -> float | None:
    """ρ, the share of a log-normal factor's normal common to the units (fc.Noise), from the
    ratios of what happened to what TA expected, each with its calendar quarter and its
    expected amount as weight; None (nothing to tell) with fewer than MIN_COMMON_QUARTERS
    quarters holding two ratios or more, or no σ.

    Under the layer a ratio is R = B·S/(1 − π): B whether the quarter has a flow (each unit's
    own), S the size, log-normal with mean 1 and σ, whose normals correlate by ρ across units.
    So for two units in one quarter E[(R_i − 1)(R_j − 1)] = E[S_i S_j] − 1 = e^{ρσ²} − 1 = C,
    whatever π. C is estimated as the weighted mean of the cross products over every pair of
    distinct units in a quarter, Σ_q [(Σ w·u)² − Σ (w·u)²] / Σ_q [(Σ w)² − Σ w²] (unbiased for C
    under the model; the weights, the expected amounts, let the units that make the fund's
    total count as they do in it), with u = R / R̄ − 1, R̄ the weighted mean of all the ratios
    (the level of the fit is not a co-movement); then ρ = ln(1 + C) / σ², within [0, 1] (a
    negative C is no common factor), shrunk toward 0 as the parameters are toward their pool,
    n / (n + SHRINK_QUARTERS) of it for n quarters of pairs: a few quarters when two units
    happened to call together do not make a market. ρ errs low where the cap of a rate at the
    whole balance bites (it shrinks the sizes' covariance), and as a quarter of age straddles two
    calendar quarters (`calibrate_noise` puts it in the one of its middle day; a flow in the
    other is compared with the wrong quarter's)."""
    ratio = np.asarray(ratio, dtype="float64")
    keep = np.isfinite(ratio) & (np.asarray(weight) > 0)
    if not keep.any() or sigma <= 0:
        return None
    weight = np.asarray(weight, dtype="float64")[keep]
    ratio = ratio[keep]
    _, q = np.unique(np.asarray(quarter)[keep], return_inverse=True)
    told = int((np.bincount(q) >= 2).sum())
    if told < MIN_COMMON_QUARTERS:
        return None
    level = float(np.average(ratio, weights=weight))
    if level <= 0:
        return None
    wu = weight * (ratio / level - 1.0)
    pairs = float((np.bincount(q, weight) ** 2 - np.bincount(q, weight ** 2)).sum())
    products = float((np.bincount(q, wu) ** 2 - np.bincount(q, wu ** 2)).sum())
    if pairs <= 0:
        return None
    rho = float(np.clip(math.log1p(max(products / pairs, 0.0)) / sigma ** 2, 0.0, 1.0))
    return rho * told / (told + SHRINK_QUARTERS)


# ---------------------------------------------------------------- a proposal's effect
EFFECT_PATHS = 1000      # the committee's review: 1,000 paths (CCaR95 to about ±2 % of itself), 8 quarters
EFFECT_QUARTERS = 8


def pooled_parameters(cal: Calibration, cls: str, sector: str | None, life: float) -> dict[str, float]:
    """The parameters of a unit with no history of its own in this calibration: its pool's
    (class and sector, else the class; the published ones where the class has no pool), as
    `calibrate` gives a unit with nothing to inform it (θ = θ_pool when n = 0)."""
    values = dict(published())
    pools = cal.pooled
    key = f"{cls}:{sector or ''}"
    if key in pools:
        values.update(pools[key])
    elif f"{cls}:" in pools:
        values.update(pools[f"{cls}:"])
    elif "pool" in cal.table:  # every sector of the class has a pool of its own: their mean over the units
        members = cal.table[cal.table["pool"].astype(str).str.startswith(f"{cls}:")]
        if len(members):
            for p in ("rc_early", "rc_late", "growth", "bow"):
                values[p] = float(members["pooled_" + p].mean())
    values["life"] = float(life)
    return values


def _effect_figures(det: fc.Projection, calls_now: float, unfunded_now: float, sim_calls: np.ndarray,
                    first: float = 1.0) -> dict:
    """calls over the next 4 quarters from D (`fc.window`, as the forecast page counts them: E and
    P10/P50/P90), peak unfunded and CCaR95 (4q)."""
    year = fc.window(4, first, det.call.shape[1])
    total_4q = sim_calls @ year + calls_now
    return {"calls_next_year": float((det.call @ year).sum()) + calls_now,
            "calls_next_year_p10": float(np.quantile(total_4q, 0.10)),
            "calls_next_year_p50": float(np.quantile(total_4q, 0.50)),
            "calls_next_year_p90": float(np.quantile(total_4q, 0.90)),
            "peak_unfunded": float(max(unfunded_now, float(det.unfunded.sum(axis=0).max(initial=0.0)))),
            "ccar95_4q": float(np.quantile(total_4q, 0.95))}


def commitment_effect(before: BookData, after: BookData, fund_code: str, as_of: dt.date, new_id: str, *,
                      overrides: dict | None = None, paths: int = EFFECT_PATHS, seed: int = 0) -> dict:
    """A proposed commitment's effect on the fund's forecast from D (the planned date):
    calls over the next 4 quarters, peak unfunded and the 95 % capital call at risk over
    4 quarters, before and after, and the change.

    Before: the fund's forecast on the book as it is (calibrated, its noise fitted to the
    book's residuals, `forecast`'s engine). After: the same units with the same paths (the
    same seed), plus the proposed investment `new_id` of the pro-forma book `after` as one
    more unit, with the pooled parameters of its class (and sector: `pooled_parameters`),
    started from its state on D (a first call or a direct deal's payment on D counts as
    called in the next 4 quarters). A unit's own draws are independent of the others', so the
    after paths are the before paths plus the new unit's own, simulated apart with the book's
    common draws (the fund's market, path by path: `common_seed`): the change is the new unit's,
    free of Monte Carlo noise in the rest of the book. 8 steps and `paths` paths (1,000 on the
    review screen: enough for CCaR95 and well under a second). The steps are the forecast
    page's: calendar quarters, a stub first from D inside a quarter (`first_step`), so the
    "before" is the page's forecast from the same D."""
    h = histories(before, fund_code, as_of)
    cal = calibrate(h, overrides)
    noise = calibrate_noise(h, cal)
    start, params = h.start(), cal.params()
    quarters, first = EFFECT_QUARTERS, first_step(h.as_of)
    det = fc.project(start, params, quarters, first=first)
    sim = fc.simulate(start, params, quarters, paths, seed=seed, noise=noise, first=first)
    unfunded_now = float(start.unfunded.sum())
    out = {"as_of": ts(as_of).date(), "paths": paths, "quarters": quarters,
           "before": _effect_figures(det, 0.0, unfunded_now, sim.call, first)}
    h_after = histories(after, fund_code, as_of)
    mine = np.flatnonzero((h_after.units["id"] == new_id).to_numpy())
    if not len(mine):  # not a unit of this fund on D (dated later): no effect to show
        out["after"], out["change"], out["unit"] = out["before"], {k: 0.0 for k in out["before"]}, None
        return out
    u = h_after.units.iloc[int(mine[0])]
    values = pooled_parameters(cal, str(u["cls"]), u["sector"], float(u["life"]))
    new_params = fc.Params.of(1, rc=(values["rc_early"], values["rc_early"], values["rc_late"]), bow=values["bow"],
                              life=values["life"], growth=values["growth"], yield_=values["yield"])
    new_start = fc.Start.of([u["commitment"]], [u["unfunded"]], [u["nav"]], [u["age"]])
    new_det = fc.project(new_start, new_params, quarters, first=first)
    new_sim = fc.simulate(new_start, new_params, quarters, paths, seed=seed + 1, noise=noise, first=first,
                          common_seed=seed)
    both = fc.Projection(*(np.vstack([getattr(det, f), getattr(new_det, f)]) for f in
                           ("call", "distribution", "nav", "unfunded", "growth", "nav_begin")))
    calls_now = float(u["paid_in"])  # called on D: in the next 4 quarters from the day before
    after_fig = _effect_figures(both, calls_now, unfunded_now + float(u["unfunded"]),
                                sim.call + new_sim.call, first)
    out["after"] = after_fig
    out["change"] = {k: after_fig[k] - out["before"][k] for k in after_fig}
    out["unit"] = {"id": new_id, "class": str(u["cls"]), "sector": u["sector"], "commitment": float(u["commitment"]),
                   "called_on_d": calls_now, "parameters": values}
    out["checks"] = forecast_checks(fc.Start.of(np.r_[start.commitment, new_start.commitment],
                                                np.r_[start.unfunded, new_start.unfunded],
                                                np.r_[start.nav, new_start.nav], np.r_[start.age, new_start.age]),
                                    both)
    return out
