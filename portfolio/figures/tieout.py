"""The tie-out of a sub-fund manager's quarterly package: every figure checked against itself,
against the last accepted package and against the fund's own book, before it reaches the book.

Pure: plain data in (amounts as integer fen), a list of `Check` out. Each check is
Blocking (the package cannot be accepted), Warning (a fund manager must look) or Passed, and
carries the figure, the expected figure and the difference, so that the GP sees what to fix.

The shape of the capital account follows the ILPA capital-account statement (ILPA Reporting
Template, "Capital Account Statement"): opening NAV + contributions − distributions − management
fees ± other income and expenses + realised + unrealised gain = closing NAV; and for the
commitment: opening unfunded − contributions + recallable distributions = closing unfunded.
Recallable distributions are the part of the period's distributions that the LPA lets the GP
call again (ILPA: "distributions subject to recall", shown in the period they are made), so a
quarter's recallable distributions are bounded by that quarter's distributions, and the unfunded
commitment they restore never exceeds the commitment.

A check's items (what it found, one by one) are `Message`s: a key of portfolio/error_texts.py and
its typed arguments (a flow's type code, its date, its amount in fen, its reference; a company's
name and code), kept as JSON by `Check.as_dict` and rendered in the reader's language when shown.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from codelists import SECTORS, VALUATION_METHODS
from portfolio.messages import Message, as_json
from portfolio.record_rules import credit_code_ok, region_code_ok

BLOCKING, WARNING, PASSED = "blocking", "warning", "passed"
# what a check's figure, expected figure and difference count: an amount in fen, or items
FEN, COUNT = "fen", "count"

# The capital account's lines, in the order of the ILPA statement.
ACCOUNT_FIELDS = ("opening_nav", "contributions", "distributions", "management_fees", "other_income_expenses",
                  "realised_gain", "unrealised_gain", "closing_nav", "commitment", "opening_unfunded",
                  "recallable_distributions", "closing_unfunded")
# the lines that can be negative: other income net of expenses, and gains (a loss)
SIGNED_FIELDS = frozenset({"other_income_expenses", "realised_gain", "unrealised_gain"})
HOLDING_METHODS = tuple(m for m in VALUATION_METHODS if m != "gp_nav")

# GB/T 2260: the provinces' two-digit prefixes (a region code outside them is unknown)
PROVINCES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
                       "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
                       "65", "71", "81", "82"})

# Plausibility bounds on a quarter's NAV move (the issue's: beyond +500 % or −90 %)
NAV_RISE_LIMIT = Decimal(5)
NAV_FALL_LIMIT = Decimal("-0.9")
UNCHANGED_QUARTERS = 4

# Every check, in the order shown; the planted-error generator and the benchmark count on these keys.
CHECKS = ("amounts_sign", "rollforward_nav", "rollforward_unfunded", "recallable_vs_distributions",
          "unfunded_within_commitment", "opening_nav", "opening_unfunded", "commitment", "quarter_order",
          "notices_vs_account", "ledger_contributions", "ledger_distributions", "notices_matched",
          "unfunded_vs_ledger", "holdings_vs_nav", "holdings_vs_schedule", "dates_in_quarter", "credit_codes",
          "duplicate_in_schedule", "duplicate_by_name", "company_name", "sectors", "regions", "methods", "nav_move",
          "mark_unchanged", "method_to_cost", "left_without_exit")


@dataclass(frozen=True)
class Holding:
    name: str
    credit_code: str
    sector: str
    region_code: str
    cost: int            # fen
    fair_value: int      # fen
    method: str = "last_round"


@dataclass(frozen=True)
class Notice:
    """A call (contribution) or distribution notice of the quarter."""
    date: dt.date
    type: str            # contribution | distribution
    amount: int          # fen
    ref: str | None = None


@dataclass(frozen=True)
class Package:
    quarter_end: dt.date
    account: dict[str, int]                      # ACCOUNT_FIELDS → fen
    holdings: tuple[Holding, ...] = ()
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class PastMark:
    quarter_end: dt.date
    fair_value: int
    method: str | None = None


@dataclass(frozen=True)
class Scheduled:
    """A row of the sub-fund's holdings schedule already in the book for the quarter end."""
    name: str
    credit_code: str
    cost: int            # fen
    fair_value: int      # fen
    # booked by another interest's accepted package for the quarter (the GP reported it: this
    # package must be the same); False: it came in by an import (this package replaces it)
    by_package: bool = True


