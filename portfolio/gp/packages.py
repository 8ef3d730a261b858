"""Use cases of the GP portal: GP users bound to their sub-funds, the quarterly package from
draft to accepted, the tie-out against the book on every save, deadlines and the overdue list.

Workflow: draft → submitted → (returned with comments → submitted again) → [reviewed] →
accepted. With the fund's `gp_four_eyes` setting, a fund manager first reviews and *another*
accepts. Accepting writes, in one transaction, the sub-fund's `gp_nav` valuation (approved), its
`sub_fund_holdings` rows and the companies new to the book, each audited with the package as
the source (batch `gp-package-<id>`). A sub-fund's schedule is one per quarter end: where another
interest's accepted package booked it, a package must report the same (the tie-out's
`holdings_vs_schedule`) and its acceptance leaves it as it is. An interest's packages are accepted
in the order of their quarters (`quarter_order`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import (
    AuditEntry,
    CashFlow,
    Company,
    Fund,
    GpPackage,
    GpPackageEvent,
    GpSubFund,
    Investment,
    SubFund,
    SubFundHolding,
    User,
    Valuation,
    utcnow,
)
from portfolio.book.audit import audit, digest, snapshot, written_by
from portfolio.book.corrections import withdrawn_with_void
from portfolio.book.records import void_withdrawn
from portfolio.book.unit import claim, commit, flush, serialise_key, take
from portfolio.book.users import add_user, typed_username, user_problems
from portfolio.commands import InviteCommand
from portfolio.errors import FieldErrors
from portfolio.figures import tieout
from portfolio.figures.settings import fund_settings
from portfolio.figures.tieout import Context, Notice, PastMark, Scheduled
from portfolio.formatting import DateError, last_quarter_end, local_today, parse_date
from portfolio.gp.template import to_package
from portfolio.messages import Message
from portfolio.money import fen, yuan

EDITABLE = ("draft", "returned")
ACCEPT_LOCK = 0x677061  # "gpa": the advisory locks of accepting a sub-fund's packages, by sub-fund (PostgreSQL)
SAVE_LOCK = 0x677073  # "gps": the advisory locks of saving an interest's package, by interest and quarter (PostgreSQL)
SAVES = ("save", "upload")  # the actions that write a package's content
RETURN_COMMENT_MAX_LEN = 4000  # a return's comment (the web form's limit too): a longer one is refused, never cut


# -- who a GP is -------------------------------------------------------------------------------

def sub_funds_of(session: Session, user_id: int) -> list[str]:
    return list(session.execute(select(GpSubFund.sub_fund_code).where(GpSubFund.user_id == user_id)
                                .order_by(GpSubFund.sub_fund_code)).scalars())


def _codes(asked: list[str]) -> list[str]:
    return sorted({c.strip() for c in asked if c and c.strip()})


def _sub_fund_problems(session: Session, codes: list[str]) -> list[tuple[str, Message]]:
    """Sub-funds to bind a GP to (`_codes`): at least one, each known."""
    if not codes:
        return [("sub_funds", Message("gp_pick_sub_fund"))]
    unknown = [c for c in codes if session.get(SubFund, c) is None]
    return [("sub_funds", Message("gp_no_sub_funds", people=unknown))] if unknown else []


def bind_sub_funds(session: Session, user: User, codes: list[str], *, by: str) -> None:
    """Bind a gp user to these sub-funds (uncommitted; audited)."""
    codes = _codes(codes)
    problems = _sub_fund_problems(session, codes)
    if problems:
        raise FieldErrors(problems)
    have = set(sub_funds_of(session, user.id))
    for code in codes:
        if code not in have:
            session.add(GpSubFund(user_id=user.id, sub_fund_code=code, created_by=by))
            audit(session, by, "link", "gp_sub_funds", f"{user.username}:{code}",
                  after={"user": user.username, "sub_fund_code": code})


def invite_problems(session: Session, username: str | None, password: str | None, sub_fund_codes: list[str] | None,
                    *, display_name: str | None = None) -> list[tuple[str, Message]]:
    """Why a GP cannot be invited as asked, every reason at once (a user's, users.user_problems,
    and the sub-funds'), nothing written; a value None is one a form has refused already."""
    problems = user_problems(session, username, None, password, display_name=display_name)
    if username and not any(field == "username" for field, _ in problems):
        existing = session.execute(select(User.role).where(User.username == username)).scalar()
        if existing is not None and existing != "gp":
            problems.append(("username", Message("username_not_gp", name=username)))
    if sub_fund_codes is not None:
        problems += _sub_fund_problems(session, _codes(sub_fund_codes))
    return problems


def check_invite(session: Session, fields: InviteCommand) -> None:
    """The invitation screen's checks (invite_gp's), nothing written."""
    problems = invite_problems(session, typed_username(fields.username),
                               fields.password, fields.sub_funds, display_name=fields.display_name)
    if problems:
        raise FieldErrors(problems)


def invite_gp(session: Session, username: str, password: str, sub_fund_codes: list[str], *, by: str,
              display_name: str | None = None) -> User:
    """An admin invites a sub-fund's manager as a user of role gp, bound to its sub-funds. An
    existing GP invited again gets the new password and sub-funds; a name that belongs to
    anyone else is refused (it had turned a committee member into a GP, without a word)."""
    problems = invite_problems(session, username, password, sub_fund_codes, display_name=display_name)
    if problems:
        raise FieldErrors(problems)
    user = add_user(session, username, "gp", password, by=by, display_name=display_name)
    bind_sub_funds(session, user, sub_fund_codes, by=by)
    commit(session)
    return user


# -- the fund's interests in a GP's sub-funds ------------------------------------------------------

def interests(session: Session, sub_fund_codes: list[str]) -> list[Investment]:
    """The book's commitments (investments of mode sub_fund) to these sub-funds."""
    if not sub_fund_codes:
        return []
    return list(session.execute(select(Investment).where(Investment.mode == "sub_fund",
                                                         Investment.sub_fund_code.in_(sub_fund_codes))
                                .order_by(Investment.sub_fund_code, Investment.id)).scalars())


def settings_of(session: Session, investment: Investment) -> dict[str, Any]:
    fund = session.get(Fund, investment.fund_code)
    assert fund is not None
    return fund_settings(fund.kind, fund.settings)


def deadline(quarter_end: dt.date, settings: dict[str, Any]) -> dt.date:
    return quarter_end + dt.timedelta(days=int(settings["gp_deadline_days"]))


def quarter_ends(since: dt.date, until: dt.date) -> list[dt.date]:
    out: list[dt.date] = []
    day = last_quarter_end(until)
    while day >= since and len(out) < 400:
        out.append(day)
        day = tieout.previous_quarter_end(day)
    return sorted(out)


def latest_quarter_ends(since: dt.date, until: dt.date, n: int) -> list[dt.date]:
    """The last `n` of `quarter_ends(since, until)` (n ≤ 400), walking back from the latest only
    (the home page asks this of every interest: a walk from the commitment on cost most of it)."""
    out: list[dt.date] = []
    day = last_quarter_end(until)
    while day >= since and len(out) < n:
        out.append(day)
        day = tieout.previous_quarter_end(day)
    return out[::-1]


@dataclass
class Request:
    investment: Investment
    quarter_end: dt.date
    deadline: dt.date
    package: GpPackage | None
    # the book holds the GP's NAV of the interest at the quarter end already (a `gp_nav` valuation
    # in force: the fund's import of a report that came by e-mail, say): reported, so not overdue
    booked: bool = False

    def overdue_on(self, today: dt.date) -> bool:
        """Past its deadline on `today`, with no package accepted and no GP NAV in the book."""
        return (not self.booked and (self.package is None or self.package.status != "accepted")
                and self.deadline < today)

    @property
    def overdue(self) -> bool:
        return self.overdue_on(local_today())


# the quarters a package is asked for, back from the last ended: the GP's list and the managers' overdue list
REQUESTED_QUARTERS = 4


def requests(session: Session, investments: list[Investment], today: dt.date, *,
             quarters: int = REQUESTED_QUARTERS) -> list[Request]:
    """What the fund asks of the GP: a package per interest for each of the last `quarters`
    quarters since the commitment, with its deadline and where it stands (a quarter whose GP NAV
    the book holds already is asked still, as the GP may send its package, but is not overdue)."""
    out: list[Request] = []
    last = last_quarter_end(today, strictly=True)
    # every interest's packages in one query (one per interest made the home page slow)
    packages: dict[tuple[str, dt.date], GpPackage] = {}
    ids = [investment.id for investment in investments]
    booked: set[tuple[str, dt.date]] = set()
    first_asked = latest_quarter_ends(dt.date.min, last, quarters)[0] if quarters > 0 else last
    for start in range(0, len(ids), 500):  # bounded IN lists
        for p in session.execute(select(GpPackage).where(GpPackage.investment_id.in_(ids[start:start + 500]))
                                 ).scalars():
            packages[(p.investment_id, p.quarter_end)] = p
        booked.update((investment_id, as_of) for investment_id, as_of in session.execute(
            select(Valuation.investment_id, Valuation.as_of).where(
                Valuation.investment_id.in_(ids[start:start + 500]), Valuation.method == "gp_nav",
                Valuation.as_of >= first_asked, Valuation.approved_at.is_not(None), Valuation.voided_at.is_(None))))
    # each fund's settings read once, in one query (not once per interest)
    funds = session.execute(select(Fund).where(Fund.code.in_(sorted({i.fund_code for i in investments})))).scalars()
    settings_by_fund = {fund.code: fund_settings(fund.kind, fund.settings) for fund in funds}
    for investment in investments:
        settings = settings_by_fund[investment.fund_code]
        ends = latest_quarter_ends(investment.date, last, quarters)
        for q in ends:
            out.append(Request(investment, q, deadline(q, settings), packages.get((investment.id, q)),
                               booked=(investment.id, q) in booked))
    return sorted(out, key=lambda r: (r.deadline, r.investment.id))


def overdue(session: Session, today: dt.date) -> list[Request]:
    """Every package past its deadline and not accepted, across the book (the managers' list): of
    the quarters asked of the GPs (REQUESTED_QUARTERS), as each GP's portal lists them overdue
    (a quarter whose GP NAV the book holds already is not: `Request.booked`)."""
    every = list(session.execute(select(Investment).where(Investment.mode == "sub_fund")
                                 .order_by(Investment.id)).scalars())
    return [r for r in requests(session, every, today) if r.overdue_on(today)]


# -- the book, as the tie-out sees it ----------------------------------------------------------------

def fund_share(investment: Investment, sub_fund: SubFund) -> Decimal:
    if investment.ownership_pct:
        return investment.ownership_pct / 100
    return investment.commitment_cny / sub_fund.size_cny if sub_fund.size_cny else Decimal(0)


def context_for(session: Session, investment: Investment, quarter_end: dt.date) -> Context:
    """What the book says about one interest at one quarter end, as the tie-out's plain data."""
    sub_fund = session.get(SubFund, investment.sub_fund_code)
    assert sub_fund is not None
    start, previous_end = tieout.quarter_start(quarter_end), tieout.previous_quarter_end(quarter_end)
    # the book's ledger as the figures hold it: approved flows in force (a draft call is not yet booked)
    flows = session.execute(select(CashFlow).where(CashFlow.investment_id == investment.id,
                                                  CashFlow.voided_at.is_(None), CashFlow.approved_at.is_not(None),
                                                  CashFlow.date <= quarter_end)
                            .order_by(CashFlow.date, CashFlow.id)).scalars().all()
    ledger = tuple(Notice(f.date, f.type, fen(f.amount_cny), f.ref) for f in flows if f.date >= start)
    paid_in = sum(fen(f.amount_cny) for f in flows if f.type == "contribution")
    paid_before = sum(fen(f.amount_cny) for f in flows if f.type == "contribution" and f.date < start)
    accepted = session.execute(select(GpPackage).where(GpPackage.investment_id == investment.id,
                                                       GpPackage.status == "accepted",
                                                       GpPackage.quarter_end < quarter_end)
                               .order_by(GpPackage.quarter_end)).scalars().all()
    recallable = sum(int(p.content.get("account", {}).get("recallable_distributions", 0)) for p in accepted)
    commitment = fen(investment.commitment_cny)
    last = accepted[-1] if accepted and accepted[-1].quarter_end == previous_end else None
    prior_unfunded = int(last.content["account"]["closing_unfunded"]) if last else \
        max(commitment - paid_before + recallable, 0)
    valued = session.execute(select(Valuation.id).where(Valuation.investment_id == investment.id,
                                                        Valuation.voided_at.is_(None),
                                                        Valuation.approved_at.is_not(None),
                                                        Valuation.as_of <= previous_end).limit(1)).first()
    # the opening NAV is the interest's NAV at the previous quarter end as the figures engine
    # holds it (metrics.md: the last valuation rolled forward by the flows after it), not the
    # last valuation as it stands: a call after a lagging valuation is in the GP's opening.
    # With no valuation yet there is nothing to hold a first package's opening to.
    prior_nav = _nav_at(session, investment.id, previous_end) if valued is not None else None

    code_of = {c.code: c.credit_code for c in session.execute(select(Company)).scalars()}
    methods = {(p.quarter_end, h["credit_code"]): h.get("method") for p in accepted
               for h in p.content.get("holdings", [])}
    rows = session.execute(select(SubFundHolding).where(SubFundHolding.sub_fund_code == sub_fund.code,
                                                        SubFundHolding.as_of < quarter_end)
                           .order_by(SubFundHolding.as_of)).scalars().all()
    # the companies a package's names and codes are weighed against: the ones this sub-fund has
    # reported, never the whole book (the checks print the book's name or code back to the GP,
    # who could otherwise look up any company of another sub-fund or fund)
    reported = select(SubFundHolding.company_code).where(SubFundHolding.sub_fund_code == sub_fund.code)
    companies = {c.credit_code: c.name for c in session.execute(select(Company).where(Company.code.in_(reported)))
                 .scalars()}
    history: dict[str, list[PastMark]] = {}
    for row in rows:
        credit = code_of.get(row.company_code, row.company_code)
        history.setdefault(credit, []).append(PastMark(row.as_of, fen(row.fair_value_cny),
                                                       methods.get((row.as_of, credit))))
    latest = max((row.as_of for row in rows), default=None)
    previous = frozenset(code_of.get(row.company_code, row.company_code) for row in rows
                         if row.as_of == latest and row.fair_value_cny > 0)
    settings = settings_of(session, investment)
    return Context(commitment=commitment, fund_share=fund_share(investment, sub_fund), prior_nav=prior_nav,
                   prior_unfunded=prior_unfunded, ledger=ledger, paid_in=paid_in, prior_recallable=recallable,
                   companies=companies, history={k: tuple(v) for k, v in history.items()},
                   previous_schedule=previous, tolerance=Decimal(str(settings["gp_nav_tolerance"])),
                   later_accepted=later_accepted(session, investment.id, quarter_end),
                   accepted_schedule=accepted_schedule(session, sub_fund.code, quarter_end, investment.id))


def later_accepted(session: Session, investment_id: str, quarter_end: dt.date) -> dt.date | None:
    """The latest quarter end after `quarter_end` for which this interest's package is accepted.
    An earlier quarter's package is not accepted after it: the later one's opening figures, its
    history of marks and its schedule's companies were tied out against the book without it."""
    return session.execute(select(func.max(GpPackage.quarter_end)).where(
        GpPackage.investment_id == investment_id, GpPackage.status == "accepted",
        GpPackage.quarter_end > quarter_end)).scalar()


def accepted_schedule(session: Session, sub_fund_code: str, quarter_end: dt.date,
                      investment_id: str) -> tuple[Scheduled, ...] | None:
    """The sub-fund's holdings schedule at `quarter_end` as the book holds it, for the tie-out
    (holdings_vs_schedule); None where the book holds none. A schedule is the sub-fund's, one per
    date. Where another interest's package for that quarter was accepted, it booked the schedule
    (`Scheduled.by_package`): every interest's package must report the same, and acceptance leaves
    it as it is. Else it came in by an import: the package is weighed against it, each difference a
    warning, and acceptance replaces it (_book_package), every row it changes audited."""
    other = session.execute(select(GpPackage.id).where(
        GpPackage.sub_fund_code == sub_fund_code, GpPackage.quarter_end == quarter_end,
        GpPackage.status == "accepted", GpPackage.investment_id != investment_id).limit(1)).first()
    rows = session.execute(select(SubFundHolding, Company).join(Company, Company.code == SubFundHolding.company_code)
                           .where(SubFundHolding.sub_fund_code == sub_fund_code, SubFundHolding.as_of == quarter_end)
                           .order_by(SubFundHolding.company_code)).all()
    if other is None and not rows:
        return None
    return tuple(Scheduled(company.name, company.credit_code, fen(row.cost_cny), fen(row.fair_value_cny),
                           by_package=other is not None) for row, company in rows)


def _nav_at(session: Session, investment_id: str, day: dt.date) -> int:
    """One investment's NAV on `day` in fen, by the engine that gives every report's NAV."""
    from portfolio.book import cache
    from portfolio.figures.engine import positions

    rows = positions(cache.book(session), [investment_id], day).rows
    return int(rows["nav_fen"].sum())


def run_tieout(session: Session, package: GpPackage) -> list[tieout.Check]:
    investment = session.get(Investment, package.investment_id)
    assert investment is not None
    checks = tieout.tie_out(to_package(package.content, package.quarter_end),
                            context_for(session, investment, package.quarter_end))
    counts = tieout.summary(checks)
    package.checks = [c.as_dict() for c in checks]
    package.blocking, package.warnings = counts[tieout.BLOCKING], counts[tieout.WARNING]
    return checks


# -- the workflow ----------------------------------------------------------------------------------

def _event(session: Session, package: GpPackage, username: str, action: str, comment: str | None = None, *,
           was: str | None = None) -> None:
    """A step of the package, as an event and an audit entry: with `was`, the status it had
    before the step (the entry's before, the rest as after), for the history to show the change."""
    session.add(GpPackageEvent(package_id=package.id, username=username, action=action, comment=comment,
                               blocking=package.blocking))
    after = {"status": package.status, "blocking": package.blocking, "warnings": package.warnings}
    audit(session, username, action, "gp_packages", str(package.id),
          before=None if was is None else {**after, "status": was}, after=after, reason=comment)


def _saved(session: Session, package: GpPackage, username: str, action: str, before: dict[str, Any] | None) -> None:
    """A save's event, audited with the whole package before (None: a new one) and after: what a
    save writes over (figures a manager returned for correction, say) stays in the trail."""
    session.add(GpPackageEvent(package_id=package.id, username=username, action=action, blocking=package.blocking))
    audit(session, username, action, "gp_packages", str(package.id), before=before, after=snapshot(package))


def package_version(package: GpPackage) -> str:
    """The package as its edit form shows it (audit.digest of its interest, quarter end and
    content): the form carries it, and a save compares it with the package as stored, under its
    row's lock, so that a form gone stale never writes over a later save."""
    return digest({"investment_id": package.investment_id, "quarter_end": package.quarter_end,
                   "content": package.content})


def _last_save(session: Session, package: GpPackage) -> AuditEntry | None:
    return session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages",
                                                    AuditEntry.entity_key == str(package.id),
                                                    AuditEntry.action.in_(SAVES))
                           .order_by(AuditEntry.id.desc()).limit(1)).scalar()


