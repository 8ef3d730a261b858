"""The forecast of a fund on the book in force (issue 16): the pure model
(portfolio.figures.forecast_book, forecast_backtest) on the cached book, with the overrides
stored per unit; both cached by book version (portfolio.book.cache), so a page, its chart
and its download compute it once. Read-only."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEntry
from portfolio.book import cache
from portfolio.book.forecast_parameters import overrides, overrides_set_on

PATHS = 2000            # Monte Carlo paths of a forecast shown on a screen
BACKTEST_PATHS = 200    # per origin, per model: the back-test runs the model ~40 times


def overrides_version(session: Session) -> int:
    """The latest audited change of the forecast overrides: part of every forecast's cache
    key, since the overrides are not the book and do not move the book version."""
    return session.execute(select(func.max(AuditEntry.id)).where(AuditEntry.entity == "forecast_parameters")
                           ).scalar() or 0


def fund_forecast(session: Session, fund_code: str, as_of: dt.date, *, unit: str | None = None,
                  paths: int = PATHS, seed: int = 0) -> dict:
    """forecast_book.forecast on the book in force. Raises engine.UnknownFund."""
    from portfolio.figures.forecast_book import forecast

    def compute() -> dict:
        return forecast(cache.book(session), fund_code, as_of, overrides=overrides(session), unit=unit,
                        paths=paths, seed=seed)

    return cache.memo(session, ("forecast", fund_code, as_of, unit, paths, seed, overrides_version(session)), compute)


def fund_backtest(session: Session, fund_code: str, as_of: dt.date, *, paths: int = BACKTEST_PATHS,
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """forecast_backtest.backtest on the book in force (its table; the records are dropped).
    `progress(done, total)` follows the origins when it is computed (not when cached)."""
    from portfolio.figures.forecast_backtest import backtest
    from portfolio.figures.scope import scope_of

    def compute() -> dict:
        book = cache.book(session)
        scope_of(book, fund_code)  # UnknownFund before any work
        result = backtest(book, fund_code, as_of, paths=paths, overrides=overrides(session),
                          overrides_set_on=overrides_set_on(session), progress=progress)
        return {k: v for k, v in result.items() if k != "records"} | {"compared": len(result["records"])}

    return cache.memo(session, ("forecast_backtest", fund_code, as_of, paths, overrides_version(session)), compute)
