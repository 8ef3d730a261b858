"""Correction instead of void-and-retype (issue 12, Deliver 8).

A record in force (a cash flow, a valuation, an investment's terms) is corrected through a
form shown filled in. The form carries the record's `version` as it was shown (a digest of
every column); the correction is one conditional UPDATE whose WHERE repeats the values just
read, so a record another user changed meanwhile — before the read or between the read and
the write — is refused with a clear message, never overwritten. Every correction needs a
reason and is audited before/after; a corrected valuation goes back to draft, to be approved
by someone other than the corrector. The same doubts as a new record ask for a confirmation
(sanity.py).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, desc, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import INSTRUMENTS, STAGES, VALUATION_METHODS, AuditEntry, CashFlow, Investment, PendingCorrection, Valuation
from portfolio.book import sanity
from portfolio.book.audit import audit, confirmed_doubts, digest, person, plain, snapshot, written_by
from portfolio.book.records import Fields, check_ownership, maker_is_checker
from portfolio.book.unit import CONFLICT, claim, commit
from portfolio.commands import Command
from portfolio.errors import FieldErrors
from portfolio.messages import Message

FLOW_FIELDS = ("date", "type", "amount_cny", "note", "ref")
VALUATION_FIELDS = ("as_of", "fair_value_cny", "method")
INVESTMENT_FIELDS = ("date", "commitment_cny", "round", "ownership_pct", "instrument", "stage", "headcount",
                     "revenue_cny", "total_assets_cny", "lead_amount_cny")


_WHAT = {"cash_flows": "cash_flow", "valuations": "valuation", "investments": "investment"}


def version_of(record: Any) -> str:
    """The record as shown, in 16 hex digits: any change of any column changes it."""
    return digest(snapshot(record))



def _last_change(session: Session, entity: str, key: str) -> tuple[str, dt.datetime] | None:
    entry = session.execute(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_key == key)
                            .order_by(desc(AuditEntry.id)).limit(1)).scalar_one_or_none()
    if entry is None:
        return None
    return written_by(session, entry)


def _stale(session: Session, entity: str, key: str) -> FieldErrors:
    who = _last_change(session, entity, key)
    return FieldErrors([("", Message("stale_by", who=who) if who else Message("stale"))])


def _record(session: Session, model: Any, record_id: Any, what: str) -> Any:
    try:
        record = session.get(model, int(record_id) if model is not Investment else str(record_id))
    except (TypeError, ValueError):
        record = None
    if record is None:
        raise FieldErrors([("", Message("record_unknown", record=what, id=record_id))])
    if getattr(record, "voided_at", None) is not None:
        raise FieldErrors([("", Message("voided_no_correct", record=what))])
    return record


def _as_shown(model: Any, record: Any, names: tuple[str, ...]) -> list[Any]:
    """WHERE conditions: every corrected column still holds what was read."""
    out = []
    for name in names:
        column, value = getattr(model, name), getattr(record, name)
        out.append(column.is_(None) if value is None else column == value)
    return out


def _checked(session: Session, record: Any, entity: str, key: str, fields: Command | Mapping[str, Any],
             values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the reason, the values that change) of a correction of `record` as shown: refused
    without a reason, when the record changed since it was shown, while a void of it waits,
    or when nothing changes. Applied at once (`_apply`) or asked for (`correct_investment`)."""
    f = Fields(fields)
    reason = f.text("correction_reason", required=True, max_len=2000)
    f.check()
    if str(fields.get("version") or "") != version_of(record):
        session.rollback()
        raise _stale(session, entity, key)
    if getattr(record, "void_requested_at", None) is not None:  # the asked-for void is of what is shown
        raise FieldErrors([("", Message("void_pending_no_correction", record=_WHAT[entity]))])
    changed = {n: v for n, v in values.items() if getattr(record, n) != v}
    if not changed:
        raise FieldErrors([("", Message("nothing_to_correct"))])
    assert reason is not None  # f.check() raised otherwise
    return reason, changed


