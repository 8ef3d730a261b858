"""Every rule of rules.md: pass, fail, the exact boundary (equal passes) and missing data (warn).

Reference values are worked by hand from rules.md's table and the default limits of
portfolio/settings.py; each case says how in its parameters.
"""
from __future__ import annotations

import datetime as dt

import pytest

from portfolio.figures.rules import check, local_reinvestment
from tests.rules_factories import SyntheticBook

D = dt.date(2025, 12, 31)


def results(book, fund="F", as_of=D, rule=None, subject=None):
    out = check(book, fund, as_of)
    return [r for r in out if (rule is None or r["rule"] == rule) and (subject is None or r["subject"] == subject)]


def one(book, rule, subject, fund="F", as_of=D):
    found = results(book, fund, as_of, rule, subject)
    assert len(found) == 1, found
    return found[0]


def assert_result(r, status, value, limit):
    assert r["status"] == status, r
    if value is None:
        assert r["value"] is None
    elif isinstance(value, str):
        assert r["value"] == value
    else:
        assert r["value"] == pytest.approx(value, rel=1e-12)
    assert r["limit"] == limit if limit is None else r["limit"] == pytest.approx(limit)
    assert isinstance(r["message"], str) and r["message"]
    if status == "warn" and value is None:
        assert "missing: " in r["message"]


# -------------------------------------------------------------- subfund_share_cap
@pytest.mark.parametrize("commitment, status, value", [
    ("250000000", "pass", 0.25),
    ("300000000", "pass", 0.30),          # exactly the 30 % cap: passes
    ("300000000.01", "fail", 0.30000000001),  # one fen above the cap
    ("350000000", "fail", 0.35),
])
def test_subfund_share_cap(commitment, status, value):
    book = (SyntheticBook().fund().sub_fund("SF", size_cny="1000000000")
            .investment("I1", "SF", mode="sub_fund", commitment_cny=commitment).book())
    r = one(book, "subfund_share_cap", "I1")
    assert_result(r, status, value, 0.30)
    if status == "fail":
        assert "超过上限 30.0%" in r["message"]


def test_subfund_share_cap_angel_limit_is_40_percent():
    book = (SyntheticBook().fund(kind="angel_guidance").sub_fund("SF", size_cny="1000000000")
            .investment("I1", "SF", mode="sub_fund", commitment_cny="400000000").book())
    assert_result(one(book, "subfund_share_cap", "I1"), "pass", 0.40, 0.40)


# -------------------------------------------------------------- direct_share_cap
@pytest.mark.parametrize("direct, co, status, value", [
    ("100000000", "50000000", "pass", 0.15),
    ("200000000", "100000000", "pass", 0.30),       # equal to the cap
    ("200000000", "100000000.01", "fail", 0.30000000001),
])
def test_direct_share_cap(direct, co, status, value):
    # fund size 1,000,000,000; the sub-fund commitment does not count
    book = (SyntheticBook().fund(size_cny="1000000000").company("C1").company("C2").sub_fund("SF")
            .investment("S1", "SF", mode="sub_fund", commitment_cny="200000000")
            .investment("I1", "C1", commitment_cny=direct, ownership_pct=10)
            .investment("I2", "C2", mode="co_invest", alongside="SF", commitment_cny=co, ownership_pct=10,
                        lead_amount_cny="1000000000").book())
    assert_result(one(book, "direct_share_cap", "F"), status, value, 0.30)


# -------------------------------------------------------------- single_company_cap
@pytest.mark.parametrize("flows, status, value", [
    (["20000000", "10000000"], "pass", 0.03),
    (["30000000", "20000000"], "pass", 0.05),          # 5 % exactly
    (["30000000", "20000000.01"], "fail", 0.05000000001),
])
def test_single_company_cap_sums_paid_in_over_direct_and_co_invest(flows, status, value):
    # fund size 1,000,000,000; C1 held directly (I1) and by co-investment (I2)
    book = (SyntheticBook().fund(size_cny="1000000000").company("C1").sub_fund("SF")
            .investment("I1", "C1", commitment_cny="100000000", ownership_pct=5)
            .investment("I2", "C1", mode="co_invest", alongside="SF", date="2024-06-01",
                        commitment_cny="100000000", ownership_pct=1, lead_amount_cny="100000000")
            .flow("I1", "2024-01-01", flows[0]).flow("I2", "2024-06-01", flows[1])
            .flow("I2", "2026-01-15", "900000000")      # after D: not counted
            .flow("I1", "2025-06-01", "5000000", type="distribution")  # gross: distributions do not reduce it
            .book())
    assert_result(one(book, "single_company_cap", "C1"), status, value, 0.05)


