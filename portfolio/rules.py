"""Guidance-fund rule checks (rules.md). Being written (issue 7)."""
from __future__ import annotations

import datetime as dt

from portfolio.data import BookData


def check(book: BookData, fund_code: str, as_of: dt.date) -> list[dict]:
    raise NotImplementedError("rules are being written")
