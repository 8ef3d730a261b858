"""Reopening an accepted GP package (maker-checker), so the GP can correct and resubmit it.

A fund manager with the permission that accepts packages (`approve`) asks for it with a reason
(at most 2,000 characters); the request waits in `pending_corrections` (entity `ENTITY`, key the
package id) until another person with `approve` approves it; its asker may withdraw it and a
checker decline it, each with a reason. Meanwhile the package and what its acceptance booked stay
as they are, in every figure.

Only the interest's latest accepted quarter may be reopened (a later one opened from it), and
only while what the acceptance booked is as it wrote it (its audit entries, batch
`gp-package-<id>`): the `gp_nav` valuation not corrected since (one voided since is left voided), each schedule row
it created, updated or removed as it left it, and no other interest's accepted package for the
same quarter standing on the schedule it booked.

Approved, in one transaction: the package's valuation is voided (audited, the reopening named;
a void of it asked for and a correction of it waiting, moot, are declined with it, each audited);
the valuation of that date the acceptance had voided stays voided (never put back unseen: the
GP's resubmission, once accepted, books the quarter's value again, or a person enters one); the
schedule rows the acceptance wrote are put back as they were before it (rows it created removed,
rows it updated restored, rows it removed created again), each audited; companies it created
stay (other records may refer to them). The package is `returned` with the reason as its
comment, for the GP to edit and resubmit.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEntry, Company, GpPackage, PendingCorrection, SubFundHolding, Valuation, utcnow
from portfolio.book.audit import audit, digest, person, snapshot
from portfolio.book.corrections import (
    as_asked,
    decided,
    held,
    last_written,
    pending_correction,
    waiting_requests,
    withdrawn_with_void,
)
from portfolio.book.records import Fields, maker_is_checker, void_withdrawn
from portfolio.book.unit import commit, serialise_key, take
from portfolio.errors import FieldErrors
from portfolio.figures import tieout
from portfolio.gp.packages import ACCEPT_LOCK, _event, get_package, later_accepted
from portfolio.messages import Message

ENTITY = "gp_packages"  # pending_corrections.entity of a reopening asked for; its key: the package id
VALUED = ("investment_id", "as_of", "method")  # compared as written; the amount exactly, and not voided
REASON_MAX_LEN = 2000  # a reopening's reason (a longer one is refused when asked: kept whole, never cut)


@dataclass(frozen=True)
class Booked:
    """What a package's acceptance wrote to the schedule, from its audit entries: per company
    code, (the action, the row before as (cost, fair value) or None, the row it left or None)."""
    rows: dict[str, tuple[str, tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None]]


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _pair(values: Mapping[str, Any] | None) -> tuple[Decimal, Decimal] | None:
    if not values:
        return None
    return _money(values["cost_cny"]), _money(values["fair_value_cny"])


def _last_reopen_id(session: Session, package: GpPackage) -> int:
    """The audit entry of the package's last reopening (0: never reopened): its acceptance's
    entries come after it."""
    return session.execute(select(AuditEntry.id).where(
        AuditEntry.entity == "gp_packages", AuditEntry.entity_key == str(package.id), AuditEntry.action == "reopen")
        .order_by(AuditEntry.id.desc()).limit(1)).scalar() or 0


def booked(session: Session, package: GpPackage) -> Booked:
    """The schedule rows the package's (latest) acceptance wrote, as its audit entries say."""
    prefix = f"{package.sub_fund_code}:{package.quarter_end.isoformat()}:"
    entries = session.execute(select(AuditEntry).where(
        AuditEntry.batch == f"gp-package-{package.id}", AuditEntry.entity == "sub_fund_holdings",
        AuditEntry.id > _last_reopen_id(session, package)).order_by(AuditEntry.id)).scalars().all()
    rows: dict[str, tuple[str, tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None]] = {}
    for entry in entries:
        if not entry.entity_key.startswith(prefix):
            continue
        code = entry.entity_key[len(prefix):]
        rows[code] = (entry.action, _pair(entry.before), None if entry.action == "void" else _pair(entry.after))
    return Booked(rows)


def _schedule(session: Session, package: GpPackage) -> dict[str, SubFundHolding]:
    return {row.company_code: row for row in session.execute(select(SubFundHolding).where(
        SubFundHolding.sub_fund_code == package.sub_fund_code, SubFundHolding.as_of == package.quarter_end)).scalars()}


def _valuation_booked(session: Session, package: GpPackage) -> dict[str, Any] | None:
    """The valuation as the acceptance created it (its audit entry's `after`)."""
    if package.valuation_id is None:
        return None
    entry = session.execute(select(AuditEntry).where(
        AuditEntry.entity == "valuations", AuditEntry.entity_key == str(package.valuation_id),
        AuditEntry.action == "create", AuditEntry.batch == f"gp-package-{package.id}")
        .order_by(AuditEntry.id.desc()).limit(1)).scalar()
    return dict(entry.after or {}) if entry is not None else None


