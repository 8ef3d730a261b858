"""Use cases that write the book from the screens: one function per action.

Each takes a Session, the fields as a dict (text as typed or already-typed values),
the acting `username`; it checks the business rules, raises FieldErrors (field, message)
for the form to show beside its fields, writes, audits (before and after) and commits
once. Nothing is ever deleted: a wrong cash flow or valuation is voided with a reason.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    INSTRUMENTS,
    MODES,
    SECTORS,
    STAGES,
    VALUATION_METHODS,
    CashFlow,
    Company,
    Fund,
    Investment,
    SubFund,
    Valuation,
    utcnow,
)
from portfolio import record_rules
from portfolio.book import sanity
from portfolio.book.audit import audit, confirmed_doubts, person, snapshot
from portfolio.book.unit import claim, commit, serialise_key
from portfolio.book.unit import flush as flush_step
from portfolio.book.users import new_session_token
from portfolio.commands import (
    CashFlowCommand,
    Command,
    CompanyCommand,
    InvestmentCommand,
    SubFundCommand,
    ValuationCommand,
    VoidCommand,
)
from portfolio.errors import FieldErrors
from portfolio.figures.scope import FundTree
from portfolio.formatting import DateError, parse_date
from portfolio.messages import Message
from portfolio.money import AmountError, parse_amount


class RuleFailures(FieldErrors):
    """A deal that would make compliance checks fail: allowed only with a written reason.

    `failures` are the check results (rules.md) the deal introduces."""

    def __init__(self, failures: list[dict]):
        super().__init__([("override_reason", Message("rule_failures", failures=[f["message"] for f in failures]))])
        self.failures = failures


# -- parsing what was typed ------------------------------------------------------------

class Fields:
    """Reads values out of the fields dict, collecting every error (not only the first)."""

    def __init__(self, fields: Command | Mapping[str, Any]):
        self.fields = fields
        self.errors: list[tuple[str, str]] = []

    def raw(self, name: str) -> Any:
        value = self.fields.get(name)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def given(self, name: str, *, required: bool = False) -> Any:
        """The raw value, or None (with 必填 recorded when it is required)."""
        value = self.raw(name)
        if value is None and required:
            self.errors.append((name, Message("required")))
        return value

    def text(self, name: str, *, required: bool = False, max_len: int = 200) -> str | None:
        value = self.given(name, required=required)
        if value is None:
            return None
        value = str(value)
        if len(value) > max_len:
            self.errors.append((name, Message("too_long", max_len=max_len)))
        return value

    def choice(self, name: str, choices, *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in choices:
            self.errors.append((name, Message("invalid_choice", value=value)))
            return None
        return value

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.given(name, required=required)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(str(value))
        except DateError as error:
            self.errors.append((name, error.reason))
            return None
        except ValueError as error:
            self.errors.append((name, str(error).split("：")[0]))
            return None

    def amount(self, name: str, *, required: bool = False, positive: bool = False) -> Decimal | None:
        value = self.given(name, required=required)
        if value is None:
            return None
        if isinstance(value, AmountError):  # a form's field refused what was typed, in its unit
            self.errors.append((name, value.args[0]))
            return None
        try:
            amount = parse_amount(value)
        except AmountError as error:
            self.errors.append((name, error.args[0]))
            return None
        if positive and amount <= 0:
            self.errors.append((name, Message("amount_positive")))
        elif amount < 0:
            self.errors.append((name, Message("amount_negative")))
        return amount

    def percent(self, name: str) -> Decimal | None:
        """A percentage, as the import reads one (record_rules.parse_percent)."""
        value = self.given(name)
        if value is None:
            return None
        try:
            return record_rules.parse_percent(value)
        except ValueError as error:
            self.errors.append((name, error.args[0]))
            return None

    def integer(self, name: str, *, required: bool = False, minimum: int | None = 0) -> int | None:
        value = self.given(name, required=required)
        if value is None:
            return None
        try:
            number = int(str(value))
        except ValueError:
            self.errors.append((name, Message("integer")))
            return None
        if minimum is not None and number < minimum:
            self.errors.append((name, Message("at_least", minimum=minimum)))
        elif number > record_rules.MAX_COUNT:
            self.errors.append((name, record_rules.COUNT_TOO_LARGE))
        return number

    def check(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


# -- the record-level rules (portfolio.record_rules), on typed fields ---------------------------
# One implementation each, used by the forms here and by the committee's proposals; the
# import applies the same predicates and messages to whole columns.

def check_region(f: Fields, name: str) -> str | None:
    region = f.text(name, required=True, max_len=record_rules.REGION_CODE_LENGTH)
    if region is not None and not record_rules.region_code_ok(region):
        f.errors.append((name, record_rules.REGION_CODE_MESSAGE))
    return region


def check_credit_code(session: Session, f: Fields, name: str) -> str | None:
    """A 统一社会信用代码, verified and not yet registered to a company."""
    credit = f.text(name, required=True, max_len=record_rules.CREDIT_CODE_LENGTH)
    if credit is None:
        return None
    credit = credit.upper()
    if not record_rules.credit_code_ok(credit):
        f.errors.append((name, record_rules.CREDIT_CODE_INVALID))
    elif session.execute(select(Company.code).where(Company.credit_code == credit)).first():
        f.errors.append((name, record_rules.CREDIT_CODE_TAKEN))
    return credit


def check_ownership(f: Fields, name: str, pct: Any) -> None:
    if isinstance(pct, Decimal) and not record_rules.ownership_ok(pct):
        f.errors.append((name, record_rules.OWNERSHIP_MESSAGE))


def check_alongside(session: Session, f: Fields, name: str, *, mode: str | None, fund_code: str | None,
                    alongside: str | None) -> None:
    """A co-investment names the sub-fund it goes alongside, one its own fund holds."""
    if mode == "co_invest":
        if alongside is None:
            f.errors.append((name, record_rules.COINVEST_NEEDS_ALONGSIDE))
        elif fund_code:
            held: set[tuple[str, str]] = {(fund_code, code) for code in session.execute(
                select(Investment.sub_fund_code).where(Investment.fund_code == fund_code, Investment.mode == "sub_fund",
                                                       Investment.sub_fund_code == alongside)).scalars() if code}
            if not record_rules.coinvest_alongside_held(fund_code, alongside, held):
                f.errors.append((name, record_rules.COINVEST_NOT_HELD))
    elif alongside is not None and mode is not None:
        f.errors.append((name, record_rules.ALONGSIDE_ONLY_FOR_COINVEST))


# -- investments --------------------------------------------------------------------------

def _create(session: Session, record, entity: str, key, *, username: str,
            doubts: list[str] | None = None, reason: str | None = None):
    """Adds a new record, audits its creation (after = the record; with the doubts the user
    confirmed and the reason, see sanity.py) and commits, in one place."""
    session.add(record)
    flush_step(session)  # a unique key taken a moment ago by another request: a form error
    after = snapshot(record)
    if doubts:
        after.update(confirmed_doubts(doubts))
    audit(session, username, "create", entity, str(key(record)), after=after, reason=reason)
    commit(session)
    return record


def pro_forma_failures(session: Session, investment: dict) -> list[dict]:
    """The compliance checks the deal would make fail, as of its date, for its fund and the
    funds it rolls up into (rules.md: pro forma)."""
    from portfolio.book.reading import load_book
    from portfolio.figures.proforma import failures_introduced, with_investment
    from portfolio.figures.rules import check

    book = load_book(session)
    if (book.investments["id"] == investment["id"]).any():
        # the same id committed a moment ago by another request (a double submit racing the
        # first, which answers it): the form's error, not a 500
        raise FieldErrors([("id", Message("investment_exists", id=investment['id']))])
    after_book = with_investment(book, investment)
    introduced: list[dict] = []
    # the fund and the funds it rolls up into: their rules see this deal too
    for code in FundTree.of_book(book).ancestors(investment["fund_code"]):
        introduced += failures_introduced(check(book, code, investment["date"]),
                                          check(after_book, code, investment["date"]))
    return introduced


def _investment_fields(session: Session, fields: InvestmentCommand | Mapping[str, Any]) -> dict:
    f = Fields(fields)
    inv_id = f.text("id", required=True, max_len=record_rules.CODE_LENGTH)
    fund_code = f.text("fund_code", required=True, max_len=record_rules.CODE_LENGTH)
    mode = f.choice("mode", MODES, required=True)
    target = f.text("target_code", max_len=record_rules.CODE_LENGTH) or f.text(
        "sub_fund_code" if mode == "sub_fund" else "company_code", max_len=record_rules.CODE_LENGTH)
    if target is None:
        f.errors.append(("target_code", Message("required")))
    alongside = f.text("alongside_code", max_len=record_rules.CODE_LENGTH)
    values = {
        "id": inv_id, "fund_code": fund_code, "mode": mode, "target_code": target,
        "alongside_code": alongside, "date": f.date("date", required=True),
        "commitment_cny": f.amount("commitment_cny", required=True),
        "round": f.text("round", max_len=record_rules.CODE_LENGTH),
        "ownership_pct": f.percent("ownership_pct"),
        "instrument": f.choice("instrument", INSTRUMENTS),
        "stage": f.choice("stage", STAGES),
        "headcount": f.integer("headcount"),
        "revenue_cny": f.amount("revenue_cny"),
        "total_assets_cny": f.amount("total_assets_cny"),
        "lead_amount_cny": f.amount("lead_amount_cny"),
    }
    check_ownership(f, "ownership_pct", values["ownership_pct"])
    if inv_id and session.get(Investment, inv_id) is not None:
        f.errors.append(("id", Message("investment_exists", id=inv_id)))
    if fund_code and session.get(Fund, fund_code) is None:
        f.errors.append(("fund_code", Message("fund_unknown", code=fund_code)))
    if mode and target:
        # the target must match the mode: a sub-fund for a commitment, a company otherwise
        if mode == "sub_fund" and session.get(SubFund, target) is None:
            f.errors.append(("target_code", Message("target_sub_fund_unknown", code=target)))
        if mode != "sub_fund" and session.get(Company, target) is None:
            f.errors.append(("target_code", Message("target_company_unknown", code=target)))
    check_alongside(session, f, "alongside_code", mode=mode, fund_code=fund_code, alongside=alongside)
    f.check()
    return values


def record_investment(session: Session, fields: InvestmentCommand | Mapping[str, Any], *, username: str,
                      override_reason: str | None = None) -> Investment:
    """Log a holding (sub-fund commitment, direct or co-investment): `add_investment`, committed."""
    investment = add_investment(session, fields, username=username, override_reason=override_reason)
    commit(session)
    return investment


def add_investment(session: Session, fields: InvestmentCommand | Mapping[str, Any], *, username: str,
                   override_reason: str | None = None, asked_by: str | None = None) -> Investment:
    """The uncommitted step of logging a holding: checked, added, flushed and audited.

    A deal that would make a compliance check fail (pro forma, at the deal date) needs a
    written reason (`override_reason`, or the field of that name), stored in the audit
    entry; without one, RuleFailures (a FieldErrors on `override_reason`) is raised.
    `asked_by`: whoever asked for it, named in the entry, when `username` approves a request
    (portfolio/book/new_investments.py)."""
    values = _investment_fields(session, fields)
    reason = override_reason or (str(fields.get("override_reason") or "").strip() or None)
    failures = pro_forma_failures(session, values)
    if failures and not reason:
        raise RuleFailures(failures)
    mode, target = values.pop("mode"), values.pop("target_code")
    investment = Investment(mode=mode, sub_fund_code=target if mode == "sub_fund" else None,
                            company_code=None if mode == "sub_fund" else target, **values)
    session.add(investment)
    flush_step(session)
    after = snapshot(investment)
    if failures:
        after["compliance_failures"] = [f"{x['rule']} {x['subject']}: {x['message']}" for x in failures]
    if asked_by is not None:
        after["asked_by"] = asked_by
    audit(session, username, "create", "investments", investment.id, after=after,
          reason=reason if failures else None)
    return investment


# -- cash flows and valuations -------------------------------------------------------------

def _investment(session: Session, f: Fields) -> Investment | None:
    inv_id = f.text("investment_id", required=True, max_len=record_rules.CODE_LENGTH)
    if inv_id is None:
        return None
    investment = session.get(Investment, inv_id)
    if investment is None:
        f.errors.append(("investment_id", Message("investment_unknown", id=inv_id)))
    return investment


def _in_force(session: Session, model, investment_id: str, **match) -> bool:
    """Whether the investment has a record in force (not voided) of `model` with these values."""
    stmt = select(model.id).where(model.investment_id == investment_id, model.voided_at.is_(None),
                                  *(getattr(model, name) == value for name, value in match.items()))
    return session.execute(stmt).first() is not None


def record_cash_flow(session: Session, fields: CashFlowCommand | Mapping[str, Any], *, username: str) -> CashFlow:
    """A contribution (出资) or distribution (分配) of one investment: a draft until a second
    person approves it (`approve_cash_flow`), as a valuation is."""
    return enter_cash_flow(session, check_cash_flow(session, fields), username=username)


def enter_cash_flow(session: Session, checked: tuple[CashFlow, list[str], str | None], *, username: str) -> CashFlow:
    """record_cash_flow's second step: the flow `check_cash_flow` passed (what it returned),
    entered as a draft and audited (for a use case that made the checks itself, with its own)."""
    flow, doubts, reason = checked
    flow.entered_by = username
    return _create(session, flow, "cash_flows", lambda r: r.id, username=username, doubts=doubts, reason=reason)


def check_cash_flow(session: Session, fields: CashFlowCommand | Mapping[str, Any]) -> tuple[CashFlow, list[str], str | None]:
    """Every check `record_cash_flow` makes (FieldErrors; its doubts unconfirmed among them), nothing
    written: the flow it would add (not in the session), its doubts and the reason confirming them."""
    f = Fields(fields)
    investment = _investment(session, f)
    date = f.date("date", required=True)
    flow_type = f.choice("type", ("contribution", "distribution"), required=True)
    amount = f.amount("amount_cny", required=True, positive=True)
    note = f.text("note", max_len=record_rules.NOTE_LENGTH)
    ref = f.text("ref", max_len=record_rules.CODE_LENGTH)
    if investment is not None and date is not None and date < investment.date:
        f.errors.append(("date", Message("before_investment", day=investment.date)))
    if investment is not None and ref is not None and _in_force(session, CashFlow, investment.id, ref=ref):
        f.errors.append(("ref", Message("ref_used", ref=ref)))
    f.check()
    assert investment is not None  # f.check() raised otherwise
    doubts = sanity.flow_doubts(session, investment, date, flow_type, amount) + \
        sanity.duplicate_doubt(session, investment, date, flow_type, amount, ref)
    reason = sanity.confirmed(doubts, fields)
    return CashFlow(investment_id=investment.id, date=date, type=flow_type, amount_cny=amount,
                    note=note, ref=ref), doubts, reason


def record_valuation(session: Session, fields: ValuationCommand | Mapping[str, Any], *, username: str) -> Valuation:
    """A fair value with its method: a draft until a second person approves it."""
    valuation, doubts, reason = check_valuation(session, fields)
    valuation.entered_by = username
    return _create(session, valuation, "valuations", lambda r: r.id, username=username, doubts=doubts,
                   reason=reason)


def check_valuation(session: Session, fields: ValuationCommand | Mapping[str, Any]) -> tuple[Valuation, list[str], str | None]:
    """Every check `record_valuation` makes, nothing written: the valuation it would add (not in
    the session), its doubts and the reason confirming them."""
    f = Fields(fields)
    investment = _investment(session, f)
    as_of = f.date("as_of", required=True)
    value = f.amount("fair_value_cny", required=True)
    method = f.choice("method", VALUATION_METHODS, required=True)
    if investment is not None and as_of is not None and _in_force(session, Valuation, investment.id, as_of=as_of):
        f.errors.append(("as_of", Message("valuation_exists", day=as_of)))
    f.check()
    assert investment is not None  # f.check() raised otherwise
    doubts = sanity.valuation_doubts(as_of)
    reason = sanity.confirmed(doubts, fields)
    return Valuation(investment_id=investment.id, as_of=as_of, fair_value_cny=value, method=method), doubts, reason


def _record(session: Session, model, record_id, what: str):
    try:
        record = session.get(model, int(record_id))
    except (TypeError, ValueError):
        record = None
    if record is None:
        raise FieldErrors([("", Message("record_unknown", record=what, id=record_id))])
    return record


MAKER_IS_CHECKER = Message("maker_is_checker", record="valuation")


def maker_is_checker(entered_by: str | None, username: str) -> bool:
    """The maker-checker rule, one for the form's approval and the staged import's: nobody
    approves a record (a valuation, a cash flow) they entered (or uploaded)."""
    return entered_by == username


def _approve(session: Session, model, record_id, entity: str, what: str, *, username: str):
    """The checker's approval of a draft: not by the maker, not twice, not of a void one."""
    record = _record(session, model, record_id, what)
    if record.voided_at is not None:
        raise FieldErrors([("", Message("voided_not_approved", record=what))])
    if record.approved_at is not None:
        raise FieldErrors([("", Message("already_approved_by", record=what, person=person(session, record.approved_by)))])
    if maker_is_checker(record.entered_by, username):
        raise FieldErrors([("", Message("maker_is_checker", record=what))])
    before = snapshot(record)
    if not claim(session, record, model.approved_at.is_(None), model.voided_at.is_(None),
                 approved_by=username, approved_at=utcnow()):
        session.rollback()  # someone else approved (or voided) it a moment ago
        raise FieldErrors([("", Message("approval_raced", record=what))])
    audit(session, username, "approve", entity, str(record.id), before=before, after=snapshot(record))
    commit(session)
    return record


