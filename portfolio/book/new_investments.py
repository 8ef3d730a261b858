"""A new holding typed in the form, asked for (maker-checker), as a correction of one is.

The form's new investment (a sub-fund commitment, a direct or a co-investment) is checked as
`records.add_investment` checks it (the fields, the fund and the target, the id not booked,
the pro-forma rule failures and the override reason they need), then held in
`pending_corrections` under its own entity (`ENTITY`) keyed by the investment id it would
take: two requests cannot claim one id (the table's unique key), and nothing enters
`investments` meanwhile, so no figure moves. Another person with the `approve` permission
approves it (checked again on the book as it is then and booked through `add_investment`,
audited as created by the approver with the asker named) or declines it with a reason; its
asker may withdraw it the same way. A deal that comes through the committee is booked after
its vote (portfolio/committee/decisions.py): the vote is its check.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEntry, Investment, PendingCorrection
from portfolio.book.audit import audit, digest, person, plain
from portfolio.book.corrections import as_asked, decided, held, last_written, pending_correction, waiting_requests
from portfolio.book.records import (
    Fields,
    RuleFailures,
    _investment_fields,
    add_investment,
    maker_is_checker,
    pro_forma_failures,
)
from portfolio.book.unit import commit
from portfolio.commands import Command, InvestmentCommand
from portfolio.errors import FieldErrors
from portfolio.messages import Message
from portfolio.record_rules import NOTE_LENGTH

ENTITY = "new_investments"  # pending_corrections.entity of a new holding asked for; its key: the id
# the form's fields kept with the request (the override reason is its `reason`)
FIELDS = tuple(name for name in InvestmentCommand.__dataclass_fields__ if name != "override_reason")


def pending_request(session: Session, investment_id: str) -> PendingCorrection | None:
    return pending_correction(session, investment_id, ENTITY)


def waiting_investments(session: Session) -> list[tuple[PendingCorrection, AuditEntry | None]]:
    """The new holdings waiting, oldest first, each with its request's audit entry (the terms,
    as the history shows them)."""
    return waiting_requests(session, ENTITY, "request_create", audited="investments")


def stale_requests(session: Session, waiting: list[tuple[PendingCorrection, AuditEntry | None]]) -> dict[str, Message]:
    """Why each new holding waiting whose id has been booked since it was asked for (by a
    committee's decision, an import) can no longer be approved, by id: its card says so,
    without the approve button, for the checker to decline it."""
    keys = [pending.entity_key for pending, _entry in waiting]
    booked = set(session.execute(select(Investment.id).where(Investment.id.in_(keys))).scalars()) if keys else set()
    out: dict[str, Message] = {}
    for key in keys:
        if key in booked:
            who = last_written(session, "investments", key, "create")
            out[key] = (Message("investment_request_outdated_by", id=key, who=who) if who
                        else Message("investment_request_outdated", id=key))
    return out


def _terms(values: dict[str, Any]) -> dict[str, Any]:
    """The holding as `add_investment` would book it, by the investments table's column names
    (as the history writes a created one)."""
    terms = dict(values)
    mode, target = terms.pop("mode"), terms.pop("target_code")
    terms.update(mode=mode, sub_fund_code=target if mode == "sub_fund" else None,
                 company_code=None if mode == "sub_fund" else target)
    return {name: plain(value) for name, value in terms.items()}


def check_investment(session: Session, fields: InvestmentCommand | Mapping[str, Any]) -> dict[str, Any]:
    """The checks of `ask_investment` on the fields (not the pro-forma rules, which need them
    all valid), nothing written: the holding's values."""
    values = _investment_fields(session, fields)
    waiting = pending_request(session, values["id"])
    if waiting is not None:
        raise FieldErrors([("id", Message("investment_request_pending_by", id=values["id"],
                                          who=(person(session, waiting.asked_by), waiting.asked_at)))])
    return values


def ask_investment(session: Session, fields: InvestmentCommand | Mapping[str, Any], *, username: str) -> PendingCorrection:
    """A new holding asked for: every check `add_investment` makes, then the request stored
    and audited; booked only when another person approves it (`approve_investment`)."""
    values = check_investment(session, fields)
    reason = str(fields.get("override_reason") or "").strip() or None
    failures = pro_forma_failures(session, values)
    if failures and not reason:
        raise RuleFailures(failures)
    given = {n: (None if fields.get(n) in (None, "") else str(fields.get(n))) for n in FIELDS}
    request = held(session, PendingCorrection(entity=ENTITY, entity_key=values["id"], fields=given,
                                              version=digest(given), reason=reason or "", asked_by=username),
                   Message("investment_request_raced", id=values["id"]), "id")  # the same id, a moment ago
    after = _terms(values)
    if failures:
        after["compliance_failures"] = [f"{x['rule']} {x['subject']}: {x['message']}" for x in failures]
    audit(session, username, "request_create", "investments", values["id"], after=after,
          reason=reason if failures else None)
    commit(session)
    return request


def _waiting(session: Session, investment_id: Any) -> PendingCorrection:
    waiting = pending_request(session, str(investment_id))
    if waiting is None:
        raise FieldErrors([("", Message("investment_request_not_pending", id=investment_id))])
    return waiting


def approve_investment(session: Session, investment_id: Any, *, username: str) -> Investment:
    """The checker's approval: not by whoever asked; checked again on the book as it is now
    (a rule that now fails refuses it unless the request carried an override reason), booked
    through `add_investment` by the approver with the asker named, the request gone, in one
    commit. Refused, the request stays waiting."""
    waiting = _waiting(session, investment_id)
    if maker_is_checker(waiting.asked_by, username):
        raise FieldErrors([("", Message("investment_request_asker_is_checker"))])
    asked = dict(waiting.fields)
    reason, asker = waiting.reason or None, waiting.asked_by
    if not decided(session, waiting):
        raise FieldErrors([("", Message("investment_request_raced", id=investment_id))])
    try:
        investment = add_investment(session, asked, username=username, override_reason=reason, asked_by=asker)
    except RuleFailures as error:  # a rule it passed when asked fails now, and it was asked without a reason
        session.rollback()  # the request stays waiting
        raise FieldErrors([("", Message("investment_request_now_fails",
                                        failures=[f["message"] for f in error.failures]))]) from error
    except FieldErrors as error:
        session.rollback()  # refused on the book as it is now: the request stays waiting
        raise FieldErrors([("", message) for _field, message in error.errors]) from error
    commit(session)
    return investment


def decline_investment(session: Session, investment_id: Any, fields: Command | Mapping[str, Any], *,
                       username: str) -> PendingCorrection:
    """A new holding asked for, declined with a reason (by a checker, or withdrawn by its
    asker): nothing is booked."""
    f = Fields(fields)
    reason = f.text("reason", required=True, max_len=NOTE_LENGTH)
    if reason is not None and not reason.strip():
        f.errors.append(("reason", Message("reject_needs_reason")))
    f.check()
    waiting = _waiting(session, investment_id)
    asked = {**as_asked(session, "investments", waiting.entity_key, "request_create"), "asked_by": waiting.asked_by}
    if not decided(session, waiting):
        raise FieldErrors([("", Message("investment_request_raced", id=investment_id))])
    audit(session, username, "reject_create", "investments", waiting.entity_key, before=asked, reason=reason)
    commit(session)
    return waiting
