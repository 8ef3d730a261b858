"""The sanity checks of an import (issue 12, Deliver 7): the rows of a book that a form would
ask about — a cash flow or valuation dated in the future, contributions beyond the
commitment, a distribution larger than the NAV plus the contributions since.

The rules are portfolio.book.sanity's, the form's, applied to the book as it would be after
the import (the records in force, with the book's new and changed rows in place), and asked
only of the rows the import adds or changes: a row already in the book was answered when it
came in. Sums are exact (Python integers of fen); a plan of 100k flows is one pass.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from typing import Any

import pandas as pd

from portfolio.book import sanity
from portfolio.messages import Message
from portfolio.money import yuan

FLOW_KEY = ["investment_id", "date", "type", "amount_cny"]


def _dates(series: pd.Series) -> list[dt.date | None]:
    return [None if v is pd.NaT or v is None else v for v in series.dt.date.tolist()]


def _fen(series: pd.Series) -> list[int | None]:
    return [None if v is pd.NA or pd.isna(v) else int(v) for v in series.to_numpy(dtype=object)]


def _rows(book: pd.DataFrame, keys: list[str]) -> dict[tuple, int]:
    """The book's Excel row of each key (the first, for identical rows)."""
    rows: dict[tuple, int] = {}
    if "_row" not in book:
        return rows
    columns = [_dates(book[k]) if book[k].dtype.kind == "M" else list(book[k].to_numpy(dtype=object)) for k in keys]
    for values in zip(*columns, book["_row"].to_numpy(dtype=object)):
        rows.setdefault(tuple(None if v is pd.NA else v for v in values[:-1]), int(values[-1]))
    return rows


def _key(*parts: Any) -> str:
    return "/".join(["" if p is None else str(p) for p in parts])  # str(date) is its ISO form