def approve_valuation(session: Session, valuation_id: int, *, username: str) -> Valuation:
    return _approve(session, Valuation, valuation_id, "valuations", "valuation", username=username)


def approve_cash_flow(session: Session, flow_id: int, *, username: str) -> CashFlow:
    return _approve(session, CashFlow, flow_id, "cash_flows", "cash_flow", username=username)


def _void(session: Session, model, record_id, fields: VoidCommand | Mapping[str, Any], username: str, entity: str,
          what: str):
    """Voiding, under maker-checker: an approved record (in the figures) is only asked to be
    voided here, with the reason (`void_requested_*`), and stays in force until another person
    approves the void (`approve_void`); a draft, which never counted, is withdrawn at once."""
    record = _record(session, model, record_id, what)
    reason = str(fields.get("reason") or "").strip()
    if not reason:
        raise FieldErrors([("reason", Message("void_needs_reason"))])
    if record.voided_at is not None:
        raise FieldErrors([("", Message("already_voided", record=what))])
    if record.void_requested_at is not None:
        raise FieldErrors([("", Message("void_requested_by", record=what,
                                        person=person(session, record.void_requested_by)))])
    before = snapshot(record)
    now = utcnow()
    if record.approved_at is None:
        # only while it is still a draft in force: two voids at once had both been audited, one reason lost
        won = claim(session, record, model.voided_at.is_(None), model.approved_at.is_(None), voided_at=now,
                    voided_by=username, void_reason=reason, void_requested_by=username, void_requested_at=now)
        action = "void"
    else:
        won = claim(session, record, model.voided_at.is_(None), model.void_requested_at.is_(None),
                    model.approved_at.is_not(None), void_requested_by=username, void_requested_at=now,
                    void_reason=reason)
        action = "request_void"
    if not won:
        session.rollback()
        raise FieldErrors([("", Message("void_raced", record=what))])
    audit(session, username, action, entity, str(record.id), before=before, after=snapshot(record), reason=reason)
    commit(session)
    return record