def test_single_company_cap_is_one_result_per_company_in_order_of_first_appearance():
    book = (SyntheticBook().fund().company("C1").company("C2")
            .investment("I1", "C2", date="2024-01-01").investment("I2", "C1", date="2024-02-01")
            .investment("I3", "C2", date="2024-03-01").book())
    assert [r["subject"] for r in results(book, rule="single_company_cap")] == ["C2", "C1"]
    # nothing paid in yet: 0 of the fund, a pass
    assert all(r["status"] == "pass" and r["value"] == 0 for r in results(book, rule="single_company_cap"))


# -------------------------------------------------------------- ownership_cap
@pytest.mark.parametrize("pct, status, value", [
    ("8", "pass", 0.08), ("30", "pass", 0.30), ("30.0001", "fail", 0.300001), ("51", "fail", 0.51),
    (None, "warn", None),
])
@pytest.mark.parametrize("mode", ["direct", "co_invest"])
def test_ownership_cap(pct, status, value, mode):
    book = (SyntheticBook().fund().company("C1").sub_fund("SF")
            .investment("I1", "C1", mode=mode, alongside="SF" if mode == "co_invest" else None,
                        ownership_pct=pct, lead_amount_cny="10000000").book())
    r = one(book, "ownership_cap", "I1")
    assert_result(r, status, value, 0.30)
    if status == "warn":
        assert "missing: ownership_pct" in r["message"]


# -------------------------------------------------------------- subfund_single_company_cap
@pytest.mark.parametrize("largest, status, value", [
    ("150000000", "pass", 0.15), ("200000000", "pass", 0.20), ("200000000.01", "fail", 0.20000000001),
])
def test_subfund_single_company_cap_uses_latest_report_on_or_before_d(largest, status, value):
    # SF size 1,000,000,000; an older report has a bigger holding, a later one (after D) too
    book = (SyntheticBook().fund().sub_fund("SF", size_cny="1000000000").company("C1").company("C2")
            .investment("I1", "SF", mode="sub_fund", commitment_cny="100000000")
            .holding("SF", "2025-06-30", "C1", "900000000")
            .holding("SF", "2025-09-30", "C1", largest).holding("SF", "2025-09-30", "C2", "10000000")
            .holding("SF", "2026-03-31", "C1", "900000000").book())
    assert_result(one(book, "subfund_single_company_cap", "SF"), status, value, 0.20)


def test_subfund_checks_without_report_warn_missing_holdings():
    book = (SyntheticBook().fund().sub_fund("SF").company("C1")
            .investment("I1", "SF", mode="sub_fund").flow("I1", "2024-01-01", "1000000")
            .holding("SF", "2026-03-31", "C1", "1").book())   # only a report after D
    for rule in ("subfund_single_company_cap", "reinvestment_multiple"):
        r = one(book, rule, "SF")
        assert_result(r, "warn", None, 0.20 if rule == "subfund_single_company_cap" else 1.5)
        assert "missing: sub_fund_holdings" in r["message"]


# -------------------------------------------------------------- reinvestment_multiple
def _reinvestment_book(local_cost, *, vintage=2023, kind="innovation_fund", paid="100000000", settings=None):
    b = (SyntheticBook().fund(kind=kind, settings=settings).sub_fund("SF", vintage_year=vintage)
         .company("L1", region_code="330203").company("L2", region_code="330212")
         .company("X1", region_code="310115")
         .investment("I1", "SF", mode="sub_fund", commitment_cny="200000000"))
    if paid:
        b.flow("I1", "2024-01-01", paid)
    return (b.holding("SF", "2025-09-30", "L1", local_cost).holding("SF", "2025-09-30", "L2", "0")
            .holding("SF", "2025-09-30", "X1", "500000000").book())


@pytest.mark.parametrize("local_cost, vintage, status, value", [
    ("200000000", 2023, "pass", 2.0),
    ("150000000", 2023, "pass", 1.5),              # exactly 1.5: passes
    ("149999999.99", 2023, "warn", 1.4999999999),  # below, within the 5-year investment period (2025−2023=2)
    ("149999999.99", 2021, "warn", 1.4999999999),  # 2025−2021 = 4 < 5: still warn
    ("149999999.99", 2020, "fail", 1.4999999999),  # 2025−2020 = 5: period over, fail
    ("0", 2019, "fail", 0.0),
])
def test_reinvestment_multiple(local_cost, vintage, status, value):
    # our paid_in 100,000,000; only region codes starting 3302 count as local (X1 is Shanghai)
    assert_result(one(_reinvestment_book(local_cost, vintage=vintage), "reinvestment_multiple", "SF"),
                  status, value, 1.5)