def _apply(session: Session, record: Any, entity: str, key: str, names: tuple[str, ...], fields: Command | Mapping[str, Any],
           values: dict[str, Any], username: str, *, extra: dict[str, Any] | None = None,
           doubts: list[str] | None = None) -> Any:
    """Check the version and the reason, then write `values` in one conditional UPDATE."""
    reason, changed = _checked(session, record, entity, key, fields, values)
    confirmed = sanity.confirmed(doubts or [], fields)
    before = snapshot(record)
    model = type(record)
    conditions = _as_shown(model, record, names)
    if getattr(model, "voided_at", None) is not None:
        conditions.append(model.voided_at.is_(None))
    try:
        won = claim(session, record, *conditions, **changed, **(extra or {}))
    except IntegrityError as error:
        session.rollback()
        raise FieldErrors([("", CONFLICT)]) from error
    if not won:
        session.rollback()
        raise _stale(session, entity, key)
    after = snapshot(record)
    if doubts:
        after.update(confirmed_doubts(doubts))
    audit(session, username, "correct", entity, key, before=before, after=after,
          reason=reason if not confirmed else Message("why_corrected_confirmed", typed=reason, confirmed=confirmed))
    commit(session)
    return record


def correct_cash_flow(session: Session, flow_id: Any, fields: Command | Mapping[str, Any], *, username: str) -> CashFlow:
    """A corrected cash flow is a draft again, as a corrected valuation is: entered by the
    corrector, approved by another; until then it is out of the figures."""
    flow = _record(session, CashFlow, flow_id, "cash_flow")
    f = Fields(fields)
    date = f.date("date", required=True)
    flow_type = f.choice("type", ("contribution", "distribution"), required=True)
    amount = f.amount("amount_cny", required=True, positive=True)
    values: dict[str, Any] = {"date": date, "type": flow_type, "amount_cny": amount,
                              "note": f.text("note", max_len=2000), "ref": f.text("ref", max_len=64)}
    investment = session.get(Investment, flow.investment_id)
    assert investment is not None  # a foreign key
    if date is not None and date < investment.date:
        f.errors.append(("date", Message("before_investment", day=investment.date)))
    f.check()
    doubts = sanity.flow_doubts(session, investment, date, flow_type, amount, excluding=flow.id)
    return _apply(session, flow, "cash_flows", str(flow.id), FLOW_FIELDS, fields, values, username,
                  extra={"entered_by": username, "approved_by": None, "approved_at": None}, doubts=doubts)


def correct_valuation(session: Session, valuation_id: Any, fields: Command | Mapping[str, Any], *, username: str) -> Valuation:
    """A corrected valuation is a draft again: entered by the corrector, approved by another."""
    valuation = _record(session, Valuation, valuation_id, "valuation")
    f = Fields(fields)
    as_of = f.date("as_of", required=True)
    values: dict[str, Any] = {"as_of": as_of, "fair_value_cny": f.amount("fair_value_cny", required=True),
                              "method": f.choice("method", VALUATION_METHODS, required=True)}
    f.check()
    return _apply(session, valuation, "valuations", str(valuation.id), VALUATION_FIELDS, fields, values, username,
                  extra={"entered_by": username, "approved_by": None, "approved_at": None},
                  doubts=sanity.valuation_doubts(as_of))


def _investment_terms(session: Session, investment: Investment, fields: Command | Mapping[str, Any]) -> dict[str, Any]:
    """The terms a correction gives, checked on the book as it is now."""
    f = Fields(fields)
    date = f.date("date", required=True)
    values: dict[str, Any] = {"date": date, "commitment_cny": f.amount("commitment_cny", required=True),
              "round": f.text("round", max_len=64), "ownership_pct": f.amount("ownership_pct"),
              "instrument": f.choice("instrument", INSTRUMENTS), "stage": f.choice("stage", STAGES),
              "headcount": f.integer("headcount"), "revenue_cny": f.amount("revenue_cny"),
              "total_assets_cny": f.amount("total_assets_cny"), "lead_amount_cny": f.amount("lead_amount_cny")}
    check_ownership(f, "ownership_pct", values["ownership_pct"])
    first_flow = session.scalar(select(CashFlow.date).where(CashFlow.investment_id == investment.id,
                                                            CashFlow.voided_at.is_(None)).order_by(CashFlow.date))
    if date is not None and first_flow is not None and date > first_flow:
        f.errors.append(("date", Message("after_first_flow", day=first_flow)))
    f.check()
    return values