def void_cash_flow(session: Session, flow_id: int, fields: VoidCommand | Mapping[str, Any], *,
                   username: str) -> CashFlow:
    return _void(session, CashFlow, flow_id, fields, username, "cash_flows", "cash_flow")


def void_valuation(session: Session, valuation_id: int, fields: VoidCommand | Mapping[str, Any], *,
                   username: str) -> Valuation:
    return _void(session, Valuation, valuation_id, fields, username, "valuations", "valuation")


VOIDABLE: dict[str, tuple[Any, str]] = {"cash_flow": (CashFlow, "cash_flows"), "valuation": (Valuation, "valuations")}


def _asked(session: Session, what: str, record_id):
    model, _entity = VOIDABLE[what]
    record = _record(session, model, record_id, what)
    if record.voided_at is not None:
        raise FieldErrors([("", Message("already_voided", record=what))])
    if record.void_requested_at is None:
        raise FieldErrors([("", Message("void_not_requested", record=what))])
    return record


def approve_void(session: Session, what: str, record_id, *, username: str):
    """The checker's approval of a void asked for (`what`: "cash_flow" or "valuation"): not by
    whoever asked; the record leaves the figures, its history kept. The void's audit entry
    carries the asker's reason. A correction of the record waiting goes with it, declined by the
    approver (corrections.withdrawn_with_void), in the same transaction."""
    model, entity = VOIDABLE[what]
    record = _asked(session, what, record_id)
    if maker_is_checker(record.void_requested_by, username):
        raise FieldErrors([("", Message("void_requester_is_checker"))])
    before = snapshot(record)
    if not claim(session, record, model.voided_at.is_(None), model.void_requested_at.is_not(None),
                 model.void_requested_by == record.void_requested_by,
                 voided_at=utcnow(), voided_by=username):
        session.rollback()
        raise FieldErrors([("", Message("void_raced", record=what))])
    audit(session, username, "void", entity, str(record.id), before=before, after=snapshot(record),
          reason=record.void_reason)
    from portfolio.book.corrections import withdrawn_with_void  # (corrections imports this module)

    withdrawn_with_void(session, entity, str(record.id), username)
    commit(session)
    return record


