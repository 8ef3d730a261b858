"""Use case: set (or clear) the forecast parameters of one unit by hand (issue 16).

The forecast calibrates each unit's Takahashi–Alexander parameters to its history
(portfolio.figures.forecast_book); a person who knows better (a sub-fund's planned call
schedule, its extension) overrides any of them here. A blank value goes back to the
calibrated one; a unit with no override left has no row. Every change is audited.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ForecastParameters, Investment
from portfolio.book.audit import audit, digest, snapshot
from portfolio.book.unit import commit, take
from portfolio.errors import FieldErrors
from portfolio.messages import Message, said_by

# field → (column, label, low, high, low inclusive)
FIELDS: dict[str, tuple[str, str, float, float, bool]] = {
    "rc_early": ("rc_early", "前两年年度出资比例 RC", 0.0, 1.0, True),
    "rc_late": ("rc_late", "此后年度出资比例 RC", 0.0, 1.0, True),
    "bow": ("bow", "分配曲线弯度 B", 0.0, 20.0, False),
    "life": ("life", "存续期 L（年）", 0.0, 50.0, False),
    "growth": ("growth", "净值年增长率 G", -1.0, 5.0, False),
    "yield": ("yield_floor", "最低分配率 Y", 0.0, 1.0, True),
}


def _values(row: ForecastParameters | None) -> dict[str, float]:
    """One row's overrides, {parameter: value}; a blank column is calibrated, so absent."""
    if row is None:
        return {}
    return {key: float(value) for key, (column, *_rest) in FIELDS.items()
            if (value := getattr(row, column)) is not None}


def overrides(session: Session) -> dict[str, dict[str, float]]:
    """Every stored override, as the pure calibration takes them: {investment_id: {parameter: value}}."""
    return {row.investment_id: _values(row) for row in session.execute(select(ForecastParameters)).scalars()}


def overrides_set_on(session: Session) -> dict[str, dt.date]:
    """The day (Asia/Shanghai) each unit's overrides were last set: a back-test from an earlier
    origin did not know them (forecast_backtest.backtest)."""
    from portfolio.formatting import LOCAL_TZ

    rows = session.execute(select(ForecastParameters.investment_id, ForecastParameters.updated_at))
    return {investment_id: (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(LOCAL_TZ).date()
            for investment_id, at in rows}


def stored_overrides(session: Session, investment_id: str) -> dict[str, float]:
    """One unit's stored overrides, {parameter: value} (its form shows them filled in)."""
    return _values(session.get(ForecastParameters, investment_id))


def version_of(values: dict[str, float]) -> str:
    """The digest a unit's parameters form carries of the overrides it showed."""
    return digest(values)


def parameters_version(session: Session, investment_id: str) -> str:
    """The version of a unit's overrides as stored now (a form's version is compared with it)."""
    return version_of(stored_overrides(session, investment_id))


def _parse(key: str, raw: Any) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    _column, _label, low, high, inclusive = FIELDS[key]
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValueError(Message("enter_number")) from None
    if not math.isfinite(value):
        raise ValueError(Message("enter_number"))
    if value > high or value < low or (value == low and not inclusive):
        raise ValueError(Message("between" if inclusive else "above_up_to", low=f"{low:g}", high=f"{high:g}"))
    return value


def check_parameters(values: dict[str, Any]) -> dict[str, float | None]:
    """The values as numbers (None: blank, calibrated), or FieldErrors naming every bad one;
    nothing read or written (the form's refusals are said with these, web.forecast)."""
    errors: list[tuple[str, str]] = []  # a Message is a str (said_by keeps its key)
    parsed: dict[str, float | None] = {}
    for key, raw in values.items():
        if key not in FIELDS:
            errors.append((key, Message("no_such_parameter")))
            continue
        try:
            parsed[key] = _parse(key, raw)
        except ValueError as exc:  # its sentence, by key where it has one
            errors.append((key, said_by(exc)))
    if errors:
        raise FieldErrors(errors)
    return parsed


def set_forecast_parameters(session: Session, investment_id: str, values: dict[str, Any], *,
                            username: str, version: str | None = None) -> dict[str, float]:
    """Validate and store one unit's overrides (all the FIELDS; blank = calibrated). Raises
    FieldErrors with every bad field and then changes nothing. Returns the overrides in force.
    `version`: the overrides' digest as the form showed them (parameters_version); overrides
    stored since are not written over (a form from before them would blank them)."""
    investment = session.get(Investment, investment_id)
    if investment is None:
        raise FieldErrors([("", Message("no_investment", id=investment_id))])
    take(session, investment)  # one save of a unit's overrides at a time
    if version is not None and version != parameters_version(session, investment_id):
        raise FieldErrors([("", Message("settings_stale"))])
    parsed = check_parameters(values)
    row = session.get(ForecastParameters, investment_id)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = ForecastParameters(investment_id=investment_id, updated_by=username)
        session.add(row)
    for key, value in parsed.items():
        setattr(row, FIELDS[key][0], value)
    row.updated_by = username
    remaining = _values(row)
    if not remaining:
        if before is None:
            session.expunge(row)
            return {}
        session.delete(row)
        audit(session, username, "delete", "forecast_parameters", investment_id, before=before)
    else:
        session.flush()
        after = snapshot(row)
        if before is not None and {k: v for k, v in before.items() if k != "updated_at"} == {
                k: v for k, v in after.items() if k != "updated_at"}:
            return remaining
        audit(session, username, "update" if before else "create", "forecast_parameters", investment_id,
              before=before, after=after)
    commit(session)
    return remaining
