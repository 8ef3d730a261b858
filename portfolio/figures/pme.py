"""Public-market equivalents (metrics.md): KS-PME, Long–Nickels PME and Direct Alpha.

The index level on a flow's date is the latest level on or before it; a flow before the
series starts is an error that says so (nothing is extrapolated).

Definitions are pyxirr's (`pyxirr.pe`): KS-PME = `pe.ks_pme` (a multiple, no dates
needed); the index-compounded flows are `pe.ks_pme_flows` and the Long–Nickels NAV is
`pe.ln_pme_nav`. pyxirr's `ln_pme` and `direct_alpha` return a per-period IRR of
those flows (`pyxirr.irr`), which is a yearly rate only for evenly spaced yearly flows;
our flows fall on any day, so the same flows are fed to `pyxirr.xirr` with their dates
(actual/365, as the fund's own IRR), giving annual rates comparable with the IRR.

`parse_index_csv` reads a CSV of date, level (portfolio.book.reading.import_index stores it).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from portfolio.errors import FieldErrors, PMEError
from portfolio.figures import engine as fg
from portfolio.figures.bookdata import BookData
from portfolio.messages import Message


def levels_on(series: pd.Series, days: np.ndarray, name: str = "") -> np.ndarray:
    """The latest level on or before each day; PMEError for a day before the series starts."""
    series = series.sort_index()
    index_days = series.index.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    days = np.asarray(days, dtype="datetime64[D]")
    if len(index_days) == 0:
        raise PMEError(Message("index_no_levels", name=name))
    where = np.searchsorted(index_days, days, side="right") - 1
    if (where < 0).any():
        first_flow = days[where < 0].min()
        raise PMEError(Message("index_before_start", flow_day=str(first_flow), name=name,
                               start_day=str(index_days[0])))
    return series.to_numpy(dtype="float64")[where]


def pme_figures(book: BookData, investment_ids: Iterable[str], as_of: dt.date, index_series: pd.Series) -> dict:
    """KS-PME, Long–Nickels PME (annual rate) and Direct Alpha (annual rate) of a group."""
    import pyxirr.pe as pe

    name = str(index_series.name or "")
    pos = fg.positions(book, investment_ids, as_of)
    d = pos.as_of.to_datetime64().astype("datetime64[D]")
    nav_fen = int(pos.rows["nav_fen"].sum())
    # the NAV rows (on D) are kept apart: pyxirr.pe takes the NAV as its own argument
    real = pos.flows[~pos.flows["is_nav"]].sort_values("day", kind="stable")
    days = np.concatenate([real["day"].to_numpy(dtype="datetime64[D]"), [d]])
    amounts = np.concatenate([real["amount"].to_numpy(dtype="float64") / 100.0, [0.0]])  # yuan
    out = {"index_start": None, "index_level_as_of": None, "irr": fg.summarise(pos)["irr"],
           "ks_pme": None, "ln_pme": None, "ln_pme_nav": None, "direct_alpha": None}
    if not (amounts < 0).any():
        return out  # nothing paid in: no PME
    levels = levels_on(index_series, days, name)
    nav = nav_fen / 100.0
    out["index_start"] = pd.Timestamp(index_series.sort_index().index[0]).date()
    out["index_level_as_of"] = float(levels[-1])
    out["ks_pme"] = fg.none_if_nan(pe.ks_pme(amounts, levels, nav))
    compounded = np.asarray(pe.ks_pme_flows(amounts, levels), dtype="float64")
    compounded[-1] += nav
    out["direct_alpha"] = fg.xirr(days, compounded)
    ln_nav = float(pe.ln_pme_nav(amounts, levels))
    out["ln_pme_nav"] = ln_nav
    ln_flows = amounts.copy()
    ln_flows[-1] += max(ln_nav, 0.0)
    out["ln_pme"] = fg.xirr(days, ln_flows)
    return out


# ---------------------------------------------------------------- import
MAX_INDEX_LEVEL = Decimal(10) ** 12  # an index's level (thousands, as a rule); 10^12 × 10^6 still fits 63 bits


def parse_index_csv(text: str) -> list[tuple[dt.date, Decimal]]:
    """CSV with a header `date,level` → [(date, level)]; FieldErrors naming each bad row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "date" not in fields or "level" not in fields:
        raise FieldErrors([("file", Message("index_csv_columns"))])
    errors, out, seen = [], [], set()
    for n, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            day = dt.date.fromisoformat(row["date"])
        except ValueError:
            errors.append(("file", Message("index_csv_date", row=n, text=repr(row["date"]))))
            continue
        try:
            level = Decimal(row["level"])
            if not level.is_finite() or level <= 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(("file", Message("index_csv_level", row=n, text=repr(row["level"]))))
            continue
        if level >= MAX_INDEX_LEVEL:  # past what is stored exactly (6 places in a 64-bit integer)
            errors.append(("file", Message("index_csv_level_large", row=n, text=repr(row["level"]))))
            continue
        if day in seen:
            errors.append(("file", Message("index_csv_duplicate", row=n, day=day)))
            continue
        seen.add(day)
        out.append((day, level.quantize(Decimal("0.000001"))))
    if errors:
        raise FieldErrors(errors)
    if not out:
        raise FieldErrors([("file", Message("index_csv_empty"))])
    return out


