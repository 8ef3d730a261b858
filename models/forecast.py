"""Forecast parameters set by hand per unit (issue 16): an override of the calibrated
Takahashi–Alexander parameters of one investment (a sub-fund commitment or a direct /
co-investment). A blank column keeps the calibrated value. Model parameters, not money:
plain floats."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models import Base, Code, utcnow

__all__ = ["ForecastParameters"]


class ForecastParameters(Base):
    __tablename__ = "forecast_parameters"
    __table_args__ = (
        CheckConstraint("rc_early IS NULL OR (rc_early >= 0 AND rc_early <= 1)", name="rc_early"),
        CheckConstraint("rc_late IS NULL OR (rc_late >= 0 AND rc_late <= 1)", name="rc_late"),
        CheckConstraint("bow IS NULL OR bow > 0", name="bow"),
        CheckConstraint("life IS NULL OR life > 0", name="life"),
        CheckConstraint("growth IS NULL OR growth > -1", name="growth"),
        CheckConstraint("yield_floor IS NULL OR (yield_floor >= 0 AND yield_floor <= 1)", name="yield_floor"),
    )

    investment_id: Mapped[str] = mapped_column(Code, ForeignKey("investments.id"), primary_key=True)
    rc_early: Mapped[float | None] = mapped_column(Float)     # RC in years 1–2
    rc_late: Mapped[float | None] = mapped_column(Float)      # RC thereafter
    bow: Mapped[float | None] = mapped_column(Float)
    life: Mapped[float | None] = mapped_column(Float)         # years
    growth: Mapped[float | None] = mapped_column(Float)       # G, a year
    yield_floor: Mapped[float | None] = mapped_column(Float)  # Y
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
