"""The sanity checks of an import (issue 12, Deliver 7): the rows of a book that a form would
ask about — a cash flow or valuation dated in the future, contributions beyond the
commitment, a distribution larger than the NAV plus the contributions since, a cash flow the
same as one the book has (same investment, date, type and amount, one of the two without a
reference: a flow typed on screen, then imported with its notice's number, would otherwise be
booked twice, since flows match by reference first).

The rules are portfolio.book.sanity's, the form's, applied to the book as it would be after
the import (the records in force, with the book's new and changed rows in place), and asked
only of the rows the import adds or changes: a row already in the book was answered when it
came in. Sums are exact (Python integers of fen); a plan of 100k flows is one pass.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from itertools import accumulate
from typing import Any, cast

import numpy as np
import pandas as pd

from portfolio.book import sanity
from portfolio.interchange.schema import column_named
from portfolio.messages import Message
from portfolio.money import yuan

FLOW_KEY = ["investment_id", "date", "type", "amount_cny"]


def _dates(series: pd.Series) -> list[dt.date | None]:
    return [None if v is pd.NaT or v is None else v for v in series.dt.date.tolist()]


def _fen(series: pd.Series) -> list[int | None]:
    """Integer fen as Python ints (None for a blank), column-wise: no per-value test."""
    return series.astype(object).where(series.notna(), None).tolist()


def _column(series: pd.Series) -> list:
    """A key column as plain values (dates as dates, blanks as None)."""
    return _dates(series) if series.dtype.kind == "M" else _fen(series)


def _rows(book: pd.DataFrame, keys: list[str]) -> dict[tuple, int]:
    """The book's Excel row of each key (the first, for identical rows)."""
    if "_row" not in book:
        return {}
    pairs = zip(zip(*(_column(book[k]) for k in keys)), book["_row"].tolist())
    return dict(reversed(list(pairs)))  # built last row first: the first row of a key is what stays


def _key(*parts: Any) -> str:
    return "/".join(["" if p is None else str(p) for p in parts])  # str(date) is its ISO form


def _yuan_text(fen: int | None) -> str:
    """str(yuan(fen)) without making the Decimal: '10445625.32', '-0.05'; '' for a blank."""
    if fen is None:
        return ""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


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


def _copies(ex_f: pd.DataFrame, flows: pd.DataFrame, asked: np.ndarray) -> dict[int, list[str]]:
    """The rule on copies (sanity.duplicate_doubt, the form's) for the flows at `asked`: a
    flow in force with the same investment, date, type and amount, one of the two without a
    reference, other than the row itself (`_own`: a changed row's id, -1 for a new one); the
    first such flow by id is named, by its reference. One merge on the key, whatever the number of rows.

    `flows`: FLOW_KEY + `ref`, `_own`, positional; `ex_f`: the flows in force (_existing)."""
    if not len(ex_f) or not asked.any():
        return {}
    mine = flows.iloc[np.flatnonzero(asked)][FLOW_KEY]
    mine = mine.assign(_at=np.flatnonzero(asked), _named=flows["ref"].notna().to_numpy()[asked],
                       _own=flows["_own"].to_numpy()[asked])
    theirs = ex_f[FLOW_KEY].assign(_id=ex_f["_id"].to_numpy(), _theirs_named=ex_f["ref"].notna().to_numpy(),
                                   _theirs_ref=ex_f["ref"].to_numpy())
    pairs = mine.merge(theirs, on=FLOW_KEY, how="inner", sort=False)
    pairs = pairs[(pairs["_id"] != pairs["_own"]).to_numpy() & ~(pairs["_named"] & pairs["_theirs_named"]).to_numpy()]
    if not len(pairs):
        return {}
    first = pairs.sort_values("_id", kind="stable").drop_duplicates("_at")  # the first such flow by id, per row
    part = flows.iloc[first["_at"].to_numpy()]
    fens = cast(list[int], _fen(part["amount_cny"]))  # complete rows: no blanks
    refs = [str(ref) if named else None for ref, named in zip(first["_theirs_ref"], first["_theirs_named"])]
    return {at: [sanity.same_flow(day, kind, yuan(fen), ref)]
            for at, ref, day, kind, fen in zip(first["_at"].tolist(), refs, _dates(part["date"]),
                                               part["type"].tolist(), fens)}