@dataclass(frozen=True)
class Context:
    """What the fund's book says, as plain data (built by portfolio/gp/packages.context_for)."""
    commitment: int                               # the fund's commitment to the sub-fund, fen
    fund_share: Decimal                           # the fund's share of the sub-fund (0–1)
    prior_nav: int | None = None                  # last accepted closing NAV (or the book's last value)
    prior_unfunded: int | None = None             # last accepted closing unfunded (or per the ledger)
    ledger: tuple[Notice, ...] = ()               # the fund's own booked flows in the quarter
    paid_in: int = 0                              # contributions per the ledger up to the quarter end
    prior_recallable: int = 0                     # recallable distributions in accepted packages before
    companies: dict[str, str] = field(default_factory=dict)  # credit code → name, in the book
    history: dict[str, tuple[PastMark, ...]] = field(default_factory=dict)  # credit code → earlier marks
    previous_schedule: frozenset[str] = frozenset()  # credit codes in the last accepted schedule
    tolerance: Decimal = Decimal("0.10")          # holdings × share vs NAV
    # the latest quarter end of this interest's packages accepted after this quarter (None: none)
    later_accepted: dt.date | None = None
    # the sub-fund's schedule at this quarter end as the book holds it: booked by another interest's
    # accepted package, or by an import (Scheduled.by_package); a schedule is the sub-fund's, one
    # per quarter end; None: the book holds none
    accepted_schedule: tuple[Scheduled, ...] | None = None


@dataclass
class Check:
    key: str
    status: str
    figure: int | None = None       # fen
    expected: int | None = None     # fen
    difference: int | None = None   # fen
    items: list[Message] = field(default_factory=list)
    unit: str = FEN                 # what figure, expected and difference count: FEN or COUNT

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "status": self.status, "figure": self.figure, "expected": self.expected,
                "difference": self.difference, "unit": self.unit, "items": [as_json(i) for i in self.items]}


def quarter_start(quarter_end: dt.date) -> dt.date:
    """The first day of the quarter that ends on `quarter_end`."""
    return dt.date(quarter_end.year, quarter_end.month - 2, 1)


def is_quarter_end(day: dt.date) -> bool:
    return (day.month, day.day) in ((3, 31), (6, 30), (9, 30), (12, 31))


def previous_quarter_end(quarter_end: dt.date) -> dt.date:
    return quarter_start(quarter_end) - dt.timedelta(days=1)


def quarter_label(quarter_end: dt.date) -> str:
    return f"{quarter_end.year}Q{(quarter_end.month - 1) // 3 + 1}"


def _compare(key: str, figure: int, expected: int, status_if_off: str = BLOCKING) -> Check:
    difference = figure - expected
    return Check(key, PASSED if difference == 0 else status_if_off, figure, expected, difference)


def _at_most(key: str, figure: int, limit: int) -> Check:
    """`figure` may not exceed `limit`: blocking when it does, its excess the difference."""
    excess = figure - limit
    return Check(key, BLOCKING if excess > 0 else PASSED, figure, limit, max(excess, 0))


def _listing(key: str, items: list[Message], status_if_any: str) -> Check:
    return Check(key, status_if_any if items else PASSED, figure=len(items), items=items, unit=COUNT)


def _flow(key: str, notice: Notice) -> Message:
    """A call or distribution in a check's items: its type, date, amount (元) and reference."""
    return Message(key, flow_term=("type", notice.type), day=notice.date, amount_fen_yuan=notice.amount,
                   notice_ref=notice.ref or "")


def _company(name: str, credit_code: str) -> Message:
    return Message("gp_item_company", name=name, credit_code=credit_code)


def same_name(one: str, other: str) -> bool:
    """Two company names the same but for spaces and full-width brackets (_name)."""
    return _name(one) == _name(other)