def _stale(session: Session, package: GpPackage) -> FieldErrors:
    """The refusal of a form drawn before the package's last save, naming who saved it and when."""
    entry = _last_save(session, package)
    return FieldErrors([("", Message("stale_form", who=written_by(session, entry)) if entry is not None
                         else Message("settings_stale"))])


class StaleUpload(FieldErrors):
    """An uploaded workbook for an interest's quarter whose draft is no longer as the upload's
    page showed it (saved since, or made since the page was drawn): refused beside the file,
    naming the package and who saved it last, nothing overwritten."""

    def __init__(self, session: Session, package: GpPackage) -> None:
        entry = _last_save(session, package)
        who = written_by(session, entry) if entry is not None else (package.created_by, package.updated_at)
        super().__init__([("file", Message("gp_upload_stale", investment=package.investment_id, id=package.id,
                                           quarter=tieout.quarter_label(package.quarter_end), who=who))])
        self.package_id = package.id


class PackageExists(FieldErrors):
    """The new-package form for an interest and quarter that already has a package: refused, the
    existing one named (`package_id`) for the form to point to."""

    def __init__(self, package: GpPackage) -> None:
        super().__init__([("quarter_end", Message("gp_package_exists", investment=package.investment_id,
                                                  quarter=tieout.quarter_label(package.quarter_end), id=package.id))])
        self.package_id = package.id