def reject_void(session: Session, what: str, record_id, fields: VoidCommand | Mapping[str, Any], *, username: str):
    """A void asked for, declined with a reason (by a checker, or withdrawn by its asker): the
    record stays in force as it was."""
    reason = str(fields.get("reason") or "").strip()
    if not reason:
        raise FieldErrors([("reason", Message("reject_needs_reason"))])
    if len(reason) > record_rules.NOTE_LENGTH:
        raise FieldErrors([("reason", Message("too_long", max_len=record_rules.NOTE_LENGTH))])
    record = _asked(session, what, record_id)
    void_withdrawn(session, what, record, username, reason)
    commit(session)
    return record


def void_withdrawn(session: Session, what: str, record: Any, username: str, reason: str | Message, *,
                   batch: str | None = None) -> None:
    """The void asked for of `record` (a `what`, in force) taken back (uncommitted), audited as
    declined by `username` with `reason`; refused, rolled back, when someone else decided it a
    moment ago."""
    model, entity = VOIDABLE[what]
    before = snapshot(record)
    if not claim(session, record, model.voided_at.is_(None), model.void_requested_at.is_not(None),
                 model.void_requested_by == record.void_requested_by,
                 void_requested_by=None, void_requested_at=None, void_reason=None):
        session.rollback()
        raise FieldErrors([("", Message("void_raced", record=what))])
    audit(session, username, "reject_void", entity, str(record.id), before=before, after=snapshot(record),
          reason=reason, batch=batch)