def pending_correction(session: Session, investment_id: str) -> PendingCorrection | None:
    return session.execute(select(PendingCorrection).where(PendingCorrection.entity == "investments",
                                                           PendingCorrection.entity_key == investment_id)).scalar()


def waiting_corrections(session: Session, investment_id: str | None = None) -> list[tuple[PendingCorrection, AuditEntry | None]]:
    """The corrections waiting (of one investment, or all), oldest first, each with its request's
    audit entry (the terms before and after, as the history shows them)."""
    return waiting_requests(session, "investments", "request_correction", investment_id)


def waiting_requests(session: Session, entity: str, action: str,
                     key: str | None = None) -> list[tuple[PendingCorrection, AuditEntry | None]]:
    """The requests of `entity` waiting (of one record, or all), oldest first, each with the
    latest audit entry of its asking (`action` on the investment): what the history shows."""
    stmt = select(PendingCorrection).where(PendingCorrection.entity == entity)
    if key is not None:
        stmt = stmt.where(PendingCorrection.entity_key == key)
    waiting = session.execute(stmt.order_by(PendingCorrection.asked_at, PendingCorrection.id)).scalars().all()
    if not waiting:
        return []
    entries = {entry.entity_key: entry for entry in session.execute(select(AuditEntry).where(
        AuditEntry.entity == "investments", AuditEntry.action == action,
        AuditEntry.entity_key.in_([w.entity_key for w in waiting])).order_by(AuditEntry.id)).scalars()}  # the latest
    return [(w, entries.get(w.entity_key)) for w in waiting]


# what asks for a change or answers a request: not a change of the record itself
REQUEST_ACTIONS = ("request_correction", "reject_correction", "request_create", "reject_create")


def last_written(session: Session, entity: str, key: str, action: str | None = None) -> tuple[str, dt.datetime] | None:
    """Who last wrote the record (the latest audit entry of `entity` `key` that is no request
    nor an answer to one; of `action` only, if given) and when, as a message's `who`."""
    stmt = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_key == key)
    stmt = stmt.where(AuditEntry.action == action) if action else stmt.where(AuditEntry.action.not_in(REQUEST_ACTIONS))
    entry = session.execute(stmt.order_by(desc(AuditEntry.id)).limit(1)).scalar_one_or_none()
    return None if entry is None else written_by(session, entry)


def stale_corrections(session: Session, waiting: list[tuple[PendingCorrection, AuditEntry | None]]) -> dict[str, Message]:
    """Why each correction waiting that its approval would refuse as stale (the investment
    changed since it was asked for) can no longer be approved, by investment id: its card says
    so, without the approve button, for the checker to decline it."""
    out: dict[str, Message] = {}
    for pending, _entry in waiting:
        investment = session.get(Investment, pending.entity_key)
        if investment is not None and version_of(investment) == pending.version:
            continue
        who = last_written(session, "investments", pending.entity_key)
        out[pending.entity_key] = (Message("correction_request_outdated_by", who=who) if who
                                   else Message("correction_request_outdated"))
    return out