def _interest(session: Session, investment_id: str, allowed: list[str] | None) -> Investment:
    investment = session.get(Investment, investment_id) if investment_id else None
    if investment is None or investment.mode != "sub_fund" or \
            (allowed is not None and investment.sub_fund_code not in allowed):
        raise FieldErrors([("investment_id", Message("gp_no_reportable", id=investment_id))])
    return investment


def save_package(session: Session, investment_id: str, quarter_end: dt.date | str | None, content: dict[str, Any], *,
                 username: str, allowed: list[str] | None, action: str = "save", new: bool = False,
                 package_id: int | None = None, version: str | None = None,
                 drawn: Mapping[int, str] | None = None) -> GpPackage:
    """Save the draft of one interest's package for one quarter, and tie it out at once.
    `allowed`: the sub-funds the user speaks for (None: any, for a fund manager).

    The new-package form (`new`) creates one, and is refused where the interest's quarter has a
    package already (PackageExists, naming it); the edit form (`package_id`, `version`) saves
    that package only while it is as the form showed it (`package_version`), else it is refused
    as stale; otherwise (an uploaded workbook) the package is created or its draft replaced —
    with `drawn` (the upload's page: the versions of the drafts it showed, by package id), a
    draft only while it is as that page showed it, else refused (StaleUpload): a draft saved,
    or made, after the page was drawn is never written over unseen. A first upload for a
    quarter without a package needs no version. (`drawn` None: a caller with no page, such as
    the benchmark, replaces the draft as it finds it.)
    Saves of one interest's quarter wait for each other (a lock by interest and quarter), so two
    first saves at once are one package and a refusal, never a crash or a save lost unseen;
    every save is audited with the package before and after."""
    investment = _interest(session, investment_id, allowed)
    if isinstance(quarter_end, str):  # as typed on the form, not a date (2025/12/31): why, beside the field
        try:
            quarter_end = parse_date(quarter_end)
        except DateError as error:
            raise FieldErrors([("quarter_end", error.reason)]) from None
    if quarter_end is None or not tieout.is_quarter_end(quarter_end):
        raise FieldErrors([("quarter_end", Message("gp_quarter_end"))])
    if quarter_end > local_today() or quarter_end < investment.date - dt.timedelta(days=92):
        raise FieldErrors([("quarter_end", Message("gp_quarter_window"))])
    serialise_key(session, SAVE_LOCK, f"{investment.id}|{quarter_end.isoformat()}")
    package = session.execute(select(GpPackage).where(GpPackage.investment_id == investment.id,
                                                      GpPackage.quarter_end == quarter_end)).scalar()
    if package_id is not None and (package is None or package.id != package_id):
        raise FieldErrors([("quarter_end", Message("gp_package_fixed"))])
    if package is not None and new:
        raise PackageExists(package)
    before = None
    if package is None:
        package = GpPackage(investment_id=investment.id, sub_fund_code=investment.sub_fund_code,
                            quarter_end=quarter_end, status="draft", created_by=username, content=content, checks=[])
        session.add(package)
        flush(session)  # its id; a unique key taken a moment ago: the form's conflict, not a crash
    else:
        take(session, package)
        if package.status not in EDITABLE:
            raise FieldErrors([("", Message("gp_submitted_locked"))])
        if package_id is not None and version != package_version(package):
            raise _stale(session, package)
        if drawn is not None and drawn.get(package.id) != package_version(package):
            raise StaleUpload(session, package)
        before = snapshot(package)
    package.content = content
    package.updated_at = utcnow()
    run_tieout(session, package)
    flush(session)
    _saved(session, package, username, action, before)
    commit(session)
    return package