def _as_written(valuation: Valuation, written: Mapping[str, Any]) -> bool:
    """Whether the valuation is as the acceptance wrote it (not corrected since). One voided
    since counts as written: it is out of the figures already, and refusing would leave the
    package accepted for good, the quarter with no value and no way for the GP to send it again."""
    if valuation.voided_at is not None:
        return True
    now = snapshot(valuation)
    return _money(now["fair_value_cny"]) == _money(written.get("fair_value_cny")) \
        and all(str(now[n]) == str(written.get(n)) for n in VALUED)


def refusal(session: Session, package: GpPackage) -> Message | None:
    """Why the package cannot be reopened now (None: it can): not accepted, not the interest's
    latest accepted quarter, its valuation corrected since, its schedule changed since,
    or another interest's accepted package of that quarter standing on its schedule."""
    if package.status != "accepted":
        return Message("gp_reopen_not_accepted")
    later = later_accepted(session, package.investment_id, package.quarter_end)
    if later is not None:
        return Message("gp_reopen_later_accepted", quarter=tieout.quarter_label(later),
                       earlier=tieout.quarter_label(package.quarter_end))
    valuation = session.get(Valuation, package.valuation_id) if package.valuation_id is not None else None
    written = _valuation_booked(session, package)
    if valuation is None or written is None or not _as_written(valuation, written):
        who = last_written(session, "valuations", str(package.valuation_id)) if package.valuation_id else None
        return (Message("gp_reopen_valuation_changed_by", id=package.id, who=who) if who
                else Message("gp_reopen_valuation_changed", id=package.id))
    rows = booked(session, package)
    schedule = _schedule(session, package)
    for code, (_action, _before, after) in sorted(rows.rows.items()):
        row = schedule.get(code)
        now = None if row is None else (_money(row.cost_cny), _money(row.fair_value_cny))
        if now != after:
            company = session.get(Company, code)
            return Message("gp_reopen_schedule_changed", sub_fund=package.sub_fund_code,
                           day=package.quarter_end, company=company.name if company is not None else code)
    if rows.rows:
        other = session.execute(select(GpPackage).where(
            GpPackage.sub_fund_code == package.sub_fund_code, GpPackage.quarter_end == package.quarter_end,
            GpPackage.status == "accepted", GpPackage.id != package.id).limit(1)).scalar()
        if other is not None:
            return Message("gp_reopen_schedule_shared", investment=other.investment_id, id=other.id)
    return None


def reopen_version(session: Session, package: GpPackage) -> str:
    """The package and what its acceptance booked, as one digest: a request asked on this
    state is approved only on it."""
    valuation = session.get(Valuation, package.valuation_id) if package.valuation_id is not None else None
    return digest({"package": snapshot(package), "valuation": snapshot(valuation) if valuation else None,
                   "schedule": {code: (str(r.cost_cny), str(r.fair_value_cny))
                                for code, r in _schedule(session, package).items()}})


def pending_reopen(session: Session, package_id: int) -> PendingCorrection | None:
    return pending_correction(session, str(package_id), ENTITY)


@dataclass(frozen=True)
class Reopening:
    """A reopening waiting, as the screens show it: the request, its package, and why it can
    no longer be approved (None: it can)."""
    pending: PendingCorrection
    package: GpPackage
    stale: Message | None


def waiting_reopenings(session: Session, package_id: int | None = None) -> list[Reopening]:
    """The reopenings waiting (of one package, or all), oldest first."""
    out = []
    for pending, _entry in waiting_requests(session, ENTITY, "request_reopen",
                                            None if package_id is None else str(package_id)):
        package = session.get(GpPackage, int(pending.entity_key))
        if package is not None:
            out.append(Reopening(pending, package, _stale(session, package, pending)))
    return out


def _stale(session: Session, package: GpPackage, pending: PendingCorrection) -> Message | None:
    why = refusal(session, package)
    if why is not None:
        return why
    if reopen_version(session, package) != pending.version:
        return Message("gp_reopen_outdated", id=package.id)
    return None


def _reason(fields: Mapping[str, Any]) -> str:
    f = Fields(fields)
    reason = f.text("reason", required=True, max_len=REASON_MAX_LEN)
    if reason is not None and not reason.strip():
        f.errors.append(("reason", Message("reject_needs_reason")))
    f.check()
    assert reason is not None
    return reason.strip()


def ask_reopen(session: Session, package_id: int, fields: Mapping[str, Any], *, username: str) -> PendingCorrection:
    """A reopening asked for, with its reason: refused where the package cannot be reopened
    (`refusal`) or one waits already; held until another person approves it."""
    reason = _reason(fields)
    package = get_package(session, package_id, None)
    take(session, package)
    why = refusal(session, package)
    if why is not None:
        raise FieldErrors([("", why)])
    waiting = pending_reopen(session, package.id)
    if waiting is not None:
        raise FieldErrors([("", Message("gp_reopen_pending_by", who=(person(session, waiting.asked_by),
                                                                     waiting.asked_at)))])
    request = held(session, PendingCorrection(entity=ENTITY, entity_key=str(package.id), fields={},
                                              version=reopen_version(session, package), reason=reason,
                                              asked_by=username), Message("gp_reopen_raced"))
    audit(session, username, "request_reopen", "gp_packages", str(package.id),
          before={"status": package.status}, after={"status": "returned"}, reason=reason)
    commit(session)
    return request