def _commitments(existing: dict[str, pd.DataFrame], frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """The commitments after the import: the book's investments over those in force."""
    commitment: dict[str, int] = {}
    for frame in (existing["investments"], frames["investments"]):
        for inv, fen in zip(frame["id"], _fen(frame["commitment_cny"])):
            if fen is not None:
                commitment[inv] = fen
    return commitment


def _navs(existing: dict[str, pd.DataFrame], frames: dict[str, pd.DataFrame]) -> dict[str, dict[dt.date, int]]:
    """The approved NAVs after the import: those in force, with the book's valuations (approved
    when the import applies) in place of the same investment and date."""
    navs: dict[str, dict[dt.date, int]] = defaultdict(dict)
    ex_v = existing["valuations"]
    approved = ex_v[ex_v["_approved"].fillna(False).astype(bool)] if len(ex_v) else ex_v
    for frame in (approved, frames["valuations"]):
        for inv, day, fen in zip(frame["investment_id"], _dates(frame["as_of"]), _fen(frame["fair_value_cny"])):
            if day is not None and fen is not None:
                navs[inv][day] = fen
    return navs


class _PaidIn:
    """The contributions after the import (those in force, less the changed ones, plus the
    book's), as running totals by date for each investment."""

    def __init__(self, *frames: pd.DataFrame):
        by_inv: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
        for frame in frames:
            if not len(frame):
                continue
            for inv, day, kind, fen in zip(frame["investment_id"], _dates(frame["date"]), frame["type"],
                                           _fen(frame["amount_cny"])):
                if kind == "contribution" and day is not None and fen is not None:
                    by_inv[inv].append((day, fen))
        self.dates: dict[str, list[dt.date]] = {}
        self.totals: dict[str, list[int]] = {}
        for inv, flows in by_inv.items():
            flows.sort()
            self.dates[inv] = [d for d, _ in flows]
            total, running = 0, []
            for _, fen in flows:
                total += fen
                running.append(total)
            self.totals[inv] = running

    def until(self, inv: str, day: dt.date | None) -> int:
        """Contributions dated on or before `day` (None: any date)."""
        dates = self.dates.get(inv, [])
        i = len(dates) if day is None else bisect_right(dates, day)
        return self.totals[inv][i - 1] if i else 0


def plan_doubts(existing: dict[str, pd.DataFrame], frames: dict[str, pd.DataFrame], flows_new: pd.DataFrame,
                flows_changed: pd.DataFrame, valuations_touched: pd.DataFrame) -> list[dict[str, Any]]:
    """[{"sheet", "row", "key", "match", "doubts": [...]}] for the new and changed rows that trip
    a check ("key" to show, "match" the row's audit key without a flow's ref).

    `existing`: the records in force (importing._existing); `frames`: the book's typed sheets
    (with `_row`); `flows_new`, `flows_changed` (with the existing row's `_id`),
    `valuations_touched`: what the import adds or changes."""
    commitment, navs = _commitments(existing, frames), _navs(existing, frames)
    nav_days = {inv: sorted(days) for inv, days in navs.items()}
    ex_f = existing["cash_flows"]
    paid = _PaidIn(ex_f[~ex_f["_id"].isin(set(flows_changed["_id"]))] if len(flows_changed) else ex_f,
                   flows_changed, flows_new)

    beyond: dict[str, list[str]] = {}  # an investment's contributions against its commitment: one answer

    def flow(inv: str, day: dt.date | None, kind: str, fen: int | None) -> list[str]:
        doubts = sanity.future_doubt(day, "date")
        if day is None or fen is None:
            return doubts
        if kind == "contribution" and inv in commitment:
            if inv not in beyond:
                beyond[inv] = sanity.contribution_doubt(yuan(paid.until(inv, None)), yuan(commitment[inv]))
            doubts += beyond[inv]
        elif kind == "distribution":
            days = nav_days.get(inv, [])
            i = bisect_right(days, day)
            nav_day = days[i - 1] if i else None
            since = paid.until(inv, day) - (paid.until(inv, nav_day) if nav_day is not None else 0)
            doubts += sanity.distribution_doubt(yuan(fen), nav_day, yuan(navs[inv][nav_day]) if nav_day else None,
                                                yuan(since))
        return doubts

    found: list[dict[str, Any]] = []
    rows = _rows(frames["cash_flows"], FLOW_KEY)
    seen: set[tuple] = set()
    for frame in (flows_new, flows_changed):
        if not len(frame):
            continue
        for values in zip(frame["investment_id"], _dates(frame["date"]), frame["type"], _fen(frame["amount_cny"])):
            doubts = [] if values in seen else flow(*values)
            seen.add(values)
            if doubts:
                inv, day, kind, fen = values
                found.append({"sheet": "cash_flows", "row": rows.get(values),
                              "key": _key(inv, day, kind, yuan(fen) if fen is not None else None),
                              "match": _key(*values), "doubts": doubts})
    rows = _rows(frames["valuations"], ["investment_id", "as_of"])
    for inv, day in zip(valuations_touched["investment_id"], _dates(valuations_touched["as_of"])):
        doubts = sanity.valuation_doubts(day)
        if doubts:
            found.append({"sheet": "valuations", "row": rows.get((inv, day)), "key": _key(inv, day),
                          "match": _key(inv, day), "doubts": doubts})
    return found


def unconfirmed(doubts: list[dict[str, Any]], shown: int = 5) -> sanity.Unconfirmed:
    """The question for an import's doubted rows: the first few, and how many in all."""
    lines = [described(d) for d in doubts[:shown]]
    if len(doubts) > shown:
        lines.append(Message("import_doubts_more", n=len(doubts)))
    return sanity.Unconfirmed(lines)


def described(doubt: dict[str, Any]) -> str:
    """One doubted row in a line: 'cash_flows 第12行 (QY-CO1/2030-01-01/…): …'."""
    if doubt.get("row"):
        return Message("import_doubt_row", sheet=doubt["sheet"], row=doubt["row"], row_key=doubt["key"],
                       doubts=list(doubt["doubts"]))
    return Message("import_doubt_sheet", sheet=doubt["sheet"], row_key=doubt["key"], doubts=list(doubt["doubts"]))


__all__ = ["described", "plan_doubts", "unconfirmed"]
