"""Correction instead of void-and-retype (issue 12, Deliver 8).

A record in force (a cash flow, a valuation, an investment's terms) is corrected through a
form shown filled in. The form carries the record's `version` as it was shown (a digest of
every column); the correction is one conditional UPDATE whose WHERE repeats the values just
read, so a record another user changed meanwhile — before the read or between the read and
the write — is refused with a clear message, never overwritten. Every correction needs a
reason and is audited before/after. The same doubts as a new record ask for a confirmation
(sanity.py).

Maker-checker: a correction of a record in force (an investment's terms, an approved cash
flow or valuation) is asked for (`ask`: every check made now, the request kept in
`pending_corrections`, one per record) and applied only when another person approves it
(`approve_correction`: checked again, one conditional UPDATE); declined, the record stays as
it was. A cash flow or valuation still a draft (never approved, in no figure) is corrected in
place and stays a draft, for another person to approve.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, desc, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    INSTRUMENTS,
    STAGES,
    VALUATION_METHODS,
    AuditEntry,
    CashFlow,
    Investment,
    PendingCorrection,
    Valuation,
    utcnow,
)
from portfolio.book import sanity
from portfolio.book.audit import audit, confirmed_doubts, digest, person, plain, snapshot, written_by
from portfolio.book.records import Fields, check_ownership, maker_is_checker
from portfolio.book.unit import CONFLICT, claim, commit
from portfolio.commands import Command
from portfolio.errors import FieldErrors
from portfolio.messages import Message
from portfolio.record_rules import CODE_LENGTH, NOTE_LENGTH

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


def _record(session: Session, model: Any, record_id: Any, what: str, *, voided: bool = False) -> Any:
    try:
        record = session.get(model, int(record_id) if model is not Investment else str(record_id))
    except (TypeError, ValueError):
        record = None
    if record is None:
        raise FieldErrors([("", Message("record_unknown", record=what, id=record_id))])
    if not voided and getattr(record, "voided_at", None) is not None:
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
    reason = f.text("correction_reason", required=True, max_len=NOTE_LENGTH)
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


def _apply(session: Session, record: Any, entity: str, key: str, names: tuple[str, ...], reason: str,
           changed: dict[str, Any], username: str, *, extra: dict[str, Any] | None = None,
           doubts: list[str] | None = None, confirmed: str | None = None, asked_by: str | None = None) -> Any:
    """Write the values that change (`_checked`: the version and the reason checked) in one
    conditional UPDATE (a request approved: audited as the approver's, naming `asked_by`)."""
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
    said: str | Message = reason if not confirmed else Message("why_corrected_confirmed", typed=reason,
                                                                 confirmed=confirmed)
    if asked_by is not None:
        said = Message("correction_asked_by", person=person(session, asked_by), typed=reason)
    audit(session, username, "correct", entity, key, before=before, after=after, reason=said)
    commit(session)
    return record


def _flow_terms(session: Session, flow: CashFlow, fields: Command | Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The values a correction of a cash flow gives, checked on the book as it is now, and its doubts."""
    f = Fields(fields)
    date = f.date("date", required=True)
    flow_type = f.choice("type", ("contribution", "distribution"), required=True)
    amount = f.amount("amount_cny", required=True, positive=True)
    values: dict[str, Any] = {"date": date, "type": flow_type, "amount_cny": amount,
                              "note": f.text("note", max_len=NOTE_LENGTH), "ref": f.text("ref", max_len=CODE_LENGTH)}
    investment = session.get(Investment, flow.investment_id)
    assert investment is not None  # a foreign key
    if date is not None and date < investment.date:
        f.errors.append(("date", Message("before_investment", day=investment.date)))
    f.check()
    doubts = sanity.flow_doubts(session, investment, date, flow_type, amount, excluding=flow.id)
    if (date, flow_type, amount) != (flow.date, flow.type, flow.amount_cny):  # made a copy of another?
        doubts += sanity.duplicate_doubt(session, investment, date, flow_type, amount, values["ref"], excluding=flow.id)
    return values, doubts


def _valuation_terms(session: Session, valuation: Valuation,
                     fields: Command | Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    f = Fields(fields)
    as_of = f.date("as_of", required=True)
    values: dict[str, Any] = {"as_of": as_of, "fair_value_cny": f.amount("fair_value_cny", required=True),
                              "method": f.choice("method", VALUATION_METHODS, required=True)}
    f.check()
    return values, sanity.valuation_doubts(as_of)


@dataclass(frozen=True)
class Kind:
    """A kind of record a correction is asked for: its table (`pending_corrections.entity`, the
    audit's entity), model, name in refusals (`record`), the fields corrected, the values and
    doubts a form gives (checked on the book as it is now), the columns an approval sets, and
    what its requests' and declines' audit entries carry beside the fields that change (the
    investment and date a cash flow or valuation is of: `cache._touched_since` reads them, and
    carries the figures of every other investment past the entry)."""

    entity: str
    model: Any
    what: str
    names: tuple[str, ...]
    terms: Callable[[Session, Any, Any], tuple[dict[str, Any], list[str]]]
    approved: Callable[[str], dict[str, Any]]
    context: tuple[str, ...] = ()  # written in its requests' entries too: what the book cache reads


def _approved_by(username: str) -> dict[str, Any]:
    return {"approved_by": username, "approved_at": utcnow()}


KINDS = {  # the terms looked up when called, so a test may slow them (tests/races.py)
    "investments": Kind("investments", Investment, "investment", INVESTMENT_FIELDS,
                        lambda s, r, f: (_investment_terms(s, r, f), []), lambda _u: {}),
    "cash_flows": Kind("cash_flows", CashFlow, "cash_flow", FLOW_FIELDS,
                       lambda s, r, f: _flow_terms(s, r, f), _approved_by, ("investment_id", "date")),
    "valuations": Kind("valuations", Valuation, "valuation", VALUATION_FIELDS,
                       lambda s, r, f: _valuation_terms(s, r, f), _approved_by, ("investment_id", "as_of")),
}


@dataclass(frozen=True)
class Checked:
    """A correction as its checks found it (`check_correction`), nothing written: the record, the
    values the form gives, their doubts and the reason confirming them, the correction's reason
    and the values that change."""

    record: Any
    values: dict[str, Any]
    doubts: list[str]
    confirmed: str | None
    reason: str
    changed: dict[str, Any]


def _asked_for(kind: Kind, record: Any) -> bool:
    """A correction of an investment's terms or of an approved cash flow or valuation is asked
    for (`ask`); a draft's is applied in place."""
    return kind.entity == "investments" or record.approved_at is not None


def check_correction(session: Session, entity: str, record_id: Any, fields: Command | Mapping[str, Any]) -> Checked:
    """Every check a correction of the record `record_id` of `entity` (`correct_cash_flow`,
    `correct_valuation`, `correct_investment`) makes, nothing written: the values checked on the
    book as it is now, the version as shown, a reason, something changed, its doubts confirmed,
    and no other correction of it waiting (one asked for)."""
    kind = KINDS[entity]
    record = _record(session, kind.model, record_id, kind.what)
    values, doubts = kind.terms(session, record, fields)
    key = str(record.id)
    reason, changed = _checked(session, record, kind.entity, key, fields, values)
    confirmed = sanity.confirmed(doubts, fields)
    if _asked_for(kind, record):
        waiting = pending_correction(session, key, kind.entity)
        if waiting is not None:
            raise FieldErrors([("", Message("correction_pending_by", record=kind.what,
                                            who=(person(session, waiting.asked_by), waiting.asked_at)))])
    return Checked(record, values, doubts, confirmed, reason, changed)


def _correct_record(session: Session, kind: Kind, record_id: Any, fields: Command | Mapping[str, Any],
                    username: str) -> Any:
    """A cash flow or valuation corrected: a draft (in no figure) in place, staying a draft
    entered by the corrector; one approved is only asked for (`ask`)."""
    checked = check_correction(session, kind.entity, record_id, fields)
    if not _asked_for(kind, checked.record):
        record = checked.record
        return _apply(session, record, kind.entity, str(record.id), kind.names, checked.reason, checked.changed,
                      username, extra={"entered_by": username, "approved_by": None, "approved_at": None},
                      doubts=checked.doubts, confirmed=checked.confirmed)
    return ask(session, kind, checked, fields, username)


def correct_cash_flow(session: Session, flow_id: Any, fields: Command | Mapping[str, Any], *, username: str) -> CashFlow:
    """A correction of an approved cash flow is asked for, as a correction of an investment's
    terms is: the flow stays in the figures as it is until another person approves it. A draft
    is corrected in place and stays a draft."""
    return _correct_record(session, KINDS["cash_flows"], flow_id, fields, username)


def correct_valuation(session: Session, valuation_id: Any, fields: Command | Mapping[str, Any], *, username: str) -> Valuation:
    """As `correct_cash_flow`, for a valuation."""
    return _correct_record(session, KINDS["valuations"], valuation_id, fields, username)


def _investment_terms(session: Session, investment: Investment, fields: Command | Mapping[str, Any]) -> dict[str, Any]:
    """The terms a correction gives, checked on the book as it is now."""
    f = Fields(fields)
    date = f.date("date", required=True)
    values: dict[str, Any] = {"date": date, "commitment_cny": f.amount("commitment_cny", required=True),
              "round": f.text("round", max_len=CODE_LENGTH), "ownership_pct": f.percent("ownership_pct"),
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


def pending_correction(session: Session, key: str, entity: str = "investments") -> PendingCorrection | None:
    """The correction waiting of the record `key` of `entity`, if any."""
    return session.execute(select(PendingCorrection).where(PendingCorrection.entity == entity,
                                                           PendingCorrection.entity_key == str(key))).scalar()


def waiting_corrections(session: Session, investment_id: str | None = None) -> list[tuple[PendingCorrection, AuditEntry | None]]:
    """The corrections waiting (of one investment, or all), oldest first, each with its request's
    audit entry (the terms before and after, as the history shows them)."""
    return waiting_requests(session, "investments", "request_correction", investment_id)


def waiting_requests(session: Session, entity: str, action: str, key: str | None = None, *,
                     audited: str | None = None) -> list[tuple[PendingCorrection, AuditEntry | None]]:
    """The requests of `entity` waiting (of one record, or all), oldest first, each with the
    latest audit entry of its asking (`action` on the record, audited under `audited`, by
    default `entity`): what the history shows."""
    stmt = select(PendingCorrection).where(PendingCorrection.entity == entity)
    if key is not None:
        stmt = stmt.where(PendingCorrection.entity_key == key)
    waiting = session.execute(stmt.order_by(PendingCorrection.asked_at, PendingCorrection.id)).scalars().all()
    if not waiting:
        return []
    entries = {entry.entity_key: entry for entry in session.execute(select(AuditEntry).where(
        AuditEntry.entity == (audited or entity), AuditEntry.action == action,
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
    """A correction of a holding's terms, asked for (maker-checker, `ask`); the investment stays
    as it is meanwhile, in every figure. Its id, fund, mode and target are what other records
    refer to and are not corrected here."""
    return ask(session, KINDS["investments"], check_correction(session, "investments", investment_id, fields),
               fields, username)


def ask(session: Session, kind: Kind, checked: Checked, fields: Command | Mapping[str, Any], username: str) -> Any:
    """A correction asked for (maker-checker), every check made (`check_correction`: the version
    as shown, a reason, something changed, its doubts confirmed, none other waiting): held in
    `pending_corrections`, one per record, until another person approves it
    (`approve_correction`); the record stays as it is meanwhile, in every figure."""
    record, values, doubts, confirmed = checked.record, checked.values, checked.doubts, checked.confirmed
    reason, changed = checked.reason, checked.changed
    key = str(record.id)
    given = {n: (None if fields.get(n) in (None, "") else str(fields.get(n))) for n in kind.names}
    held(session, PendingCorrection(entity=kind.entity, entity_key=key, fields=given, version=version_of(record),
                                    reason=reason, asked_by=username), Message("correction_raced", record=kind.what))
    before = {n: plain(getattr(record, n)) for n in (*kind.context, *changed)}
    after = {**before, **{n: plain(values[n]) for n in changed}}
    if doubts:
        after.update(confirmed_doubts(doubts))
    audit(session, username, "request_correction", kind.entity, key, before=before, after=after,
          reason=reason if not confirmed else Message("why_corrected_confirmed", typed=reason, confirmed=confirmed))
    commit(session)
    return record


def approve_correction(session: Session, record_id: Any, *, username: str, entity: str = "investments") -> Any:
    """The checker's approval of a correction asked for (of an investment's terms, or by `entity`
    of a cash flow or valuation): not by whoever asked; checked again on the book as it is now,
    and refused if the record changed since it was asked for; applied in one conditional UPDATE,
    audited as the approver's naming the asker. An approved flow or valuation stays approved,
    by the checker."""
    kind = KINDS[entity]
    record = _record(session, kind.model, record_id, kind.what)
    key = str(record.id)
    waiting = pending_correction(session, key, entity)
    if waiting is None:
        raise FieldErrors([("", Message("correction_not_pending", record=kind.what))])
    if maker_is_checker(waiting.asked_by, username):
        raise FieldErrors([("", Message("correction_asker_is_checker"))])
    values, _doubts = kind.terms(session, record, waiting.fields)  # confirmed at asking
    asked = {"correction_reason": waiting.reason, "version": waiting.version}
    asker = waiting.asked_by
    if not decided(session, waiting):
        raise FieldErrors([("", Message("correction_raced", record=kind.what))])
    try:
        reason, changed = _checked(session, record, entity, key, asked, values)
        return _apply(session, record, entity, key, kind.names, reason, changed, username,
                      extra=kind.approved(username), asked_by=asker)
    except FieldErrors:
        session.rollback()  # refused (stale, nothing to correct): the correction stays waiting
        raise


def decline_correction(session: Session, record_id: Any, fields: Command | Mapping[str, Any], *,
                       username: str, entity: str = "investments") -> Any:
    """A correction asked for, declined with a reason (by a checker, or withdrawn by its asker):
    the record stays as it is (one voided meanwhile too: its request is still taken off)."""
    kind = KINDS[entity]
    record = _record(session, kind.model, record_id, kind.what, voided=True)
    key = str(record.id)
    f = Fields(fields)
    reason = f.text("reason", required=True, max_len=NOTE_LENGTH)
    if reason is not None and not reason.strip():
        f.errors.append(("reason", Message("reject_needs_reason")))
    f.check()
    waiting = pending_correction(session, key, entity)
    if waiting is None:
        raise FieldErrors([("", Message("correction_not_pending", record=kind.what))])
    assert reason is not None  # f.check() raised otherwise
    _declined(session, kind, waiting, username, reason)
    commit(session)
    return record


def _declined(session: Session, kind: Kind, waiting: PendingCorrection, username: str, reason: str | Message, *,
              batch: str | None = None) -> None:
    """The correction `waiting` taken off the list (uncommitted), audited as declined by
    `username` with `reason`, on its terms as asked (as the history reads them) and naming its
    asker; refused, rolled back, when someone else decided it a moment ago."""
    key = waiting.entity_key
    asked = {n: v for n, v in as_asked(session, kind.entity, key, "request_correction").items()
             if n in kind.names or n in kind.context}
    asked["asked_by"] = waiting.asked_by
    if not decided(session, waiting):
        raise FieldErrors([("", Message("correction_raced", record=kind.what))])
    audit(session, username, "reject_correction", kind.entity, key, before=asked, reason=reason, batch=batch)


def withdrawn_with_void(session: Session, entity: str, key: str, username: str, *, batch: str | None = None) -> None:
    """A cash flow or valuation (`entity`) just voided by `username` (uncommitted): the
    correction of it waiting, if any, is moot (a voided record is never corrected) and goes with
    it, audited as declined by `username`, the reason saying the record was voided. Refused,
    rolled back with the void, when someone else decided the correction a moment ago."""
    waiting = pending_correction(session, key, entity)
    if waiting is not None:
        kind = KINDS[entity]
        _declined(session, kind, waiting, username, Message("why_correction_withdrawn_voided", record=kind.what),
                  batch=batch)


@dataclass(frozen=True)
class Asked:
    """A correction of a cash flow or valuation waiting, as the screens show it: the request,
    its asking's audit entry, the record, and (field, now, asked) for each field it changes,
    typed as the record holds them (amounts in yuan, dates)."""

    pending: PendingCorrection
    entry: AuditEntry | None
    record: Any
    rows: list[tuple[str, Any, Any]]
    stale: Message | None = None  # why its approval would be refused: the record voided or changed since


def _record_stale(session: Session, kind: Kind, record: Any, waiting: PendingCorrection) -> Message | None:
    """Why a correction of a cash flow or valuation waiting can no longer be approved, as
    `approve_correction` would refuse it (the record voided, or changed since it was asked
    for); else None."""
    if record.voided_at is not None:
        return Message("record_correction_voided", record=kind.what)
    if version_of(record) == waiting.version:
        return None
    who = last_written(session, kind.entity, waiting.entity_key)
    return (Message("record_correction_outdated_by", record=kind.what, who=who) if who
            else Message("record_correction_outdated", record=kind.what))


RECORD_KINDS = ("cash_flows", "valuations")


def _typed(name: str, value: Any) -> Any:
    """A value as an audit entry writes it (text), read back as the record's column holds it."""
    if value is None:
        return None
    if name in ("date", "as_of"):
        return dt.date.fromisoformat(str(value))
    if name.endswith("_cny"):
        return Decimal(str(value))
    return value


def asked_corrections(session: Session, waiting: list[PendingCorrection]) -> list[Asked]:
    """The requests `waiting` (of cash flows and valuations) with their records and their
    asking's entries, in their order."""
    out = []
    for entity in RECORD_KINDS:
        kind = KINDS[entity]
        mine = [w for w in waiting if w.entity == entity]
        if not mine:
            continue
        keys = [w.entity_key for w in mine]
        records = {str(r.id): r for r in session.execute(select(kind.model).where(
            kind.model.id.in_([int(k) for k in keys]))).scalars()}
        entries = {e.entity_key: e for e in session.execute(select(AuditEntry).where(
            AuditEntry.entity == entity, AuditEntry.action == "request_correction",
            AuditEntry.entity_key.in_(keys)).order_by(AuditEntry.id)).scalars()}  # the latest
        for w in mine:
            record, entry = records.get(w.entity_key), entries.get(w.entity_key)
            if record is None:
                continue
            before, after = ((entry.before or {}, entry.after or {}) if entry is not None else ({}, {}))
            rows = [(n, getattr(record, n), _typed(n, after[n])) for n in kind.names
                    if n in after and after[n] != before.get(n)]
            out.append(Asked(w, entry, record, rows, _record_stale(session, kind, record, w)))
    order = {id(w): i for i, w in enumerate(waiting)}
    return sorted(out, key=lambda a: order[id(a.pending)])


def waiting_record_corrections(session: Session, investment_id: str | None = None) -> list[Asked]:
    """The corrections of cash flows and valuations waiting (of one investment's, or all), oldest first."""
    waiting = session.execute(select(PendingCorrection).where(PendingCorrection.entity.in_(RECORD_KINDS))
                              .order_by(PendingCorrection.asked_at, PendingCorrection.id)).scalars().all()
    asked = asked_corrections(session, list(waiting))
    return [a for a in asked if investment_id is None or a.record.investment_id == investment_id]


def held(session: Session, request: PendingCorrection, raced: Message, field: str = "") -> PendingCorrection:
    """A request put on the waiting list (a correction, a change of settings, a new investment,
    a reopening): one per record, kept by the table's unique key, so a second asked a moment
    ago, past the caller's look for one waiting, is refused with `raced` (beside `field`)."""
    session.add(request)
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise FieldErrors([(field, raced)]) from error
    return request


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
