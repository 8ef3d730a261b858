"""The tie-out of a GP's quarterly package (portfolio/figures/tieout.py), on plain data.

Reference values:
- the roll-forward is the ILPA capital-account statement's (ILPA Reporting Template, Capital
  Account Statement): beginning NAV + contributions − distributions − management fees ± other
  + realised + unrealised = ending NAV; unfunded: beginning − contributions + recallable = ending.
  The worked quarter below: 310,000,000.00 + 100,000,000.00 − 0 − 5,000,000.00 − 1,000,000.00
  + 0 + 16,000,000.00 = 420,000,000.00.
- 91350100M000100Y43 is the example code printed in GB 32100-2015 (法人和其他组织统一社会信用代码
  编码规则), valid by its check character; changing that character makes it invalid.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from portfolio.figures.tieout import (
    BLOCKING,
    CHECKS,
    PASSED,
    WARNING,
    Context,
    Holding,
    Notice,
    Package,
    PastMark,
    quarter_start,
    tie_out,
)
from portfolio.gp.samples import ERROR_CLASSES, clean_package, credit_code, planted

M = 100_000_000  # one million yuan, in fen
Q4 = dt.date(2025, 12, 31)
GB_EXAMPLE = "91350100M000100Y43"


def _context(**changes) -> Context:
    values = dict(commitment=500 * M, fund_share=Decimal("0.25"), prior_nav=310 * M, prior_unfunded=200 * M,
                  ledger=(Notice(dt.date(2025, 11, 15), "contribution", 100 * M, "CALL-3"),), paid_in=400 * M,
                  companies={GB_EXAMPLE: "示例企业有限公司"},
                  history={GB_EXAMPLE: (PastMark(dt.date(2025, 9, 30), 800 * M, "last_round"),)},
                  previous_schedule=frozenset({GB_EXAMPLE}))
    values.update(changes)
    return Context(**values)


def _package(**account) -> Package:
    a = {"opening_nav": 310 * M, "contributions": 100 * M, "distributions": 0, "management_fees": 5 * M,
         "other_income_expenses": -1 * M, "realised_gain": 0, "unrealised_gain": 16 * M, "closing_nav": 420 * M,
         "commitment": 500 * M, "opening_unfunded": 200 * M, "recallable_distributions": 0,
         "closing_unfunded": 100 * M}
    a.update(account)
    return Package(Q4, a, holdings=(Holding("示例企业有限公司", GB_EXAMPLE, "digital", "350100", 600 * M, 1680 * M),),
                   notices=(Notice(dt.date(2025, 11, 15), "contribution", 100 * M, "CALL-3"),))


def _by_key(checks) -> dict:
    return {c.key: c for c in checks}


def test_the_worked_quarter_passes_every_check_in_order():
    checks = tie_out(_package(), _context())
    assert [c.key for c in checks] == list(CHECKS)
    assert {c.key: c.status for c in checks if c.status != PASSED} == {}


def test_a_roll_forward_off_by_two_fen_is_blocking_with_its_difference():
    check = _by_key(tie_out(_package(closing_nav=420 * M + 2), _context()))["rollforward_nav"]
    assert (check.status, check.figure, check.expected, check.difference) == (BLOCKING, 420 * M + 2, 420 * M, 2)


def test_opening_figures_must_be_last_quarters_closing():
    checks = _by_key(tie_out(_package(), _context(prior_nav=309 * M, prior_unfunded=199 * M)))
    assert checks["opening_nav"].difference == 1 * M and checks["opening_nav"].status == BLOCKING
    assert checks["opening_unfunded"].difference == 1 * M


def test_notices_are_matched_to_the_ledger_by_ref_then_date_and_amount():
    # booked without a reference: matched by date and amount
    ledger = (Notice(dt.date(2025, 11, 15), "contribution", 100 * M, None),)
    assert _by_key(tie_out(_package(), _context(ledger=ledger)))["notices_matched"].status == PASSED
    # booked on another day under the same reference: matched by the reference
    ledger = (Notice(dt.date(2025, 11, 16), "contribution", 100 * M, "CALL-3"),)
    assert _by_key(tie_out(_package(), _context(ledger=ledger)))["notices_matched"].status == PASSED
    # a booked flow the package leaves out, and the package's notice unmatched: both listed
    ledger = (Notice(dt.date(2025, 12, 1), "contribution", 100 * M, "CALL-9"),)
    check = _by_key(tie_out(_package(), _context(ledger=ledger)))["notices_matched"]
    assert check.status == BLOCKING and len(check.items) == 2


def test_unfunded_is_commitment_less_paid_in_per_the_ledger():
    check = _by_key(tie_out(_package(), _context(paid_in=410 * M)))["unfunded_vs_ledger"]
    assert (check.figure, check.expected, check.difference) == (100 * M, 90 * M, 10 * M)


def test_holdings_against_nav_within_the_tolerance():
    # 25 % of 1,680 million = 420 million exactly; at 1,800 million the share is 450 (7 % off: within 10 %)
    near = Package(Q4, _package().account, holdings=(Holding("示例企业有限公司", GB_EXAMPLE, "digital", "350100",
                                                             1, 1800 * M),), notices=_package().notices)
    assert _by_key(tie_out(near, _context()))["holdings_vs_nav"].status == PASSED
    assert _by_key(tie_out(near, _context(tolerance=Decimal("0.05"))))["holdings_vs_nav"].status == WARNING


def test_credit_codes_by_gb_32100_and_companies_by_code_never_by_name():
    wrong = GB_EXAMPLE[:17] + "4"
    package = Package(Q4, _package().account, notices=_package().notices, holdings=(
        Holding("示例企业有限公司", wrong, "digital", "350100", 1, 1680 * M),))
    checks = _by_key(tie_out(package, _context()))
    assert checks["credit_codes"].status == BLOCKING
    assert checks["duplicate_by_name"].status == BLOCKING  # the book's company under another code
    assert checks["left_without_exit"].status == WARNING   # and the real one left the schedule


def test_plausibility_warnings():
    rise = _by_key(tie_out(_package(unrealised_gain=16 * M + 2000 * M, closing_nav=2420 * M), _context()))
    assert rise["nav_move"].status == WARNING  # 2,420 / 310 − 1 = +681 %
    marks = tuple(PastMark(dt.date(2025, m, 28 if m == 2 else 30), 1680 * M, "last_round") for m in (4, 6, 9))
    unchanged = _by_key(tie_out(_package(), _context(history={GB_EXAMPLE: marks})))
    assert unchanged["mark_unchanged"].status == WARNING
    to_cost = Package(Q4, _package().account, notices=_package().notices, holdings=(
        Holding("示例企业有限公司", GB_EXAMPLE, "digital", "350100", 1, 1680 * M, method="cost"),))
    assert _by_key(tie_out(to_cost, _context()))["method_to_cost"].status == WARNING


def test_dates_must_be_inside_the_quarter():
    assert quarter_start(Q4) == dt.date(2025, 10, 1)
    late = Package(Q4, _package().account, holdings=_package().holdings,
                   notices=(Notice(dt.date(2026, 1, 2), "contribution", 100 * M, "CALL-3"),))
    assert _by_key(tie_out(late, _context()))["dates_in_quarter"].status == BLOCKING


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("booked", [False, True], ids=["no-schedule", "imported-schedule"])
def test_the_generator_plants_errors_that_the_tie_out_finds(seed, booked):
    """Where the book holds the quarter's schedule (imported: the demo book's 2025-12-31), the
    clean package reports it (a re-marked one would differ from it: a warning on a clean package)."""
    from portfolio.figures.tieout import Scheduled

    rng = random.Random(seed)
    codes = [credit_code(rng) for _ in range(4)]
    schedule = tuple(Scheduled(f"企业{i}", c, (i + 1) * 100 * M, (i + 1) * 320 * M, by_package=False)
                     for i, c in enumerate(codes)) if booked else None
    context = _context(companies={c: f"企业{i}" for i, c in enumerate(codes)},
                       history={c: (PastMark(dt.date(2025, 9, 30), (i + 1) * 300 * M, "last_round"),)
                                for i, c in enumerate(codes)},
                       previous_schedule=frozenset(codes), accepted_schedule=schedule)
    clean = clean_package(context, Q4, rng)
    assert [c.key for c in tie_out(clean, context) if c.status != PASSED] == []
    assert len(ERROR_CLASSES) >= 20
    for name, (_plant, expected) in ERROR_CLASSES.items():
        package, ctx = planted(clean, context, name, rng)
        flagged = {c.key for c in tie_out(package, ctx) if c.status != PASSED}
        assert flagged & expected, (name, flagged)


def test_a_checks_items_carry_their_data_and_read_in_the_readers_language():
    """The items had been text made of codes and fen ('+ contribution 2025-11-15 10000000000
    CALL-3') on a page in 元. Now each is a key and its typed arguments (the flow's type code, date,
    amount in fen and reference), kept as JSON and read in either language, amounts in 元."""
    from portfolio.messages import from_json
    from portfolio.vocabulary import label

    ledger = (Notice(dt.date(2025, 12, 1), "contribution", 100 * M + 1, "CALL-9"),)
    check = _by_key(tie_out(_package(), _context(ledger=ledger)))["notices_matched"]
    assert check.unit == "count"
    unbooked, unreported = check.items
    assert unbooked.key == "gp_item_not_booked" and unbooked.args == {
        "flow_term": ("type", "contribution"), "day": dt.date(2025, 11, 15), "amount_fen_yuan": 100 * M,
        "notice_ref": "CALL-3"}
    assert unbooked.shown("zh") == "台账中没有：出资 2025-11-15 100,000,000.00 元，编号 CALL-3"
    assert unreported.shown("en") == "Not in the report: Contribution 2025-12-01 CNY 100,000,000.01, ref. CALL-9"
    stored = check.as_dict()
    assert stored["unit"] == "count" and stored["items"][0] == {
        "key": "gp_item_not_booked", "args": {"flow_term": ["type", "contribution"], "day": "2025-11-15",
                                               "amount_fen_yuan": 100 * M, "notice_ref": "CALL-3"}}
    assert from_json(stored["items"][1]).shown("en") == unreported.shown("en")
    # the sums, the marks and the methods: amounts in 元, methods by their names, never codes
    off = Package(Q4, _package().account, holdings=_package().holdings,
                  notices=(Notice(dt.date(2025, 11, 15), "contribution", 90 * M, "CALL-3"),))
    total = _by_key(tie_out(off, _context()))["notices_vs_account"]
    assert [i.shown("zh") for i in total.items] == ["出资通知书合计 90,000,000.00 元，资本账户为 100,000,000.00 元"]
    assert total.unit == "fen" and _by_key(tie_out(off, _context()))["rollforward_nav"].unit == "fen"
    to_cost = Package(Q4, _package().account, notices=_package().notices, holdings=(
        Holding("示例企业有限公司", GB_EXAMPLE, "digital", "350100", 1, 1680 * M, method="cost"),))
    moved, = _by_key(tie_out(to_cost, _context()))["method_to_cost"].items
    assert moved.shown("en") == f"示例企业有限公司: {label('method', 'last_round', lang='en')} → " \
                                f"{label('method', 'cost', lang='en')}"
    assert "last_round" not in moved.shown("zh") and "cost" not in moved.shown("zh")


def test_recallable_distributions_are_within_the_quarters_distributions_and_unfunded_within_the_commitment():
    """The reviewer's case: no distribution at all and 450 million 'recallable', closing unfunded
    then 550 million on a commitment of 500 million; the roll-forward and the ledger's unfunded
    (500 − 400 + 450) both add up, so nothing had caught it. ILPA: recallable distributions are the
    part of the period's distributions subject to recall, so at most the quarter's distributions."""
    checks = _by_key(tie_out(_package(recallable_distributions=450 * M, closing_unfunded=550 * M), _context()))
    assert checks["rollforward_unfunded"].status == PASSED and checks["unfunded_vs_ledger"].status == PASSED
    recallable, within = checks["recallable_vs_distributions"], checks["unfunded_within_commitment"]
    assert (recallable.status, recallable.figure, recallable.expected, recallable.difference) == \
        (BLOCKING, 450 * M, 0, 450 * M)
    assert (within.status, within.figure, within.expected, within.difference) == (BLOCKING, 550 * M, 500 * M, 50 * M)
    part = _by_key(tie_out(_package(distributions=20 * M, recallable_distributions=20 * M), _context()))
    assert part["recallable_vs_distributions"].status == PASSED
    more = _by_key(tie_out(_package(distributions=20 * M, recallable_distributions=20 * M + 1), _context()))
    assert more["recallable_vs_distributions"].status == BLOCKING
    assert more["recallable_vs_distributions"].difference == 1


def test_a_quarter_before_one_already_accepted_is_blocking():
    check = _by_key(tie_out(_package(), _context(later_accepted=dt.date(2026, 3, 31))))["quarter_order"]
    assert check.status == BLOCKING and check.unit == "count"
    assert "2026Q1" in check.items[0].shown("zh") and "2026Q1" in check.items[0].shown("en")
    assert _by_key(tie_out(_package(), _context()))["quarter_order"].status == PASSED


def test_the_holdings_are_the_sub_funds_schedule_another_interest_had_accepted():
    """Two interests in one sub-fund report one schedule per quarter end: where the other's is
    accepted, this package's must be the same, company by company, and the ones that differ named."""
    from portfolio.figures.tieout import Scheduled

    same = (Scheduled("示例企业有限公司", GB_EXAMPLE, 600 * M, 1680 * M),)
    assert _by_key(tie_out(_package(), _context(accepted_schedule=same)))["holdings_vs_schedule"].status == PASSED
    assert _by_key(tie_out(_package(), _context()))["holdings_vs_schedule"].status == PASSED
    other = credit_code(random.Random(3))
    differs = (Scheduled("示例企业有限公司", GB_EXAMPLE, 600 * M, 1600 * M), Scheduled("另一家企业", other, 5 * M, 5 * M))
    check = _by_key(tie_out(_package(), _context(accepted_schedule=differs)))["holdings_vs_schedule"]
    assert (check.status, check.figure, check.expected, check.difference) == (BLOCKING, 1680 * M, 1605 * M, 75 * M)
    changed, missing = (i.shown("zh") for i in check.items)
    assert changed == (f"示例企业有限公司 {GB_EXAMPLE}：投资成本 600,000,000.00 元、公允价值 1,680,000,000.00 元，"
                       "已接受的明细为 600,000,000.00 元、1,600,000,000.00 元")
    assert missing.startswith(f"另一家企业 {other}：")


