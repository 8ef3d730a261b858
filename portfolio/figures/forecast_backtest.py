"""The forecast's own accuracy (issue 16): a rolling-origin back-test over the book's history.

At each quarter end O of the book's history (from the first investment's next quarter end
to the last one with at least one quarter to compare), the model is fitted on the book as
it stood on O (flows, valuations and investments dated on or before O), forecasts the next
1, 4 and 8 quarters of every unit, and is compared with what the book shows happened. The
same is done with uncalibrated TA (the published parameters: RC 25 % in years 1–2 then
50 %, bow 3.0, life 15, yield 0, growth 10 %, and the default stochastic layer), beside it.
The calibrated model's stochastic layer is fitted at each origin too (calibrate_noise), and a
person's parameter overrides count only from the day they were set.

"As it stood on O" counts the reporting lag: a sub-fund's NAV arrives a quarter late
(metrics.md), so on O a sub-fund's valuations are known up to the previous quarter end, and
its NAV on O is that one rolled forward by the flows since (the engine's roll-forward), as the
fund itself saw it that day. The fund's own flows, and the valuations of its direct and
co-investments, are known on their dates (REPORTING_LAG_QUARTERS).

Per horizon h and model, over every (origin, unit) pair whose O + h quarters lie on or
before D:
  MAE and bias of the cumulative calls (units with something left to call on O) and
  distributions (units with NAV on O) over the h quarters, as % of the unit's commitment
  (bias: forecast − actual, so a positive bias over-forecasts);
  coverage: the share of actuals inside the unit's P10–P90 band of cumulative flows;
  CCaR95 exceedance (h = 4 and 8): the share of units whose actual calls exceeded their
  95 % capital call at risk (5 % is what a well-calibrated band gives).

And the track record, quarter by quarter (`track`): at each origin, the calibrated model's
forecast of the whole fund's calls and distributions in the next quarter (the expectation and
the P10–P90 band of the simulated total, as the quarterly report's forward look gives them)
beside what the investments held on O called and distributed in that quarter (an investment
made later was not the forecast's to know), in yuan.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from portfolio.figures import forecast as fc
from portfolio.figures import forecast_book as fb
from portfolio.figures.bookdata import BookData
from portfolio.figures.engine import fund_investment_ids, ts

HORIZONS = (1, 4, 8)
MODELS = ("calibrated", "published")
QS = (0.1, 0.5, 0.9, 0.95)
# quarters after its date that a valuation is known, by mode (metrics.md: "子基金 NAV arrives a
# quarter late"); a mode not named is known on its date
REPORTING_LAG_QUARTERS: Mapping[str, int] = MappingProxyType({"sub_fund": 1})


def as_reported(book: BookData, origin: pd.Timestamp, lag_quarters: Mapping[str, int] = REPORTING_LAG_QUARTERS
                ) -> BookData:
    """The book as the fund had it on `origin`: a valuation of a unit whose mode lags by k
    quarters is left out unless dated on or before the quarter end k quarters before the
    origin's quarter's end (the valuation dated in the quarter that just ended had not arrived)."""
    if not any(lag_quarters.values()) or len(book.valuations) == 0:
        return book
    vals = book.valuations
    mode = vals["investment_id"].map(book.investments.set_index("id")["mode"])
    quarter = origin.to_period("Q")
    known_until = mode.map({m: (quarter - k).end_time.normalize() for m, k in lag_quarters.items()})
    known_until = pd.to_datetime(known_until.fillna(origin.normalize()))
    return book.with_(valuations=vals[vals["as_of"] <= known_until])


def last_record(book: BookData, ids: list[str], d: pd.Timestamp) -> pd.Timestamp:
    """What happened is known up to the quarter of the book's last record (forecast_book.data_end):
    the back-test compares nothing later (a D far in the future would otherwise compare
    forecasts with years of nothing)."""
    return fb.data_end(book, ids, d)


def origins(book: BookData, fund_code: str, as_of: dt.date) -> list[pd.Timestamp]:
    """The quarter ends from the first investment's next one to the last before D (or
    before the book's last record, when that is earlier)."""
    ids = fund_investment_ids(book, fund_code, as_of)
    if not ids:
        return []
    d = last_record(book, ids, ts(as_of))
    first = book.investments.loc[book.investments["id"].isin(ids), "date"].min()
    start = pd.Timestamp(first).to_period("Q")
    ends = [p.end_time.normalize() for p in pd.period_range(start, d.to_period("Q"), freq="Q")]
    return [e for e in ends if e < d]


