"""One fund's scope in the book, resolved once: its row, its settings in force, and its
place in the tree of funds (the funds it rolls up, metrics.md; the funds it rolls up into,
whose rules see its deals too, rules.md's pro forma).

`FundTree` is the one walk of the parent/child tree, used by the figures, the rules,
the committee, the export and the form use cases alike (a cycle in bad data cannot loop
forever). `scope_of(book, code)` gives the `FundScope` of a fund, resolved once per book
and kept with it, so that one report, its rules, its indicators and its quarterly
report all read the same row and settings without looking them up again.

`holdings_of(book, code, as_of)` gives the fund's `Holdings` as of D: the investments
rolled up into it and dated on or before D, and their positions (paid_in, distributed,
NAV, …), resolved once per (fund, date) and kept with the book like the scope, so the
report, its rules, its indicators and the quarterly report share one computation.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portfolio.figures.bookdata import BookData
from portfolio.figures.settings import fund_settings
from portfolio.messages import Message

if TYPE_CHECKING:  # pandas is imported by what computes (the tree alone serves the forms)
    import pandas as pd

    from portfolio.figures.engine import Positions


class UnknownFund(KeyError):
    """The fund code is not in the book."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else "unknown fund"


def _code(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value):
        return None
    return str(value)


@dataclass(frozen=True)
class FundTree:
    """The funds as a tree: each fund's parent (None for a top fund)."""

    parents: dict[str, str | None]

    @classmethod
    def of(cls, pairs: Iterable[tuple[Any, Any]]) -> FundTree:
        """From (code, parent_code) pairs: a book's funds table, or rows from the database."""
        return cls({str(code): _code(parent) for code, parent in pairs})

    @classmethod
    def of_book(cls, book: BookData) -> FundTree:
        return cls.of(zip(book.funds["code"], book.funds["parent_code"]))

    def __contains__(self, code: object) -> bool:
        return code in self.parents

    def descendants(self, code: str) -> list[str]:
        """The fund and every fund whose parent_code leads up to it, the fund first."""
        children: dict[str, list[str]] = {}
        for child, parent in self.parents.items():
            if parent is not None:
                children.setdefault(parent, []).append(child)
        family, todo = [code], [code]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in family:
                    family.append(child)
                    todo.append(child)
        return family

    def ancestors(self, code: str) -> list[str]:
        """The fund and every fund its parent_code leads up to, the fund first."""
        chain: list[str] = []
        current: str | None = code
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parents.get(current)
        return chain


@dataclass(frozen=True)
class FundScope:
    """A fund as the figures, the rules and the reports see it."""

    code: str
    row: dict[str, Any]            # the fund's row of book.funds
    settings: dict[str, Any]       # the settings in force: the kind's defaults, overridden per fund
    family: tuple[str, ...]        # the fund and the funds it rolls up (descendants)
    ancestors: tuple[str, ...]     # the fund and the funds it rolls up into

    @property
    def kind(self) -> str:
        return str(self.row["kind"])

    @property
    def name(self) -> str:
        return str(self.row.get("name") or self.code)


def resolve(book: BookData, fund_code: str) -> FundScope:
    """The scope of `fund_code` in `book`, computed (use scope_of for the kept one)."""
    funds = book.funds
    match = funds[funds["code"] == fund_code]
    if match.empty:
        raise UnknownFund(Message("no_fund", code=fund_code))
    row = match.iloc[0].to_dict()
    overrides = row.get("settings")
    tree = FundTree.of_book(book)
    return FundScope(code=fund_code, row=row,
                     settings=fund_settings(str(row["kind"]), overrides if isinstance(overrides, dict) else None),
                     family=tuple(tree.descendants(fund_code)), ancestors=tuple(tree.ancestors(fund_code)))


def scope_of(book: BookData, fund_code: str) -> FundScope:
    """The scope of `fund_code`, resolved once per book (kept with the book; a copy made
    by `book.with_(...)` starts afresh, so a pro-forma book never sees a stale scope)."""
    kept = book.scopes
    if fund_code not in kept:
        kept[fund_code] = resolve(book, fund_code)
    return kept[fund_code]


@dataclass(frozen=True)
class Holdings:
    """A fund's investments as of D and their positions (metrics.md's scope of every figure)."""

    scope: FundScope
    as_of: pd.Timestamp             # D, normalised
    investments: pd.DataFrame       # the book's rows of the investments rolled up into the fund,
                                    # dated on or before D, in report order (date, id)
    positions: Positions            # their figures as of D (engine.positions, the fund's home region)
    paid_in: dict[str, int]         # each investment's paid_in as of D, exact fen

    @property
    def ids(self) -> list[str]:
        return [str(i) for i in self.investments["id"]]


def holdings_of(book: BookData, fund_code: str, as_of: Any) -> Holdings:
    """The fund's holdings as of D, resolved once per (fund, date) and kept with the book
    (a copy made by `book.with_(...)` starts afresh, as for the scope)."""
    import pandas as pd

    day = pd.Timestamp(as_of).normalize()
    kept = book.scopes
    key = (fund_code, day)
    if key not in kept:
        from portfolio.figures.engine import positions  # the engine reads the scope: imported late

        scope = scope_of(book, fund_code)
        inv = book.investments
        chosen = inv[inv["fund_code"].isin(scope.family) & (inv["date"] <= day)]
        chosen = chosen.sort_values(["date", "id"], kind="stable")
        pos = positions(book, chosen["id"], day, str(scope.settings["home_region_prefix"]))
        kept[key] = Holdings(scope, day, chosen, pos, dict(zip(pos.rows["id"].tolist(),
                                                                 pos.rows["paid_in_fen"].tolist())))
    return kept[key]
