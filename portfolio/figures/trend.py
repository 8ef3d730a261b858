"""A fund's figures by quarter (the J-curve): the report's summary at each quarter end.

`trend(book, fund_code, as_of)` is pure (BookData in, plain data out). Each point is the
summary of the fund's report (portfolio.figures.report.compute_report) as of that quarter
end: the same holdings (scope.holdings_of) summed by the same engine function
(engine.summarise), so a point equals the report's summary dated there, figure for figure.
The flows of a quarter are the changes of the cumulative paid-in and distributions between
two quarter ends; the dry powder is the unfunded commitment at the quarter end.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from portfolio.figures import engine as fg
from portfolio.figures.scope import holdings_of

__all__ = ["quarter_ends", "trend", "MAX_QUARTERS"]

MAX_QUARTERS = 60  # fifteen years: a fund's life; older quarters are left off the chart


def quarter_ends(first: dt.date, as_of: dt.date) -> list[dt.date]:
    """The ends of the quarters from `first`'s to `as_of`'s, the last one being `as_of`
    itself when it is not a quarter end (a report dated mid-quarter)."""
    if first > as_of:
        return []
    periods = pd.period_range(pd.Period(first, freq="Q"), pd.Period(as_of, freq="Q"), freq="Q")
    return [min(p.end_time.date(), as_of) for p in periods]


def trend(book, fund_code: str, as_of: dt.date, known: list[dict] | None = None) -> list[dict]:
    """One point per quarter end from the fund's first investment to D: the report's summary
    keys (commitment, paid_in, unfunded, distributed, nav, tvpi, dpi, rvpi, irr), and
    `calls` and `distributions` in that quarter (yuan, Decimal), `since` (the first
    investment's date: an IRR under a year is not annualised on screen).

    `known`: points of this trend computed on a book that differs from this one only in the
    fund's flows and valuations dated after each of them (portfolio.book.cache after a write):
    a point's figures count records dated up to its quarter end only, so it is taken as it is."""
    held = holdings_of(book, fund_code, as_of)
    if held.investments.empty:
        return []
    first = pd.Timestamp(held.investments["date"].min()).date()
    kept = {point["as_of"]: point for point in known or () if point.get("since") == first}
    points: list[dict] = []
    paid_before, distributed_before = Decimal(0), Decimal(0)
    for end in quarter_ends(first, as_of):
        if end in kept:
            point = dict(kept[end])
        else:
            summary = fg.summarise(holdings_of(book, fund_code, end).positions)
            point = {"as_of": end, **summary, "since": first,
                     "calls": summary["paid_in"] - paid_before,
                     "distributions": summary["distributed"] - distributed_before}
        points.append(point)
        paid_before, distributed_before = point["paid_in"], point["distributed"]
    return points[-MAX_QUARTERS:]