def _name(text: str) -> str:
    """A company name compared without spaces and the usual suffix variants."""
    return "".join(text.split()).replace("（", "(").replace("）", ")")


def tie_out(package: Package, context: Context) -> list[Check]:
    """Every check of `CHECKS` on one package, in that order."""
    a = {name: int(package.account.get(name, 0)) for name in ACCOUNT_FIELDS}
    checks: list[Check] = []

    negative = [Message("gp_item_line", line_term=("gp_account", name)) for name in ACCOUNT_FIELDS
                if name not in SIGNED_FIELDS and a[name] < 0]
    negative += [_company(h.name, h.credit_code) for h in package.holdings if h.cost < 0 or h.fair_value < 0]
    negative += [_flow("gp_item_flow", n) for n in package.notices if n.amount <= 0]
    checks.append(_listing("amounts_sign", negative, BLOCKING))

    rolled = (a["opening_nav"] + a["contributions"] - a["distributions"] - a["management_fees"]
              + a["other_income_expenses"] + a["realised_gain"] + a["unrealised_gain"])
    checks.append(_compare("rollforward_nav", a["closing_nav"], rolled))
    unfunded = a["opening_unfunded"] - a["contributions"] + a["recallable_distributions"]
    checks.append(_compare("rollforward_unfunded", a["closing_unfunded"], unfunded))
    # recallable: a part of the quarter's distributions (ILPA), so never more than they are
    checks.append(_at_most("recallable_vs_distributions", a["recallable_distributions"], a["distributions"]))
    checks.append(_at_most("unfunded_within_commitment", a["closing_unfunded"], a["commitment"]))

    if context.prior_nav is None:
        checks.append(Check("opening_nav", PASSED, a["opening_nav"]))
    else:
        checks.append(_compare("opening_nav", a["opening_nav"], context.prior_nav))
    if context.prior_unfunded is None:
        checks.append(Check("opening_unfunded", PASSED, a["opening_unfunded"]))
    else:
        checks.append(_compare("opening_unfunded", a["opening_unfunded"], context.prior_unfunded))
    checks.append(_compare("commitment", a["commitment"], context.commitment))
    later = [Message("gp_item_later_accepted", quarter=quarter_label(context.later_accepted))] \
        if context.later_accepted is not None else []
    checks.append(_listing("quarter_order", later, BLOCKING))

    calls = sum(n.amount for n in package.notices if n.type == "contribution")
    paid = sum(n.amount for n in package.notices if n.type == "distribution")
    notices_off = _compare("notices_vs_account", calls + paid, a["contributions"] + a["distributions"])
    if calls != a["contributions"] or paid != a["distributions"]:
        notices_off.status = BLOCKING
        notices_off.items = [Message("gp_item_notices_total", flow_term=("type", kind), figure_fen_yuan=total,
                                     expected_fen_yuan=a[line])
                             for kind, total, line in (("contribution", calls, "contributions"),
                                                       ("distribution", paid, "distributions")) if total != a[line]]
    checks.append(notices_off)

    booked_calls = sum(n.amount for n in context.ledger if n.type == "contribution")
    booked_paid = sum(n.amount for n in context.ledger if n.type == "distribution")
    checks.append(_compare("ledger_contributions", a["contributions"], booked_calls))
    checks.append(_compare("ledger_distributions", a["distributions"], booked_paid))
    checks.append(_match_notices(package.notices, context.ledger))

    expected_unfunded = context.commitment - context.paid_in + context.prior_recallable \
        + a["recallable_distributions"]
    checks.append(_compare("unfunded_vs_ledger", a["closing_unfunded"], max(expected_unfunded, 0)))

    checks.append(_holdings_vs_nav(package, a["closing_nav"], context))
    checks.append(_holdings_vs_schedule(package, context.accepted_schedule))

    start, end = quarter_start(package.quarter_end), package.quarter_end
    outside = [_flow("gp_item_flow", n) for n in package.notices if not start <= n.date <= end]
    checks.append(_listing("dates_in_quarter", outside, BLOCKING))

    checks.extend(_company_checks(package, context))
    checks.extend(_plausibility(package, a, context))
    return checks