class _PaidIn:
    """The contributions after the import (those in force, less the changed ones, plus the
    book's), as running totals by date for each investment: exact Python integers, summed
    investment by investment (`accumulate`), the rows sorted and grouped by pandas."""

    def __init__(self, *frames: pd.DataFrame):
        parts = [f[["investment_id", "date", "amount_cny"]][f["type"] == "contribution"] for f in frames if len(f)]
        self.dates: dict[str, list[dt.date]] = {}
        self.totals: dict[str, list[int]] = {}
        if not parts:
            return
        paid = pd.concat(parts, ignore_index=True).dropna(subset=["date", "amount_cny"])
        paid = paid.sort_values(["investment_id", "date", "amount_cny"], kind="stable")
        invs = paid["investment_id"].tolist()
        days, fens = cast(list[dt.date], _dates(paid["date"])), cast(list[int], _fen(paid["amount_cny"]))  # no blanks
        starts = [0, *(i for i in range(1, len(invs)) if invs[i] != invs[i - 1]), len(invs)]
        for start, stop in zip(starts, starts[1:]):
            self.dates[invs[start]] = days[start:stop]
            self.totals[invs[start]] = list(accumulate(fens[start:stop]))

    def until(self, inv: str, day: dt.date | None) -> int:
        """Contributions dated on or before `day` (None: any date)."""
        dates = self.dates.get(inv, [])
        i = len(dates) if day is None else bisect_right(dates, day)
        return self.totals[inv][i - 1] if i else 0


def _moved(changed: pd.DataFrame) -> np.ndarray:
    """The changed flows whose date, type or amount the book changes (`<col>_old`: as in force)."""
    moved = np.zeros(len(changed), dtype=bool)
    for c in ("date", "type", "amount_cny"):
        new = changed[c]
        old = changed[c + "_old"].astype(new.dtype)
        same = (new == old).fillna(False).to_numpy(dtype=bool) | (new.isna() & old.isna()).to_numpy()
        moved |= ~same
    return moved