# -- master data -----------------------------------------------------------------------------

def _region(f: Fields) -> str | None:
    return check_region(f, "region_code")


def record_company(session: Session, fields: CompanyCommand | Mapping[str, Any], *, username: str) -> Company:
    """A company, its 统一社会信用代码 verified (GB 32100-2015) and unique."""
    return _create(session, check_company(session, fields), "companies", lambda r: r.code, username=username)


def check_company(session: Session, fields: CompanyCommand | Mapping[str, Any]) -> Company:
    """Every check `record_company` makes, nothing written: the company it would add (not in the session)."""
    f = Fields(fields)
    code = f.text("code", required=True, max_len=record_rules.CODE_LENGTH)
    credit = check_credit_code(session, f, "credit_code")
    values = {"code": code, "name": f.text("name", required=True), "credit_code": credit,
              "sector": f.choice("sector", SECTORS, required=True), "region_code": _region(f),
              "founded": f.date("founded")}
    if code and session.get(Company, code) is not None:
        f.errors.append(("code", Message("company_exists", code=code)))
    f.check()
    return Company(**values)


def record_sub_fund(session: Session, fields: SubFundCommand | Mapping[str, Any], *, username: str) -> SubFund:
    return _create(session, check_sub_fund(session, fields), "sub_funds", lambda r: r.code, username=username)