def _match_notices(notices: tuple[Notice, ...], ledger: tuple[Notice, ...]) -> Check:
    """Each notice matched to one booked flow: by reference first, else by type, date and amount.
    The items list the notices the ledger lacks and the booked flows the package lacks."""
    unmatched_ledger = list(ledger)
    missing: list[Message] = []
    for notice in notices:
        found = None
        if notice.ref:
            found = next((f for f in unmatched_ledger if f.ref == notice.ref and f.type == notice.type
                          and f.amount == notice.amount), None)
        if found is None:
            found = next((f for f in unmatched_ledger if f.type == notice.type and f.date == notice.date
                          and f.amount == notice.amount), None)
        if found is None:
            missing.append(_flow("gp_item_not_booked", notice))
        else:
            unmatched_ledger.remove(found)
    missing += [_flow("gp_item_not_reported", f) for f in unmatched_ledger]
    return _listing("notices_matched", missing, BLOCKING)


def _holdings_vs_nav(package: Package, closing_nav: int, context: Context) -> Check:
    """The fund's share of the holdings' fair value against its closing NAV, within the tolerance
    (a sub-fund's NAV also holds cash and fees, hence a tolerance, not equality)."""
    total = sum(h.fair_value for h in package.holdings)
    share = int((Decimal(total) * context.fund_share).to_integral_value())
    difference = share - closing_nav
    if not package.holdings and closing_nav == 0:
        return Check("holdings_vs_nav", PASSED, 0, 0, 0)
    off = abs(Decimal(difference)) > context.tolerance * max(Decimal(closing_nav), Decimal(1))
    return Check("holdings_vs_nav", WARNING if off else PASSED, share, closing_nav, difference)


# the items naming a difference from the book's schedule, by what booked it: another interest's
# accepted package (blocking), an import (a warning: acceptance replaces it)
SCHEDULE_ITEMS = {True: ("gp_item_schedule_extra", "gp_item_schedule_missing", "gp_item_schedule_differs"),
                  False: ("gp_item_booked_extra", "gp_item_booked_missing", "gp_item_booked_differs")}


def _holdings_vs_schedule(package: Package, schedule: tuple[Scheduled, ...] | None) -> Check:
    """Where the book holds the sub-fund's schedule at the quarter end, this package's holdings
    are weighed against it (one sub-fund, one schedule per date), company by company, cost and
    fair value. Booked by another interest's accepted package, the GP reported it already: this
    package must be the same (blocking). Booked by an import, the GP's report is the source it was
    copied from, and acceptance replaces it (as the package's NAV replaces the date's valuation):
    each difference is a warning, seen before acceptance. The figures are the holdings' total fair
    value, this package's against the book's."""
    total = sum(h.fair_value for h in package.holdings)
    if schedule is None:
        return Check("holdings_vs_schedule", PASSED, total)
    by_package = all(row.by_package for row in schedule)
    extra, missing, differs = SCHEDULE_ITEMS[by_package]
    booked = {row.credit_code: row for row in schedule}
    reported: dict[str, tuple[str, int, int]] = {}
    for h in package.holdings:
        name, cost, value = reported.get(h.credit_code, (h.name, 0, 0))
        reported[h.credit_code] = (name, cost + h.cost, value + h.fair_value)
    items: list[Message] = []
    for code, (name, cost, value) in reported.items():
        row = booked.get(code)
        if row is None:
            items.append(Message(extra, name=name, credit_code=code))
        elif (cost, value) != (row.cost, row.fair_value):
            items.append(Message(differs, name=name, credit_code=code, cost_fen_yuan=cost,
                                 value_fen_yuan=value, booked_cost_fen_yuan=row.cost,
                                 booked_value_fen_yuan=row.fair_value))
    items += [Message(missing, name=row.name, credit_code=row.credit_code)
              for row in schedule if row.credit_code not in reported]
    expected = sum(row.fair_value for row in schedule)
    status = PASSED if not items else BLOCKING if by_package else WARNING
    return Check("holdings_vs_schedule", status, total, expected, total - expected, items)


