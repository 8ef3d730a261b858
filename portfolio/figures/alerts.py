"""What needs attention in a fund as of D, from figures computed elsewhere (pure: plain data
in, plain data out; nothing here computes a figure of its own):

- failed rules: the report's compliance checks (portfolio.figures.rules) whose status is fail;
- stale valuations: holdings with a NAV whose latest valuation is dated before D's quarter
  (the quarterly report's 滞后 badge, `is_stale`: a GP report that lags);
- idle commitments: units with money left to call and no call for 9 months (warning) or 12
  (the trigger of 财预〔2015〕210号), from portfolio.figures.forecast_book.idle_units.

Overdue GP reports are the GP portal's (portfolio.gp.packages.overdue): they need the database.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["quarter_start", "is_stale", "fund_alerts"]


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def is_stale(valued: dt.date | None, period_start: dt.date, nav: Any = 1) -> bool:
    """A valuation that lags: dated before the quarter being reported on, of a holding still
    held (NAV above nought: an exit or a write-off is valued once and for all). The home page's
    alert and the quarterly report's 滞后 count the same holdings."""
    return valued is not None and valued < period_start and (nav or 0) > 0


def fund_alerts(book, report: dict, as_of: dt.date) -> dict:
    """The alerts of the report's fund: failed checks, stale valuations, idle commitments
    (warn and trigger; the idle units in order of months idle, longest first)."""
    import pandas as pd

    from portfolio.figures.forecast_book import idle_units
    from portfolio.figures.scope import holdings_of

    start = quarter_start(as_of)
    failed = [c for c in report.get("compliance") or [] if c.get("status") == "fail"]
    stale = [i for i in report.get("investments") or []
             if i.get("valuation_as_of") is not None
             and is_stale(pd.Timestamp(i["valuation_as_of"]).date(), start, i.get("nav"))]
    # the units as forecast_book.histories has them (its id, name, start and unfunded columns),
    # read off the fund's positions the report already resolved: the quarter-by-quarter
    # histories the forecast needs cost most of the home page's first view after a write
    rows = holdings_of(book, report["fund"], as_of).positions.rows
    units = pd.DataFrame({"id": rows["id"].to_numpy(dtype=object), "name": rows["target_name"].to_numpy(dtype=object),
                          "start": rows["date"].to_numpy(),
                          "unfunded": rows["unfunded_fen"].to_numpy(dtype="float64") / 100})
    idle = sorted((u for u in idle_units(book, units, pd.Timestamp(as_of)) if u["status"] != "ok"),
                  key=lambda u: (-u["months"], u["id"]))
    return {"failed": failed, "stale": stale, "idle": idle}