def check_sub_fund(session: Session, fields: SubFundCommand | Mapping[str, Any]) -> SubFund:
    """Every check `record_sub_fund` makes, nothing written: the sub-fund it would add (not in the session)."""
    f = Fields(fields)
    code = f.text("code", required=True, max_len=record_rules.CODE_LENGTH)
    size = f.amount("size_cny", required=True, positive=True)
    values = {"code": code, "name": f.text("name", required=True), "manager": f.text("manager", required=True),
              "size_cny": size, "vintage_year": f.integer("vintage_year", required=True, minimum=1900),
              "sector": f.choice("sector", SECTORS, required=True), "region_code": _region(f),
              "term_years": f.integer("term_years", minimum=1)}
    if code and session.get(SubFund, code) is not None:
        f.errors.append(("code", Message("sub_fund_exists", code=code)))
    f.check()
    return SubFund(**values)


# -- users (administration) -----------------------------------------------------------------

def _user(session: Session, user_id):
    from models import User

    user = session.get(User, int(user_id))
    if user is None:
        raise FieldErrors([("", Message("user_unknown", id=user_id))])
    return user


USERS_LOCK = 0x75736572  # "user": the advisory lock of changes to who may do what (PostgreSQL)


def _still_admin(session: Session, username: str) -> None:
    """Changes to roles and accounts go one at a time, each by an admin who still is one: two
    admins demoting or deactivating each other at once had both gone through, and left no
    active admin. (The request checked the role at its start; it may have changed since.)"""
    from models import User

    serialise_key(session, USERS_LOCK, "users")
    actor = session.execute(select(User.role, User.active).where(User.username == username)).first()
    if actor is None or actor.role != "admin" or not actor.active:
        raise FieldErrors([("", Message("no_longer_admin"))])