def test_reinvestment_multiple_angel_default_is_1():
    assert_result(one(_reinvestment_book("100000000", kind="angel_guidance"), "reinvestment_multiple", "SF"),
                  "pass", 1.0, 1.0)


def test_reinvestment_multiple_without_paid_in_warns_missing_paid_in():
    r = one(_reinvestment_book("100000000", paid=None), "reinvestment_multiple", "SF")
    assert_result(r, "warn", None, 1.5)
    assert "missing: paid_in" in r["message"]


def test_reinvestment_settings_investment_period_and_home_region():
    # a 3-year period makes 2025−2022 = 3 a fail; a Shanghai prefix makes X1 the local company
    book = _reinvestment_book("1", vintage=2022, settings={"investment_period_years": 3})
    assert one(book, "reinvestment_multiple", "SF")["status"] == "fail"
    book = _reinvestment_book("1", settings={"home_region_prefix": "3101"})
    assert_result(one(book, "reinvestment_multiple", "SF"), "pass", 5.0, 1.5)


def test_sub_fund_checks_once_per_sub_fund_at_its_first_investment():
    book = (SyntheticBook().fund().sub_fund("SF").company("C1")
            .investment("I1", "SF", mode="sub_fund", date="2024-01-01", commitment_cny="100000000")
            .investment("I2", "SF", mode="sub_fund", date="2024-06-01", commitment_cny="100000000")
            .flow("I1", "2024-01-01", "40000000").flow("I2", "2024-06-01", "60000000")
            .holding("SF", "2025-06-30", "C1", "150000000").book())
    assert [(r["rule"], r["subject"]) for r in check(book, "F", D)] == [
        ("prohibited_instrument", "I1"), ("subfund_share_cap", "I1"),
        ("subfund_single_company_cap", "SF"), ("reinvestment_multiple", "SF"),
        ("prohibited_instrument", "I2"), ("subfund_share_cap", "I2"),
        ("direct_share_cap", "F")]
    # the multiple's paid_in is summed over both commitments: 150 / (40 + 60)
    assert one(book, "reinvestment_multiple", "SF")["value"] == pytest.approx(1.5)


# -------------------------------------------------------------- coinvest_lead_ratio
@pytest.mark.parametrize("lead, status, value", [
    ("60000000", "pass", 0.5), ("30000000", "pass", 1.0), ("29999999.99", "fail", 30000000 / 29999999.99),
    (None, "warn", None), ("0", "warn", None),   # interchange.md: a lead of 0 counts as missing
])
def test_coinvest_lead_ratio(lead, status, value):
    book = (SyntheticBook().fund().company("C1").sub_fund("SF")
            .investment("I1", "C1", mode="co_invest", alongside="SF", commitment_cny="30000000",
                        ownership_pct=1, lead_amount_cny=lead).book())
    r = one(book, "coinvest_lead_ratio", "I1")
    assert_result(r, status, value, 1.0)
    if status == "warn":
        assert "missing: lead_amount_cny" in r["message"]


def test_coinvest_lead_ratio_only_for_co_investments():
    book = SyntheticBook().fund().company("C1").investment("I1", "C1", lead_amount_cny="1").book()
    assert results(book, rule="coinvest_lead_ratio") == []


# -------------------------------------------------------------- prohibited_instrument
@pytest.mark.parametrize("instrument, status, value", [
    (None, "pass", "equity"), ("equity", "pass", "equity"), ("convertible", "pass", "convertible"),
    ("preferred", "pass", "preferred"), ("debt", "fail", "debt"), ("guarantee", "fail", "guarantee"),
])
@pytest.mark.parametrize("mode", ["direct", "co_invest", "sub_fund"])
def test_prohibited_instrument(instrument, status, value, mode):
    target = "SF" if mode == "sub_fund" else "C1"
    book = (SyntheticBook().fund().company("C1").sub_fund("SF")
            .investment("I1", target, mode=mode, alongside="SF" if mode == "co_invest" else None,
                        instrument=instrument).book())
    assert_result(one(book, "prohibited_instrument", "I1"), status, value, None)


def test_prohibited_instruments_is_a_setting():
    book = (SyntheticBook().fund(settings={"prohibited_instruments": ["debt", "guarantee", "convertible"]})
            .company("C1").investment("I1", "C1", instrument="convertible").book())
    assert one(book, "prohibited_instrument", "I1")["status"] == "fail"