def test_a_schedule_the_book_holds_by_an_import_is_weighed_too_and_its_differences_are_warnings():
    """A schedule at the quarter end that an import booked (no other interest's package accepted)
    had passed unweighed, and acceptance replaced it unseen. Now the tie-out weighs the package
    against it as against an accepted one, each difference named; a warning, not blocking: the
    GP's report replaces the book's imported copy on acceptance (as its NAV the date's valuation)."""
    from portfolio.figures.tieout import WARNING, Scheduled

    same = (Scheduled("示例企业有限公司", GB_EXAMPLE, 600 * M, 1680 * M, by_package=False),)
    assert _by_key(tie_out(_package(), _context(accepted_schedule=same)))["holdings_vs_schedule"].status == PASSED
    other = credit_code(random.Random(3))
    differs = (Scheduled("示例企业有限公司", GB_EXAMPLE, 600 * M, 1600 * M, by_package=False),
               Scheduled("另一家企业", other, 5 * M, 5 * M, by_package=False))
    check = _by_key(tie_out(_package(), _context(accepted_schedule=differs)))["holdings_vs_schedule"]
    assert (check.status, check.figure, check.expected, check.difference) == (WARNING, 1680 * M, 1605 * M, 75 * M)
    changed, missing = check.items
    assert changed.shown("zh") == (f"示例企业有限公司 {GB_EXAMPLE}：投资成本 600,000,000.00 元、公允价值 "
                                   "1,680,000,000.00 元，台账中（导入）为 600,000,000.00 元、1,600,000,000.00 元，"
                                   "接受后以本报告为准")
    assert changed.shown("en") == (f"示例企业有限公司 {GB_EXAMPLE}: cost CNY 600,000,000.00, fair value CNY "
                                   "1,680,000,000.00; the book holds (imported) CNY 600,000,000.00, CNY "
                                   "1,600,000,000.00, which accepting replaces")
    assert missing.shown("zh") == f"另一家企业 {other}：台账中（导入）有，本报告没有，接受后删除"