def change_role(session: Session, user_id: int, role: str, *, username: str):
    """An admin sets a user's role (audited; never the password)."""
    from models import ROLES

    if role not in ROLES:
        raise FieldErrors([("role", Message("role_invalid", role=role))])
    _still_admin(session, username)
    user = _user(session, user_id)
    if user.username == username and role != "admin":
        raise FieldErrors([("role", Message("own_admin_role"))])
    before = {"role": user.role, "active": user.active}
    if user.role != role:
        user.session_token = new_session_token()  # a new role: sessions under the old one end
    user.role = role
    audit(session, username, "update", "users", user.username, before=before,
          after={"role": user.role, "active": user.active})
    commit(session)
    return user


def deactivate_user(session: Session, user_id: int, *, username: str):
    """An admin deactivates a user: they can no longer log in; history keeps their name."""
    _still_admin(session, username)
    user = _user(session, user_id)
    if user.username == username:
        raise FieldErrors([("", Message("own_account"))])
    if not user.active:
        raise FieldErrors([("", Message("user_inactive", name=user.username))])
    before = {"role": user.role, "active": True}
    user.active = False
    user.session_token = new_session_token()
    audit(session, username, "deactivate", "users", user.username, before=before,
          after={"role": user.role, "active": False})
    commit(session)
    return user