def plan_doubts(existing: dict[str, pd.DataFrame], frames: dict[str, pd.DataFrame], flows_new: pd.DataFrame,
                flows_changed: pd.DataFrame, valuations_touched: pd.DataFrame) -> list[dict[str, Any]]:
    """[{"sheet", "row", "key", "match", "doubts": [...], "columns": [...]}] for the new and changed
    rows that trip a check ("key" to show, "match" the row's audit key without a flow's ref;
    "columns": the column of interchange.md each doubt is about, one for each: a date after
    today its date's, `date` or `as_of`; contributions beyond the commitment, a distribution
    beyond the NAV and a copy of a flow in force the amount's, `amount_cny`).

    `existing`: the records in force (importing._existing); `frames`: the book's typed sheets
    (with `_row`); `flows_new`, `flows_changed` (with the existing row's `_id`),
    `valuations_touched`: what the import adds or changes.

    Column-wise where the answer does not need the row alone: today is read once (an import is
    one moment), the dates after it found by one comparison, an investment's contributions
    weighed against its commitment once for all of them; only the distributions are weighed
    one by one (against the NAV before each, in exact integer fen), and only the doubted rows
    become entries. The same rows of a book (identical in every key) are asked about once.
    A copy of a flow in force is asked of the new rows and of the changed rows whose date, type
    or amount the book changes (a row the book leaves so was answered when it came in)."""
    today = sanity.today()
    found: list[dict[str, Any]] = []
    parts = [f[FLOW_KEY + ["ref"]].assign(_own=f["_id"].to_numpy() if "_id" in f else -1,
                                          _moved=_moved(f) if "_id" in f else True,
                                          _at_row=f["_row"].to_numpy() if "_row" in f else -1)
             for f in (flows_new, flows_changed) if len(f)]
    if parts:
        flows = pd.concat(parts, ignore_index=True)
        commitment, navs = _commitments(existing, frames), _navs(existing, frames)
        ex_f = existing["cash_flows"]
        paid = _PaidIn(ex_f[~ex_f["_id"].isin(set(flows_changed["_id"]))] if len(flows_changed) else ex_f,
                       flows_changed, flows_new)
        first = ~flows.duplicated(FLOW_KEY).to_numpy()
        complete = first & flows["date"].notna().to_numpy() & flows["amount_cny"].notna().to_numpy()
        future = first & (flows["date"] > pd.Timestamp(today)).to_numpy()  # a blank date is not after today
        kind = flows["type"].to_numpy(dtype=object)

        contributing = complete & (kind == "contribution")
        beyond = {inv: sanity.contribution_doubt(yuan(paid.until(inv, None)), yuan(commitment[inv]))
                  for inv in set(flows["investment_id"].to_numpy(dtype=object)[contributing]) if inv in commitment}
        over = contributing & flows["investment_id"].isin({inv for inv, doubts in beyond.items() if doubts}).to_numpy()

        nav_days = {inv: sorted(days) for inv, days in navs.items()}
        beyond_nav: dict[int, list[str]] = {}  # a distribution's row: its doubt
        distributing = np.flatnonzero(complete & (kind == "distribution"))
        part = flows.iloc[distributing]
        for i, inv, day, fen in zip(distributing.tolist(), part["investment_id"],  # complete rows: no blanks
                                    cast(list[dt.date], _dates(part["date"])), cast(list[int], _fen(part["amount_cny"]))):
            days = nav_days.get(inv, [])
            at = bisect_left(days, day)  # a NAV of the day itself is after its flows (interchange.md)
            nav_day = days[at - 1] if at else None
            since = paid.until(inv, day) - (paid.until(inv, nav_day) if nav_day is not None else 0)
            doubts = sanity.distribution_doubt(yuan(fen), nav_day, yuan(navs[inv][nav_day]) if nav_day else None,
                                               yuan(since))
            if doubts:
                beyond_nav[i] = doubts

        keyed = complete & flows["type"].notna().to_numpy()
        copies = _copies(ex_f, flows, keyed & flows["_moved"].to_numpy(dtype=bool))

        doubted = np.flatnonzero(future | over)
        if beyond_nav or copies:
            doubted = np.union1d(doubted, [*beyond_nav, *copies]).astype(int)
        part = flows.iloc[doubted]
        rows = _rows(frames["cash_flows"], FLOW_KEY)  # where the plan did not bring the row's own
        for i, at_row, values in zip(doubted.tolist(), part["_at_row"].tolist(),
                                     zip(*(_column(part[k]) for k in FLOW_KEY))):
            inv, day, kind_, fen = values
            doubts = sanity.future_doubt(day, "date", on=today) if future[i] else []
            dated = len(doubts)  # the date's doubts; the others are about the amount
            doubts += beyond[inv] if over[i] else beyond_nav.get(i, [])
            doubts += copies.get(i, [])
            # _key's text, written out: 0.1 s less on a book with 77,000 doubted rows
            day_text = "" if day is None else day.isoformat()
            found.append({"sheet": "cash_flows", "row": rows.get(values) if at_row < 0 else at_row,
                          "key": f"{inv or ''}/{day_text}/{kind_ or ''}/{_yuan_text(fen)}",
                          "match": f"{inv or ''}/{day_text}/{kind_ or ''}/{'' if fen is None else fen}",
                          "doubts": doubts, "columns": ["date"] * dated + ["amount_cny"] * (len(doubts) - dated)})
        # in the workbook's order (the new rows a reference matched first come first in the plan)
        found.sort(key=lambda d: (d["row"] is None, d["row"] or 0))
    later = valuations_touched[(valuations_touched["as_of"] > pd.Timestamp(today)).to_numpy()]
    if len(later):
        rows = _rows(frames["valuations"], ["investment_id", "as_of"])
        for inv, as_of in zip(later["investment_id"], _dates(later["as_of"])):
            doubts = sanity.valuation_doubts(as_of, on=today)
            found.append({"sheet": "valuations", "row": rows.get((inv, as_of)), "key": _key(inv, as_of),
                          "match": _key(inv, as_of), "doubts": doubts, "columns": ["as_of"] * len(doubts)})
    return found