# -------------------------------------------------------------- scope and order
def test_investments_after_d_are_left_out_and_exited_ones_kept():
    book = (SyntheticBook().fund().company("C1").company("C2")
            .investment("I1", "C1", date="2024-01-01", ownership_pct=5)
            .valuation("I1", "2025-06-30", "0", method="exited")
            .investment("I2", "C2", date="2026-01-02", ownership_pct=5).book())
    subjects = {r["subject"] for r in check(book, "F", D)}
    assert "I1" in subjects and "C1" in subjects
    assert "I2" not in subjects and "C2" not in subjects
    # on the investment's own date it is in
    assert "I2" in {r["subject"] for r in check(book, "F", dt.date(2026, 1, 2))}


def test_every_result_has_the_keys_and_a_known_status():
    book = _reinvestment_book("1")
    for r in check(book, "F", D):
        assert set(r) == {"rule", "subject", "status", "value", "limit", "message"}
        assert r["status"] in ("pass", "warn", "fail")


def test_unknown_fund_is_an_error():
    with pytest.raises(KeyError):
        check(SyntheticBook().fund().book(), "NOPE", D)


def test_local_reinvestment_is_exact():
    lr = local_reinvestment(_reinvestment_book("149999999.99"), "F", "SF", D)
    assert (lr.local_cost_fen, lr.paid_in_fen) == (14999999999, 10000000000)
    assert str(lr.multiple) == "1.4999999999"


@pytest.mark.parametrize(("key", "args", "zh", "en"), [
    # 30.01 % reads 30.0 % at one place: the sentence would say "30.0%, above the cap of 30.0%"
    ("ownership_over", {"value_pct": 0.3001, "limit_pct": 0.30}, "持股比例 30.01%，超过上限 30.0%", "Ownership 30.01%"),
    ("ownership_over", {"value_pct": 0.35, "limit_pct": 0.30}, "持股比例 35.0%，超过上限 30.0%", "Ownership 35.0%"),
    # exactly half a place over: the float a sentence writes rounds it down onto the limit
    ("ownership_over", {"value_pct": 0.3005, "limit_pct": 0.30}, "持股比例 30.05%，超过上限 30.0%", "Ownership 30.05%"),
    ("coinvest_over", {"value_x": 1.005, "limit_x": 1.0}, "领投金额的 1.005 倍，超过上限 1.00 倍", "is 1.005x"),
    ("age_over", {"years": 5.05, "limit_years": 5}, "成立 5.05 年，超过天使投资上限 5 年", "5.05 years old"),
    ("size_over", {"over": [("revenue", 10_000_005_000)], "limit_fen": 10_000_000_000},
     "年营业收入 10,000.005 万元，超过天使投资上限 10,000.00 万元", "10,000.005 (CNY 10k)"),
    ("ownership_within", {"value_pct": 0.30, "limit_pct": 0.30}, "持股比例 30.0%，未超过上限 30.0%", "Ownership 30.0%"),
    ("age_over", {"years": 5.001, "limit_years": 5}, "成立 5.001 年，超过天使投资上限 5 年", "5.001 years old"),
    ("age_within", {"years": 4.9999, "limit_years": 5}, "成立 4.9999 年，未超过", "4.9999 years old"),
    ("coinvest_over", {"value_x": 1.001, "limit_x": 1.0}, "领投金额的 1.001 倍，超过上限 1.00 倍", "is 1.001x"),
    ("size_over", {"over": [("revenue", 10_000_000_001), ("total_assets", 20_000_000_000)],
                   "limit_fen": 10_000_000_000},
     "年营业收入 10,000.000001 万元、资产总额 20,000.00 万元，超过天使投资上限 10,000.00 万元",
     "10,000.000001 (CNY 10k)"),
])
def test_a_figure_never_reads_the_same_as_the_limit_it_is_over(key, args, zh, en):
    """rules.md: a sentence a committee member understands. A figure the usual places round onto
    its limit gets the places that tell them apart; one the same to 8 places (a float's noise)
    reads as the limit."""
    from portfolio.messages import Message

    message = Message(key, **args)
    assert zh in str(message) and en in message.shown("en")


def test_a_figure_equal_to_its_limit_but_for_a_floats_noise_reads_as_the_limit():
    from portfolio.messages import WHAT, Message

    message = Message("cap_within", what=next(iter(WHAT)), value_pct=0.30000000000000004, limit_pct=0.3)
    assert "30.0%，未超过上限 30.0%" in str(message)