def _actual_cumulative(book: BookData, ids: list[str], origin: pd.Timestamp, ends: list[pd.Timestamp],
                       d: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Per unit and k, the calls and distributions dated in (O, end_k], (n, K)."""
    flows = book.flows
    index = pd.Index(ids)
    row = index.get_indexer(flows["investment_id"])
    dates = flows["date"].to_numpy(dtype="datetime64[ns]")
    keep = (row >= 0) & (dates > origin.to_datetime64()) & (dates <= d.to_datetime64())
    calls, dists = np.zeros((len(ids), len(ends))), np.zeros((len(ids), len(ends)))
    if keep.any():
        r, day = row[keep], dates[keep]
        k = np.searchsorted(np.array([e.to_datetime64() for e in ends], dtype="datetime64[ns]"), day, side="left")
        inside = k < len(ends)
        amount = flows["amount_fen"].to_numpy(dtype="float64")[keep] / 100
        is_call = flows["type"].to_numpy(dtype=object)[keep] == "contribution"
        np.add.at(calls, (r[inside & is_call], k[inside & is_call]), amount[inside & is_call])
        np.add.at(dists, (r[inside & ~is_call], k[inside & ~is_call]), amount[inside & ~is_call])
    return np.cumsum(calls, axis=1), np.cumsum(dists, axis=1)


def backtest(book: BookData, fund_code: str, as_of: dt.date, *, horizons=HORIZONS, paths: int = 400,
             seed: int = 0, overrides: dict | None = None, overrides_set_on: dict[str, dt.date] | None = None,
             noise: fc.Noise | None = None, progress: Callable[[int, int], None] | None = None,
             lag_quarters: Mapping[str, int] = REPORTING_LAG_QUARTERS) -> dict:
    """The rolling-origin back-test (module docstring): a table by horizon and model, and
    the per-(origin, unit) records it is computed from. `progress(done, total)` is told
    after each origin (a job's progress bar).

    A person's `overrides` of a unit's parameters are applied from an origin on or after the
    day they were set (`overrides_set_on`, by unit; without it, at every origin): an origin
    before knew nothing of them, and today's judgement applied to it would flatter the test.
    Likewise a valuation counts from when it was reported (`lag_quarters`, quarters by mode:
    `as_reported`); `{}` knows every valuation on its date."""
    d = ts(as_of)
    ids_all = fund_investment_ids(book, fund_code, as_of)
    d = last_record(book, ids_all, d) if ids_all else d
    records: list[dict] = []
    track: list[dict] = []
    longest = max(horizons)
    starts = origins(book, fund_code, as_of)
    for done, origin in enumerate(starts):
        if progress is not None:
            progress(done, len(starts))
        ends = [e for e in fb.quarter_ends_after(origin, longest) if e <= d]
        if not ends:
            continue
        h = fb.histories(as_reported(book, origin, lag_quarters), fund_code, origin.date())
        if len(h) == 0:
            continue
        ids = list(h.units["id"])
        actual_c, actual_d = _actual_cumulative(book, ids, origin, ends, d)
        start = h.start()
        commitment = np.maximum(start.commitment, 1e-9)
        for model in MODELS:
            if model == "calibrated":
                cal = fb.calibrate(h, _known_on(overrides, overrides_set_on, origin))
                layer = noise or fb.calibrate_noise(h, cal)
            else:
                cal, layer = fb.uncalibrated(h), noise or fc.Noise()
            params = cal.params()
            det = fc.project(start, params, len(ends))
            sim = fc.simulate(start, params, len(ends), paths, seed=seed, noise=layer, unit_quantiles=True, qs=QS)
            cum_c, cum_d = np.cumsum(det.call, axis=1), np.cumsum(det.distribution, axis=1)
            if model == "calibrated":
                track.append(_track_row(origin, ends[0], len(ids), det, sim, actual_c, actual_d))
            for hz in horizons:
                if hz > len(ends):
                    continue
                k = hz - 1
                qc, qd = sim.unit_quantiles["cum_call"][:, k, :], sim.unit_quantiles["cum_distribution"][:, k, :]
                for i, unit_id in enumerate(ids):
                    records.append({
                        "origin": origin.date(), "unit": unit_id, "model": model, "horizon": hz,
                        "calls_open": bool(start.unfunded[i] > 0), "nav_open": bool(start.nav[i] > 0),
                        "call_error": (cum_c[i, k] - actual_c[i, k]) / commitment[i] * 100,
                        "distribution_error": (cum_d[i, k] - actual_d[i, k]) / commitment[i] * 100,
                        "call_covered": bool(qc[i, 0] <= actual_c[i, k] <= qc[i, 2]),
                        "distribution_covered": bool(qd[i, 0] <= actual_d[i, k] <= qd[i, 2]),
                        "ccar95_exceeded": bool(actual_c[i, k] > qc[i, 3]),
                    })
    if progress is not None:
        progress(len(starts), len(starts))
    return {"fund": fund_code, "as_of": ts(as_of).date(), "data_until": d.date(), "paths": paths,
            "reporting_lag_quarters": {mode: k for mode, k in lag_quarters.items() if k},
            "table": summary(records, horizons), "origins": len({r["origin"] for r in records}),
            "track": track, "records": records}


def _track_row(origin: pd.Timestamp, end: pd.Timestamp, units: int, det: fc.Projection, sim: fc.Simulation,
               actual_c: np.ndarray, actual_d: np.ndarray) -> dict:
    """The track record's row of an origin (module docstring): the next quarter's whole-fund
    forecast (E, P10, P90) of calls and distributions beside the actual of the units held on O."""
    row: dict = {"origin": origin.date(), "quarter": fb.quarter_label(end), "units": units}
    for name, series, actual in (("calls", "call", actual_c), ("distributions", "distribution", actual_d)):
        p10, p90 = (float(v) for v in np.quantile(getattr(sim, series)[:, 0], (0.10, 0.90)))
        happened = float(actual[:, 0].sum())
        row |= {f"{name}_e": float(getattr(det, series)[:, 0].sum()), f"{name}_p10": p10, f"{name}_p90": p90,
                f"{name}_actual": happened, f"{name}_inside": bool(p10 <= happened <= p90)}
    return row


def band_record(track: list[dict]) -> dict[str, int]:
    """How the bands have done over a track record (`track`): its quarters, how many of them
    had the actual calls, and the actual distributions, inside the P10–P90 band forecast the
    quarter end before, and of the others how many fell below P10 (the forecast ran high) and
    above P90 (it ran low). One count for the pages and the command line."""
    record = {"quarters": len(track)}
    for name in ("calls", "distributions"):
        outside = [r for r in track if not r[f"{name}_inside"]]
        record[f"{name}_inside"] = len(track) - len(outside)
        record[f"{name}_below"] = sum(r[f"{name}_actual"] < r[f"{name}_p10"] for r in outside)
        record[f"{name}_above"] = len(outside) - record[f"{name}_below"]
    return record


def _known_on(overrides: dict | None, set_on: dict[str, dt.date] | None, origin: pd.Timestamp) -> dict | None:
    """The overrides a forecaster had on the origin: those set on or before it."""
    if not overrides or set_on is None:
        return overrides
    return {unit: values for unit, values in overrides.items() if unit in set_on and set_on[unit] <= origin.date()}


def summary(records: list[dict], horizons=HORIZONS) -> list[dict]:
    """One row per (horizon, model): n, MAE, bias, coverage, CCaR95 exceedance (None where
    nothing was compared)."""
    frame = pd.DataFrame(records)
    rows = []
    for hz in horizons:
        for model in MODELS:
            part = frame[(frame["horizon"] == hz) & (frame["model"] == model)] if len(frame) else frame
            calls = part[part["calls_open"]] if len(part) else part
            dists = part[part["nav_open"]] if len(part) else part

            def mean(values) -> float | None:
                return float(np.mean(values)) if len(values) else None

            rows.append({
                "horizon": hz, "model": model, "n_calls": int(len(calls)), "n_distributions": int(len(dists)),
                "call_mae": mean(np.abs(calls["call_error"])) if len(calls) else None,
                "call_bias": mean(calls["call_error"]) if len(calls) else None,
                "distribution_mae": mean(np.abs(dists["distribution_error"])) if len(dists) else None,
                "distribution_bias": mean(dists["distribution_error"]) if len(dists) else None,
                "call_coverage": mean(calls["call_covered"]) if len(calls) else None,
                "distribution_coverage": mean(dists["distribution_covered"]) if len(dists) else None,
                "ccar95_exceedance": (mean(calls["ccar95_exceeded"]) if len(calls) and hz in (4, 8) else None),
            })
    return rows