def get_package(session: Session, package_id: int, allowed: list[str] | None) -> GpPackage:
    package = session.get(GpPackage, package_id)
    if package is None or (allowed is not None and package.sub_fund_code not in allowed):
        raise LookupError(package_id)
    return package


def submit(session: Session, package_id: int, *, username: str, allowed: list[str] | None) -> GpPackage:
    """The GP submits (or resubmits) a package with no blocking check left."""
    package = get_package(session, package_id, allowed)
    take(session, package)
    if package.status not in EDITABLE:
        raise FieldErrors([("", Message("gp_not_submittable"))])
    run_tieout(session, package)  # the ledger may have moved since it was saved
    if package.blocking:
        session.flush()
        commit(session)
        raise FieldErrors([("", Message("gp_blocking_submit", n=package.blocking))])
    action = "resubmit" if package.status == "returned" else "submit"
    package.status, package.submitted_by, package.submitted_at = "submitted", username, utcnow()
    _event(session, package, username, action)
    commit(session)
    return package


def return_package(session: Session, package_id: int, comment: str, *, username: str) -> GpPackage:
    """A fund manager returns a package to the GP, with what to change (at most
    `RETURN_COMMENT_MAX_LEN` characters: a longer comment is refused, never cut)."""
    package = get_package(session, package_id, None)
    comment = (comment or "").strip()
    if not comment:
        raise FieldErrors([("comment", Message("gp_return_comment"))])
    if len(comment) > RETURN_COMMENT_MAX_LEN:
        raise FieldErrors([("comment", Message("too_long", max_len=RETURN_COMMENT_MAX_LEN))])
    take(session, package)
    if package.status not in ("submitted", "reviewed"):
        raise FieldErrors([("", Message("gp_only_submitted_return"))])
    package.status, package.reviewed_by = "returned", None
    _event(session, package, username, "return", comment)
    commit(session)
    return package


