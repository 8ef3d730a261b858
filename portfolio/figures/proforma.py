"""The book as it would be after a proposed deal (pro forma), and what the deal breaks.

The committee's review screen and the deal form run `rules.check` on
`with_investment(book, deal)` and compare with the book as it is:
`failures_introduced(before, after)` lists the checks the deal would make fail; logging
such a deal needs a written reason (rules.md).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from portfolio.figures.bookdata import BookData
from portfolio.money import fen


def _to_fen(value: Any) -> int | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return fen(Decimal(str(value)))


def _amount(row: dict, name: str) -> int | None:
    """`<name>_fen` (int fen) or `<name>_cny` (yuan, Decimal or str), whichever is given."""
    if row.get(f"{name}_fen") is not None:
        return int(row[f"{name}_fen"])
    return _to_fen(row.get(f"{name}_cny"))


def _timestamp(value: Any) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, (str, dt.date, pd.Timestamp)) and pd.isna(value):
        return None
    return pd.Timestamp(value).normalize()


def _append(frame: pd.DataFrame, row: dict[str, Any]) -> pd.DataFrame:
    """A copy of the frame with one row added, every column keeping its dtype."""
    new = pd.DataFrame([{c: row.get(c) for c in frame.columns}], columns=frame.columns)
    for column, dtype in frame.dtypes.items():
        value = row.get(column)
        if pd.api.types.is_datetime64_any_dtype(dtype):
            new[column] = pd.Series([_timestamp(value)], dtype=dtype)
        elif value is None:
            # a missing cell: NA of the column's own kind (None in object columns, as load_book)
            new[column] = pd.Series([None], dtype=dtype if dtype is not object else object)
        else:
            new[column] = new[column].astype(dtype)
    if frame.empty:
        return new.reset_index(drop=True)
    out = pd.concat([frame, new], ignore_index=True)
    for column, dtype in frame.dtypes.items():
        if out[column].dtype != dtype:
            out[column] = out[column].astype(dtype)
    return out


def _investment_row(investment: dict) -> dict[str, Any]:
    row = dict(investment)
    mode = row.get("mode")
    if row.get("target_code") is None:
        row["target_code"] = row.get("sub_fund_code") if mode == "sub_fund" else row.get("company_code")
    for name in ("commitment", "revenue", "total_assets", "lead_amount"):
        row[f"{name}_fen"] = _amount(row, name)
    if row["commitment_fen"] is None:
        raise ValueError("a pro-forma investment needs commitment_fen or commitment_cny")
    if row.get("ownership_pct") is not None:
        row["ownership_pct"] = Decimal(str(row["ownership_pct"]))
    if row.get("headcount") is not None:
        row["headcount"] = int(row["headcount"])
    row["date"] = _timestamp(row.get("date"))
    if row["date"] is None or not row.get("id") or not row.get("fund_code") or not row["target_code"]:
        raise ValueError("a pro-forma investment needs id, fund_code, target_code and date")
    for name in ("alongside_code", "round", "instrument", "stage"):
        if isinstance(row.get(name), str) and not row[name].strip():
            row[name] = None
    return row


def with_investment(book: BookData, investment: dict, *, contribution_fen: int | None = None,
                    company: dict | None = None, sub_fund: dict | None = None) -> BookData:
    """The book with one more investment (the proposed deal), on copies of the tables.

    `investment` has the columns of BookData.investments (amounts as `*_fen` ints, or
    `*_cny` yuan); `contribution_fen`, when given, adds its first contribution on its
    date; `company` / `sub_fund` add the target when it is new to the book (a target
    already in the book is left as it is, except that a company's missing founding date
    is taken from `company`). The book passed in is not changed.
    """
    row = _investment_row(investment)
    if (book.investments["id"] == row["id"]).any():
        raise ValueError(f"investment {row['id']!r} is already in the book")
    tables: dict[str, pd.DataFrame] = {"investments": _append(book.investments, row)}
    if contribution_fen:
        tables["flows"] = _append(book.flows, {"investment_id": row["id"], "date": row["date"],
                                               "type": "contribution", "amount_fen": int(contribution_fen)})
    if company is not None:
        known = book.companies["code"] == company.get("code")
        founded = _timestamp(company.get("founded"))
        if not known.any():
            tables["companies"] = _append(book.companies, {**company, "founded": founded})
        elif founded is not None and book.companies.loc[known, "founded"].isna().all():
            # the founding date the proposal supplies for a company the book has without one
            companies = book.companies.copy()
            companies.loc[known, "founded"] = founded
            tables["companies"] = companies
    if sub_fund is not None and not (book.sub_funds["code"] == sub_fund.get("code")).any():
        tables["sub_funds"] = _append(book.sub_funds, {**sub_fund, "size_fen": _amount(sub_fund, "size")})
    return book.with_(**tables)


def failures_introduced(before: list[dict], after: list[dict]) -> list[dict]:
    """Checks failing after the deal that did not fail before, matched by (rule, subject)."""
    failed_before = {(r["rule"], r["subject"]) for r in before if r["status"] == "fail"}
    return [r for r in after if r["status"] == "fail" and (r["rule"], r["subject"]) not in failed_before]