def _waiting(session: Session, package_id: int) -> PendingCorrection:
    waiting = pending_reopen(session, package_id)
    if waiting is None:
        raise FieldErrors([("", Message("gp_reopen_not_pending"))])
    return waiting


def approve_reopen(session: Session, package_id: int, *, username: str) -> GpPackage:
    """The checker's approval: not by the asker; checked again on the book as it is now (the
    request stays waiting if refused); then, in one transaction, the valuation voided, the
    schedule put back as before the acceptance, the package returned to the GP."""
    package = get_package(session, package_id, None)
    waiting = _waiting(session, package.id)
    if maker_is_checker(waiting.asked_by, username):
        raise FieldErrors([("", Message("gp_reopen_asker_is_checker"))])
    reason, asker, version = waiting.reason, waiting.asked_by, waiting.version
    if not decided(session, waiting):
        raise FieldErrors([("", Message("gp_reopen_raced"))])
    try:
        # as an acceptance: one at a time per sub-fund, the package's row taken
        serialise_key(session, ACCEPT_LOCK, package.sub_fund_code)
        take(session, package)
        why = refusal(session, package)
        if why is None and reopen_version(session, package) != version:
            why = Message("gp_reopen_outdated", id=package.id)
        if why is not None:
            raise FieldErrors([("", why)])
        _undo(session, package, reason, username, asker)
    except FieldErrors:
        session.rollback()  # refused: the request stays waiting
        raise
    commit(session)
    return package


def _undo(session: Session, package: GpPackage, reason: str, username: str, asker: str) -> None:
    """What the acceptance booked, taken back (uncommitted), and the package returned."""
    batch = f"gp-package-{package.id}-reopen"
    why = Message("why_gp_package_reopened", id=package.id, person=person(session, asker), typed=reason)
    valuation = session.get(Valuation, package.valuation_id)
    assert valuation is not None
    if valuation.voided_at is None:  # (one voided since is out of the figures already: left as it is)
        if valuation.void_requested_at is not None:  # moot once voided here: declined, its asker's reason not the void's
            void_withdrawn(session, "valuation", valuation, username,
                           Message("why_void_withdrawn_reopened", id=package.id), batch=batch)
        before = snapshot(valuation)
        valuation.voided_at, valuation.voided_by, valuation.void_reason = utcnow(), username, str(why)
        audit(session, username, "void", "valuations", str(valuation.id), before=before, after=snapshot(valuation),
              reason=why, batch=batch)
        withdrawn_with_void(session, "valuations", str(valuation.id), username, batch=batch)
    schedule = _schedule(session, package)
    prefix = f"{package.sub_fund_code}:{package.quarter_end.isoformat()}:"
    for code, (action, was, _after) in sorted(booked(session, package).rows.items()):
        row = schedule.get(code)
        if action == "create" and row is not None:
            audit(session, username, "void", "sub_fund_holdings", prefix + code, before=snapshot(row), reason=why,
                  batch=batch)
            session.delete(row)
        elif action == "update" and row is not None and was is not None:
            old = snapshot(row)
            row.cost_cny, row.fair_value_cny = was
            audit(session, username, "update", "sub_fund_holdings", prefix + code, before=old,
                  after={**old, "cost_cny": str(was[0]), "fair_value_cny": str(was[1])}, reason=why, batch=batch)
        elif action == "void" and row is None and was is not None:
            session.add(SubFundHolding(sub_fund_code=package.sub_fund_code, as_of=package.quarter_end,
                                       company_code=code, cost_cny=was[0], fair_value_cny=was[1]))
            audit(session, username, "create", "sub_fund_holdings", prefix + code,
                  after={"cost_cny": str(was[0]), "fair_value_cny": str(was[1])}, reason=why, batch=batch)
    session.flush()
    status = package.status
    package.status, package.reviewed_by, package.accepted_by, package.accepted_at = "returned", None, None, None
    package.valuation_id = None
    _event(session, package, username, "reopen", reason, was=status)


def decline_reopen(session: Session, package_id: int, fields: Mapping[str, Any], *, username: str) -> GpPackage:
    """A reopening asked for, declined with a reason (by a checker, or withdrawn by its asker):
    the package stays accepted, the book as it is."""
    reason = _reason(fields)
    package = get_package(session, package_id, None)
    waiting = _waiting(session, package.id)
    asked = {**as_asked(session, "gp_packages", waiting.entity_key, "request_reopen"), "asked_by": waiting.asked_by,
             "reason": waiting.reason}
    if not decided(session, waiting):
        raise FieldErrors([("", Message("gp_reopen_raced"))])
    audit(session, username, "reject_reopen", "gp_packages", str(package.id), before=asked, reason=reason)
    commit(session)
    return package