def review(session: Session, package_id: int, *, username: str) -> GpPackage:
    """The first pair of eyes: a fund manager has checked the package (four-eyes setting)."""
    package = get_package(session, package_id, None)
    if package.status != "submitted":
        raise FieldErrors([("", Message("gp_only_submitted_review"))])
    if not claim(session, package, GpPackage.status == "submitted", status="reviewed", reviewed_by=username):
        raise FieldErrors([("", Message("gp_raced"))])
    _event(session, package, username, "review")
    commit(session)
    return package


def accept(session: Session, package_id: int, *, username: str) -> GpPackage:
    """A fund manager accepts: in one transaction the package becomes the interest's gp_nav
    valuation (approved), the sub-fund's holdings at the quarter end and any new companies."""
    package = get_package(session, package_id, None)
    # one acceptance at a time per sub-fund: its interests share the schedule, and an interest's
    # quarters are accepted in order (the checks below see the other acceptances committed)
    serialise_key(session, ACCEPT_LOCK, package.sub_fund_code)
    take(session, package)
    investment = session.get(Investment, package.investment_id)
    assert investment is not None
    four_eyes = bool(int(settings_of(session, investment)["gp_four_eyes"]))
    if four_eyes:
        if package.status != "reviewed":
            raise FieldErrors([("", Message("gp_review_first"))])
        if package.reviewed_by == username:
            raise FieldErrors([("", Message("gp_reviewer_accepts"))])
    elif package.status not in ("submitted", "reviewed"):
        raise FieldErrors([("", Message("gp_only_submitted_accept"))])
    if package.submitted_by == username:
        raise FieldErrors([("", Message("gp_submitter_accepts"))])
    later = later_accepted(session, investment.id, package.quarter_end)
    if later is not None:
        raise FieldErrors([("", Message("gp_later_accepted", quarter=tieout.quarter_label(later),
                                        earlier=tieout.quarter_label(package.quarter_end)))])
    run_tieout(session, package)
    if package.blocking:
        raise FieldErrors([("", Message("gp_blocking_accept", n=package.blocking))])
    status_before = package.status
    if not claim(session, package, GpPackage.status == status_before, status="accepted",
                 accepted_by=username, accepted_at=utcnow()):
        raise FieldErrors([("", Message("gp_raced"))])
    try:
        _book_package(session, package, investment, username)
    except SQLAlchemyError as error:  # a flush refused (e.g. a company someone added a moment ago)
        session.rollback()
        raise FieldErrors([("", Message("gp_conflict"))]) from error
    _event(session, package, username, "accept")
    commit(session)
    return package


