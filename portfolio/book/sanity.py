"""Sanity checks that ask, not refuse (issue 12, Deliver 7).

A cash flow or valuation dated in the future, contributions beyond the commitment, a
distribution larger than the holding's NAV plus what was paid in since: each may be true
(a payment booked ahead, a commitment raised by a later agreement, a distribution of gains
not yet valued) but is far more often a typing error. The use case lists these doubts and
goes on only with an explicit confirmation, a written reason (`confirm_reason`), which the
audit entry keeps with the doubts it answered — as a deal that fails a compliance rule
needs a reason (records.RuleFailures)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models import CashFlow, Investment, Valuation
from portfolio.commands import Command
from portfolio.errors import FieldErrors
from portfolio.formatting import local_today
from portfolio.messages import Message

FIELD = "confirm_reason"


class Unconfirmed(FieldErrors):
    """Doubts the user has not yet confirmed with a reason."""

    def __init__(self, doubts: list[str]):
        super().__init__([(FIELD, Message("unconfirmed", doubts=list(doubts)))])
        self.doubts = doubts


def today() -> dt.date:
    return local_today()


def future_doubt(day: dt.date | None, what: str, *, on: dt.date | None = None) -> list[str]:
    """The rule on dates: nothing is dated after today (Beijing). `what`: the date's kind,
    a key of portfolio.messages.WHAT ("date", "as_of"); `on`: the day the check is made (an
    import reads today once for all its rows), else today."""
    if day is None:
        return []
    on = on or today()
    if day > on:
        return [Message("future", record=what, day=day, today_day=on)]
    return []


def contribution_doubt(paid_total: Decimal, commitment: Decimal) -> list[str]:
    """The rule on contributions: all of an investment's contributions, this one included,
    within its commitment."""
    if paid_total > commitment:
        return [Message("over_commitment", total_wan=paid_total, commitment_wan=commitment)]
    return []


def distribution_doubt(amount: Decimal, nav_as_of: dt.date | None, nav: Decimal | None,
                       paid_since: Decimal) -> list[str]:
    """The rule on distributions: at most the latest approved NAV before its date (none: 0;
    one dated the same day is the value after that day's flows, this one among them) plus
    the contributions paid after that NAV up to its date."""
    ceiling = (nav if nav is not None and nav_as_of is not None else Decimal(0)) + paid_since
    if amount > ceiling:
        if nav_as_of is not None:
            return [Message("distribution_over_nav", amount_wan=amount, ceiling_wan=ceiling, nav_day=nav_as_of)]
        return [Message("distribution_over_no_nav", amount_wan=amount, ceiling_wan=ceiling)]
    return []


def _sum(session: Session, investment_id: str, flow_type: str, *where: Any) -> Decimal:
    # summed here, exactly: SQLite's SUM of integers raises past 2^63 fen (issue 12)
    return sum(session.scalars(select(CashFlow.amount_cny).where(
        CashFlow.investment_id == investment_id, CashFlow.type == flow_type, CashFlow.voided_at.is_(None),
        *where)), Decimal(0))


def flow_doubts(session: Session, investment: Investment, day: dt.date | None, flow_type: str | None,
                amount: Decimal | None, *, excluding: int | None = None) -> list[str]:
    """What looks wrong in this cash flow of a form (`excluding`: the flow being corrected).
    An import's rows meet the same rules over its whole plan (interchange/importing.py)."""
    doubts = future_doubt(day, "date")
    if amount is None or day is None:
        return doubts
    others = (CashFlow.id != excluding,) if excluding is not None else ()
    if flow_type == "contribution":
        paid = _sum(session, investment.id, "contribution", *others)
        doubts += contribution_doubt(paid + amount, investment.commitment_cny)
    elif flow_type == "distribution":
        # the NAV before the day: a valuation of the day itself is after its flows (interchange.md)
        nav = session.execute(select(Valuation.as_of, Valuation.fair_value_cny).where(
            Valuation.investment_id == investment.id, Valuation.as_of < day, Valuation.voided_at.is_(None),
            Valuation.approved_at.is_not(None)).order_by(Valuation.as_of.desc()).limit(1)).first()
        since = (CashFlow.date > nav.as_of,) if nav is not None else ()
        paid_since = _sum(session, investment.id, "contribution", CashFlow.date <= day, *since, *others)
        doubts += distribution_doubt(amount, nav.as_of if nav is not None else None,
                                     nav.fair_value_cny if nav is not None else None, paid_since)
    return doubts


def duplicate_doubt(session: Session, investment: Investment, day: dt.date | None, flow_type: str | None,
                    amount: Decimal | None, ref: str | None, *, excluding: int | None = None) -> list[str]:
    """The rule on copies: a flow typed on a form that the investment already has in force (a
    draft or approved) with the same date, type and amount, one of the two without a reference
    (what an import matches as the same row, spec/interchange.md), is far more often the same
    payment entered twice than a second one; two references of their own are two notices.
    `excluding`: the flow being corrected."""
    if day is None or flow_type is None or amount is None:
        return []
    where: list[ColumnElement[bool]] = [CashFlow.ref.is_(None)] if ref is not None else []
    if excluding is not None:  # the flow being corrected
        where.append(CashFlow.id != excluding)
    same = session.execute(select(CashFlow.id, CashFlow.ref).where(
        CashFlow.investment_id == investment.id, CashFlow.date == day, CashFlow.type == flow_type,
        CashFlow.amount_cny == amount, CashFlow.voided_at.is_(None), *where).order_by(CashFlow.id).limit(1)).first()
    if same is None:
        return []
    return [same_flow(day, flow_type, amount, same.ref)]


def same_flow(day: dt.date | None, flow_type: str, amount: Any, ref: str | None) -> Message:
    """The doubt on a copy, the other flow named as the investment's page shows it: by its
    reference, or as entered without one (its id is shown nowhere)."""
    if ref:
        return Message("same_flow_ref", day=day, flow_term=("type", flow_type), amount_wan=amount, ref=ref)
    return Message("same_flow_unreferenced", day=day, flow_term=("type", flow_type), amount_wan=amount)


def valuation_doubts(as_of: dt.date | None, *, on: dt.date | None = None) -> list[str]:
    return future_doubt(as_of, "as_of", on=on)


def confirmed(doubts: list[str], fields: Command | Mapping[str, Any]) -> str | None:
    """The reason that confirms the doubts (None when there are none); Unconfirmed without one."""
    if not doubts:
        return None
    reason = str(fields.get(FIELD) or "").strip()
    if not reason:
        raise Unconfirmed(doubts)
    return reason[:2000]