def _company_checks(package: Package, context: Context) -> list[Check]:
    holdings = package.holdings
    bad_codes = [_company(h.name, h.credit_code) for h in holdings if not credit_code_ok(h.credit_code)]
    counts = Counter(h.credit_code for h in holdings)
    doubled = [Message("gp_item_twice", credit_code=code, n=n) for code, n in counts.items() if n > 1]
    book_by_name = {_name(name): code for code, name in context.companies.items()}
    by_name = [Message("gp_item_other_code", name=h.name, credit_code=h.credit_code,
                       book_code=book_by_name[_name(h.name)]) for h in holdings
               if h.credit_code not in context.companies and _name(h.name) in book_by_name]
    # one name under two codes inside the schedule itself is the same duplication
    names = Counter(_name(h.name) for h in holdings)
    by_name += [_company(h.name, h.credit_code) for h in holdings
                if names[_name(h.name)] > 1 and counts[h.credit_code] == 1]
    renamed = [Message("gp_item_renamed", credit_code=h.credit_code, name=h.name,
                       book_name=context.companies[h.credit_code]) for h in holdings
               if h.credit_code in context.companies and _name(h.name) != _name(context.companies[h.credit_code])]
    sectors = [_typed(h, h.sector) for h in holdings if h.sector not in SECTORS]
    regions = [_typed(h, h.region_code) for h in holdings
               if not region_code_ok(h.region_code) or h.region_code[:2] not in PROVINCES]
    methods = [_typed(h, h.method) for h in holdings if h.method not in HOLDING_METHODS]
    return [_listing("credit_codes", bad_codes, BLOCKING), _listing("duplicate_in_schedule", doubled, BLOCKING),
            _listing("duplicate_by_name", by_name, BLOCKING), _listing("company_name", renamed, WARNING),
            _listing("sectors", sectors, BLOCKING), _listing("regions", regions, BLOCKING),
            _listing("methods", methods, BLOCKING)]


def _typed(holding: Holding, typed: str) -> Message:
    """A holding and what the GP typed in a cell the check refuses (shown as typed: not a code of ours)."""
    return Message("gp_item_typed", name=holding.name, text=typed)


def _plausibility(package: Package, a: dict[str, int], context: Context) -> list[Check]:
    opening, closing = a["opening_nav"], a["closing_nav"]
    if opening > 0:
        move = (Decimal(closing) - Decimal(opening)) / Decimal(opening)
        wild = move > NAV_RISE_LIMIT or move < NAV_FALL_LIMIT
        nav_move = Check("nav_move", WARNING if wild else PASSED, closing, opening, closing - opening)
    else:
        nav_move = Check("nav_move", PASSED, closing, opening, closing - opening)
    unchanged, to_cost = [], []
    for h in package.holdings:
        past = sorted(context.history.get(h.credit_code, ()), key=lambda m: m.quarter_end)
        recent = past[-(UNCHANGED_QUARTERS - 1):]
        if (h.method not in ("exited", "write_off", "cost") and len(recent) == UNCHANGED_QUARTERS - 1
                and all(m.fair_value == h.fair_value for m in recent)):
            unchanged.append(Message("gp_item_mark", name=h.name, amount_fen_yuan=h.fair_value))
        if h.method == "cost" and past and past[-1].method not in (None, "cost"):
            to_cost.append(Message("gp_item_method_change", name=h.name, from_term=("method", past[-1].method),
                                   to_term=("method", "cost")))
    present = {h.credit_code for h in package.holdings}
    left = sorted(context.previous_schedule - present)
    left_names = [_company(context.companies.get(code, ""), code) for code in left]
    return [nav_move, _listing("mark_unchanged", unchanged, WARNING), _listing("method_to_cost", to_cost, WARNING),
            _listing("left_without_exit", left_names, WARNING)]


def summary(checks: list[Check]) -> dict[str, int]:
    counts = Counter(c.status for c in checks)
    return {BLOCKING: counts[BLOCKING], WARNING: counts[WARNING], PASSED: counts[PASSED]}