def _book_package(session: Session, package: GpPackage, investment: Investment, username: str) -> None:
    """The accepted package into the book (uncommitted): valuation, companies, holdings."""
    batch, reason = f"gp-package-{package.id}", Message("why_gp_package", id=package.id)
    content, q = package.content, package.quarter_end

    # the valuation: one in force per interest and date, so an earlier one for the date is voided
    # (a void of it asked for and a correction of it waiting, moot, are declined with it, audited)
    for old in session.execute(select(Valuation).where(Valuation.investment_id == investment.id,
                                                       Valuation.as_of == q, Valuation.voided_at.is_(None))).scalars():
        if old.void_requested_at is not None:  # declined: its asker's reason is not the void's
            void_withdrawn(session, "valuation", old, username, Message("why_void_withdrawn_replaced", id=package.id),
                           batch=batch)
        before = snapshot(old)
        replaced = Message("why_replaced_by_gp_package", id=package.id)  # the void's reason, by key in the audit
        old.voided_at, old.voided_by, old.void_reason = utcnow(), username, str(replaced)
        audit(session, username, "void", "valuations", str(old.id), before=before, after=snapshot(old),
              reason=replaced, batch=batch)
        withdrawn_with_void(session, "valuations", str(old.id), username, batch=batch)
    session.flush()
    valuation = Valuation(investment_id=investment.id, as_of=q, fair_value_cny=yuan(content["account"]["closing_nav"]),
                          method="gp_nav", entered_by=package.submitted_by or package.created_by,
                          approved_by=username, approved_at=utcnow())
    session.add(valuation)
    session.flush()
    audit(session, username, "create", "valuations", str(valuation.id), after=snapshot(valuation), reason=reason,
          batch=batch)
    package.valuation_id = valuation.id

    booked = accepted_schedule(session, package.sub_fund_code, q, investment.id)
    if booked is not None and all(row.by_package for row in booked):
        # another interest's accepted package booked the sub-fund's schedule at q, and the tie-out
        # found this package's the same (holdings_vs_schedule): it stays as it is, never replaced
        return

    # the companies: resolved by credit code, new ones added
    by_credit = {c.credit_code: c for c in session.execute(select(Company)).scalars()}
    holdings: dict[str, dict] = {}
    for h in content.get("holdings", []):
        company = by_credit.get(h["credit_code"])
        if company is None:
            code = h["credit_code"] if session.get(Company, h["credit_code"]) is None else f"GP{package.id}-{h['credit_code']}"
            company = Company(code=code, name=h["name"], credit_code=h["credit_code"], sector=h["sector"],
                              region_code=h["region_code"])
            session.add(company)
            session.flush()
            audit(session, username, "create", "companies", company.code, after=snapshot(company), reason=reason,
                  batch=batch)
            by_credit[company.credit_code] = company
        holdings[company.code] = h

    # the schedule at the quarter end replaces the one an import booked for that date (the tie-out
    # showed each difference as a warning): a row the package changes is updated, audited before
    # and after; one it lacks removed, audited before; one it adds created; one it reports the
    # same left as it was
    replaced = Message("why_replaced_by_gp_package", id=package.id)
    old_rows = {row.company_code: row for row in session.execute(
        select(SubFundHolding).where(SubFundHolding.sub_fund_code == package.sub_fund_code,
                                     SubFundHolding.as_of == q)).scalars()}

    def key(code: str) -> str:
        return f"{package.sub_fund_code}:{q.isoformat()}:{code}"

    for code, row in old_rows.items():
        if code not in holdings:
            audit(session, username, "void", "sub_fund_holdings", key(code), before=snapshot(row), reason=replaced,
                  batch=batch)
            session.delete(row)
    for code, h in holdings.items():
        cost, value = yuan(h["cost"]), yuan(h["fair_value"])
        held = old_rows.get(code)
        if held is None:
            session.add(SubFundHolding(sub_fund_code=package.sub_fund_code, as_of=q, company_code=code,
                                       cost_cny=cost, fair_value_cny=value))
            audit(session, username, "create", "sub_fund_holdings", key(code),
                  after={"cost_cny": str(cost), "fair_value_cny": str(value)}, reason=reason, batch=batch)
        elif (held.cost_cny, held.fair_value_cny) != (cost, value):
            before = snapshot(held)
            held.cost_cny, held.fair_value_cny = cost, value
            audit(session, username, "update", "sub_fund_holdings", key(code), before=before,
                  after={**before, "cost_cny": str(cost), "fair_value_cny": str(value)}, reason=replaced, batch=batch)
    session.flush()


