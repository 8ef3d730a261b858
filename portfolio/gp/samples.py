"""Quarterly packages for testing the tie-out: a clean package built from what the book says
(the Context), and the same package with one planted error of a known class.

Pure (plain data in and out), seeded, so that a benchmark run is repeatable. Each error class
names the checks (portfolio/figures/tieout.CHECKS) of which at least one must flag it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from codelists import SECTORS
from portfolio.figures.tieout import Context, Holding, Notice, Package, PastMark, quarter_start
from portfolio.vocabulary import credit_code_check_char

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(rng: random.Random) -> str:
    """A valid 统一社会信用代码 (GB 32100-2015): 91 (an enterprise), a Zhejiang region code, an
    organisation code, and the check character."""
    first17 = "91" + "330200" + "".join(rng.choice(_ALPHABET[:10]) for _ in range(9))
    return first17 + credit_code_check_char(first17)


def clean_package(context: Context, quarter_end: dt.date, rng: random.Random,
                  names: dict[str, str] | None = None) -> Package:
    """A package that every check passes: the ledger's flows as its notices, the previous
    schedule re-marked (every mark moved), one new company, the NAV the fund's share of the
    holdings, and the unrealised gain what makes the roll-forward add up. Where the book holds
    the sub-fund's schedule at the quarter end already (an import's, another interest's
    accepted package's), the package reports that schedule, as the GP would."""
    names = names or {}
    calls = sum(n.amount for n in context.ledger if n.type == "contribution")
    paid = sum(n.amount for n in context.ledger if n.type == "distribution")
    opening = context.prior_nav or 0
    if context.accepted_schedule:
        return _reporting_the_schedule(context, quarter_end, rng, calls, paid, opening)
    holdings: list[Holding] = []
    for i, code in enumerate(sorted(context.previous_schedule)):
        past = sorted(context.history.get(code, ()), key=lambda m: m.quarter_end)
        last = past[-1].fair_value if past else 10_000_000_00
        holdings.append(Holding(name=context.companies.get(code) or names.get(code) or f"样本企业{i}",
                                credit_code=code, sector=SECTORS[i % 5], region_code="330212",
                                cost=max(last // 2, 100), fair_value=max(last, 100), method=_method(past)))
    holdings.append(Holding(name=f"新增样本企业{rng.randrange(10**6)}", credit_code=_new_code(context, rng),
                            sector=rng.choice(SECTORS[:5]), region_code="330206", cost=5_000_000_00,
                            fair_value=5_000_000_00, method="last_round"))
    target_nav = max(opening + calls - paid, 0)
    target_nav = int(Decimal(target_nav) * Decimal(rng.randrange(95, 116)) / 100) or 1_000_000_00
    if opening > 0:  # keep the move plausible whatever the flows
        target_nav = min(max(target_nav, opening // 5), opening * 5)
    # re-mark: each holding moved by 1–15 %, then all scaled so that the fund's share is the NAV
    moved = [h.fair_value * (100 + rng.choice([-1, 1]) * rng.randrange(1, 16)) // 100 for h in holdings]
    total_wanted = int(Decimal(target_nav) / context.fund_share)
    scale = Decimal(total_wanted) / Decimal(max(sum(moved), 1))
    new_values = [max(int(Decimal(v) * scale), 1) for v in moved]
    new_values = [v + 1 if past_same(context, h.credit_code, v) else v for h, v in zip(holdings, new_values)]
    holdings = [dataclasses.replace(h, fair_value=v) for h, v in zip(holdings, new_values)]
    return _package(context, quarter_end, rng, holdings, calls, paid, opening)


def _reporting_the_schedule(context: Context, quarter_end: dt.date, rng: random.Random, calls: int, paid: int,
                            opening: int) -> Package:
    """The clean package of a quarter whose schedule the book holds: that schedule, company by
    company, cost and fair value as booked, its method the company's last one."""
    holdings = [Holding(name=row.name, credit_code=row.credit_code, sector=SECTORS[i % 5], region_code="330212",
                        cost=row.cost, fair_value=row.fair_value,
                        method=_method(sorted(context.history.get(row.credit_code, ()), key=lambda m: m.quarter_end)))
                for i, row in enumerate(context.accepted_schedule or ())]
    return _package(context, quarter_end, rng, holdings, calls, paid, opening)


def _method(past: list[PastMark]) -> str:
    """A holding's method: its last mark's, where that was neither unknown nor cost (a change to
    cost is a check's), else last_round."""
    return past[-1].method if past and past[-1].method not in (None, "cost") else "last_round"


def _package(context: Context, quarter_end: dt.date, rng: random.Random, holdings: list[Holding], calls: int,
             paid: int, opening: int) -> Package:
    """The package of these holdings: the NAV the fund's share of them, the roll-forward made to
    add up by the unrealised gain, the ledger's flows as its notices."""
    closing = int((Decimal(sum(h.fair_value for h in holdings)) * context.fund_share).to_integral_value())
    fees = rng.randrange(0, max(closing // 200, 1))
    other = rng.randrange(-max(closing // 1000, 1), max(closing // 1000, 1))
    realised = rng.randrange(0, max(paid, 1)) if paid else 0
    unrealised = closing - (opening + calls - paid - fees + other + realised)
    opening_unfunded = context.prior_unfunded if context.prior_unfunded is not None \
        else context.commitment - (context.paid_in - calls)
    closing_unfunded = opening_unfunded - calls
    notices = tuple(context.ledger)
    account = {"opening_nav": opening, "contributions": calls, "distributions": paid, "management_fees": fees,
               "other_income_expenses": other, "realised_gain": realised, "unrealised_gain": unrealised,
               "closing_nav": closing, "commitment": context.commitment, "opening_unfunded": opening_unfunded,
               "recallable_distributions": 0, "closing_unfunded": closing_unfunded}
    return Package(quarter_end=quarter_end, account=account, holdings=tuple(holdings), notices=notices)


def past_same(context: Context, code: str, value: int) -> bool:
    past = context.history.get(code, ())
    return any(m.fair_value == value for m in past)


def _new_code(context: Context, rng: random.Random) -> str:
    while True:
        code = credit_code(rng)
        if code not in context.companies:
            return code


def _account(package: Package, **changes: int) -> Package:
    return dataclasses.replace(package, account={**package.account, **changes})


def _shift(package: Package, fen: int, *, keep_roll: bool = True) -> Package:
    """Closing NAV moved by `fen`, the unrealised gain with it when the roll-forward is to hold."""
    a = package.account
    changes = {"closing_nav": a["closing_nav"] + fen}
    if keep_roll:
        changes["unrealised_gain"] = a["unrealised_gain"] + fen
    return _account(package, **changes)


def _recallable_beyond_distributions(package: Package) -> Package:
    """More recallable than the quarter's distributions, the unfunded roll-forward kept adding up."""
    a = package.account
    recallable = a["distributions"] + 90_000_000_00
    return _account(package, recallable_distributions=recallable, closing_unfunded=a["closing_unfunded"] + recallable)


def _first_holding(package: Package, **changes) -> Package:
    holdings = list(package.holdings)
    holdings[0] = dataclasses.replace(holdings[0], **changes)
    return dataclasses.replace(package, holdings=tuple(holdings))


def _plant_call_not_booked(p: Package, c: Context, rng: random.Random) -> Package:
    day = quarter_start(p.quarter_end) + dt.timedelta(days=20)
    extra = Notice(day, "contribution", 3_000_000_00, f"CALL-X{rng.randrange(1000)}")
    a = p.account
    return dataclasses.replace(_account(p, contributions=a["contributions"] + extra.amount,
                                        opening_nav=a["opening_nav"],
                                        unrealised_gain=a["unrealised_gain"] - extra.amount,
                                        closing_unfunded=a["closing_unfunded"] - extra.amount),
                               notices=p.notices + (extra,))


def _plant_distribution_not_booked(p: Package, c: Context, rng: random.Random) -> Package:
    day = quarter_start(p.quarter_end) + dt.timedelta(days=30)
    extra = Notice(day, "distribution", 1_000_000_00, f"DIST-X{rng.randrange(1000)}")
    a = p.account
    return dataclasses.replace(_account(p, distributions=a["distributions"] + extra.amount,
                                        unrealised_gain=a["unrealised_gain"] + extra.amount),
                               notices=p.notices + (extra,))


def _plant_booked_call_left_out(p: Package, c: Context, rng: random.Random) -> Package:
    calls = [n for n in p.notices if n.type == "contribution"]
    if not calls:  # nothing booked to leave out: a booked-looking call with the wrong amount instead
        return _plant_call_not_booked(p, c, rng)
    gone = calls[0]
    a = p.account
    return dataclasses.replace(_account(p, contributions=a["contributions"] - gone.amount,
                                        unrealised_gain=a["unrealised_gain"] + gone.amount,
                                        closing_unfunded=a["closing_unfunded"] + gone.amount),
                               notices=tuple(n for n in p.notices if n is not gone))


def _plant_notice_amount_off(p: Package, c: Context, rng: random.Random) -> Package:
    if not p.notices:
        return _plant_call_not_booked(p, c, rng)
    first = p.notices[0]
    moved = dataclasses.replace(first, amount=first.amount + 100)
    return dataclasses.replace(p, notices=(moved,) + p.notices[1:])


def _plant_date_outside(p: Package, c: Context, rng: random.Random) -> Package:
    if not p.notices:
        day = p.quarter_end + dt.timedelta(days=5)
        extra = Notice(day, "contribution", 1_000_000_00, "LATE-1")
        a = p.account
        return dataclasses.replace(_account(p, contributions=a["contributions"] + extra.amount,
                                            unrealised_gain=a["unrealised_gain"] - extra.amount,
                                            closing_unfunded=a["closing_unfunded"] - extra.amount),
                                   notices=(extra,))
    first = p.notices[0]
    return dataclasses.replace(p, notices=(dataclasses.replace(first, date=p.quarter_end + dt.timedelta(days=3)),)
                               + p.notices[1:])


def _plant_duplicate_by_name(p: Package, c: Context, rng: random.Random) -> Package:
    existing = sorted(c.companies.items())
    if existing:
        code, name = rng.choice(existing)
    else:
        name = p.holdings[0].name
    twin = Holding(name=name, credit_code=_new_code(c, rng), sector="digital", region_code="330203",
                   cost=100_00, fair_value=100_00, method="cost")
    return dataclasses.replace(p, holdings=p.holdings + (twin,))


def _plant_bad_check_char(p: Package, c: Context, rng: random.Random) -> Package:
    code = p.holdings[-1].credit_code
    wrong = next(ch for ch in _ALPHABET if ch != code[-1])
    holdings = list(p.holdings)
    holdings[-1] = dataclasses.replace(holdings[-1], credit_code=code[:17] + wrong)
    return dataclasses.replace(p, holdings=tuple(holdings))


def _plant_short_code(p: Package, c: Context, rng: random.Random) -> Package:
    holdings = list(p.holdings)
    holdings[-1] = dataclasses.replace(holdings[-1], credit_code=holdings[-1].credit_code[:15])
    return dataclasses.replace(p, holdings=tuple(holdings))


def _plant_same_company_twice(p: Package, c: Context, rng: random.Random) -> Package:
    return dataclasses.replace(p, holdings=p.holdings + (dataclasses.replace(p.holdings[0], cost=1, fair_value=1),))


def _plant_renamed(p: Package, c: Context, rng: random.Random) -> Package:
    known = [i for i, h in enumerate(p.holdings) if h.credit_code in c.companies]
    if not known:
        return _plant_same_company_twice(p, c, rng)
    holdings = list(p.holdings)
    holdings[known[0]] = dataclasses.replace(holdings[known[0]], name=holdings[known[0]].name + "（更名）")
    return dataclasses.replace(p, holdings=tuple(holdings))


def _plant_left_without_exit(p: Package, c: Context, rng: random.Random) -> Package:
    kept = [h for h in p.holdings if h.credit_code not in c.previous_schedule]
    dropped = [h for h in p.holdings if h.credit_code in c.previous_schedule]
    if not dropped:
        return _plant_duplicate_by_name(p, c, rng)
    return dataclasses.replace(p, holdings=tuple(dropped[1:] + kept))


def _plant_unchanged(p: Package, c: Context, rng: random.Random) -> Package:
    """A holding whose mark is the same as in each of the last three quarters (history planted
    into the context by the caller through `unchanged_history`)."""
    return p


def _plant_method_to_cost(p: Package, c: Context, rng: random.Random) -> Package:
    return p


Plant = Callable[[Package, Context, random.Random], Package]


def _plant(fn: Callable[[Package], Package]) -> Plant:
    return lambda p, c, rng: fn(p)


# class → (what is planted, the checks that must flag it)
ERROR_CLASSES: dict[str, tuple[Plant, frozenset[str]]] = {
    "rollforward_off_2_fen": (_plant(lambda p: _shift(p, 2, keep_roll=False)), frozenset({"rollforward_nav"})),
    "rollforward_off_1_yuan": (_plant(lambda p: _account(p, management_fees=p.account["management_fees"] + 100)),
                               frozenset({"rollforward_nav"})),
    "unfunded_roll_off": (_plant(lambda p: _account(p, closing_unfunded=p.account["closing_unfunded"] + 1)),
                          frozenset({"rollforward_unfunded", "unfunded_vs_ledger"})),
    "opening_nav_not_last_closing": (_plant(lambda p: _account(
        p, opening_nav=p.account["opening_nav"] + 50_000_00, unrealised_gain=p.account["unrealised_gain"] - 50_000_00)),
        frozenset({"opening_nav"})),
    "opening_unfunded_not_last": (_plant(lambda p: _account(
        p, opening_unfunded=p.account["opening_unfunded"] + 10_000_00,
        recallable_distributions=0, closing_unfunded=p.account["closing_unfunded"] + 10_000_00)),
        frozenset({"opening_unfunded", "unfunded_vs_ledger"})),
    "commitment_differs": (_plant(lambda p: _account(p, commitment=p.account["commitment"] + 1_000_000_00)),
                           frozenset({"commitment"})),
    "recallable_beyond_distributions": (_plant(_recallable_beyond_distributions),
                                        frozenset({"recallable_vs_distributions", "unfunded_within_commitment"})),
    "call_not_in_ledger": (_plant_call_not_booked, frozenset({"ledger_contributions", "notices_matched"})),
    "distribution_not_in_ledger": (_plant_distribution_not_booked,
                                   frozenset({"ledger_distributions", "notices_matched"})),
    "booked_call_left_out": (_plant_booked_call_left_out, frozenset({"ledger_contributions", "notices_matched"})),
    "notice_amount_off": (_plant_notice_amount_off, frozenset({"notices_vs_account", "notices_matched"})),
    "notices_disagree_with_account": (_plant(lambda p: _account(
        p, contributions=p.account["contributions"] + 1, unrealised_gain=p.account["unrealised_gain"] - 1,
        closing_unfunded=p.account["closing_unfunded"] - 1)),
        frozenset({"notices_vs_account", "ledger_contributions"})),
    "holdings_disagree_with_nav": (_plant(lambda p: _first_holding(p, fair_value=p.holdings[0].fair_value * 4
                                                                   + 10**12)), frozenset({"holdings_vs_nav"})),
    "date_outside_quarter": (_plant_date_outside, frozenset({"dates_in_quarter"})),
    "credit_code_check_char": (_plant_bad_check_char, frozenset({"credit_codes"})),
    "credit_code_too_short": (_plant_short_code, frozenset({"credit_codes"})),
    "duplicate_company_other_name": (_plant_duplicate_by_name, frozenset({"duplicate_by_name"})),
    "same_company_twice": (_plant_same_company_twice, frozenset({"duplicate_in_schedule"})),
    "company_renamed": (_plant_renamed, frozenset({"company_name", "duplicate_in_schedule"})),
    "unknown_sector": (_plant(lambda p: _first_holding(p, sector="biotech")), frozenset({"sectors"})),
    "unknown_region": (_plant(lambda p: _first_holding(p, region_code="990101")), frozenset({"regions"})),
    "unknown_method": (_plant(lambda p: _first_holding(p, method="gut_feeling")), frozenset({"methods"})),
    "negative_fee": (_plant(lambda p: _account(p, management_fees=-abs(p.account["management_fees"]) - 100,
                                               unrealised_gain=p.account["unrealised_gain"]
                                               - abs(p.account["management_fees"]) * 2 - 100)),
                     frozenset({"amounts_sign"})),
    "nav_rise_600pc": (_plant(lambda p: _shift(p, max(p.account["opening_nav"], 1) * 7)),
                       frozenset({"nav_move"})),
    "nav_fall_95pc": (_plant(lambda p: _shift(p, -(p.account["closing_nav"] - max(p.account["opening_nav"], 20) // 20))),
                      frozenset({"nav_move"})),
    "left_without_exit": (_plant_left_without_exit, frozenset({"left_without_exit", "duplicate_by_name"})),
    "mark_unchanged_4_quarters": (_plant_unchanged, frozenset({"mark_unchanged"})),
    "method_changed_to_cost": (_plant_method_to_cost, frozenset({"method_to_cost"})),
}


def planted(clean: Package, context: Context, error_class: str, rng: random.Random) -> tuple[Package, Context]:
    """The clean package with one error of `error_class` planted (and, for the two classes that
    need an earlier history, the context that has it)."""
    plant, _expected = ERROR_CLASSES[error_class]
    if error_class == "mark_unchanged_4_quarters":
        h = clean.holdings[0]
        marks = tuple(PastMark(dt.date(2000 + i, 12, 31), h.fair_value, h.method) for i in range(3))
        context = dataclasses.replace(context, history={**context.history, h.credit_code: marks})
    elif error_class == "method_changed_to_cost":
        h = clean.holdings[0]
        marks = (PastMark(dt.date(2000, 12, 31), h.fair_value + 1, "last_round"),)
        context = dataclasses.replace(context, history={**context.history, h.credit_code: marks})
        clean = _first_holding(clean, method="cost")
    # a nav_move needs an opening to move from
    if error_class.startswith("nav_") and not clean.account["opening_nav"]:
        context = dataclasses.replace(context, prior_nav=10_000_000_00)
        clean = _account(clean, opening_nav=10_000_000_00,
                         unrealised_gain=clean.account["unrealised_gain"] - 10_000_000_00)
    return plant(clean, context, rng), context