def correct_investment(session: Session, investment_id: Any, fields: Command | Mapping[str, Any], *, username: str) -> Investment:
    """A correction of a holding's terms, asked for (maker-checker): checked as it would be
    applied (the version as shown, a reason, something changed), then held until another
    person approves it (`approve_correction`); the investment stays as it is meanwhile, in
    every figure. Its id, fund, mode and target are what other records refer to and are not
    corrected here."""
    investment = _record(session, Investment, investment_id, "investment")
    values = _investment_terms(session, investment, fields)
    reason, changed = _checked(session, investment, "investments", investment.id, fields, values)
    waiting = pending_correction(session, investment.id)
    if waiting is not None:
        raise FieldErrors([("", Message("correction_pending_by", who=(person(session, waiting.asked_by),
                                                                      waiting.asked_at)))])
    given = {n: (None if fields.get(n) in (None, "") else str(fields.get(n))) for n in INVESTMENT_FIELDS}
    session.add(PendingCorrection(entity="investments", entity_key=investment.id, fields=given,
                                  version=version_of(investment), reason=reason, asked_by=username))
    try:
        session.flush()
    except IntegrityError as error:  # another correction asked for a moment ago
        session.rollback()
        raise FieldErrors([("", Message("correction_raced"))]) from error
    audit(session, username, "request_correction", "investments", investment.id,
          before={n: plain(getattr(investment, n)) for n in changed}, after={n: plain(values[n]) for n in changed},
          reason=reason)
    commit(session)
    return investment


def approve_correction(session: Session, investment_id: Any, *, username: str) -> Investment:
    """The checker's approval of a correction asked for: not by whoever asked; checked again on
    the book as it is now, and refused if the investment changed since it was asked for."""
    investment = _record(session, Investment, investment_id, "investment")
    waiting = pending_correction(session, investment.id)
    if waiting is None:
        raise FieldErrors([("", Message("correction_not_pending"))])
    if maker_is_checker(waiting.asked_by, username):
        raise FieldErrors([("", Message("correction_asker_is_checker"))])
    values = _investment_terms(session, investment, waiting.fields)
    asked = {"correction_reason": waiting.reason, "version": waiting.version}
    if not decided(session, waiting):
        raise FieldErrors([("", Message("correction_raced"))])
    try:
        return _apply(session, investment, "investments", investment.id, INVESTMENT_FIELDS, asked, values, username)
    except FieldErrors:
        session.rollback()  # refused (stale, nothing to correct): the correction stays waiting
        raise


def decline_correction(session: Session, investment_id: Any, fields: Command | Mapping[str, Any], *,
                       username: str) -> Investment:
    """A correction asked for, declined with a reason (by a checker, or withdrawn by its asker):
    the investment stays as it is."""
    investment = _record(session, Investment, investment_id, "investment")
    f = Fields(fields)
    reason = f.text("reason", required=True, max_len=2000)
    if reason is not None and not reason.strip():
        f.errors.append(("reason", Message("reject_needs_reason")))
    f.check()
    waiting = pending_correction(session, investment.id)
    if waiting is None:
        raise FieldErrors([("", Message("correction_not_pending"))])
    asked = {**as_asked(session, "investments", investment.id, "request_correction"), "asked_by": waiting.asked_by}
    if not decided(session, waiting):
        raise FieldErrors([("", Message("correction_raced"))])
    audit(session, username, "reject_correction", "investments", investment.id, before=asked, reason=reason)
    commit(session)
    return investment


def decided(session: Session, waiting: PendingCorrection) -> bool:
    """Take a request (a correction, a change of settings, a new investment) off the waiting
    list, once: False, rolled back, when someone else decided it first."""
    done = session.execute(delete(PendingCorrection).where(PendingCorrection.id == waiting.id)
                           .execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 0) != 1:
        session.rollback()
        return False
    session.expunge(waiting)
    return True


def as_asked(session: Session, entity: str, key: str, action: str) -> dict[str, Any]:
    """What a request asked for as its audit entry wrote it (the latest `action` on the record):
    a decline records the same terms, as the history reads them (amounts in yuan to the fen),
    not the text typed in the form."""
    entry = session.execute(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_key == key,
                                                     AuditEntry.action == action)
                            .order_by(AuditEntry.id.desc()).limit(1)).scalar()
    return dict(entry.after or {}) if entry is not None else {}