@dataclass(frozen=True)
class BookMatch:
    """A holding of a package whose credit code is a company the book already has, where the
    package and the book differ or the sub-fund reports it for the first time: acceptance books
    the holding as the book's company (a credit code names one company), so the manager who
    accepts sees what it becomes. Shown to managers only: the book's names are not the GP's to see."""
    credit_code: str
    reported_name: str
    reported_sector: str
    book_code: str
    book_name: str
    book_sector: str
    first_report: bool   # the sub-fund has not reported it before

    @property
    def renamed(self) -> bool:
        return not tieout.same_name(self.reported_name, self.book_name)

    @property
    def resectored(self) -> bool:
        return (self.reported_sector or "") != (self.book_sector or "")  # a sector the book lacks is no news


def book_matches(session: Session, package: GpPackage) -> list[BookMatch]:
    """The package's holdings that acceptance would book as a company already in the book, with a
    different name or sector, or new to this sub-fund's schedule (e.g. the fund's own direct deal)."""
    codes = [h.get("credit_code") for h in package.content.get("holdings", []) if h.get("credit_code")]
    if not codes:
        return []
    known = {c.credit_code: c for c in session.execute(select(Company).where(Company.credit_code.in_(codes))).scalars()}
    reported = set(session.execute(select(SubFundHolding.company_code).where(
        SubFundHolding.sub_fund_code == package.sub_fund_code, SubFundHolding.as_of < package.quarter_end)).scalars())
    out = []
    for h in package.content.get("holdings", []):
        company = known.get(h.get("credit_code"))
        if company is None:
            continue
        match = BookMatch(credit_code=company.credit_code, reported_name=h.get("name", ""),
                          reported_sector=h.get("sector", ""), book_code=company.code, book_name=company.name,
                          book_sector=company.sector, first_report=company.code not in reported)
        if match.renamed or match.resectored or match.first_report:
            out.append(match)
    return out


def history(session: Session, package_id: int) -> list[GpPackageEvent]:
    return list(session.execute(select(GpPackageEvent).where(GpPackageEvent.package_id == package_id)
                                .order_by(GpPackageEvent.at, GpPackageEvent.id)).scalars())


def packages_of(session: Session, sub_fund_codes: list[str] | None, *, statuses: tuple[str, ...] | None = None
                ) -> list[GpPackage]:
    stmt = select(GpPackage)
    if sub_fund_codes is not None:
        stmt = stmt.where(GpPackage.sub_fund_code.in_(sub_fund_codes or ["-"]))
    if statuses:
        stmt = stmt.where(GpPackage.status.in_(statuses))
    return list(session.execute(stmt.order_by(GpPackage.quarter_end.desc(), GpPackage.id.desc())).scalars())


def count_packages(session: Session) -> int:
    return int(session.execute(select(func.count(GpPackage.id))).scalar() or 0)
