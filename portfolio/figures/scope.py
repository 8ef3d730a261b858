"""One fund's scope in the book, resolved once: its row, its settings in force, and its
place in the tree of funds (the funds it rolls up, metrics.md; the funds it rolls up into,
whose rules see its deals too, rules.md's pro forma).

`FundTree` is the one walk of the parent/child tree, used by the figures, the rules,
the committee, the export and the form use cases alike (a cycle in bad data cannot loop
forever). `scope_of(book, code)` gives the `FundScope` of a fund, resolved once per book
and kept with it, so that one report, its rules, its indicators and its quarterly
report all read the same row and settings without looking them up again.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portfolio.figures.bookdata import BookData
from portfolio.figures.settings import fund_settings


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
        raise UnknownFund(f"没有基金 {fund_code}（unknown fund {fund_code!r}）")
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