def unconfirmed(doubts: list[dict[str, Any]], shown: int = 5) -> sanity.Unconfirmed:
    """The question for an import's doubted rows: the first few, and how many in all."""
    lines: list[str] = [line for d in doubts[:shown] for line in described(d)]
    if len(doubts) > shown:
        lines.append(Message("import_doubts_more", n=len(doubts)))
    return sanity.Unconfirmed(lines)


def by_column(doubt: dict[str, Any]) -> list[tuple[str, list]]:
    """A doubted row's doubts by the column each is about, in their order: [(column, doubts)];
    a row kept without its columns (a change set staged before they were) ("", all of them)."""
    said, columns = list(doubt["doubts"]), doubt.get("columns")
    if not isinstance(columns, list) or len(columns) != len(said):
        return [("", said)]
    grouped: dict[str, list] = {}
    for column, one in zip(columns, said):
        grouped.setdefault(str(column or ""), []).append(one)
    return list(grouped.items())


def cell_value(doubt: dict[str, Any], column: str) -> str:
    """What the doubted row holds in `column`, as its key writes it (a date ISO, an amount in 元
    to the fen): the key's parts after the investment (which may hold a slash), by place."""
    places = {"date": 1, "amount_cny": 3} if doubt["sheet"] == "cash_flows" else {"as_of": 1}
    parts = str(doubt["key"]).rsplit("/", 3 if doubt["sheet"] == "cash_flows" else 1)
    at = places.get(column)
    return parts[at] if at is not None and at < len(parts) else str(doubt["key"])


def column_said(doubt: dict[str, Any]) -> list:
    """A doubted row's doubts as its own audit entry keeps them, one for one: each under the
    column it is about, named as the change-set screen's 列 names it (schema.column_named):
    '金额：出资合计…' / 'Amount (CNY): contributions would total …'; a row kept without its
    columns (a change set staged before they were), its doubts as they are."""
    kept: list = []
    for column, said in by_column(doubt):
        if not column:
            kept += said
            continue
        header = (column, column_named(column, doubt["sheet"], "zh"))
        kept += [Message("import_doubt_column", column_header=header, doubts=[one]) for one in said]
    return kept


def described(doubt: dict[str, Any]) -> list[Message]:
    """One doubted row in a line for each column its doubts are about, as an import's error is
    located: '现金流 第12行 日期（QY-CO1 · 2030-01-01 · …）：…', 'Cash flow row 12 date (…): …'
    (the sheet by its name in the reader's language: messages' `sheet` argument; the column in
    words as the change-set screen names it, schema.column_named: `column_header`); a row kept without its columns, one line
    without one."""
    lines = []
    for column, said in by_column(doubt):
        where: dict[str, Any] = {"sheet": doubt["sheet"]}
        if column:
            where["column_header"] = (column, column_named(column, doubt["sheet"], "zh"))
        if doubt.get("row"):
            key = "import_doubt_cell" if column else "import_doubt_row"
            lines.append(Message(key, **where, row=doubt["row"], row_key=doubt["key"], doubts=said))
        else:
            key = "import_doubt_sheet_cell" if column else "import_doubt_sheet"
            lines.append(Message(key, **where, row_key=doubt["key"], doubts=said))
    return lines


__all__ = ["by_column", "cell_value", "column_said", "described", "plan_doubts", "unconfirmed"]
